"""Instructions per compose + OCI JSON emission, counted by callgrind (the figure used while working).

Wall time moves with the shared machine's pace; instruction counts do not. Each series runs
under ``valgrind --tool=callgrind`` twice, with N and 2N calls after the same warm-up: the
difference over N is the count per call (start-up, imports, warm-up and the inputs' drawing
cancel out).

- (a): the inputs of benchmark (a), default base: 5,000 cases cycled, caches warmed on 1,000;
- (b): the inputs of benchmark (b): each call a distinct input, bases mixed.

    python benchmarks/instructions.py            # both series, N = 1000
    python benchmarks/instructions.py --only a -n 2000
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _calls(series: str, n: int) -> None:
    """Run ``n`` compose + dumps calls of ``series`` after its warm-up (the process callgrind counts)."""
    sys.path.insert(0, str(HERE))
    from _inputs import CaseMaker, runtime_name, shipped_bases

    from seccompose import Arch, compose, dumps

    arch = Arch.X86_64
    runtime = runtime_name()
    if series == "a":
        maker = CaseMaker(arch, seed=1, bases=shipped_bases())
        pool = maker.cases(5000, "default")
        warm = pool[:1000]
        cases = [pool[i % len(pool)] for i in range(n)]
    else:
        maker = CaseMaker(arch, seed=3, bases=shipped_bases())
        warm = [maker.distinct(100_000 + i) for i in range(200)]
        cases = [maker.distinct(i) for i in range(n)]
    for c in warm:
        dumps(compose(c.base, arch=arch, caps=c.caps, allow=c.allow, deny=c.deny, runtime=runtime))
    for c in cases:
        dumps(compose(c.base, arch=arch, caps=c.caps, allow=c.allow, deny=c.deny, runtime=runtime))


def _count(series: str, n: int) -> int:
    with tempfile.TemporaryDirectory(prefix="seccompose-callgrind-") as tmp:
        cmd = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={tmp}/out",
            sys.executable,
            __file__,
            "--run",
            series,
            "-n",
            str(n),
        ]
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        done = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        msg = f"no callgrind total in: {done.stderr[-2000:]}"
        raise RuntimeError(msg)
    return int(found.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="ab", help="series to count: a, b or ab")
    parser.add_argument("-n", type=int, default=1000, help="calls in the shorter run (the longer makes 2N)")
    parser.add_argument("--run", choices=["a", "b"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        _calls(args.run, args.n)
        return 0
    for series in args.only:
        short, long = _count(series, args.n), _count(series, 2 * args.n)
        print(f"({series}) {(long - short) / args.n:,.0f} instructions per compose+dumps  (N={args.n})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

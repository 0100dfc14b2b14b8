"""seccompose benchmark suite (issue 8): compose + emit, throughput and memory, CLI start-up, learn, import.

Run with ``nox -s bench`` (or ``python benchmarks/run.py``); ``--quick`` runs every
benchmark on small sizes in seconds (CI runs it so the suite never rots: it fails on
crashes, never on timings); ``--json FILE`` also saves the results.

    (a) compose + OCI JSON string per call, varied inputs        median and p99 us/op
    (b) 100k distinct compositions                                profiles/s, RSS after 10k / 100k, peak RSS
    (c) ``seccompose compose --base default``, cold process       median of >= 20 runs, ratio to ``python -c pass``
    (d) ``learn`` on a generated 1 GB ``strace -f -tt`` log       MB/s, ratio to the grep | sort pipeline
    (e) ``import seccompose`` in a fresh process                  median of >= 20 runs, slowest modules
    (f) one syscall under each profile, loaded as runc loads it   ns added to an unconfined twin, same run
    (g) ``seccompose-runtime create`` vs ``runc create``            added median ms (target <= 30)
    (h) ``POST /containers/create`` via ``seccompose proxy``       added median ms vs dockerd direct (<= 5)
    (i) 100 MB through ``docker logs`` / attach via the proxy      throughput ratio to direct (>= 0.9)
    (j) the seccomp agent: a refused call's round trip            p50/p99 us; notifications/s; ratio of a workload
        that never hits a refused syscall, observed / not (~1.0)

(g), (h) and (i) need root, runc and Debian's docker.io; see benchmarks/_engines.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _syscost
from _inputs import Case, CaseMaker, runtime_name, shipped_bases
from _stracegen import ensure_log

import seccompose
from seccompose import Arch, compose, dumps

ARCH = Arch.X86_64
GREP = r"LC_ALL=C grep -oE '^[0-9 ]*[a-z0-9_]+\(' FILE | sort -u"
# The pipeline skips lines with a -tt timestamp (``12:00:00.1`` has ':' and '.'); this one reads them.
GREP_TT = r"LC_ALL=C grep -oE '^[0-9]+ +[0-9:.]+ [a-z0-9_]+\(' FILE | sort -u"


@dataclass
class Row:
    """One line of the results table."""

    bench: str
    metric: str
    value: float | None
    unit: str
    target: str = ""
    met: bool | None = None
    note: str = ""


@dataclass
class Results:
    """Everything the suite measured, with the machine it ran on."""

    machine: dict[str, str]
    commands: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    paces: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)

    def add(self, *rows: Row) -> None:
        """Add rows and print them as they come (a long run shows progress)."""
        for row in rows:
            self.rows.append(row)
            print(f"  {row.bench}: {row.metric} = {_fmt(row.value)} {row.unit}", file=sys.stderr, flush=True)


def _machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    mem = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"
                break
    except OSError:
        pass
    return {
        "cpu": f"{cpu} ({os.cpu_count()} CPUs)",
        "memory": mem,
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})",
        "seccompose": f"{seccompose.__version__} ({Path(seccompose.__file__).parent})",
        "date": dt.datetime.now(tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED", "(random)"),
    }


def _pace(loops: int) -> float:
    """Microseconds a fixed piece of pure-Python work takes now: how fast the machine runs at this moment."""
    numbers = list(range(1000))
    return min(timeit.repeat(lambda: sum(numbers), number=loops, repeat=5)) / loops * 1e6


def _fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _p(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _rss_mib() -> float:
    """Resident set size now (Linux ``/proc/self/statm``), in MiB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_rss_mib() -> float:
    """Peak resident set size of this process (``VmHWM``), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run_case(case: Case, runtime: str | None) -> str:
    return dumps(compose(case.base, arch=ARCH, caps=case.caps, allow=case.allow, deny=case.deny, runtime=runtime))


# --- (a) ---------------------------------------------------------------------------------------------------------


def bench_latency(res: Results, quick: bool) -> None:
    """(a) compose + emit OCI JSON per call, each call a different input."""
    runtime = runtime_name()
    bases = shipped_bases()
    n = 500 if quick else 20_000
    series: list[tuple[str, str | None, str]] = [
        ("default base", "default", "<= 10 us"),
        ("mixed bases", None, ""),
    ]
    for label, base, target in series:
        maker = CaseMaker(ARCH, seed=1 if base else 2, bases=bases)
        pool = maker.cases(min(n, 5000), base)
        for case in pool[: min(len(pool), 1000)]:  # warm the per-layer caches, as a running service has them
            _run_case(case, runtime)
        times: list[float] = []
        clock = time.perf_counter_ns
        size = 0
        for i in range(n):
            case = pool[i % len(pool)]
            t0 = clock()
            text = dumps(
                compose(case.base, arch=ARCH, caps=case.caps, allow=case.allow, deny=case.deny, runtime=runtime)
            )
            times.append((clock() - t0) / 1000)
            size += len(text)
        median = statistics.median(times)
        res.add(
            Row(
                "a",
                f"compose+OCI JSON, {label}: median",
                median,
                "us/op",
                target,
                (median <= 10) if target else None,
                f"{n} calls, {len(pool)} distinct inputs, {size // n} B/profile",
            ),
            Row("a", f"compose+OCI JSON, {label}: p99", _p(times, 0.99), "us/op"),
        )
    res.commands.append(
        f"(a) compose(base, arch=x86_64, caps=[CAP_*...], allow=[...], deny=[...], runtime={runtime!r}) -> dumps()"
    )


# --- (b) ---------------------------------------------------------------------------------------------------------


def bench_throughput(res: Results, quick: bool) -> None:
    """(b) many distinct compositions: throughput, and memory that stays flat."""
    runtime = runtime_name()
    maker = CaseMaker(ARCH, seed=3, bases=shipped_bases())
    total = 10_000 if quick else 100_000
    early = total // 10
    chunk = 1000
    for i in range(200):  # warm-up
        _run_case(maker.distinct(total + i), runtime)
    gc.collect()
    rss_start = _rss_mib()
    rss_early = 0.0
    elapsed = 0.0
    emitted = 0
    for start in range(0, total, chunk):
        cases = [maker.distinct(i) for i in range(start, start + chunk)]  # drawn outside the clock
        t0 = time.perf_counter()
        for case in cases:
            emitted += len(
                dumps(compose(case.base, arch=ARCH, caps=case.caps, allow=case.allow, deny=case.deny, runtime=runtime))
            )
        elapsed += time.perf_counter() - t0
        if start + chunk == early:
            rss_early = _rss_mib()
    rss_end = _rss_mib()
    rate = total / elapsed
    res.add(
        Row(
            "b",
            f"{total:,} distinct compositions: throughput",
            rate,
            "profiles/s",
            ">= 50,000",
            rate >= 50_000,
            f"{emitted / total / 1024:.1f} KiB JSON each",
        ),
        Row("b", f"RSS after {early:,}", rss_early, "MiB", note=f"{rss_start:.1f} MiB after warm-up"),
        Row(
            "b",
            f"RSS after {total:,}",
            rss_end,
            "MiB",
            "flat",
            abs(rss_end - rss_early) <= 2.0,
            f"{rss_end - rss_early:+.1f} MiB from {early:,} to {total:,}",
        ),
        Row("b", "peak RSS (whole benchmark process)", _peak_rss_mib(), "MiB"),
    )
    res.commands.append(f"(b) {total:,} x compose+dumps, each with a different allow list, caps and base")


# --- (c) ---------------------------------------------------------------------------------------------------------


def _cli() -> list[str]:
    script = Path(sys.executable).parent / "seccompose"
    if script.is_file():  # the console script itself, not a pyenv/asdf shim that adds its own start-up
        return [str(script)]
    found = shutil.which("seccompose")
    return [found] if found else [sys.executable, "-m", "seccompose"]


# Fresh processes run as after `pip install`, which compiles every module: with bytecode cached. (An environment
# with PYTHONDONTWRITEBYTECODE set would otherwise recompile seccompose in every process.)
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _wall(cmd: Sequence[str], env: dict[str, str] | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env or _ENV)
    return time.perf_counter() - t0


def _user_install(root: Path) -> tuple[Path, Path]:
    """A fresh venv with `pip install .` of this checkout (not editable), as users have it: (python, console script)."""
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=_ENV)
    python = venv / "bin" / "python"
    repo = Path(__file__).resolve().parents[1]
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(repo)], check=True, env=_ENV)
    return python, venv / "bin" / "seccompose"


def _paired(first: Sequence[str], second: Sequence[str], runs: int, env: dict[str, str]) -> tuple[list[float], ...]:
    """Alternate the two commands ``runs`` times (after one warm-up each): the machine's pace hits both alike."""
    _wall(first, env)
    _wall(second, env)
    a: list[float] = []
    b: list[float] = []
    for _ in range(runs):
        a.append(_wall(first, env))
        b.append(_wall(second, env))
    return a, b


def bench_cli(res: Results, quick: bool) -> None:
    """(c) the CLI as a fresh process, against a bare interpreter measured alternately in the same run.

    Full mode measures a fresh `pip install .` in its own venv (quick mode: this environment), with
    its own empty cache directory: the first compose composes and keeps its output, and the runs that
    follow print the kept output (``seccompose._cli_cache``), as a user asking again does; the same
    command with ``SECCOMPOSE_CACHE=0`` composes every time.
    """
    runs = 5 if quick else 31
    with tempfile.TemporaryDirectory(prefix="seccompose-bench-cli-") as tmp:
        if quick:
            python, cli0 = Path(sys.executable), _cli()
            where = "this environment"
        else:
            python, script = _user_install(Path(tmp))
            cli0 = [str(script)]
            where = "a fresh `pip install .` venv"
        env = {**_ENV, "XDG_CACHE_HOME": str(Path(tmp) / "cache")}
        bare = [str(python), "-c", "pass"]
        compose_cmd = [*cli0, "compose", "--base", "default"]
        first = _wall(compose_cmd, env)  # composes, and keeps the output
        rows: list[Row] = []
        for label, cmd, extra in (
            ("`seccompose compose --base default` (asked again: the kept output)", compose_cmd, {}),
            ("`seccompose compose --base default`, `SECCOMPOSE_CACHE=0` (composes every time)", compose_cmd,
             {"SECCOMPOSE_CACHE": "0"}),
            ("`seccompose --version`", [*cli0, "--version"], {}),
        ):  # fmt: skip
            bare_t, cli_t = _paired(bare, cmd, runs, {**env, **extra})
            c, b = statistics.median(cli_t) * 1000, statistics.median(bare_t) * 1000
            paired = statistics.median(x / y for x, y in zip(cli_t, bare_t, strict=True))
            target = "<= 2x" if "again" in label else ""
            rows.append(Row("c", f"{label}: median", c, "ms", note=f"{runs} paired runs, min {min(cli_t) * 1000:.1f}"))
            note = f"pairs: {paired:.2f}x; bare median {b:.1f} ms"
            met = (c / b <= 2) if target else None
            ratio = "  / `python -c pass` (median of medians; pairs in the notes)"
            rows.append(Row("c", ratio, c / b, "x", target, met, note))
        rows.append(Row("c", "first `compose --base default` (composes, keeps the output)", first * 1000, "ms"))
        res.add(*rows)
        res.commands.append(
            f"(c) {' '.join(compose_cmd)}  vs  {' '.join(bare)}, alternately, in {where} "
            "(bytecode cached, as after pip install; XDG_CACHE_HOME in a fresh temporary directory)"
        )


# --- (d) ---------------------------------------------------------------------------------------------------------


def _pipeline(cmd: str, path: Path) -> tuple[float, int]:
    t0 = time.perf_counter()
    out = subprocess.run(["bash", "-c", cmd.replace("FILE", str(path))], check=True, capture_output=True).stdout
    return time.perf_counter() - t0, len(out.splitlines())


def bench_learn(res: Results, quick: bool, cache: Path) -> None:
    """(d) learn on a generated strace -f -tt log, against grep | sort -u on the same file."""
    try:
        from seccompose.learn import learn
    except ImportError as exc:  # another issue's module; report n/a until it lands
        res.add(Row("d", "learn throughput", None, "MB/s", ">= 0.5x grep", None, f"seccompose.learn: {exc}"))
        return
    size = 8 * 10**6 if quick else 10**9
    t0 = time.perf_counter()
    path = ensure_log(cache / f"strace-f-tt-{size // 10**6}MB.log", size)
    made = time.perf_counter() - t0
    mb = path.stat().st_size / 1e6
    with path.open("rb") as f:  # into the page cache, so every contender reads from memory
        while f.read(1 << 24):
            pass
    t0 = time.perf_counter()
    doc = learn([path], program="bench", arch=ARCH, kind="strace", progress=False, date="2026-11-29")
    learn_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    alone = learn([path], program="bench", arch=ARCH, kind="strace", progress=False, date="2026-11-29", jobs=1)
    alone_s = time.perf_counter() - t0
    if alone != doc:
        raise RuntimeError("learn gave another template in one process than in several")
    names = len(doc["rules"][0]["names"])
    grep_s, grep_lines = _pipeline(GREP, path)
    tt_s, tt_lines = _pipeline(GREP_TT, path)
    rate = mb / learn_s
    res.add(
        Row(
            "d",
            f"learn on a {mb:,.0f} MB strace -f -tt log",
            rate,
            "MB/s",
            note=f"{names} syscalls found; log {'generated' if made > 1 else 'cached'} in {path}",
        ),
        Row("d", "issue's grep | sort -u pipeline", mb / grep_s, "MB/s", note=f"{grep_lines} lines out"),
        Row("d", "learn / issue's grep pipeline", grep_s / learn_s, "x", ">= 0.5x", grep_s / learn_s >= 0.5),
        Row("d", "learn in one process (jobs=1)", mb / alone_s, "MB/s", note=f"{grep_s / alone_s:.2f}x the grep"),
        Row("d", "grep | sort -u that reads -tt lines", mb / tt_s, "MB/s", note=f"{tt_lines} lines out"),
        Row("d", "learn / -tt-aware grep pipeline", tt_s / learn_s, "x"),
    )
    res.commands.append(f"(d) seccompose.learn.learn([{path}], kind='strace')  vs  {GREP}  and  {GREP_TT}")
    if grep_lines == 0:
        res.notes.append(
            "(d) the issue's grep pattern '^[0-9 ]*[a-z0-9_]+\\(' matches no line of a -tt log (the timestamp has "
            "':' and '.'), so that pipeline only scans; the -tt-aware pattern also extracts and sorts the names."
        )


# --- (e) ---------------------------------------------------------------------------------------------------------

_IMPORT = "import time; t = time.perf_counter(); import seccompose; print(time.perf_counter() - t)"


def _slowest_imports(n: int = 6) -> str:
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import seccompose"],
        check=True,
        capture_output=True,
        text=True,
        env=_ENV,
    ).stderr
    rows: list[tuple[int, str]] = []
    for line in out.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[0].startswith("import time:") and parts[1].strip().isdigit():
            rows.append((int(parts[0].split(":")[1]), parts[2].strip()))
    rows.sort(reverse=True)
    return ", ".join(f"{name} {us / 1000:.1f}" for us, name in rows[:n]) + " (ms, self)"


def bench_import(res: Results, quick: bool) -> None:
    """(e) ``import seccompose`` in fresh processes (the interpreter's own start-up excluded)."""
    runs = 5 if quick else 21
    times = []
    for _ in range(runs + 1):
        out = subprocess.run(
            [sys.executable, "-c", _IMPORT], check=True, capture_output=True, text=True, env=_ENV
        ).stdout
        times.append(float(out) * 1000)
    median = statistics.median(times[1:])
    res.add(Row("e", "`import seccompose`: median", median, "ms", "<= 50 ms", median <= 50, f"{runs} fresh processes"))
    res.notes.append(f"(e) slowest imports: {_slowest_imports()}")
    res.commands.append(f'(e) {sys.executable} -c "{_IMPORT}"; python -X importtime -c "import seccompose"')


# --- (f) ---------------------------------------------------------------------------------------------------------


def bench_syscost(res: Results, quick: bool, cache: Path) -> None:
    """(f) the nanoseconds a profile adds to one syscall, against an unconfined twin in the same run."""
    if platform.machine() != "x86_64":
        res.add(Row("f", "syscall cost", None, "ns", note=f"the helper is x86_64 only; this is {platform.machine()}"))
        return
    binary = _syscost.build_helper(cache)
    rounds, batch_us = (5, 200) if quick else (101, 2000)
    cpu = _syscost.default_cpu()
    stacks = _syscost.profiles()
    for layout, binary_tree in _syscost.layouts():
        rows = []
        for label, stack in stacks:
            row = _syscost.measure(
                binary, label, stack, rounds=rounds, batch_us=batch_us, cpu=cpu, binary_tree=binary_tree
            )
            rows.append(row)
            for call, cell in row.cells.items():
                res.add(
                    Row(
                        "f",
                        f"{layout}, {label}: {call}",
                        cell.added_ns,
                        "ns",
                        note=(
                            f"{cell.verdict}{', cached' if cell.cached else ''}; unconfined "
                            f"{cell.unconfined_ns:.0f} ns, interquartile range of the "
                            f"per-round differences {cell.q1:+.1f}..{cell.q3:+.1f}"
                            if cell.added_ns is not None and cell.q1 is not None and cell.q3 is not None
                            else cell.verdict
                        ),
                    )
                )
        res.sections.append(
            f"## (f) ns a profile adds per syscall, loaded as {layout} loads it\n\n"
            "Median over the rounds of (confined - unconfined); in brackets the interquartile range of those "
            "per-round differences; 'cached': the kernel caches the call (its own emulation of every filter of "
            "the row, seccompose.bpf), 'refused': the profile refuses it.\n\n" + _syscost.matrix(rows)
        )
    res.notes += _syscost.machine_notes()
    res.commands.append(
        f"(f) {binary} --rounds {rounds} --batch-us {batch_us} --cpu {cpu} --filter PROGRAM... "
        + " ".join(_syscost.CALLS)
        + "  (PROGRAM: seccompose.cost.runc_program(profile), one per stacked filter)"
    )


# --- (j) ---------------------------------------------------------------------------------------------------------


def bench_agent(res: Results, quick: bool) -> None:
    """(j) the seccomp agent: round trip of a notified call, sustained rate, overhead of being observed."""
    if platform.machine() != "x86_64":
        why = f"the syscall numbers are x86_64's; this is {platform.machine()}"
        res.add(Row("j", "seccomp agent", None, "", note=why))
        return
    import _notify

    m = _notify.measure(quick=quick)
    calls = f"{m['trips']:,.0f} calls, one at a time"
    res.add(
        Row("j", "refused call through the agent, round trip p50", m["round_trip_p50_us"], "us",
            note=f"{calls}; an allowed call under the same filter: p50 {m['allowed_p50_us']:.2f} us"),
        Row("j", "refused call through the agent, round trip p99", m["round_trip_p99_us"], "us", note=calls),
        Row("j", "sustained notifications", m["notifications_per_s"], "calls/s",
            note=f"{m['sustained_calls']:,.0f} refused calls in a tight loop, each answered EPERM and recorded"),
        Row("j", "workload that never hits a refused syscall, observed / unobserved", m["overhead_ratio"], "x",
            target="~1.0", note=f"median of {m['repeats']:.0f} runs each, ABBA order: "
            f"{m['workload_observed_s']:.3f} s vs {m['workload_unobserved_s']:.3f} s for {m['workload_rounds']:,.0f} "
            "rounds of getpid, read 4 kB, stat, clock_gettime"),
    )
    res.commands.append(
        "(j) seccompose agent --socket S --events E (enforce); a forked child loads Docker's default + deny getppid, "
        "observed, with SECCOMP_FILTER_FLAG_NEW_LISTENER (libseccomp's program, as runc builds it), hands the "
        "listener to the agent as crun does, then calls getppid (benchmarks/_notify.py)"
    )


# --- the table ---------------------------------------------------------------------------------------------------


def table(res: Results) -> str:
    """Return the results as a Markdown table with the machine, date and commands above it."""
    lines = ["# seccompose benchmarks", ""]
    lines += [f"- {k}: {v}" for k, v in res.machine.items()]
    lines += ["", "| | benchmark | result | target | met | notes |", "|---|---|---:|---|---|---|"]
    for r in res.rows:
        met = "" if r.met is None else ("yes" if r.met else "**no**")
        cells = (r.bench, r.metric, f"{_fmt(r.value)} {r.unit}", r.target, met, r.note)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    lines += ["", "Commands:", ""] + [f"- {c}" for c in res.commands]
    if res.notes:
        lines += ["", "Notes:", ""] + [f"- {n}" for n in res.notes]
    for section in res.sections:
        lines += ["", section]
    return "\n".join(lines)


def _engine_bench(letter: str) -> Callable[[Results, bool], None]:
    def run(res: Results, quick: bool) -> None:
        import _engines

        reason = _engines.why_not()
        if reason:
            res.add(Row(letter, "not run", None, "", note=reason))
            return
        make = {"g": _engines.bench_wrapper, "h": _engines.bench_proxy, "i": _engines.bench_stream}[letter]
        for bench, metric, value, unit, target, met, note in make(quick):
            res.add(Row(bench, metric, value, unit, target, met, note))
        what = {
            "g": "(g) seccompose-runtime --seccompose-policy docs/examples/policy.yaml ... create --bundle B ID  vs  "
            "runc create --bundle B ID  (tools/make_bundle.py bundle, alternately)",
            "h": "(h) POST /v1.41/containers/create via seccompose proxy  vs  the private dockerd's socket, "
            "alternately",
            "i": "(i) docker logs ID / docker start -a ID with DOCKER_HOST = the proxy  vs  dockerd, alternately",
        }
        res.commands.append(what[letter])

    return run


BENCHES: dict[str, Callable[[Results, bool], None]] = {
    "a": bench_latency,
    "b": bench_throughput,
    "c": bench_cli,
    "e": bench_import,
    "g": _engine_bench("g"),
    "h": _engine_bench("h"),
    "i": _engine_bench("i"),
    "j": bench_agent,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: every benchmark in seconds (CI)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--only", default="abcdefghij", metavar="LETTERS", help="run only these benchmarks (e.g. ab)")
    parser.add_argument(
        "--cache",
        default=str(Path(tempfile.gettempdir()) / "seccompose-bench"),
        metavar="DIR",
        help="where the generated strace logs are kept between runs (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    res = Results(_machine())
    res.machine["mode"] = "quick (small sizes; timings not comparable)" if args.quick else "full"
    res.commands.insert(0, f"{Path(sys.executable).name} benchmarks/run.py {' '.join(argv or sys.argv[1:])}".strip())
    loops = 2_000 if args.quick else 20_000
    for letter in sorted(set(args.only)):
        print(f"running ({letter})...", file=sys.stderr, flush=True)
        pace = _pace(loops)
        if letter == "d":
            bench_learn(res, args.quick, Path(args.cache))
        elif letter == "f":
            bench_syscost(res, args.quick, Path(args.cache))
        elif letter in BENCHES:
            BENCHES[letter](res, args.quick)
        res.paces.append(f"({letter}) {pace:.2f} before, {_pace(loops):.2f} after")
    if res.paces:
        res.notes.append(
            f"machine pace, the best of 5 x {loops:,} `sum()` of 1,000 ints, in us (lower is faster; a shared "
            "virtual machine's pace changes from minute to minute, and every timing above with it): "
            + "; ".join(res.paces)
        )
    text = table(res)
    print(text)
    if args.json:
        doc: dict[str, Any] = {
            "machine": res.machine,
            "commands": res.commands,
            "rows": [r.__dict__ for r in res.rows],
            "notes": res.notes,
            "sections": res.sections,
        }
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

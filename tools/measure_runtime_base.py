"""Measure the runtime base set: the syscalls runc/crun make between loading the filter and exec.

    python tools/measure_runtime_base.py                  # measure runc and crun, both noNewPrivileges
    python tools/measure_runtime_base.py --write          # ... and rewrite data/runtime/<runtime>.json
    python tools/measure_runtime_base.py --check          # measure; exit 1 if it differs from the shipped data
    python tools/measure_runtime_base.py --quick          # verify the shipped data only (CI): the set
                                                          # suffices, and removing each member breaks start-up

Method (needs root, runc, crun, strace, busybox-static):

1. Discover: run a busybox bundle whose process is `/exit42` (a tiny static ELF that only calls
   exit_group(42)) under a permissive profile (allow everything, one unrelated deny) with
   `strace -f`; take every syscall the runtime's container process (all its threads) *enters*
   after the filter load (prctl(PR_SET_SECCOMP) / seccomp(SECCOMP_SET_MODE_FILTER)) up to its
   execve. Repeated --repeat times; the union is the candidate set.
2. Check: a default-deny profile (SCMP_ACT_ERRNO/EPERM) allowing the candidates plus
   exit_group (the workload's only call) must start the container: exit status 42, every time.
3. Minimise: drop candidates one at a time (sorted); a name stays dropped when the container
   still starts in all --repeat runs without it.
   For Go runtimes (runc), rt_sigreturn and futex are always kept: whether the Go scheduler or
   a preemption signal needs them inside the window is timing, which no number of runs refutes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import re
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_bundle import EXIT42_STATUS, make_bundle, run_container

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "runtime"
RUNTIMES = ("runc", "crun")
# Calls a Go runtime (runc) makes whenever its scheduler or a signal says so: whether one falls
# between the filter load and exec is a matter of timing, so removal runs cannot refute them,
# and denying them is fatal when it happens (a failed futex wake-up aborts a Go program; a
# failed rt_sigreturn after the SIGURG preemption signal crashes it). Kept for Go runtimes.
GO_RUNTIMES = ("runc",)
SIGNAL_DEPENDENT = {
    "rt_sigreturn": "returns from a signal handler: needed whenever a signal (Go's SIGURG preemption) "
    "arrives between the filter load and exec; timing-dependent, so removal runs cannot refute it",
    "futex": "Go runtime thread wake-ups: a failed futex wake aborts the runtime; whether one falls "
    "between the filter load and exec depends on scheduling, so removal runs cannot refute it",
}
WORKLOAD = ("exit_group",)
ARCHES = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]

_LINE = re.compile(r"^(\d+) +(?:<\.\.\. (\w+) resumed>|(\w+)\()")
_RESULT = re.compile(r"= (\d+)(?: <[^>]*>)?$")
_LOAD = re.compile(
    r"prctl\(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, \{len=|seccomp\(SECCOMP_SET_MODE_FILTER, [^,]*, \{len="
)


def runtime_version(runtime: str) -> str:
    out = subprocess.run([runtime, "--version"], capture_output=True, text=True, check=True).stdout
    return out.splitlines()[0].split("version", 1)[1].strip()


def package_version(package: str) -> str:
    cmd = ["dpkg-query", "-W", "-f", "${Version}", package]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return out.stdout.strip()


def libseccomp_version() -> str:
    from seccompose.check import libseccomp_version as version

    return version()


def window_syscalls(trace: str, exec_path: str = "/exit42") -> set[str]:
    """Return the syscalls the loading process's threads enter between the filter load and exec."""
    tgid: dict[int, int] = {}
    pending_thread: dict[int, bool] = {}
    loader: int | None = None
    seen: set[str] = set()
    for line in trace.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        tid = int(m.group(1))
        tgid.setdefault(tid, tid)
        resumed, name = m.group(2), m.group(3)
        if name in ("clone", "clone3", "fork", "vfork"):
            pending_thread[tid] = "CLONE_THREAD" in line
        call = resumed or name
        r = _RESULT.search(line)
        if call in ("clone", "clone3", "fork", "vfork") and r and not line.endswith("<unfinished ...>"):
            child = int(r.group(1))
            tgid[child] = tgid[tid] if pending_thread.pop(tid, False) else child
            if loader is not None and tgid[tid] == tgid[loader] and not pending_thread.get(tid):
                tgid[child] = tgid[loader]  # a child process of the container init is filtered too
        if loader is None:
            if name and _LOAD.search(line):
                loader = tid
            continue
        if name and tgid.get(tid) == tgid[loader]:
            seen.add(name)
            if name == "execve" and tid == loader and f'execve("{exec_path}"' in line:
                break
    if loader is None:
        msg = "no seccomp filter load found in the strace output"
        raise RuntimeError(msg)
    return seen


def base_profile(allowed: set[str]) -> dict[str, Any]:
    return {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "architectures": ARCHES,
        "syscalls": [{"names": sorted(allowed | set(WORKLOAD)), "action": "SCMP_ACT_ALLOW"}],
    }


def starts(runtime: str, bundle: Path, allowed: set[str], nnp: bool, repeat: int) -> bool:
    make_bundle(bundle, args=["/exit42"], seccomp=base_profile(allowed), no_new_privileges=nnp)
    for _ in range(repeat):
        p = run_container(runtime, bundle, f"measure-{uuid.uuid4().hex[:12]}", timeout=20)
        if p.returncode != EXIT42_STATUS:
            return False
    return True


def discover(runtime: str, bundle: Path, nnp: bool, repeat: int) -> set[str]:
    permissive = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ARCHES,
        "syscalls": [{"names": ["acct"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}],
    }
    make_bundle(bundle, args=["/exit42"], seccomp=permissive, no_new_privileges=nnp)
    found: set[str] = set()
    for _ in range(repeat):
        trace = bundle / "trace.txt"
        p = run_container(runtime, bundle, f"measure-{uuid.uuid4().hex[:12]}", strace=trace, timeout=60)
        if p.returncode != EXIT42_STATUS:
            msg = f"{runtime} did not start the container under strace: {p.returncode} {p.stderr[-500:]}"
            raise RuntimeError(msg)
        found |= window_syscalls(trace.read_text())
    return found


def measure(runtime: str, nnp: bool, repeat: int, log: Any) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="seccompose-measure-") as tmp:
        bundle = Path(tmp)
        candidates = discover(runtime, bundle, nnp, repeat)
        if runtime in GO_RUNTIMES:
            candidates |= set(SIGNAL_DEPENDENT)
        log(f"{runtime} nnp={nnp}: {len(candidates)} candidates: {' '.join(sorted(candidates))}")
        if not starts(runtime, bundle, candidates, nnp, repeat):
            msg = f"{runtime} nnp={nnp}: the candidate set does not start the container"
            raise RuntimeError(msg)
        kept = set(candidates)
        for name in sorted(candidates):
            if name in SIGNAL_DEPENDENT:
                continue
            if starts(runtime, bundle, kept - {name}, nnp, repeat):
                kept.discard(name)
        log(f"{runtime} nnp={nnp}: minimal: {' '.join(sorted(kept))}")
        return {
            "syscalls": sorted(kept),
            "signalDependent": sorted(n for n in kept if n in SIGNAL_DEPENDENT),
            "candidates": sorted(candidates),
        }


def verify(runtime: str, nnp: bool, names: set[str], unrefutable: set[str], repeat: int) -> list[str]:
    """Return problems: the set must start the container; removing any refutable member must not."""
    problems = []
    with tempfile.TemporaryDirectory(prefix="seccompose-verify-") as tmp:
        bundle = Path(tmp)
        if not starts(runtime, bundle, names, nnp, repeat):
            problems.append(f"{runtime} nnp={nnp}: the shipped set does not start the container")
        problems += [
            f"{runtime} nnp={nnp}: the container starts without {name!r}; it is not needed"
            for name in sorted(names - unrefutable)
            if starts(runtime, bundle, names - {name}, nnp, 1)
        ]
    return problems


def shipped(runtime: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / f"{runtime}.json").read_text())
    return data


def document(runtime: str, results: dict[bool, dict[str, Any]], repeat: int) -> dict[str, Any]:
    return {
        "schema": 1,
        "runtime": runtime,
        "version": runtime_version(runtime),
        "package": f"{runtime} {package_version(runtime)} (Debian)",
        "libseccomp": libseccomp_version(),
        "kernel": platform.release(),
        "arch": platform.machine(),
        "date": dt.datetime.now(tz=dt.UTC).date().isoformat(),
        "tool": f"python tools/measure_runtime_base.py --runtime {runtime} --repeat {repeat} --write",
        "method": (
            "strace -f of the runtime starting a busybox bundle running /exit42 (exit_group only) under an "
            "allow-all profile: the syscalls the container process's threads enter between the seccomp filter "
            "load and execve; then, under SCMP_ACT_ERRNO(EPERM) allowing those plus exit_group, each name is "
            f"removed in turn and kept only if the container fails to start without it in any of {repeat} runs"
        ),
        "noNewPrivileges": {
            "true": results[True]["syscalls"],
            "false": results[False]["syscalls"],
        },
        "signalDependent": sorted(set(results[True]["signalDependent"]) | set(results[False]["signalDependent"])),
        "reasons": {name: SIGNAL_DEPENDENT[name] for name in SIGNAL_DEPENDENT} if runtime in GO_RUNTIMES else {},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runtime", choices=RUNTIMES, action="append")
    parser.add_argument("--repeat", type=int, default=3)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="rewrite data/runtime/<runtime>.json")
    mode.add_argument("--check", action="store_true", help="exit 1 if the measurement differs from the data")
    mode.add_argument("--quick", action="store_true", help="only verify the shipped data (fast, for CI)")
    ns = parser.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr)

    status = 0
    for runtime in ns.runtime or RUNTIMES:
        if ns.quick:
            data = shipped(runtime)
            unrefutable = set(data["signalDependent"])
            for nnp in (True, False):
                names = set(data["noNewPrivileges"][str(nnp).lower()])
                problems = verify(runtime, nnp, names, unrefutable, ns.repeat)
                for p in problems:
                    log(p)
                status |= bool(problems)
                log(f"{runtime} nnp={nnp}: {'OK' if not problems else 'FAILED'} ({' '.join(sorted(names))})")
            continue
        results = {nnp: measure(runtime, nnp, ns.repeat, log) for nnp in (True, False)}
        doc = document(runtime, results, ns.repeat)
        if ns.write:
            DATA.mkdir(parents=True, exist_ok=True)
            (DATA / f"{runtime}.json").write_text(json.dumps(doc, indent=2) + "\n")
            log(f"wrote {DATA / (runtime + '.json')}")
        elif ns.check:
            data = shipped(runtime)
            if data["noNewPrivileges"] != doc["noNewPrivileges"]:
                log(f"{runtime}: measured {doc['noNewPrivileges']} != shipped {data['noNewPrivileges']}")
                status = 1
        else:
            print(json.dumps(doc, indent=2))
    return status


if __name__ == "__main__":
    sys.exit(main())

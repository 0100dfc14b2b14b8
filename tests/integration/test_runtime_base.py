"""The shipped runtime base sets (data/runtime/*.json) against runc and crun on this machine.

`--quick` proves the shipped sets suffice and that each member is needed (removing it breaks
start-up); `--check` re-runs the whole measurement (strace + removal one at a time) and
compares it with the data. Both take seconds.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests._tools import tool

from seccompose.arch import Arch
from seccompose.runtime import RUNTIMES, runtime_base, runtime_provenance
from seccompose.syscalls import table

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "measure_runtime_base.py"
DATA = ROOT / "data" / "runtime"


def _why_not() -> str | None:
    if platform.machine() != "x86_64":
        return "the measurement's /exit42 program is x86_64 machine code"
    if os.geteuid() != 0:
        return "runc and crun need root to start containers here"
    missing = [t for t in ("runc", "crun", "strace", "unshare") if shutil.which(t) is None]
    if missing:
        return f"not installed: {', '.join(missing)} (apt-get install runc crun strace util-linux)"
    if not Path("/bin/busybox").exists():
        return "busybox is not installed (apt-get install busybox-static)"
    return None


needs_runtimes = pytest.mark.skipif(_why_not() is not None, reason=str(_why_not()))


def _installed_version(runtime: str) -> str:
    out = subprocess.run([runtime, "--version"], capture_output=True, text=True, check=True).stdout
    return out.splitlines()[0].split("version", 1)[1].strip()


def _same_versions() -> None:
    for runtime in RUNTIMES:
        shipped = runtime_provenance(runtime)["version"]
        if _installed_version(runtime) != shipped:
            pytest.skip(
                f"data/runtime/{runtime}.json was measured on {runtime} {shipped}, this machine has "
                f"{_installed_version(runtime)}; re-measure with: python tools/measure_runtime_base.py --write"
            )


ENGINES_OF = {"runc": {"runc", "docker"}, "crun": {"crun", "podman"}}


def test_data_is_well_formed() -> None:
    x86_64 = table(Arch.X86_64)
    for runtime in RUNTIMES:
        data = json.loads((DATA / f"{runtime}.json").read_text())
        assert data["schema"] == 2
        assert data["runtime"] == runtime
        for key in ("version", "libseccomp", "kernel", "arch", "date", "tool", "method", "engines"):
            assert data[key], key
        # measured as the engines invoke the runtime and directly: every engine, mode, user and capability set
        measured = data["measurements"]
        assert {m["engine"] for m in measured} == ENGINES_OF[runtime]
        assert len(measured) == 2 * 16  # 2 engines x noNewPrivileges x 2 users x 4 capability sets
        assert set(data["engines"]) == ENGINES_OF[runtime]
        for engine, versions in data["engines"].items():
            assert versions.get(runtime), (engine, versions)  # the runtime's version as that engine ran it
        for nnp in ("true", "false"):
            names = data["noNewPrivileges"][nnp]
            assert names == sorted(set(names))
            assert all(n in x86_64 for n in names), names
            assert "execve" in names  # every runtime execs the container process after the load
            # the set is the union of the measurements of that mode
            assert set(names) == {n for m in measured if m["noNewPrivileges"] == (nnp == "true") for n in m["syscalls"]}
        # with noNewPrivileges false the filter is loaded earlier, so the set only grows
        assert set(data["noNewPrivileges"]["true"]) <= set(data["noNewPrivileges"]["false"])


def test_aarch64_port_by_name() -> None:
    aarch64 = table(Arch.AARCH64)
    for runtime in RUNTIMES:
        for nnp in (True, False):
            ported = runtime_base(runtime, no_new_privileges=nnp, arch=Arch.AARCH64)
            assert ported <= set(aarch64)
            assert "execve" in ported
    # x86_64 names that aarch64 lacks are replaced by the call libc uses there
    assert "newfstatat" in runtime_base("runc", no_new_privileges=False, arch=Arch.AARCH64)


@pytest.mark.integration
@needs_runtimes
def test_quick_mode_shipped_sets_suffice_and_are_minimal() -> None:
    """runc and crun run directly (the engines' scenarios run in `nox -s engines`)."""
    _same_versions()
    argv = [sys.executable, str(TOOL), "--engine", "runc", "--engine", "crun", "--quick"]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    assert p.returncode == 0, p.stderr
    assert p.stderr.count(": OK (") == 4  # runc and crun, noNewPrivileges true and false


@pytest.mark.integration
@needs_runtimes
def test_full_measurement_matches_the_shipped_data() -> None:
    _same_versions()
    argv = [sys.executable, str(TOOL), "--engine", "runc", "--engine", "crun", "--check", "--repeat", "1"]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    assert p.returncode == 0, p.stderr


@pytest.mark.integration
@needs_runtimes
def test_window_parser_on_a_real_trace(tmp_path: Path) -> None:
    make_bundle = tool("make_bundle")
    measure_runtime_base = tool("measure_runtime_base")
    permissive = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["acct"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}
    make_bundle.make_bundle(tmp_path, args=["/exit42"], seccomp=permissive)
    trace = tmp_path / "trace.txt"
    p = make_bundle.run_container("crun", tmp_path, f"seccompose-window-{os.getpid()}", strace=trace)
    assert p.returncode == make_bundle.EXIT42_STATUS, p.stderr
    text = trace.read_text()
    window = measure_runtime_base.window_syscalls(text)
    # crun execs right after loading the filter (noNewPrivileges true)
    assert "execve" in window
    assert len(window) < 5
    # everything crun did before the load (mounts, pivot_root, ...) is outside the window
    assert "pivot_root" in text
    assert "pivot_root" not in window

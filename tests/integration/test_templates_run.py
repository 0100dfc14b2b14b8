"""The proof of the shipped app templates: each real server runs under its own profile.

For every template recorded by ``tools/record_templates.py``: compose it with the
runtime base set (``compose(NAME, arch=..., runtime="runc")``), load the profile with
the real kernel in the child right before ``execve`` (``seccompose.check.popen_under``),
and run the same life the recording ran (first start, start, workload with the
server's own benchmark/client, reload, more work, clean stop); every step must
succeed. Then a tiny probe (raw syscalls, no libc) run under the same profile shows
that a syscall the template does not allow really fails with EPERM, while one it
allows works.

Needs root (the servers switch to their Debian users as their images do), the
servers from ``.ci/apt-packages``, binutils (to build the probe), and seccomp.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from tests._tools import tool

from seccompose import Arch, compose
from seccompose.arch import host_arch
from seccompose.check import popen_under, run_under
from seccompose.formats.oci import to_dict
from seccompose.syscalls import table

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


RECIPES = tool("record_templates")
NAMES = sorted(RECIPES.SERVERS)
CLIENTS = (
    "ab", "curl", "redis-benchmark", "redis-cli", "memcslap", "memcstat", "memcflush", "mariadb", "mariadb-slap", "squidclient",
)  # fmt: skip

# Harmless calls for the probe, none with side effects: with NULL arguments each returns
# 0, a pid or EFAULT when allowed, so EPERM can only come from the filter.
PROBE_CANDIDATES = ("getcpu", "sysinfo", "times", "getitimer", "sched_yield", "getppid", "getpgrp", "getpriority")


def _seccomp_reason() -> str | None:
    if sys.platform != "linux":
        return "seccomp is Linux only"
    status = Path("/proc/self/status").read_text()
    if "Seccomp:" not in status:
        return "this kernel has no seccomp (no Seccomp: line in /proc/self/status)"
    if os.geteuid() != 0:
        return "the servers switch to their own users as in their images; that needs root"
    return None


def _skip_reason(name: str) -> str | None:
    reason = _seccomp_reason()
    if reason:
        return reason
    server = RECIPES.SERVERS[name]
    if not Path(server.program).exists():
        return f"{server.program} is not installed (apt-get install {server.package}; see .ci/apt-packages)"
    missing = [c for c in CLIENTS if shutil.which(c) is None]
    if missing:
        return f"workload clients missing: {', '.join(missing)} (see .ci/apt-packages)"
    return None


def _profile(name: str) -> dict[str, Any]:
    return to_dict(compose(name, arch=host_arch(), runtime="runc"))


def _allowed(profile: dict[str, Any]) -> set[str]:
    return {
        n
        for rule in profile["syscalls"]
        if rule["action"] == "SCMP_ACT_ALLOW" and not rule.get("args")
        for n in rule["names"]
    }


@pytest.fixture(scope="session")
def probes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Static x86_64 programs (tools/syscall_probe.py): ``probe NR [ARGS]`` (``probe32``: i386) exit with the errno."""
    if host_arch() is not Arch.X86_64:
        pytest.skip(f"the probe is x86_64 assembly; this host is {host_arch().value}")
    if shutil.which("as") is None or shutil.which("ld") is None:
        pytest.skip("binutils (as, ld) is needed to build the probe; apt-get install binutils")
    built: tuple[Path, Path] = tool("syscall_probe").build(tmp_path_factory.mktemp("probe"))
    return built


@pytest.fixture(scope="session")
def probe(probes: tuple[Path, Path]) -> Path:
    return probes[0]


def _probe_code(probe: Path, name: str, profile: dict[str, Any] | None) -> int:
    argv = [str(probe), str(table(Arch.X86_64).number(name))]
    if profile is None:
        return subprocess.run(argv, check=False, timeout=10).returncode
    return run_under(profile, argv, timeout=10).returncode


def test_probe_tells_a_denied_call_from_an_allowed_one(probe: Path) -> None:
    """The probe itself: EPERM only when a filter denies the call."""
    if _seccomp_reason():
        pytest.skip(_seccomp_reason() or "")
    deny_getppid = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EPERM}]}  # fmt: skip
    assert _probe_code(probe, "getppid", None) == 0
    assert _probe_code(probe, "getppid", deny_getppid) == errno.EPERM
    assert _probe_code(probe, "sched_yield", deny_getppid) == 0


DOCKER_DEFAULT = ROOT / "tests" / "fixtures" / "reference" / "profiles" / "docker-default-moby-profiles-cd3bed8.json"


@pytest.mark.parametrize("name", NAMES)
def test_template_is_at_least_twice_tighter_than_dockers_default(name: str) -> None:
    """Composed with the runtime base, each template allows at most half of Docker's default's first rule."""
    docker_first_rule = json.loads(DOCKER_DEFAULT.read_text())["syscalls"][0]
    assert docker_first_rule["action"] == "SCMP_ACT_ALLOW"
    assert not docker_first_rule.get("includes")
    assert len(docker_first_rule["names"]) == 361
    allowed = _allowed(_profile(name))
    assert len(allowed) * 2 <= len(docker_first_rule["names"]), f"{name}: {len(allowed)} syscalls allowed"


@pytest.mark.parametrize("name", NAMES)
def test_server_runs_its_workload_under_its_own_profile(name: str, probe: Path) -> None:
    reason = _skip_reason(name)
    if reason:
        pytest.skip(reason)
    server = RECIPES.SERVERS[name]
    profile = _profile(name)
    allowed = _allowed(profile)

    # A call outside the template really fails, and the probe works under the profile otherwise.
    outside = next(n for n in PROBE_CANDIDATES if n not in allowed)
    inside = next(n for n in ("getpid", "getppid", "gettid", "getuid") if n in allowed)
    assert _probe_code(probe, outside, None) != errno.EPERM, f"{outside} fails even without a filter"
    assert _probe_code(probe, outside, profile) == errno.EPERM, f"{outside} is not denied by the {name} profile"
    assert _probe_code(probe, inside, profile) == 0, f"the probe cannot even call {inside} under the {name} profile"

    def launch(argv: list[str], user: str | None, log: Path) -> subprocess.Popen[bytes]:
        ids: dict[str, Any] = {"user": user, "group": user, "extra_groups": []} if user else {}
        with log.open("wb") as out:
            return popen_under(
                profile, argv, cwd=work, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **ids
            )

    # Not pytest's tmp_path: its folders are 0700, and the servers run as www-data, postgres, ...
    base = Path(tempfile.mkdtemp(prefix="seccompose-proof-"))
    base.chmod(0o755)
    try:
        work = RECIPES.fresh_workdir(base, name)
        server.prepare(work)
        try:
            RECIPES.session(server, work, launch)
        except RuntimeError as exc:
            logs = "\n".join(
                f"--- {p.name}\n{p.read_text(errors='replace')[-1500:]}" for p in sorted(work.glob("*.log"))
            )
            pytest.fail(f"{name} under its profile: {exc}\n{logs}")
        # A server may shrug off a denied call and only log it (the profile's errno is EPERM).
        for log in sorted(work.rglob("*.log")):
            text = log.read_text(errors="replace")
            assert "Operation not permitted" not in text, f"{name} logged a denied call in {log.name}:\n{text[-1500:]}"
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _forks(profile: dict[str, Any]) -> bool:
    """Whether the template lets its server fork with clone (some, like squid -N, never do)."""
    return any("clone" in r["names"] and r["action"] == "SCMP_ACT_ALLOW" for r in profile["syscalls"])


CLONE_NEWUSER_SIGCHLD = 0x10000000 | 17
FORK_FLAGS = 0x01200011  # what glibc's fork() passes: CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD
CAPSETS: dict[str, list[str] | None] = {"no capabilities": [], "Docker's defaults": None}


@pytest.mark.parametrize("caps", list(CAPSETS))
@pytest.mark.parametrize("name", NAMES)
def test_no_user_namespace_without_cap_sys_admin_by_the_kernel_probe(name: str, caps: str) -> None:
    """The kernel's verdict (the probe copy of the filter, libseccomp as runc builds it) on every x86_64 host ABI."""
    pytest.importorskip("pyseccomp", reason="the 'check' extra (pyseccomp + libseccomp.so.2) is not installed")
    from seccompose import _probe
    from seccompose.check import read_as_runtime

    if _seccomp_reason() or host_arch() is not Arch.X86_64:
        pytest.skip(_seccomp_reason() or "the probe is x86_64 machine code")
    chosen = CAPSETS[caps]
    profile = to_dict(compose(name, arch=Arch.X86_64) if chosen is None else compose(name, arch=Arch.X86_64, caps=chosen))
    reading = read_as_runtime(profile)
    entries = [
        (abi, (table(abi).number("clone") | (0x40000000 if abi is Arch.X32 else 0), "clone", (flags, 0, 0, 0, 0, 0), None, ""))
        for abi in (Arch.X86_64, Arch.X86, Arch.X32)
        for flags in (CLONE_NEWUSER_SIGCHLD, FORK_FLAGS)
    ]
    code = _probe._Code()
    verdicts = [_probe._decode(raw) for raw in _probe._run(code, reading, entries, 60)]
    forks = _forks(profile)
    for (abi, (_, _, args, _, _)), verdict in zip(entries, verdicts, strict=True):
        expected = "errno EPERM" if args[0] == CLONE_NEWUSER_SIGCHLD or not forks else "allow"
        assert str(verdict) == expected, f"{name}: clone({args[0]:#x}) on {abi.value}: {verdict}"


@pytest.mark.parametrize("name", NAMES)
def test_no_user_namespace_without_cap_sys_admin_by_the_static_program(name: str, probes: tuple[Path, Path]) -> None:
    """A static program's clone(CLONE_NEWUSER|SIGCHLD), x86_64 and i386: EPERM under the template, 0 without a filter."""
    if _seccomp_reason():
        pytest.skip(_seccomp_reason() or "")
    profile = to_dict(compose(name, arch=Arch.X86_64, caps=[]))
    for program, abi in zip(probes, (Arch.X86_64, Arch.X86), strict=True):
        argv = [str(program), str(table(abi).number("clone")), str(CLONE_NEWUSER_SIGCHLD)]
        assert subprocess.run(argv, check=False, timeout=10).returncode == 0, "user namespaces are off on this host"
        assert run_under(profile, argv, timeout=10).returncode == errno.EPERM, f"{name} {abi.value}"
        fork = [str(program), str(table(abi).number("clone")), str(FORK_FLAGS)]
        assert run_under(profile, fork, timeout=10).returncode == (0 if _forks(profile) else errno.EPERM), name


@pytest.mark.parametrize("nnp", [False, True], ids=["no-nnp", "nnp"])
@pytest.mark.parametrize("name", NAMES)
def test_no_user_namespace_without_cap_sys_admin_under_runc(name: str, nnp: bool, probes: tuple[Path, Path], tmp_path: Path) -> None:
    """The same under runc, with Docker's default capabilities, the template composed with default options."""
    engines = tool("engines")
    if _seccomp_reason() or engines.missing("runc"):
        pytest.skip(_seccomp_reason() or "runc is not installed (apt-get install runc)")
    bundle = tool("make_bundle")
    rootfs = bundle.make_bundle(tmp_path / "rootfs-bundle", args=["/exit42"]) / "rootfs"
    shutil.copy(probes[0], rootfs / "probe")
    profile = to_dict(compose(name, arch=Arch.X86_64))
    calls = {"clone-newuser": (CLONE_NEWUSER_SIGCHLD, errno.EPERM), "fork": (FORK_FLAGS, 0 if _forks(profile) else errno.EPERM)}
    for what, (flags, expected) in calls.items():
        for seccomp, want in ((profile, expected), (None, 0)):
            dest = engines.bundle(tmp_path / "b", rootfs, args=["/probe", str(table(Arch.X86_64).number("clone")), str(flags)],
                                  seccomp=seccomp, no_new_privileges=nnp)  # fmt: skip
            cid = f"sc-userns-{os.getpid()}-{what}"
            try:
                done = subprocess.run(engines.bundle_cmd("runc", dest, cid), capture_output=True, timeout=60, check=False)
            finally:
                engines.delete("runc", cid)
            assert done.returncode == want, f"{name} {what} {'under the template' if seccomp else 'unconfined'}: {done.stderr!r}"

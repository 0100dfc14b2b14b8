"""End to end with real OCI runtimes (runc, crun) and bubblewrap, on a busybox bundle.

For each runtime: a denied syscall fails inside the container with the chosen errno, the
allowed path works, and a default-deny profile composed with the runtime base set starts the
container (while the same profile without the base set does not).
"""

from __future__ import annotations

import errno
import json
import os
import platform
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest
from tests._tools import tool

from seccompose.arch import Arch

pytestmark = pytest.mark.integration

pytest.importorskip("pyseccomp", reason="the 'check' extra (pyseccomp + libseccomp.so.2) is not installed")

ABIS = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]


bundle_tool = tool("make_bundle")


def _why_not(runtime: str) -> str | None:
    if platform.machine() != "x86_64":
        return "the bundle's /exit42 program is x86_64 machine code"
    if os.geteuid() != 0:
        return f"{runtime} needs root to create namespaces and mounts here"
    if shutil.which(runtime) is None:
        return f"{runtime} is not installed (apt-get install {runtime})"
    if not Path("/bin/busybox").exists():
        return "busybox is not installed (apt-get install busybox-static)"
    if runtime == "crun" and shutil.which("unshare") is None:
        return "unshare (util-linux) is needed to hide the cgroup v2 mount from crun 1.8"
    return _plain_container_fails(runtime)


def _plain_container_fails(runtime: str) -> str | None:
    """Run a bundle without any seccomp profile: if that fails, the machine cannot run containers."""
    with tempfile.TemporaryDirectory(prefix="seccompose-plain-") as tmp:
        bundle = bundle_tool.make_bundle(Path(tmp), args=["/exit42"])
        p = bundle_tool.run_container(runtime, bundle, f"seccompose-plain-{uuid.uuid4().hex[:10]}", timeout=60)
    if p.returncode == bundle_tool.EXIT42_STATUS:
        return None
    return f"{runtime} cannot start even a container without seccomp here: {p.stderr.strip()[-300:]}"


RUNTIMES = [
    pytest.param(rt, marks=pytest.mark.skipif(_why_not(rt) is not None, reason=str(_why_not(rt))))
    for rt in ("runc", "crun")
]


def run(runtime: str, bundle: Path) -> subprocess.CompletedProcess[str]:
    result: subprocess.CompletedProcess[str] = bundle_tool.run_container(
        runtime, bundle, f"seccompose-test-{uuid.uuid4().hex[:10]}", timeout=60
    )
    return result


def deny_mkdir() -> dict[str, Any]:
    return {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ABIS,
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.ENOSPC}],
    }


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_denied_syscall_fails_with_the_chosen_errno(runtime: str, tmp_path: Path) -> None:
    script = "echo allowed-path-works; mkdir /tmp/denied; echo mkdir-exit=$?"
    bundle = bundle_tool.make_bundle(tmp_path, args=["/bin/sh", "-c", script], seccomp=deny_mkdir(), writable=True)
    p = run(runtime, bundle)
    assert p.returncode == 0, p.stderr
    assert "allowed-path-works" in p.stdout
    assert "mkdir-exit=1" in p.stdout
    assert os.strerror(errno.ENOSPC) in p.stderr  # busybox prints strerror(errno)
    assert not (tmp_path / "rootfs" / "tmp" / "denied").exists()


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_without_the_profile_the_same_command_succeeds(runtime: str, tmp_path: Path) -> None:
    # The control for the test above: the errno comes from the filter, not the bundle.
    bundle = bundle_tool.make_bundle(tmp_path, args=["/bin/sh", "-c", "mkdir /tmp/made && echo made"], writable=True)
    p = run(runtime, bundle)
    assert (p.returncode, p.stdout.strip()) == (0, "made"), p.stderr
    assert (tmp_path / "rootfs" / "tmp" / "made").is_dir()


def _base_profile(runtime: str | None, nnp: bool) -> dict[str, Any]:
    """Default deny (EPERM) + exit_group (the workload) + the runtime base set, composed by seccompose."""
    try:
        from seccompose import compose, dumps
    except ImportError:
        from seccompose.runtime import runtime_base

        names = {"exit_group"} | (set(runtime_base(runtime, no_new_privileges=nnp)) if runtime else set())
        return {
            "defaultAction": "SCMP_ACT_ERRNO",
            "defaultErrnoRet": 1,
            "architectures": ABIS,
            "syscalls": [{"names": sorted(names), "action": "SCMP_ACT_ALLOW"}],
        }
    profile: dict[str, Any] = json.loads(
        dumps(compose(arch=Arch.X86_64, allow=["exit_group"], runtime=runtime, no_new_privileges=nnp))
    )
    return profile


@pytest.mark.parametrize("nnp", [True, False], ids=["nnp", "no-nnp"])
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_default_deny_with_the_runtime_base_set_starts(runtime: str, nnp: bool, tmp_path: Path) -> None:
    profile = _base_profile(runtime, nnp)
    bundle = bundle_tool.make_bundle(tmp_path, args=["/exit42"], seccomp=profile, no_new_privileges=nnp)
    p = run(runtime, bundle)
    assert p.returncode == bundle_tool.EXIT42_STATUS, (p.returncode, p.stderr, profile)


@pytest.mark.parametrize("nnp", [True, False], ids=["nnp", "no-nnp"])
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_default_deny_without_the_base_set_does_not_start(runtime: str, nnp: bool, tmp_path: Path) -> None:
    bundle = bundle_tool.make_bundle(tmp_path, args=["/exit42"], seccomp=_base_profile(None, nnp), no_new_privileges=nnp)
    p = run(runtime, bundle)
    # the runtime itself fails (runc: "runc run failed: container process is already dead")
    assert p.returncode == 1, (p.returncode, p.stderr)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_default_template_runs_busybox(runtime: str, tmp_path: Path) -> None:
    try:
        from seccompose import compose, dumps
        from seccompose.caps import DOCKER_DEFAULT_CAPABILITIES
    except ImportError:
        pytest.skip("compose/dumps are not available in this checkout yet")
    profile = json.loads(
        dumps(compose(base="default", arch=Arch.X86_64, caps=DOCKER_DEFAULT_CAPABILITIES, runtime=runtime))
    )
    # unshare needs CAP_SYS_ADMIN in Docker's default: denied with EPERM; the rest of the script runs
    script = "echo hello > /tmp/f && cat /tmp/f && ls / >/dev/null && echo ls-ok; unshare -U true; echo unshare=$?"
    bundle = bundle_tool.make_bundle(tmp_path, args=["/bin/sh", "-c", script], seccomp=profile, writable=True)
    (tmp_path / "rootfs" / "bin" / "unshare").symlink_to("busybox")
    p = run(runtime, bundle)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[:2] == ["hello", "ls-ok"]
    assert "unshare=1" in p.stdout
    assert os.strerror(errno.EPERM) in p.stderr


# ----------------------------------------------------------------------------- bubblewrap

BWRAP_REASON = (
    "bwrap is not installed (apt-get install bubblewrap)"
    if shutil.which("bwrap") is None
    else ("bwrap needs root (or user namespaces) here" if os.geteuid() != 0 else None)
)


def bwrap(rootfs: Path, profile: dict[str, Any], argv: list[str]) -> subprocess.CompletedProcess[str]:
    from seccompose.check import compile_bpf

    with tempfile.TemporaryFile() as bpf:
        bpf.write(compile_bpf(profile))
        bpf.seek(0)
        fd = bpf.fileno()
        cmd = ["bwrap", "--bind", str(rootfs), "/", "--proc", "/proc", "--dev", "/dev", "--seccomp", str(fd), *argv]
        return subprocess.run(cmd, pass_fds=(fd,), capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.skipif(BWRAP_REASON is not None, reason=str(BWRAP_REASON))
def test_bwrap_reads_the_exported_bpf(tmp_path: Path) -> None:
    bundle = bundle_tool.make_bundle(tmp_path, args=["/exit42"], writable=True)
    rootfs = bundle / "rootfs"
    p = bwrap(rootfs, deny_mkdir(), ["/bin/sh", "-c", "echo allowed; mkdir /tmp/denied"])
    assert "allowed" in p.stdout
    assert p.returncode == 1
    assert os.strerror(errno.ENOSPC) in p.stderr
    assert not (rootfs / "tmp" / "denied").exists()
    # default deny: bwrap loads the filter right before execve, so execve + exit_group suffice ...
    def strict(names: list[str]) -> dict[str, Any]:
        return {
            "defaultAction": "SCMP_ACT_ERRNO",
            "architectures": ABIS,
            "syscalls": [{"names": names, "action": "SCMP_ACT_ALLOW"}],
        }

    assert bwrap(rootfs, strict(["execve", "exit_group"]), ["/exit42"]).returncode == bundle_tool.EXIT42_STATUS
    # ... and without execve nothing starts
    assert bwrap(rootfs, strict(["exit_group"]), ["/exit42"]).returncode != bundle_tool.EXIT42_STATUS

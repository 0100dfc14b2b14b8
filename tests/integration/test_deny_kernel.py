"""Issue 14, reproduced in the kernel: a deny is a deny on every ABI, through every alias and multiplexer.

Each test composes a profile the way a user does (``seccompose compose ...``), loads it into
the kernel in a child process with libseccomp the way runc does (``check.run_under``) and runs
a static program (``programs/abi_call.c``, built here with gcc) that makes one system call on
one ABI: x86_64 through ``syscall``, i386 through ``int 0x80`` (every x86_64 host runs 32-bit
code unless the profile stops it). The call must get the errno of the deny. The arguments are
chosen so that a call that does get through fails harmlessly with another errno (or does
nothing), which is what the tests saw before the fix.

Syscall numbers are the kernel's (``arch/x86/entry/syscalls/syscall_32.tbl``,
``syscall_64.tbl``), sub-call numbers its uapi's (``linux/net.h``, ``linux/ipc.h``).
"""

from __future__ import annotations

import errno
import json
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from seccompose.cli import main

pytestmark = pytest.mark.integration

pytest.importorskip("pyseccomp", reason="the 'check' extra (pyseccomp + libseccomp.so.2) is not installed")
if platform.machine() != "x86_64":
    pytest.skip("the test program makes x86_64 and i386 calls: an x86_64 host is needed", allow_module_level=True)

from seccompose.check import run_under  # noqa: E402

SOURCE = Path(__file__).parent / "programs" / "abi_call.c"
EPERM, ENOSYS = -errno.EPERM, -errno.ENOSYS
SOCKETCALL, IPC = 102, 117  # i386
SYS_SOCKET, SYS_BIND, SYS_SEND, SYS_SENDTO = 1, 2, 9, 11  # linux/net.h
SEMGET, SEMCTL, SHMAT = 2, 3, 21  # linux/ipc.h
AF_INET, SOCK_STREAM = 2, 1
MISSING = "@s:/nonexistent-seccompose-14"


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    gcc = shutil.which("gcc")
    assert gcc, "gcc is needed to build the test program (.ci/apt-packages: gcc, libc6-dev)"
    out = tmp_path_factory.mktemp("abi") / "abi_call"
    subprocess.run(
        [gcc, "-static", "-no-pie", "-O1", "-mno-red-zone", "-o", str(out), str(SOURCE)], check=True, capture_output=True
    )
    probe = subprocess.run([str(out), "32", "20"], capture_output=True, text=True, check=False)  # i386 getpid
    if probe.returncode != 0 or int(probe.stdout) <= 0:
        pytest.skip("this kernel runs no i386 code (CONFIG_IA32_EMULATION off, or ia32_emulation=0)")
    return out


def compose_profile(tmp_path: Path, *flags: str) -> dict[str, Any]:
    """``seccompose compose FLAGS -o FILE``, as a user runs it; the OCI profile it wrote."""
    out = tmp_path / "profile.json"
    assert main(["compose", *flags, "-o", str(out)]) == 0
    profile: dict[str, Any] = json.loads(out.read_text())
    return profile


def call(program: Path, profile: dict[str, Any], abi: str, number: int, *args: object) -> int:
    """Run one call under ``profile`` loaded by the kernel; return what it returned (-errno on failure)."""
    done = run_under(profile, [str(program), abi, str(number), *map(str, args)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


# -- 1. Multiplexers --------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["eperm", "enosys"])
def test_1_socket_and_semget_are_refused_through_socketcall_and_ipc(program: Path, tmp_path: Path, policy: str) -> None:
    p = compose_profile(tmp_path, "--base", "default", "--deny", "socket", "--deny", "semget", "--errno-policy", policy)
    # before: socketcall(SYS_SOCKET, AF_INET) returned a socket, ipc(SEMGET) ran (EINVAL for nsems -1)
    assert call(program, p, "32", SOCKETCALL, SYS_SOCKET, f"@w:{AF_INET},{SOCK_STREAM},0") == EPERM
    assert call(program, p, "32", IPC, SEMGET, 0, -1, 0) == EPERM
    assert call(program, p, "32", IPC, SEMGET | 1 << 16, 0, -1, 0) == EPERM  # the call with a version above it
    assert call(program, p, "32", 359, AF_INET, SOCK_STREAM, 0) == EPERM  # i386 socket
    assert call(program, p, "64", 41, AF_INET, SOCK_STREAM, 0) == EPERM  # x86_64 socket
    # the other calls of the multiplexers still run: bind on fd -1 fails with EBADF, semctl with EINVAL
    assert call(program, p, "32", SOCKETCALL, SYS_BIND, "@w:4294967295,0,0") == -errno.EBADF
    assert call(program, p, "32", IPC, SEMCTL, -1, 0, 0) == -errno.EINVAL


# -- 2. Denying the multiplexer itself --------------------------------------------------------


@pytest.mark.parametrize(("policy", "refused"), [("eperm", ENOSYS), ("enosys", EPERM)])
def test_2_a_denied_multiplexer_refuses_every_call(program: Path, tmp_path: Path, policy: str, refused: int) -> None:
    p = compose_profile(tmp_path, "--base", "default", "--deny", "socketcall", "--deny", "ipc", "--errno-policy", policy)
    # before, under eperm: libseccomp's rules for the allowed bind and shmat let these through (EBADF, EINVAL)
    assert call(program, p, "32", SOCKETCALL, SYS_BIND, "@w:4294967295,0,0") == refused
    assert call(program, p, "32", SOCKETCALL, SYS_SEND, "@w:4294967295,0,0,0") == refused
    assert call(program, p, "32", IPC, SHMAT, -1, 0, 0, "@buf") == refused
    # (under eperm the refusal says ENOSYS: runc would drop an EPERM rule equal to the default, and compose says so)
    assert call(program, p, "32", 361, -1, 0, 0) == -errno.EBADF  # the direct i386 bind still runs


# -- 3. Aliases across ABIs -------------------------------------------------------------------

# (denied name, the i386 name of the same call, its i386 number, arguments that fail harmlessly if it runs)
ALIASES = [
    ("setuid", "setuid32", 213, (0,)),  # root to root: 0 if it runs
    ("clock_settime", "clock_settime64", 404, (1, "@q:0,0")),  # CLOCK_MONOTONIC cannot be set: EINVAL
    ("newfstatat", "fstatat64", 300, (-100, MISSING, "@buf", 0)),  # ENOENT
    ("umount2", "umount", 22, (MISSING,)),  # ENOENT
    ("futex", "futex_time64", 422, ("@buf", 1, 1, 0)),  # FUTEX_WAKE, no waiter: 0
    ("mmap", "mmap2", 192, (0, 0, 3, 0x22, -1, 0)),  # length 0: EINVAL
    ("lseek", "_llseek", 140, (-1, 0, 0, "@buf", 0)),  # EBADF
    ("select", "_newselect", 142, (-1, 0, 0, 0, 0)),  # nfds -1: EINVAL
    ("wait4", "waitpid", 7, (-1, 0, 1)),  # no child, WNOHANG: ECHILD
    ("truncate", "truncate64", 193, (MISSING, 0, 0)),  # ENOENT
    ("setgroups", "setgroups32", 206, (-1, 0)),  # EINVAL
    ("fcntl", "fcntl64", 221, (-1, 1, 0)),  # EBADF
    ("chown", "chown32", 212, (MISSING, 0, 0)),  # ENOENT
    ("sendfile", "sendfile64", 239, (-1, -1, 0, 1)),  # EBADF
    ("pselect6", "pselect6_time64", 413, (-1, 0, 0, 0, 0, 0)),  # EINVAL
    ("timerfd_settime", "timerfd_settime64", 411, (-1, 0, "@buf", 0)),  # EBADF
]


@pytest.fixture(scope="module")
def alias_profile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    # Every capability: the base then allows all of these (umount with CAP_SYS_ADMIN, clock_settime with
    # CAP_SYS_TIME), so the deny alone has to refuse them.
    flags = [f for name, _, _, _ in ALIASES for f in ("--deny", name)]
    return compose_profile(tmp_path_factory.mktemp("alias"), "--base", "default", "--cap-add", "ALL", *flags)


@pytest.mark.parametrize(("denied", "alias", "number", "args"), ALIASES, ids=[a[1] for a in ALIASES])
def test_3_the_i386_alias_of_a_denied_call_is_refused(
    program: Path, alias_profile: dict[str, Any], denied: str, alias: str, number: int, args: tuple[object, ...]
) -> None:
    assert call(program, alias_profile, "32", number, *args) == EPERM, f"{alias} (i386 {number}) ran; {denied} is denied"


@pytest.mark.parametrize(
    ("denied", "number", "args"),
    [("setuid32", 105, (0,)), ("fstatat64", 262, (-100, MISSING, "@buf", 0)), ("_llseek", 8, (-1, 0, 0))],
)
def test_3_a_deny_of_the_i386_name_refuses_the_x86_64_one(
    program: Path, tmp_path: Path, denied: str, number: int, args: tuple[object, ...]
) -> None:
    p = compose_profile(tmp_path, "--base", "default", "--deny", denied)
    assert call(program, p, "64", number, *args) == EPERM


def test_3_deny_exact_keeps_the_old_behaviour(program: Path, tmp_path: Path) -> None:
    p = compose_profile(tmp_path, "--base", "default", "--deny-exact", "setuid")
    assert call(program, p, "64", 105, 0) == EPERM
    assert call(program, p, "32", 213, 0) == 0  # setuid32 runs, as asked


# -- 4. Policy mode applies every flag --------------------------------------------------------


def test_4_policy_mode_applies_deny_and_allow(program: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("templates:\n  - {template: redis, images: ['redis:*']}\n")
    p = compose_profile(tmp_path, "--policy", str(policy), "--image", "redis:7", "--deny", "read", "--allow", "kcmp")
    # before: exit 0 with read allowed (EBADF on fd -1) and kcmp refused
    assert call(program, p, "64", 0, -1, 0, 0) == EPERM  # read
    assert call(program, p, "32", 3, -1, 0, 0) == EPERM  # i386 read
    assert call(program, p, "64", 312, 0, 0, 99, 0, 0) != EPERM  # kcmp: runs (ESRCH/EINVAL, not the deny)


# -- 5. A repeated --base is the union --------------------------------------------------------


def test_5_a_repeated_base_allows_what_either_template_allows(program: Path, tmp_path: Path) -> None:
    p = compose_profile(tmp_path, "--base", "nginx", "--base", "redis")
    # fsync: redis has it, nginx not; dup2: nginx has it, redis not (before: --base redis alone, dup2 refused)
    assert call(program, p, "64", 74, -1) == -errno.EBADF  # fsync
    assert call(program, p, "64", 33, -1, -1) == -errno.EBADF  # dup2


# -- 6. Scopes cannot be sidestepped by spelling ----------------------------------------------


@pytest.mark.parametrize("image", ["library/redis:7", "index.docker.io/library/redis:7", "docker.io/redis:7"])
def test_6_a_scoped_deny_applies_however_the_image_is_spelled(program: Path, tmp_path: Path, image: str) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "templates:\n  - {template: redis, images: ['redis:*']}\n"
        "rules:\n  - {name: no-read, deny: [read], scope: {images: ['redis:*']}}\n"
    )
    p = compose_profile(tmp_path, "--policy", str(policy), "--image", image)
    assert call(program, p, "64", 0, -1, 0, 0) == EPERM  # before: the rule did not apply (EBADF)


# -- 8. The running kernel, unless --kernel ---------------------------------------------------


def test_8_compose_uses_the_running_kernel(program: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    real = os.uname()
    monkeypatch.setattr(os, "uname", lambda: os.uname_result((real.sysname, real.nodename, "4.4.0", real.version, real.machine)))
    p = compose_profile(tmp_path, "--base", "default")  # on a 4.4 kernel Docker's default has no ptrace (4.8+)
    assert call(program, p, "64", 101, 0xFFFF, 0, 0, 0) == EPERM  # before: ptrace allowed (ESRCH: no tracee)
    monkeypatch.undo()
    p = compose_profile(tmp_path, "--base", "default")  # the real kernel is newer: ptrace runs
    assert call(program, p, "64", 101, 0xFFFF, 0, 0, 0) == -errno.ESRCH  # (no such tracee)


# -- 9. explain and check agree with the kernel -----------------------------------------------


def test_9_explain_says_what_the_kernel_does(program: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flags = ("--base", "default", "--deny", "socket")
    p = compose_profile(tmp_path, *flags)
    capsys.readouterr()
    assert main(["explain", "socketcall", *flags, "--arch", "x86_64", "--format", "json"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert said["verdict"] == "conditional"  # before: "allowed", while the kernel refused SYS_SOCKET ...
    assert call(program, p, "32", SOCKETCALL, SYS_SOCKET, f"@w:{AF_INET},{SOCK_STREAM},0") == EPERM
    assert call(program, p, "32", SOCKETCALL, SYS_BIND, "@w:4294967295,0,0") == -errno.EBADF  # ... and ran SYS_BIND


def test_9_check_fails_a_filter_the_kernel_refuses(tmp_path: Path, program: Path) -> None:
    rules = [
        {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": v, "op": "SCMP_CMP_EQ"}]}
        for v in range(4100)
    ]
    rules.append({"names": ["execve", "brk", "arch_prctl", "write", "exit_group", "uname", "readlinkat",
                                "mprotect", "newfstatat", "set_tid_address", "set_robust_list", "rseq", "prlimit64",
                                "getrandom", "mmap", "munmap", "fstat", "read", "close", "ioctl"],
                                "action": "SCMP_ACT_ALLOW"})  # fmt: skip
    profile = {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": rules}
    path = tmp_path / "long.json"
    path.write_text(json.dumps(profile))
    assert main(["check", str(path)]) == 1  # before: OK
    with pytest.raises(subprocess.SubprocessError):  # the kernel refuses to load it (EINVAL)
        run_under(profile, [str(program), "64", "39"], capture_output=True)

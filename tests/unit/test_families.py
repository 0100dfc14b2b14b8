"""Syscall families and the i386 multiplexers, checked against what the project did not write.

The families come from the kernel tables' entry points (tools/gen_families.py); the cases
below are the kernel's own facts, quoted from its tables and sources, and libseccomp's
numbering of the multiplexed calls.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from seccompose import Arch
from seccompose.syscalls import MULTIPLEXERS, families, family, host_names, subcalls, table
from seccompose.syscallset import universe

ROOT = Path(__file__).resolve().parents[2]
UAPI = ROOT / "tests" / "fixtures" / "reference" / "linux-uapi"

# The pairs of the issue: a name an x86_64 program uses, and the name an i386 program on the same host
# uses for the same call (syscall_32.tbl: the i386 entry point, then the x86_64 one in syscall_64.tbl).
I386_ALIASES = [
    ("setuid", "setuid32"),  # i386 213 sys_setuid; x86_64 105 sys_setuid
    ("clock_settime", "clock_settime64"),  # i386 404 sys_clock_settime
    ("newfstatat", "fstatat64"),  # i386 300 sys_fstatat64; x86_64 262 sys_newfstatat (vfs_fstatat both)
    ("umount2", "umount"),  # i386 22 sys_oldumount = ksys_umount(name, 0)
    ("futex", "futex_time64"),  # i386 422 sys_futex
    ("mmap", "mmap2"),  # i386 192 sys_mmap_pgoff (offset in pages)
    ("lseek", "_llseek"),  # i386 140 sys_llseek
    ("select", "_newselect"),  # i386 142 sys_select
    ("wait4", "waitpid"),  # i386 7 sys_waitpid = kernel_wait4(pid, status, options, NULL)
    ("truncate", "truncate64"),  # i386 193 sys_ia32_truncate64
    ("setgroups", "setgroups32"),  # i386 206 sys_setgroups
    ("fcntl", "fcntl64"),  # i386 221 sys_fcntl64
    ("chown", "chown32"),  # i386 212 sys_chown
    ("sendfile", "sendfile64"),  # i386 239 sys_sendfile64; x86_64 40 sys_sendfile64
    ("pselect6", "pselect6_time64"),  # i386 413 sys_pselect6
    ("timerfd_settime", "timerfd_settime64"),  # i386 411 sys_timerfd_settime
]


@pytest.mark.parametrize(("name", "alias"), I386_ALIASES)
def test_the_i386_name_of_a_call_is_in_its_family(name: str, alias: str) -> None:
    assert alias in table(Arch.X86)
    assert alias not in table(Arch.X86_64)
    assert family(name, Arch.X86_64) == family(alias, Arch.X86_64)
    assert {name, alias} <= set(family(name, Arch.X86_64))
    if name in table(Arch.X86):  # an i386 host runs both too (it has no newfstatat, umount2 is there)
        assert family(name, Arch.X86) == family(alias, Arch.X86)


@pytest.mark.parametrize(
    ("name", "alias"),
    [
        ("newfstatat", "fstatat64"),  # arm fstatat64; aarch64 79 newfstatat
        ("mmap", "mmap2"),
        ("lseek", "_llseek"),
        ("sendto", "send"),  # arm 289 send: __sys_sendto(fd, buf, len, flags, NULL, 0)
        ("recvfrom", "recv"),
        ("sync_file_range", "sync_file_range2"),  # arm 341: the flags before the 64-bit arguments
        ("fadvise64", "arm_fadvise64_64"),
        ("setuid", "setuid32"),
        ("clock_settime", "clock_settime64"),
    ],
)
def test_the_arm_name_of_a_call_is_in_its_family_on_aarch64_hosts(name: str, alias: str) -> None:
    assert alias in table(Arch.ARM)
    assert name in table(Arch.AARCH64)
    assert alias in family(name, Arch.AARCH64)


@pytest.mark.parametrize(
    "pair",
    [
        ("open", "openat"),  # openat does more (a directory fd): distinct entry points on every ABI
        ("accept", "accept4"),
        ("clone", "clone3"),
        ("dup2", "dup3"),
        ("pipe", "pipe2"),
        ("stat", "newfstatat"),
        ("fstat", "newfstatat"),
        ("semop", "semtimedop"),
        ("socketcall", "socket"),  # the multiplexer is not the calls it runs
        ("ipc", "semget"),
        ("time", "clock_gettime"),
        ("setuid", "setresuid"),
    ],
)
def test_calls_that_do_more_than_another_stay_apart(pair: tuple[str, str]) -> None:
    for host in (Arch.X86_64, Arch.AARCH64, Arch.X86):
        a, b = pair
        assert b not in family(a, host)


def test_names_native_to_x86_64_share_a_family_only_for_getdents() -> None:
    # Two names x86_64 programs both call would be two operations, unless they differ only in form:
    # getdents and getdents64 read the same directory entries in two layouts (linux_dirent, linux_dirent64).
    native = set(table(Arch.X86_64))
    shared = sorted(f for f in set(families(Arch.X86_64).values()) if len(native.intersection(f)) > 1)
    assert shared == [("getdents", "getdents64", "readdir")]


def test_families_are_symmetric_and_within_the_host() -> None:
    for host in (Arch.X86_64, Arch.AARCH64, Arch.X86, Arch.ARM):
        names = set(host_names(host))
        for name, fam in families(host).items():
            assert name in fam and set(fam) <= names and len(fam) > 1
            assert all(families(host)[n] == fam for n in fam)


def test_a_name_of_no_family_is_its_own() -> None:
    assert family("openat", Arch.X86_64) == ("openat",)
    assert family("send", Arch.X86_64) == ("send",)  # not a name of an x86_64 host's ABIs


def test_universe_expands_bits_to_whole_families() -> None:
    u = universe(Arch.X86_64)
    assert u.names_of(u.family_of("setuid32")) == ("setuid", "setuid32")
    assert u.names_of(u.family_of("read")) == ("read",)
    assert u.names_of(u.expand(u.mask(["umount", "openat"]))) == ("openat", "umount", "umount2")
    assert {"socketcall", "ipc", "socket", "semget", "sendto", "semtimedop_time64"} <= set(u.names_of(u.multiplexed))


def _header_numbers(name: str, pattern: str) -> dict[str, int]:
    text = (UAPI / name).read_text(encoding="utf-8")
    return {m.group(1).lower(): int(m.group(2)) for m in re.finditer(pattern, text, re.MULTILINE)}


def test_subcall_numbers_are_the_uapi_headers() -> None:
    socket = _header_numbers("net.h", r"^#define\s+SYS_(\w+)\s+(\d+)")
    ipc = _header_numbers("ipc.h", r"^#define\s+((?:SEM|MSG|SHM)\w+)\s+(\d+)\s*$")
    calls = subcalls(Arch.X86_64)
    assert {s.name: s.call for s in calls if s.multiplexer == "socketcall"} == socket
    assert {s.name: s.call for s in calls if s.multiplexer == "ipc"} == ipc
    assert len(socket) == 20 and socket["sendmmsg"] == 20
    assert len(ipc) == 12 and ipc["shmctl"] == 24
    assert {s.number for s in calls} == {table(Arch.X86).number(m) for m in MULTIPLEXERS} == {102, 117}


def test_subcall_numbers_are_libseccomps() -> None:
    # libseccomp numbers the multiplexed calls -100 - SYS_* and -200 - ipc call (its __PNR_* constants).
    pyseccomp = pytest.importorskip("pyseccomp")
    for s in subcalls(Arch.X86_64):
        number = pyseccomp.resolve_syscall(pyseccomp.Arch.X86, s.name)
        assert -number - (100 if s.multiplexer == "socketcall" else 200) == s.call, s.name


def test_subcall_families_on_each_host() -> None:
    by_name = {s.name: s for s in subcalls(Arch.X86_64)}
    assert by_name["send"].family == ("sendto",)  # i386 has no send: socketcall(SYS_SEND) is sendto's
    assert by_name["recvmmsg"].family == ("recvmmsg", "recvmmsg_time64")
    assert by_name["semtimedop"].family == ("semtimedop", "semtimedop_time64")
    assert {s.name: s.family for s in subcalls(Arch.X86)}["accept"] == ()  # i386 hosts: socketcall only
    assert subcalls(Arch.AARCH64) == ()  # 32-bit arm (EABI) has no multiplexer


def test_generated_families_have_not_drifted() -> None:
    source = ROOT / "tests" / "fixtures" / "reference" / "linux"
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_families.py"), "--check", "--source", str(source)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr

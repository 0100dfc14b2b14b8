"""Kernel audit SECCOMP records, captured on this machine (see tests/fixtures/good/audit/README.md).

The oracle is auditd's own decoder: ``ausearch-i.txt`` is ``ausearch -i`` over the same
records as ``auditd-foreground.log``, with names and arches from audit's tables, not ours.
"""

from __future__ import annotations

import collections
import io
from pathlib import Path

import pytest

from seccompose.arch import Arch
from seccompose.formats.audit import count_file, iter_records, parse_record

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "good" / "audit"


def _count(name: str) -> collections.Counter[tuple[Arch, str]]:
    with (FIXTURES / name).open("rb") as stream:
        return count_file(stream)


def test_numbers_decode_like_auditds_own_tables() -> None:
    raw = _count("auditd-foreground.log")
    interpreted = _count("ausearch-i.txt")
    assert sum(raw.values()) == 34  # one record per call of /bin/true and the 32-bit probe
    assert raw == interpreted


def test_32_bit_records_are_x86() -> None:
    raw = _count("auditd-foreground.log")
    assert {n for (abi, n) in raw if abi is Arch.X86} == {"write", "getpid", "exit"}


def test_kernel_log_form_is_read_too() -> None:
    # dmesg holds what the kernel's rate limit let through: a subset of the same program's calls.
    kernel = _count("dmesg.txt")
    assert (Arch.X86, "write") in kernel
    assert set(kernel) <= set(_count("auditd-foreground.log")) | {(Arch.X86_64, "getrandom")}
    assert sum(kernel.values()) == sum(
        1 for line in (FIXTURES / "dmesg.txt").read_text().splitlines() if "type=1326" in line
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "type=SECCOMP msg=audit(1.2:3): pid=1 arch=c000003e syscall=257 compat=0 code=0x7ffc0000",
            (Arch.X86_64, "openat"),
        ),
        ("audit: type=1326 audit(1.2:3): arch=c00000b7 syscall=56 compat=0 code=0x7ffc0000", (Arch.AARCH64, "openat")),
        ("type=SECCOMP msg=audit(1.2:3): arch=40000003 syscall=295 compat=1", (Arch.X86, "openat")),
        # x32: the x86_64 audit arch with __X32_SYSCALL_BIT in the number
        ("type=SECCOMP msg=audit(1.2:3): arch=c000003e syscall=1073742081 compat=0", (Arch.X32, "openat")),
        # ausearch -i, and audit's own spelling of pread64
        (
            "type=SECCOMP msg=audit(11/29/26 19:11:11.970:35) : arch=x86_64 syscall=pread compat=0",
            (Arch.X86_64, "pread64"),
        ),
        ("type=SECCOMP msg=audit(1.2:3): arch=c000003e syscall=999 code=0x0", (Arch.X86_64, "syscall_0x3e7")),
        # 32-bit arm (an aarch64 host's compat ABI) has its own numbers, and private calls at 0xf0000 + n
        ("type=SECCOMP msg=audit(1.2:3): arch=40000028 syscall=5 code=0x0", (Arch.ARM, "open")),
        ("type=SECCOMP msg=audit(1.2:3): arch=40000028 syscall=983045 code=0x0", (Arch.ARM, "set_tls")),
    ],
)
def test_records(line: str, expected: tuple[Arch, str]) -> None:
    assert parse_record(line) == expected
    assert parse_record(line.encode()) == expected


@pytest.mark.parametrize(
    "line",
    [
        "type=SYSCALL msg=audit(1.2:3): arch=c000003e syscall=59 success=yes",  # not a seccomp record
        "type=SECCOMP msg=audit(1.2:3): arch=c000003e",  # no syscall field
        "type=SECCOMP msg=audit(1.2:3): arch=deadbeef syscall=1",  # unknown audit arch
        "type=SECCOMP msg=audit(1.2:3): arch=c000003e syscall=-1",  # the kernel could not tell
        "",
        "\x00\xff garbage",
    ],
)
def test_other_lines_are_skipped(line: str) -> None:
    assert parse_record(line) is None
    assert list(iter_records([line])) == []


def test_progress_and_streaming() -> None:
    data = (FIXTURES / "auditd-foreground.log").read_bytes() * 2000  # ~2 MB, several progress reports
    seen: list[int] = []
    counts = count_file(io.BytesIO(data), progress=seen.append)
    assert sum(seen) == len(data)
    assert sum(counts.values()) == 34 * 2000

"""The generated syscall tables, checked against things the project did not write."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import pytest

from seccompose import Arch, InvalidArchError, UnknownSyscallError
from seccompose.syscalls import TABLED_ARCHES, abis_with, all_names, host_names, table

ROOT = Path(__file__).resolve().parents[2]
LIBSECCOMP_CSV = ROOT / "tests" / "fixtures" / "reference" / "linux" / "libseccomp-pr457-syscalls.csv"
# arch/arm/include/uapi/asm/unistd.h: __ARM_NR_BASE (0x0f0000) + n
ARM_PRIVATE = {"breakpoint": 1, "cacheflush": 2, "usr26": 3, "usr32": 4, "set_tls": 5, "get_tls": 6}


def _libseccomp_column(arch: str) -> dict[str, int]:
    with LIBSECCOMP_CSV.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    col = rows[0].index(arch)
    return {row[0]: int(row[col]) for row in rows[1:] if row[col] != "PNR"}


@pytest.mark.parametrize(
    ("arch", "rows"),
    [(Arch.X86_64, 385), (Arch.X86, 461), (Arch.AARCH64, 327), (Arch.X32, 374)],
)
def test_row_counts_and_highest(arch: Arch, rows: int) -> None:
    # Counts from the reference README (Linux 7.2.13); x32: 'common' + 'x32' ABIs of syscall_64.tbl.
    t = table(arch)
    assert len(t) == rows
    assert t.kernel == "7.2.13"
    if arch is Arch.X32:
        # x32's own compat entry points sit at 512..547, above the common numbers.
        assert max(t.numbers()) == 0x40000000 | 547
        assert t.number("rseq_slice_yield") == 0x40000000 | 471
    else:
        assert max(t.numbers()) == 471
        assert t.name(471) == "rseq_slice_yield"


def _generic_common() -> dict[str, int]:
    text = (ROOT / "tests" / "fixtures" / "reference" / "linux" / "syscall.tbl").read_text(encoding="utf-8")
    rows = [line.split() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return {f[2]: int(f[0]) for f in rows if f[1] == "common"}


def test_arm_table_is_libseccomps_arm_column_plus_the_private_calls_plus_the_unified_numbers() -> None:
    # arm comes from libseccomp's syscalls.csv (v6.16), then the generic table: every syscall since 424
    # has the same number on all arches, so those added after 6.16 are on arm at their generic number.
    t = table(Arch.ARM)
    assert t.kernel == "7.2.13"
    column = _libseccomp_column("arm")
    private = {name: 0x0F0000 + n for name, n in ARM_PRIVATE.items()}
    # the kernel's own name for 341, kept beside libseccomp's (Docker's profile names both)
    alias = {"arm_sync_file_range": column["sync_file_range2"]}
    generic = _generic_common()
    newer = {name: n for name, n in generic.items() if n > max(v for v in column.values() if v < 0x0F0000)}
    assert newer == {"file_getattr": 468, "file_setattr": 469, "listns": 470, "rseq_slice_yield": 471}
    assert {name: t.number(name) for name in t} == column | private | alias | newer
    # the unified numbering: every generic 'common' syscall from 424 on that arm has, at the same number
    unified = {name: n for name, n in generic.items() if n >= 424}
    assert {name: t.number(name) for name in unified if name in t} == unified
    assert set(unified) - set(t) == set()  # memfd_secret is not 'common' in syscall.tbl: not on arm
    assert t.since("listns") == "6.18"
    assert t.since("rseq_slice_yield") == "7.0"
    assert t.name(0x0F0005) == "set_tls"
    assert t.name(341) == "sync_file_range2"
    assert len(t.numbers()) == len(t) - 1
    assert t.since("openat") == "<=3.0"
    assert t.since("open_tree_attr") == "6.15"
    assert t.since("set_tls") == ""  # libseccomp gives no version: unknown, not absent


def test_since_column_kept() -> None:
    t = table(Arch.X86_64)
    assert t.since("read") == "<=3.0"
    assert t.since("kcmp") == "3.5"
    assert t.since("rseq_slice_yield") == "7.0"
    assert table(Arch.AARCH64).since("openat") == ""  # unknown, not absent


def test_implemented_reads_the_entry_column() -> None:
    assert table(Arch.X86_64).implemented("read")
    assert not table(Arch.X86_64).implemented("uselib")  # reserved number, no entry point
    assert table(Arch.ARM).implemented("read") is None  # libseccomp's list gives no entry points


def _header(path: Path) -> dict[str, int]:
    found = re.findall(r"#define __NR_(\w+)\s+\(?(__X32_SYSCALL_BIT \+ )?(\d+)\)?", path.read_text(encoding="utf-8"))
    return {name: int(number) | (0x40000000 if x32 else 0) for name, x32, number in found}


@pytest.mark.parametrize(
    ("arch", "header"),
    [
        (Arch.X86_64, Path("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")),
        (Arch.X86, Path("/usr/include/x86_64-linux-gnu/asm/unistd_32.h")),
        (Arch.X32, Path("/usr/include/x86_64-linux-gnu/asm/unistd_x32.h")),
    ],
)
def test_tables_agree_with_the_kernel_uapi_headers(arch: Arch, header: Path) -> None:
    if not header.exists():
        pytest.skip(f"{header} not installed (Debian package linux-libc-dev)")
    known = _header(header)
    t = table(arch)
    common = [n for n in t if n in known]
    # The headers are older (Linux 6.1): they know fewer names, but every shared one must agree.
    assert len(common) > 300
    mismatches = [(n, t.number(n), known[n]) for n in common if t.number(n) != known[n]]
    assert mismatches == []


@pytest.mark.parametrize("arch", [Arch.X86_64, Arch.AARCH64, Arch.X86, Arch.ARM])
def test_tables_agree_with_libseccomp(arch: Arch) -> None:
    pyseccomp = pytest.importorskip("pyseccomp")
    scmp_arch = getattr(pyseccomp.Arch, arch.name)
    t = table(arch)
    agreed = 0
    for name in t:
        try:
            number = pyseccomp.resolve_syscall(scmp_arch, name)
        except Exception:  # libseccomp 2.5.4 does not know names newer than Linux 6.7
            continue
        if number < 0:
            # i386 socketcall/ipc pseudo-numbers (libseccomp's multiplexer convention); arm
            # sync_file_range2, which libseccomp 2.5 knows as arm_sync_file_range (checked)
            continue
        assert number == t.number(name), name
        agreed += 1
    assert agreed > 300


def test_lookups_and_errors() -> None:
    t = table(Arch.X86_64)
    assert t.number("openat") == 257
    assert t.name(257) == "openat"
    with pytest.raises(UnknownSyscallError, match="did you mean 'openat'"):
        t.number("opnat")
    with pytest.raises(InvalidArchError, match="mips"):
        table(Arch.MIPS)


def test_host_universe_spans_every_abi() -> None:
    assert set(host_names(Arch.X86_64)) == set(table(Arch.X86_64)) | set(table(Arch.X86)) | set(table(Arch.X32))
    assert set(host_names(Arch.AARCH64)) == set(table(Arch.AARCH64)) | set(table(Arch.ARM))
    assert abis_with("socketcall") == frozenset({Arch.X86})
    assert abis_with("_llseek") == frozenset({Arch.X86, Arch.ARM})
    assert abis_with("set_tls") == frozenset({Arch.ARM})
    assert all_names() == frozenset().union(*(set(table(a)) for a in TABLED_ARCHES))


def test_generated_data_has_not_drifted() -> None:
    # Regenerates from the committed copy of the kernel tables and compares byte for byte.
    source = ROOT / "tests" / "fixtures" / "reference" / "linux"
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_syscalls.py"), "--check", "--source", str(source)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr

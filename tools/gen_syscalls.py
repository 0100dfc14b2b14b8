"""Generate data/syscalls/*.tsv from the kernel's own syscall tables.

Inputs (a folder, default ../shared/reference/linux, else the copy in
tests/fixtures/reference/linux):
  syscall_64.tbl           arch/x86/entry/syscalls/syscall_64.tbl   -> x86_64 (common,64), x32 (common,x32)
  syscall_32.tbl           arch/x86/entry/syscalls/syscall_32.tbl   -> x86 (i386)
  syscall.tbl              scripts/syscall.tbl                      -> aarch64
  arm64-Makefile.syscalls  arch/arm64/kernel/Makefile.syscalls      (extra arm64 ABIs)
  libseccomp-pr457-syscalls.csv
                           libseccomp's src/syscalls.csv (v6.16): its `arm` column (EABI numbers; "PNR"
                           = not on arm) and `arm_kver` (since) -> arm, up to Linux 6.16. The reference
                           data has no arch/arm/tools/syscall.tbl; libseccomp derives the column from it.
                           Syscalls added after that take the generic number on every arch (the unified
                           numbering since 424), so arm's rows above libseccomp's highest are syscall.tbl's
                           'common' rows, with aarch64's since column -> arm at the kernel version.
  {x86_64,x86,aarch64}.tsv the reference folder's derived tables: only their `since` column is used,
                           and only after checking they list exactly the numbers and names parsed here.

Usage:
  python tools/gen_syscalls.py            write data/syscalls/
  python tools/gen_syscalls.py --check    exit 1 if data/syscalls/ differs from what would be written
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))  # these scripts are also loaded by file path in tests

from _drift import kernel_tables_main  # noqa: E402 - after the path setup

OUT = ROOT / "data" / "syscalls"
X32_SYSCALL_BIT = 0x40000000
# scripts/Makefile.asm-headers builds unistd_64.h from these ABIs unless the arch adds more.
GENERIC_ABIS_64 = ("common", "64")


def default_source() -> Path:
    shared = ROOT.parent / "shared" / "reference" / "linux"
    return shared if shared.is_dir() else ROOT / "tests" / "fixtures" / "reference" / "linux"


def kernel_version(source: Path) -> str:
    text = (source / "README.md").read_text(encoding="utf-8")
    found = re.search(r"Kernel version: Linux (\d+\.\d+(?:\.\d+)?)", text)
    if not found:
        msg = f"{source / 'README.md'} does not name the kernel version ('Kernel version: Linux X.Y.Z')"
        raise SystemExit(msg)
    return found.group(1)


def parse_tbl(path: Path, abis: tuple[str, ...]) -> list[tuple[int, str, str]]:
    """Return (number, name, entry) rows of the given ABIs, as the kernel's syscallhdr.sh selects them."""
    rows: dict[int, tuple[int, str, str]] = {}
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) < 3:
            msg = f"{path}:{lineno}: expected 'number abi name [entry [compat]]', got {line!r}"
            raise SystemExit(msg)
        number, abi, name = int(fields[0]), fields[1], fields[2]
        if abi not in abis:
            continue
        entry = fields[3] if len(fields) > 3 else ""
        if number in rows:
            msg = f"{path}:{lineno}: number {number} selected twice ({rows[number][1]}, {name})"
            raise SystemExit(msg)
        rows[number] = (number, name, entry)
    return [rows[n] for n in sorted(rows)]


LIBSECCOMP_CSV = "libseccomp-pr457-syscalls.csv"
# arch/arm/include/uapi/asm/unistd.h: the ARM private calls, __ARM_NR_BASE (0x0f0000) + n. They are
# not in the kernel's syscall.tbl, and libseccomp v6.16 lists only `breakpoint` among them in its
# csv (its arch-arm.c resolves the rest); the tests check each number against libseccomp's resolver.
ARM_NR_BASE = 0x0F0000
ARM_PRIVATE = {"breakpoint": 1, "cacheflush": 2, "usr26": 3, "usr32": 4, "set_tls": 5, "get_tls": 6}
# Second names of one arm number, listed right after the first. The kernel's arch/arm/tools/syscall.tbl
# calls 341 arm_sync_file_range (unistd.h: #define __NR_sync_file_range2 __NR_arm_sync_file_range);
# libseccomp v6.16's csv lists it as sync_file_range2, libseccomp 2.5 resolves arm_sync_file_range.
ARM_ALIASES = {"arm_sync_file_range": "sync_file_range2"}


def libseccomp_version(path: Path) -> str:
    """Return the kernel version libseccomp's csv header names (``#syscall (v6.16.0 2025-08-26)`` -> 6.16)."""
    first = path.read_text(encoding="utf-8").split("\n", 1)[0]
    found = re.match(r"#syscall \(v(\d+)\.(\d+)", first)
    if not found:
        msg = f"{path}: header does not name the kernel version ('#syscall (vX.Y.Z ...)')"
        raise SystemExit(msg)
    return f"{found.group(1)}.{found.group(2)}"


def parse_libseccomp_arm(path: Path) -> tuple[list[tuple[int, str, str]], dict[int, str]]:
    """Return the arm (EABI) rows of libseccomp's syscalls.csv and number -> since (``<=3.0`` for 3.0)."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    column = {h: i for i, h in enumerate(rows[0])}
    nr_col, kv_col = column["arm"], column["arm_kver"]
    by_number: dict[int, tuple[int, str, str]] = {}
    since: dict[int, str] = {}
    for lineno, row in enumerate(rows[1:], 2):
        name, nr, kv = row[0], row[nr_col], row[kv_col]
        if nr == "PNR":
            continue
        number = int(nr)
        if number in by_number:
            msg = f"{path}:{lineno}: arm number {number} given twice ({by_number[number][1]}, {name})"
            raise SystemExit(msg)
        by_number[number] = (number, name, "")
        found = re.fullmatch(r"SCMP_KV_(\d+)_(\d+)", kv)
        if found:
            version = f"{found.group(1)}.{found.group(2)}"
            since[number] = "<=3.0" if version == "3.0" else version
    names = {name for _, name, _ in by_number.values()}
    for name, offset in ARM_PRIVATE.items():
        number = ARM_NR_BASE + offset
        if name not in names and number not in by_number:
            by_number[number] = (number, name, "")
        elif by_number.get(number, (0, ""))[1] != name:
            msg = f"{path}: arm {name} is not __ARM_NR_BASE + {offset} ({number:#x})"
            raise SystemExit(msg)
    out = [by_number[n] for n in sorted(by_number)]
    for alias, name in ARM_ALIASES.items():
        at = next(i for i, row in enumerate(out) if row[1] == name)
        out.insert(at + 1, (out[at][0], alias, ""))
    return out, since


def add_unified(
    arm: list[tuple[int, str, str]], generic: list[tuple[int, str, str]]
) -> tuple[list[tuple[int, str, str]], list[tuple[int, str, str]]]:
    """Add the generic table's rows above arm's highest syscall number (below __ARM_NR_BASE).

    Every syscall since 424 has one number on all arches, so a syscall newer than the
    libseccomp csv is on arm under the generic number; the rows are returned without entry
    points, like the rest of the arm table.
    """
    highest = max(n for n, _, _ in arm if n < ARM_NR_BASE)
    names = {name for _, name, _ in arm}
    added = [(n, name, "") for n, name, _ in generic if n > highest]
    clash = [name for _, name, _ in added if name in names]
    if highest < 424 or clash:
        msg = f"arm: cannot extend past {highest} with the generic table (already named: {clash})"
        raise SystemExit(msg)
    return sorted(arm + added, key=lambda row: row[0]), added


def arm64_abis(source: Path) -> tuple[str, ...]:
    text = (source / "arm64-Makefile.syscalls").read_text(encoding="utf-8")
    extra: list[str] = []
    for line in text.splitlines():
        if line.startswith("syscall_abis_64"):
            extra += line.split("+=", 1)[1].split()
    return GENERIC_ABIS_64 + tuple(extra)


def reference_since(source: Path, arch: str, rows: list[tuple[int, str, str]]) -> dict[int, str]:
    """Return number -> since from the reference folder's derived table, after checking it agrees."""
    path = source / f"{arch}.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    derived = [line.split("\t") for line in lines if line]
    ours = [(n, name) for n, name, _ in rows]
    theirs = [(int(f[0]), f[1]) for f in derived]
    if ours != theirs:
        diff = sorted(set(ours) ^ set(theirs))[:5]
        msg = f"{path} disagrees with the kernel table on {arch}: {diff}"
        raise SystemExit(msg)
    return {int(f[0]): (f[3] if len(f) > 3 else "") for f in derived}


def render(arch: str, version: str, origin: str, rows: list[tuple[int, str, str]], since: dict[int, str]) -> str:
    head = [
        "# DO NOT EDIT. Generated by `python tools/gen_syscalls.py`; `nox -s data` fails on drift.",
        f"# arch: {arch}",
        f"# kernel: {version}",
        f"# source: {origin}",
        f"# rows: {len(rows)}",
        "number\tname\tentry\tsince",
    ]
    body = [f"{n}\t{name}\t{entry}\t{since.get(n, '')}" for n, name, entry in rows]
    return "\n".join(head + body) + "\n"


def generate(source: Path) -> dict[str, str]:
    version = kernel_version(source)
    x86_64 = parse_tbl(source / "syscall_64.tbl", GENERIC_ABIS_64)
    x86 = parse_tbl(source / "syscall_32.tbl", ("i386",))
    aarch64 = parse_tbl(source / "syscall.tbl", arm64_abis(source))
    x32_raw = parse_tbl(source / "syscall_64.tbl", ("common", "x32"))
    x32 = [(n | X32_SYSCALL_BIT, name, entry) for n, name, entry in x32_raw]
    since64 = reference_since(source, "x86_64", x86_64)
    by_name64 = {name: since64.get(n, "") for n, name, _ in x86_64}
    x32_since = {n | X32_SYSCALL_BIT: by_name64.get(name, "") for n, name, _ in x32_raw}
    arm, arm_since = parse_libseccomp_arm(source / LIBSECCOMP_CSV)
    arm_version = libseccomp_version(source / LIBSECCOMP_CSV)
    arm, added = add_unified(arm, parse_tbl(source / "syscall.tbl", ("common",)))
    aarch64_since = reference_since(source, "aarch64", aarch64)
    arm_since |= {n: aarch64_since.get(n, "") for n, _, _ in added}
    return {
        "x86_64": render(
            "x86_64", version, "arch/x86/entry/syscalls/syscall_64.tbl (ABIs common, 64)", x86_64, since64
        ),
        "x86": render(
            "x86",
            version,
            "arch/x86/entry/syscalls/syscall_32.tbl (ABI i386)",
            x86,
            reference_since(source, "x86", x86),
        ),
        "aarch64": render(
            "aarch64",
            version,
            f"scripts/syscall.tbl (ABIs {', '.join(arm64_abis(source))})",
            aarch64,
            reference_since(source, "aarch64", aarch64),
        ),
        "x32": render(
            "x32",
            version,
            "arch/x86/entry/syscalls/syscall_64.tbl (ABIs common, x32; numbers | __X32_SYSCALL_BIT)",
            x32,
            x32_since,
        ),
        "arm": render(
            "arm",
            version,
            f"libseccomp syscalls.csv v{arm_version} (derived from the kernel's arch/arm/tools/syscall.tbl), "
            "column arm (EABI); plus the ARM private calls of arch/arm/include/uapi/asm/unistd.h "
            "(__ARM_NR_BASE + n) and arm_sync_file_range, the kernel's name for 341; plus the syscalls added "
            f"after {arm_version} ({', '.join(name for _, name, _ in added) or 'none'}), from scripts/syscall.tbl "
            "(ABI common): the unified numbering every arch shares since 424; no entry points",
            arm,
            arm_since,
        ),
    }


def main(argv: list[str] | None = None) -> int:
    def tables(source: Path) -> dict[str, str]:
        return {f"{arch}.tsv": text for arch, text in generate(source).items()}

    return kernel_tables_main(argv, doc=__doc__, generate=tables, default_source=default_source, out=OUT,
                              command="python tools/gen_syscalls.py")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())

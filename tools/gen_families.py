"""Generate data/syscalls/families.tsv and data/syscalls/multiplexers.tsv from the kernel's tables.

A *family* is the set of syscall names, over the ABIs a host runs (x86_64: x86_64, x86, x32;
aarch64: aarch64, arm), that reach one kernel operation: the same entry point in another width
or layout. An x86_64 program sets its uid with `setuid` (sys_setuid); an i386 program on the
same host with `setuid32` (sys_setuid) or `setuid` (sys_setuid16); denying `setuid` and not
`setuid32` lets the i386 program do what was denied. Names are grouped by their entry points
in the kernel tables, after the rules below take away what only says which form of the
operation it is (`16`: 16-bit ids, `_time32`: 32-bit time_t, `64`: 64-bit offsets or struct
layout, `old`/`new`: the struct or argument layout, `rt_`: the real-time signal set), plus a
few irregular pairs the kernel implements one through the other (SYNONYMS, each with the
kernel's reason). Calls that do more than another (`openat` and `open`, `accept4` and
`accept`, `clone3` and `clone`) have entry points of their own and stay apart.

The *multiplexers*: on the x86 (i386) ABI, `socketcall(call, args)` runs the socket calls and
`ipc(call, ...)` the System V IPC calls, `call` naming which (the `SYS_*` numbers of
include/uapi/linux/net.h and the ipc numbers of include/uapi/linux/ipc.h).

Inputs (a folder, default ../shared/reference/linux, else tests/fixtures/reference/linux):
  syscall_64.tbl, syscall_32.tbl, syscall.tbl, arm64-Makefile.syscalls   entry points (as gen_syscalls.py)
  libseccomp-pr457-syscalls.csv                                           the arm names (no entry points:
                                                                          an arm name takes the i386 or
                                                                          aarch64 entry point of that name)
and tests/fixtures/reference/linux-uapi/{net.h,ipc.h} (sub-call numbers).

Usage:
  python tools/gen_families.py            write data/syscalls/families.tsv and multiplexers.tsv
  python tools/gen_families.py --check    exit 1 if they differ from what would be written
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))  # these scripts are also loaded by file path in tests

from _drift import kernel_tables_main  # noqa: E402 - after the path setup
from gen_syscalls import (  # noqa: E402
    GENERIC_ABIS_64,
    LIBSECCOMP_CSV,
    X32_SYSCALL_BIT,
    arm64_abis,
    default_source,
    kernel_version,
    parse_libseccomp_arm,
    parse_tbl,
)

OUT = ROOT / "data" / "syscalls"
UAPI = ROOT / "tests" / "fixtures" / "reference" / "linux-uapi"
COMMAND = "python tools/gen_families.py"

# What an entry point's name says about the form of the operation, taken away in this order.
RULES: tuple[tuple[str, str, str], ...] = (
    (r"^(?:sys_ia32_|compat_sys_|sys_)", "", "the entry-point prefix (ia32_: 64-bit arguments in two registers)"),
    (r"_time(?:32|64)$", "", "32-bit and 64-bit time_t (futex_time64, clock_gettime32 ...)"),
    (r"(?<=[a-z])32$", "", "32-bit time_t named without _time (clock_settime32, time32, stime32, utime32)"),
    (r"16$", "", "16-bit uids and gids (setuid16, chown16, getgroups16 ...)"),
    (r"_64$", "", "a 64-bit length beside a 64-bit offset (fadvise64_64)"),
    (r"64$", "", "64-bit offsets, sizes or struct layout (truncate64, stat64, fcntl64, getdents64, fstatat64)"),
    (r"^new", "", "the newer struct layout (newstat, newfstatat, newuname)"),
    (r"^old_?", "", "the older struct layout or argument passing (old_mmap, old_select, oldumount, olduname)"),
    (r"old$", "", "the older form (vm86old)"),
    (r"^rt_", "", "the real-time signal set of the old signal calls (rt_sigaction, sigaction)"),
)

# Irregular pairs: one name's operation implemented by the other's (the kernel's reason).
SYNONYMS: dict[str, tuple[str, str]] = {
    "mmap_pgoff": ("mmap", "mmap2 is mmap with the offset in pages (mm/mmap.c ksys_mmap_pgoff)"),
    "llseek": ("lseek", "_llseek is lseek with a 64-bit offset in two registers, returned through a pointer"),
    "waitpid": ("wait4", "waitpid(pid, status, options) is kernel_wait4(pid, status, options, NULL)"),
    "readdir": ("getdents", "old_readdir reads one directory entry, getdents many"),
    "signal": ("sigaction", "signal(2) installs a handler through do_sigaction, as sigaction(2) does"),
    "sgetmask": ("sigprocmask", "sgetmask/ssetmask read and set the blocked-signal mask, as sigprocmask does"),
    "ssetmask": ("sigprocmask", "sgetmask/ssetmask read and set the blocked-signal mask, as sigprocmask does"),
}
# arm names with no i386 or aarch64 name to take an entry point from (arch/arm/tools/syscall.tbl).
ARM_NAMES: dict[str, tuple[str, str]] = {
    "send": ("sendto", "send(fd, buf, len, flags) is __sys_sendto(fd, buf, len, flags, NULL, 0)"),
    "recv": ("recvfrom", "recv(fd, buf, len, flags) is __sys_recvfrom(fd, buf, len, flags, NULL, NULL)"),
    "arm_fadvise64_64": ("fadvise", "arm's fadvise64_64 with the advice before the 64-bit arguments"),
    "sync_file_range2": ("sync_file_range", "arm's sync_file_range with the flags before the 64-bit arguments"),
    "arm_sync_file_range": ("sync_file_range", "the kernel's name for sync_file_range2 (arm 341)"),
}
# Each host arch and the ABIs it runs (seccompose.arch: Arch.abis); a 32-bit host runs its own ABI only.
HOSTS = {"x86_64": ("x86_64", "x86", "x32"), "aarch64": ("aarch64", "arm"), "x86": ("x86",), "arm": ("arm",)}
MULTIPLEXERS = (
    # abi, multiplexer, its number on the abi (syscall_32.tbl), header, constant pattern
    ("x86", "socketcall", "net.h", r"#define\s+SYS_([A-Z0-9]+)\s+(\d+)"),
    ("x86", "ipc", "ipc.h", r"#define\s+(SEM[A-Z]+|MSG[A-Z]+|SHM[A-Z]+)\s+(\d+)\s*$"),
)


def stem(entry: str) -> str:
    """Return the operation an entry point performs: its name without what says which form it is."""
    name = entry
    for pattern, replacement, _ in RULES:
        name = re.sub(pattern, replacement, name)
    return SYNONYMS[name][0] if name in SYNONYMS else name


def implemented(entry: str) -> bool:
    return entry not in ("", "sys_ni_syscall")


class Groups:
    """Union-find over names and operations."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def tables(source: Path) -> dict[str, list[tuple[int, str, str]]]:
    """Return (number, name, entry) rows per ABI; arm rows take the entry point of their name elsewhere."""
    out = {
        "x86_64": parse_tbl(source / "syscall_64.tbl", GENERIC_ABIS_64),
        "x86": parse_tbl(source / "syscall_32.tbl", ("i386",)),
        "x32": [
            (n | X32_SYSCALL_BIT, name, entry)
            for n, name, entry in parse_tbl(source / "syscall_64.tbl", ("common", "x32"))
        ],
        "aarch64": parse_tbl(source / "syscall.tbl", arm64_abis(source)),
    }
    i386 = {name: entry for _, name, entry in out["x86"]}
    a64 = {name: entry for _, name, entry in out["aarch64"]}
    arm, _ = parse_libseccomp_arm(source / LIBSECCOMP_CSV)
    out["arm"] = [(n, name, i386.get(name) or a64.get(name) or "") for n, name, _ in arm]
    return out


Families = tuple[dict[str, list[list[str]]], dict[str, dict[str, list[tuple[str, str]]]], dict[str, str], Groups]


def families(source: Path) -> Families:
    """Return per host its families (sorted names, two or more), each name's (abi, entry) rows, each name's
    operation, and the groups (to find the family of a name on a host that lacks it)."""
    rows = tables(source)
    groups = Groups()
    operation: dict[str, str] = {}
    x86_64_names = {name for _, name, _ in rows["x86_64"]}
    if not {name for _, name, _ in rows["x32"]} <= x86_64_names:
        msg = "x32 has a name x86_64 lacks: its entry points (compat_sys_*, x32_*) would have to be grouped too"
        raise SystemExit(msg)
    for abi, table in rows.items():
        if abi == "x32":
            continue  # x32's names are x86_64's; its entry points are the compat forms of the same calls
        for _, name, entry in table:
            if abi == "arm" and name in ARM_NAMES:
                op = ARM_NAMES[name][0]
            elif implemented(entry):
                op = stem(entry)
            else:
                groups.find(name)  # reserved or removed: a family of its own
                continue
            seen = operation.setdefault(f"{abi}:{name}", op)
            assert seen == op
            groups.union(name, "op:" + op)
    by_host: dict[str, list[list[str]]] = {}
    where: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for host, abis in HOSTS.items():
        names = {name for abi in abis for _, name, _ in rows[abi]}
        members: dict[str, set[str]] = defaultdict(set)
        for name in names:
            members[groups.find(name)].add(name)
        by_host[host] = sorted((sorted(m) for m in members.values() if len(m) > 1), key=lambda m: m[0])
        where[host] = defaultdict(list)
        for abi in abis:
            for _, name, entry in rows[abi]:
                where[host][name].append((abi, entry or "-"))
    ops = {name: groups.find(name) for table in rows.values() for _, name, _ in table}
    # A family holds one operation: two would mean a name whose entry points differ in what they do.
    roots: dict[str, set[str]] = defaultdict(set)
    for key, op in operation.items():
        roots[groups.find(key.split(":", 1)[1])].add(op)
    for root, found in roots.items():
        if len(found) > 1:
            msg = f"the family of {root!r} holds several operations {sorted(found)}: check the rules"
            raise SystemExit(msg)
    return by_host, where, {name: next(iter(roots[root])) for name, root in ops.items() if root in roots}, groups


def subcalls(multiplexer: str, header: str, pattern: str) -> list[tuple[int, str, str]]:
    """Return (number, name, constant) of a multiplexer's sub-calls, from the uapi header."""
    text = (UAPI / header).read_text(encoding="utf-8")
    out = []
    for line in text.splitlines():
        found = re.match(pattern, line.strip())
        if found:
            constant = found.group(1)
            prefix = "SYS_" if multiplexer == "socketcall" else ""
            out.append((int(found.group(2)), constant.lower(), prefix + constant))
    if not out:
        msg = f"{UAPI / header}: no sub-call numbers found"
        raise SystemExit(msg)
    return sorted(out)


def render(source: Path) -> dict[str, str]:
    version = kernel_version(source)
    by_host, where, ops, groups = families(source)
    head = [
        f"# DO NOT EDIT. Generated by `{COMMAND}`; `nox -s data` fails on drift.",
        f"# kernel: {version}",
        "# source: the entry points of arch/x86/entry/syscalls/syscall_64.tbl (x86_64, x32), syscall_32.tbl (x86),",
        "#   scripts/syscall.tbl (aarch64); arm names (libseccomp syscalls.csv) through the i386 or aarch64 entry",
        "#   point of the same name; grouped by the operation an entry point performs (tools/gen_families.py)",
        "# A family: the names of one kernel operation over the ABIs of a host; a deny of one denies all.",
        "# where: each name's entry point on each ABI of the host that has it ('-': reserved, none)",
        "host\toperation\tnames\twhere",
    ]
    lines = []
    for host, fams in by_host.items():
        for names in fams:
            op = ops[names[0]]
            detail = "; ".join(
                f"{n}: " + ", ".join(f"{abi} {entry}" for abi, entry in where[host][n]) for n in names
            )
            lines.append(f"{host}\t{op}\t{' '.join(names)}\t{detail}")
    fam_text = "\n".join(head + lines) + "\n"

    x86 = {name: number for number, name, _ in parse_tbl(source / "syscall_32.tbl", ("i386",))}
    mux_head = [
        f"# DO NOT EDIT. Generated by `{COMMAND}`; `nox -s data` fails on drift.",
        f"# kernel: {version}",
        "# source: include/uapi/linux/net.h (SYS_*: socketcall's call) and include/uapi/linux/ipc.h (ipc's",
        "#   call, low 16 bits), copies in tests/fixtures/reference/linux-uapi; the multiplexers' numbers from",
        "#   syscall_32.tbl",
        "# A sub-call runs the syscall `name` through the multiplexer on that ABI; `family`: the names of the",
        "#   same operation on the host that runs the ABI (a deny of one refuses the sub-call; '-': only the",
        "#   multiplexer has it)",
        "abi\tmultiplexer\tnumber\tcall\tconstant\tname\thost\tfamily",
    ]
    rows = tables(source)
    mux = []
    for abi, multiplexer, header, pattern in MULTIPLEXERS:
        calls = subcalls(multiplexer, header, pattern)
        for host in (h for h, abis in HOSTS.items() if abi in abis):
            host_names = {n for a in HOSTS[host] for _, n, _ in rows[a]}
            for call, name, constant in calls:
                # '-': no ABI of the host has the call but through the multiplexer (accept on an i386 host)
                family = sorted(n for n in host_names if groups.find(n) == groups.find(name))
                fields = (abi, multiplexer, x86[multiplexer], call, constant, name, host, " ".join(family) or "-")
                mux.append("\t".join(map(str, fields)))
    return {"families.tsv": fam_text, "multiplexers.tsv": "\n".join(mux_head + mux) + "\n"}


def main(argv: list[str] | None = None) -> int:
    return kernel_tables_main(argv, doc=__doc__, generate=render, default_source=default_source, out=OUT,
                              command=COMMAND)  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())

"""Per-architecture syscall tables, generated from the kernel's own ``*.tbl`` files (arm: libseccomp's).

Tables live in ``data/syscalls/<arch>.tsv`` (see ``tools/gen_syscalls.py``). Each maps
names to numbers for one ABI: ``x86_64``, ``x86`` (i386), ``x32``, ``aarch64`` and ``arm``
(32-bit EABI, which an aarch64 host also runs).

>>> t = table(Arch.X86_64)
>>> t.number("openat"), t.name(257), "openat" in t, len(t)
(257, 'openat', True, 385)
>>> table(Arch.AARCH64).number("openat")
56
>>> sorted(abis_with("_llseek"), key=lambda a: a.value)
[<Arch.ARM: 'arm'>, <Arch.X86: 'x86'>]
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from seccompose.arch import Arch
from seccompose.errors import InvalidArchError, UnknownSyscallError

__all__ = [
    "TABLED_ARCHES",
    "SyscallTable",
    "abis_with",
    "all_names",
    "host_names",
    "table",
]

_DATA: Final = Path(__file__).parent / "data" / "syscalls"
TABLED_ARCHES: Final = (Arch.X86_64, Arch.AARCH64, Arch.X86, Arch.X32, Arch.ARM)
"""The ABIs seccompose has syscall tables for."""


class SyscallTable:
    """One ABI's syscall table: names and numbers, the kernel entry point and the ``since`` version."""

    __slots__ = ("_by_name", "_by_number", "_entry", "_has_entries", "_since", "arch", "kernel")

    def __init__(self, arch: Arch, kernel: str, rows: list[tuple[int, str, str, str]]) -> None:
        self.arch = arch
        self.kernel = kernel
        self._by_name = {name: number for number, name, _, _ in rows}
        # a number with two names (arm 341: sync_file_range2, arm_sync_file_range) keeps the first
        self._by_number: dict[int, str] = {}
        for number, name, _, _ in rows:
            self._by_number.setdefault(number, name)
        self._entry = {name: entry for _, name, entry, _ in rows}
        self._since = {name: since for _, name, _, since in rows}
        self._has_entries = any(entry for _, _, entry, _ in rows)

    def number(self, name: str) -> int:
        """Return the syscall number of ``name`` on this ABI.

        Raises:
            UnknownSyscallError: the ABI has no syscall of that name.
        """
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownSyscallError(name, arch=self.arch.value, choices=self._by_name) from None

    def name(self, number: int) -> str:
        """Return the name of syscall ``number`` on this ABI.

        Raises:
            UnknownSyscallError: the ABI has no syscall with that number.
        """
        try:
            return self._by_number[number]
        except KeyError:
            raise UnknownSyscallError(str(number), arch=self.arch.value) from None

    def entry(self, name: str) -> str:
        """Return the kernel entry point (``""`` for reserved, never-implemented numbers)."""
        self.number(name)
        return self._entry[name]

    def implemented(self, name: str) -> bool | None:
        """Whether the kernel implements the syscall (it has an entry point other than ``sys_ni_syscall``).

        None when the table gives no entry points at all (``arm``, which comes from libseccomp's
        list of numbers rather than from the kernel's table).
        """
        if not self._has_entries:
            self.number(name)
            return None
        return self.entry(name) not in ("", "sys_ni_syscall")

    def since(self, name: str) -> str:
        """Return the first kernel release with this syscall here (``"<=3.0"``), or ``""`` if unknown."""
        self.number(name)
        return self._since[name]

    def names(self) -> tuple[str, ...]:
        """Return every name, ordered by number (a second name of a number right after the first)."""
        return tuple(self._by_name)

    def numbers(self) -> tuple[int, ...]:
        """Return every number, in order."""
        return tuple(self._by_number)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def __repr__(self) -> str:
        return f"<SyscallTable {self.arch.value} ({len(self)} syscalls, Linux {self.kernel})>"


@functools.cache
def table(arch: Arch) -> SyscallTable:
    """Return the syscall table of one ABI.

    Raises:
        InvalidArchError: seccompose has no table for that arch.
    """
    if arch not in TABLED_ARCHES:
        raise InvalidArchError(arch.value, choices=[a.value for a in TABLED_ARCHES])
    rows: list[tuple[int, str, str, str]] = []
    kernel = ""
    for line in (_DATA / f"{arch.value}.tsv").read_text(encoding="utf-8").splitlines():
        if line.startswith("# kernel:"):
            kernel = line.split(":", 1)[1].strip()
        elif line and not line.startswith(("#", "number\t")):
            number, name, entry, since = line.split("\t")
            rows.append((int(number), name, entry, since))
    return SyscallTable(arch, kernel, rows)


@functools.cache
def host_names(arch: Arch) -> tuple[str, ...]:
    """Return, sorted, every name a host of ``arch`` can be asked for, over all its ABIs.

    An x86_64 host also runs x86 and x32 programs, so ``_llseek`` (i386 only)
    is a name a profile for x86_64 may allow; an aarch64 host also runs 32-bit arm
    programs, so ``_llseek`` and ``set_tls`` (arm only) are names for it too.

    >>> "_llseek" in host_names(Arch.X86_64), "_llseek" in host_names(Arch.AARCH64)
    (True, True)
    >>> "set_tls" in host_names(Arch.X86_64), "set_tls" in host_names(Arch.AARCH64)
    (False, True)
    """
    names: set[str] = set()
    for abi in arch.abis:
        if abi in TABLED_ARCHES:
            names.update(table(abi))
    if not names:
        raise InvalidArchError(arch.value, choices=[a.value for a in TABLED_ARCHES])
    return tuple(sorted(names))


@functools.cache
def all_names() -> frozenset[str]:
    """Return every syscall name of every table."""
    return frozenset(name for arch in TABLED_ARCHES for name in table(arch))


def abis_with(name: str) -> frozenset[Arch]:
    """Return the ABIs whose table has ``name`` (empty when no table has it)."""
    return frozenset(arch for arch in TABLED_ARCHES if name in table(arch))

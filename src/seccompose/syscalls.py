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

A *family* is the set of names, over the ABIs a host runs, that reach one kernel operation
(``data/syscalls/families.tsv``, generated from the tables' entry points by
``tools/gen_families.py``): an x86_64 host runs i386 programs, which set their uid with
``setuid32`` as well as ``setuid``. A deny of one name of a family denies all of them.

>>> family("setuid", Arch.X86_64), family("newfstatat", Arch.AARCH64)
(('setuid', 'setuid32'), ('fstatat64', 'newfstatat'))
>>> family("openat", Arch.X86_64)    # openat does more than open: a family of its own
('openat',)

On x86 (i386), ``socketcall`` and ``ipc`` run the socket and System V IPC calls, the first
argument naming which (``data/syscalls/multiplexers.tsv``, numbers from the kernel's uapi
``linux/net.h`` and ``linux/ipc.h``):

>>> [(s.multiplexer, s.call, s.constant, s.family) for s in subcalls(Arch.X86_64) if s.name in ("socket", "send")]
[('socketcall', 1, 'SYS_SOCKET', ('socket',)), ('socketcall', 9, 'SYS_SEND', ('sendto',))]
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from seccompose import _caches
from seccompose.arch import Arch
from seccompose.errors import InvalidArchError, UnknownSyscallError

__all__ = [
    "MULTIPLEXERS",
    "TABLED_ARCHES",
    "SubCall",
    "SyscallTable",
    "abis_with",
    "all_names",
    "families",
    "family",
    "host_names",
    "subcalls",
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


@_caches.cache
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


@_caches.cache
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


@_caches.cache
def all_names() -> frozenset[str]:
    """Return every syscall name of every table."""
    return frozenset(name for arch in TABLED_ARCHES for name in table(arch))


def abis_with(name: str) -> frozenset[Arch]:
    """Return the ABIs whose table has ``name`` (empty when no table has it)."""
    return frozenset(arch for arch in TABLED_ARCHES if name in table(arch))


MULTIPLEXERS: Final = ("socketcall", "ipc")
"""The i386 syscalls that run other syscalls, the first argument naming which."""


@dataclass(frozen=True, slots=True)
class SubCall:
    """One call a multiplexer runs: ``socketcall(SYS_SOCKET, args)`` is ``socket``."""

    abi: Arch
    """The ABI that has the multiplexer (x86)."""
    multiplexer: str
    """``socketcall`` or ``ipc``."""
    number: int
    """The multiplexer's syscall number on ``abi``."""
    call: int
    """The first argument that selects the call (for ``ipc``, its low 16 bits; a version may sit above)."""
    constant: str
    """Its name in the kernel's uapi headers: ``SYS_SOCKET`` (linux/net.h), ``SEMGET`` (linux/ipc.h)."""
    name: str
    """The syscall it runs."""
    family: tuple[str, ...]
    """The names of the same operation on the host (empty: the host has it through the multiplexer only)."""


def _rows(name: str) -> Iterator[list[str]]:
    for line in (_DATA / name).read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#") and not line.startswith(("host\t", "abi\t")):
            yield line.split("\t")


@_caches.cache
def families(host: Arch) -> Mapping[str, tuple[str, ...]]:
    """Return, for each name of a family on an ``host`` host, the family's names (sorted).

    Names of no family (most) are not keys: :func:`family` gives them alone.

    Raises:
        InvalidArchError: seccompose has no table for that host.
    """
    host_names(host)  # raises for an arch without tables
    out: dict[str, tuple[str, ...]] = {}
    for fields in _rows("families.tsv"):
        if fields[0] == host.value:
            names = tuple(fields[2].split())
            for name in names:
                out[name] = names
    return out


def family(name: str, host: Arch) -> tuple[str, ...]:
    """Return the names, on an ``host`` host, of the operation ``name`` performs (sorted; ``(name,)`` alone).

    A name no ABI of the host has (``send`` on x86_64, which i386 programs reach through
    ``socketcall``) is its own family here.

    Raises:
        InvalidArchError: seccompose has no table for that host.
    """
    return families(host).get(name, (name,))


@_caches.cache
def subcalls(host: Arch) -> tuple[SubCall, ...]:
    """Return the calls the multiplexers of an ``host`` host's ABIs run (none on hosts without x86).

    Raises:
        InvalidArchError: seccompose has no table for that host.
    """
    host_names(host)
    out = []
    for abi, multiplexer, number, call, constant, name, on, fam in _rows("multiplexers.tsv"):
        if on == host.value:
            family_names = () if fam == "-" else tuple(fam.split())
            out.append(SubCall(Arch(abi), multiplexer, int(number), int(call), constant, name, family_names))
    return tuple(out)

"""The immutable, per-architecture set of syscall names, and its algebra.

A ``SyscallSet`` belongs to one host architecture. Its universe is every name the
host can be asked for over all the ABIs it runs (``syscalls.host_names``): an
x86_64 host also runs x86 and x32 programs. Internally it is one integer used as
a bitset, so union, intersection and difference cost one machine operation per
64 names.

>>> a = SyscallSet(Arch.X86_64, ["read", "write", "openat"])
>>> b = SyscallSet(Arch.X86_64, ["write", "close"])
>>> sorted(a | b)
['close', 'openat', 'read', 'write']
>>> sorted(a & b), sorted(a - b)
(['write'], ['openat', 'read'])
>>> (a & b) <= a
True
>>> a | SyscallSet(Arch.AARCH64, ["read"])
Traceback (most recent call last):
...
seccompose.errors.ArchMismatchError: cannot combine a SyscallSet for x86_64 with one for aarch64;
build both for the same arch
"""

from __future__ import annotations

import functools
import itertools
import operator
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import getitem
from typing import Final, TypeVar

from seccompose import _caches
from seccompose.arch import Arch
from seccompose.errors import ArchMismatchError, UnknownSyscallError
from seccompose.syscalls import all_names, families, host_names, subcalls

__all__ = ["SyscallSet", "Universe", "universe"]

_T = TypeVar("_T", str, tuple[str, ...])

_FEW: Final = 12
"""Up to this many set bits, walking the bits beats the per-byte tables."""
_TEXTS: Final = 64
"""Texts a universe keeps for ``write(near=...)``, about 25 kB each with their offsets; then it starts again."""
_WARM: Final = 32
"""Calls before a universe builds its per-byte tables (a few milliseconds): a one-shot CLI never does."""


def _per_byte(units: Sequence[_T], empty: _T) -> list[tuple[_T, ...]]:
    """Return, for each byte of a bitset, the concatenated units of each of its 256 values."""
    tables = []
    for start in range(0, len(units), 8):
        chunk = units[start : start + 8]
        table = [empty]
        for value in range(1, 256):
            high = value.bit_length() - 1
            table.append(table[value ^ (1 << high)] + (chunk[high] if high < len(chunk) else empty))
        tables.append(tuple(table))
    return tables


class Universe:
    """The names a host arch can be asked for, each with a fixed bit position (sorted order)."""

    __slots__ = (
        "_calls", "_fragments", "_names", "_rendered", "_texts", "arch", "bit", "bit_of", "families", "family_bits",
        "family_of", "full", "index", "multiplexed", "multiplexers", "names", "nbytes",
    )  # fmt: skip

    def __init__(self, arch: Arch) -> None:
        self.arch: Final = arch
        self.names: Final = host_names(arch)
        self.index: Final = {name: bit for bit, name in enumerate(self.names)}
        self.bit: Final = {name: 1 << bit for bit, name in enumerate(self.names)}
        self.bit_of: Final = self.bit.__getitem__
        """``bit[name]``, bound once: the hot path maps it over name lists."""
        self.full: Final = (1 << len(self.names)) - 1
        self.nbytes: Final = (len(self.names) + 7) // 8
        bit = self.bit
        self.family_bits: Final = {
            name: functools.reduce(operator.or_, (bit[n] for n in family if n in bit), bit[name])
            for name, family in families(arch).items()
            if name in bit
        }
        """``name`` -> the bits of its family (``syscalls.family``), for the names of a family of two or more."""
        self.family_bits.update((name, b) for name, b in self.bit.items() if name not in self.family_bits)
        self.family_of: Final = self.family_bits.__getitem__
        """``family_bits[name]``, bound once: the hot path maps it over deny lists."""
        self.families: Final = tuple(
            functools.reduce(operator.or_, (bit[n] for n in fam if n in bit), 0)
            for fam in dict.fromkeys(families(arch).values())
        )
        """The bits of each family of two or more names."""
        self.multiplexers: Final = _multiplexers(self)
        """Per multiplexer of the host's ABIs: its name, bit (0: not in this universe) and the bits of the family
        each of its calls runs."""
        self.multiplexed: Final = functools.reduce(
            operator.or_, (b | fam for _, b, calls in self.multiplexers for _, fam in calls), 0
        )
        """The bits of the multiplexers and of every name their calls run."""
        self._names: list[tuple[tuple[str, ...], ...]] = []
        self._fragments: dict[str, list[tuple[str, ...]]] = {}
        self._rendered: dict[str, tuple[str, ...]] = {}
        self._texts: dict[tuple[str, int], tuple[str, tuple[int, ...]]] = {}
        self._calls = 0

    def expand(self, bits: int) -> int:
        """Return ``bits`` with the rest of each name's family (``syscalls.family``).

        >>> u = universe(Arch.X86_64)
        >>> u.names_of(u.expand(u.mask(["setuid", "read"])))
        ('read', 'setuid', 'setuid32')
        """
        for fam in self.families:
            if bits & fam:
                bits |= fam
        return bits

    def mask(self, names: Iterable[str], *, location: str | None = None) -> int:
        """Return the bitmask of ``names``.

        Raises:
            UnknownSyscallError: a name is not in this universe.
        """
        index = self.index
        bits = 0
        for i, name in enumerate(names):
            bit = index.get(name)
            if bit is None:
                where = f"{location}[{i}]" if location else None
                raise UnknownSyscallError(name, arch=self.arch.value, location=where, choices=self.names)
            bits |= 1 << bit
        return bits

    def names_of(self, bits: int) -> tuple[str, ...]:
        """Return the names whose bits are set, in sorted order.

        >>> universe(Arch.AARCH64).names_of(0b1011)
        ('_llseek', '_newselect', 'accept')
        """
        if bits.bit_count() <= _FEW or (not self._names and self._warming()):
            names = self.names
            out = []
            while bits:
                low = bits & -bits
                out.append(names[low.bit_length() - 1])
                bits ^= low
            return tuple(out)
        if not self._names:
            self._names[:] = _per_byte([(name,) for name in self.names], ())
        # One table lookup per byte; list.extend copies each byte's names in C.
        out = []
        deque(map(out.extend, map(getitem, self._names, bits.to_bytes(self.nbytes, "little"))), maxlen=0)
        return tuple(out)

    def _warming(self) -> bool:
        """Count a call; whether the universe is still too little used to build per-byte tables."""
        self._calls += 1
        return self._calls <= _WARM

    def join(self, bits: int, style: str, render: Callable[[str], str]) -> str:
        """Return ``"".join(render(name) for name in names_of(bits))``, from per-byte tables kept per ``style``.

        Emitters use it to write a large name list as text without a step per name.

        >>> universe(Arch.AARCH64).join(0b101, "csv", lambda name: name + ",")
        '_llseek,_sysctl,'
        """
        out: list[str] = []
        self.write(out, bits, style, render)
        return "".join(out)

    def write(
        self, out: list[str], bits: int, style: str, render: Callable[[str], str], *, near: int = 0, skip: int = 0
    ) -> None:
        """Append ``join(bits, style, render)[skip:]`` to ``out``, in pieces for the caller to join once.

        ``near``: the bits of a set these differ from in a few names (a container's
        allow list is its base's plus or minus its own allow and deny names). That set's
        text is kept (a bounded number of them), and copied in slices around the names
        that differ. ``skip`` drops characters from the front, such as a separator the
        first name does not take; every rendered name must be longer than ``skip``.

        >>> u, out = universe(Arch.AARCH64), []
        >>> u.write(out, 0b1101, "comma-first", lambda name: "," + name, near=0b1011, skip=1)
        >>> "".join(out)
        '_llseek,_sysctl,accept'
        """
        tables = self._fragments.get(style)
        if tables is None:
            if self._warming():
                out.append("".join(map(render, self.names_of(bits)))[skip:])
                return
            rendered = self._rendered[style] = tuple(render(name) for name in self.names)
            tables = self._fragments[style] = _per_byte(rendered, "")
        diff = bits ^ near
        if near and diff.bit_count() <= _FEW:
            self._patch(out, bits, near, diff, style, skip)
            return
        pieces = list(map(getitem, tables, bits.to_bytes(self.nbytes, "little")))
        if skip and bits:
            first = ((bits & -bits).bit_length() - 1) >> 3
            pieces[first] = pieces[first][skip:]
        out += pieces

    def _patch(self, out: list[str], bits: int, near: int, diff: int, style: str, skip: int) -> None:
        """``write`` for bits a few names away from ``near``: slices of ``near``'s text, and those names."""
        ref = self._texts.get((style, near))
        if ref is None:
            ref = self._reference(style, near)
        text, at = ref
        rendered = self._rendered[style]
        first = len(out)
        pos = 0  # how far the text is copied (or cut)
        while diff:
            low = diff & -diff
            i = low.bit_length() - 1
            start = at[i]
            if bits & low:  # a name the text lacks: inserted
                if start > pos:
                    out.append(text[pos:start])
                out.append(rendered[i])
                pos = start
            else:  # a name the text has: cut out
                if start > pos:
                    out.append(text[pos:start])
                pos = at[i + 1]
            diff ^= low
        out.append(text[pos:])
        if skip:
            out[first] = out[first][skip:]

    def _reference(self, style: str, near: int) -> tuple[str, tuple[int, ...]]:
        """Return the text of ``near`` and where each name's text starts in it (or would), and keep them."""
        rendered = self._rendered[style]
        text = "".join(map(getitem, self._fragments[style], near.to_bytes(self.nbytes, "little")))
        lengths = [len(piece) if near >> i & 1 else 0 for i, piece in enumerate(rendered)]
        ref = (text, tuple(itertools.accumulate(lengths, initial=0)))
        if len(self._texts) >= _TEXTS:
            self._texts.clear()
        self._texts[style, near] = ref
        return ref


def _multiplexers(u: Universe) -> tuple[tuple[str, int, tuple[tuple[int, int], ...]], ...]:
    calls: dict[str, list[tuple[int, int]]] = {}
    for sub in subcalls(u.arch):
        family = functools.reduce(operator.or_, (u.bit[n] for n in sub.family if n in u.bit), 0)
        calls.setdefault(sub.multiplexer, []).append((sub.call, family))
    return tuple((name, u.bit.get(name, 0), tuple(found)) for name, found in calls.items())


@_caches.cache
def universe(arch: Arch) -> Universe:
    """Return the (cached) universe of a host arch.

    Raises:
        InvalidArchError: seccompose has no syscall table for that arch.
    """
    return Universe(arch)


class SyscallSet:
    """An immutable set of syscall names for one host architecture.

    Build it from names (each must exist on one of the host's ABIs), combine it
    with ``| & - ^``, compare it with ``<=`` and ``==``. Mixing arches raises
    ``ArchMismatchError``; combining with a non-SyscallSet returns NotImplemented.
    """

    __slots__ = ("_bits", "_u")
    _bits: int
    _u: Universe

    def __init__(self, arch: Arch, names: Iterable[str] = (), *, location: str | None = None) -> None:
        u = universe(arch)
        object.__setattr__(self, "_u", u)
        object.__setattr__(self, "_bits", u.mask(names, location=location))

    @classmethod
    def _from_bits(cls, u: Universe, bits: int) -> SyscallSet:
        new = object.__new__(cls)
        object.__setattr__(new, "_u", u)
        object.__setattr__(new, "_bits", bits)
        return new

    @classmethod
    def all(cls, arch: Arch) -> SyscallSet:
        """Return the whole universe of ``arch``.

        An aarch64 host's universe is its own table and the 32-bit arm one:

        >>> from seccompose.syscalls import table
        >>> len(SyscallSet.all(Arch.AARCH64)) == len(set(table(Arch.AARCH64)) | set(table(Arch.ARM)))
        True
        """
        u = universe(arch)
        return cls._from_bits(u, u.full)

    @classmethod
    def lenient(cls, arch: Arch, names: Iterable[str]) -> tuple[SyscallSet, tuple[str, ...]]:
        """Return the set of the names ``arch`` has, and the names it skipped.

        Names no table knows at all still raise, so typos never pass silently.

        Raises:
            UnknownSyscallError: a name exists on no architecture's table.

        >>> s, skipped = SyscallSet.lenient(Arch.AARCH64, ["openat", "arch_prctl"])
        >>> sorted(s), skipped
        (['openat'], ('arch_prctl',))
        """
        u = universe(arch)
        known = all_names()
        bits = 0
        skipped = []
        for name in names:
            bit = u.index.get(name)
            if bit is not None:
                bits |= 1 << bit
            elif name in known:
                skipped.append(name)
            else:
                raise UnknownSyscallError(name, arch=arch.value, choices=u.names)
        return cls._from_bits(u, bits), tuple(skipped)

    @property
    def arch(self) -> Arch:
        """The host architecture this set belongs to."""
        return self._u.arch

    @property
    def bits(self) -> int:
        """The bitset: bit *i* is ``syscalls.host_names(arch)[i]``."""
        return self._bits

    def _peer(self, other: SyscallSet) -> Universe:
        if other._u is not self._u:
            raise ArchMismatchError(self._u.arch.value, other._u.arch.value)
        return self._u

    def union(self, *others: SyscallSet) -> SyscallSet:
        """Return the names in this set or any of ``others``."""
        bits = self._bits
        for other in others:
            self._peer(other)
            bits |= other._bits
        return SyscallSet._from_bits(self._u, bits)

    def intersection(self, *others: SyscallSet) -> SyscallSet:
        """Return the names in this set and in every one of ``others``."""
        bits = self._bits
        for other in others:
            self._peer(other)
            bits &= other._bits
        return SyscallSet._from_bits(self._u, bits)

    def difference(self, *others: SyscallSet) -> SyscallSet:
        """Return the names in this set and in none of ``others``."""
        bits = self._bits
        for other in others:
            self._peer(other)
            bits &= ~other._bits
        return SyscallSet._from_bits(self._u, bits)

    def symmetric_difference(self, other: SyscallSet) -> SyscallSet:
        """Return the names in exactly one of the two sets."""
        return SyscallSet._from_bits(self._peer(other), self._bits ^ other._bits)

    def complement(self) -> SyscallSet:
        """Return every name of the arch's universe that is not in this set."""
        return SyscallSet._from_bits(self._u, self._u.full & ~self._bits)

    def is_subset(self, other: SyscallSet) -> bool:
        """Whether every name here is also in ``other``."""
        self._peer(other)
        return self._bits & ~other._bits == 0

    def is_superset(self, other: SyscallSet) -> bool:
        """Whether every name of ``other`` is also here."""
        return other.is_subset(self)

    def is_disjoint(self, other: SyscallSet) -> bool:
        """Whether the two sets share no name."""
        self._peer(other)
        return self._bits & other._bits == 0

    def is_empty(self) -> bool:
        """Whether the set has no name."""
        return self._bits == 0

    def names(self) -> tuple[str, ...]:
        """Return the names, sorted."""
        return self._u.names_of(self._bits)

    def __or__(self, other: object) -> SyscallSet:
        return self.union(other) if isinstance(other, SyscallSet) else NotImplemented

    def __and__(self, other: object) -> SyscallSet:
        return self.intersection(other) if isinstance(other, SyscallSet) else NotImplemented

    def __sub__(self, other: object) -> SyscallSet:
        return self.difference(other) if isinstance(other, SyscallSet) else NotImplemented

    def __xor__(self, other: object) -> SyscallSet:
        return self.symmetric_difference(other) if isinstance(other, SyscallSet) else NotImplemented

    def __invert__(self) -> SyscallSet:
        return self.complement()

    def __le__(self, other: object) -> bool:
        return self.is_subset(other) if isinstance(other, SyscallSet) else NotImplemented

    def __ge__(self, other: object) -> bool:
        return self.is_superset(other) if isinstance(other, SyscallSet) else NotImplemented

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, SyscallSet):
            return NotImplemented
        return self.is_subset(other) and self._bits != other._bits

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, SyscallSet):
            return NotImplemented
        return other.is_subset(self) and self._bits != other._bits

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SyscallSet):
            return NotImplemented
        return self._u is other._u and self._bits == other._bits

    def __hash__(self) -> int:
        return hash((self._u.arch, self._bits))

    def __contains__(self, name: object) -> bool:
        bit = self._u.index.get(name) if isinstance(name, str) else None
        return bit is not None and bool(self._bits >> bit & 1)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return self._bits.bit_count()

    def __bool__(self) -> bool:
        return self._bits != 0

    def __setattr__(self, key: str, value: object) -> None:
        msg = "SyscallSet is immutable"
        raise AttributeError(msg)

    def __repr__(self) -> str:
        names = self.names()
        shown = ", ".join(names[:6]) + (", …" if len(names) > 6 else "")
        return f"SyscallSet({self._u.arch.value}, {len(names)}: {shown})"

"""Port a syscall list recorded on x86_64 to aarch64.

aarch64 has no legacy syscalls: a program that calls ``open`` or ``stat`` on
x86_64 calls ``openat`` or ``newfstatat`` there (its libc does it for it). The
correspondence is data (``data/porting/legacy.tsv``): every x86_64 syscall that
aarch64 lacks is either mapped to the calls that replace it, or dropped with a
note because it is an x86 feature (``arch_prctl``, ``modify_ldt``, ``iopl``,
``ioperm``, ...) or something Linux removed or never implemented.

>>> p = port_names(["open", "read", "arch_prctl", "stat"])
>>> p.names
('newfstatat', 'openat', 'read')
>>> [(d.name, d.kind) for d in p.dropped]
[('arch_prctl', 'arch-only')]
>>> dict(p.mapped)["stat"]
('newfstatat',)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from seccompose import _caches
from seccompose.arch import Arch
from seccompose.errors import InvalidArchError, UnknownSyscallError
from seccompose.syscalls import table

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = ["LegacyEntry", "Ported", "legacy_map", "port_names"]

_DATA: Final = Path(__file__).parent / "data" / "porting" / "legacy.tsv"

Kind = Literal["map", "arch-only", "obsolete"]


@dataclass(frozen=True, slots=True)
class LegacyEntry:
    """One x86_64 syscall aarch64 lacks: what replaces it (empty when it drops) and why."""

    name: str
    kind: Kind
    replacements: tuple[str, ...]
    note: str


@dataclass(frozen=True, slots=True)
class Ported:
    """The result of porting: the target's names, and what was mapped or dropped on the way."""

    names: tuple[str, ...]
    """Sorted, de-duplicated names for the target arch."""
    mapped: tuple[tuple[str, tuple[str, ...]], ...]
    """(source name, its replacements), for each name that was mapped."""
    dropped: tuple[LegacyEntry, ...]
    """Names with no counterpart on the target, each with its note."""

    def notes(self) -> list[str]:
        """Return one line per mapped or dropped name, for a template's provenance.

        >>> port_names(["dup2", "iopl"]).notes()
        ['dup2 -> dup3', 'iopl dropped (arch-only): x86 I/O privilege level']
        """
        lines = [f"{src} -> {' '.join(dst)}" for src, dst in self.mapped]
        lines += [f"{d.name} dropped ({d.kind}): {d.note}" for d in self.dropped]
        return lines


@_caches.cache
def legacy_map() -> Mapping[str, LegacyEntry]:
    """Return the x86_64 -> aarch64 table of ``data/porting/legacy.tsv``, by x86_64 name.

    >>> legacy_map()["epoll_wait"].replacements
    ('epoll_pwait',)
    """
    entries: dict[str, LegacyEntry] = {}
    for line in _DATA.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith(("#", "x86_64\t")):
            continue
        name, kind, targets, note = line.split("\t")
        if kind not in ("map", "arch-only", "obsolete"):
            msg = f"{_DATA}: kind {kind!r} of {name!r} is not map, arch-only or obsolete"
            raise ValueError(msg)
        replacements = tuple(targets.split()) if targets != "-" else ()
        entries[name] = LegacyEntry(name, kind, replacements, note)  # type: ignore[arg-type]
    return entries


def port_names(
    names: Iterable[str],
    *,
    source: Arch = Arch.X86_64,
    target: Arch = Arch.AARCH64,
    location: str = "names",
) -> Ported:
    """Return the names a program that called ``names`` on ``source`` calls on ``target``.

    Names the target has are kept; the others are looked up in the legacy table.

    Raises:
        UnknownSyscallError: a name is not a syscall of ``source`` (``location`` says which).
        InvalidArchError: the pair of arches is not one seccompose can port between.

    >>> port_names(["pipe", "pipe2", "fork"]).names
    ('clone', 'pipe2')
    >>> port_names(["opne"])
    Traceback (most recent call last):
    ...
    seccompose.errors.UnknownSyscallError: unknown syscall 'opne' for x86_64 at names[0]; did you mean 'open'?
    """
    src, dst = table(source), table(target)
    if source is not target and (source, target) != (Arch.X86_64, Arch.AARCH64) and not set(src) <= set(dst):
        raise InvalidArchError(
            f"{source.value}->{target.value}", location=location, choices=["x86_64->aarch64", "aarch64->x86_64"]
        )
    legacy = legacy_map()
    out: set[str] = set()
    mapped: dict[str, tuple[str, ...]] = {}
    dropped: dict[str, LegacyEntry] = {}
    for i, name in enumerate(names):
        if name not in src:
            raise UnknownSyscallError(name, arch=source.value, location=f"{location}[{i}]", choices=src)
        if name in dst:
            out.add(name)
            continue
        entry = legacy[name]  # the coverage test guarantees every missing x86_64 name is listed
        if entry.replacements:
            mapped[name] = entry.replacements
            out.update(entry.replacements)
        else:
            dropped[name] = entry
    return Ported(
        names=tuple(sorted(out)),
        mapped=tuple(sorted(mapped.items())),
        dropped=tuple(dropped[n] for n in sorted(dropped)),
    )

"""Linux capabilities: names, numbers, and the sets a container runs with.

The list comes from the kernel's ``capability.h`` (``data/capabilities/capabilities.tsv``).
Names are accepted the way ``docker run --cap-add`` accepts them: with or
without the ``CAP_`` prefix, in any case.

>>> Capability.parse("net_admin")
Capability('CAP_NET_ADMIN')
>>> Capability.parse("CAP_NET_ADMIN").number
12
>>> sorted(c.name for c in parse_capabilities(["chown", "CAP_KILL,SYS_ADMIN"]))
['CAP_CHOWN', 'CAP_KILL', 'CAP_SYS_ADMIN']
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from seccompose.errors import InvalidCapabilityError

__all__ = [
    "DOCKER_DEFAULT_CAPABILITIES",
    "Capability",
    "all_capabilities",
    "container_capabilities",
    "parse_capabilities",
]

_DATA: Final = Path(__file__).parent / "data" / "capabilities"


@functools.cache
def _numbers() -> dict[str, int]:
    table: dict[str, int] = {}
    for line in (_DATA / "capabilities.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith(("#", "number")):
            number, name = line.split("\t")[:2]
            table[name] = int(number)
    return table


class Capability:
    """One Linux capability, by its canonical name ``CAP_*``; immutable and hashable."""

    __slots__ = ("name",)
    name: str

    def __init__(self, name: str) -> None:
        if name not in _numbers():
            raise InvalidCapabilityError(name, choices=_numbers())
        object.__setattr__(self, "name", name)

    def __setattr__(self, key: str, value: object) -> None:
        msg = "Capability is immutable"
        raise AttributeError(msg)

    @property
    def number(self) -> int:
        """The kernel's number for this capability (``CAP_CHOWN`` is 0)."""
        return _numbers()[self.name]

    @classmethod
    def parse(cls, text: str, *, location: str | None = None) -> Capability:
        """Return the capability named ``NET_ADMIN``, ``CAP_NET_ADMIN`` or ``cap_net_admin``.

        Raises:
            InvalidCapabilityError: no such capability (with a did-you-mean).

        >>> Capability.parse("SYS_ADMN")
        Traceback (most recent call last):
        ...
        seccompose.errors.InvalidCapabilityError: unknown capability 'SYS_ADMN'; did you mean 'CAP_SYS_ADMIN'?
        """
        key = text.strip().upper() if isinstance(text, str) else ""
        key = key if key.startswith("CAP_") else "CAP_" + key
        if key not in _numbers():
            raise InvalidCapabilityError(str(text), location=location, choices=_numbers())
        return cls(key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Capability) and other.name == self.name

    def __lt__(self, other: Capability) -> bool:
        return self.number < other.number

    def __hash__(self) -> int:
        return hash(("Capability", self.name))

    def __repr__(self) -> str:
        return f"Capability({self.name!r})"

    def __str__(self) -> str:
        return self.name


@functools.cache
def all_capabilities() -> frozenset[Capability]:
    """Return all capabilities the kernel defines (41 in Linux 7.2).

    >>> len(all_capabilities())
    41
    """
    return frozenset(Capability(name) for name in _numbers())


def parse_capabilities(items: Iterable[str], *, location: str = "caps") -> frozenset[Capability]:
    """Parse capability names; each item may be a comma-separated list; ``ALL`` means every one.

    Raises:
        InvalidCapabilityError: an item names no capability.

    >>> len(parse_capabilities(["all"]))
    41
    """
    found: set[Capability] = set()
    for i, item in enumerate(items):
        for part in str(item).split(","):
            if not part.strip():
                continue
            if part.strip().upper() in ("ALL", "CAP_ALL"):
                found |= all_capabilities()
            else:
                found.add(Capability.parse(part, location=f"{location}[{i}]"))
    return frozenset(found)


DOCKER_DEFAULT_CAPABILITIES: Final = frozenset(
    Capability(n)
    for n in (
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_FSETID",
        "CAP_FOWNER",
        "CAP_MKNOD",
        "CAP_NET_RAW",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETFCAP",
        "CAP_SETPCAP",
        "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT",
        "CAP_KILL",
        "CAP_AUDIT_WRITE",
    )
)
"""The 14 capabilities ``docker run`` (and Podman) give a container by default."""


def container_capabilities(
    caps: Iterable[str] | None = None,
    *,
    add: Iterable[str] = (),
    drop: Iterable[str] = (),
) -> frozenset[Capability]:
    """Return a container's capability set the way ``docker run`` computes it.

    ``caps`` is the starting set (None: Docker's 14 defaults; ``["none"]``: empty),
    then ``--cap-drop`` removes and ``--cap-add`` adds; ``ALL`` works in both, as in
    ``docker run``: ``--cap-add ALL`` gives every capability but the dropped ones,
    ``--cap-drop ALL`` keeps only the added ones.

    Raises:
        InvalidCapabilityError: an unknown capability name.

    >>> sorted(c.name for c in container_capabilities(["none"], add=["net_admin"]))
    ['CAP_NET_ADMIN']
    >>> len(container_capabilities(drop=["all"], add=["chown"]))
    1
    """
    if caps is None:
        base = set(DOCKER_DEFAULT_CAPABILITIES)
    else:
        listed = [c for c in caps if c.strip().lower() not in ("none", "")]
        base = set(parse_capabilities(listed, location="--caps"))
    added = parse_capabilities(add, location="--cap-add")
    dropped = parse_capabilities(drop, location="--cap-drop")
    # moby's TweakCapabilities: "add ALL" wins over the base, "drop ALL" keeps only the adds,
    # otherwise drops apply to the base and adds come last.
    if _says_all(add):
        return all_capabilities() - dropped
    if _says_all(drop):
        return added
    return frozenset((base - dropped) | added)


def _says_all(items: Iterable[str]) -> bool:
    return any(p.strip().upper() in ("ALL", "CAP_ALL") for item in items for p in str(item).split(","))

"""Syscall categories: the six groups users know, and finer groups inside them.

Every syscall name of every table (``seccompose.syscalls``) is in exactly one of the six
groups — process management, interprocess communication, memory management, file system,
initialization (the runtime base set) and other — and in exactly one finer category
(network, signals, time, credentials, mounts, namespaces, async I/O, ...). The data is
hand-maintained in ``data/categories/*.tsv``, read on first use. The initialization group is
the runtime base set (:func:`seccompose.runtime.runtime_base`: every runtime, with
``noNewPrivileges`` true or false, on x86_64 and aarch64); its names keep their finer category.

>>> group_of("openat"), category_of("openat")
('initialization', 'file-io')
>>> group_of("socket"), category_of("socket")
('interprocess-communication', 'network')
>>> syscalls_in("async-io", Arch.AARCH64)[:4]
('io_cancel', 'io_destroy', 'io_getevents', 'io_pgetevents')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from seccompose import _caches
from seccompose.arch import Arch
from seccompose.errors import UnknownCategoryError, UnknownSyscallError

__all__ = [
    "GROUPS",
    "Category",
    "Group",
    "categories",
    "category_of",
    "group_of",
    "groups",
    "syscalls_in",
]

_DATA: Final = Path(__file__).parent / "data" / "categories"

GROUPS: Final = (
    "process-management",
    "interprocess-communication",
    "memory-management",
    "file-system",
    "initialization",
    "other",
)
"""The six groups, in the order users know them."""


@dataclass(frozen=True, slots=True)
class Group:
    """One of the six groups: its name (``file-system``), title and description."""

    name: str
    title: str
    description: str


@dataclass(frozen=True, slots=True)
class Category:
    """A finer category (``network``) and the group its syscalls usually belong to."""

    name: str
    group: str
    description: str


def _read(name: str) -> list[list[str]]:
    lines = (_DATA / name).read_text(encoding="utf-8").splitlines()
    # the first non-comment line is the header
    rows = [line.split("\t") for line in lines if line and not line.startswith("#")]
    return rows[1:]


@_caches.cache
def groups() -> tuple[Group, ...]:
    """Return the six groups, in order.

    >>> [g.title for g in groups()][:2]
    ['Process management', 'Interprocess communication']
    """
    found = {row[0]: Group(*row) for row in _read("groups.tsv")}
    return tuple(found[name] for name in GROUPS)


@_caches.cache
def categories() -> tuple[Category, ...]:
    """Return the finer categories, in data order.

    >>> next(c for c in categories() if c.name == "network").group
    'interprocess-communication'
    """
    return tuple(Category(*row) for row in _read("categories.tsv"))


@_caches.cache
def _runtime_base() -> frozenset[str]:
    from seccompose.runtime import RUNTIMES, runtime_base

    return frozenset(
        name
        for runtime in RUNTIMES
        for nnp in (True, False)
        for arch in (Arch.X86_64, Arch.AARCH64)
        for name in runtime_base(runtime, no_new_privileges=nnp, arch=arch)
    )


@_caches.cache
def _assignments() -> dict[str, tuple[str, str]]:
    base = _runtime_base()
    return {
        name: ("initialization" if name in base else group, category) for name, group, category in _read("syscalls.tsv")
    }


def _lookup(syscall: str) -> tuple[str, str]:
    found = _assignments().get(syscall)
    if found is None:
        raise UnknownSyscallError(syscall, choices=_assignments())
    return found


def group_of(syscall: str) -> str:
    """Return which of the six groups ``syscall`` is in.

    Raises:
        UnknownSyscallError: no table has that name.

    >>> group_of("mbind")
    'memory-management'
    """
    return _lookup(syscall)[0]


def category_of(syscall: str) -> str:
    """Return the finer category of ``syscall``.

    Raises:
        UnknownSyscallError: no table has that name.

    >>> category_of("clock_gettime"), category_of("clone")
    ('time', 'process-lifecycle')
    """
    return _lookup(syscall)[1]


def syscalls_in(name: str, arch: Arch | None = None) -> tuple[str, ...]:
    """Return, sorted, the syscalls of a group or category (with ``arch``: only names that host has).

    Raises:
        UnknownCategoryError: ``name`` is neither a group nor a category (with a did-you-mean).
        InvalidArchError: seccompose has no syscall table for ``arch``.

    >>> syscalls_in("namespaces")
    ('listns', 'setns', 'unshare')
    >>> syscalls_in("netwrk")
    Traceback (most recent call last):
    ...
    seccompose.errors.UnknownCategoryError: unknown syscall category 'netwrk'; did you mean 'network'?
    """
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    if key in GROUPS:
        column = 0
    elif key in {c.name for c in categories()}:
        column = 1
    else:
        raise UnknownCategoryError(name, choices=[*GROUPS, *(c.name for c in categories())])
    names = sorted(n for n, found in _assignments().items() if found[column] == key)
    if arch is None:
        return tuple(names)
    from seccompose.syscalls import host_names

    have = frozenset(host_names(arch))
    return tuple(n for n in names if n in have)

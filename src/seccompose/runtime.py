"""The runtime base set: syscalls an OCI runtime makes between loading the filter and exec.

runc and crun load the container's seccomp filter in the container's init process and then
still have work to do before ``execve`` of the container's program (close file descriptors,
drop capabilities, switch user). A profile that denies those calls stops the container from
starting at all. With ``noNewPrivileges`` false (what Docker, Podman and Kubernetes do unless
told otherwise) the runtimes load the filter *before* dropping capabilities and switching
user, so they need more.

The sets were measured with ``tools/measure_runtime_base.py``, with the real engines as they
invoke the runtimes (``docker run`` -> containerd -> runc, ``podman run`` -> crun) and with
runc and crun directly, as root and as a non-root user, with Docker's default capabilities,
none and some added (strace, then removal one name at a time, repeated). Each ships as
``data/runtime/<runtime>.json`` with the runtime, engine, libseccomp and kernel versions and
every measurement; the set of a runtime is the union of its measurements. They are measured
on x86_64 and ported to other arches by name.

A composition that does not know its runtime adds the sets of every runtime (``RUNTIMES``):
a profile that starts under runc and crun alike.

>>> sorted(runtime_base("crun", no_new_privileges=True))
['execve']
>>> "setuid" in runtime_base("runc")
True
>>> runtime_base("runc,crun") == runtime_base("runc") | runtime_base("crun")
True
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

from seccompose import _caches
from seccompose.arch import Arch
from seccompose.errors import InvalidArchError, InvalidRuntimeError
from seccompose.syscalls import TABLED_ARCHES, table

__all__ = [
    "ALL_RUNTIMES",
    "RUNTIMES",
    "describe_start",
    "parse_runtimes",
    "refused_at_start",
    "runtime_base",
    "runtime_provenance",
]

_DATA: Final = Path(__file__).parent / "data" / "runtime"
RUNTIMES: Final = ("runc", "crun")
"""The runtimes with a measured base set; a composition adds all of them unless told which one runs it."""
ALL_RUNTIMES: Final = ",".join(RUNTIMES)
"""``"runc,crun"``: how ``compose`` and the CLI name every runtime by default (a string hashes once)."""

# Calls that do not exist on every ABI, and what libc uses instead where they are missing.
_EQUIVALENT: Final = {
    "open": "openat",
    "stat": "newfstatat",
    "lstat": "newfstatat",
    "access": "faccessat",
    "readlink": "readlinkat",
    "getdents": "getdents64",
    "dup2": "dup3",
    "pipe": "pipe2",
    "poll": "ppoll",
    "select": "pselect6",
    "epoll_wait": "epoll_pwait",
    "epoll_create": "epoll_create1",
    "unlink": "unlinkat",
    "mkdir": "mkdirat",
    "rename": "renameat2",
    "chmod": "fchmodat",
    "chown": "fchownat",
    "fork": "clone",
    "vfork": "clone",
    "getpgrp": "getpgid",
    "time": "clock_gettime",
    "arch_prctl": None,
}


@_caches.cache
def _load(runtime: str) -> dict[str, Any]:
    if runtime not in RUNTIMES:
        raise InvalidRuntimeError(runtime, choices=RUNTIMES)
    data: dict[str, Any] = json.loads((_DATA / f"{runtime}.json").read_text(encoding="utf-8"))
    return data


def parse_runtimes(runtime: str | Sequence[str], *, location: str = "runtime") -> tuple[str, ...]:
    """Return the runtimes ``runtime`` names, in ``RUNTIMES`` order: one name, a comma-separated list or a sequence.

    Raises:
        InvalidRuntimeError: a name seccompose has no base set for, or no name at all.

    >>> parse_runtimes("crun, runc"), parse_runtimes(["crun"])
    (('runc', 'crun'), ('crun',))
    """
    if isinstance(runtime, str):
        names = [part.strip() for part in runtime.split(",")]
    elif isinstance(runtime, Sequence) and all(isinstance(r, str) for r in runtime):
        names = [r.strip() for r in runtime]
    else:
        raise InvalidRuntimeError(repr(runtime), choices=RUNTIMES, location=location)
    names = [n for n in names if n]
    if not names:
        raise InvalidRuntimeError(repr(runtime), choices=RUNTIMES, location=location)
    for name in names:
        if name not in RUNTIMES:
            raise InvalidRuntimeError(name, choices=RUNTIMES, location=location)
    return tuple(r for r in RUNTIMES if r in names)


def runtime_base(
    runtime: str | Sequence[str] = RUNTIMES, *, no_new_privileges: bool = False, arch: Arch = Arch.X86_64
) -> frozenset[str]:
    """Return the syscall names ``runtime`` needs after loading the filter, for a host of ``arch``.

    Args:
        runtime: ``"runc"``, ``"crun"``, several (``"runc,crun"``, a sequence: the union);
            default: every runtime seccompose has measured.
        no_new_privileges: the container's ``process.noNewPrivileges`` (default False, as
            Docker, Podman and Kubernetes run containers). With False the runtimes load the
            filter earlier (before dropping capabilities and switching user), so they need more.
        arch: the host arch; names are ported from the measured x86_64 set by name (calls
            the arch lacks are replaced by the ones libc uses there, e.g. ``open`` -> ``openat``).

    Raises:
        InvalidRuntimeError: no base set for that runtime.
        InvalidArchError: seccompose has no syscall table for ``arch``.

    >>> sorted(runtime_base("runc", no_new_privileges=True))
    ['close', 'execve', 'fstatfs', 'futex', 'getdents64', 'openat', 'rt_sigreturn', 'write']
    >>> sorted(runtime_base("crun", arch=Arch.AARCH64))[:3]
    ['capset', 'execve', 'prctl']
    """
    names = {
        name
        for one in parse_runtimes(runtime)
        for name in _load(one)["noNewPrivileges"]["true" if no_new_privileges else "false"]
    }
    if arch not in TABLED_ARCHES:
        raise InvalidArchError(arch.value, choices=[a.value for a in TABLED_ARCHES])
    tab = table(arch)
    ported: set[str] = set()
    for name in sorted(names):
        if name in tab:
            ported.add(name)
            continue
        other = _EQUIVALENT.get(name)
        if other is not None and other in tab:
            ported.add(other)
    return frozenset(ported)


def runtime_provenance(runtime: str = "runc") -> dict[str, str]:
    """Return how a base set was measured: runtime version, libseccomp, kernel, arch, date, tool, method.

    Raises:
        InvalidRuntimeError: no base set for that runtime.

    >>> runtime_provenance("runc")["runtime"]
    'runc'
    """
    data = _load(runtime)
    keys = ("runtime", "version", "package", "libseccomp", "kernel", "arch", "date", "tool", "method")
    return {k: str(data[k]) for k in keys if k in data}


def refused_at_start(
    allows: Callable[[str], bool],
    runtime: str | Sequence[str] = "runc",
    *,
    no_new_privileges: bool = False,
    arch: Arch = Arch.X86_64,
) -> tuple[str, ...]:
    """Return, sorted, the base-set names of ``runtime`` that a profile refuses: with any, the container never starts.

    ``allows(name)`` says whether the profile lets the call run (with any arguments). The
    defaults are Docker's: runc, ``noNewPrivileges`` false.

    Raises:
        InvalidRuntimeError: no base set for that runtime.

    >>> refused_at_start(lambda name: name != "setuid")
    ('setuid',)
    >>> refused_at_start(lambda name: name != "setuid", no_new_privileges=True)
    ()
    """
    names = runtime_base(runtime, no_new_privileges=no_new_privileges, arch=arch)
    return tuple(sorted(n for n in names if not allows(n)))


def describe_start(runtime: str | Sequence[str], no_new_privileges: bool) -> str:
    """Say which runtimes and mode a base set is for, with the versions it was measured on.

    >>> describe_start("runc", False)
    'runc 1.1.5+ds1 with noNewPrivileges false'
    """
    names = parse_runtimes(runtime)
    versions = " and ".join(f"{r} {_load(r)['version']}" for r in names)
    return f"{versions} with noNewPrivileges {str(no_new_privileges).lower()}"

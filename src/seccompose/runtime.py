"""The runtime base set: syscalls an OCI runtime makes between loading the filter and exec.

runc and crun load the container's seccomp filter in the container's init process and then
still have work to do before ``execve`` of the container's program (close file descriptors,
drop capabilities, switch user). A profile that denies those calls stops the container from
starting at all. The sets were measured with ``tools/measure_runtime_base.py`` (strace, then
removal one name at a time, repeated) and ship as ``data/runtime/<runtime>.json`` with the
runtime, libseccomp and kernel versions. They are measured on x86_64 and ported to other
arches by name.

>>> sorted(runtime_base("crun"))
['execve']
>>> "setuid" in runtime_base("runc", no_new_privileges=False)
True
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Final

from seccompose.arch import Arch
from seccompose.errors import InvalidArchError, InvalidRuntimeError
from seccompose.syscalls import TABLED_ARCHES, table

__all__ = ["RUNTIMES", "runtime_base", "runtime_provenance"]

_DATA: Final = Path(__file__).parent / "data" / "runtime"
RUNTIMES: Final = ("runc", "crun")
"""The runtimes with a measured base set; runc is the default."""

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


@functools.cache
def _load(runtime: str) -> dict[str, Any]:
    if runtime not in RUNTIMES:
        raise InvalidRuntimeError(runtime, choices=RUNTIMES)
    data: dict[str, Any] = json.loads((_DATA / f"{runtime}.json").read_text(encoding="utf-8"))
    return data


def runtime_base(runtime: str = "runc", *, no_new_privileges: bool = True, arch: Arch = Arch.X86_64) -> frozenset[str]:
    """Return the syscall names ``runtime`` needs after loading the filter, for a host of ``arch``.

    Args:
        runtime: ``"runc"`` (default) or ``"crun"``.
        no_new_privileges: the container's ``process.noNewPrivileges``. With False the
            runtimes load the filter earlier (before dropping capabilities and switching
            user), so they need more.
        arch: the host arch; names are ported from the measured x86_64 set by name (calls
            the arch lacks are replaced by the ones libc uses there, e.g. ``open`` -> ``openat``).

    Raises:
        InvalidRuntimeError: no base set for that runtime.
        InvalidArchError: seccompose has no syscall table for ``arch``.

    >>> sorted(runtime_base("runc"))
    ['close', 'execve', 'fstatfs', 'futex', 'getdents64', 'openat', 'rt_sigreturn', 'write']
    >>> sorted(runtime_base("crun", no_new_privileges=False, arch=Arch.AARCH64))[:3]
    ['capset', 'execve', 'prctl']
    """
    data = _load(runtime)
    names = data["noNewPrivileges"]["true" if no_new_privileges else "false"]
    if arch not in TABLED_ARCHES:
        raise InvalidArchError(arch.value, choices=[a.value for a in TABLED_ARCHES])
    tab = table(arch)
    ported: set[str] = set()
    for name in names:
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

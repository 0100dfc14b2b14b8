"""Run a command under a profile: fork, load the filter in the child (with ``no_new_privs``), exec.

The filter is the one libseccomp builds as runc reads the profile (:mod:`seccompose.libseccomp`).
"""

from __future__ import annotations

import ctypes
import os
import subprocess
from collections.abc import Mapping, Sequence
from typing import Any, Final

from seccompose.actions import Action
from seccompose.arch import Arch, host_arch
from seccompose.errors import (
    InvalidProfileError,
)
from seccompose.libseccomp import build_filter
from seccompose.reading import KERNEL_FLAG_BITS, read_as_runtime

__all__ = ["FilterLoader", "popen_under", "run_under"]

# --------------------------------------------------------------------------- running


class _SockFilter(ctypes.Structure):
    _fields_ = (("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint32))


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter)))


_PR_SET_NO_NEW_PRIVS: Final = 38
_SECCOMP_SET_MODE_FILTER: Final = 1
_SYS_SECCOMP: Final = {Arch.X86_64: 317, Arch.AARCH64: 277, Arch.X86: 354}


class FilterLoader:
    """Everything the child needs, built in the parent so the child only makes syscalls."""

    def __init__(self, bpf: bytes, flags: int, no_new_privs: bool) -> None:
        count = len(bpf) // 8
        self.buffer = (_SockFilter * count).from_buffer_copy(bpf)
        self.prog = _SockFprog(count, ctypes.cast(self.buffer, ctypes.POINTER(_SockFilter)))
        self.flags = flags
        self.no_new_privs = no_new_privs
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.syscall.restype = ctypes.c_long
        self.nr = _SYS_SECCOMP[host_arch()]

    def load(self) -> int:
        """Load the filter into the calling process; return 0 or the errno."""
        if self.no_new_privs and self.libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return ctypes.get_errno()
        result = self.libc.syscall(
            ctypes.c_long(self.nr),
            ctypes.c_long(_SECCOMP_SET_MODE_FILTER),
            ctypes.c_long(self.flags),
            ctypes.byref(self.prog),
        )
        return ctypes.get_errno() if result != 0 else 0

    def preexec(self) -> None:
        """Load the filter in the child, before exec (``preexec_fn``); raise OSError if the kernel refuses it."""
        error = self.load()
        if error:
            # Raised in the child before exec: subprocess reports it to the parent as an OSError.
            raise OSError(error, f"loading the seccomp filter failed: {os.strerror(error)}")


def _loader(oci_seccomp: Mapping[str, Any], no_new_privs: bool) -> FilterLoader:
    reading = read_as_runtime(oci_seccomp)
    if any(r.action is Action.NOTIFY for r in reading.rules) or reading.default_action is Action.NOTIFY:
        raise InvalidProfileError(
            "SCMP_ACT_NOTIFY needs a seccomp agent, which run_under does not provide; use another action"
        )
    bpf, _, _ = build_filter(reading)
    flags = sum(KERNEL_FLAG_BITS.get(f, 0) for f in reading.flags)
    return FilterLoader(bpf, flags, no_new_privs)


def run_under(
    oci_seccomp: Mapping[str, Any],
    argv: Sequence[str],
    *,
    no_new_privs: bool = True,
    **kwargs: Any,  # noqa: ANN401 - passed through to subprocess.run
) -> subprocess.CompletedProcess[Any]:
    """Run ``argv`` under a profile: fork, load the filter in the child, exec, wait.

    The filter is compiled as runc reads the profile and loaded in the child right before
    ``execve`` (after ``no_new_privs``, unless ``no_new_privs=False``, which needs
    CAP_SYS_ADMIN). As in a runtime, the profile must allow ``execve`` and what the child
    does between the load and the exec (``close_range``/``close`` when ``close_fds``).
    Keyword arguments go to :func:`subprocess.run` (``capture_output``, ``timeout``, ...).

    Raises:
        LibseccompUnavailableError: pyseccomp or libseccomp.so.2 is missing.
        InvalidProfileError: the profile is malformed or uses SCMP_ACT_NOTIFY.
        OSError: the kernel refused the filter, or ``argv[0]`` could not be executed.

    >>> profile = {"defaultAction": "SCMP_ACT_ALLOW",
    ...            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
    >>> p = run_under(profile, ["mkdir", "/tmp/seccompose-doctest"], capture_output=True, text=True)
    >>> p.returncode, "Permission denied" in p.stderr
    (1, True)
    """
    loader = _loader(oci_seccomp, no_new_privs)
    return subprocess.run(list(argv), preexec_fn=loader.preexec, check=False, **kwargs)


def popen_under(
    oci_seccomp: Mapping[str, Any],
    argv: Sequence[str],
    *,
    no_new_privs: bool = True,
    **kwargs: Any,  # noqa: ANN401 - passed through to subprocess.Popen
) -> subprocess.Popen[Any]:
    """Start ``argv`` under a profile and return the :class:`subprocess.Popen` (for servers).

    Same loading as :func:`run_under`; keyword arguments go to :class:`subprocess.Popen`.

    Raises:
        LibseccompUnavailableError: pyseccomp or libseccomp.so.2 is missing.
        InvalidProfileError: the profile is malformed or uses SCMP_ACT_NOTIFY.
        OSError: the kernel refused the filter, or ``argv[0]`` could not be executed.

    >>> with popen_under({"defaultAction": "SCMP_ACT_ALLOW"}, ["true"]) as p:
    ...     p.wait()
    0
    """
    loader = _loader(oci_seccomp, no_new_privs)
    return subprocess.Popen(list(argv), preexec_fn=loader.preexec, **kwargs)  # noqa: PLW1509

"""The kernel's seccomp user-notification interface (``seccomp_unotify(2)``), by ``ioctl``.

A filter loaded with ``SECCOMP_FILTER_FLAG_NEW_LISTENER`` returns a *listener* file
descriptor; each syscall the filter answers with ``SECCOMP_RET_USER_NOTIF``
(``SCMP_ACT_NOTIFY``) then waits in the kernel until whoever holds the listener answers:

- ``SECCOMP_IOCTL_NOTIF_RECV`` reads one pending notification (:func:`receive`): its id,
  the thread id of the caller (in the reader's pid namespace), and the ``seccomp_data``
  the filter saw (``nr``, ``arch`` as an ``AUDIT_ARCH_*`` value, instruction pointer, the
  six arguments);
- ``SECCOMP_IOCTL_NOTIF_ID_VALID`` says whether that caller is still waiting
  (:func:`is_valid`): a pid read from a notification names the right process only while
  the notification is valid;
- ``SECCOMP_IOCTL_NOTIF_SEND`` answers (:func:`respond`): an errno, a return value, or
  ``SECCOMP_USER_NOTIF_FLAG_CONTINUE`` (the syscall runs as if the filter had allowed it).

Facts this module relies on (Linux 5.5 and later; measured on 6.18): ``RECV`` wants a
zeroed buffer of at least ``seccomp_notif_sizes.seccomp_notif`` bytes (EINVAL otherwise);
``RECV`` and ``SEND`` fail with ENOENT when the caller is gone (killed, or its syscall
interrupted by a signal: a restarted syscall is a *new* notification); the listener polls
readable while a notification waits to be read, and hangs up once every thread that uses
the filter has exited. When the last copy of the listener is closed, every waiting and
every later notified syscall of that filter fails with ENOSYS.

>>> REQUEST_RECV == 0xC0502100, REQUEST_SEND == 0xC0182101, REQUEST_ID_VALID == 0x40082102
(True, True, True)
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import functools
import os
import platform
import struct
from dataclasses import dataclass
from typing import Final

__all__ = [
    "FLAG_CONTINUE",
    "REQUEST_ID_VALID",
    "REQUEST_RECV",
    "REQUEST_SEND",
    "NotifSizes",
    "Notification",
    "is_valid",
    "notif_sizes",
    "receive",
    "respond",
]


def _ioc(direction: int, number: int, size: int) -> int:
    """``_IOC(dir, '!', nr, size)``: the seccomp ioctls use magic ``'!'`` (0x21)."""
    return direction << 30 | size << 16 | 0x21 << 8 | number


_READ: Final = 2
_WRITE: Final = 1
_NOTIF: Final = struct.Struct("=QIIiIQ6Q")
"""``struct seccomp_notif``: id, pid, flags, then ``struct seccomp_data`` (nr, arch, ip, args[6])."""
_RESP: Final = struct.Struct("=QqiI")
"""``struct seccomp_notif_resp``: id, val, error, flags."""
_ID: Final = struct.Struct("=Q")

REQUEST_RECV: Final = _ioc(_READ | _WRITE, 0, _NOTIF.size)
REQUEST_SEND: Final = _ioc(_READ | _WRITE, 1, _RESP.size)
REQUEST_ID_VALID: Final = _ioc(_WRITE, 2, _ID.size)
FLAG_CONTINUE: Final = 1
"""``SECCOMP_USER_NOTIF_FLAG_CONTINUE``: let the syscall run (``val`` and ``error`` must be 0)."""

_GET_NOTIF_SIZES: Final = 3
_NR_SECCOMP: Final = {"x86_64": 317, "aarch64": 277, "i686": 354, "i386": 354}


@dataclass(frozen=True, slots=True)
class Notification:
    """One notified syscall, as ``SECCOMP_IOCTL_NOTIF_RECV`` returns it."""

    id: int
    """The cookie to answer with; unique for the listener's lifetime."""
    pid: int
    """The calling thread's id, in the pid namespace of the process that read the notification."""
    nr: int
    """The syscall number on the caller's ABI (x32 numbers carry bit 30)."""
    arch: int
    """The caller's ABI as an ``AUDIT_ARCH_*`` value: ``int 0x80`` on x86_64 is ``AUDIT_ARCH_I386``."""
    ip: int
    args: tuple[int, int, int, int, int, int]


@dataclass(frozen=True, slots=True)
class NotifSizes:
    """``struct seccomp_notif_sizes``: what the running kernel's structures measure."""

    notif: int
    resp: int
    data: int


@functools.cache
def notif_sizes() -> NotifSizes:
    """Return the kernel's structure sizes (``seccomp(SECCOMP_GET_NOTIF_SIZES)``).

    Raises:
        OSError: the kernel has no user notification (before Linux 5.0), or this arch is unknown.
    """
    nr = _NR_SECCOMP.get(platform.machine())
    if nr is None:
        raise OSError(errno.ENOSYS, f"no seccomp syscall number known for {platform.machine()}")
    libc = ctypes.CDLL(None, use_errno=True)
    sizes = (ctypes.c_uint16 * 3)()
    if libc.syscall(nr, _GET_NOTIF_SIZES, 0, ctypes.byref(sizes)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"seccomp(SECCOMP_GET_NOTIF_SIZES): {os.strerror(err)}")
    return NotifSizes(sizes[0], sizes[1], sizes[2])


@functools.cache
def _buffers() -> tuple[bytes, int]:
    """A zeroed RECV buffer as long as the kernel's ``seccomp_notif`` (longer than ours on newer kernels)."""
    size = max(notif_sizes().notif, _NOTIF.size)
    return bytes(size), size


def receive(fd: int) -> Notification | None:
    """Read one pending notification from a listener; None when it was withdrawn meanwhile.

    Call it when the listener polls readable: with nothing pending it blocks.

    Raises:
        OSError: ``fd`` is not a listener (EINVAL, ENOTTY, EBADF).
    """
    zeroed, _ = _buffers()
    try:
        raw = fcntl.ioctl(fd, REQUEST_RECV, zeroed)
    except OSError as exc:
        if exc.errno == errno.ENOENT:  # the caller went away (signal, kill) before we read it
            return None
        raise
    nid, pid, _flags, nr, arch, ip, a0, a1, a2, a3, a4, a5 = _NOTIF.unpack_from(raw)
    return Notification(nid, pid, nr, arch, ip, (a0, a1, a2, a3, a4, a5))


def is_valid(fd: int, notification_id: int) -> bool:
    """Whether the caller of a notification is still waiting for its answer.

    Raises:
        OSError: ``fd`` is not a listener.
    """
    try:
        fcntl.ioctl(fd, REQUEST_ID_VALID, _ID.pack(notification_id))
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return False
        raise
    return True


def respond(fd: int, notification_id: int, *, error: int = 0, value: int = 0, proceed: bool = False) -> bool:
    """Answer a notification: fail with ``error`` (an errno), return ``value``, or run it (``proceed``).

    Returns False when the caller is gone (the answer reached nobody).

    Raises:
        OSError: ``fd`` is not a listener, or the answer is malformed (EINVAL).
        ValueError: ``proceed`` with an error or a value (the kernel refuses those).
    """
    if proceed and (error or value):
        msg = "a CONTINUE answer carries neither an errno nor a value"
        raise ValueError(msg)
    packed = _RESP.pack(notification_id, value, -error if error else 0, FLAG_CONTINUE if proceed else 0)
    try:
        fcntl.ioctl(fd, REQUEST_SEND, packed)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return False
        raise
    return True

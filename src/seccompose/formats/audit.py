r"""Read kernel audit records of seccomp decisions (``type=1326`` / ``type=SECCOMP``).

A filter whose action is ``SCMP_ACT_LOG`` (or any action the kernel's
``actions_logged`` lists) makes the kernel write one record per call::

    type=SECCOMP msg=audit(1795979471.970:35): ... arch=c000003e syscall=12 compat=0 ... code=0x7ffc0000

The parser reads every form these records take: ``/var/log/audit/audit.log``
(raw or enriched with ``ARCH=``/``SYSCALL=`` after a ``\x1d``), the kernel log
(``dmesg``/``journalctl -k``: ``audit: type=1326 audit(...)``) and
``ausearch -i`` (``arch=x86_64 syscall=brk``). Numbers are named through
seccompose's kernel tables for the record's arch (``Arch.from_audit``); an
x86_64 record whose number carries bit 30 is an x32 call. Other lines are
skipped, so a whole audit log can be given.

>>> rec = ('type=SECCOMP msg=audit(1795979471.970:35): auid=4294967295 uid=0 pid=12144 '
...        'comm="true" exe="/usr/bin/true" sig=0 arch=c000003e syscall=12 compat=0 ip=0x7f5f code=0x7ffc0000')
>>> [(abi.value, name) for abi, name in iter_records([rec])]
[('x86_64', 'brk')]
"""

from __future__ import annotations

import collections
import re
from typing import TYPE_CHECKING, BinaryIO, Final

from seccompose.arch import Arch
from seccompose.errors import InvalidArchError
from seccompose.syscalls import TABLED_ARCHES, table

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

__all__ = ["count_file", "iter_records", "parse_record"]

_RECORD: Final = re.compile(rb"type=(?:1326|SECCOMP)\b")
_ARCH: Final = re.compile(rb"\barch=([0-9A-Za-z_]{1,24})")
_SYSCALL: Final = re.compile(rb"\bsyscall=(?:unknown-syscall\()?(-?[0-9A-Za-z_]{1,64})")
_X32_BIT: Final = 0x40000000
# auditd's own syscall tables (used by ``ausearch -i``) spell a few names differently.
_AUDIT_NAMES: Final = {"pread": "pread64", "pwrite": "pwrite64"}


def _arch_of(text: str) -> Arch | None:
    try:
        value = int(text, 16)
    except ValueError:
        value = None
    if value is not None and len(text) == 8:
        return Arch.from_audit(value)
    try:
        return Arch.parse(text)
    except InvalidArchError:
        return None


def parse_record(line: bytes | str) -> tuple[Arch, str] | None:
    """Return ``(abi, syscall name)`` of one SECCOMP audit record, or None for any other line.

    A number no table knows comes back as ``syscall_0x…`` (the form strace uses),
    an arch seccompose has no table for keeps the number the same way.

    >>> parse_record("audit: type=1326 audit(1.2:3): pid=9 arch=40000003 syscall=4 compat=1 code=0x7ffc0000")
    (<Arch.X86: 'x86'>, 'write')
    >>> parse_record("type=SECCOMP msg=audit(11/29/26 19:11:11.970:35) : arch=x86_64 syscall=brk compat=0")
    (<Arch.X86_64: 'x86_64'>, 'brk')
    >>> parse_record("type=SYSCALL msg=audit(1.2:3): arch=c000003e syscall=59") is None
    True
    """
    raw = line.encode("utf-8", "replace") if isinstance(line, str) else line
    raw = raw.split(b"\x1d", 1)[0]  # enriched logs append interpreted fields after a GS byte
    if _RECORD.search(raw) is None:
        return None
    arch_match = _ARCH.search(raw)
    call_match = _SYSCALL.search(raw)
    if arch_match is None or call_match is None:
        return None
    abi = _arch_of(arch_match.group(1).decode("ascii"))
    if abi is None:
        return None
    return _name(abi, call_match.group(1).decode("ascii"))


def _name(abi: Arch, call: str) -> tuple[Arch, str] | None:
    if not call.lstrip("-").isdigit():  # ausearch -i already named it
        if abi in TABLED_ARCHES and call not in table(abi):
            call = _AUDIT_NAMES.get(call, call)
        return abi, call
    number = int(call)
    if number < 0:
        return None  # the kernel logs -1 for a call it could not identify
    if abi is Arch.X86_64 and number & _X32_BIT:
        abi = Arch.X32
    if abi in TABLED_ARCHES:
        try:
            return abi, table(abi).name(number)
        except LookupError:
            pass
    return abi, f"syscall_{number:#x}"


def iter_records(lines: Iterable[bytes | str]) -> Iterator[tuple[Arch, str]]:
    """Yield ``(abi, name)`` for each SECCOMP record in ``lines``, in order.

    >>> list(iter_records(["noise", "type=1326 audit(1:2): arch=c00000b7 syscall=56 code=0x7ffc0000"]))
    [(<Arch.AARCH64: 'aarch64'>, 'openat')]
    """
    for line in lines:
        found = parse_record(line)
        if found is not None:
            yield found


_BLOCK: Final = 1 << 20
_MAX_LINE: Final = 1 << 16
"""Longest audit record kept; auditd's records are under 8 kB, so a longer line is not one."""


def _lines(stream: BinaryIO, progress: Callable[[int], None] | None, *, text_only: bool) -> Iterator[bytes]:
    """The lines of a stream, read in bounded blocks; over-long lines dropped, binary data refused."""
    from seccompose.formats._blocks import read_blocks

    for block in read_blocks(stream, progress, _BLOCK, max_line=_MAX_LINE, binary=_binary, text_only=text_only):
        yield from (line for line in block[1:-1].split(b"\n") if len(line) <= _MAX_LINE)


def _binary(offset: int) -> Exception:
    from seccompose.errors import FormatError

    return FormatError(f"a NUL byte at byte {offset:,}: this is binary data, not an audit log")


def count_file(
    stream: BinaryIO,
    *,
    progress: Callable[[int], None] | None = None,
    text_only: bool = False,
) -> collections.Counter[tuple[Arch, str]]:
    r"""Count the SECCOMP records of a binary stream, line by line in constant memory.

    Lines longer than 64 kB are skipped; ``text_only``: a NUL byte (auditd never writes
    one) ends the count with a ``FormatError``.

    >>> import io
    >>> count_file(io.BytesIO(b"type=SECCOMP msg=audit(1:2): arch=c000003e syscall=0\n" * 2))
    Counter({(<Arch.X86_64: 'x86_64'>, 'read'): 2})
    """
    counts: collections.Counter[tuple[Arch, str]] = collections.Counter()
    for line in _lines(stream, progress, text_only=text_only):
        if b"1326" not in line and b"SECCOMP" not in line:
            continue
        found = parse_record(line)
        if found is not None:
            counts[found] += 1
    return counts

r"""Read strace output: which syscalls, on which ABI, how often.

The parser streams: it reads the log in large binary blocks and matches one
compiled regular expression per block, so a multi-gigabyte trace is read in
constant memory at close to the speed of ``grep``. It understands every line
prefix strace writes (``-f`` pids as ``1234 `` or ``[pid 1234] ``, ``-Y``
``1234<comm> ``, ``-t/-tt/-ttt/-r`` timestamps, ``-n`` numbers, ``-i``
instruction pointers), ``<unfinished ...>`` / ``<... name resumed>`` pairs
(one call, counted once), ``syscall_0x1c3`` numbers strace could not name
(resolved through seccompose's kernel tables), and ignores ``--- SIG...``,
``+++ exited`` and every line it does not recognise.

Each call is attributed to an ABI. A process starts on the trace's arch
(``x86_64``); strace's ``[ Process PID=N runs in 32 bit mode. ]`` note (written
when the trace goes to stderr), an 8-digit ``-i`` instruction pointer, or a
name only the 32-bit table has (``_llseek``, ``mmap2``) moves it to the
sub-architecture (``x86``); ``x32 mode`` moves it to ``x32``.

>>> lines = [
...     '1234  openat(AT_FDCWD, "/etc/hosts", O_RDONLY) = 3',
...     '1234  read(3,  <unfinished ...>',
...     '1235  syscall_0x1c3(0xffffffff, 0, 0, 0) = -1 EBADF (Bad file descriptor)',
...     '1234  <... read resumed>"127.0.0.1 localhost\\n", 4096) = 20',
...     '1235  +++ exited with 0 +++',
... ]
>>> [(abi.value, name) for abi, name in iter_calls(lines)]
[('x86_64', 'openat'), ('x86_64', 'read'), ('x86_64', 'cachestat')]
"""

from __future__ import annotations

import bz2
import collections
import gzip
import io
import lzma
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Final, cast

from seccompose.arch import Arch
from seccompose.syscalls import TABLED_ARCHES, table

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

__all__ = ["BLOCK_SIZE", "count_calls", "count_file", "iter_calls", "open_trace", "resolve_name"]

BLOCK_SIZE: Final = 8 << 20
"""Bytes read at a time; a block is split at its last newline, so memory stays near 2x this."""

# One match per interesting line. The leading "\n" is a literal, so the regex engine jumps
# from line to line with its fast prefix search instead of trying every byte position.
_LINE: Final = re.compile(
    rb"""
    \n[ \t]*
    (?:\[pid\s+(\d+)\]\s+|(\d+)(?:<[^>\n]{0,64}>)?\s+)?   # 1, 2: -f pid, "[pid N] " or "N " (-Y: "N<comm> ")
    (?:\d[\d:.]*\s+)?                                   # -t, -tt, -ttt, -r timestamp
    (?:\[\s*\d{1,5}\]\s+)?                              # -n syscall number
    (?:\[[0-9a-f?]{16}\]\s+|(\[)[0-9a-f?]{8}\]\s+)?     # 3: -i pointer; 8 digits = a 32-bit process
    (?:
        ([a-z_][a-z0-9_]{0,63})\(                       # 4: a call (or its <unfinished ...> half)
      | <\.\.\.\ ([a-z_][a-z0-9_]{0,63})\ resumed>      # 5: the other half of an unfinished call
      | \[\ Process\ PID=(\d+)\ runs\ in\ ([^\]\n]{1,16}?)\ mode\.\ \]  # 6, 7: personality switch
      | (\+\+\+)\ (?:exited|killed)                     # 8: the pid is gone (and may be reused)
    )
    """,
    re.VERBOSE,
)
_MAX_LINE: Final = 1 << 20
_UNKNOWN: Final = re.compile(r"syscall_(0x[0-9a-f]+|[0-9]+)")

_Groups = tuple[bytes, bytes, bytes, bytes, bytes, bytes, bytes, bytes]


def resolve_name(abi: Arch, name: str) -> str:
    """Return the table name of a ``syscall_0x…`` placeholder, else ``name`` unchanged.

    strace prints a number it has no name for (a syscall newer than strace) as
    ``syscall_0x1c3``; seccompose's tables, generated from a newer kernel, may
    know it. Numbers no table knows stay as they are.

    >>> resolve_name(Arch.X86_64, "syscall_0x1c3"), resolve_name(Arch.X86_64, "syscall_0x3e8")
    ('cachestat', 'syscall_0x3e8')
    """
    found = _UNKNOWN.fullmatch(name)
    if found is None or abi not in TABLED_ARCHES:
        return name
    number = int(found.group(1), 0)
    tab = table(abi)
    if abi is Arch.X32:
        number |= 0x40000000  # strace may print x32 numbers without __X32_SYSCALL_BIT
    try:
        return tab.name(number)
    except LookupError:
        return name


class _State:
    """The per-trace state: the arch, and which pids run on another ABI."""

    __slots__ = ("arch", "modes", "sub")

    def __init__(self, arch: Arch) -> None:
        self.arch = arch
        self.sub = arch.sub_arches[0] if arch.sub_arches else arch
        self.modes: dict[bytes, Arch] = {}  # only pids not on `arch`: stays tiny

    def mode(self, text: bytes) -> Arch:
        if text.startswith(b"x32"):
            return Arch.X32
        if text.startswith(b"32"):
            return self.sub
        return self.arch

    def abi(self, pid: bytes, narrow_ip: bytes, name: str) -> Arch:
        if narrow_ip:
            return self.sub
        abi = self.modes.get(pid, self.arch)
        # With `-o FILE` strace drops its personality notes; a name only the
        # 32-bit table has is the best evidence left.
        if (
            abi is self.arch
            and self.sub is not abi
            and abi in TABLED_ARCHES
            and self.sub in TABLED_ARCHES
            and name not in table(abi)
            and name in table(self.sub)
        ):
            return self.sub
        return abi

    def step(self, groups: _Groups) -> tuple[Arch, str, bool] | None:
        """Apply one matched line; return (abi, name, resumed) for a call, else None."""
        pid_a, pid_b, narrow, call, resumed, mode_pid, mode, gone = groups
        pid = pid_a or pid_b
        if call or resumed:
            name = (call or resumed).decode("ascii")
            abi = self.abi(pid, narrow, name)
            return abi, resolve_name(abi, name), bool(resumed)
        if mode:
            # strace drops the "[pid N] " prefix while only one process is traced, so an
            # unprefixed note also covers the unprefixed lines (key b"").
            abi = self.mode(mode)
            for key in {pid, mode_pid}:
                if abi is self.arch:
                    self.modes.pop(key, None)
                else:
                    self.modes[key] = abi
        elif gone:
            self.modes.pop(pid, None)
        return None


class _Tally:
    """Counts of calls, and of resumed halves whose start the trace did not show."""

    __slots__ = ("calls", "resumed")

    def __init__(self) -> None:
        self.calls: collections.Counter[tuple[Arch, str]] = collections.Counter()
        self.resumed: collections.Counter[tuple[Arch, str]] = collections.Counter()

    def add(self, step: tuple[Arch, str, bool], n: int = 1) -> None:
        abi, name, resumed = step
        (self.resumed if resumed else self.calls)[abi, name] += n

    def result(self) -> collections.Counter[tuple[Arch, str]]:
        # A "<... x resumed>" whose "x(... <unfinished ...>" came before the trace started
        # is still a call; one whose start was seen was already counted.
        out = collections.Counter(self.calls)
        for key, n in self.resumed.items():
            if key not in self.calls:
                out[key] = n
        return out


def _scan_block(block: bytes, state: _State, tally: _Tally) -> None:
    if state.modes or b"runs in " in block:
        # Personality switches make order matter: walk the matches one by one.
        for match in _LINE.finditer(block):
            step = state.step(match.groups(b""))  # type: ignore[arg-type]
            if step is not None:
                tally.add(step)
        return
    # Fast path: nothing depends on order, so count identical matches first.
    seen: collections.Counter[_Groups] = collections.Counter(_LINE.findall(block))
    for groups, n in seen.items():
        step = state.step(groups)
        if step is not None:
            tally.add(step, n)


def _encode(line: str | bytes) -> bytes:
    return line.encode("utf-8", "replace") if isinstance(line, str) else line


def _blocks(stream: BinaryIO, progress: Callable[[int], None] | None, size: int) -> Iterator[bytes]:
    r"""Yield ``b"\n" + whole lines`` blocks of a binary stream.

    A line longer than ``_MAX_LINE`` (strace abbreviates arguments to 32 bytes unless
    told otherwise) is dropped whole, so memory stays bounded and its middle is never
    read as the start of a line.
    """
    rest = b""
    skipping = False
    while True:
        data = stream.read(size)
        if not data:
            break
        if progress is not None:
            progress(len(data))
        if skipping:
            first = data.find(b"\n")
            if first < 0:
                continue
            data = data[first + 1 :]
            skipping = False
        cut = data.rfind(b"\n")
        if cut < 0:
            rest += data
            if len(rest) > _MAX_LINE:
                rest = b""
                skipping = True
            continue
        yield b"\n" + rest + data[: cut + 1]
        rest = data[cut + 1 :]
    if rest and not skipping:
        yield b"\n" + rest + b"\n"


def open_trace(path: str | Path) -> BinaryIO:
    """Open a trace for binary reading; ``.gz``, ``.bz2`` and ``.xz`` are decompressed, ``-`` is stdin.

    Raises:
        OSError: the file cannot be opened.

    >>> open_trace("-") is sys.stdin.buffer
    True
    """
    if str(path) == "-":
        return sys.stdin.buffer
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".gz":
        return cast("BinaryIO", gzip.open(path, "rb"))
    if suffix == ".bz2":
        return cast("BinaryIO", bz2.open(path, "rb"))
    if suffix in (".xz", ".lzma"):
        return cast("BinaryIO", lzma.open(path, "rb"))
    return path.open("rb", buffering=0)


def count_file(
    stream: BinaryIO,
    *,
    arch: Arch = Arch.X86_64,
    progress: Callable[[int], None] | None = None,
    block_size: int = BLOCK_SIZE,
) -> collections.Counter[tuple[Arch, str]]:
    r"""Count the calls of one strace log (one file of a ``-ff`` set is one log).

    Names are strace's, with ``syscall_0x…`` resolved where a table knows the
    number; a name no table knows is kept as printed, for the caller to report.
    ``progress`` is called with the number of bytes read after each block of
    ``block_size`` bytes.

    >>> log = io.BytesIO(b'execve("/bin/true", ["true"], 0x7ffd) = 0\nbrk(NULL) = 0x1\nbrk(0x2) = 0x2\n')
    >>> sorted((abi.value, name, n) for (abi, name), n in count_file(log).items())
    [('x86_64', 'brk', 2), ('x86_64', 'execve', 1)]
    """
    state = _State(arch)
    tally = _Tally()
    for block in _blocks(stream, progress, block_size):
        _scan_block(block, state, tally)
    return tally.result()


def count_calls(lines: Iterable[str | bytes], *, arch: Arch = Arch.X86_64) -> collections.Counter[tuple[Arch, str]]:
    r"""Count the calls in strace lines (text or bytes, with or without line ends).

    >>> count_calls(["[pid  7] write(1, 'hi', 2) = 2", "[pid  7] write(1, '!', 1) = 1"])
    Counter({(<Arch.X86_64: 'x86_64'>, 'write'): 2})
    """
    data = b"\n".join(_encode(line).rstrip(b"\n") for line in lines)
    return count_file(io.BytesIO(data), arch=arch)


def iter_calls(lines: Iterable[str | bytes], *, arch: Arch = Arch.X86_64) -> Iterator[tuple[Arch, str]]:
    """Yield ``(abi, name)`` for each call in strace lines, in order; a resumed half is not a second call.

    Lines that are not calls (signals, exits, garbage) yield nothing.

    >>> list(iter_calls(["+++ exited with 0 +++", "--- SIGCHLD {si_signo=SIGCHLD} ---", "not strace", "getpid() = 1"]))
    [(<Arch.X86_64: 'x86_64'>, 'getpid')]
    """
    state = _State(arch)
    pending: collections.Counter[tuple[bytes, Arch, str]] = collections.Counter()
    for raw in lines:
        for part in _encode(raw).split(b"\n"):
            match = _LINE.match(b"\n" + part)
            if match is None:
                continue
            groups: _Groups = match.groups(b"")  # type: ignore[assignment]
            step = state.step(groups)
            if step is None:
                continue
            abi, name, resumed = step
            pid = groups[0] or groups[1]
            if resumed:
                if pending[pid, abi, name]:
                    pending[pid, abi, name] -= 1
                    continue
            elif part.rstrip().endswith(b"<unfinished ...>"):
                pending[pid, abi, name] += 1
            yield abi, name

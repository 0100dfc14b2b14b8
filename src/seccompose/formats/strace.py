r"""Read strace output: which syscalls, on which ABI, how often.

The parser streams: it takes the log in large binary blocks (a plain file is
mapped and matched in place, by several worker processes if asked) and reduces
each line of the usual shapes to the word that matters (``read(``, ``<... read
resumed>``) with one regular expression pass per block, counting the words in
bulk; other lines go through the full line grammar. So a multi-gigabyte trace is
read in constant memory, a few hundred MB/s per process. It understands every line
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
import concurrent.futures
import functools
import gzip
import io
import itertools
import lzma
import mmap
import os
import re
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Final, Literal, NamedTuple, cast

from seccompose.arch import Arch
from seccompose.errors import FormatError
from seccompose.syscalls import TABLED_ARCHES, table

if TYPE_CHECKING:
    import multiprocessing.context
    from collections.abc import Callable, Iterable, Iterator

__all__ = ["BLOCK_SIZE", "PARALLEL_MIN", "count_calls", "count_file", "iter_calls", "open_trace", "resolve_name"]

BLOCK_SIZE: Final = 8 << 20
"""Bytes read at a time; a block is split at its last newline, so memory stays near 2x this."""
PARALLEL_MIN: Final = 64 << 20
"""The smallest file `count_file` shares between worker processes: below it, starting them costs more."""
_TASK_SPANS: Final = 4
"""Blocks per task handed to a worker process."""

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

# The fast path's one pass: one item per line. A line whose prefix is of the common
# shapes (`PID `, `[pid PID] `, `PID<comm> `, timestamps, `-n`, 16-digit `-i`) yields
# only its first word after the prefix when that is `name(`, `<... name resumed>`,
# `+++` or `---`: few distinct values, so they are counted in bulk. Any other line
# (and a line starting with such a word) yields itself, whole, for `_LINE`. The first
# branch is the `-f -t/-tt/-ttt` shape alone, so the usual line takes the shortest route.
# The quantifiers are possessive: each run is maximal, as `_LINE`'s greedy ones end up.
# `(?:x|)` is `(?:x)?`, which `re` runs markedly slower.
_NAME: Final = rb"[a-z_][a-z0-9_]{0,63}+"
_FAST: Final = re.compile(
    rb"""
    \n(?:
        \d++\ ++\d[\d:.]*+\                                     # "PID  TIME " (strace -f -tt), alone
      | [ \t]*+
        (?:\[pid\ ++\d++\]\ ++|\d++(?:<[^>\n]{0,64}+>|)\ ++|)   # "[pid PID] ", "PID " or "PID<comm> "
        (?:\d[\d:.]*+\ ++|)                                     # timestamp
        (?:\[\ *+\d{1,5}+\]\ ++|)                               # -n
        (?:\[[0-9a-f?]{16}+\]\ ++|)                             # -i, 64-bit
      |
    )
    ( """
    + _NAME
    + rb"""\( | <\.\.\.\ """
    + _NAME
    + rb"""\ resumed> | \+\+\+ | ---     # a word of the line's shape
      | (?<=\n)[^\n]*                                           # or the whole line
    )
    """,
    re.VERBOSE,
)
_WORD: Final = re.compile(rb"(" + _NAME + rb")\(|<\.\.\. (" + _NAME + rb") resumed>|\+\+\+|---")
# A line `_LINE` might read as the prefix of a call on a later line: its `\s` can match
# "\n". Only prefix characters (and a `-Y` comm), with something that is not blank.
_PREFIX_ONLY: Final = re.compile(rb"\n[ \t]*+(?=[^\s])(?:\d+<[^>\n]{0,64}>)?[0-9a-fpi:.?\[\] \t\r\f\v]*(?=\n)")
_NOTE: Final = b"[ Process PID="
"""How every personality note `_LINE` reads starts."""
_UNKNOWN: Final = re.compile(r"syscall_(0x[0-9a-f]+|[0-9]+)")

_Groups = tuple[bytes, bytes, bytes, bytes, bytes, bytes, bytes, bytes]
_Buffer = bytes | mmap.mmap


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

    def merge(self, other: _Tally) -> None:
        """Add the counts of ``other`` (a worker's share of the same trace)."""
        self.calls.update(other.calls)
        self.resumed.update(other.resumed)

    def result(self) -> collections.Counter[tuple[Arch, str]]:
        # A "<... x resumed>" whose "x(... <unfinished ...>" came before the trace started
        # is still a call; one whose start was seen was already counted.
        out = collections.Counter(self.calls)
        for key, n in self.resumed.items():
            if key not in self.calls:
                out[key] = n
        return out


def _scan_block(buf: _Buffer, start: int, end: int, state: _State, tally: _Tally) -> None:
    r"""Count the block ``buf[start:end]`` (``b"\n"`` and whole lines) into ``tally``."""
    if state.modes or not _scan_free(buf, start, end, state, tally):
        # Personality switches make order matter: walk the matches one by one.
        for match in _LINE.finditer(buf, start, end):
            step = state.step(match.groups(b""))  # type: ignore[arg-type]
            if step is not None:
                tally.add(step)


def _scan_free(buf: _Buffer, start: int, end: int, state: _State, tally: _Tally) -> bool:
    """Count a block in any order, as no pid is on another ABI; False, counting nothing, if it switches one."""
    verdict = _scan_fast(buf, start, end, state, tally)
    if verdict == "spans":
        _scan_unordered(buf, start, end, state, tally)
    return verdict != "order"


def _scan_unordered(buf: _Buffer, start: int, end: int, state: _State, tally: _Tally) -> None:
    """Count a block where order does not matter: identical matches of `_LINE` are counted first."""
    seen: collections.Counter[_Groups] = collections.Counter(_LINE.findall(buf, start, end))
    for groups, n in seen.items():
        step = state.step(groups)
        if step is not None:
            tally.add(step, n)


def _scan_fast(buf: _Buffer, start: int, end: int, state: _State, tally: _Tally) -> Literal["done", "spans", "order"]:
    r"""Count a block where no pid is on another ABI, as `_scan_unordered` does, but faster.

    `_FAST` gives one item per line: for a line of the common shapes, the word that
    decides what `_LINE` makes of it (a call's name, a resumed half's, or nothing);
    for any other line, the line itself. The words are counted in bulk; the other lines
    go through `_LINE`, joined. Nothing is counted, and the caller is told why, when
    one of the other lines holds a personality note (``"order"``: order matters) or
    could start a `_LINE` match spanning lines (``"spans"``: its ``\s`` can match a
    newline after a line of prefixes only; `_scan_unordered` does those exactly).
    A note is only ever on one of the other lines: the words are not notes, and no
    prefix of the common shapes reads as the start of one.
    """
    calls: list[tuple[_Groups, int]] = []
    slow: list[bytes] = []
    for item, n in collections.Counter(_FAST.findall(buf, start, end)).items():
        word = _WORD.fullmatch(item)
        if word is None:
            slow.extend(itertools.repeat(item, n))
        elif word[1] is not None:
            calls.append(((b"", b"", b"", word[1], b"", b"", b"", b""), n))
        elif word[2] is not None:
            calls.append(((b"", b"", b"", b"", word[2], b"", b"", b""), n))
        # "+++" and "---": a pid leaving (none is on another ABI) or a signal
    if slow:
        rest = b"\n" + b"\n".join(slow) + b"\n"
        if _NOTE in rest:
            return "order"
        if _PREFIX_ONLY.search(rest):
            return "spans"
        calls.extend(collections.Counter(_LINE.findall(rest)).items())
    for groups, n in calls:
        step = state.step(groups)
        if step is not None:
            tally.add(step, n)
    return "done"


def _encode(line: str | bytes) -> bytes:
    return line.encode("utf-8", "replace") if isinstance(line, str) else line


def _blocks(
    stream: BinaryIO, progress: Callable[[int], None] | None, size: int, *, text_only: bool = False
) -> Iterator[bytes]:
    r"""Yield ``b"\n" + whole lines`` blocks of a binary stream (:func:`~seccompose.formats._blocks.read_blocks`).

    A line longer than ``_MAX_LINE`` (strace abbreviates arguments to 32 bytes unless
    told otherwise) is dropped whole. `_spans` cuts a mapped file into the same blocks.
    """
    from seccompose.formats._blocks import read_blocks

    return read_blocks(stream, progress, size, max_line=_MAX_LINE, binary=_binary, text_only=text_only)


class _Span(NamedTuple):
    r"""One block of a mapped file: ``b"\n" + file[start:end]``, plus ``b"\n"`` if not ``closed``."""

    start: int
    end: int
    closed: bool
    read: int
    """How far the file had been read when `_blocks` yielded this block."""


def _spans(mm: mmap.mmap, begin: int, size: int, *, text_only: bool = False) -> Iterator[_Span]:
    """Cut ``mm[begin:]`` into the blocks `_blocks` yields reading it ``size`` bytes at a time."""
    total = len(mm)
    rest = begin  # where the line carried over from the last read starts
    skipping = False
    at = begin
    while at < total:
        first, at = at, min(at + size, total)
        nul = mm.find(b"\0", first, at) if text_only else -1
        if nul >= 0:
            raise _binary(nul)
        if skipping:
            newline = mm.find(b"\n", first, at)
            if newline < 0:
                yield _Span(at, at, closed=True, read=at)  # nothing to count: progress through a long line
                continue
            first = rest = newline + 1
            skipping = False
        cut = mm.rfind(b"\n", first, at)
        if cut < 0:
            if at - rest > _MAX_LINE:
                skipping = True
                yield _Span(at, at, closed=True, read=at)
            continue
        yield _Span(rest, cut + 1, closed=True, read=at)
        rest = cut + 1
    if rest < total and not skipping:
        yield _Span(rest, total, closed=False, read=total)


def _binary(offset: int) -> FormatError:
    return FormatError(
        f"a NUL byte at byte {offset:,}: this is binary data, not an strace or audit log "
        "(strace writes NUL as \\0); check the file"
    )


def _block(mm: mmap.mmap, span: _Span, begin: int) -> tuple[_Buffer, int, int]:
    """Where a span's block can be matched: in place when a newline precedes it, else copied."""
    if span.start > begin and span.closed:  # a block after the first ends a line of the last
        return mm, span.start - 1, span.end
    block = b"\n" + mm[span.start : span.end] + (b"" if span.closed else b"\n")
    return block, 0, len(block)


def _release(mm: mmap.mmap, span: _Span) -> None:
    """Unmap the pages of a span once counted, so a process maps at most a block of the file at a time."""
    if hasattr(mmap, "MADV_DONTNEED"):  # the file stays in the page cache: this only unmaps it
        start = max(span.start - 1, 0) // mmap.PAGESIZE * mmap.PAGESIZE
        mm.madvise(mmap.MADV_DONTNEED, start, span.end - start)


def _count_spans(
    path: str, identity: tuple[int, int, int], begin: int, arch: Arch, spans: list[_Span]
) -> tuple[_Tally, int]:
    """Count spans of a file in a worker process, where order cannot matter.

    Stops before the first block that holds a personality note (or at once if the file
    is no longer the one the spans were cut from) and returns the count so far with
    the index of the span it stopped at: the caller does the rest in order.
    """
    state, tally = _State(arch), _Tally()
    with Path(path).open("rb", buffering=0) as stream:
        info = os.fstat(stream.fileno())
        if (info.st_dev, info.st_ino, info.st_size) != identity:
            return tally, 0
        with mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            for i, span in enumerate(spans):
                if span.start == span.end:
                    continue
                if not _scan_free(*_block(mm, span, begin), state, tally):
                    return tally, i
                _release(mm, span)
    return tally, len(spans)


def _fork_context() -> multiprocessing.context.BaseContext | None:
    """How worker processes start: forked, when this process may fork; None: count in this process.

    Forked workers inherit the loaded modules (``spawn`` and ``forkserver`` import the
    caller's ``__main__`` again, which breaks scripts without a main guard). A process
    with other threads is not forked: a lock one of them holds would never be released
    in the child.
    """
    import multiprocessing  # only for big files: kept off `import seccompose`
    import threading

    if threading.active_count() > 1 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    return multiprocessing.get_context("fork")


def _mapped(stream: BinaryIO) -> mmap.mmap | None:
    """A read-only map of the file behind ``stream``; None for a pipe, a compressed or an empty file."""
    if not isinstance(stream, io.FileIO):
        return None
    try:
        info = os.fstat(stream.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size <= stream.tell():
            return None
        return mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None


def _count_mapped(
    stream: io.FileIO,
    mm: mmap.mmap,
    state: _State,
    tally: _Tally,
    progress: Callable[[int], None] | None,
    size: int,
    jobs: int,
    *,
    text_only: bool = False,
) -> None:
    """Count a mapped file: the blocks `_blocks` would read, matched in place, in ``jobs`` processes."""
    begin = stream.tell()
    spans: Iterable[_Span] = _spans(mm, begin, size, text_only=text_only)
    done = begin
    if (
        jobs > 1
        and len(mm) - begin >= max(PARALLEL_MIN, 2 * size)
        and isinstance(stream.name, str)
        and (context := _fork_context()) is not None
    ):
        spans = list(spans)
        info = os.fstat(stream.fileno())
        identity = (info.st_dev, info.st_ino, info.st_size)
        count = functools.partial(_count_spans, stream.name, identity, begin, state.arch)
        tasks = [spans[i : i + _TASK_SPANS] for i in range(0, len(spans), _TASK_SPANS)]
        taken = 0
        workers = max(1, min(jobs, len(tasks)))  # no task at all: one line longer than the limit
        try:
            with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
                for task, (part, stopped) in zip(tasks, pool.map(count, tasks), strict=True):
                    tally.merge(part)
                    taken += stopped
                    if stopped < len(task):  # a personality note: the rest goes in order, here
                        pool.shutdown(cancel_futures=True)
                        break
                    if progress is not None:
                        progress(task[-1].read - done)
                    done = task[-1].read
        except (OSError, ImportError, NotImplementedError, concurrent.futures.process.BrokenProcessPool):
            pass  # no worker processes on this system, or one died: what is left is counted here
        spans = spans[taken:]
    for span in spans:
        if progress is not None and span.read > done:
            progress(span.read - done)
            done = span.read
        if span.start == span.end:
            continue
        _scan_block(*_block(mm, span, begin), state, tally)
        _release(mm, span)
    if progress is not None and len(mm) > done:
        progress(len(mm) - done)
    stream.seek(len(mm))


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
    jobs: int = 1,
    text_only: bool = False,
) -> collections.Counter[tuple[Arch, str]]:
    r"""Count the calls of one strace log (one file of a ``-ff`` set is one log).

    Names are strace's, with ``syscall_0x…`` resolved where a table knows the
    number; a name no table knows is kept as printed, for the caller to report.
    ``progress`` is called with the number of bytes read after each block of
    ``block_size`` bytes.

    A plain file (as `open_trace` opens it) is mapped and matched in place rather
    than read; with ``jobs`` > 1 and at least `PARALLEL_MIN` bytes, its blocks are
    counted by that many worker processes (the file is reopened by name). The counts
    are the same either way: a trace whose order matters (personality notes) is
    counted in order from the first block that has one.

    ``text_only``: a NUL byte (strace never writes one) ends the count with a
    ``FormatError``, so binary data such as ``/dev/zero`` is refused at once.

    >>> log = io.BytesIO(b'execve("/bin/true", ["true"], 0x7ffd) = 0\nbrk(NULL) = 0x1\nbrk(0x2) = 0x2\n')
    >>> sorted((abi.value, name, n) for (abi, name), n in count_file(log).items())
    [('x86_64', 'brk', 2), ('x86_64', 'execve', 1)]
    """
    state = _State(arch)
    tally = _Tally()
    mm = _mapped(stream)
    if mm is not None:
        with mm:
            _count_mapped(
                cast("io.FileIO", stream), mm, state, tally, progress, block_size, jobs, text_only=text_only
            )
        return tally.result()
    for block in _blocks(stream, progress, block_size, text_only=text_only):
        _scan_block(block, 0, len(block), state, tally)
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

"""The strace parser on real strace 6.1 output captured on this machine (see tests/fixtures/good/strace/README.md).

The oracle is strace itself: the ``*-summary.txt`` fixtures were captured with ``-C``,
which appends strace's own per-syscall call counts to the trace, split by personality.
"""

from __future__ import annotations

import bz2
import collections
import concurrent.futures
import gzip
import io
import lzma
import mmap
import re
import threading
from pathlib import Path

import pytest

from seccompose.arch import Arch
from seccompose.formats import strace
from seccompose.formats.strace import count_calls, count_file, iter_calls, open_trace, resolve_name

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "good" / "strace"
X86_64, X86 = Arch.X86_64, Arch.X86

# Calls that never return are not in strace's summary; numbers strace cannot name are not
# either (so neither is cachestat, which strace 6.1 prints as syscall_0x1c3).
NEVER_RETURN = {"exit", "exit_group"}
_ROW = re.compile(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$")


def _summary(path: Path) -> collections.Counter[tuple[Arch, str]]:
    """strace -C's table: calls per (personality, syscall)."""
    counts: collections.Counter[tuple[Arch, str]] = collections.Counter()
    abi = X86_64
    for line in path.read_text().splitlines():
        if "summary for 32 bit mode" in line:
            abi = X86
        row = _ROW.match(line)
        if row and row[2] != "total":
            counts[abi, row[2]] = int(row[1])
    assert counts, f"no summary table in {path}"
    return counts


def _parse(path: Path) -> collections.Counter[tuple[Arch, str]]:
    with open_trace(path) as stream:
        return count_file(stream, arch=X86_64)


def _comparable(counts: collections.Counter[tuple[Arch, str]]) -> collections.Counter[tuple[Arch, str]]:
    return collections.Counter(
        {
            k: n
            for k, n in counts.items()
            if k[1] not in NEVER_RETURN and k[1] != "cachestat" and not k[1].startswith("syscall_")
        }
    )


@pytest.mark.parametrize("name", ["stderr-f-summary.txt", "f-t-i-n-summary.txt"])
def test_counts_and_abis_match_straces_own_summary(name: str) -> None:
    # stderr output carries the "[ Process PID=N runs in 32 bit mode. ]" note; -i carries
    # 8-digit instruction pointers for the 32-bit child. Either way the ABI is known.
    path = FIXTURES / name
    assert _comparable(_parse(path)) == _summary(path)


@pytest.mark.parametrize("name", ["f-summary.txt", "threads-summary.txt"])
def test_counts_match_straces_summary_when_the_abi_is_not_in_the_log(name: str) -> None:
    # With -o FILE strace writes no personality note: the 32-bit child's write/getpid are
    # names x86_64 has too, so they count as x86_64. Totals per name still agree.
    path = FIXTURES / name
    assert _by_name(_comparable(_parse(path))) == _by_name(_summary(path))


def _by_name(counts: collections.Counter[tuple[Arch, str]]) -> collections.Counter[str]:
    out: collections.Counter[str] = collections.Counter()
    for (_, name), n in counts.items():
        out[name] += n
    return out


def test_threads_trace_has_unfinished_calls_counted_once() -> None:
    path = FIXTURES / "threads-summary.txt"
    text = path.read_text()
    assert text.count("<unfinished ...>") > 50  # the fixture really exercises the pairs
    assert _comparable(_parse(path))[X86_64, "futex"] == _summary(path)[X86_64, "futex"]


def test_all_prefix_styles_give_the_same_calls() -> None:
    # The same program traced with -f, -f -tt -T, -ttt (no -f), -f -r, -f -Y, -ff.
    names = [
        {n for (_, n) in _parse(FIXTURES / f)}
        for f in ("f-summary.txt", "f-tt-T.txt", "ttt-no-f.txt", "f-r.txt", "f-Y.txt", "stderr-f-summary.txt")
    ]
    ff = set().union(*({n for (_, n) in _parse(p)} for p in sorted((FIXTURES / "ff").iterdir())))
    for other in (names[1], names[3], names[4], names[5], ff):
        assert other == names[0]
    # Without -f only the parent is traced: none of the child's own calls after the fork.
    assert names[2] < names[0]
    assert names[0] - names[2] <= {"set_robust_list", "execve", "exit", "getpid"}


def test_unknown_numbers_resolve_through_the_tables() -> None:
    # probe.c calls syscall 451 (cachestat, newer than strace 6.1) and 1000 (no such call).
    counts = _parse(FIXTURES / "f-summary.txt")
    assert "syscall_0x1c3(" in (FIXTURES / "f-summary.txt").read_text()
    assert counts[X86_64, "cachestat"] == 1
    assert counts[X86_64, "syscall_0x3e8"] == 1


def test_32_bit_child_is_attributed_to_x86() -> None:
    counts = _parse(FIXTURES / "stderr-f-summary.txt")
    assert {n for (abi, n) in counts if abi is X86} == {"write", "getpid", "exit"}


def test_real_single_32_bit_process() -> None:
    counts = _parse(FIXTURES / "stderr-32bit-only.txt")
    assert counts == collections.Counter(
        {(X86_64, "execve"): 1, (X86, "write"): 1, (X86, "getpid"): 1, (X86, "exit"): 1}
    )


def test_ff_files_are_one_process_each() -> None:
    files = sorted((FIXTURES / "ff").iterdir())
    assert len(files) == 2
    child = [p for p in files if "execve" in p.read_text() and "hello32" in p.read_text()]
    assert len(child) == 1
    assert {n for (_, n) in _parse(child[0])} == {"set_robust_list", "execve", "write", "getpid", "exit"}


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('read(3, "", 1) = 0', [(X86_64, "read")]),
        ('1234  read(3, "", 1) = 0', [(X86_64, "read")]),
        ('[pid  1234] read(3, "", 1) = 0', [(X86_64, "read")]),
        ('1234<nginx> read(3, "", 1) = 0', [(X86_64, "read")]),  # -Y
        ('12:34:56 read(3, "", 1) = 0', [(X86_64, "read")]),  # -t
        ('12:34:56.123456 read(3, "", 1) = 0 <0.000010>', [(X86_64, "read")]),  # -tt -T
        ('1700000000.123456 read(3, "", 1) = 0', [(X86_64, "read")]),  # -ttt
        ('     0.000123 read(3, "", 1) = 0', [(X86_64, "read")]),  # -r
        ("1234  19:08:21 [   0] [00007fb84d3d3c47] read(3) = 0", [(X86_64, "read")]),  # -t -n -i
        ('1234  [08049016] write(1, "hi", 2) = 2', [(X86, "write")]),  # -i, 32-bit pointer
        ("1234  [0000000000401000] read(3) = 0", [(X86_64, "read")]),  # an all-digit 64-bit pointer is not -n
        ("_llseek(3, 0, [0], SEEK_SET) = 0", [(X86, "_llseek")]),  # only the 32-bit table has it
        ("restart_syscall(<... resumed interrupted read ...>) = 0", [(X86_64, "restart_syscall")]),
        ("1234  --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED} ---", []),
        ("1234  +++ exited with 0 +++", []),
        ("1234  +++ killed by SIGKILL +++", []),
        ("strace: Process 1234 attached", []),
        (" > /usr/lib/x86_64-linux-gnu/libc.so.6(read+0x12) [0x10e5f2]", []),  # -k stack line
        ("????( <unfinished ...>", []),
        ("", []),
    ],
)
def test_line_forms(line: str, expected: list[tuple[Arch, str]]) -> None:
    assert list(iter_calls([line])) == expected
    assert count_calls([line]) == collections.Counter(expected)


def test_resumed_half_is_not_a_second_call_but_counts_if_its_start_is_missing() -> None:
    lines = [
        "7 read(3,  <unfinished ...>",
        "8 getpid() = 8",
        '7 <... read resumed>"x", 1) = 1',
        "9 <... poll resumed>) = 1",
    ]
    assert list(iter_calls(lines)) == [(X86_64, "read"), (X86_64, "getpid"), (X86_64, "poll")]
    assert count_calls(lines) == collections.Counter({(X86_64, "read"): 1, (X86_64, "getpid"): 1, (X86_64, "poll"): 1})


def test_personality_note_switches_only_that_pid_until_it_switches_back() -> None:
    lines = [
        '[pid 10] execve("./a32", ["a32"], 0x7ffd) = 0',
        "[pid 10] [ Process PID=10 runs in 32 bit mode. ]",
        '[pid 10] write(1, "hi", 2) = 2',
        '[pid 11] write(1, "hi", 2) = 2',
        '[pid 10] execve("./a64", ["a64"], 0xff) = 0',
        "[pid 10] [ Process PID=10 runs in 64 bit mode. ]",
        "[pid 10] getpid() = 10",
        "[ Process PID=12 runs in x32 mode. ]",
        "[pid 12] getpid() = 12",
    ]
    assert list(iter_calls(lines)) == [
        (X86_64, "execve"), (X86, "write"), (X86_64, "write"), (X86, "execve"), (X86_64, "getpid"), (Arch.X32, "getpid"),
    ]  # fmt: skip
    assert count_calls(lines) == collections.Counter(iter_calls(lines))


def test_single_32_bit_process_traced_to_stderr() -> None:
    # `strace ./prog32`: no pid prefixes at all, the note names the pid.
    lines = [
        'execve("./a32", ["a32"], 0x7ffd) = 0',
        "[ Process PID=9 runs in 32 bit mode. ]",
        "getpid() = 9",
        "+++ exited with 0 +++",
    ]
    assert list(iter_calls(lines)) == [(X86_64, "execve"), (X86, "getpid")]
    assert count_calls(lines) == collections.Counter(iter_calls(lines))


def test_reused_pid_after_exit_is_back_on_the_host_abi() -> None:
    lines = ["[pid 5] [ Process PID=5 runs in 32 bit mode. ]", "[pid 5] getpid() = 5", "[pid 5] +++ exited with 0 +++",
             "[pid 5] getpid() = 5"]  # fmt: skip
    assert list(iter_calls(lines)) == [(X86, "getpid"), (X86_64, "getpid")]


def test_resolve_name() -> None:
    assert resolve_name(X86_64, "syscall_451") == "cachestat"
    assert resolve_name(X86, "syscall_0x1c3") == "cachestat"  # same number on i386
    assert resolve_name(Arch.X32, "syscall_0x200") == "rt_sigaction"  # x32 numbers carry bit 30
    assert resolve_name(Arch.ARM, "syscall_0xf0005") == "set_tls"  # arm private calls: 0xf0000 + n
    assert resolve_name(Arch.MIPS, "syscall_0x1") == "syscall_0x1"  # no table: unchanged
    assert resolve_name(X86_64, "openat") == "openat"


@pytest.mark.parametrize("opener", [gzip.open, bz2.open, lzma.open])
def test_compressed_traces(tmp_path: Path, opener: object) -> None:
    suffix = {gzip.open: ".gz", bz2.open: ".bz2", lzma.open: ".xz"}[opener]  # type: ignore[index]
    path = tmp_path / f"t{suffix}"
    with opener(path, "wb") as out:  # type: ignore[operator]
        out.write((FIXTURES / "f-summary.txt").read_bytes())
    assert _parse(path) == _parse(FIXTURES / "f-summary.txt")


def test_block_boundaries_do_not_change_the_result() -> None:
    data = (FIXTURES / "threads-summary.txt").read_bytes()
    whole = count_file(io.BytesIO(data))
    assert count_file(io.BytesIO(data), block_size=97) == whole  # lines cut anywhere, many blocks
    assert len(data) < strace.BLOCK_SIZE  # so `whole` was one block


def test_a_line_over_a_megabyte_is_dropped_whole() -> None:
    # Its tail looks like a call; read from the middle it would be taken for one.
    data = b"write(1, " + b"x" * 2_000_000 + b"\nread(0) = 0\ngetpid() = 1\n"
    assert count_file(io.BytesIO(data), block_size=4096) == collections.Counter(
        {(X86_64, "read"): 1, (X86_64, "getpid"): 1}
    )
    tail = b"y" * 2_000_000 + b"\n open(0) = 0\ngetpid() = 1\n"
    expected = collections.Counter({(X86_64, "open"): 1, (X86_64, "getpid"): 1})
    assert count_file(io.BytesIO(tail), block_size=4096) == expected


def test_progress_reports_every_byte() -> None:
    data = (FIXTURES / "f-summary.txt").read_bytes()
    seen: list[int] = []
    count_file(io.BytesIO(data), progress=seen.append)
    assert sum(seen) == len(data)


def _mixed_log(notes: str) -> bytes:
    """The fixtures one after another; the ones with personality notes first, last or left out."""
    plain = [FIXTURES / n for n in ("f-summary.txt", "threads-summary.txt", "f-Y.txt", "f-r.txt", "ttt-no-f.txt")]
    noted = [FIXTURES / "stderr-f-summary.txt", FIXTURES / "stderr-32bit-only.txt"]
    files = {"first": noted + plain, "last": plain + noted, "none": plain}[notes]
    return b"".join(p.read_bytes() for p in files * 3)


@pytest.mark.parametrize("notes", ["first", "last", "none"])
def test_worker_processes_count_what_one_process_does(
    notes: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(strace, "PARALLEL_MIN", 0)  # share even a small file: many tasks of one block
    monkeypatch.setattr(strace, "_TASK_SPANS", 1)
    data = _mixed_log(notes)
    path = tmp_path / "trace"
    path.write_bytes(data)
    expected = count_file(io.BytesIO(data), block_size=4096)
    assert (expected[X86, "getpid"] > 0) == (notes != "none")  # the notes do switch ABIs
    assert strace._fork_context() is not None  # workers really start here (one thread, fork available)
    for jobs in (1, 2, 3):
        seen: list[int] = []
        with open_trace(path) as stream:
            assert count_file(stream, block_size=4096, jobs=jobs, progress=seen.append) == expected
        assert sum(seen) == len(data)


def test_a_file_replaced_under_the_workers_is_counted_by_the_caller(tmp_path: Path) -> None:
    path = tmp_path / "trace"
    path.write_bytes(b"getpid() = 1\n" * 10)
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        spans = list(strace._spans(mm, 0, 64))
    tally, stopped = strace._count_spans(str(path), (0, 0, 0), 0, X86_64, spans)  # not this file: do nothing
    assert (tally.calls, stopped) == (collections.Counter(), 0)
    info = path.stat()
    tally, stopped = strace._count_spans(str(path), (info.st_dev, info.st_ino, info.st_size), 0, X86_64, spans)
    assert (tally.calls, stopped) == (collections.Counter({(X86_64, "getpid"): 10}), len(spans))


def test_a_mapped_file_is_read_from_where_the_stream_stands(tmp_path: Path) -> None:
    path = tmp_path / "trace"
    path.write_bytes(b"read(0) = 0\ngetpid() = 1\n")
    with open_trace(path) as stream:
        stream.seek(5)  # inside "read(": the rest of that line is not a call
        assert count_file(stream) == collections.Counter({(X86_64, "getpid"): 1})
        assert stream.read() == b""


def _no_pool(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """Share even a small file, and make starting worker processes raise ``error``."""

    def pool(*_: object, **__: object) -> None:
        raise error

    monkeypatch.setattr(strace, "PARALLEL_MIN", 0)
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", pool)


def _file_and_memory_counts(tmp_path: Path, data: bytes) -> tuple[collections.Counter[tuple[Arch, str]], ...]:
    """``data`` counted from a file with ``jobs=2``, and from memory in one process."""
    path = tmp_path / "trace"
    path.write_bytes(data)
    with open_trace(path) as stream:
        return count_file(stream, block_size=4096, jobs=2), count_file(io.BytesIO(data), block_size=4096)


def test_without_worker_processes_the_caller_counts_it_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_pool(monkeypatch, NotImplementedError("no sem_open here"))
    from_file, in_memory = _file_and_memory_counts(tmp_path, _mixed_log("last"))
    assert from_file == in_memory


def test_a_process_with_other_threads_counts_without_forking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_pool(monkeypatch, AssertionError("forked with another thread running"))
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert strace._fork_context() is None
        from_file, in_memory = _file_and_memory_counts(tmp_path, _mixed_log("none"))
        assert from_file == in_memory
    finally:
        release.set()
        other.join()

"""Fuzzed strace and audit input: the parsers never crash, agree with each other, and find real calls.

The strace reader's fast paths are checked against the plain ones: the bulk count of
line words (`_scan_fast`) against `_LINE` over the whole block (`_scan_unordered`), and
a mapped file's blocks (`_spans`) against the blocks read from a stream (`_blocks`).
"""

from __future__ import annotations

import io
import mmap
import tempfile
from pathlib import Path
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from seccompose.arch import Arch
from seccompose.formats import audit, strace
from seccompose.syscalls import table

X86_64_NAMES = sorted(table(Arch.X86_64))

garbage_text = st.text(max_size=200)
garbage_bytes = st.binary(max_size=300)
# Lines that cannot be calls: strace's own non-call lines, and text with no "(" or "<".
non_calls = st.one_of(
    st.builds(
        lambda s: f"--- SIG{s} {{si_signo={s}}} ---", st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=8)
    ),
    st.builds(lambda n: f"+++ exited with {n} +++", st.integers(0, 255)),
    st.builds(lambda p: f"strace: Process {p} attached", st.integers(1, 99999)),
    st.text(alphabet=st.characters(blacklist_characters="(<\n\r"), max_size=80),
)


@st.composite
def call_lines(draw: st.DrawFn) -> tuple[str, str]:
    """A well-formed strace line for a real x86_64 syscall, with a random set of prefixes."""
    name = draw(st.sampled_from(X86_64_NAMES))
    pid = draw(st.sampled_from(["", "1234  ", "[pid  77] ", "42<nginx> "]))
    stamp = draw(st.sampled_from(["", "19:08:21 ", "19:08:21.431228 ", "1795979301.463730 ", "     0.000172 "]))
    number = draw(st.sampled_from(["", "[ 257] "]))
    pointer = draw(st.sampled_from(["", "[00007fb84d3d3c47] "]))
    args = draw(st.text(max_size=40).map(lambda t: t.replace("\n", " ").replace("\r", " ")))
    tail = draw(st.sampled_from([") = 0", ") = -1 EPERM (Operation not permitted)", " <unfinished ...>", ") = ?"]))
    return f"{pid}{stamp}{number}{pointer}{name}({args}{tail}", name


@given(st.lists(st.one_of(garbage_text, garbage_bytes), max_size=30))
def test_garbage_never_crashes_and_both_readers_agree(lines: list[str | bytes]) -> None:
    found = list(strace.iter_calls(lines))
    counted = strace.count_calls(lines)
    assert set(found) == set(counted)
    for abi, name in found:
        assert isinstance(abi, Arch)
        assert name


@given(st.binary(max_size=5000), st.integers(1, 64))
def test_any_bytes_any_block_size(data: bytes, block: int) -> None:
    small = strace.count_file(io.BytesIO(data), block_size=block)  # lines cut at every possible place
    assert small == strace.count_file(io.BytesIO(data))


@given(st.lists(st.tuples(call_lines(), st.lists(non_calls, max_size=3)), min_size=1, max_size=20))
def test_real_calls_are_found_among_noise(items: list[tuple[tuple[str, str], list[str]]]) -> None:
    lines: list[str] = []
    expected: list[tuple[Arch, str]] = []
    for (line, name), noise in items:
        lines.append(line)
        lines.extend(noise)
        expected.append((Arch.X86_64, name))
    assert list(strace.iter_calls(lines)) == expected
    assert set(strace.count_calls(lines)) == set(expected)


@given(st.one_of(garbage_text, garbage_bytes))
def test_audit_parser_never_crashes(line: str | bytes) -> None:
    found = audit.parse_record(line)
    assert found is None or (isinstance(found[0], Arch) and found[1])


@given(st.sampled_from(X86_64_NAMES), st.text(alphabet=st.characters(blacklist_characters="=\n\x1d"), max_size=60))
def test_audit_record_with_noise_around_it(name: str, noise: str) -> None:
    number = table(Arch.X86_64).number(name)
    line = f"{noise} type=SECCOMP msg=audit(1.2:3): pid=1 sig=0 arch=c000003e syscall={number} compat=0 code=0x7ffc0000"
    assert audit.parse_record(line) == (Arch.X86_64, name)


# Line pieces for the fast path: every prefix strace writes, and near misses of each
# (tabs, missing spaces, lone brackets, prefix-only lines that `_LINE` reads across a newline).
_PIECES = st.sampled_from(
    [
        *("", " ", "\t", "1234 ", "1234  ", "42<nginx> ", "42<a (b> ", "42<x>", "[pid  77] ", "[pid 7]", "[pid "),
        *("19:08:21 ", "19:08:21.431228 ", "1795979301.463730 ", "     0.000172 ", "[ 257] ", "[257]", "[123456] "),
        *("[00007fb84d3d3c47] ", "[f7f0a549] ", "[????????????????] ", "12", "12 ", "1 2 ", "\r", " \x0b", "[", "]"),
        *(":", ".", "a", "d", "pid"),
    ]
)
_ENDS = st.sampled_from(
    [
        *("", "read(", 'write(1, "x", 1) = 1', "_llseek(3, 0) = 0", "mmap2(0) = 0", "syscall_0x1c3(0) = -1"),
        *("syscall_999(", "<... read resumed>) = 0", "<... _llseek resumed>", "<...read resumed>", "(", "foo"),
        *("+++ exited with 0 +++", "+++ killed by SIGKILL +++", "+++ superseded +++", "+++", "---"),
        *("--- SIGCHLD {} ---", " +++ exited with 1 +++"),
        *("Read(", "a" * 64 + "(", "a" * 65 + "(", "x y(", "<... a resumed>x(", "9bad(", "strace: Process 5 attached"),
        *("[ Process PID=7 runs in 32 bit mode. ]", "[ Process PID=7 runs in x32 mode. ]", "x([ Process PID=1 runs in"),
    ]
)
_LINES = st.builds(
    lambda pieces, end, tail: "".join(pieces) + end + tail,
    st.lists(_PIECES, max_size=5),
    _ENDS,
    st.sampled_from(["", " <unfinished ...>", " ", "\t", " 12", "\r"]),
)


@settings(max_examples=500)
@given(st.lists(_LINES, max_size=25), st.sampled_from([Arch.X86_64, Arch.AARCH64]))
def test_bulk_word_count_is_the_full_regex_count(lines: list[str], arch: Arch) -> None:
    block = ("\n" + "\n".join(lines) + "\n").encode()
    plain, fast = strace._Tally(), strace._Tally()
    strace._scan_unordered(block, 0, len(block), strace._State(arch), plain)
    verdict = strace._scan_fast(block, 0, len(block), strace._State(arch), fast)
    if verdict == "done":
        assert (fast.calls, fast.resumed) == (plain.calls, plain.resumed)
    else:  # a personality note, or a line `_LINE` may read across a newline: left to the caller
        assert not fast.calls
        assert not fast.resumed
    if any(match[7] for match in strace._LINE.finditer(block)):  # `_LINE` reads a note: order matters
        assert verdict == "order"


def _reference_scan(block: bytes, state: strace._State, tally: strace._Tally) -> None:
    """How a block was counted before the fast path: what `_scan_block` must still give."""
    if state.modes or b"runs in " in block:
        for match in strace._LINE.finditer(block):
            step = state.step(match.groups(b""))  # type: ignore[arg-type]
            if step is not None:
                tally.add(step)
    else:
        strace._scan_unordered(block, 0, len(block), state, tally)


_NOTES = st.sampled_from(
    [
        *("[ Process PID=7 runs in 32 bit mode. ]", "[pid 7] [ Process PID=7 runs in 32 bit mode. ]"),
        *("7 [ Process PID=7 runs in x32 mode. ]", "[pid 8] [ Process PID=8 runs in 64 bit mode. ]"),
        *(
            "7 +++ exited with 0 +++",
            "[pid 7] +++ killed by SIGKILL +++",
            "12<[ Process PID=7 runs in 32 bit mode. ]> x(",
        ),
        *("7 read(0) = 0", "[pid 7] write(1) = 1", "8 getpid() = 8", "7  <... read resumed>) = 0", "12 runs in "),
    ]
)


@settings(max_examples=300)
@given(st.lists(st.lists(st.one_of(_LINES, _NOTES), max_size=12), max_size=4))
def test_blocks_count_as_they_did_before_the_fast_path(blocks: list[list[str]]) -> None:
    state, tally = strace._State(Arch.X86_64), strace._Tally()
    ref_state, ref_tally = strace._State(Arch.X86_64), strace._Tally()
    for lines in blocks:
        block = ("\n" + "\n".join(lines) + "\n").encode()
        strace._scan_block(block, 0, len(block), state, tally)
        _reference_scan(block, ref_state, ref_tally)
        assert (tally.calls, tally.resumed, state.modes) == (ref_tally.calls, ref_tally.resumed, ref_state.modes)


@given(st.lists(_LINES, max_size=25))
def test_the_fast_path_is_taken_for_ordinary_lines(lines: list[str]) -> None:
    # It gives up only for a personality note or a line of prefixes alone; here there are neither.
    block = ("\n" + "\n".join(f"{line} = 0" for line in lines if "[ Process" not in line) + "\n").encode()
    assert strace._scan_fast(block, 0, len(block), strace._State(Arch.X86_64), strace._Tally()) == "done"


@given(
    st.lists(st.one_of(st.binary(max_size=40), st.sampled_from([b"\n", b"\n\n", b"x" * 30])), max_size=40),
    st.integers(1, 50),
    st.integers(0, 5),
)
def test_a_mapped_file_is_cut_into_the_blocks_a_stream_is(parts: list[bytes], size: int, skip: int) -> None:
    data = b"".join(parts)
    with mock.patch.object(strace, "_MAX_LINE", 20), tempfile.TemporaryDirectory() as tmp:  # long lines dropped
        path = Path(tmp) / "trace"
        path.write_bytes(data)
        stream = io.BytesIO(data)
        stream.seek(min(skip, len(data)))
        read = list(strace._blocks(stream, None, size))
        with path.open("rb", buffering=0) as f:
            begin = min(skip, len(data))
            if begin == len(data):
                assert read == []
                return
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                spans = [s for s in strace._spans(mm, begin, size) if s.start != s.end]  # empty: progress only
                mapped = [bytes(buf[start:end]) for buf, start, end in (strace._block(mm, span, begin) for span in spans)]
        assert mapped == read

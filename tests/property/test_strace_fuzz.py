"""Fuzzed strace and audit input: the parsers never crash, agree with each other, and find real calls."""

from __future__ import annotations

import io

from hypothesis import given
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

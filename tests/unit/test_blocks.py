"""The one bounded line reader under strace and audit: every line within the limit, in order, and no other."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seccompose.errors import FormatError
from seccompose.formats import audit, strace
from seccompose.formats._blocks import read_blocks

line = st.binary(max_size=14).map(lambda b: b.replace(b"\n", b"").replace(b"\0", b""))


def _model(data: bytes) -> list[bytes]:
    """The lines of a text: newline-separated, the last one even without its newline."""
    pieces = data.split(b"\n")
    return pieces[:-1] if pieces[-1] == b"" else pieces


class _Trickle(io.RawIOBase):
    """A pipe that hands out at most ``step`` bytes per read (as a slow writer does)."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.step = data, step

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        out, self.data = self.data[: min(n, self.step)], self.data[min(n, self.step) :]
        return out


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(line, max_size=25), end=st.booleans(), size=st.integers(1, 20), step=st.integers(1, 20))
def test_audit_reads_every_line_within_the_limit(lines: list[bytes], end: bool, size: int, step: int) -> None:
    data = b"\n".join(lines) + (b"\n" if end and lines else b"")
    with pytest.MonkeyPatch.context() as m:
        m.setattr(audit, "_MAX_LINE", 8)
        m.setattr(audit, "_BLOCK", size)
        got = list(audit._lines(_Trickle(data, step), None, text_only=True))  # type: ignore[arg-type]
    assert got == [x for x in _model(data) if len(x) <= 8]


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(line, max_size=25), end=st.booleans(), size=st.integers(1, 20))
def test_blocks_hold_whole_lines_in_order_and_every_short_one(lines: list[bytes], end: bool, size: int) -> None:
    data = b"\n".join(lines) + (b"\n" if end and lines else b"")
    with pytest.MonkeyPatch.context() as m:
        m.setattr(strace, "_MAX_LINE", 8)
        blocks = list(strace._blocks(io.BytesIO(data), None, size))
    assert all(b.startswith(b"\n") and b.endswith(b"\n") for b in blocks)
    got = [x for b in blocks for x in b[1:-1].split(b"\n")]
    model = _model(data)
    assert [x for x in got if len(x) <= 8] == [x for x in model if len(x) <= 8]
    it = iter(model)
    assert all(any(x == y for y in it) for x in got), "a line that is not one of the input's, or out of order"


def test_progress_counts_every_byte_and_nul_is_each_formats_error() -> None:
    seen: list[int] = []
    list(read_blocks(io.BytesIO(b"a\n" * 10), seen.append, 3, max_line=8, binary=ValueError))
    assert sum(seen) == 20
    with pytest.raises(FormatError, match="byte 4: this is binary data, not an audit log"):
        list(audit._lines(io.BytesIO(b"abc\n\0"), None, text_only=True))
    with pytest.raises(FormatError, match="byte 4: this is binary data, not an strace or audit log"):
        list(strace._blocks(io.BytesIO(b"abc\n\0"), None, 64, text_only=True))

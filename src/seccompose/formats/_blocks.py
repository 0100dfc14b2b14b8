r"""Whole lines of a log, read in bounded blocks: the one reader under ``strace`` and ``audit``.

A line longer than the reader's limit is dropped whole, so memory stays bounded and its middle is
never read as the start of a line; with ``text_only``, a NUL byte is binary data and an error.

>>> import io
>>> list(read_blocks(io.BytesIO(b"a\nbb\n" + b"x" * 9 + b"\nc"), None, 4, max_line=4, binary=ValueError))
[b'\na\n', b'\nbb\n', b'\nc\n']
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import BinaryIO

__all__ = ["read_blocks"]


def read_blocks(
    stream: BinaryIO,
    progress: Callable[[int], None] | None,
    size: int,
    *,
    max_line: int,
    binary: Callable[[int], Exception],
    text_only: bool = False,
) -> Iterator[bytes]:
    r"""Yield ``b"\n" + whole lines`` blocks of a binary stream, read ``size`` bytes at a time.

    ``progress`` is told each read's length; a line of more than ``max_line`` bytes is dropped
    (a longer one may still be yielded when it ends in the block it grew in: callers that cap
    line length filter lines too); with ``text_only``, ``binary(offset)`` is raised at the first
    NUL byte.
    """
    rest = b""
    skipping = False
    offset = 0
    while True:
        data = stream.read(size)
        if not data:
            break
        nul = data.find(b"\0") if text_only else -1
        if nul >= 0:
            raise binary(offset + nul)
        offset += len(data)
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
            if len(rest) > max_line:
                rest = b""
                skipping = True
            continue
        yield b"\n" + rest + data[: cut + 1]
        rest = data[cut + 1 :]
    if rest and not skipping:
        yield b"\n" + rest + b"\n"

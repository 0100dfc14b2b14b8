r"""Write ``-o FILE`` atomically: a temporary file in the target directory, renamed into place.

Private; every command's ``-o`` goes through :func:`write_text`. A write that fails half
way (disk full, the file size limit, a signal) leaves the previous file byte for byte as it
was and no temporary file behind; the new file keeps the old one's permissions (and owner,
where this process may set it). A symlink is not written through unless asked
(``--follow-symlinks``): replacing what a link points at is a decision, not a side effect.
Targets that are not regular files (``/dev/stdout``, ``/dev/null``, a FIFO) are streams with
nothing to replace, so they are written directly.

>>> import pathlib, tempfile
>>> out = pathlib.Path(tempfile.mkdtemp()) / "p.json"
>>> write_text(str(out), "{}\n")
>>> out.read_text()
'{}\n'
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import stat
import sys
from pathlib import Path

from seccompose.errors import OutputError

TYPE_CHECKING = False  # not typing's: this module is on every command's path
if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["FOLLOW_SYMLINKS", "write_text"]

FOLLOW_SYMLINKS: contextvars.ContextVar[bool] = contextvars.ContextVar("FOLLOW_SYMLINKS", default=False)
"""Whether ``-o`` may replace the file a symlink points at (the CLI sets it from ``--follow-symlinks``)."""


def write_text(output: str, text: str, *, follow_symlinks: bool | None = None) -> None:
    """Write ``text`` to ``output`` (``-``: stdout) atomically.

    Raises:
        OutputError: the file cannot be written (the message says the old file is unchanged),
            is a directory, or is a symlink and ``follow_symlinks`` is off.
    """
    if output == "-":
        sys.stdout.write(text)
        return
    follow = FOLLOW_SYMLINKS.get() if follow_symlinks is None else follow_symlinks
    path = Path(output)
    data = text.encode("utf-8")
    try:
        before = path.lstat()
    except FileNotFoundError:
        before = None
    except OSError as exc:
        raise OutputError(output, exc.strerror or str(exc)) from None
    if before is not None and stat.S_ISLNK(before.st_mode):
        try:
            target = path.stat()
        except OSError:
            target = None
        if target is not None and not stat.S_ISREG(target.st_mode) and not stat.S_ISDIR(target.st_mode):
            _stream(path, data, output)  # /dev/stdout -> /proc/self/fd/1: a stream, not a file
            return
        if not follow:
            raise OutputError(
                output,
                "it is a symlink; seccompose does not write through links unless asked: pass --follow-symlinks "
                "to replace the file it points at, or remove the link",
            )
        path = Path(os.path.realpath(path))
        try:
            before = path.lstat()
        except FileNotFoundError:
            before = None
    if before is not None and stat.S_ISDIR(before.st_mode):
        raise OutputError(output, "it is a directory; name a file")
    if before is not None and not stat.S_ISREG(before.st_mode):
        _stream(path, data, output)  # a device or a FIFO: nothing to replace
        return
    _replace(path, data, before, output)


def _stream(path: Path, data: bytes, output: str) -> None:
    try:
        with _no_sigxfsz(), path.open("wb") as handle:
            handle.write(data)
    except OSError as exc:
        raise OutputError(output, exc.strerror or str(exc)) from None


def _replace(path: Path, data: bytes, before: os.stat_result | None, output: str) -> None:
    try:
        fd, tmp = _temporary(path)
    except OSError as exc:
        raise OutputError(output, exc.strerror or str(exc)) from None
    try:
        with _no_sigxfsz():
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        os.fsync(fd)
        if before is not None:
            os.fchmod(fd, stat.S_IMODE(before.st_mode))
            with contextlib.suppress(OSError):  # only root may give a file away; keep ours then
                os.fchown(fd, before.st_uid, before.st_gid)
        else:
            os.fchmod(fd, 0o666 & ~_umask())  # what open() would have made; mkstemp makes 0600
        os.close(fd)
        fd = -1
        Path(tmp).replace(path)
    except OSError as exc:
        _discard(fd, tmp)
        unchanged = f"; {output} is unchanged" if before is not None else ""
        raise OutputError(output, f"{exc.strerror or exc}{unchanged}") from None
    except BaseException:
        _discard(fd, tmp)
        raise
    with contextlib.suppress(OSError):  # the rename itself durable; best effort (some filesystems refuse)
        directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _temporary(path: Path) -> tuple[int, str]:
    """A new file beside ``path``, mode 0600 (what tempfile.mkstemp does, without importing it)."""
    for _ in range(100):
        tmp = str(path.parent / f".{path.name}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {path}")


def _discard(fd: int, tmp: str) -> None:
    if fd >= 0:
        with contextlib.suppress(OSError):
            os.close(fd)
    with contextlib.suppress(OSError):
        Path(tmp).unlink()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def _no_sigxfsz() -> Iterator[None]:
    """Ignore SIGXFSZ while writing, so a file size limit fails the write (EFBIG) instead of killing us."""
    import signal

    try:
        old = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    except ValueError:  # not the main thread: the caller's own handling stands
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGXFSZ, old)

"""A cache of ``seccompose compose`` results, so that asking again costs little more than starting Python.

Private; used by :func:`seccompose.cli.main` before it imports anything else. Composing is fast
(a millisecond once loaded), but loading the composition machinery and its data costs 20-30
times Python's own start-up; a tool that calls ``seccompose compose`` per container pays that
every time. So a successful ``compose`` that prints to stdout is kept with its warnings, and the
same command asks again gets the kept text on stdout and the kept warnings on stderr (on x86 the
default template warns about what ``socketcall`` cannot check: a quiet run is not the common case).

The key covers everything the result depends on: seccompose's version, the command line, the
working directory, every ``SECCOMPOSE_*`` variable and ``PATH``, the host (``uname``: machine and
kernel release), the identity (device, inode, size, mtime) of every file the command line names,
of every file of the installed package and its data, and of the engines' binaries (whose
versions decide the warnings). Not cached: ``-o``, ``--policy`` (a policy names further files),
stdin (``-``), and any run that fails.

The cache lives in ``$XDG_CACHE_HOME/seccompose`` (``~/.cache/seccompose``), a directory of mode
0700 that must belong to the user; an entry that does not belong to the user, or that others
could write, is ignored (a planted entry could hand out a more permissive profile). At most 256
entries are kept. ``SECCOMPOSE_CACHE=0`` turns the cache off.
"""

from __future__ import annotations

import os
import stat
import sys

TYPE_CHECKING = False  # not typing's: this module runs before anything else is imported
if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["key", "lookup", "store"]

_VERSION = "2"  # 2: an entry holds the warnings, then the output
_MAX_ENTRIES = 256
_PACKAGE = os.path.dirname(os.path.abspath(__file__))  # noqa: PTH100, PTH120 - pathlib costs ~8 ms to import
_ENGINE_BINARIES = ("/usr/sbin/dockerd", "/usr/bin/dockerd", "/usr/bin/podman", "/usr/local/bin/podman")


def _directory() -> str | None:
    if os.environ.get("SECCOMPOSE_CACHE", "1") in ("0", "off", "no", "false"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")  # noqa: PTH111, PTH118
    return os.path.join(base, "seccompose", f"compose-v{_VERSION}")  # noqa: PTH118


def _cacheable(argv: Sequence[str]) -> bool:
    if not argv or argv[0] != "compose":
        return False
    for arg in argv[1:]:
        if arg in ("-", "-o", "--output", "--policy", "-h", "--help") or arg.startswith(("--output=", "--policy=")):
            return False
    return True


def _identity(path: str) -> str:
    try:
        info = os.stat(path)  # noqa: PTH116
    except OSError:
        return f"{path}:-"
    return f"{path}:{info.st_dev}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}"


def _tree(root: str, out: list[str]) -> None:
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        out.append(f"{root}:-")
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=True):
            if entry.name != "__pycache__":
                _tree(entry.path, out)
        elif entry.name.endswith((".py", ".json", ".tsv", ".toml", ".txt", ".csv")):
            info = entry.stat()
            out.append(f"{entry.path}:{info.st_size}:{info.st_mtime_ns}")


def key(argv: Sequence[str]) -> str | None:
    """Return the cache key of a command line (None: not cacheable)."""
    if not _cacheable(argv):
        return None
    from _blake2 import blake2b  # hashlib's, without hashlib's import of OpenSSL

    from seccompose._version import __version__

    uname = os.uname()
    parts = [__version__, sys.version, repr(list(argv)), os.getcwd(), uname.machine, uname.release]  # noqa: PTH109
    parts += sorted(f"{k}={v}" for k, v in os.environ.items() if k.startswith("SECCOMPOSE_") or k == "PATH")
    parts += [_identity(a) for a in argv[1:] if "/" in a or a.endswith((".json", ".yaml", ".yml"))]
    parts += [_identity(b) for b in _ENGINE_BINARIES]
    _tree(_PACKAGE, parts)
    return blake2b("\n".join(parts).encode("utf-8", "surrogatepass"), digest_size=20).hexdigest()


def _trusted(path: str) -> bool:
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return (
        stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)
    ) and info.st_uid == os.geteuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def lookup(argv: Sequence[str]) -> tuple[str, str] | None:
    """Return the kept output and warnings (stdout, stderr) of this command line, or None."""
    directory = _directory()
    if directory is None:
        return None
    digest = key(argv)
    if digest is None:
        return None
    path = os.path.join(directory, digest)  # noqa: PTH118
    if not (_trusted(directory) and _trusted(path)):
        return None
    try:
        with open(path, encoding="utf-8") as handle:  # noqa: PTH123
            kept = handle.read()
    except (OSError, UnicodeDecodeError):
        return None
    size, newline, rest = kept.partition("\n")  # the warnings' length, then the warnings, then the output
    if not newline or not size.isdigit() or int(size) > len(rest):
        return None
    return rest[int(size) :], rest[: int(size)]


def store(argv: Sequence[str], text: str, warnings: str = "") -> None:
    """Keep the output and warnings of a successful run (best effort: a cache that cannot be written is no cache)."""
    directory = _directory()
    digest = key(argv) if directory is not None else None
    if directory is None or digest is None:
        return
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)  # noqa: PTH103
        if not _trusted(directory):
            return
        tmp = os.path.join(directory, f".{digest}.{os.getpid()}.tmp")  # noqa: PTH118
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(f"{len(warnings)}\n{warnings}{text}")
        os.replace(tmp, os.path.join(directory, digest))  # noqa: PTH105, PTH118
        _prune(directory)
    except OSError:
        return


def _prune(directory: str) -> None:
    entries = [e for e in os.scandir(directory) if e.is_file() and not e.name.startswith(".")]
    if len(entries) <= _MAX_ENTRIES:
        return
    entries.sort(key=lambda e: e.stat().st_mtime_ns)
    for entry in entries[: len(entries) - _MAX_ENTRIES]:
        try:
            os.unlink(entry.path)  # noqa: PTH108
        except OSError:
            continue

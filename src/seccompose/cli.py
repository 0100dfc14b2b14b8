"""The ``seccompose`` command line: parses arguments, calls the library, prints.

Sub-commands live in ``seccompose._commands.<name>``; see that package for the contract.
Errors (``SeccomposeError``, unreadable files) go to stderr with exit code 2 and no
traceback; so does an unexpected failure (set ``SECCOMPOSE_DEBUG=1`` for its traceback).
:func:`main` returns the exit code instead of raising ``SystemExit``, so tests and the
documentation examples call it directly.

>>> main(["--version"])  # doctest: +ELLIPSIS
seccompose ...
0
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not typing's: importing typing costs every command ~4 ms of start-up
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from typing import Protocol

    class _Command(Protocol):
        HELP: str
        EXAMPLES: str

        def configure(self, parser: argparse.ArgumentParser) -> None: ...

        def run(self, args: argparse.Namespace) -> int: ...

__all__ = ["COMMANDS", "build_parser", "main"]

COMMANDS = (
    "compose",
    "render",
    "explain",
    "diff",
    "lint",
    "learn",
    "check",
    "agent",
    "events",
    "templates",
    "caps",
    "syscalls",
    "decisions",
    "proxy",
    "completion",
)
"""Every sub-command, in the order ``seccompose --help`` lists them; a missing module is skipped."""


def _version() -> str:
    from seccompose._version import __version__

    return __version__


def _formatter(base: type[argparse.HelpFormatter]) -> type[argparse.HelpFormatter]:
    """``base`` with the terminal width taken from os, not shutil (whose import pulls bz2 and lzma: ~3 ms)."""

    class Formatter(base):  # type: ignore[valid-type,misc]
        def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24) -> None:
            try:
                width = int(os.environ["COLUMNS"])
            except (KeyError, ValueError):
                try:
                    width = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
                except (AttributeError, ValueError, OSError):
                    width = 80
            super().__init__(prog, indent_increment, max_help_position, max(width - 2, 20))

    return Formatter


def build_parser(*, only: str | None = None) -> argparse.ArgumentParser:
    """Return the argument parser with every available sub-command (``only``: just that one).

    >>> "lint" in build_parser().format_help()
    True
    """
    import argparse

    parser = argparse.ArgumentParser(
        prog="seccompose",
        description="Compose least-privilege Linux seccomp profiles for containers.",
        epilog="Run 'seccompose COMMAND --help' for a command's options and examples.",
        formatter_class=_formatter(argparse.HelpFormatter),
    )
    parser.add_argument("--version", action="version", version=f"seccompose {_version()}")
    parser.add_argument(
        "--max-input-bytes",
        metavar="SIZE",
        help="the size limit of every file or stdin read, e.g. 64M (default: 4M, policies 256K; "
        "or SECCOMPOSE_MAX_INPUT_BYTES / SECCOMPOSE_MAX_POLICY_BYTES)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        if only is not None and name != only:
            continue  # a command's module is only imported, and its options only built, when it runs
        try:
            module: _Command = __import__(f"seccompose._commands.{name}", fromlist=["run"])
        except ModuleNotFoundError as exc:
            if exc.name != f"seccompose._commands.{name}":
                raise
            continue
        cmd = sub.add_parser(
            name,
            help=module.HELP,
            description=module.HELP,
            epilog=module.EXAMPLES,
            formatter_class=_formatter(argparse.RawDescriptionHelpFormatter),
        )
        module.configure(cmd)
        _add_follow_symlinks(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


def _add_follow_symlinks(parser: argparse.ArgumentParser) -> None:
    """Give every parser with ``-o`` the ``--follow-symlinks`` flag (one place, the same meaning everywhere)."""
    import argparse

    parsers = [parser]
    for action in parser._actions:  # noqa: SLF001 - argparse keeps sub-parsers only here
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            parsers += list(action.choices.values())
    for p in parsers:
        if "--output" in p._option_string_actions:  # noqa: SLF001
            p.add_argument(
                "--follow-symlinks",
                action="store_true",
                help="if -o FILE is a symlink, replace the file it points at (default: refuse)",
            )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code: 0 ok, 1 a finding (diff, lint, check), 2 an error.

    >>> main(["explain", "opnat", "--arch", "x86_64"])
    2
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv == ["--version"]:  # no parser to build for this one
        print(f"seccompose {_version()}")
        return 0
    if argv[:1] == ["compose"]:  # asked before: the kept output (see seccompose._cli_cache)
        from seccompose import _cli_cache

        kept = _cli_cache.lookup(argv)
        if kept is not None:
            sys.stderr.write(kept[1])
            sys.stdout.write(kept[0])
            return 0
    from seccompose.errors import SeccomposeError

    parser = build_parser(only=_command_of(argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (argparse exits 2)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return _run_and_keep(args, argv) if args.command == "compose" else _run(args)
    except SeccomposeError as exc:
        print(f"seccompose {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"seccompose {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: say so in one line, keep the traceback for SECCOMPOSE_DEBUG
        if os.environ.get("SECCOMPOSE_DEBUG"):
            raise
        print(
            f"seccompose {args.command}: internal error: {type(exc).__name__}: {exc}; please report it "
            "(run with SECCOMPOSE_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return 2


def _run_and_keep(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """Run compose; keep what it printed (and warned) when it succeeded."""
    import contextlib
    import io

    from seccompose import _cli_cache

    if _cli_cache.key(argv) is None:
        return _run(args)
    out = io.StringIO()
    err = _Watched(sys.stderr)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = _run(args)
    finally:
        sys.stdout.write(out.getvalue())  # what was printed, also when the run failed half way
    if code == 0:
        _cli_cache.store(argv, out.getvalue(), err.text.getvalue())
    return code


class _Watched:
    """stderr, keeping a copy of what was written to it (the warnings, kept with the output)."""

    def __init__(self, stream: object) -> None:
        import io

        self.stream = stream
        self.text = io.StringIO()

    def write(self, text: str) -> int:
        self.text.write(text)
        return self.stream.write(text)  # type: ignore[attr-defined,no-any-return]

    def flush(self) -> None:
        self.stream.flush()  # type: ignore[attr-defined]


def _command_of(argv: Sequence[str]) -> str | None:
    """The sub-command ``argv`` runs, when nothing before it needs the whole parser (help, an unknown option).

    >>> _command_of(["--max-input-bytes", "1M", "lint", "x.json"]), _command_of(["--help", "lint"])
    ('lint', None)
    """
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--max-input-bytes":
            i += 2
        elif arg.startswith("--max-input-bytes="):
            i += 1
        elif arg.startswith("-"):
            return None
        else:
            return arg if arg in COMMANDS else None
    return None


def _run(args: argparse.Namespace) -> int:
    import contextlib

    from seccompose._writer import FOLLOW_SYMLINKS

    limit: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    if args.max_input_bytes is not None:
        from seccompose._reader import override_max_bytes, parse_size

        limit = override_max_bytes(parse_size(args.max_input_bytes, location="--max-input-bytes"))
    token = FOLLOW_SYMLINKS.set(bool(getattr(args, "follow_symlinks", False)))
    try:
        with limit:
            return int(args._run(args))  # noqa: SLF001 - set by set_defaults in build_parser
    finally:
        FOLLOW_SYMLINKS.reset(token)


if __name__ == "__main__":
    sys.exit(main())

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

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Protocol, cast

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


class _Command(Protocol):
    HELP: str
    EXAMPLES: str

    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _version() -> str:
    from seccompose._version import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every available sub-command.

    >>> "lint" in build_parser().format_help()
    True
    """
    parser = argparse.ArgumentParser(
        prog="seccompose",
        description="Compose least-privilege Linux seccomp profiles for containers.",
        epilog="Run 'seccompose COMMAND --help' for a command's options and examples.",
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
        try:
            module = cast("_Command", importlib.import_module(f"seccompose._commands.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"seccompose._commands.{name}":
                raise
            continue
        cmd = sub.add_parser(
            name,
            help=module.HELP,
            description=module.HELP,
            epilog=module.EXAMPLES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.configure(cmd)
        _add_follow_symlinks(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


def _add_follow_symlinks(parser: argparse.ArgumentParser) -> None:
    """Give every parser with ``-o`` the ``--follow-symlinks`` flag (one place, the same meaning everywhere)."""
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
    from seccompose.errors import SeccomposeError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (argparse exits 2)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return _run(args)
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

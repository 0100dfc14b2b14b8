"""The ``seccompose`` command line: parses arguments, calls the library, prints.

Sub-commands live in ``seccompose._commands.<name>``; see that package for the contract.
Errors (``SeccomposeError``) go to stderr with exit code 2 and no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Protocol, cast

__all__ = ["main"]

COMMANDS = (
    "compose",
    "render",
    "explain",
    "diff",
    "lint",
    "learn",
    "check",
    "templates",
    "caps",
    "syscalls",
)


class _Command(Protocol):
    HELP: str
    EXAMPLES: str

    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _version() -> str:
    from seccompose._version import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every available sub-command."""
    parser = argparse.ArgumentParser(
        prog="seccompose",
        description="Compose least-privilege Linux seccomp profiles for containers.",
        epilog="Run 'seccompose COMMAND --help' for a command's options and examples.",
    )
    parser.add_argument("--version", action="version", version=f"seccompose {_version()}")
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
        cmd.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code."""
    from seccompose.errors import SeccomposeError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args._run(args))  # noqa: SLF001 - set by set_defaults above
    except SeccomposeError as exc:
        print(f"seccompose {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"seccompose {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

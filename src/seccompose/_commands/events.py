"""``seccompose events``: print the refused-syscall events the agent recorded."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

__all__ = ["EXAMPLES", "HELP", "configure", "run"]

HELP = "print the refused syscalls the agent recorded (seccompose agent --events)"
EXAMPLES = """\
examples:
  seccompose events                                    every refused call so far
  seccompose events --follow --container web           as they happen, for one container (id prefix or name)
  seccompose events --image 'redis:*' --since 10m      an image's, in the last ten minutes
  seccompose events --kind all --format json           every record (start, ready, stop, dropped...) as JSON lines

The file is --events FILE, else $SECCOMPOSE_EVENTS, else /var/log/seccompose/events.jsonl.
"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``seccompose events``."""
    parser.add_argument("--events", metavar="FILE", action="append", help="events file(s) to read (repeatable)")
    parser.add_argument("-f", "--follow", action="store_true", help="keep printing new events as they come")
    parser.add_argument("--container", metavar="X", help="only this container (id prefix or name)")
    parser.add_argument("--image", metavar="I", help="only this image (reference or glob, normalised as Docker does)")
    parser.add_argument("--since", metavar="T", help="only events after T: RFC 3339, or an age such as 30s, 10m, 2h")
    parser.add_argument("--syscall", metavar="NAME", help="only this syscall")
    parser.add_argument(
        "--kind", default="syscall", metavar="KIND",
        help="record kinds, comma-separated: syscall (default), start, ready, stop, learned, dropped, error, or all",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")


def run(args: argparse.Namespace) -> int:
    """Print the matching events."""
    import json

    from seccompose._commands.agent import events_path
    from seccompose.errors import FormatError
    from seccompose.events import KINDS, EventFilter, format_event, parse_since, read_events

    kinds = tuple(k.strip() for k in args.kind.split(",") if k.strip())
    if "all" in kinds:
        kinds = KINDS
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise FormatError(f"unknown kind {unknown[0]!r}; use {', '.join(KINDS)} or all", location="--kind")
    keep = EventFilter(
        container=args.container,
        image=args.image,
        since=parse_since(args.since) if args.since else None,
        kinds=kinds,
        syscall=args.syscall,
    )
    paths = args.events or [events_path(None)]
    try:
        for event in read_events(paths, follow=args.follow, errors=sys.stderr):
            if not keep(event):
                continue
            line = json.dumps(dict(event.raw), separators=(",", ":")) if args.format == "json" else format_event(event)
            sys.stdout.write(line + "\n")
            if args.follow:
                sys.stdout.flush()
    except BrokenPipeError:
        return 0
    return 0

"""``seccompose agent``: the seccomp agent that runc and crun hand observed containers' listeners to."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

__all__ = ["DEFAULT_EVENTS", "DEFAULT_SOCKET", "EXAMPLES", "HELP", "configure", "events_path", "run"]

DEFAULT_SOCKET = "/run/seccompose/agent.sock"
DEFAULT_EVENTS = "/var/log/seccompose/events.jsonl"

HELP = "run the seccomp agent: see every refused syscall of observed containers, answer as enforce/complain/learn"
EXAMPLES = f"""\
examples:
  seccompose agent --socket {DEFAULT_SOCKET} --events {DEFAULT_EVENTS}
  seccompose agent --socket /run/sc.sock --events ev.jsonl --mode complain   let refused calls run, record them
  seccompose agent --socket /run/sc.sock --events ev.jsonl --mode learn --learned needs.json

  seccompose compose --base redis --observe /run/sc.sock > seccomp.json      a profile that hands refusals here

Modes (a container's profile may name its own; these apply to the others):
  enforce   answer with the errno the profile would have given; the container sees no difference
  complain  let the call run (SECCOMP_USER_NOTIF_FLAG_CONTINUE) and record it
  learn     complain, and keep per image what was needed (--learned)
Listeners without seccompose metadata get --unknown-errno in every mode.
SIGTERM stops (the kernel then fails the notified calls of attached containers with ENOSYS);
SIGHUP reopens the events file.
"""


def events_path(value: str | None) -> str:
    """Return the events file: the flag, else ``$SECCOMPOSE_EVENTS``, else the default."""
    return value or os.environ.get("SECCOMPOSE_EVENTS") or DEFAULT_EVENTS


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``seccompose agent``."""
    parser.add_argument(
        "--socket", default=DEFAULT_SOCKET, metavar="PATH", help=f"the listenerPath socket (default: {DEFAULT_SOCKET})"
    )
    parser.add_argument(
        "--events",
        metavar="FILE",
        help=f"append events here ('-': stdout; default: $SECCOMPOSE_EVENTS or {DEFAULT_EVENTS})",
    )
    parser.add_argument("--mode", choices=("enforce", "complain", "learn"), default="enforce", help="default: enforce")
    parser.add_argument("--learned", metavar="FILE", help="learn mode: keep each image's needs in FILE (JSON)")
    parser.add_argument(
        "--unknown-errno", default="EPERM", metavar="ERRNO", help="answer for listeners without seccompose metadata"
    )
    parser.add_argument("--queue", type=int, default=65536, metavar="N", help="events queued before they are dropped")
    parser.add_argument("--pid-file", metavar="FILE", help="write the agent's pid here once it listens")
    parser.add_argument(
        "--allow-uid", type=int, action="append", default=[], metavar="UID",
        help="also accept listeners from this uid (default: root and the agent's own)",
    )


def run(args: argparse.Namespace) -> int:
    """Run the agent until SIGTERM."""
    from seccompose.actions import parse_errno
    from seccompose.integrations.agent import Agent
    from seccompose.integrations.agent import run as serve
    from seccompose.integrations.sink import EventSink

    errno = parse_errno(args.unknown_errno, location="--unknown-errno")
    target = events_path(args.events)
    sink = EventSink(None, stream=sys.stdout.buffer, capacity=args.queue) if target == "-" else EventSink(
        target, capacity=args.queue
    )
    sink.start()
    uids = frozenset({0, os.geteuid(), *args.allow_uid})
    agent = Agent(
        args.socket,
        sink,
        mode=args.mode,
        unknown_errno=errno,
        learned_path=args.learned,
        peer_uids=uids,
        log=sys.stderr,
    )

    def ready() -> None:
        if args.pid_file:
            Path(args.pid_file).write_text(f"{os.getpid()}\n", encoding="utf-8")

    try:
        serve(agent, ready=ready)
    finally:
        sink.close()
        if args.pid_file:
            Path(args.pid_file).unlink(missing_ok=True)
    return 0

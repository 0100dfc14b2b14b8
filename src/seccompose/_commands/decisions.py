"""``seccompose decisions``: list the decision log, and show the profile a container got."""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["EXAMPLES", "HELP", "configure", "run"]

HELP = "list the decisions seccompose-runtime and seccompose proxy made, and the profile a container got"
EXAMPLES = """examples:
  seccompose decisions                                  every container start, oldest first
  seccompose decisions --container web --image 'redis:*'
  seccompose decisions --container 3e48be36 --profile   the exact profile that container was given
  seccompose decisions --json                           the log's lines as they are
"""

DEFAULT_LOG = "/var/log/seccompose/decisions.jsonl"


def configure(parser: argparse.ArgumentParser) -> None:
    """Add decisions' arguments."""
    parser.add_argument(
        "--log", metavar="FILE", default=None, help=f"the decision log (default: $SECCOMPOSE_LOG, else {DEFAULT_LOG})"
    )
    parser.add_argument("--container", metavar="ID|NAME", help="a container id prefix or a name glob")
    parser.add_argument("--image", metavar="GLOB", help="an image glob, as the engine named it")
    parser.add_argument("--profile", action="store_true", help="print the profile of the last matching decision")
    parser.add_argument("--json", action="store_true", help="print the matching log lines as JSON lines")


def run(args: argparse.Namespace) -> int:
    """Print the matching decisions (or one profile); exit 1 when nothing matches."""
    import os

    from seccompose.errors import ConflictError
    from seccompose.integrations.decisions import DecisionLog

    log = DecisionLog(args.log or os.environ.get("SECCOMPOSE_LOG") or DEFAULT_LOG)
    entries = list(log.entries(container=args.container, image=args.image))
    if not entries:
        print(f"seccompose decisions: no decision in {log.path} matches", file=sys.stderr)
        return 1
    if args.profile:
        digest = entries[-1]["decision"].get("profile")
        if not digest:
            action = entries[-1]["decision"].get("action")
            raise ConflictError(f"the last matching container got no profile from seccompose (action {action})")
        try:
            sys.stdout.write(log.profile(str(digest)))
        except FileNotFoundError:
            raise ConflictError(f"profile {digest} is not kept in {log.profiles}") from None
        return 0
    for entry in entries:
        if args.json:
            print(json.dumps(entry, sort_keys=True))
            continue
        decision = entry["decision"] if isinstance(entry.get("decision"), dict) else {}
        who = entry["container"] if isinstance(entry.get("container"), dict) else {}
        rules = ",".join(r["name"] for r in decision.get("rules", [])) or "-"
        profile = str(decision.get("profile") or "-")[:19]
        print(
            f"{entry.get('time', '')}  {entry.get('engine', '')}/{entry.get('route', '')}  "
            f"{str(who.get('id', ''))[:12]}  {who.get('name', '') or '-'}  {entry.get('image', '') or '-'}  "
            f"{decision.get('action')}  {decision.get('template') or '-'}  rules={rules}  {profile}"
        )
    return 0

"""``seccompose proxy``: a Docker Engine API proxy that applies the policy to every container created through it."""

from __future__ import annotations

import argparse

__all__ = ["EXAMPLES", "HELP", "configure", "run"]

HELP = "a Docker API proxy (dockerd, podman system service): every new container gets the policy's profile"
EXAMPLES = """examples:
  seccompose proxy --listen /run/seccompose.sock --upstream /run/docker.sock --policy /etc/seccompose/policy.yaml
  DOCKER_HOST=unix:///run/seccompose.sock docker run redis:7
  seccompose proxy --listen unix:///run/sc-podman.sock --upstream unix:///run/podman/podman.sock --policy p.yaml
"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add proxy's arguments."""
    parser.add_argument("--listen", required=True, metavar="SOCKET", help="the socket clients use (path or unix://)")
    parser.add_argument("--upstream", required=True, metavar="SOCKET", help="the engine's socket (path or unix://)")
    parser.add_argument("--policy", required=True, metavar="FILE", help="the policy (reloaded when it changes)")
    parser.add_argument(
        "--log",
        metavar="FILE",
        default="/var/log/seccompose/decisions.jsonl",
        help="the decision log (default: /var/log/seccompose/decisions.jsonl); '' for none",
    )
    parser.add_argument("--state", metavar="DIR", help="where the last good policy is kept across restarts")
    parser.add_argument("--max-connections", type=int, default=512, metavar="N", help="client connections at once")
    parser.add_argument("--grace", type=float, default=30.0, metavar="S", help="seconds open connections get at stop")


def run(args: argparse.Namespace) -> int:
    """Serve until SIGTERM."""
    from seccompose.integrations.proxy import main

    return main(
        args.listen,
        args.upstream,
        args.policy,
        args.log or None,
        state=args.state,
        max_connections=args.max_connections,
        grace=args.grace,
    )

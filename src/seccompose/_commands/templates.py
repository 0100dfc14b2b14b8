"""``seccompose templates``: list and show the shipped templates."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["EXAMPLES", "HELP", "configure", "run", "summary"]

HELP = "list the shipped templates, or show one"
EXAMPLES = """examples:
  seccompose templates list
  seccompose templates list --format json
  seccompose templates show redis
  seccompose compose --base redis          use one
"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the templates command's arguments."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    lst = sub.add_parser("list", help="list the templates with their images and sizes")
    lst.add_argument("--format", choices=("text", "json"), default="text")
    show = sub.add_parser("show", help="print one template's data file")
    show.add_argument("name", help="template name")


def summary(name: str) -> dict[str, Any]:
    """Return a template's catalogue entry: images, allowed-syscall counts per arch, provenance.

    Counts are of the composed profile for a container with no capabilities and no runtime base
    set, i.e. what the template itself allows.
    """
    from seccompose.arch import Arch
    from seccompose.compose import compose
    from seccompose.templates import load_template

    t = load_template(name)
    counts = {}
    for arch in (Arch.X86_64, Arch.AARCH64):
        p = compose(t, arch=arch, runtime=None)
        counts[arch.value] = len(p.allowed())
    return {
        "name": t.name,
        "description": t.description,
        "images": list(t.images),
        "allowed": counts,
        "provenance": dict(t.provenance),
    }


def run(args: argparse.Namespace) -> int:
    """List or show templates."""
    from seccompose.templates import load_template, template_names

    if args.action == "show":
        t = load_template(args.name)
        sys.stdout.write(json.dumps(t.to_dict(), indent=1) + "\n")
        return 0
    rows = [summary(n) for n in template_names()]
    if args.format == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    sys.stdout.write(f"{'NAME':<16}{'x86_64':>8}{'aarch64':>9}  IMAGES\n")
    for r in rows:
        images = ", ".join(r["images"]) or "-"
        sys.stdout.write(f"{r['name']:<16}{r['allowed']['x86_64']:>8}{r['allowed']['aarch64']:>9}  {images}\n")
    return 0

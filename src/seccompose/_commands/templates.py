"""``seccompose templates``: list and show the shipped templates."""

from __future__ import annotations

import argparse
import json
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
    lst.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    show = sub.add_parser("show", help="print one template's data file")
    show.add_argument("name", help="template name")
    show.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")


def summary(name: str) -> dict[str, Any]:
    """Return a template's catalogue entry: images, allowed-syscall counts per arch, provenance.

    Counts are of the composed profile for a container with no capabilities and no runtime base
    set, i.e. what the template itself allows.
    """
    from seccompose.arch import Arch
    from seccompose.compose import compose
    from seccompose.loader import load_template

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
    from seccompose._commands.compose import write_output
    from seccompose.loader import load_template, template_names

    if args.action == "show":
        write_output(json.dumps(load_template(args.name).to_dict(), indent=1), args.output)
        return 0
    rows = [summary(n) for n in template_names()]
    if args.format == "json":
        write_output(json.dumps(rows, indent=2), args.output)
        return 0
    lines = [f"{'NAME':<16}{'x86_64':>8}{'aarch64':>9}  IMAGES"]
    for r in rows:
        images = ", ".join(r["images"]) or "-"
        lines.append(f"{r['name']:<16}{r['allowed']['x86_64']:>8}{r['allowed']['aarch64']:>9}  {images}")
    write_output("\n".join(lines), args.output)
    return 0

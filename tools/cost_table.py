"""Write the table of what the shipped profiles cost into docs/cost.md (between its cost-table markers).

Each row is what ``seccompose check NAME --cost --format json`` reports for a shipped template,
composed as a container with Docker's default capabilities gets it (``--layout linear``: runc
1.1 and crun; ``--layout tree``: runc >= 1.2), and for Docker's own default as dockerd renders
it; the program is libseccomp's, without runc's 14-instruction ENOSYS stub. Needs libseccomp
(the 'check' extra), so it is not one of the gen_*.py tools ``nox -s data`` runs with the bare
interpreter; tests/unit/test_cost_table.py fails when the page drifts from the data.

Usage:
  python tools/cost_table.py            rewrite the table in docs/cost.md
  python tools/cost_table.py --check    exit 1 if the table differs from what would be written
  python tools/cost_table.py --json     print the rows as JSON (instructions, worst case, uncacheable names)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from seccompose._inputs import read_profile  # noqa: E402 - after the path setup
from seccompose.arch import Arch  # noqa: E402
from seccompose.cost import Layout, cost  # noqa: E402
from seccompose.formats.oci import to_dict  # noqa: E402
from seccompose.loader import template_names  # noqa: E402
from seccompose.render import render  # noqa: E402

PAGE = ROOT / "docs" / "cost.md"
DOCKER = ROOT / "tests" / "fixtures" / "reference" / "profiles" / "docker-default-moby-profiles-cd3bed8.json"
BEGIN = "<!-- cost-table: written by `python tools/cost_table.py` from the shipped data; do not edit -->"
END = "<!-- /cost-table -->"
RUN = "python tools/cost_table.py"
ABIS = (Arch.X86_64, Arch.X86)


def profiles() -> list[tuple[str, dict[str, Any]]]:
    """Docker's own default as dockerd renders it, then every shipped template as ``check NAME`` composes it."""
    docker = render(json.loads(DOCKER.read_text(encoding="utf-8")), engine="docker", arch=Arch.X86_64, kernel="6.18")
    return [("Docker's default", docker)] + [
        (name, to_dict(read_profile(name, arch=Arch.X86_64))) for name in template_names()
    ]


def rows() -> list[dict[str, Any]]:
    """Per profile: ``check --cost --format json``'s ``cost`` object in each layout."""
    out = []
    for name, profile in profiles():
        layouts: tuple[Layout, Layout] = ("linear", "tree")
        reports: dict[str, Any] = {layout: cost(profile, layout=layout).to_json() for layout in layouts}
        out.append({"profile": name, **reports})
    return out


def table(data: list[dict[str, Any]]) -> str:
    """The markdown table of ``rows()``."""
    lines = [
        BEGIN,
        "",
        (
            "| profile | BPF instructions: runc 1.1 / crun; runc ≥ 1.2 | worst case: runc 1.1; runc ≥ 1.2 "
            "| not cached on x86_64 | not cached on x86 (i386) |"
        ),
        "|---|---|---|---|---|",
    ]
    for row in data:
        linear, tree = row["linear"], row["tree"]
        cells = [
            row["profile"],
            f"{linear['instructions']}; {tree['instructions']}",
            f"{linear['worst_case']}; {tree['worst_case']}",
            *(", ".join(sorted(tree["abis"][abi.value]["uncacheable"])) or "(none)" for abi in ABIS),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", END]
    return "\n".join(lines)


def page(text: str, new_table: str) -> str:
    """``text`` with the table between the markers replaced."""
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[:start] + new_table + text[end:]


def main(argv: list[str] | None = None) -> int:
    """Rewrite, check or print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 if docs/cost.md's table would change")
    mode.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    data = rows()
    if args.json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return 0
    text = PAGE.read_text(encoding="utf-8")
    new = page(text, table(data))
    if args.check:
        if new != text:
            sys.stderr.write(f"{PAGE.relative_to(ROOT)}: the cost table is out of date; run {RUN}\n")
            return 1
        return 0
    if new != text:
        PAGE.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

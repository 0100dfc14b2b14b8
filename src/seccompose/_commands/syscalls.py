"""``seccompose syscalls``: look a syscall up by name or number; list an ABI's table or a category."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from seccompose.arch import Arch

__all__ = ["EXAMPLES", "HELP", "configure", "run"]

HELP = "Look up syscalls by name or number: number per ABI, kernel since, category; list an ABI or a category."
EXAMPLES = """\
examples:
  seccompose syscalls openat                      # number on every ABI, since, group and category
  seccompose syscalls 257 --arch x86_64           # which syscall is number 257 on x86_64
  seccompose syscalls --arch aarch64              # the aarch64 table
  seccompose syscalls --category network          # a category (or one of the six groups)
  seccompose syscalls --category file-system --arch x86 --format json
  seccompose syscalls --category list             # the groups and categories

ABIs with tables: x86_64, x86 (i386), x32, aarch64, arm (32-bit EABI).
exit status: 0 ok, 2 error (unknown syscall, number, arch or category)
"""


def _say(text: str) -> None:
    sys.stdout.write(f"{text}\n")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments."""
    parser.add_argument("syscall", nargs="?", metavar="NAME|NUMBER", help="a syscall name, or a number (see --arch)")
    parser.add_argument("--arch", help="the ABI: x86_64, x86, x32 or aarch64 (default: this machine's)")
    parser.add_argument("--category", metavar="NAME", help="list a category or group ('list' shows them all)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")


def _abi(text: str | None) -> Arch:
    from seccompose.arch import Arch, host_arch
    from seccompose.errors import InvalidArchError
    from seccompose.syscalls import TABLED_ARCHES

    arch = Arch.parse(text, location="--arch") if text else host_arch()
    if arch not in TABLED_ARCHES:
        raise InvalidArchError(arch.value, location="--arch", choices=[a.value for a in TABLED_ARCHES])
    return arch


def _syscall_entry(name: str) -> dict[str, Any]:
    from seccompose.caps import load_capability_map
    from seccompose.categories import category_of, group_of
    from seccompose.syscalls import TABLED_ARCHES, table

    abis = []
    for arch in TABLED_ARCHES:
        t = table(arch)
        if name in t:
            abis.append(
                {
                    "abi": arch.value,
                    "number": t.number(name),
                    "since": t.since(name),
                    "implemented": t.implemented(name),
                    "entry": t.entry(name),
                }
            )
    return {
        "name": name,
        "group": group_of(name),
        "category": category_of(name),
        "abis": abis,
        "capabilities": {
            m: sorted(c.name for c in load_capability_map(m).capabilities_for(name)) for m in ("docker", "kernel")
        },
    }


def _lookup(text: str, arch_text: str | None) -> str:
    from seccompose.errors import UnknownSyscallError
    from seccompose.syscalls import all_names, table

    if text.isdigit():
        return table(_abi(arch_text)).name(int(text))
    if text not in all_names():
        raise UnknownSyscallError(text, location="NAME", choices=all_names())
    return text


def run(args: argparse.Namespace) -> int:
    """Run the command, writing to ``-o FILE`` when given."""
    from seccompose._commands.compose import run_to_output

    return run_to_output(args, _run)


def _run(args: argparse.Namespace) -> int:
    """Print the answer; 0 on success."""
    if args.syscall:
        entry = _syscall_entry(_lookup(args.syscall, args.arch))
        _print_one(entry, args.format)
        return 0
    if args.category == "list":
        _print_categories(args.format)
        return 0
    _print_list(args)
    return 0


def _print_one(e: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        _say(json.dumps(e, indent=2))
        return
    _say(f"{e['name']}: group {e['group']}, category {e['category']}")
    for a in e["abis"]:
        since = f"since Linux {a['since']}" if a["since"] else "since: not recorded"
        impl = "" if a["implemented"] else " (number reserved, not implemented)"
        _say(f"  {a['abi']:<8} {a['number']:>4}  {since}{impl}")
    for m, caps in e["capabilities"].items():
        _say(f"  capability map {m}: {' or '.join(caps) if caps else 'no capability needed'}")


def _print_categories(fmt: str) -> None:
    from seccompose.categories import categories, groups

    if fmt == "json":
        doc = {
            "groups": [{"name": g.name, "title": g.title, "description": g.description} for g in groups()],
            "categories": [{"name": c.name, "group": c.group, "description": c.description} for c in categories()],
        }
        _say(json.dumps(doc, indent=2))
        return
    for g in groups():
        _say(f"{g.name}: {g.description}")
        for c in categories():
            if c.group == g.name:
                _say(f"  {c.name:<20} {c.description}")


def _print_list(args: argparse.Namespace) -> None:
    from seccompose.categories import category_of, syscalls_in
    from seccompose.syscalls import table

    abi = _abi(args.arch)
    t = table(abi)
    names = syscalls_in(args.category) if args.category else t.names()
    rows = [(t.number(n), n, category_of(n), t.since(n)) for n in names if n in t]
    rows.sort()
    if args.format == "json":
        doc = [{"number": num, "name": n, "category": c, "since": s} for num, n, c, s in rows]
        _say(json.dumps({"abi": abi.value, "kernel": t.kernel, "syscalls": doc}, indent=2))
        return
    what = f"category {args.category!r} on " if args.category else ""
    _say(f"# {what}{abi.value} (Linux {t.kernel} table): {len(rows)} syscalls")
    for num, n, c, s in rows:
        _say(f"{num:>4}  {n:<28} {c:<20} {s}")

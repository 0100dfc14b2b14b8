"""``seccompose caps``: which syscalls a capability unlocks, and which capability a syscall needs."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from seccompose.arch import Arch
    from seccompose.caps import Capability, CapabilityMap

__all__ = ["EXAMPLES", "HELP", "configure", "run"]

HELP = "Show which syscalls a capability unlocks (capability maps 'docker' and 'kernel'), or what a syscall needs."
EXAMPLES = """\
examples:
  seccompose caps                                 # every capability: number, since, syscalls it unlocks
  seccompose caps CAP_SYS_ADMIN                   # what Docker's default unlocks with it, on this host's arch
  seccompose caps sys_ptrace --map kernel --arch aarch64
  seccompose caps --syscall mount                 # which capability unlocks mount, in both maps
  seccompose caps NET_ADMIN --format json

capability names are accepted as CAP_NET_ADMIN, NET_ADMIN or net_admin.
maps: docker = the capability gates of Docker's current default profile;
      kernel = the syscalls capabilities(7) says fail outright without the capability.
exit status: 0 ok, 2 error (unknown capability, syscall, map or arch)
"""


def _say(text: str) -> None:
    sys.stdout.write(f"{text}\n")


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments."""
    parser.add_argument("capability", nargs="?", metavar="CAP", help="a capability, e.g. CAP_SYS_ADMIN or sys_admin")
    parser.add_argument(
        "--map",
        dest="capmap",
        choices=("docker", "kernel"),
        default=None,
        help="capability map (default: docker; with --syscall alone: both)",
    )
    parser.add_argument("--arch", help="host arch whose syscalls to show (default: this machine's)")
    parser.add_argument("--syscall", metavar="NAME", help="show which capabilities unlock this syscall")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")


def _arch(text: str | None) -> Arch:
    from seccompose.arch import Arch, host_arch

    return Arch.parse(text, location="--arch") if text else host_arch()


def _cap_entry(cap: Capability, capmap: CapabilityMap, arch: Arch) -> dict[str, Any]:
    names = capmap.syscalls(cap, arch)
    return {
        "capability": cap.name,
        "number": cap.number,
        "since": cap.since,
        "map": capmap.name,
        "arch": arch.value,
        "syscalls": [{"name": n, "sources": list(capmap.sources(cap, n))} for n in names],
    }


def _syscall_entry(name: str, maps: list[CapabilityMap]) -> dict[str, Any]:
    from seccompose.syscalls import abis_with

    return {
        "syscall": name,
        "abis": sorted(a.value for a in abis_with(name)),
        "maps": {
            m.name: [
                {"capability": c.name, "sources": list(m.sources(c, name))} for c in sorted(m.capabilities_for(name))
            ]
            for m in maps
        },
    }


def run(args: argparse.Namespace) -> int:
    """Run the command, writing to ``-o FILE`` when given."""
    from seccompose._commands.compose import run_to_output

    return run_to_output(args, _run)


def _run(args: argparse.Namespace) -> int:
    """Print the answer; 0 on success."""
    from seccompose.caps import Capability, all_capabilities, load_capability_map

    cap = Capability.parse(args.capability, location="CAP") if args.capability else None
    if args.syscall:
        names = [args.capmap] if args.capmap else ["docker", "kernel"]
        entry = _syscall_entry(args.syscall, [load_capability_map(n) for n in names])
        if cap is not None:
            entry["capability"] = cap.name
            entry["unlocks"] = {m: any(c["capability"] == cap.name for c in cs) for m, cs in entry["maps"].items()}
        _print_syscall(entry, args.format)
        return 0
    capmap = load_capability_map(args.capmap or "docker")
    arch = _arch(args.arch)
    if cap is not None:
        _print_cap(_cap_entry(cap, capmap, arch), args.format)
        return 0
    table = [_cap_entry(c, capmap, arch) for c in sorted(all_capabilities())]
    if args.format == "json":
        _say(json.dumps(table, indent=2))
        return 0
    _say(f"# capability map {capmap.name!r}, {arch.value} host")
    _say(f"{'NUMBER':>6}  {'CAPABILITY':<24} {'SINCE':<7} SYSCALLS")
    for e in table:
        unlocked = " ".join(s["name"] for s in e["syscalls"]) or "-"
        _say(f"{e['number']:>6}  {e['capability']:<24} {e['since']:<7} {unlocked}")
    return 0


def _print_cap(entry: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        _say(json.dumps(entry, indent=2))
        return
    _say(f"{entry['capability']} (number {entry['number']}, since Linux {entry['since']})")
    _say(f"unlocks on {entry['arch']} hosts, capability map {entry['map']!r}:")
    if not entry["syscalls"]:
        _say("  (no syscall in this map)")
    for s in entry["syscalls"]:
        _say(f"  {s['name']:<26} {'; '.join(s['sources'])}")


def _print_syscall(entry: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        _say(json.dumps(entry, indent=2))
        return
    abis = ", ".join(entry["abis"]) or "no ABI seccompose has a table for"
    _say(f"{entry['syscall']} ({abis})")
    for name, caps in entry["maps"].items():
        if not caps:
            _say(f"  map {name}: needs no capability")
            continue
        which = " or ".join(c["capability"] for c in caps)
        _say(f"  map {name}: needs {which}")
        for c in caps:
            for src in c["sources"]:
                _say(f"    {c['capability']}: {src}")
    if "unlocks" in entry:
        for name, yes in entry["unlocks"].items():
            _say(f"  {entry['capability']} {'unlocks' if yes else 'does not unlock'} it in map {name}")

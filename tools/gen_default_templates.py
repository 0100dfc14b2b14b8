"""Generate data/templates/default.json and podman-default.json from data/needs/*.toml.

The needs files are seccompose's own, hand-written list of what a generic container needs,
grouped with a reason per group (generic.toml), plus each template's own groups, argument
rules and capability policy (default.toml, podman-default.toml). This script combines them with
the syscall tables (data/syscalls/) and a capability map (data/capabilities/<map>.tsv) into
templates in the format of docs/reference/template-format.md, with ``capabilityMap: null`` and
explicit ``includes/excludes.caps`` gates. It reads no engine profile.

Needs file format (TOML):
  [template]     name, description, defaultAction, defaultErrnoRet, include = [other needs files]
  [gates]        map = "docker" | "kernel": one ALLOW rule gated on each capability of the map;
                 otherwise = ERRNO: also refuse each gated call with this errno when no unlocking
                 capability is present; leave = [names]: gated calls to leave to the default;
                 [[gates.extra]] capability, names, reason: gates beyond the map.
                 Names a group already allows outright are not gated.
  [[group]]      id, reason, names; optional action, errnoRet, arches, includes, excludes.
  [[rule]]       a template rule as written in the template format (names, action, errnoRet,
                 args, arches, includes, excludes, comment).

Usage:
  python tools/gen_default_templates.py            write
  python tools/gen_default_templates.py --check    exit 1 on drift
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tools"))  # these scripts are also loaded by file path in tests

from _drift import write_or_check  # noqa: E402 - after the path setup
from seccompose.arch import Arch  # noqa: E402 - after the path setup
from seccompose.caps import Capability, load_capability_map  # noqa: E402
from seccompose.errors import did_you_mean  # noqa: E402
from seccompose.syscalls import TABLED_ARCHES, all_names, host_names, table  # noqa: E402

NEEDS = ROOT / "data" / "needs"
OUT = ROOT / "data" / "templates"
TEMPLATES = ("default", "podman-default")
COMMAND = "python tools/gen_default_templates.py"
# The host arches a template rule can name (docs/reference/template-format.md).
HOSTS = (Arch.X86_64, Arch.AARCH64, Arch.X86)
RULE_KEYS = {"names", "action", "errnoRet", "args", "arches", "includes", "excludes", "comment"}
GROUP_KEYS = {"id", "reason", "names", "action", "errnoRet", "arches", "includes", "excludes"}


class NeedsError(Exception):
    """A needs file is wrong; the message names the file, the place and the fix."""


def _check_names(names: object, where: str) -> list[str]:
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise NeedsError(f"{where}.names must be a non-empty array of syscall names")
    known = all_names()
    for i, name in enumerate(names):
        if name not in known:
            hint = did_you_mean(name, known) or "; remove it or add the ABI's table first"
            raise NeedsError(f"{where}.names[{i}]: {name!r} is in no syscall table{hint}")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise NeedsError(f"{where}.names lists {dupes} more than once")
    return sorted(names)


def _load(name: str) -> dict[str, Any]:
    path = NEEDS / f"{name}.toml"
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise NeedsError(f"{path} not found (named by an include)") from None
    except tomllib.TOMLDecodeError as exc:
        raise NeedsError(f"{path}: {exc}") from None


def _groups(name: str, doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for i, raw in enumerate(doc.get("group", [])):
        where = f"data/needs/{name}.toml group[{i}]"
        extra = set(raw) - GROUP_KEYS
        if extra:
            raise NeedsError(f"{where}: unknown key {min(extra)!r}; use {sorted(GROUP_KEYS)}")
        if not raw.get("id") or not raw.get("reason"):
            raise NeedsError(f"{where}: every group needs an id and a reason (why a generic container needs it)")
        group = dict(raw, names=_check_names(raw.get("names"), where))
        out.append((f"{name}:{group['id']}", group))
    return out


def _rule_from_group(label: str, group: dict[str, Any]) -> dict[str, Any]:
    rule: dict[str, Any] = {"names": group["names"], "action": group.get("action", "SCMP_ACT_ALLOW")}
    if "errnoRet" in group:
        rule["errnoRet"] = group["errnoRet"]
    for key in ("arches", "includes", "excludes"):
        if key in group:
            rule[key] = group[key]
    rule["comment"] = f"{group['reason']} [needs {label}]"
    return rule


def _gate_rules(gates: dict[str, Any], outright: set[str], where: str) -> list[dict[str, Any]]:
    capmap = load_capability_map(gates.get("map", "docker"))
    leave = set(_check_names(gates["leave"], f"{where}.leave")) if gates.get("leave") else set()
    by_cap: dict[Capability, dict[str, str]] = {}
    known = all_names()
    for gate in capmap:
        if gate.syscall in known:  # names of ABIs without a table cannot be resolved here
            by_cap.setdefault(gate.capability, {})[gate.syscall] = f"capability map '{capmap.name}': {gate.source}"
    for i, extra in enumerate(gates.get("extra", [])):
        cap = Capability.parse(extra["capability"], location=f"{where}.extra[{i}].capability")
        for n in _check_names(extra.get("names"), f"{where}.extra[{i}]"):
            by_cap.setdefault(cap, {})[n] = extra.get("reason", "")
    rules: list[dict[str, Any]] = []
    unlockers: dict[str, set[Capability]] = {}
    for cap in sorted(by_cap):
        names = sorted(n for n in by_cap[cap] if n not in outright and n not in leave)
        if not names:
            continue
        for n in names:
            unlockers.setdefault(n, set()).add(cap)
        sources = sorted({by_cap[cap][n] for n in names})
        rules.append(
            {
                "names": names,
                "action": "SCMP_ACT_ALLOW",
                "includes": {"caps": [cap.name]},
                "comment": f"{cap.name} unlocks these ({'; '.join(sources)})",
            }
        )
    if "otherwise" in gates:
        errno = gates["otherwise"]
        by_set: dict[tuple[str, ...], list[str]] = {}
        for n, caps in unlockers.items():
            by_set.setdefault(tuple(c.name for c in sorted(caps)), []).append(n)
        rules.extend(
            {
                "names": sorted(by_set[caps_key]),
                "action": "SCMP_ACT_ERRNO",
                "errnoRet": errno,
                "excludes": {"caps": list(caps_key)},
                "comment": f"without {' or '.join(caps_key)} these fail with errno {errno}, a deliberate refusal",
            }
            for caps_key in sorted(by_set)
        )
    return rules


def _split_by_hosts(rule: dict[str, Any]) -> list[dict[str, Any]]:
    """Split a rule without ``arches`` so each part names only hosts that have all its names.

    compose skips (with a warning) a name the host cannot run; giving such names an ``arches``
    list keeps the meaning and spares an aarch64 user a hundred warnings about i386 names.
    """
    if "arches" in rule:
        return [rule]
    by_hosts: dict[tuple[str, ...], list[str]] = {}
    for n in rule["names"]:
        hosts = tuple(h.value for h in HOSTS if n in host_names(h))
        by_hosts.setdefault(hosts, []).append(n)
    everywhere = tuple(h.value for h in HOSTS)
    parts = []
    for hosts in sorted(by_hosts, key=lambda h: (h != everywhere, h)):
        part = dict(rule, names=by_hosts[hosts])
        if hosts != everywhere:
            part = {"names": part.pop("names"), "action": part.pop("action"), "arches": list(hosts), **part}
        parts.append(part)
    return parts


def build(name: str) -> dict[str, Any]:
    doc = _load(name)
    head = doc.get("template") or {}
    groups: list[tuple[str, dict[str, Any]]] = []
    for inc in head.get("include", []):
        groups += _groups(inc, _load(inc))
    groups += _groups(name, doc)
    seen: dict[str, str] = {}
    for label, group in groups:
        for n in group["names"]:
            if n in seen and not group.get("arches"):
                raise NeedsError(f"{n!r} is in both {seen[n]} and {label}; keep it in one group")
            seen[n] = label
    outright = {
        n
        for _, g in groups
        if g.get("action", "SCMP_ACT_ALLOW") == "SCMP_ACT_ALLOW" and not g.get("arches") and not g.get("includes")
        for n in g["names"]
    }
    rules = [_rule_from_group(label, g) for label, g in groups]
    if "gates" in doc:
        rules += _gate_rules(doc["gates"], outright, f"data/needs/{name}.toml gates")
    for i, raw in enumerate(doc.get("rule", [])):
        where = f"data/needs/{name}.toml rule[{i}]"
        extra = set(raw) - RULE_KEYS
        if extra:
            raise NeedsError(f"{where}: unknown key {min(extra)!r}; use {sorted(RULE_KEYS)}")
        if not raw.get("comment"):
            raise NeedsError(f"{where}: every rule needs a comment saying why")
        rule = {"names": _check_names(raw.get("names"), where), "action": raw.get("action", "SCMP_ACT_ALLOW")}
        rule.update({k: raw[k] for k in ("errnoRet", "args", "arches", "includes", "excludes") if k in raw})
        rule["comment"] = raw["comment"]
        rules.append(rule)
    rules = [part for rule in rules for part in _split_by_hosts(rule)]
    kernels = sorted({f"{a.value} {table(a).kernel}" for a in TABLED_ARCHES})
    return {
        "schema": 1,
        "name": head.get("name", name),
        "description": head.get("description", ""),
        "capabilityMap": None,
        "defaultAction": head["defaultAction"],
        "defaultErrnoRet": head["defaultErrnoRet"],
        "provenance": {
            "doNotEdit": f"DO NOT EDIT. Generated by `{COMMAND}`; `{COMMAND} --check` (nox -s data) fails on drift",
            "tool": COMMAND,
            "needs": ", ".join(f"data/needs/{n}.toml" for n in [*head.get("include", []), name]),
            "capabilityMap": f"data/capabilities/{doc.get('gates', {}).get('map', 'docker')}.tsv",
            "syscallTables": "; ".join(kernels),
        },
        "rules": rules,
    }


def render(name: str) -> str:
    return json.dumps(build(name), indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if data/templates differs")
    args = parser.parse_args(argv)
    try:
        texts = {name: render(name) for name in TEMPLATES}
    except NeedsError as exc:
        print(f"gen_default_templates: {exc}", file=sys.stderr)
        return 2
    files = {OUT / f"{name}.json": text for name, text in texts.items()}
    return write_or_check(files, check=args.check, command=COMMAND)


if __name__ == "__main__":
    sys.exit(main())

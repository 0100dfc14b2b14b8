"""Explain a profile: why one syscall is allowed or denied, and what a whole profile allows by category.

:func:`explain` answers "why is mount allowed?": the verdict (allowed, conditionally allowed
with its argument conditions, or denied with its action and errno) and every layer that
decided it — the template (with the rule's comment), a capability (by name), a runtime
rule, the OCI runtime's base set, or the default action. Profiles made by
:func:`seccompose.compose` know their layers; a profile read from a file knows its rules.

>>> from seccompose import compose, Arch
>>> p = compose(arch=Arch.X86_64, allow=["read", "mount"], deny=["mount"], caps=[], runtime=None)
>>> e = explain("mount", p)
>>> e.verdict, e.errno, [layer.label for layer in e.layers]
('denied', 1, ['deny'])
>>> print(e.format_text().splitlines()[0])
mount: denied with SCMP_ACT_ERRNO(EPERM) (x86_64 host; exists on x86_64, x86, x32)

:func:`summarize` counts what a profile allows in each of the six groups and the finer
categories of :mod:`seccompose.categories`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from seccompose.actions import Action, errno_name
from seccompose.arch import Arch
from seccompose.errors import UnknownSyscallError
from seccompose.syscalls import TABLED_ARCHES, all_names, table

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from seccompose.caps import Capability
    from seccompose.profile import Profile
    from seccompose.rules import Arg
    from seccompose.templates import Gate, Template

__all__ = [
    "CategoryCount",
    "Decision",
    "Explanation",
    "Summary",
    "explain",
    "summarize",
]

VerdictName = Literal["allowed", "conditional", "denied"]


@dataclass(frozen=True, slots=True)
class Decision:
    """One layer that decided a syscall: its ``label`` (``template:nginx``), kind, and why.

    ``kind`` is ``template``, ``capability``, ``allow``, ``deny``, ``rule``, ``runtime``,
    ``profile`` or ``default``.
    """

    label: str
    kind: str
    detail: str = ""

    def to_json(self) -> dict[str, str]:
        """Return the decision as a JSON-ready dict."""
        return {"label": self.label, "kind": self.kind, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why one syscall gets what it gets under one profile."""

    name: str
    arch: Arch
    """The host arch the profile is for."""
    abis: tuple[Arch, ...]
    """The ABIs of the profile that have this syscall."""
    verdict: VerdictName
    action: Action
    errno: int | None
    conditions: tuple[tuple[Arg, ...], ...]
    layers: tuple[Decision, ...]
    by_default: bool
    group: str = ""
    category: str = ""
    capabilities: tuple[str, ...] = ()
    """Capabilities that unlock the syscall in Docker's capability map."""
    notes: tuple[str, ...] = field(default=())
    otherwise: str = ""
    """For ``conditional``: what the syscall gets when no condition holds (the default action)."""

    def to_json(self) -> dict[str, Any]:
        """Return the explanation as a JSON-ready dict."""
        from seccompose.formats.oci import rule_to_dict
        from seccompose.rules import Rule

        return {
            "syscall": self.name,
            "arch": self.arch.value,
            "abis": [a.value for a in self.abis],
            "verdict": self.verdict,
            "action": self.action.value,
            **({"errnoRet": self.errno, "errno": errno_name(self.errno)} if self.errno is not None else {}),
            "conditions": [
                rule_to_dict(Rule((self.name,), Action.ALLOW, None, c)).get("args", []) for c in self.conditions
            ],
            "byDefault": self.by_default,
            "layers": [d.to_json() for d in self.layers],
            "group": self.group,
            "category": self.category,
            "capabilities": list(self.capabilities),
            "notes": list(self.notes),
        }

    def format_text(self) -> str:
        """Return the explanation as text a person reads."""
        from seccompose.diff import _arg_text  # one way to print a condition

        where = f"{self.arch.value} host; exists on {', '.join(a.value for a in self.abis) or 'none of its ABIs'}"
        if self.verdict == "allowed":
            head = f"{self.name}: allowed" + (" and logged (SCMP_ACT_LOG)" if self.action is Action.LOG else "")
        elif self.verdict == "conditional":
            head = f"{self.name}: allowed only under argument conditions, otherwise {self.otherwise}"
        elif self.action is Action.NOTIFY:
            head = f"{self.name}: handed to the seccomp agent (SCMP_ACT_NOTIFY), which decides"
        elif self.action is Action.TRACE:
            head = f"{self.name}: handed to the ptrace tracer ({_action(self.action, self.errno)}; fails without one)"
        else:
            head = f"{self.name}: denied with {_action(self.action, self.errno)}"
        lines = [f"{head} ({where})"]
        # Each group of conditions is one rule as the runtime loads it: AND within, OR between.
        lines += [
            ("  if " if i == 0 else "  or if ") + " and ".join(_arg_text(a) for a in cond)
            for i, cond in enumerate(self.conditions)
        ]
        lines.append("decided by:")
        lines += [f"  {d.label}" + (f": {d.detail}" if d.detail else "") for d in self.layers]
        if self.category:
            lines.append(f"category: {self.group} / {self.category}")
        if self.capabilities:
            lines.append(f"unlocked in Docker's default by: {' or '.join(self.capabilities)}")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


_VERDICTS: dict[str, VerdictName] = {"allowed": "allowed", "conditional": "conditional", "denied": "denied"}


def _action(action: Action, errno: int | None) -> str:
    return f"{action.value}({errno_name(errno)})" if errno is not None else action.value


def _kind(label: str) -> str:
    head = label.split(":", 1)[0]
    return {"default action": "default"}.get(head, head)


def _template_detail(template: Template, name: str, applies: Callable[[Gate], bool]) -> str:
    parts = []
    for i, tr in enumerate(template.rules):
        if name not in tr.rule.names or not applies(tr.gate):
            continue
        gate = []
        if tr.gate.includes_caps:
            gate.append("with " + " and ".join(sorted(c.name for c in tr.gate.includes_caps)))
        if tr.gate.excludes_caps:
            gate.append("without " + ", ".join(sorted(c.name for c in tr.gate.excludes_caps)))
        if tr.gate.arches:
            gate.append("on " + ", ".join(sorted(a.value for a in tr.gate.arches)))
        text = f"rules[{i}] {_action(tr.rule.action, tr.rule.errno)}"
        text += f" ({'; '.join(gate)})" if gate else ""
        text += f" — {tr.comment}" if tr.comment else ""
        parts.append(text)
    return "; ".join(parts)


def _document_detail(document: Mapping[str, Any], name: str) -> str:
    """The rules of a profile document that name ``name``, by JSON path."""
    doc: Any = document
    prefix = ""
    if "linux" in doc and "defaultAction" not in doc:
        doc, prefix = doc["linux"].get("seccomp") or {}, "linux.seccomp."
    parts = []
    for i, raw in enumerate(listed if isinstance(listed := doc.get("syscalls"), list) else []):
        if not isinstance(raw, Mapping):
            continue
        names = raw.get("names") or ([raw["name"]] if raw.get("name") else [])
        if name not in names:
            continue
        text = f"{prefix}syscalls[{i}] {raw.get('action')}"
        errno = raw.get("errnoRet")
        if errno is not None:
            text += f"({errno_name(errno) if isinstance(errno, int) else errno})"
        for key in ("includes", "excludes"):
            if raw.get(key):
                text += f" {key} {_compact(raw[key])}"
        if raw.get("comment"):
            text += f" — {raw['comment']}"
        parts.append(text)
    return "; ".join(parts)


def _compact(value: object) -> str:
    import json

    return json.dumps(value, separators=(",", ":"))


def explain(
    name: str,
    profile: Profile,
    *,
    arch: Arch | None = None,
    template: Template | None = None,
    caps: Iterable[Capability | str] | None = None,
    kernel: tuple[int, int] | None = None,
    document: Mapping[str, Any] | None = None,
) -> Explanation:
    """Return why ``name`` is allowed, conditionally allowed or denied under ``profile``.

    Args:
        name: the syscall.
        profile: a profile from :func:`seccompose.compose` (which knows its layers) or read from a file.
        arch: the host arch (default: the profile's first architecture, else this machine's).
        template: the template the profile was composed from, to quote its rules' comments.
        caps: the container's capabilities the profile was composed for: only the template rules
            whose gates pass are quoted (None: every rule naming the syscall).
        kernel: the host kernel the profile was composed for (template ``minKernel`` gates).
        document: the JSON document the profile was read from, to point at its rules.

    Raises:
        UnknownSyscallError: ``name`` is in no syscall table (with a did-you-mean).

    >>> from seccompose import compose, Arch
    >>> e = explain("ptrace", compose(arch=Arch.X86_64, caps=["SYS_PTRACE"], runtime=None))
    >>> e.verdict, [d.label for d in e.layers]
    ('allowed', ['capability:CAP_SYS_PTRACE'])
    """
    from seccompose.arch import host_arch

    known = all_names()
    if name not in known:
        raise UnknownSyscallError(name, location="SYSCALL", choices=known)
    host = arch or profile.arch or host_arch()
    capset = None
    if caps is not None:
        from seccompose.caps import Capability

        capset = frozenset(c if isinstance(c, Capability) else Capability.parse(c, location="caps") for c in caps)

    def applies(gate: Gate) -> bool:
        return capset is None or gate.passes(host, capset, kernel)

    listed = profile.architectures or (host,)
    abis = tuple(a for a in listed if a in TABLED_ARCHES and name in table(a))
    prov = profile.explain(name)
    by_default = prov.verdict == "default"
    verdict: VerdictName = (
        _VERDICTS[prov.verdict] if not by_default else ("allowed" if prov.action.allows else "denied")
    )
    layers = []
    for label in prov.layers:
        kind = _kind(label)
        detail = ""
        if kind == "template" and template is not None:
            detail = _template_detail(template, name, applies)
        elif kind == "capability":
            detail = _capability_detail(label.split(":", 1)[1], name)
        elif kind == "profile" and document is not None:
            detail = _document_detail(document, name)
        elif kind == "default":
            detail = _action(profile.default_action, profile.default_errno)
        layers.append(Decision(label, kind, detail))
    if by_default and not any(d.kind == "default" for d in layers):
        layers.append(Decision("default action", "default", _action(profile.default_action, profile.default_errno)))
    notes = []
    if not abis:
        where = ", ".join(a.value for a in TABLED_ARCHES if name in table(a))
        notes.append(f"{name} does not exist on this profile's ABIs (only on {where}); the runtime skips it")
    group = category = ""
    try:
        from seccompose.categories import category_of, group_of

        group, category = group_of(name), category_of(name)
    except (ImportError, UnknownSyscallError):  # categories may not cover a name yet
        pass
    from seccompose.caps import load_capability_map

    return Explanation(
        name,
        host,
        abis,
        verdict,
        prov.action,
        prov.errno,
        prov.conditions,
        tuple(layers),
        by_default,
        group,
        category,
        tuple(sorted(c.name for c in load_capability_map("docker").capabilities_for(name))),
        tuple(notes),
        _action(profile.default_action, profile.default_errno) if verdict == "conditional" else "",
    )


def _capability_detail(cap: str, name: str) -> str:
    from seccompose.caps import load_capability_map

    for mapname in ("docker", "kernel"):
        sources = load_capability_map(mapname).sources(cap, name)
        if sources:
            return f"{cap} unlocks {name} (capability map {mapname!r}: {sources[0]})"
    return f"{cap} unlocks {name}"


@dataclass(frozen=True, slots=True)
class CategoryCount:
    """How one group or category fares under a profile: names allowed, conditional, denied."""

    name: str
    group: str
    allowed: tuple[str, ...]
    conditional: tuple[str, ...]
    denied: tuple[str, ...]

    @property
    def total(self) -> int:
        """How many syscalls of the category the host has."""
        return len(self.allowed) + len(self.conditional) + len(self.denied)

    def to_json(self) -> dict[str, Any]:
        """Return the counts and names as a JSON-ready dict."""
        return {
            "name": self.name,
            "group": self.group,
            "total": self.total,
            "allowed": list(self.allowed),
            "conditional": list(self.conditional),
            "denied": list(self.denied),
        }


@dataclass(frozen=True, slots=True)
class Summary:
    """What a profile allows on one host, by group and category."""

    source: str
    arch: Arch
    default: str
    groups: tuple[CategoryCount, ...]
    categories: tuple[CategoryCount, ...]

    def to_json(self) -> dict[str, Any]:
        """Return the summary as a JSON-ready dict."""
        return {
            "source": self.source,
            "arch": self.arch.value,
            "default": self.default,
            "groups": [g.to_json() for g in self.groups],
            "categories": [c.to_json() for c in self.categories],
        }

    def format_text(self) -> str:
        """Return the summary as a table, each group followed by its categories."""
        allowed = sum(len(g.allowed) for g in self.groups)
        cond = sum(len(g.conditional) for g in self.groups)
        total = sum(g.total for g in self.groups)
        lines = [
            (
                f"{self.source}, {self.arch.value} host: {allowed} of {total} syscalls allowed, {cond} "
                f"conditionally; default {self.default}"
            ),
            f"{'GROUP / CATEGORY':<34} {'ALLOWED':>9} {'COND':>5} {'DENIED':>6}",
        ]
        for g in self.groups:
            lines.append(_row(g.name, g))
            lines += [_row("  " + c.name, c) for c in self.categories if c.group == g.name and c.total]
        return "\n".join(lines)


def _row(label: str, c: CategoryCount) -> str:
    return f"{label:<34} {len(c.allowed):>4}/{c.total:<4} {len(c.conditional):>5} {len(c.denied):>6}"


def summarize(profile: Profile, *, arch: Arch | None = None, source: str = "profile") -> Summary:
    """Count what ``profile`` allows on an ``arch`` host, by the six groups and their categories.

    Raises:
        InvalidArchError: seccompose has no syscall table for ``arch``.

    Examples:
        >>> from seccompose import compose, Arch
        >>> s = summarize(compose(arch=Arch.AARCH64, allow=["socket", "connect"], runtime=None))
        >>> [(c.name, c.allowed) for c in s.categories if c.allowed]
        [('network', ('connect', 'socket'))]
    """
    from seccompose.arch import host_arch
    from seccompose.categories import categories, category_of, group_of, groups
    from seccompose.diff import verdict_of
    from seccompose.syscalls import host_names

    host = arch or profile.arch or host_arch()
    listed = [a for a in (profile.architectures or (host,)) if a in TABLED_ARCHES]
    names = sorted({n for a in listed for n in table(a)} if listed else set(host_names(host)))
    by_group: dict[str, dict[str, list[str]]] = {g.name: {"a": [], "c": [], "d": []} for g in groups()}
    # A category's rows are counted per group a name is in: the initialization group (the runtime base
    # set) keeps its names' finer categories, so file-io appears under initialization and under
    # file-system, and every group's categories add up to the group (issue 15: 14/88 vs 17/98).
    by_cat: dict[tuple[str, str], dict[str, list[str]]] = {
        (c.group, c.name): {"a": [], "c": [], "d": []} for c in categories()
    }
    for name in names:
        v = verdict_of(profile, name)
        if v.allows and all(not args for action, _, args in v.entries if action.allows):
            key = "a"
        elif v.allows:
            key = "c"
        else:
            key = "d"
        group = group_of(name)
        by_group[group][key].append(name)
        by_cat.setdefault((group, category_of(name)), {"a": [], "c": [], "d": []})[key].append(name)
    order = {g: i for i, g in enumerate(by_group)}
    return Summary(
        source,
        host,
        _action(profile.default_action, profile.default_errno),
        tuple(_count(g, g, by_group[g]) for g in by_group),
        tuple(_count(c, g, by_cat[g, c]) for g, c in sorted(by_cat, key=lambda k: order.get(k[0], len(order)))),
    )


def _count(name: str, group: str, lists: Mapping[str, Sequence[str]]) -> CategoryCount:
    return CategoryCount(name, group, tuple(lists["a"]), tuple(lists["c"]), tuple(lists["d"]))

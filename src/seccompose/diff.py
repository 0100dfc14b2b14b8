"""Semantic diff of two seccomp profiles: what a container may do differently, per architecture.

Two profiles can differ in text and load the same way (rule order, merged rules, a deny
equal to the default), or look alike and differ for one ABI only (``_llseek`` exists on
x86 only). :func:`diff` compares what the runtime applies, syscall by syscall, on every
ABI both profiles list, and reports each syscall as:

- ``added``: allowed (at least under conditions) in B and not in A;
- ``removed``: allowed in A and not in B;
- ``changed``: a different action, errno or argument conditions.

Examples:
    >>> from seccompose import Profile, Rule, Action, Arch
    >>> a = Profile(architectures=(Arch.X86_64,), rules=(Rule(("read", "write")),))
    >>> b = Profile(architectures=(Arch.X86_64,), rules=(Rule(("read",)), Rule(("mount",))))
    >>> d = diff(a, b)
    >>> [(c.name, c.kind) for c in d.arches[0].changes]
    [('mount', 'added'), ('write', 'removed')]
    >>> d.equal
    False
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from seccompose.actions import Action, errno_name
from seccompose.arch import Arch
from seccompose.syscalls import MULTIPLEXERS, TABLED_ARCHES, all_names, table

if TYPE_CHECKING:
    from collections.abc import Iterable

    from seccompose.caps import Capability
    from seccompose.profile import Profile
    from seccompose.rules import Arg

__all__ = ["ArchDiff", "Change", "ProfileDiff", "Verdict", "diff", "diff_files", "verdict_of"]

ChangeKind = Literal["added", "removed", "changed"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the runtime does with one syscall: each (action, errno, conditions) that applies, sorted.

    ``default`` is True when no rule names the syscall (or only rules the runtime drops).
    """

    entries: tuple[tuple[Action, int | None, tuple[Arg, ...]], ...]
    default: bool = False

    @property
    def allows(self) -> bool:
        """Whether the syscall may run (perhaps only under conditions)."""
        return any(action.allows for action, _, _ in self.entries)

    def describe(self) -> str:
        """Return the verdict as text, e.g. ``allowed`` or ``SCMP_ACT_ERRNO(EPERM) (default)``.

        >>> Verdict(((Action.ERRNO, 38, ()),)).describe()
        'SCMP_ACT_ERRNO(ENOSYS)'
        """
        parts = [_entry(a, e, args) for a, e, args in self.entries]
        return " | ".join(parts) + (" (default)" if self.default else "")

    def to_json(self) -> dict[str, Any]:
        """Return the verdict as a JSON-ready dict."""
        return {
            "default": self.default,
            "rules": [
                {
                    "action": a.value,
                    **({"errnoRet": e} if e is not None else {}),
                    **({"args": [_arg_json(x) for x in args]} if args else {}),
                }
                for a, e, args in self.entries
            ],
        }


def _arg_json(arg: Arg) -> dict[str, Any]:
    return {"index": arg.index, "value": arg.value, "valueTwo": arg.value_two, "op": arg.op.value}


def _arg_text(arg: Arg) -> str:
    return arg.describe(hex_from=0)  # diff writes every value in hex


def _entry(action: Action, errno: int | None, args: tuple[Arg, ...]) -> str:
    if action is Action.ALLOW:
        text = "allowed"
    elif errno is not None:
        text = f"{action.value}({errno_name(errno)})"
    else:
        text = action.value
    if args:
        text += " if " + " and ".join(_arg_text(a) for a in args)
    return text


def verdict_of(profile: Profile, name: str, abi: Arch | None = None) -> Verdict:
    """Return what the runtime does with ``name`` under ``profile`` on ``abi`` (None: any ABI it lists).

    The rules as the runtime loads them (:func:`seccompose.profile.loaded_rules`): those equal
    to the default dropped; a rule with two conditions on one argument is two entries (runc
    and crun OR them); on x86, ``socketcall`` and ``ipc`` with the rules libseccomp adds them
    for the calls they run.

    >>> from seccompose import Profile, Rule, Arg, Operator
    >>> verdict_of(Profile(rules=(Rule(("kill",), Action.ERRNO, 1),)), "kill").describe()
    'SCMP_ACT_ERRNO(EPERM) (default)'
    >>> twice = Rule(("clone",), args=(Arg(0, Operator.EQ, 1), Arg(0, Operator.EQ, 2)))
    >>> verdict_of(Profile(rules=(twice,)), "clone").describe()
    'allowed if arg0 == 0x1 | allowed if arg0 == 0x2'
    """
    from seccompose.profile import loaded_rules

    loaded = loaded_rules(profile, name, abi=abi)
    # libseccomp keeps the first unconditional verdict, which overrides every conditional one.
    loaded = next(((r,) for r in loaded if not r.args), loaded)
    entries = sorted(
        {(r.action, r.errno, r.args) for r in loaded},
        key=lambda e: (e[0].value, -1 if e[1] is None else e[1], tuple(a.sort_key() for a in e[2])),
    )
    if not entries:
        return Verdict(((profile.default_action, profile.default_errno, ()),), default=True)
    return Verdict(tuple(entries))


@dataclass(frozen=True, slots=True)
class Change:
    """One syscall that differs between A and B on an ABI."""

    name: str
    kind: ChangeKind
    a: Verdict
    b: Verdict

    @property
    def what(self) -> str:
        """For ``changed``: which part differs, ``action``, ``errno`` or ``conditions``."""
        if self.kind != "changed":
            return self.kind
        actions_a = {(x[0]) for x in self.a.entries}
        actions_b = {(x[0]) for x in self.b.entries}
        if actions_a != actions_b:
            return "action"
        if {x[:2] for x in self.a.entries} != {x[:2] for x in self.b.entries}:
            return "errno"
        return "conditions"

    def to_json(self) -> dict[str, Any]:
        """Return the change as a JSON-ready dict."""
        return {"name": self.name, "kind": self.kind, "what": self.what, "a": self.a.to_json(), "b": self.b.to_json()}


@dataclass(frozen=True, slots=True)
class ArchDiff:
    """The changes on one ABI, sorted by kind then name."""

    arch: Arch
    changes: tuple[Change, ...]


@dataclass(frozen=True, slots=True)
class ProfileDiff:
    """The semantic difference of two profiles: profile-level fields, architectures, per-ABI changes."""

    a: str
    b: str
    fields: tuple[tuple[str, str, str], ...]
    """(field, value in A, value in B) for defaultAction/defaultErrnoRet, flags, listenerPath."""
    arches_only_a: tuple[Arch, ...]
    arches_only_b: tuple[Arch, ...]
    arches: tuple[ArchDiff, ...]
    untabled: tuple[tuple[str, Verdict, Verdict], ...] = ()
    """Names in no kernel table treated differently, when the profiles list an ABI without a table."""

    @property
    def equal(self) -> bool:
        """Whether the runtime loads both profiles the same way."""
        return not (
            self.fields
            or self.arches_only_a
            or self.arches_only_b
            or self.untabled
            or any(d.changes for d in self.arches)
        )

    def to_json(self) -> dict[str, Any]:
        """Return the diff as a JSON-ready dict (stable order)."""
        return {
            "a": self.a,
            "b": self.b,
            "equal": self.equal,
            "fields": [{"field": f, "a": x, "b": y} for f, x, y in self.fields],
            "architectures": {
                "onlyA": [x.value for x in self.arches_only_a],
                "onlyB": [x.value for x in self.arches_only_b],
            },
            "arches": {d.arch.value: [c.to_json() for c in d.changes] for d in self.arches},
            "untabled": [{"name": n, "a": x.to_json(), "b": y.to_json()} for n, x, y in self.untabled],
        }

    def format_text(self) -> str:
        """Return the diff as text: ``+`` added, ``-`` removed, ``~`` changed; ABIs with equal changes grouped.

        >>> from seccompose import Profile
        >>> print(diff(Profile(), Profile(), a_name="a.json", b_name="b.json").format_text())
        a.json and b.json load the same way
        """
        if self.equal:
            return f"{self.a} and {self.b} load the same way"
        lines = [f"--- {self.a}", f"+++ {self.b}"]
        lines += [f"{f}: {x} -> {y}" for f, x, y in self.fields]
        if self.arches_only_a:
            lines.append("architectures only in A: " + ", ".join(x.value for x in self.arches_only_a))
        if self.arches_only_b:
            lines.append("architectures only in B: " + ", ".join(x.value for x in self.arches_only_b))
        groups: dict[tuple[Change, ...], list[str]] = {}
        for d in self.arches:
            if d.changes:
                groups.setdefault(d.changes, []).append(d.arch.value)
        for changes, arches in groups.items():
            lines.append(f"{', '.join(arches)}:")
            lines += [_change_line(c) for c in changes]
        if self.untabled:
            lines.append("names in no kernel table:")
            lines += [_change_line(Change(n, _kind(x, y), x, y)) for n, x, y in self.untabled]
        return "\n".join(lines)


def _change_line(c: Change) -> str:
    if c.kind == "added":
        return f"  + {c.name:<24} {c.b.describe()}  (was {c.a.describe()})"
    if c.kind == "removed":
        return f"  - {c.name:<24} {c.b.describe()}  (was {c.a.describe()})"
    return f"  ~ {c.name:<24} {c.what}: {c.a.describe()} -> {c.b.describe()}"


def _kind(a: Verdict, b: Verdict) -> ChangeKind:
    if b.allows and not a.allows:
        return "added"
    if a.allows and not b.allows:
        return "removed"
    return "changed"


def _same(a: Verdict, b: Verdict) -> bool:
    return a.entries == b.entries


def _default_text(p: Profile) -> str:
    return p.default_action.value + (f"({errno_name(p.default_errno)})" if p.default_errno is not None else "")


def _abis(profile: Profile, host: Arch | None) -> tuple[Arch, ...]:
    if profile.architectures:
        return profile.architectures
    # No list: the runtime filters its native ABI only.
    from seccompose.arch import host_arch

    return ((host or host_arch()),)


def diff(a: Profile, b: Profile, *, a_name: str = "A", b_name: str = "B", arch: Arch | None = None) -> ProfileDiff:
    """Return the semantic difference between profiles ``a`` and ``b``.

    Args:
        a: the old profile.
        b: the new profile.
        a_name: how reports name ``a``.
        b_name: how reports name ``b``.
        arch: only compare the ABIs an ``arch`` host runs (x86_64: x86_64, x86, x32); None: every ABI.

    Examples:
        >>> from seccompose import Profile, Rule, Arch
        >>> p = Profile(architectures=Arch.X86_64.abis, rules=(Rule(("_llseek", "read")),))
        >>> q = Profile(architectures=Arch.X86_64.abis, rules=(Rule(("read",)),))
        >>> [(d.arch.value, [c.name for c in d.changes]) for d in diff(p, q).arches]
        [('x86_64', []), ('x86', ['_llseek']), ('x32', [])]
    """
    fields = []
    if (a.default_action, a.default_errno) != (b.default_action, b.default_errno):
        fields.append(("default", _default_text(a), _default_text(b)))
    if a.flags != b.flags:
        fields.append(("flags", ",".join(f.value for f in a.flags) or "-", ",".join(f.value for f in b.flags) or "-"))
    if a.listener_path != b.listener_path:
        fields.append(("listenerPath", a.listener_path or "-", b.listener_path or "-"))
    abis_a, abis_b = _abis(a, arch), _abis(b, arch)
    if arch is not None:
        abis_a = tuple(x for x in abis_a if x in arch.abis)
        abis_b = tuple(x for x in abis_b if x in arch.abis)
    only_a = tuple(x for x in abis_a if x not in abis_b)
    only_b = tuple(x for x in abis_b if x not in abis_a)
    named = {n for p in (a, b) for r in p.rules for n in r.names}
    arch_diffs = []
    for abi in (x for x in abis_a if x in abis_b and x in TABLED_ARCHES):
        t = table(abi)
        changes = []
        # On x86 libseccomp gives the multiplexers rules of the calls they run, named or not.
        here = named | set(MULTIPLEXERS) if abi is Arch.X86 else named
        for name in sorted(n for n in here if n in t):
            va, vb = verdict_of(a, name, abi), verdict_of(b, name, abi)
            if not _same(va, vb):
                changes.append(Change(name, _kind(va, vb), va, vb))
        changes.sort(key=lambda c: (c.kind, c.name))
        arch_diffs.append(ArchDiff(abi, tuple(changes)))
    untabled = []
    common = [x for x in abis_a if x in abis_b]
    # Names in no table matter only where the runtime may resolve them: an ABI without a table.
    for name in sorted(named - all_names()) if any(x not in TABLED_ARCHES for x in common) else ():
        va, vb = verdict_of(a, name), verdict_of(b, name)
        if not _same(va, vb):
            untabled.append((name, va, vb))
    return ProfileDiff(a_name, b_name, tuple(fields), only_a, only_b, tuple(arch_diffs), tuple(untabled))


def diff_files(
    a: str,
    b: str,
    *,
    arch: Arch | None = None,
    runtime: str | None = "runc,crun",
    caps: Iterable[Capability] | None = None,
    no_new_privileges: bool = False,
) -> ProfileDiff:
    """Diff two profiles given as files (OCI, ``config.json``, Docker/Podman) or template names.

    Template names and conditional Docker profiles are composed or rendered for a container
    with ``caps`` (None: Docker's default capabilities) on an ``arch`` host (default: this
    machine's), template names with the base set of ``runtime`` for ``no_new_privileges``;
    with ``arch``, only that host's ABIs are compared.

    Raises:
        TemplateNotFoundError, FormatError: an input cannot be read.

    >>> d = diff_files("default", "default", arch=Arch.X86_64, runtime=None)
    >>> d.equal
    True
    """
    from seccompose._inputs import read_profile
    from seccompose.arch import host_arch

    host = arch or host_arch()
    pa = read_profile(a, arch=host, runtime=runtime, caps=caps, no_new_privileges=no_new_privileges)
    pb = read_profile(b, arch=host, runtime=runtime, caps=caps, no_new_privileges=no_new_privileges)
    return diff(pa, pb, a_name=a, b_name=b, arch=arch)

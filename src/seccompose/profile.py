"""The seccomp profile: what a runtime loads for one container.

A ``Profile`` is immutable and canonical: rules with the same action, errno and
conditions are merged into one rule, names are sorted, rules are sorted. Two
profiles that a runtime would load the same way from the same JSON compare equal.

>>> p = Profile(
...     architectures=(Arch.X86_64,),
...     rules=(Rule(("write",)), Rule(("read",)), Rule(("kill",), Action.ERRNO, 38)),
... )
>>> [(r.names, r.action.name, r.errno) for r in p.rules]
[(('read', 'write'), 'ALLOW', None), (('kill',), 'ERRNO', 38)]
>>> p.default_action, p.default_errno
(<Action.ERRNO: 'SCMP_ACT_ERRNO'>, 1)
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final

from seccompose.actions import EPERM, Action, parse_errno
from seccompose.arch import Arch
from seccompose.errors import InvalidActionError, InvalidProfileError
from seccompose.rules import Arg, Operator, Rule

__all__ = ["Flag", "Profile", "Provenance", "loaded_rules", "runtime_groups", "verdict_from_rules"]


class Flag(enum.Enum):
    """Flags for the ``seccomp(2)`` call that loads the filter (OCI ``flags``)."""

    # Members are singletons compared by identity: hash them so too, in C (Enum's hash runs Python code).
    __hash__ = object.__hash__

    TSYNC = "SECCOMP_FILTER_FLAG_TSYNC"
    LOG = "SECCOMP_FILTER_FLAG_LOG"
    SPEC_ALLOW = "SECCOMP_FILTER_FLAG_SPEC_ALLOW"
    WAIT_KILLABLE_RECV = "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"


@dataclass(frozen=True, slots=True)
class Provenance:
    """Why a syscall ended up as it did: the verdict and every layer that decided it."""

    name: str
    verdict: str
    """``allowed``, ``conditional``, ``denied`` or ``default``."""
    action: Action
    errno: int | None
    layers: tuple[str, ...]
    """Labels such as ``template:nginx``, ``capability:CAP_SYS_ADMIN``, ``allow``, ``deny``, ``runtime:runc``."""
    conditions: tuple[tuple[Arg, ...], ...] = ()


_Explainer = Callable[["Profile", str], Provenance]
"""Explains a name given the profile: the explainer keeps no reference to its profile (no cycle to collect)."""


def first_wins(rules: Iterable[Rule], default_action: Action, default_errno: int | None) -> list[Rule]:
    """Resolve rules that give one syscall different unconditional verdicts, as the runtime does.

    runc and crun skip rules equal to the default action, then add the rest in
    order; libseccomp keeps the first unconditional verdict a syscall gets and
    ignores later, different ones; an unconditional verdict overrides the
    syscall's conditional rules whatever their order. Canonical profiles are
    sorted, so these conflicts are settled here, before order is lost.

    >>> rules = [Rule(("perf_event_open",), Action.ERRNO, 1), Rule(("perf_event_open", "read"))]
    >>> [(r.names, r.action.name) for r in first_wins(rules, Action.ERRNO, 38)]
    [(('perf_event_open',), 'ERRNO'), (('read',), 'ALLOW')]
    """
    claimed: dict[str, tuple[Action, int | None]] = {}
    kept: list[Rule] = []
    for rule in rules:
        if rule.args or (rule.action is default_action and rule.errno == default_errno):
            kept.append(rule)
            continue
        verdict = (rule.action, rule.errno)
        keep = tuple(n for n in rule.names if claimed.setdefault(n, verdict) == verdict)
        if len(keep) == len(rule.names):
            kept.append(rule)
        elif keep:
            kept.append(Rule(keep, rule.action, rule.errno, rule.args, rule.comment))
    # An unconditional verdict also overrides every conditional rule of the syscall, in any order.
    out = []
    for rule in kept:
        if not rule.args or not any(n in claimed for n in rule.names):
            out.append(rule)
            continue
        keep = tuple(n for n in rule.names if n not in claimed)
        if keep:
            out.append(Rule(keep, rule.action, rule.errno, rule.args, rule.comment))
    return out


def _canonical(rules: Iterable[Rule]) -> tuple[Rule, ...]:
    merged: dict[tuple[Action, int | None, tuple[Arg, ...]], set[str]] = {}
    for rule in rules:
        merged.setdefault(rule.key(), set()).update(rule.names)
    out = [Rule(tuple(names), action, errno, args) for (action, errno, args), names in merged.items() if names]
    out.sort(key=Rule.sort_key)
    return tuple(out)


def _default_errno(action: Action, errno: int | None) -> int | None:
    """Return the errno unnamed syscalls get with ``action`` (EPERM if unset), or raise if it takes none."""
    if action.takes_errno:
        return EPERM if errno is None else parse_errno(errno, location="defaultErrnoRet")
    if errno is not None:
        raise InvalidActionError(
            f"defaultErrnoRet {errno!r} given with {action.value}; only "
            "SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one: remove it or change defaultAction",
            location="defaultErrnoRet",
        )
    return None


def _check_listener(rules: tuple[Rule, ...], listener_path: str | None) -> None:
    if not listener_path and any(r.action is Action.NOTIFY for r in rules):
        # runc refuses this too; saying so here gives the fix.
        raise InvalidProfileError(
            "SCMP_ACT_NOTIFY needs a listenerPath (the seccomp agent's socket); add listenerPath or "
            "use another action",
            location="listenerPath",
        )


class Shape:
    """What a family of composed profiles shares, so emitters write it once (``compose`` makes one per base).

    Profiles with the same shape differ in the names of their first rule only, and, when
    ``second`` is set, in those of the rule at that index too: an unconditional ERRNO rule
    (the base's biggest, which capabilities shorten, or the one a container's denies join
    when the default refuses with another errno). Such a rule has its names held as bits
    (``Rule._bits``, ``Rule._near``); the first one allows unconditionally. Their
    defaults, architectures, flags, listener and other rules are the same objects.
    ``texts`` is for emitters: what they write before, between and after those names, by
    layout.
    """

    __slots__ = ("second", "texts")

    def __init__(self, second: int = 0) -> None:
        self.second = second
        self.texts: dict[str, tuple[str, ...]] = {}


@dataclass(frozen=True, slots=True)
class Profile:
    """A seccomp profile as an OCI runtime reads it (``linux.seccomp``), canonical and immutable."""

    default_action: Action = Action.ERRNO
    default_errno: int | None = None
    architectures: tuple[Arch, ...] = ()
    rules: tuple[Rule, ...] = ()
    flags: tuple[Flag, ...] = ()
    listener_path: str | None = None
    listener_metadata: str | None = None
    warnings: tuple[str, ...] = field(default=(), compare=False)
    """Things the user should know that did not stop the profile (e.g. names skipped on this arch)."""
    _explain: _Explainer | None = field(default=None, compare=False, repr=False)
    _shape: Shape | None = field(default=None, init=False, compare=False, repr=False)
    """Set by ``compose``: see ``Shape``; None for every profile built otherwise."""

    def __post_init__(self) -> None:
        if not isinstance(self.default_action, Action):
            object.__setattr__(self, "default_action", Action.parse(self.default_action, location="defaultAction"))
        object.__setattr__(self, "default_errno", _default_errno(self.default_action, self.default_errno))
        seen: dict[Arch, None] = {}
        for i, arch in enumerate(self.architectures):
            if not isinstance(arch, Arch):
                raise InvalidProfileError(f"{arch!r} is not an Arch", location=f"architectures[{i}]")
            seen[arch] = None
        object.__setattr__(self, "architectures", tuple(seen))
        object.__setattr__(self, "flags", tuple(sorted(set(self.flags), key=lambda f: f.value)))
        object.__setattr__(
            self, "rules", _canonical(first_wins(self.rules, self.default_action, self.default_errno))
        )
        _check_listener(self.rules, self.listener_path)

    @classmethod
    def _trusted(
        cls,
        default_action: Action,
        default_errno: int | None,
        architectures: tuple[Arch, ...],
        rules: tuple[Rule, ...],
        flags: tuple[Flag, ...],
        listener_path: str | None,
        listener_metadata: str | None,
        warnings: tuple[str, ...],
        explain: _Explainer | None,
        shape: Shape | None = None,
    ) -> Profile:
        """Build a profile from parts canonical and checked already (``compose``'s fast path).

        The caller vouches for everything ``__post_init__`` does: the default errno
        normalised (``_default_errno``), arches unique, flags sorted, rules merged by key
        with sorted names and sorted by ``Rule.sort_key``, no two unconditional verdicts
        for one name (``first_wins`` would change nothing), a listener if a rule notifies.
        """
        parts = _ProfileParts()
        parts.default_action = default_action
        parts.default_errno = default_errno
        parts.architectures = architectures
        parts.rules = rules
        parts.flags = flags
        parts.listener_path = listener_path
        parts.listener_metadata = listener_metadata
        parts.warnings = warnings
        parts._explain = explain  # noqa: SLF001 - the builder fills the Profile's own slots
        parts._shape = shape  # noqa: SLF001 - the builder fills the Profile's own slots
        parts.__class__ = cls  # type: ignore[assignment] # same slots: the filled object becomes the frozen one
        return parts  # type: ignore[return-value]

    @property
    def arch(self) -> Arch | None:
        """The primary (host) architecture: the first one listed."""
        return self.architectures[0] if self.architectures else None

    def rules_for(self, name: str) -> tuple[Rule, ...]:
        """Return every rule that names ``name``.

        >>> Profile(rules=(Rule(("read",)),)).rules_for("read")[0].action
        <Action.ALLOW: 'SCMP_ACT_ALLOW'>
        """
        return tuple(r for r in self.rules if name in r.names)

    def allowed(self) -> frozenset[str]:
        """Return the names allowed unconditionally (ALLOW or LOG without conditions).

        >>> sorted(Profile(rules=(Rule(("read", "write")),)).allowed())
        ['read', 'write']
        """
        return frozenset(n for r in self.rules if r.action.allows and not r.args for n in r.names)

    def effective(self) -> Profile:
        """Return the profile as runc and crun load it: rules equal to the default action dropped.

        >>> p = Profile(rules=(Rule(("kill",), Action.ERRNO, 1),))
        >>> p.effective().rules
        ()
        """
        keep = tuple(
            r for r in self.rules if not (r.action is self.default_action and r.errno == self.default_errno)
        )
        explain = self._explain
        return Profile(
            self.default_action,
            self.default_errno,
            self.architectures,
            keep,
            self.flags,
            self.listener_path,
            self.listener_metadata,
            self.warnings,
            # Still explained against this profile, where the dropped rules are.
            None if explain is None else lambda _, name: explain(self, name),
        )

    def explain(self, name: str) -> Provenance:
        """Return the verdict for ``name`` and the layers that decided it.

        Profiles made by ``compose`` know their layers; others only know their rules.

        >>> Profile(rules=(Rule(("read",)),)).explain("read").verdict
        'allowed'
        """
        if self._explain is not None:
            return self._explain(self, name)
        return verdict_from_rules(self, name, ("profile",))


class _ProfileParts:
    """A ``Profile``'s slots without its frozen ``__setattr__``.

    ``Profile._trusted`` fills one at the speed of plain attribute stores, then turns it
    into the Profile (same slots, so the same memory layout).
    """

    __slots__ = Profile.__slots__
    default_action: Action
    default_errno: int | None
    architectures: tuple[Arch, ...]
    rules: tuple[Rule, ...]
    flags: tuple[Flag, ...]
    listener_path: str | None
    listener_metadata: str | None
    warnings: tuple[str, ...]
    _explain: _Explainer | None
    _shape: Shape | None


def runtime_groups(args: tuple[Arg, ...]) -> tuple[tuple[Arg, ...], ...]:
    """Return a rule's conditions as runc and crun add them: AND within a group, OR between groups.

    libseccomp cannot AND two conditions on one argument, so the runtimes turn every
    condition of such a rule into a rule of its own.

    >>> from seccompose.rules import Operator
    >>> runtime_groups((Arg(0, Operator.EQ, 1), Arg(0, Operator.EQ, 2)))
    ((Arg(index=0, op=<Operator.EQ: 'SCMP_CMP_EQ'>, value=1, value_two=0),), \
(Arg(index=0, op=<Operator.EQ: 'SCMP_CMP_EQ'>, value=2, value_two=0),))
    """
    indexes = [a.index for a in args]
    if len(set(indexes)) != len(indexes):
        return tuple((a,) for a in args)
    return (args,)


def loaded_rules(profile: Profile, name: str, *, abi: Arch | None = None) -> tuple[Rule, ...]:
    """Return the rules the runtime loads for ``name``, in the order it adds them, each of one name.

    As runc and crun read a profile: rules equal to the default action are dropped, and a
    rule with two conditions on one argument becomes one rule per condition (OR). On x86
    (``abi``, or any profile that lists it when ``abi`` is None) libseccomp also gives
    ``socketcall`` and ``ipc`` a rule for each rule of a call they run, with the call's
    number in place of the first argument's conditions (``syscalls.subcalls``).

    >>> from seccompose.rules import Operator
    >>> p = Profile(architectures=Arch.X86_64.abis, rules=(Rule(("socket",), args=(Arg(0, Operator.LT, 38),)),))
    >>> [(r.names, r.args[0].op.name, r.args[0].value) for r in loaded_rules(p, "socketcall")]
    [(('socketcall',), 'EQ', 1)]
    """
    from seccompose.syscalls import MULTIPLEXERS, subcalls

    default = (profile.default_action, profile.default_errno)
    x86 = abi is Arch.X86 if abi is not None else Arch.X86 in profile.architectures
    calls = {}
    if x86 and name in MULTIPLEXERS:
        calls = {s.name: s.call for s in subcalls(Arch.X86) if s.multiplexer == name}
    out: list[Rule] = []
    for rule in profile.rules:
        if (rule.action, rule.errno) == default:
            continue
        for n in rule.names:
            if n == name:
                out += [Rule((name,), rule.action, rule.errno, group) for group in runtime_groups(rule.args)]
            elif n in calls:
                out += [
                    Rule(
                        (name,),
                        rule.action,
                        rule.errno,
                        (Arg(0, Operator.EQ, calls[n]), *(a for a in group if a.index != 0)),
                    )
                    for group in runtime_groups(rule.args)
                ]
    return tuple(out)


def verdict_from_rules(profile: Profile, name: str, layers: tuple[str, ...]) -> Provenance:
    """Work out a name's verdict from a profile's rules, as the runtime loads them (:func:`loaded_rules`).

    The first unconditional rule decides (libseccomp keeps it and overrides every
    conditional one); else conditional allows make it ``conditional``, each group of
    conditions one way to be allowed; else the default action applies (conditional
    refusals under a default that allows: ``conditional``, with no allowing conditions).
    """
    rules = loaded_rules(profile, name)
    for r in rules:
        if not r.args:
            return Provenance(name, "allowed" if r.action.allows else "denied", r.action, r.errno, layers)
    conditional = tuple(dict.fromkeys(r.args for r in rules if r.action.allows))
    if conditional:
        return Provenance(name, "conditional", Action.ALLOW, None, layers, conditional)
    if rules and profile.default_action.allows:
        return Provenance(name, "conditional", profile.default_action, None, layers)
    return Provenance(name, "default", profile.default_action, profile.default_errno, ("default action",))


MAX_DOCUMENT_BYTES: Final = 16 * 1024 * 1024
"""Largest profile document accepted (Docker's default is ~20 kB)."""

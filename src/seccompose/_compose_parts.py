"""The pieces compose's algebra (``seccompose.compose``) and its fast path (``seccompose._compose_fast``) share.

- a layer's rules resolved on a host's universe (``_Resolved``, ``_resolve_names``) and summed up
  for the algebra (``_Part``);
- the runtime's reading within one template: the first unconditional verdict wins
  (``_first_wins``, on bits), and the default action a profile gets (``_default``);
- the multiplexers: what ``socketcall`` and ``ipc`` run where a profile lists x86 (``_multiplex``);
- provenance: which layers decided a syscall, worked out when asked (``_Explainer``).

Both modules import this one and neither is imported here (but for types): the algebra
dispatches to the fast path, which never imports the algebra back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Final, NamedTuple

from seccompose import _caches
from seccompose.actions import ENOSYS, EPERM, Action, errno_name
from seccompose.arch import Arch
from seccompose.caps import Capability
from seccompose.errors import ConflictError, InvalidActionError, UnknownSyscallError
from seccompose.profile import Profile, Provenance, verdict_from_rules
from seccompose.rules import Arg, Operator, Rule
from seccompose.syscalls import SubCall, all_names, subcalls
from seccompose.syscallset import Universe
from seccompose.templates import Template

if TYPE_CHECKING:
    from seccompose._compose_fast import _Compiled
    from seccompose.compose import ErrnoPolicy

_ERRNO: Final = Action.ERRNO


class _Resolved:
    """One rule of a layer resolved on a universe: its bits, and the names no table has."""

    __slots__ = ("bits", "foreign", "label", "rule")

    def __init__(self, label: str, rule: Rule, bits: int, foreign: tuple[str, ...]) -> None:
        self.label = label
        self.rule = rule
        self.bits = bits
        self.foreign = foreign


def _resolve_names(u: Universe, label: str, rule: Rule, warnings: list[str], where: str, *, strict: bool) -> _Resolved:
    """Resolve ``rule``'s names on ``u``: their bits, and the names no table has.

    A name on another arch's table is skipped, with a warning; one on no table is an error
    (``strict``: user input, at ``where[j]``) or kept for the runtime to resolve, with a warning.
    """
    known = None
    bits = 0
    foreign: list[str] = []
    index = u.index
    for j, name in enumerate(rule.names):
        bit = index.get(name)
        if bit is not None:
            bits |= 1 << bit
            continue
        known = all_names() if known is None else known
        if name in known:
            warnings.append(f"{name!r} does not exist on {u.arch.value}; skipped ({label})")
        elif strict:
            raise UnknownSyscallError(name, location=f"{where}[{j}]", choices=sorted(known))
        else:
            warnings.append(
                f"{name!r} is not in seccompose's syscall tables; kept for the runtime to resolve ({label})"
            )
            foreign.append(name)
    return _Resolved(label, rule, bits, tuple(foreign))


class _Part:
    """One or more layers resolved on a universe, summed up for the algebra (computed once, then cached).

    ``allow``/``log``: the bits allowed outright (ALLOW, LOG); ``foreign``: names outside the
    tables allowed outright; ``others``: the rules with conditions or a non-allowing action,
    which keep their own rule in the profile; ``every``: the bits of every rule (what a deny
    layer removes).
    """

    __slots__ = ("_resolved", "allow", "conditional", "every", "foreign", "label", "log", "others", "warnings")

    def __init__(self, resolved: Sequence[_Resolved], warnings: Sequence[str] = ()) -> None:
        self._resolved: tuple[_Resolved, ...] | None = tuple(resolved)
        self.label = ""
        self.warnings = tuple(warnings)
        self.allow = self.log = self.every = 0
        foreign: dict[str, None] = {}
        others = []
        self.conditional: str | None = None
        for r in self._resolved:
            self.every |= r.bits
            if r.rule.args and self.conditional is None:
                self.conditional = r.label
            if r.rule.args or not r.rule.action.allows:
                others.append(r)
            elif r.rule.action is Action.ALLOW:
                self.allow |= r.bits
                foreign.update(dict.fromkeys(r.foreign))
            else:
                self.log |= r.bits
        self.foreign = tuple(foreign)
        self.others = tuple(others)

    @classmethod
    def names(cls, label: str, bits: int) -> _Part:
        """A layer that allows (or denies) names all in the universe: its rule is only built if explained."""
        part = object.__new__(cls)
        part._resolved = None
        part.label = label
        part.warnings = part.foreign = part.others = ()
        part.allow = part.every = bits
        part.log = 0
        part.conditional = None
        return part

    def resolved(self, u: Universe) -> tuple[_Resolved, ...]:
        """Return the layer's resolved rules (for ``explain``)."""
        if self._resolved is None:
            rule = Rule._trusted(u.names_of(self.every), Action.ALLOW, None, ())  # noqa: SLF001 - sorted, unique
            self._resolved = (_Resolved(self.label, rule, self.every, ()),)
        return self._resolved


@_caches.cache
def _capabilities() -> dict[int, Capability]:
    from seccompose.caps import all_capabilities

    return {cap.number: cap for cap in all_capabilities()}


def _capset(capbits: int) -> frozenset[Capability]:
    """Return the capabilities whose bits are set."""
    return frozenset(cap for number, cap in _capabilities().items() if capbits >> number & 1)


class _TemplateRule:
    """One template rule resolved on one universe, once: its bits, and its names outside the universe."""

    __slots__ = ("foreign", "resolved", "skipped")

    def __init__(self, u: Universe, label: str, rule: Rule) -> None:
        index = u.index
        known = all_names()
        bits = 0
        foreign = []
        skipped = []
        for name in rule.names:
            bit = index.get(name)
            if bit is not None:
                bits |= 1 << bit
            elif name in known:
                skipped.append(name)  # on another arch's table: the profile skips it, with a warning
            else:
                foreign.append(name)  # on no table: kept for the runtime, with a warning
        self.resolved = _Resolved(label, rule, bits, tuple(foreign))
        self.skipped = tuple(skipped)
        self.foreign = self.resolved.foreign


def _first_wins(
    u: Universe, label: str, selected: Sequence[_TemplateRule], action: Action, errno: int | None
) -> tuple[list[_Resolved], list[str]]:
    """``profile.first_wins`` on resolved rules, with the warnings of what is left.

    The first unconditional verdict keeps a name; conditional rules lose the names any
    unconditional verdict has. Works on bits, so compiling a template costs a few integer operations
    per rule; names outside the universe are settled by name, as ``first_wins`` does.
    """
    claimed: dict[tuple[Action, int | None], int] = {}
    claimed_any = 0
    claimed_names: dict[str, tuple[Action, int | None]] = {}
    kept: list[tuple[_Resolved, tuple[str, ...]]] = []
    out: list[_Resolved] = []
    warnings: list[str] = []
    arch = u.arch.value
    for tr in selected:
        r = tr.resolved
        rule = r.rule
        skipped = tr.skipped
        if not (rule.args or (rule.action is action and rule.errno == errno)):
            verdict = (rule.action, rule.errno)
            mine = claimed.get(verdict, 0)
            bits = r.bits & ~(claimed_any & ~mine)
            claimed[verdict] = mine | bits
            claimed_any |= bits
            if tr.skipped or tr.foreign:
                skipped = tuple(n for n in tr.skipped if claimed_names.setdefault(n, verdict) == verdict)
                foreign = tuple(n for n in tr.foreign if claimed_names.setdefault(n, verdict) == verdict)
            else:
                foreign = ()
            if bits != r.bits or len(skipped) != len(tr.skipped) or len(foreign) != len(tr.foreign):
                if not (bits or skipped or foreign):
                    continue
                names = tuple(sorted({*u.names_of(bits), *skipped, *foreign}))
                r = _Resolved(label, Rule(names, rule.action, rule.errno, rule.args, rule.comment), bits, foreign)
        kept.append((r, skipped))
    # An unconditional verdict also overrides every conditional rule of the syscall, in any order.
    for r, skipped in kept:
        rule = r.rule
        if rule.args and (r.bits & claimed_any or any(n in claimed_names for n in (*skipped, *r.foreign))):
            bits = r.bits & ~claimed_any
            skipped = tuple(n for n in skipped if n not in claimed_names)  # noqa: PLW2901 - the kept part
            foreign = tuple(n for n in r.foreign if n not in claimed_names)
            if not (bits or skipped or foreign):
                continue
            names = tuple(sorted({*u.names_of(bits), *skipped, *foreign}))
            r = _Resolved(label, Rule(names, rule.action, rule.errno, rule.args, rule.comment), bits, foreign)  # noqa: PLW2901
        warnings += [f"{name!r} does not exist on {arch}; skipped ({label})" for name in skipped]
        warnings += [
            f"{name!r} is not in seccompose's syscall tables; kept for the runtime to resolve ({label})"
            for name in r.foreign
        ]
        out.append(r)
    return out, warnings


def _default(
    template: Template, errno_policy: ErrnoPolicy | None, default_action: Action | None
) -> tuple[Action, int | None]:
    if errno_policy not in (None, "eperm", "enosys"):
        raise InvalidActionError(f"unknown errno policy {errno_policy!r}; use 'eperm' or 'enosys'")
    policy_errno = ENOSYS if errno_policy == "enosys" else EPERM
    if default_action is not None:
        return default_action, (policy_errno if default_action.takes_errno else None)
    if errno_policy is None and template.default_action is not None:
        errno = template.default_errno
        if template.default_action.takes_errno and errno is None:
            errno = EPERM
        return template.default_action, errno
    return Action.ERRNO, policy_errno


def _check_conflicts(u: Universe, hard: dict[int, tuple[Action, int | None, str]], bits: int, r: _Resolved) -> None:
    verdict = (r.rule.action, r.rule.errno, r.label)
    while bits:
        low = bits & -bits
        bit = low.bit_length() - 1
        seen = hard.setdefault(bit, verdict)
        if seen[:2] != verdict[:2]:
            name = u.names[bit]
            raise ConflictError(
                f"{name!r} gets {seen[0].value}({seen[1]}) from {seen[2]} and {verdict[0].value}({verdict[1]}) "
                f"from {verdict[2]}; remove one, or deny {name!r} explicitly"
            )
        bits ^= low


class _Muxed(NamedTuple):
    rules: list[Rule] | None
    """The rules with the multiplexers' calls settled; None: nothing to change."""
    warnings: tuple[str, ...]


_MASK16: Final = 0xFFFF


@_caches.cache
def _selector(multiplexer: str, call: int) -> Arg:
    """The condition on a multiplexer's first argument that selects ``call``.

    ``ipc`` takes the low 16 bits as the call and a version above them (``IPCCALL``,
    linux/ipc.h), so its calls are selected by mask; ``socketcall`` refuses anything but 1-20.
    """
    if multiplexer == "ipc":
        return Arg(0, Operator.MASKED_EQ, _MASK16, call)
    return Arg(0, Operator.EQ, call)


def _without(rule: Rule, name: str) -> Rule | None:
    names = tuple(n for n in rule.names if n != name)
    return Rule(names, rule.action, rule.errno, rule.args, rule.comment) if names else None


def _runtime_groups(args: tuple[Arg, ...]) -> tuple[tuple[Arg, ...], ...]:
    """The conditions as runc and crun add them: a repeated argument index turns each into a rule (OR)."""
    indexes = [a.index for a in args]
    return tuple((a,) for a in args) if len(set(indexes)) != len(indexes) else (args,)


def _names_in(rule: Rule, names: Iterable[str]) -> bool:
    """Whether ``rule`` names one of ``names``."""
    return any(n in rule.names for n in names)


def _mixed(calls: Sequence[SubCall], rules: Sequence[Rule]) -> set[str]:
    """The names of ``calls`` that have rules of more than one verdict under argument conditions."""
    verdicts: dict[str, set[tuple[Action, int | None]]] = {}
    for r in rules:
        if r.args:
            for n in r.names:
                verdicts.setdefault(n, set()).add((r.action, r.errno))
    return {s.name for s in calls if len(verdicts.get(s.name, ())) > 1}


def _partial(
    multiplexer: str,
    calls: Sequence[SubCall],
    refused: Sequence[SubCall],
    rules: Sequence[Rule],
    default: tuple[Action, int | None],
) -> list[Rule] | None:
    """Return ``rules`` with each allow of the multiplexer turned into one allow per call it still runs.

    A call whose own rule decides it outright keeps that verdict through the multiplexer
    (libseccomp adds it there); one allowed only under conditions is allowed through the
    multiplexer when its rules all allow (libseccomp adds them as allows too). One with
    conditional rules of several actions: None, as libseccomp refuses (EEXIST) a
    multiplexer rule for it beside the ones its own rules add, unless the multiplexer's
    verdict is unconditional.
    """
    verdicts: dict[str, list[Rule]] = {}
    for r in rules:
        if (r.action, r.errno) == default:
            continue  # runc and crun drop it
        for n in r.names:
            verdicts.setdefault(n, []).append(r)
    keep = []
    for s in calls:
        if s in refused:
            continue
        own = verdicts.get(s.name, [])
        if any(not r.args and not r.action.allows for r in own):
            continue  # refused by its own rule, which libseccomp adds to the multiplexer
        if len({(r.action, r.errno) for r in own if r.args}) > 1:
            return None
        keep.append(s)
    settled: list[Rule] = []
    for r in rules:
        if multiplexer not in r.names or not r.action.allows:
            settled.append(r)
            continue
        rest = _without(r, multiplexer)
        if rest is not None:
            settled.append(rest)
        if not r.args:  # every call it ran, but the refused ones
            settled += [Rule((multiplexer,), r.action, None, (_selector(multiplexer, s.call),)) for s in keep]
            continue
        for group in _runtime_groups(r.args):  # the calls its conditions let through, exactly
            first = [a for a in group if a.index == 0]
            others = tuple(a for a in group if a.index != 0)
            settled += [
                Rule((multiplexer,), r.action, r.errno, (Arg(0, Operator.EQ, s.call), *others))
                for s in keep
                if all(a.matches(s.call) for a in first)
            ]
    return settled


def _multiplex(
    u: Universe,
    architectures: Sequence[Arch],
    rules: Sequence[Rule],
    default: tuple[Action, int | None],
    denied: int,
    foreign_denied: set[str],
    deny_errno: int,
    *,
    strict: bool,
) -> _Muxed:
    """Settle what ``socketcall`` and ``ipc`` run, where the profile lists x86 (i386).

    An i386 program makes a socket or IPC call directly or through the multiplexer, the
    call's number in the first argument (``syscalls.subcalls``); libseccomp adds a rule of
    the multiplexer for that number to every rule of such a call, without its argument
    conditions. So:

    - a call whose family is ``denied`` is refused through the multiplexer too: an allow of the
      multiplexer becomes one allow per call it may still run, and, where the default refuses
      otherwise, the refused calls get ``deny_errno`` by a rule of their own;
    - a denied multiplexer (or, ``strict``, one running a call that keeps argument conditions)
      is refused by an unconditional rule: runc and crun drop a rule equal to the default
      action, after which libseccomp would let through every call whose direct rule allows,
      so where the default already refuses with ``deny_errno`` the rule takes another errno
      (ENOSYS; EPERM if that is the default's);
    - conditions the multiplexer cannot check are reported (warnings).
    """
    if Arch.X86 not in architectures or not u.multiplexers:
        return _Muxed(None, ())
    action, errno = default
    like_default = action is _ERRNO and errno == deny_errno
    out = list(rules)
    changed = False
    warnings: list[str] = []
    by_multiplexer: dict[str, list[SubCall]] = {}
    for sub in subcalls(u.arch):
        by_multiplexer.setdefault(sub.multiplexer, []).append(sub)
    for multiplexer, calls in by_multiplexer.items():
        conditional = {n for r in out if r.args for n in r.names}
        refused = [s for s in calls if u.mask(n for n in s.family if n in u.index) & denied or s.name in foreign_denied]
        unchecked = [s for s in calls if s not in refused and conditional & {s.name, *s.family}]
        outright = bool(u.bit.get(multiplexer, 0) & denied or (strict and unchecked))
        settled = None if outright or not refused else _partial(multiplexer, calls, refused, out, default)
        if outright or (refused and settled is None):
            refusal = deny_errno if not like_default else ENOSYS if deny_errno != ENOSYS else EPERM
            out = [r for r in (_without(r, multiplexer) if multiplexer in r.names else r for r in out) if r]
            out.append(Rule((multiplexer,), _ERRNO, refusal))
            changed = True
            if not outright:  # libseccomp could not load what the calls' own rules would add beside the allows
                warnings.append(
                    f"{multiplexer} is refused outright (with {errno_name(refusal)}): it must refuse "
                    f"{', '.join(s.constant for s in refused)}, and {', '.join(sorted(_mixed(calls, rules)))}, "
                    "which it also runs, has rules of several actions under argument conditions: libseccomp adds "
                    f"those to it too, and refuses (runc fails to start the container) to add an allow of "
                    f"{multiplexer} per call beside them"
                )
            elif refusal != deny_errno:
                warnings.append(
                    f"{multiplexer} is refused with {errno_name(refusal)}, not {errno_name(deny_errno)}: runc and "
                    f"crun drop a rule equal to the default action, and libseccomp would then let {multiplexer} "
                    "run every call whose own rule allows it"
                )
            continue
        if unchecked:
            names = sorted({n for s in unchecked for n in (s.name, *s.family) if n in conditional})
            allows = {r.action.allows for r in out if r.args and _names_in(r, names)}
            how = "allowed only" if allows == {True} else "refused" if allows == {False} else "allowed and refused"
            constants = ", ".join(s.constant for s in unchecked)
            one = len(names) == 1
            warnings.append(
                f"{', '.join(names)} {'is' if one else 'are'} {how} under argument conditions, which {multiplexer} "
                f"cannot check on x86: an i386 program makes {'it' if one else 'them'} through "
                f"{multiplexer}({constants}) with any arguments; --strict-multiplexers refuses {multiplexer} instead"
            )
        if settled is not None:
            if not like_default:
                settled += [
                    Rule((multiplexer,), _ERRNO, deny_errno, (_selector(multiplexer, s.call),)) for s in refused
                ]
            out = settled
            changed = True
    return _Muxed(out if changed else None, tuple(warnings))


class _Explainer:
    """Lazily works out which layers decided a syscall (kept off the hot path)."""

    __slots__ = ("_layers", "inputs")

    def __init__(
        self,
        compiled: _Compiled,
        capbits: int,
        allow_bits: int,
        deny_bits: int,
        union: Sequence[_Part],
        denies: Sequence[_Part],
    ) -> None:
        self.inputs = (compiled, capbits, allow_bits, deny_bits, union, denies)
        self._layers: tuple[tuple[_Resolved, ...], tuple[_Resolved, ...]] | None = None

    def layers(self) -> tuple[tuple[_Resolved, ...], tuple[_Resolved, ...]]:
        """Return the resolved rules of every union layer and every deny layer, in compose's order."""
        if self._layers is None:
            compiled, capbits, allow_bits, deny_bits, union_parts, deny_parts = self.inputs
            u = compiled.u
            if allow_bits:
                union_parts = [_Part.names("allow", allow_bits), *union_parts]
            if deny_bits:
                deny_parts = [*deny_parts, _Part.names("deny", deny_bits)]
            caps = compiled.cmap.resolved(capbits)
            runtime = compiled.runtime.resolved(u) if compiled.runtime is not None else ()
            union = (
                *compiled.template_part(capbits),
                *caps,
                *runtime,
                *(r for p in union_parts for r in p.resolved(u)),
            )
            self._layers = (union, tuple(r for p in deny_parts for r in p.resolved(u)))
        return self._layers

    def __call__(self, profile: Profile, name: str) -> Provenance:
        union, denies = self.layers()
        bit = self.inputs[0].u.index.get(name)

        def has(r: _Resolved) -> bool:
            return (bit is not None and bool(r.bits >> bit & 1)) or name in r.foreign

        # The verdict is the rules' as the runtime loads them; the layers say who decided.
        deniers = tuple(dict.fromkeys(r.label for r in denies if has(r)))
        if deniers:
            p = verdict_from_rules(profile, name, deniers)
            if p.verdict == "default" and not p.action.allows:  # refused by the default action, as the deny asked
                return Provenance(name, "denied", p.action, p.errno, deniers)
            return Provenance(name, p.verdict, p.action, p.errno, deniers, p.conditions)
        verdict = verdict_from_rules(profile, name, ())
        if verdict.verdict == "allowed":
            labels = tuple(dict.fromkeys(r.label for r in union if has(r) and not r.rule.args and r.rule.action.allows))
        elif verdict.verdict == "default":
            return verdict
        else:
            labels = tuple(dict.fromkeys(r.label for r in union if has(r)))
        return Provenance(name, verdict.verdict, verdict.action, verdict.errno, labels, verdict.conditions)

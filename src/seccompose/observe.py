r"""Observed profiles: every refusal handed to the seccomp agent, which answers as the profile would.

:func:`observe` turns a profile into one the kernel cannot answer alone: each syscall the
profile refuses with an errno becomes an ``SCMP_ACT_NOTIFY`` rule, and ``listenerPath``
names the agent's socket (``seccompose agent``). The runtime (runc, crun) hands the
agent the filter's listener; the agent sees each refused call with its arguments and the
process that made it, records it, and answers:

- *enforce*: the errno the profile itself would have given, so the container sees no
  difference;
- *complain* and *learn*: ``SECCOMP_USER_NOTIF_FLAG_CONTINUE`` (the call runs).

What the agent needs for those answers travels with the profile, in ``listenerMetadata``
(:class:`Metadata`, compact JSON): the default errno, the refusals whose errno or layer
differs, conditional refusals, the layers that refused (as ``explain`` says), the
argument indexes of syscalls allowed only under conditions (for the smallest allowing
rule), the startup phase, and the digest of the unobserved profile.

What stays as it was, and why:

- the default action: runc refuses ``SCMP_ACT_NOTIFY`` as the default ("SCMP_ACT_NOTIFY
  cannot be used as default action"), so only numbers no table knows reach it;
- ``write``: runc refuses to start a container whose profile notifies it ("SCMP_ACT_NOTIFY
  cannot be used for the write syscall": runc's init writes to its parent after loading
  the filter, before the agent has the listener);
- refusals that are not an errno (KILL, TRAP, TRACE): an agent cannot give the same answer;
- a syscall allowed under argument conditions whose complement cannot be written as
  rules runc loads the same way (runc ORs two conditions on one argument, so a range
  such as ``1 <= arg0 <= 7`` is not expressible): its refused arguments keep the default
  action (``personality`` in Docker's default). ``socket``'s and ``clone``'s are observed.

>>> from seccompose import compose, Arch
>>> p = compose("default", arch=Arch.X86_64, deny=["mkdir"], runtime=None)
>>> o = observe(p, listener_path="/run/seccompose/agent.sock")
>>> notify = [r for r in o.profile.rules if r.action is Action.NOTIFY and not r.args][0]
>>> "mkdir" in notify.names, "unshare" in notify.names, "read" in notify.names, "write" in notify.names
(True, True, False, False)
>>> o.metadata.answer("mkdir", (0,) * 6), o.metadata.layers("mkdir")
(1, ('deny',))
>>> o.profile.default_action is p.default_action, o.profile.listener_path
(True, '/run/seccompose/agent.sock')
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, cast

from seccompose.actions import EPERM, Action, parse_errno
from seccompose.errors import FormatError, InvalidArgumentError, SeccomposeError
from seccompose.phases import Startup
from seccompose.profile import Flag, Profile
from seccompose.rules import Arg, Operator, Rule

__all__ = [
    "METADATA_VERSION",
    "Metadata",
    "Mode",
    "Observed",
    "Refusal",
    "filter_matches",
    "log_refusals",
    "observe",
    "profile_digest",
]

Mode = Literal["enforce", "complain", "learn"]
MODES: Final = ("enforce", "complain", "learn")
METADATA_VERSION: Final = 1
_U64: Final = (1 << 64) - 1
_U32: Final = (1 << 32) - 1
_MAX_METADATA: Final = 1 << 20
"""Largest ``listenerMetadata`` accepted from a runtime (the agent reads at most this much)."""

RUNTIME_NEVER_NOTIFY: Final = {"runc": frozenset({"write"}), "crun": frozenset()}
"""Syscalls each runtime refuses to notify (measured with runc 1.1.5 and crun 1.8.1): they keep their verdict.

crun 1.8.1 accepts ``SCMP_ACT_NOTIFY`` on every syscall and as the default action; runc 1.1.5
refuses it on ``write`` and as the default. A profile for no runtime in particular gets both
runtimes' restrictions."""


def profile_digest(profile: Profile) -> str:
    """Return ``sha256:<hex>`` of the profile's compact OCI JSON (equal profiles, equal digests).

    >>> from seccompose import Profile
    >>> profile_digest(Profile()).startswith("sha256:")
    True
    """
    from seccompose.formats.oci import dumps

    return "sha256:" + hashlib.sha256(dumps(profile, indent=None).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refusal the agent must reproduce: names, their errno, the layers that refused them, and conditions.

    With ``args``, the refusal holds only when the arguments match (as the runtime loads
    the rule: all conditions, each compared as libseccomp does).
    """

    names: tuple[str, ...]
    errno: int
    layers: tuple[str, ...]
    args: tuple[Arg, ...] = ()

    def matches(self, args: Sequence[int], *, narrow: bool = False) -> bool:
        """Whether a call's arguments meet every condition, as libseccomp's filter compares them.

        ``narrow``: the call comes from a 32-bit ABI (x86, x32, arm), where libseccomp compares
        the low 32 bits of each argument and of each condition's values only. ``MASKED_EQ``
        compares with ``value_two & mask`` (libseccomp masks the datum).

        >>> r = Refusal(("personality",), 1, ("deny",), (Arg(0, Operator.EQ, 0xFFFFFFFF),))
        >>> r.matches((0x1FFFFFFFF,) + (0,) * 5), r.matches((0x1FFFFFFFF,) + (0,) * 5, narrow=True)
        (False, True)
        """
        return all(filter_matches(a, args[a.index], narrow=narrow) for a in self.args)


def filter_matches(arg: Arg, value: int, *, narrow: bool = False) -> bool:
    """Whether ``value`` meets condition ``arg`` in the filter libseccomp builds (not the OCI text's reading).

    >>> filter_matches(Arg(0, Operator.MASKED_EQ, 0xF, 0x1F), 0x1)  # the datum is masked: 0x1F & 0xF
    False
    >>> filter_matches(Arg(0, Operator.MASKED_EQ, 0xF, 0x1F), 0xF)
    True
    """
    width = _U32 if narrow else _U64
    v, a, b = value & width, arg.value & width, arg.value_two & width
    if arg.op is Operator.MASKED_EQ:
        return v & a == b & a
    return Arg(arg.index, arg.op, a).matches(v)


@dataclass(frozen=True, slots=True)
class Metadata:
    """What the agent needs to answer an observed container exactly as its profile would.

    Carried as ``listenerMetadata`` (:meth:`to_json`); the runtime passes it to the agent
    with the listener.
    """

    errno: int = EPERM
    """What the profile's default action answers (its errno)."""
    mode: Mode | None = None
    """The agent's answer for this container; None: the agent's own ``--mode``."""
    digest: str = ""
    """``profile_digest`` of the unobserved profile."""
    base: str = ""
    """The template the profile was composed from, if known (names the default layer)."""
    refused: tuple[Refusal, ...] = ()
    """Unconditional refusals whose errno or layer is not the default's, then conditional ones (first match wins)."""
    conditional: tuple[tuple[str, tuple[int, ...]], ...] = ()
    """Syscalls allowed only under argument conditions, with the argument indexes those look at."""
    startup: Startup | None = None
    container: tuple[tuple[str, str], ...] = ()
    """Facts about the container when the composer knows them (``name``, ``image``, ``engine``)."""
    _by_name: dict[str, tuple[Refusal, ...]] = field(default_factory=dict, init=False, compare=False, repr=False)
    _conditional_names: frozenset[str] = field(default=frozenset(), init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # The agent asks per notification: index the refusals by name once (not part of the value).
        built: dict[str, list[Refusal]] = {}
        for refusal in self.refused:
            for name in refusal.names:
                built.setdefault(name, []).append(refusal)
        object.__setattr__(self, "_by_name", {k: tuple(v) for k, v in built.items()})
        object.__setattr__(self, "_conditional_names", frozenset(name for name, _ in self.conditional))

    def __hash__(self) -> int:
        return hash((self.errno, self.mode, self.digest, self.base, self.refused, self.conditional, self.startup))

    def answer(self, name: str, args: Sequence[int], *, narrow: bool = False) -> int:
        """Return the errno the unobserved profile gives ``name`` called with ``args`` (``narrow``: a 32-bit ABI).

        >>> m = Metadata(errno=1, refused=(Refusal(("clone3",), 38, ("template:default",)),))
        >>> m.answer("clone3", (0,) * 6), m.answer("mkdir", (0,) * 6)
        (38, 1)
        """
        for refusal in self._refusals_of(name):
            if refusal.matches(args, narrow=narrow):
                return refusal.errno
        return self.errno

    def layers(self, name: str, args: Sequence[int] = (0,) * 6, *, narrow: bool = False) -> tuple[str, ...]:
        """Return the labels of the layers that refuse ``name`` (``explain``'s), or the default action's."""
        for refusal in self._refusals_of(name):
            if refusal.matches(args, narrow=narrow):
                return refusal.layers
        if self.startup is not None and name in self.startup.names:
            return ("phase:startup",)
        return ("default action",)

    def allow_rule(self, name: str, args: Sequence[int]) -> Rule:
        """Return the smallest rule that would allow this call: the name, pinned to the arguments the base checks.

        >>> Metadata(conditional=(("socket", (0,)),)).allow_rule("socket", (40, 1, 0, 0, 0, 0)).args
        (Arg(index=0, op=<Operator.EQ: 'SCMP_CMP_EQ'>, value=40, value_two=0),)
        """
        indexes = dict(self.conditional).get(name, ())
        return Rule((name,), Action.ALLOW, None, tuple(Arg(i, Operator.EQ, args[i] & _U64) for i in indexes))

    def conditional_on(self, name: str) -> bool:
        """Whether ``name``'s answer or smallest rule depends on its arguments."""
        return name in self._conditional_names or any(r.args for r in self._refusals_of(name))

    def _refusals_of(self, name: str) -> tuple[Refusal, ...]:
        return self._by_name.get(name, ())

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (keys and names sorted: equal metadata, equal text)."""
        out: dict[str, Any] = {"seccompose": METADATA_VERSION, "errno": self.errno}
        if self.mode is not None:
            out["mode"] = self.mode
        if self.digest:
            out["digest"] = self.digest
        if self.base:
            out["base"] = self.base
        if self.refused:
            out["refused"] = [_refusal_to_dict(r) for r in self.refused]
        if self.conditional:
            out["conditional"] = {name: list(indexes) for name, indexes in self.conditional}
        if self.startup is not None:
            out["startup"] = self.startup.to_dict()
        if self.container:
            out["container"] = dict(self.container)
        return out

    def to_json(self) -> str:
        """Return the compact JSON text that goes into ``listenerMetadata``."""
        return json.dumps(self.to_dict(), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> Metadata:
        """Parse ``listenerMetadata``.

        Raises:
            FormatError: not seccompose's metadata, or malformed (the agent then answers with EPERM).

        >>> Metadata.from_json(Metadata(errno=38, mode="complain").to_json()).mode
        'complain'
        """
        if len(text) > _MAX_METADATA:
            raise FormatError(f"listenerMetadata is over {_MAX_METADATA} bytes", location="listenerMetadata")
        from seccompose._reader import parse_json

        try:
            doc = parse_json(text, limit=_MAX_METADATA)
        except FormatError as exc:
            raise FormatError(f"listenerMetadata is not JSON: {exc}", location="listenerMetadata") from None
        if not isinstance(doc, Mapping) or doc.get("seccompose") != METADATA_VERSION:
            raise FormatError(
                f"listenerMetadata is not seccompose metadata version {METADATA_VERSION}", location="listenerMetadata"
            )
        return _metadata(doc)


def _refusal_to_dict(r: Refusal) -> dict[str, Any]:
    out: dict[str, Any] = {"names": list(r.names), "errno": r.errno, "layers": list(r.layers)}
    if r.args:
        out["args"] = [[a.index, a.op.value, a.value, a.value_two] for a in r.args]
    return out


def _metadata(doc: Mapping[str, Any]) -> Metadata:
    where = "listenerMetadata"
    mode = doc.get("mode")
    if mode is not None and mode not in MODES:
        raise FormatError(f"mode {mode!r} is not one of {', '.join(MODES)}", location=f"{where}.mode")
    try:
        errno = parse_errno(doc.get("errno", EPERM), location=f"{where}.errno")
        refused = []
        for i, raw in enumerate(doc.get("refused") or ()):
            loc = f"{where}.refused[{i}]"
            names = tuple(str(n) for n in raw["names"])
            args = tuple(
                Arg(int(a[0]), Operator.parse(str(a[1]), location=loc), int(a[2]), int(a[3]), location=loc)
                for a in raw.get("args") or ()
            )
            refused.append(
                Refusal(names, parse_errno(raw["errno"], location=loc), tuple(str(x) for x in raw["layers"]), args)
            )
        conditional = tuple(
            (str(name), tuple(int(i) for i in indexes))
            for name, indexes in sorted((doc.get("conditional") or {}).items())
        )
        startup = Startup.from_dict(doc["startup"], location=f"{where}.startup") if doc.get("startup") else None
        container = tuple(sorted((str(k), str(v)) for k, v in (doc.get("container") or {}).items()))
        return Metadata(
            errno=errno,
            mode=cast("Mode | None", mode),
            digest=str(doc.get("digest", "")),
            base=str(doc.get("base", "")),
            refused=tuple(refused),
            conditional=conditional,
            startup=startup,
            container=container,
        )
    except FormatError:
        raise
    except (SeccomposeError, KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise FormatError(f"malformed listenerMetadata ({type(exc).__name__}: {exc})", location=where) from None


@dataclass(frozen=True, slots=True)
class Observed:
    """An observed profile, what its agent needs (also in its ``listenerMetadata``), and what was left as it was."""

    profile: Profile
    metadata: Metadata
    unobserved: tuple[tuple[str, str], ...] = ()
    """(syscall, why) for refusals the kernel still answers alone."""
    warnings: tuple[str, ...] = field(default=())


# --------------------------------------------------------------------------- conditions


def _as_loaded(conditions: Sequence[tuple[Arg, ...]]) -> list[tuple[Arg, ...]]:
    """Return allow-condition groups as runc and crun load them: two conditions on one argument are two rules."""
    out: list[tuple[Arg, ...]] = []
    for group in conditions:
        indexes = [a.index for a in group]
        if len(set(indexes)) == len(indexes):
            out.append(group)
        else:
            out.extend((a,) for a in group)
    return out


_NEGATE: Final = {
    Operator.EQ: Operator.NE,
    Operator.NE: Operator.EQ,
    Operator.LT: Operator.GE,
    Operator.GE: Operator.LT,
    Operator.LE: Operator.GT,
    Operator.GT: Operator.LE,
}


def _negated(arg: Arg) -> list[tuple[Arg, ...]] | None:
    """Return single-condition rules whose OR is ``not arg`` (as libseccomp reads it); None when ``arg`` never holds."""
    if (arg.op is Operator.LT and arg.value == 0) or (arg.op is Operator.GT and arg.value == _U64):
        return None
    if (arg.op is Operator.GE and arg.value == 0) or (arg.op is Operator.LE and arg.value == _U64):
        return []  # always holds: its negation adds nothing
    if arg.op is not Operator.MASKED_EQ:
        return [(Arg(arg.index, _NEGATE[arg.op], arg.value),)]
    mask = arg.value
    want = arg.value_two & mask  # libseccomp masks the datum
    return [
        (Arg(arg.index, Operator.MASKED_EQ, bit, ~want & bit),)
        for bit in (1 << b for b in range(64))
        if mask & bit
    ]


def _interval(arg: Arg) -> list[tuple[int, int]]:
    v = arg.value
    match arg.op:
        case Operator.EQ:
            return [(v, v)]
        case Operator.NE:
            return [(0, v - 1)] * (v > 0) + [(v + 1, _U64)] * (v < _U64)
        case Operator.LT:
            return [(0, v - 1)] if v > 0 else []
        case Operator.LE:
            return [(0, v)]
        case Operator.GT:
            return [(v + 1, _U64)] if v < _U64 else []
        case _:  # GE
            return [(v, _U64)]


def _complement(conditions: Sequence[tuple[Arg, ...]]) -> list[tuple[Arg, ...]] | None:
    """Return rules (each a condition tuple, OR-ed) matching exactly the calls no allow condition group matches.

    None when runc could not load such rules with the same meaning; ``[()]`` when every call is refused.
    """
    groups = _as_loaded(conditions)
    if len(groups) == 1 and len(groups[0]) > 1:
        # The complement is one rule per argument, overlapping the allow rule; libseccomp 2.5.4 builds
        # the i386 and x32 filters of such a mix wrong (the allow never matches there: measured with
        # seccompose.bpf on its export), so these refusals stay with the kernel.
        return None
    if len(groups) == 1:
        out: list[tuple[Arg, ...]] = []
        for arg in groups[0]:
            negated = _negated(arg)
            if negated is None:
                return [()]
            out.extend(negated)
        return out
    if not all(len(g) == 1 and g[0].op is not Operator.MASKED_EQ for g in groups):
        return None
    if len({g[0].index for g in groups}) != 1:
        return None
    index = groups[0][0].index
    allowed = sorted(iv for g in groups for iv in _interval(g[0]))
    gaps: list[tuple[int, int]] = []
    cursor = 0
    for lo, hi in allowed:
        if lo > cursor:
            gaps.append((cursor, lo - 1))
        cursor = max(cursor, hi + 1)
    if cursor <= _U64:
        gaps.append((cursor, _U64))
    rules: list[tuple[Arg, ...]] = []
    for lo, hi in gaps:
        if lo == hi:
            rules.append((Arg(index, Operator.EQ, lo),))
        elif lo == 0:
            rules.append((Arg(index, Operator.LE, hi),))
        elif hi == _U64:
            rules.append((Arg(index, Operator.GE, lo),))
        else:
            return None  # a range needs two conditions on one argument, which runc would OR
    return rules


# --------------------------------------------------------------------------- observe


def observe(
    profile: Profile,
    *,
    listener_path: str,
    mode: Mode | None = None,
    runtime: str | None = None,
    startup: Startup | None = None,
    base: str = "",
    container: Mapping[str, str] | None = None,
) -> Observed:
    """Return ``profile`` with its errno refusals handed to the agent at ``listener_path``.

    Args:
        profile: the profile to observe (from ``compose``: its layers name each refusal's layer).
        listener_path: the agent's socket (``seccompose agent --socket``), absolute.
        mode: the agent's answer for this container; None: the agent's ``--mode``.
        runtime: the runtimes that will load the profile (``"runc"``, ``"crun"``, ``"runc,crun"``): the
            syscalls one of them cannot notify keep their verdict; None or another runtime: every
            measured runtime's restrictions.
        startup: the template's startup phase (``Template.startup``): its names, when only the
            template allows them, are notified too, and the agent lets them run until the
            container is ready.
        base: the template's name, for the events.
        container: facts to put in the metadata (``name``, ``image``, ``engine``).

    Returns:
        The observed profile (same default action, architectures and flags), its metadata, and
        the refusals left to the kernel with the reason.

    Raises:
        InvalidArgumentError: ``listener_path`` is not absolute, or ``mode`` is unknown.
    """
    if not isinstance(listener_path, str) or not listener_path.startswith("/"):
        raise InvalidArgumentError(
            f"listener path {listener_path!r} must be an absolute path to the agent's socket", location="--observe"
        )
    if mode is not None and mode not in MODES:
        raise InvalidArgumentError(f"mode {mode!r} is not one of {', '.join(MODES)}", location="mode")
    if profile.arch is None:
        raise InvalidArgumentError("the profile lists no architecture; compose it for a host arch", location="profile")
    from seccompose.syscallset import universe

    named = [r.strip() for r in (runtime or "").split(",") if r.strip()]
    known = [r for r in named if r in RUNTIME_NEVER_NOTIFY]
    if not named or len(known) < len(named):
        known = list(RUNTIME_NEVER_NOTIFY)  # a runtime we did not measure: every measured restriction
    never = frozenset().union(*(RUNTIME_NEVER_NOTIFY[r] for r in known))
    plan = _Plan(profile, never, "runc" if "runc" in known else known[0])
    for name in universe(profile.arch).names:
        plan.consider(name)
    phased = plan.phase(startup)
    metadata = Metadata(
        errno=plan.default_errno,
        mode=mode,
        digest=profile_digest(profile),
        base=base,
        refused=tuple(_merge(plan.refusals)),
        conditional=tuple(plan.conditional_meta),
        startup=Startup(phased, startup.ready, startup.timeout, startup.comment) if startup and phased else None,
        container=tuple(sorted((container or {}).items())),
    )
    observed = Profile(
        profile.default_action,
        profile.default_errno,
        profile.architectures,
        plan.rules(phased),
        profile.flags,
        listener_path,
        metadata.to_json(),
        profile.warnings,
    )
    warnings = []
    left = [n for n, _ in plan.unobserved]
    if left:
        shown = ", ".join(left[:8]) + (" …" if len(left) > 8 else "")
        warnings.append(
            f"{len(left)} refusal(s) stay with the kernel and make no event: {shown} (see the observe docs for why)"
        )
    return Observed(observed, metadata, tuple(plan.unobserved), tuple(warnings))


class _Plan:
    """The profile's rules sorted by what they do to each name, and what observing does with each."""

    def __init__(self, profile: Profile, never: frozenset[str], runtime: str) -> None:
        self.profile = profile
        self.never = never
        self.runtime = runtime
        self.errno_default = profile.default_action is Action.ERRNO
        self.default_errno = (profile.default_errno or EPERM) if self.errno_default else EPERM
        self.allowed: set[str] = set()
        self.conditional_allow: dict[str, list[tuple[Arg, ...]]] = {}
        self.explicit: dict[str, Rule] = {}
        self.conditional_refuse: dict[str, list[Rule]] = {}
        self.conditional_keys: dict[str, set[tuple[Action, int | None]]] = {}
        self.wide: set[str] = set()
        """Names with a condition on a value over 32 bits (libseccomp compares 32-bit halves on i386 and x32)."""
        narrow_abis = any(a.value in ("x86", "x32", "arm") for a in profile.architectures)
        for rule in profile.rules:
            if rule.args:
                for name in rule.names:
                    self.conditional_keys.setdefault(name, set()).add((rule.action, rule.errno))
                    if narrow_abis and any(a.value > _U32 or a.value_two > _U32 for a in rule.args):
                        self.wide.add(name)
            for name in rule.names:
                if rule.action.allows and not rule.args:
                    self.allowed.add(name)
                elif rule.action.allows:
                    self.conditional_allow.setdefault(name, []).append(rule.args)
                elif rule.args:
                    self.conditional_refuse.setdefault(name, []).append(rule)
                else:
                    self.explicit.setdefault(name, rule)
        self.unobserved: list[tuple[str, str]] = []
        self.notify: set[str] = set()
        self.replaced: set[str] = set()
        """Names whose conditional refusals become conditional NOTIFY rules."""
        self.notify_when: list[tuple[str, tuple[Arg, ...]]] = []
        self.refusals: list[Refusal] = []
        self.conditional_meta: list[tuple[str, tuple[int, ...]]] = []

    def layers(self, name: str) -> tuple[str, ...]:
        return tuple(self.profile.explain(name).layers)

    def _why_not(self, name: str) -> str | None:
        """Why a refused name must stay with the kernel, or None when the agent can answer it."""
        rule = self.explicit.get(name)
        if rule is not None and rule.action is not Action.ERRNO:
            return f"refused with {rule.action.value}, which an agent cannot reproduce"
        if rule is None and not self.errno_default and not self.profile.default_action.allows:
            return f"the default action {self.profile.default_action.value} is not an errno"
        if any(r.action is not Action.ERRNO for r in self.conditional_refuse.get(name, ())):
            return "refused under argument conditions with an action an agent cannot reproduce"
        if name in self.never:
            return f"{self.runtime} refuses SCMP_ACT_NOTIFY for {name}"
        if len(self.conditional_keys.get(name, ())) > 1:
            return "conditional rules with different verdicts overlap; libseccomp settles them by its own order"
        if name in self.wide:
            return "conditions on values over 32 bits, which libseccomp compares in 32-bit halves on i386 and x32"
        if name in self.conditional_allow and (name in self.conditional_refuse or rule is not None):
            return "conditional allows mixed with conditional refusals"
        return None

    def consider(self, name: str) -> None:
        """Decide how ``name`` is observed (nothing to do when the profile allows it outright)."""
        if name in self.allowed:
            return
        if self.profile.default_action.allows and name not in self.explicit and name not in self.conditional_refuse:
            return  # allowed by the default action (its conditional allows change nothing)
        why = self._why_not(name)
        if why is not None:
            self.unobserved.append((name, why))
            return
        if name in self.conditional_allow:
            self._conditional(name)
            return
        layers = self.layers(name)
        if self.profile.default_action.allows and name not in self.explicit:
            # Refused only under conditions, allowed otherwise: notify exactly those calls.
            self.replaced.add(name)
            for cond in self.conditional_refuse[name]:
                for group in _as_loaded([cond.args]):  # as runc loads it: one rule per condition on one argument
                    self.notify_when.append((name, group))
                    self.refusals.append(Refusal((name,), cond.errno or EPERM, layers, group))
            return
        self.notify.add(name)
        rule = self.explicit.get(name)
        errno = self.default_errno if rule is None or rule.errno is None else rule.errno
        if errno != self.default_errno or layers != ("default action",):
            self.refusals.append(Refusal((name,), errno, layers))
        for cond in self.conditional_refuse.get(name, ()):
            for group in _as_loaded([cond.args]):
                self.refusals.append(Refusal((name,), cond.errno or EPERM, layers, group))

    def _conditional(self, name: str) -> None:
        complement = _complement(self.conditional_allow[name])
        if complement is None:
            why = "allowed under argument conditions whose complement runc cannot load as rules"
            self.unobserved.append((name, why))
            return
        indexes = tuple(sorted({a.index for group in self.conditional_allow[name] for a in group}))
        self.conditional_meta.append((name, indexes))
        if complement == [()]:
            self.notify.add(name)
        else:
            self.notify_when.extend((name, group) for group in complement)

    def phase(self, startup: Startup | None) -> tuple[str, ...]:
        """Notify the startup names only the template allows; return them."""
        if startup is None:
            return ()
        phased = tuple(
            n
            for n in startup.names
            if n in self.allowed
            and n not in self.never
            and n not in self.conditional_allow
            and all(label.startswith("template:") for label in self.layers(n))
        )
        self.notify.update(phased)
        return phased

    def rules(self, phased: tuple[str, ...]) -> tuple[Rule, ...]:
        """Return the observed profile's rules."""
        out: list[Rule] = []
        for rule in self.profile.rules:
            drop = (set(phased) if not rule.args else set()) if rule.action.allows else self.notify | self.replaced
            keep = tuple(n for n in rule.names if n not in drop)
            if keep == rule.names:
                out.append(rule)
            elif keep:
                out.append(Rule(keep, rule.action, rule.errno, rule.args, rule.comment))
        if self.notify:
            out.append(Rule(tuple(sorted(self.notify)), Action.NOTIFY))
        out.extend(Rule((name,), Action.NOTIFY, None, group) for name, group in self.notify_when)
        return tuple(out)


def _merge(refusals: Iterable[Refusal]) -> list[Refusal]:
    """Join unconditional refusals that share errno and layers (one entry, many names); keep the others in order."""
    joined: dict[tuple[int, tuple[str, ...]], list[str]] = {}
    out: list[Refusal] = []
    for r in refusals:
        if r.args:
            out.append(r)
        else:
            joined.setdefault((r.errno, r.layers), []).extend(r.names)
    head = [Refusal(tuple(sorted(n)), e, layers) for (e, layers), n in sorted(joined.items())]
    return head + out


# --------------------------------------------------------------------------- where no agent can run

LogHow = Literal["errno", "allow"]


def log_refusals(profile: Profile, *, how: LogHow = "errno") -> Profile:
    """Return ``profile`` made to leave a kernel audit record for each refusal.

    ``errno``: the refusals keep their errno and the filter gets ``SECCOMP_FILTER_FLAG_LOG``,
    so the kernel logs every action it lists in ``/proc/sys/kernel/seccomp/actions_logged``
    (errno included by default). ``allow``: every refusal becomes ``SCMP_ACT_LOG`` (the call
    runs, and is logged): complain mode without an agent, more permissive on purpose.

    >>> from seccompose import Profile, Arch
    >>> p = Profile(architectures=(Arch.X86_64,), rules=(Rule(("read",)),))
    >>> [f.value for f in log_refusals(p).flags]
    ['SECCOMP_FILTER_FLAG_LOG']
    >>> log_refusals(p, how="allow").default_action
    <Action.LOG: 'SCMP_ACT_LOG'>
    """
    if how == "errno":
        return Profile(
            profile.default_action,
            profile.default_errno,
            profile.architectures,
            profile.rules,
            (*profile.flags, Flag.LOG),
            profile.listener_path,
            profile.listener_metadata,
            profile.warnings,
        )
    if how != "allow":
        raise InvalidArgumentError(f"{how!r} is not errno or allow", location="--log-refusals")
    rules = tuple(
        r if r.action.allows or r.action is not Action.ERRNO else Rule(r.names, Action.LOG, None, r.args, r.comment)
        for r in profile.rules
    )
    default = Action.LOG if profile.default_action is Action.ERRNO else profile.default_action
    return Profile(
        default,
        None if default is Action.LOG else profile.default_errno,
        profile.architectures,
        rules,
        profile.flags,
        profile.listener_path,
        profile.listener_metadata,
        profile.warnings,
    )

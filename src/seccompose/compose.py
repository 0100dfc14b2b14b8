"""compose(): the algebra that turns layers into the profile a container gets.

    profile = (app template or generic default)
            ∪ syscalls of the container's capabilities
            ∪ syscalls allowed by runtime rules (and the runtime's own base set)
            − syscalls denied by runtime rules

Laws (property-tested in ``tests/property``): deny always wins whatever the layer
order; adding a union layer never removes a syscall that no deny names; unions are
order-independent and idempotent; equal inputs give byte-identical output.

A syscall a layer allows only under argument conditions stays conditional; an
unconditional allow of the same syscall absorbs the condition; a deny removes it
whatever its conditions. Each syscall keeps the layers that decided it
(``Profile.explain``).

>>> from seccompose import compose, Arch
>>> p = compose(arch=Arch.X86_64, allow=["read", "write", "openat"], deny=["openat"], runtime=None)
>>> sorted(p.allowed())
['read', 'write']
>>> p.explain("read").layers
('allow',)
>>> p.explain("openat").verdict, p.explain("openat").layers
('denied', ('deny',))
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, NamedTuple

from seccompose import _caches
from seccompose.actions import ENOSYS, EPERM, Action, errno_name
from seccompose.arch import Arch
from seccompose.caps import Capability
from seccompose.errors import (
    ConflictError,
    InvalidActionError,
    InvalidArgumentError,
    InvalidRuntimeError,
    UnknownSyscallError,
)
from seccompose.loader import load_template
from seccompose.profile import Flag, Profile, Provenance, Shape, _default_errno, verdict_from_rules
from seccompose.rules import Arg, Operator, Rule
from seccompose.runtime import ALL_RUNTIMES, RUNTIMES
from seccompose.simplify import merge_conditions
from seccompose.syscalls import SubCall, all_names, subcalls
from seccompose.syscallset import Universe, universe
from seccompose.templates import Gate, Template, template_from_profile

__all__ = ["ErrnoPolicy", "Layer", "compose", "union_template"]

ErrnoPolicy = Literal["eperm", "enosys"]
"""``eperm``: unnamed syscalls fail with EPERM (Docker). ``enosys``: with ENOSYS, deliberate denies EPERM (Podman)."""


@dataclass(frozen=True, slots=True)
class Layer:
    """One layer of a composition: rules that add to the profile, or (``deny=True``) names it removes.

    ``label`` names the layer in ``Profile.explain`` (``template:nginx``,
    ``capability:CAP_SYS_ADMIN``, ``rule:no-ptrace``…). ``gate`` decides whether the
    layer applies to a container.
    """

    label: str
    rules: tuple[Rule, ...] = ()
    deny: bool = False
    gate: Gate = Gate()  # noqa: RUF009 - Gate is frozen: one shared default is safe
    strict: bool = True
    """Names unknown on every arch are errors (user input); False keeps them for the runtime (profile files)."""
    exact: bool = False
    """With ``deny``: deny only the names given, not the rest of their families (``syscalls.family``)."""


class _Resolved:
    """One rule of a layer resolved on a universe: its bits, and the names no table has."""

    __slots__ = ("bits", "foreign", "label", "rule")

    def __init__(self, label: str, rule: Rule, bits: int, foreign: tuple[str, ...]) -> None:
        self.label = label
        self.rule = rule
        self.bits = bits
        self.foreign = foreign


def _simplified(rule: Rule, layer: Layer, warnings: list[str], where: str) -> Rule:
    """The rule without conditions that test nothing, where no verdict changes (``Rule.simplified``).

    A condition that holds for every value is dropped while others remain. A rule left with
    no condition at all is kept as written here: an unconditional rule would take the place of
    the other rules of its syscalls in libseccomp, which a conditional one does not
    (``merge_conditions`` makes it unconditional where its syscalls have no other rules). A
    rule with a condition that holds for no value is kept too, with a warning: libseccomp
    builds other verdicts without it (on x86 it lets ``socketcall`` run a socket call whose
    allow rule has conditions, whatever they are) and sometimes a longer program. Deny layers
    are left as they are (a deny takes names whatever its conditions).
    """
    simpler = rule.simplified()
    if simpler is rule or layer.deny:
        return rule
    names = ", ".join(rule.names)
    if simpler is None:
        warnings.append(
            f"{where}: a condition of the rule for {names} holds for no value, so the rule never applies; remove it"
        )
        return rule
    dropped = " and ".join(_condition_text(a) for a in rule.args if a not in simpler.args)
    if not simpler.args:
        warnings.append(
            f"{where}: every condition of the rule for {names} holds for every value ({dropped}); write it without "
            f"conditions if that is what is meant (while a rule has conditions, the kernel cannot cache {names})"
        )
        return rule
    warnings.append(f"{where}: {dropped} holds for every value; dropped from the rule for {names}")
    return simpler


_SYMBOLS: Final = {"NE": "!=", "LT": "<", "LE": "<=", "EQ": "==", "GE": ">=", "GT": ">"}


def _condition_text(arg: Arg) -> str:
    if arg.op.name == "MASKED_EQ":
        return f"arg{arg.index} & {arg.value:#x} == {arg.value_two:#x}"
    return f"arg{arg.index} {_SYMBOLS[arg.op.name]} {arg.value if arg.value < 0x10000 else hex(arg.value)}"


def _resolve(u: Universe, layer: Layer, warnings: list[str], location: str) -> list[_Resolved]:
    known = None
    out = []
    for i, given in enumerate(layer.rules):
        rule = _simplified(given, layer, warnings, f"{location}[{i}]") if given.args else given
        bits = 0
        foreign: list[str] = []
        index = u.index
        for j, name in enumerate(rule.names):
            bit = index.get(name)
            if bit is not None:
                bits |= 1 << bit
                continue
            known = all_names() if known is None else known
            where = f"{location}[{j}]" if len(layer.rules) == 1 else f"{location}[{i}].names[{j}]"
            if name in known:
                warnings.append(f"{name!r} does not exist on {u.arch.value}; skipped ({layer.label})")
            elif layer.strict:
                raise UnknownSyscallError(name, location=where, choices=sorted(known))
            else:
                warnings.append(
                    f"{name!r} is not in seccompose's syscall tables; kept for the runtime to resolve ({layer.label})"
                )
                foreign.append(name)
        out.append(_Resolved(layer.label, rule, bits, tuple(foreign)))
    return out


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


def _check_names(u: Universe, names: Sequence[str], location: str) -> None:
    """Name the first unknown syscall by its position in the user's own list."""
    known = None
    for i, name in enumerate(names):
        if not isinstance(name, str):
            raise InvalidArgumentError(
                f"{name!r} is not a syscall name; give names as strings", location=f"{location}[{i}]"
            )
        if name not in u.index:
            known = all_names() if known is None else known
            if name not in known:
                raise UnknownSyscallError(name, location=f"{location}[{i}]", choices=sorted(known))


_CACHE_SIZE: Final = 512
"""Entries each cache keeps; on overflow it starts again (memory stays flat whatever the inputs)."""

_BASES: Final = 1024
"""Entries of the per-capability-set caches (ints, or a few kB each)."""

_VARIANTS: Final = 256
"""Variants of bases (the rules left when containers take names out of a base's conditional and refusing rules,
and their shape, a few kB with its text) kept in all; past that, every base starts again."""

class _Counts:
    """What the bounded caches hold now.

    Not class attributes: assigning one would make CPython drop what it specialised for
    the class's attribute reads, on every count.
    """

    __slots__ = ("sets", "variants")

    def __init__(self) -> None:
        self.sets = 0
        """Capability sets the families hold (bounded by ``_SETS_KEPT``)."""
        self.variants = 0
        """Variants the bases hold (bounded by ``_VARIANTS``)."""


_KEPT: Final = _Counts()

_VARIANT_BASES: list[_Base] = []
"""The bases holding variants (a base once per variant): what to clear when ``_VARIANTS`` is reached."""

_BASES_PER_TEMPLATE: Final = 512
"""Bases kept per template: one per set of the capabilities its refusing and conditional rules look at."""

_INTERNED: dict[tuple[object, ...], Any] = {}
"""Arches and flags tuples, one object per value (few values: one per host arch and template)."""

_NAMED: dict[str, Template] = {}
"""Shipped templates by name: ``load_template`` checks the file exists on every call, this skips it."""


def _base(base: str | Path | Template | Profile | None) -> Template:
    if base is None:
        return _EMPTY
    if isinstance(base, Template):
        return base
    if isinstance(base, Profile):
        return template_from_profile(base)
    if isinstance(base, str):
        template = _NAMED.get(base)
        if template is None:
            template = load_template(base)
            if template.source and Path(template.source).parent == _SHIPPED:
                _NAMED[base] = template
        return template
    return load_template(base)


_EMPTY: Final = Template(name="empty")
_SHIPPED: Final = Path(__file__).parent / "data" / "templates"


def _capability_names(capmap: str, cap: Capability, arch: Arch) -> tuple[str, ...]:
    from seccompose.caps import load_capability_map

    return tuple(load_capability_map(capmap).syscalls(cap, arch=arch))


def _runtime_names(runtime: str | tuple[str, ...], no_new_privileges: bool, arch: Arch) -> tuple[str, ...]:
    from seccompose.runtime import runtime_base

    return tuple(sorted(runtime_base(runtime, no_new_privileges=no_new_privileges, arch=arch)))


def _runtime_label(runtime: str | tuple[str, ...]) -> str:
    from seccompose.runtime import parse_runtimes

    return "runtime:" + ",".join(parse_runtimes(runtime))


# --- per-layer caches: each layer is resolved once per universe, then only its bits are combined ------------------

_CAP_BITS: dict[object, int] = {}
"""What callers pass as a capability (``"NET_ADMIN"``, a ``Capability``) -> ``1 << number``."""
_CAP_BIT: Final = _CAP_BITS.__getitem__
"""Bound once (the dict is cleared, never replaced): ``dict.__getitem__`` makes a method object per lookup."""


_FAMILIES: dict[tuple[object, ...], _Family] = {}
"""By template, host arch and compose's options other than capabilities (``compose``)."""

_FAMILIES_KEPT: Final = 64
_SETS_KEPT: Final = 4096
"""Capability sets all families keep together (a few hundred bytes each, about 1.6 MB in all): a node runs many
containers with the same few, an admission service a few thousand; past that, every family starts again."""


_COLLECTIONS: Final = (tuple, list, set, frozenset)
"""Collections ``_capbits`` may read twice (``tuple | list | …`` would build a union type per call)."""


def _capbits(caps: Iterable[Capability | str]) -> int:
    """Return the bits (``1 << number``) of the capabilities a caller passes, parsing each once."""
    if not isinstance(caps, _COLLECTIONS):
        caps = tuple(caps)  # an iterator is read once, whichever way it is counted below
    try:
        # Distinct capabilities' bits add up to their OR (and sum runs in C); a repeated one would not.
        capbits: int = sum(map(_CAP_BIT, caps))
        if capbits.bit_count() == len(caps):
            return capbits
    except (KeyError, TypeError):  # one not seen yet (or unhashable: let Capability.parse say what is wrong)
        pass
    capbits = 0
    get = _CAP_BITS.get
    for item in caps:
        try:
            bit = get(item)
        except TypeError:
            bit = None
        capbits |= _cap_bit(item) if bit is None else bit
    return capbits


def _cap_bit(item: object) -> int:
    cap = item if isinstance(item, Capability) else Capability.parse(item, location="caps")  # type: ignore[arg-type]
    if len(_CAP_BITS) >= _CACHE_SIZE:
        _CAP_BITS.clear()
    bit = 1 << cap.number
    _CAP_BITS[item] = bit
    return bit


@_caches.cache
def _capabilities() -> dict[int, Capability]:
    from seccompose.caps import all_capabilities

    return {cap.number: cap for cap in all_capabilities()}


def _capset(capbits: int) -> frozenset[Capability]:
    """Return the capabilities whose bits are set."""
    return frozenset(cap for number, cap in _capabilities().items() if capbits >> number & 1)


def _per_cap_byte(bits_of: dict[int, int]) -> list[tuple[int, ...]]:
    """Return, per byte of a capability set, the OR of the syscall bits of each of its 256 values."""
    tables = []
    for start in range(0, max(_capabilities()) + 1, 8):  # every capability has its byte
        table = [0]
        for value in range(1, 256):
            high = value.bit_length() - 1
            table.append(table[value ^ (1 << high)] | bits_of.get(start + high, 0))
        tables.append(tuple(table))
    return tables


class _CapMap:
    """A capability map on one universe: each capability's syscall bits, computed when first asked for."""

    __slots__ = ("_bits", "_tables", "capmap", "u")

    def __init__(self, capmap: str | None, u: Universe) -> None:
        self.capmap = capmap
        self.u = u
        self._bits: dict[int, int] = {}
        self._tables: list[tuple[int, ...]] | None = None

    def bits(self, number: int) -> int:
        """Return the bits of the syscalls capability ``number`` unlocks."""
        found = self._bits.get(number)
        if found is None:
            names = _capability_names(self.capmap, _capabilities()[number], self.u.arch) if self.capmap else ()
            found = self._bits[number] = self.u.mask(names)
        return found

    def tables(self) -> list[tuple[int, ...]]:
        """Return per-byte tables of the syscall bits of capability sets (built once)."""
        if self._tables is None:
            self._tables = _per_cap_byte({number: self.bits(number) for number in _capabilities()})
        return self._tables

    def resolved(self, capbits: int) -> list[_Resolved]:
        """Return the capability layers of ``capbits`` (each capability that unlocks something), by number."""
        out = []
        for number, cap in sorted(_capabilities().items()):
            if capbits >> number & 1 and self.bits(number):
                names = self.u.names_of(self.bits(number))
                out.append(_Resolved(f"capability:{cap.name}", Rule(names), self.bits(number), ()))
        return out


_CAPMAPS: dict[tuple[str | None, Universe], _CapMap] = {}


def _capmap(capmap: str | None, u: Universe) -> _CapMap:
    found = _CAPMAPS.get((capmap, u))
    if found is None:
        found = _CAPMAPS[capmap, u] = _CapMap(capmap, u)
    return found


_RUNTIMES: dict[tuple[str | tuple[str, ...], bool, Universe], _Part] = {}


def _runtime(runtime: str | tuple[str, ...], no_new_privileges: bool, u: Universe) -> _Part:
    found = _RUNTIMES.get((runtime, no_new_privileges, u))
    if found is None:
        warnings: list[str] = []
        layer = Layer(_runtime_label(runtime), (Rule(_runtime_names(runtime, no_new_privileges, u.arch)),))
        found = _Part(_resolve(u, layer, warnings, "runtime"), warnings)
        if len(_RUNTIMES) >= _CACHE_SIZE:
            _RUNTIMES.clear()
        _RUNTIMES[runtime, no_new_privileges, u] = found
    return found


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
    unconditional verdict has. Works on bits, so a base costs a few integer operations
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


class _Base:
    """The template's rules selected for one container, plus the runtime's base set: everything but its own layers.

    Also holds the profile rules those layers give when nothing else touches their
    conditional and non-allowing rules (the common case), so a composition only adds
    its own allowed and denied bits.
    """

    __slots__ = (
        "action",
        "allow",
        "architectures",
        "cmap",
        "conditional_allow",
        "decided",
        "errno",
        "errno_variants",
        "fast_warnings",
        "flags",
        "foreign",
        "log",
        "multiplexed",
        "mux_calls",
        "mux_general",
        "mux_names",
        "mux_warnings",
        "open",
        "others",
        "others_bits",
        "raw_errno",
        "refusals",
        "refuses",
        "rule_list",
        "rules",
        "runtime",
        "shape",
        "source",
        "template",
        "trusted",
        "u",
        "unchecked",
        "variants",
        "vary",
        "warnings",
    )

    def __init__(
        self,
        u: Universe,
        template: Template,
        selected: Sequence[_TemplateRule],
        runtime: _Part | None,
        action: Action,
        errno: int | None,
        cmap: _CapMap,
    ) -> None:
        self.u = u
        self.action = action
        self.errno = _default_errno(action, errno)  # raises as Profile would, before anything is cached
        self.refuses = self.errno if action is _ERRNO else -1
        """The errno the default refuses with (-1: it does not return one): denies with it need no rule."""
        self.raw_errno = errno
        self.source: tuple[_TemplateInfo, _Additive, tuple[int, int] | None]  # set by _base_for
        self.cmap = cmap
        # Inside one template the runtime's reading holds: the first unconditional verdict wins.
        resolved, warnings = _first_wins(u, f"template:{template.name}", selected, action, errno)
        self.template = _Part(resolved, warnings)
        self.runtime = runtime
        parts = (self.template, runtime) if runtime is not None else (self.template,)
        self.allow = functools.reduce(operator.or_, (p.allow for p in parts))
        self.log = functools.reduce(operator.or_, (p.log for p in parts))
        self.foreign = tuple(dict.fromkeys(n for p in parts for n in p.foreign))
        self.others = tuple(r for p in parts for r in p.others)
        self.others_bits = functools.reduce(operator.or_, (r.bits for r in self.others), 0)
        self.decided = self.allow | self.log
        self.open = self.others_bits & ~self.decided
        """The bits of the base's own conditional and refusing rules that a container's layers may take over."""
        self.shape = Shape()
        self.variants: dict[int | tuple[int, tuple[int, int, int]], tuple[tuple[Rule, ...], Shape]] = {}
        """Kept by ``variant``; ``_KEPT.variants`` counts them over every base."""
        self.errno_variants: dict[tuple[int, int], tuple[tuple[Rule, ...], int, tuple[Rule, ...], Shape]] = {}
        """Kept by ``errno_variant``, counted with the others."""
        self.conditional_allow = functools.reduce(
            operator.or_, (r.bits for r in self.others if r.rule.args and r.rule.action.allows), 0
        )
        # One tuple object per value: emitters key what they keep on the identity of these.
        arches = tuple(dict.fromkeys(template.architectures_for(u.arch)))
        flags = tuple(sorted({Flag(f) for f in template.flags}, key=lambda f: f.value))
        self.architectures = _INTERNED.setdefault(arches, arches)
        self.flags = _INTERNED.setdefault(flags, flags)
        try:
            self.rules: list[tuple[_SortKey, Rule]] | None = _group_rules(
                u, _groups(u, self.others, self.decided, action, self.errno, self.conditional_allow)
            )
        except ConflictError:  # it may vanish once the container's own layers decide the names: check per call
            self.rules = None
        self.rule_list = tuple(r for _, r in self.rules or ())
        self.refusals = {
            r.errno: _bits_of(r)
            for r in self.rule_list
            if r.action is _ERRNO and r.errno is not None and not r.args and r._bits is not None  # noqa: SLF001
        }
        """The names of the base's unconditional ERRNO rules, by errno: a container's denies with one join it."""
        biggest = max(((bits.bit_count(), errno, bits) for errno, bits in self.refusals.items()), default=(0, 0, 0))
        self.vary: tuple[int, int] = biggest[1:]
        """The errno and names of the biggest of those: its names are written apart when a container touches them."""
        self.warnings = tuple(sorted({*self.template.warnings, *(runtime.warnings if runtime else ())}))
        self.multiplexed, self.unchecked, self.fast_warnings = self._multiplexed(action)
        self.mux_calls, self.mux_general, self.mux_names = self._mux_plan()
        self.mux_warnings: dict[tuple[int, int, int], tuple[str, ...]] = {}
        """Per set of the ``unchecked`` names a container leaves under conditions: the fast path's warnings."""
        # Profile._trusted may build the profile: no name outside the tables, the listener there if needed.
        self.trusted = (
            self.rules is not None
            and not self.foreign
            and not any(r.foreign for r in self.others)
            and (template.listener_path is not None or all(r.action is not Action.NOTIFY for _, r in self.rules))
        )


    def _multiplexed(self, action: Action) -> tuple[int, int, tuple[str, ...]]:
        """Return what the multiplexers ask of the fast path.

        The multiplexers and the names their calls run, where the profile lists x86 (a
        container that denies one takes the general path: ``_multiplex``); those the base
        allows or refuses under argument conditions, which the multiplexers cannot check (a
        container that allows one outright changes the warnings); and the warnings of a
        profile made on the fast path: the base's, and the multiplexers'.
        """
        u = self.u
        multiplexed = u.multiplexed if Arch.X86 in self.architectures and u.multiplexers else 0
        unchecked = functools.reduce(operator.or_, (r.bits for r in self.others if r.rule.args), 0)
        unchecked &= multiplexed & self.open
        muxed = _multiplex(u, self.architectures, self.rule_list, (action, self.errno), 0, set(), EPERM, strict=False)
        return multiplexed, unchecked, tuple(sorted({*self.warnings, *muxed.warnings}))

    def _mux_plan(self) -> tuple[dict[int, int], int, int]:
        """Return what a container's denies settle through the multiplexers on the fast path, and what they cannot.

        The calls: per bit of a name, the places in a container's key (``mux_key``) of the
        calls of the multiplexers that run its family. A base whose multiplexers are allowed outright (or
        not at all) and whose rules for the calls they run do not refuse them or give them
        conditions of several actions settles a deny as ``_multiplex`` does, a variant per
        key; on any other base, a deny of those names (``mux_general``) takes the general
        path. And the bits of the multiplexers themselves (``mux_names``): a deny of one
        refuses it outright.
        """
        u = self.u
        if not self.multiplexed:
            return {}, 0, 0
        calls: dict[int, int] = {}  # a name's bit -> the places of the calls its family runs
        for place, (_, _, fam) in enumerate(_mux_calls(u)):
            left = fam
            while left:
                low = left & -left
                calls[low] = calls.get(low, 0) | 1 << place
                left ^= low
        mux_bits = functools.reduce(operator.or_, (b for _, b, _ in u.multiplexers), 0)
        names = {s.name for s in subcalls(u.arch)}
        verdicts: dict[str, set[tuple[Action, int | None, bool]]] = {}
        default = (self.action, self.errno)
        for rule in self.rule_list:
            if (rule.action, rule.errno) == default:
                continue
            for n in names.intersection(rule.names):
                verdicts.setdefault(n, set()).add((rule.action, rule.errno, bool(rule.args)))
        simple = not self.others_bits & mux_bits and all(
            len(found) == 1 and next(iter(found))[0].allows for found in verdicts.values()
        )
        return calls, 0 if simple else self.multiplexed, mux_bits

    def warnings_for(self, left: int, refused: int = 0, errno: int = EPERM) -> tuple[str, ...]:
        """Return the warnings of a profile made on the fast path whose container leaves ``left`` of ``unchecked``.

        A container that allows (or denies) a name the base allows under conditions takes it
        out of those rules: the multiplexers then have no conditions to miss for it. One that
        denies a multiplexer (``refused``: their bits) with the default's errno (``errno``)
        has it refused with another one, and is told.
        """
        if left == self.unchecked and not refused:
            return self.fast_warnings
        key = (left, refused, errno)
        found = self.mux_warnings.get(key)
        if found is None:
            rest = self._rest(self.unchecked & ~left)
            default = (self.action, self.errno)
            muxed = _multiplex(self.u, self.architectures, rest, default, refused, set(), errno, strict=False)
            found = tuple(sorted({*self.warnings, *muxed.warnings}))
            if len(self.mux_warnings) >= _CACHE_SIZE:
                self.mux_warnings.clear()
            self.mux_warnings[key] = found
        return found

    def mux(self, deny: int, allowed: int, errno: int) -> tuple[tuple[int, int, int] | None, int, int, int, int]:
        """Return how a container's denies settle through the multiplexers on the fast path.

        The key of its rules (``after``), its allow list less the multiplexers allowed call by
        call instead, the names and errno of its refusal rule, and the multiplexers it denies
        with the default's errno: runc would drop a rule equal to the default, so they get a
        rule of another errno (``_multiplex`` does the same), and a warning.
        """
        key: tuple[int, int, int] | None
        key, take = self.mux_key(deny, allowed, errno)
        if not take and errno == self.refuses:
            key = None  # no allow to split, and the default refuses them already: nothing to add
        outright = deny & self.mux_names
        if outright and errno == self.refuses:
            return key, allowed & ~take, outright, ENOSYS if errno != ENOSYS else EPERM, outright
        return key, allowed & ~take, deny, errno, 0

    def mux_key(self, deny: int, allowed: int, errno: int) -> tuple[tuple[int, int, int], int]:
        """Return the key of a container's denies through the multiplexers, and the multiplexers it allows.

        Those are taken out of its allow list: they are allowed call by call instead. A denied
        multiplexer is refused outright: its calls are none of the key's business.
        """
        refused = 0
        hits = deny & self.multiplexed
        places = self.mux_calls
        while hits:  # a few denied names: their bits, not every call
            low = hits & -hits
            refused |= places.get(low, 0)
            hits ^= low
        take = 0
        for _, bit, mine in _mux_places(self.u):
            if deny & bit:
                refused &= ~mine
            elif refused & mine and allowed & bit:
                take |= bit
        return (refused, errno, take), take

    def after(
        self, first: Rule, touched: int, deny: int, errno: int, mux: tuple[int, int, int] | None = None
    ) -> tuple[tuple[Rule, ...], Shape]:
        """Return a profile's rules and shape: ``first``, then the base's rules less the names ``touched``.

        With the container's denies (``deny``) if the default does not refuse them with
        ``errno``; and with the multiplexers' calls they refuse (``mux``: ``mux_key``). As
        ``_combine`` and ``_multiplex`` would make them, with the rest kept per set of
        touched names (``variant``, ``errno_variant``), so emitters keep its text.
        """
        if deny and errno != self.refuses:
            # The denies join the base's own refusals with that errno: that rule's names are written apart.
            near = self.refusals.get(errno, 0)
        else:
            errno, near = self.vary
            deny = 0
        if not (deny or (touched & near and near & ~touched)):
            rest, shape = self.variant(touched, mux) if touched or mux else (self.rule_list, self.shape)
            return (first, *rest), shape
        # Containers that differ only in that rule's names share the rest.
        before, near, after, shape = self.errno_variant(touched & ~near, errno, mux)
        refusal = _rule_from_bits(self.u, near & ~touched | deny, _ERRNO, errno, (), near)
        return (first, *before, refusal, *after), shape

    def variant(self, touched: int, mux: tuple[int, int, int] | None = None) -> tuple[tuple[Rule, ...], Shape]:
        """Return the base's rules less the names ``touched`` (bits of ``open``), and their shape (kept).

        A container that allows, denies or has the capabilities of some of the names the
        base's conditional or refusing rules hold takes them out of those rules; the rest
        of each rule stays. Containers that take out the same names share the result. With
        ``mux``, the rules of the multiplexers' calls the container's denies refuse are in.
        """
        if not (touched or mux):
            return self.rule_list, self.shape
        if mux is None:
            found = self.variants.get(touched)
            if found is None:
                found = self.variants[touched] = (self._rest(touched), Shape())
                self._kept()
            return found
        key = (touched, mux)
        found = self.variants.get(key)
        if found is None:  # the rules of the plain variant, with the multiplexers'
            found = self.variants[key] = (self._muxed(self.variant(touched)[0], mux), Shape())
            self._kept()
        return found

    def _muxed(self, rules: tuple[Rule, ...], mux: tuple[int, int, int] | None) -> tuple[Rule, ...]:
        """Return ``rules`` with the multiplexers' rules of ``mux`` merged in, canonical."""
        if mux is None:
            return rules
        refused, errno, take = mux
        extra = _mux_rules(self.u, refused, errno, errno == self.refuses, take)
        if not extra:
            return rules
        out = list(rules)
        at = {r.key(): i for i, r in enumerate(out)}
        for key, bits in extra:
            i = at.get(key)
            if i is None:
                out.append(_shared(self.u, key, bits)[1])
                at[key] = len(out) - 1
            else:
                out[i] = _shared(self.u, key, _bits_of(out[i]) | bits)[1]
        out.sort(key=lambda r: _order(r.key()))
        return tuple(out)

    def errno_variant(
        self, touched: int, errno: int, mux: tuple[int, int, int] | None = None
    ) -> tuple[tuple[Rule, ...], int, tuple[Rule, ...], Shape]:
        """``variant`` for profiles whose unconditional ERRNO rule of ``errno`` has names that differ too.

        A container's denies, when the default does not refuse them with ``errno``,
        join the base's own refusals with it in one rule; and capabilities drop some of
        those refusals. Returns the rules before and after that one, the names the
        base's own rule has in it (bits; 0: the base has none), and the shape of
        profiles whose first rule and that one differ in their names (kept).
        """
        key = (touched, errno) if mux is None else (touched, errno, mux)
        found = self.errno_variants.get(key)  # type: ignore[arg-type]
        if found is None:
            rest = self._muxed(self._rest(touched) if touched else self.rule_list, mux)
            refusal = Rule._trusted(("read",), _ERRNO, errno, ())  # noqa: SLF001 - canonical: where the rule sorts
            sort = refusal.sort_key()[:-1]
            keys = [rule.sort_key()[:-1] for rule in rest]
            at = bisect.bisect_left(keys, sort)
            near = 0
            after = rest[at:]
            if at < len(rest) and keys[at] == sort:  # the base's own rule: the names are joined to it
                near = _bits_of(rest[at])
                after = rest[at + 1 :]
            found = self.errno_variants[key] = (rest[:at], near, after, Shape(second=1 + at))  # type: ignore[index]
            self._kept()
        return found

    def _rest(self, touched: int) -> tuple[Rule, ...]:
        rest = []
        for _, rule in self.rules or ():
            bits = _bits_of(rule)
            if bits & ~touched:
                rest.append(_shared(self.u, rule.key(), bits & ~touched)[1] if bits & touched else rule)
        return tuple(rest)

    def _kept(self) -> None:
        """Count a variant kept; past ``_VARIANTS``, every base starts again."""
        if _KEPT.variants >= _VARIANTS:
            for base in _VARIANT_BASES:
                base.variants.clear()
                base.errno_variants.clear()
            _VARIANT_BASES.clear()
            _KEPT.variants = 0
        _VARIANT_BASES.append(self)
        _KEPT.variants += 1


class _Additive:
    """A template's rules that add or take away names per capability, the way a capability map adds them.

    Docker's default allows ``reboot`` with CAP_SYS_BOOT, ``ptrace`` with CAP_SYS_PTRACE…:
    an unconditional ALLOW whose gate is capabilities it needs. When no conditional or
    refusing rule of the template names the same syscalls, first-wins cannot touch it,
    so its bits are simply OR-ed per container. Podman's default refuses
    ``open_by_handle_at`` with EPERM unless CAP_DAC_READ_SEARCH…: an unconditional
    refusal that capabilities drop. When no other rule that can apply with it names the
    same syscalls, it is in every base, and a container with one of those capabilities
    takes its names out (as it would names it allows). The other ("structural") rules
    decide the base, which then depends on few capabilities.
    """

    __slots__ = (
        "_with", "drop_tables", "gates", "indexes", "refusals", "structural", "structural_caps", "tables", "u",
    )  # fmt: skip

    def __init__(self, info: _TemplateInfo, u: Universe, kernel: tuple[int, int] | None) -> None:
        self.u = u
        rules = info.rules(u)
        # Rules first-wins may settle against an allow (conditional or refusing ones), and the
        # capabilities that drop each: an allow that needs one of those never meets that rule.
        touchy = [
            (resolved.resolved.bits, functools.reduce(operator.or_, (1 << c.number for c in tr.gate.excludes_caps), 0))
            for tr, resolved in zip(info.template.rules, rules, strict=True)
            if resolved.resolved.rule.args or resolved.resolved.rule.action is not _ALLOW
        ]
        gates: dict[int, int] = {}
        indexes = []
        structural: list[tuple[int, int, int]] = []
        for i, (template_rule, resolved) in enumerate(zip(info.template.rules, rules, strict=True)):
            gate = template_rule.gate
            rule = template_rule.rule
            needs = functools.reduce(operator.or_, (1 << c.number for c in gate.includes_caps), 0)
            if (
                needs
                and not gate.excludes_caps
                and not rule.args
                and rule.action is _ALLOW
                and not (resolved.skipped or resolved.foreign)
                and not any(bits & resolved.resolved.bits and not dropped & needs for bits, dropped in touchy)
            ):
                if gate.passes(u.arch, gate.includes_caps, kernel):  # its arch and kernel hold here
                    gates[needs] = gates.get(needs, 0) | resolved.resolved.bits
                    indexes.append(i)
                continue
            if gate.passes(u.arch, gate.includes_caps, kernel):  # else it never applies on this host
                drops = functools.reduce(operator.or_, (1 << c.number for c in gate.excludes_caps), 0)
                structural.append((i, needs, drops))
        # Refusals that only capabilities drop, naming what no other structural rule names: in every base.
        refusals: dict[int, int] = {}
        for k, (i, needs, drops) in enumerate(structural):
            r = rules[i]
            rule = r.resolved.rule
            bits = r.resolved.bits
            if (
                drops
                and not needs
                and not rule.args
                and not rule.action.allows
                and not (r.skipped or r.foreign)
                and not any(rules[j].resolved.bits & bits for j, _, _ in structural if j != i)
            ):
                structural[k] = (i, 0, 0)
                for number in range(drops.bit_length()):
                    if drops >> number & 1:
                        refusals[number] = refusals.get(number, 0) | bits
        self.structural_caps = functools.reduce(operator.or_, (needs | drops for _, needs, drops in structural), 0)
        self.indexes = frozenset(indexes)
        self.structural = tuple(structural)
        """The other rules that can apply on this host: (index, capabilities needed, capabilities that drop it)."""
        self.refusals = refusals
        """Per capability number, the names of the refusals it drops."""
        self.drop_tables = _per_cap_byte(refusals) if refusals else None
        # Gates on one capability OR by bytes of the capability set; gates on several are checked one by one.
        self.tables = _per_cap_byte({n.bit_length() - 1: bits for n, bits in gates.items() if n.bit_count() == 1})
        self.gates = tuple((n, bits) for n, bits in gates.items() if n.bit_count() > 1)
        self._with: dict[int, tuple[_CapMap, list[tuple[int, ...]]]] = {}

    def tables_with(self, cmap: _CapMap) -> list[tuple[int, ...]]:
        """Return per-byte tables of the bits the additive rules and ``cmap`` allow per capability set (kept)."""
        tables = self._with.get(id(cmap))
        if tables is None or tables[0] is not cmap:
            merged = [
                tuple(a | b for a, b in zip(mine, theirs, strict=True))
                for mine, theirs in zip(self.tables, cmap.tables(), strict=True)
            ]
            tables = self._with[id(cmap)] = (cmap, merged)
        return tables[1]


class _TemplateInfo:
    """Per template: which capabilities its gates look at, its rules resolved per universe, its bases."""

    __slots__ = ("_additive", "_rules", "bases", "template")

    def __init__(self, template: Template) -> None:
        self.template = template
        self.bases: dict[tuple[object, ...], _Base] = {}
        self._rules: dict[Universe, tuple[_TemplateRule, ...]] = {}
        self._additive: dict[tuple[int, tuple[int, int] | None], _Additive] = {}

    def additive(self, arch: Arch, kernel: tuple[int, int] | None) -> _Additive:
        """Return the template's capability-gated allow rules on an ``arch`` host (once per arch and kernel)."""
        found = self._additive.get((id(arch), kernel))
        if found is None:
            found = self._additive[id(arch), kernel] = _Additive(self, universe(arch), kernel)
        return found

    def rules(self, u: Universe) -> tuple[_TemplateRule, ...]:
        """Return the template's rules resolved on ``u`` (once per universe)."""
        found = self._rules.get(u)
        if found is None:
            label = f"template:{self.template.name}"
            found = self._rules[u] = tuple(_TemplateRule(u, label, tr.rule) for tr in self.template.rules)
        return found


_TEMPLATES: dict[int, _TemplateInfo] = {}
"""By ``id(template)``; the info holds the template, so the id stays its own while cached."""


def _template_info(template: Template) -> _TemplateInfo:
    info = _TEMPLATES.get(id(template))
    if info is None or info.template is not template:
        if len(_TEMPLATES) >= _CACHE_SIZE:
            _TEMPLATES.clear()
        info = _TEMPLATES[id(template)] = _TemplateInfo(template)
    return info


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


def compose(
    base: str | Path | Template | Profile | None = None,
    *,
    arch: Arch | str,
    caps: Iterable[Capability | str] = (),
    allow: Iterable[str] = (),
    deny: Iterable[str] = (),
    rules: Iterable[Rule] = (),
    layers: Iterable[Layer] = (),
    errno_policy: ErrnoPolicy | None = None,
    default_action: Action | None = None,
    deny_errno: int = EPERM,
    runtime: str | tuple[str, ...] | None = ALL_RUNTIMES,
    no_new_privileges: bool = False,
    capability_map: str | None = None,
    kernel: tuple[int, int] | None = None,
    deny_exact: Iterable[str] = (),
    strict_multiplexers: bool = False,
) -> Profile:
    """Compose the seccomp profile of one container on an ``arch`` host.

    Args:
        base: a template name (``"default"``, ``"nginx"``), a template/profile file, a
            ``Template`` or a ``Profile``; None: an empty base.
        arch: the host architecture (an ``Arch``, or a name: ``"x86_64"``, ``"arm64"``); the profile
            covers every ABI it runs.
        caps: the container's capabilities (``"NET_ADMIN"``, ``"CAP_NET_ADMIN"`` or ``Capability``).
        allow: syscall names to allow (a runtime rule).
        deny: syscall names to deny; deny wins over every other layer. A name denies its whole
            family on every ABI of the host (``setuid`` also ``setuid32``: ``syscalls.family``) and,
            where the profile lists x86, the ``socketcall``/``ipc`` calls that run it; a denied
            ``socketcall`` or ``ipc`` is refused by a rule of its own.
        rules: extra rules (e.g. conditional allows) added as one layer.
        layers: extra layers (policies' runtime rules), each with its own label and gate.
        errno_policy: ``"eperm"`` or ``"enosys"``; None: the template's default, else eperm.
        default_action: override the action for unnamed syscalls (e.g. ``Action.LOG`` to learn).
        deny_errno: the errno denied syscalls return when it differs from the default's.
        runtime: add the base set of the OCI runtimes that will start the container (``"runc"``,
            ``"crun"``, ``"runc,crun"`` or a tuple); default: every runtime seccompose has measured,
            so the profile starts under Docker (runc), Podman (crun) and Kubernetes alike; None: no
            base set (the profile may then not start a container at all).
        no_new_privileges: the container's ``noNewPrivileges``, which decides the base set: False
            (default) is what Docker, Podman and Kubernetes (``allowPrivilegeEscalation: true``) run
            containers with unless told otherwise; there the runtime loads the filter before it
            drops capabilities and switches user, and needs more.
        capability_map: ``"docker"`` or ``"kernel"``; None: the template's choice.
        kernel: host kernel (major, minor) for templates gated on ``minKernel``; None: newest.
        deny_exact: syscall names to deny as named only: not the rest of their families, not
            through ``socketcall``/``ipc`` (what ``deny`` did before families).
        strict_multiplexers: where the profile lists x86, refuse ``socketcall`` (``ipc``) outright
            when a socket (IPC) call it runs keeps argument conditions: libseccomp cannot check them
            through the multiplexer, so i386 programs would otherwise get the call with any arguments.

    Returns:
        The canonical profile, with ``warnings`` and per-syscall provenance.

    Raises:
        UnknownSyscallError: a name in ``allow``/``deny`` exists on no arch (did-you-mean).
        InvalidCapabilityError: an unknown capability.
        ConflictError: two layers give the same syscall different deny actions.

    >>> p = compose(arch=Arch.AARCH64, allow=["arch_prctl", "openat"], runtime=None)
    >>> sorted(p.allowed()), p.warnings
    (['openat'], ("'arch_prctl' does not exist on aarch64; skipped (allow)",))
    """
    template = _NAMED.get(base) if type(base) is str else None
    if template is None:
        template = _base(base)
    # Containers of one template and options differ in their capabilities: a family keeps what those give.
    key = (id(template), arch, kernel, runtime, no_new_privileges, errno_policy, default_action, capability_map)
    try:
        family = _FAMILIES.get(key)
    except TypeError:  # an unhashable arch: _family says what is wrong
        family = None
    if family is None or family.template is not template:
        options = (kernel, runtime, no_new_privileges, errno_policy, default_action, capability_map)
        family = _family(key, template, arch, options)
    # Capabilities as given are the key (a list as a tuple): seen before, they are not parsed again.
    kind = type(caps)
    given: object = (
        caps if kind is tuple or kind is frozenset else tuple(caps) if kind is list else _capbits(caps)
    )
    try:
        found = family.containers.get(given)
    except TypeError:  # an unhashable capability: _capbits reports it
        given = _capbits(caps)
        found = None
    if found is None:
        found = family.add(given, caps)
    capbits, base_, cap_bits, cap_touched = found
    u = base_.u

    # The caller's allow and deny lists: plain bits when every name is in the universe (the usual case).
    if type(allow) is not tuple:
        allow = list(allow)
    if type(deny) is not tuple:
        deny = list(deny)
    try:  # _names_bits for both lists, inline: one try on the hot path, not two calls
        allow_bits = _reduce(_or, map(u.bit_of, allow), 0)  # all in C
        deny_bits = _reduce(_or, map(u.family_of, deny), 0)  # each name with its family
    except (KeyError, TypeError):  # a name on another arch's table, or on none: the slow path says which
        allow_bits = _names_bits(allow, u.bit_of)
        deny_bits = _names_bits(deny, u.family_of)
    if (
        allow_bits >= 0
        and deny_bits >= 0
        and base_.trusted
        and not rules
        and not layers
        and not (deny_bits and deny_bits & base_.mux_general)
        and not (deny_exact or strict_multiplexers)
    ):
        # The common case: capabilities and allow/deny lists on a base whose own rules are ready.
        explain = _Explainer(base_, capbits, allow_bits, deny_bits, (), ())
        allowed = (allow_bits | base_.allow | cap_bits) & ~deny_bits
        mux, refusal, refusing, outright = None, deny_bits, deny_errno, 0
        if deny_bits and deny_bits & base_.multiplexed:  # x86 calls of the denies' families: refused through them too
            mux, allowed, refusal, refusing, outright = base_.mux(deny_bits, allowed, deny_errno)
        touched = (allow_bits | deny_bits) & base_.open | cap_touched
        shape = None
        if allowed and not base_.log:
            # The container's allow list, then the base's own rules as the container's names leave them.
            first = _rule_from_bits(u, allowed, _ALLOW, None, (), family.near)
            rules_, shape = base_.after(first, touched, refusal, refusing, mux)
        elif mux is None:
            rules_ = _combine(u, base_, cap_bits, cap_touched, allow_bits, deny_bits, deny_errno)
        if mux is None or shape is not None:  # else (nothing allowed, and multiplexers to settle): the general path
            return _trusted_profile(  # canonical by construction, the default checked by _Base
                base_.action,
                base_.errno,
                base_.architectures,
                rules_,
                base_.flags,
                template.listener_path,
                template.listener_metadata,
                # A container that takes names out of the base's conditional socket/IPC rules has other warnings.
                base_.warnings_for(base_.unchecked & ~touched, outright, deny_errno)
                if touched & base_.unchecked or outright
                else base_.fast_warnings,
                explain,
                shape,
            )

    cap = (cap_bits, cap_touched)
    lists = (allow, deny, allow_bits, deny_bits)
    last = (deny_errno, kernel, tuple(deny_exact), strict_multiplexers)
    return _compose_layers(template, base_, capbits, cap, *lists, tuple(rules), layers, *last)


def union_template(
    bases: Sequence[str | Path | Template | Profile],
    *,
    arch: Arch | str,
    caps: Iterable[Capability | str] = (),
    errno_policy: ErrnoPolicy | None = None,
    kernel: tuple[int, int] | None = None,
    capability_map: str | None = None,
) -> Template:
    """Return one base that allows what any of ``bases`` allows for a container: an app and the tools beside it.

    Each base is composed for the container (its capabilities, kernel and errno policy; no
    runtime base set, which ``compose`` adds once), then the profiles are joined: a syscall
    any of them allows outright is allowed; one allowed only under conditions keeps every
    base's conditions; one no base allows keeps the first base's refusal that names it. The
    template is named after the bases (``nginx+redis``); ``compose`` it with the container's
    own allow and deny lists, which apply after the union (a deny still wins).

    Raises:
        ConflictError: the bases refuse unnamed syscalls differently (set an errno policy),
            or name different seccomp agents (``listenerPath``).
        SeccomposeError: a base cannot be composed (as ``compose`` raises).

    >>> t = union_template(["nginx", "redis"], arch=Arch.X86_64)
    >>> t.name, {"accept4", "epoll_wait"} <= compose(t, arch=Arch.X86_64, runtime=None).allowed()
    ('nginx+redis', True)
    """
    caps = tuple(caps)
    names = [b.name if isinstance(b, Template) else Path(b).stem if isinstance(b, Path) else str(b) for b in bases]
    profiles = [
        compose(
            b, arch=arch, caps=caps, errno_policy=errno_policy, kernel=kernel, runtime=None,
            capability_map=capability_map,
        )
        for b in bases
    ]  # fmt: skip
    if not profiles:
        raise ConflictError("a union needs at least one base", location="--base")
    defaults = {(p.default_action, p.default_errno) for p in profiles}
    if len(defaults) > 1:
        raise ConflictError(
            f"the bases {', '.join(names)} refuse unnamed syscalls differently; choose one with --errno-policy",
            location="--base",
        )
    listeners = {(p.listener_path, p.listener_metadata) for p in profiles if p.listener_path}
    if len(listeners) > 1:
        raise ConflictError(
            f"the bases {', '.join(names)} hand syscalls to different seccomp agents", location="--base"
        )
    outright = {n for p in profiles for r in p.rules if r.action.allows and not r.args for n in r.names}
    allowing = outright | {n for p in profiles for r in p.rules if r.action.allows for n in r.names}
    rules: list[Rule] = []
    for p in profiles:  # in the bases' order: the first refusal of a name wins, as within one template
        for r in p.rules:
            if r.action.allows:  # an outright allow stays; a conditional one unless another base allows outright
                keep = r.names if not r.args else tuple(n for n in r.names if n not in outright)
            else:  # a refusal gives way to any allow of another base
                keep = tuple(n for n in r.names if n not in allowing)
            if keep:
                rules.append(Rule(keep, r.action, r.errno, r.args, r.comment))
    first = profiles[0]
    arches = tuple(dict.fromkeys(a for p in profiles for a in p.architectures))
    joined = Profile(
        first.default_action,
        first.default_errno,
        arches,
        tuple(rules),
        tuple(dict.fromkeys(f for p in profiles for f in p.flags)),
        next(iter(listeners))[0] if listeners else None,
        next(iter(listeners))[1] if listeners else None,
    )
    # Each base was composed for the container's capabilities with its own capability map (or its own
    # capability gates): composing the union must not add a map's syscalls again.
    return dataclasses.replace(template_from_profile(joined, name="+".join(names)), capability_map=None)


def _compose_layers(
    template: Template,
    base_: _Base,
    capbits: int,
    cap: tuple[int, int],
    allow: Sequence[str],
    deny: Sequence[str],
    allow_bits: int,
    deny_bits: int,
    extra: tuple[Rule, ...],
    layers: Iterable[Layer],
    deny_errno: int,
    kernel: tuple[int, int] | None,
    deny_exact: tuple[str, ...] = (),
    strict: bool = False,
) -> Profile:
    """``compose`` with the caller's own rules and layers, names outside the universe, conflicts to report."""
    u = base_.u
    arch = u.arch
    warnings: list[str] = []  # beyond the base's, only on the slow paths
    union: list[_Part] = []
    denies: list[_Part] = []
    # Denied names no ABI of the host has but a multiplexer runs (accept on an i386 host): their calls are refused.
    foreign_denied = {n for n in deny if isinstance(n, str) and n not in u.index}
    if allow_bits < 0 or deny_bits < 0:
        _check_names(u, allow, "allow")
        _check_names(u, deny, "deny")
        if allow_bits < 0:
            union.append(_Part(_resolve(u, Layer("allow", (Rule(tuple(allow)),)), warnings, "allow")))
            allow_bits = 0
    if extra:
        union.append(_Part(_resolve(u, Layer("rule", extra), warnings, "rules")))
    family_denied = max(0, deny_bits)
    for k, layer in enumerate(layers):
        if not layer.gate.passes(arch, _capset(capbits), kernel):
            continue
        if layer.deny:
            part = _deny_part(u, layer, warnings, f"layers[{k}].rules", foreign_denied)
            family_denied |= 0 if layer.exact else part.every
            denies.append(part)
        else:
            union.append(_Part(_resolve(u, layer, warnings, f"layers[{k}].rules")))
    if deny_bits < 0:
        part = _deny_part(u, Layer("deny", (Rule(tuple(deny)),), deny=True), warnings, "deny", foreign_denied)
        family_denied |= part.every
        denies.append(part)
        deny_bits = 0
    if deny_exact:
        _check_names(u, deny_exact, "deny_exact")
        exact = Layer("deny-exact", (Rule(deny_exact),), deny=True, exact=True)
        denies.append(_deny_part(u, exact, warnings, "deny_exact", foreign_denied))

    explain = _Explainer(base_, capbits, allow_bits, deny_bits, union, denies)
    fields = (base_.architectures, base_.flags, template.listener_path, template.listener_metadata)
    warned = tuple(sorted({*base_.warnings, *warnings})) if warnings else base_.warnings
    if base_.trusted and not union and not denies:
        rules_ = _combine(u, base_, *cap, allow_bits, deny_bits, deny_errno)
        profile = Profile._trusted(  # noqa: SLF001 - canonical by construction, the default checked by _Base
            base_.action, base_.errno, fields[0], rules_, fields[1], fields[2], fields[3], warned, explain
        )
    else:
        # The general case: the caller's own rules and layers, names outside the tables, conflicts to report.
        rules_ = tuple(_combine_layers(u, *explain.layers(), base_.action, base_.errno, deny_errno))
        # Where the caller's rules add conditions, the fewest rules that give the same verdicts (simplify.py).
        conditioned = {n for part in union for r in part.others if r.rule.args for n in r.rule.names}
        rules_ = (merge_conditions(rules_, conditioned) if conditioned else None) or rules_
        profile = Profile(
            base_.action, base_.errno, fields[0], rules_, fields[1], fields[2], fields[3], warned, explain
        )
    # The multiplexers' calls, on the canonical rules (one verdict per name, as the runtime reads them).
    default = (base_.action, base_.errno)
    muxed = _multiplex(u, fields[0], profile.rules, default, family_denied, foreign_denied, deny_errno, strict=strict)
    if muxed.rules is None and not muxed.warnings:
        return profile
    warned = tuple(sorted({*warned, *muxed.warnings}))
    rules_ = profile.rules if muxed.rules is None else tuple(muxed.rules)
    return Profile(base_.action, base_.errno, fields[0], rules_, fields[1], fields[2], fields[3], warned, explain)


def _deny_part(u: Universe, layer: Layer, warnings: list[str], location: str, foreign: set[str]) -> _Part:
    """A deny layer resolved on ``u``: each name with its family (unless ``layer.exact``).

    Denied names no ABI of the host has join ``foreign``: a multiplexer may run them.
    """
    resolved = _resolve(u, layer, warnings, location)
    if layer.exact:
        return _Part(resolved)
    foreign.update(n for r in layer.rules for n in r.names if n not in u.index)
    return _Part([_Resolved(r.label, r.rule, u.expand(r.bits), r.foreign) for r in resolved])


_Runtimes = str | tuple[str, ...] | None
_FamilyArgs = tuple[Arch, tuple[int, int] | None, _Runtimes, bool, ErrnoPolicy | None, Action | None, str | None]
"""What ``_base_for`` takes after the template and capabilities: arch, kernel, runtime, no_new_privileges,
errno_policy, default_action, capability_map."""


class _Family:
    """Containers of one template on one host with the same options: they differ in capabilities only.

    Per capability set it keeps the base (which depends on the few capabilities the
    template's structural rules look at: ``_Additive``), the syscall bits the capabilities
    unlock and the names of the base's rules they take out, so a container costs a
    dictionary lookup before its own lists.
    """

    __slots__ = (
        "args", "bases", "containers", "drop_tables", "gates", "nbytes", "near", "structural", "tables", "template",
    )  # fmt: skip

    def __init__(self, template: Template, args: _FamilyArgs, additive: _Additive, cmap: _CapMap) -> None:
        self.template = template
        self.args = args
        self.structural = additive.structural_caps
        self.tables = additive.tables_with(cmap)
        self.nbytes = len(self.tables)
        self.gates = additive.gates
        self.drop_tables = additive.drop_tables
        self.bases: dict[int, _Base] = {}
        self.containers: dict[object, tuple[int, _Base, int, int]] = {}
        self.near = -1
        """The allow bits of the family's first base: its containers' allow lists are written as that text's
        slices around the names that differ (``Universe.write``), one kept text per family, not per base."""

    def add(self, given: object, caps: Iterable[Capability | str]) -> tuple[int, _Base, int, int]:
        """Work out and keep the capability bits, base, capability syscall bits and touched bits of a capability set.

        The touched bits are those of the base's conditional and refusing rules the
        capabilities take out: the names they allow, and those of the refusals they drop.
        """
        capbits = given if type(given) is int else _capbits(caps)
        base_ = self.bases.get(capbits & self.structural)
        if base_ is None:
            if len(self.bases) >= _BASES_PER_TEMPLATE:
                self.bases.clear()
            base_ = self.bases[capbits & self.structural] = _base_for(self.template, capbits, *self.args)
            if self.near < 0:
                self.near = base_.allow
        # The syscalls the capabilities unlock (the map's and the template's gated allows): one OR per byte.
        # (An OR per byte of the capability set over per-byte tables, as for the refusals below: inline, not a
        # helper, as each call of one costs about 1 % of a composition on a cache miss.)
        capbytes = capbits.to_bytes(self.nbytes, "little")
        cap_bits = functools.reduce(operator.or_, map(operator.getitem, self.tables, capbytes), 0)
        for needs, bits in self.gates:
            if not needs & ~capbits:
                cap_bits |= bits
        touched = cap_bits
        if self.drop_tables is not None:
            touched |= functools.reduce(operator.or_, map(operator.getitem, self.drop_tables, capbytes), 0)
        found = (capbits, base_, cap_bits, touched & base_.open)
        if _KEPT.sets >= _SETS_KEPT:
            for family in _FAMILIES.values():
                family.containers.clear()
            _KEPT.sets = 0
        self.containers[given] = found
        _KEPT.sets += 1
        return found


def _family(
    key: tuple[object, ...], template: Template, arch: Arch | str, options: tuple[Any, ...]
) -> _Family:
    if not isinstance(arch, Arch):  # a name ("x86_64", "arm64"): the family of that Arch, kept under the name too
        parsed = Arch.parse(arch, location="arch")
        family = _FAMILIES[key] = _family((key[0], parsed, *key[2:]), template, parsed, options)
        return family
    args: _FamilyArgs = (arch, *options)
    kernel, runtime, _, errno_policy, default_action, capability_map = options
    if runtime is not None:
        if not isinstance(runtime, (str, tuple)):
            raise InvalidRuntimeError(repr(runtime), choices=RUNTIMES, location="runtime")
        _runtime_label(runtime)  # a bad name raises before anything is kept
    _default(template, errno_policy, default_action)  # bad options raise before anything is kept
    additive = _template_info(template).additive(arch, kernel)
    cmap = _capmap(capability_map if capability_map is not None else template.capability_map, additive.u)
    family = _Family(template, args, additive, cmap)
    if len(_FAMILIES) >= _FAMILIES_KEPT:
        _FAMILIES.clear()
        _KEPT.sets = 0
    _FAMILIES[key] = family
    return family


def _base_for(
    template: Template,
    capbits: int,
    arch: Arch,
    kernel: tuple[int, int] | None,
    runtime: str | tuple[str, ...] | None,
    no_new_privileges: bool,
    errno_policy: ErrnoPolicy | None,
    default_action: Action | None,
    capability_map: str | None,
) -> _Base:
    """Return the (cached) base of a template for a container: what all but its own layers give."""
    info = _template_info(template)
    additive = info.additive(arch, kernel)
    # Arch by id: enum hashing runs Python code, and this is the hot path.
    key = (
        id(arch),
        capbits & additive.structural_caps,
        kernel,
        runtime,
        no_new_privileges,
        errno_policy,
        default_action,
        capability_map,
    )
    base = info.bases.get(key)
    if base is None:
        action, errno = _default(template, errno_policy, default_action)
        u = additive.u
        resolved = info.rules(u)
        selected = [resolved[i] for i, needs, drops in additive.structural if not (needs & ~capbits or drops & capbits)]
        runtime_part = _runtime(runtime, no_new_privileges, u) if runtime else None
        capmap = capability_map if capability_map is not None else template.capability_map
        base = _Base(u, template, selected, runtime_part, action, errno, _capmap(capmap, u))
        base.source = (info, additive, kernel)
        if len(info.bases) >= _BASES_PER_TEMPLATE:
            info.bases.clear()
        info.bases[key] = base
    return base


def _names_bits(names: Sequence[str], bits_of: Callable[[str], int]) -> int:
    """Return the bits of the caller's names, or -1 when one is outside the universe (the slow path).

    ``bits_of``: a universe's ``bit_of`` (the name alone) or ``family_of`` (with its family).
    """
    try:
        return _reduce(_or, map(bits_of, names), 0)
    except (KeyError, TypeError):
        return -1


_reduce: Final = functools.reduce
_or: Final = operator.or_

# Bound once: CPython 3.11 does not specialise a classmethod read from its class, so each ``Rule._from_bits``
# would look it up through the type and bind it anew.
_rule_from_bits: Final = Rule._from_bits  # noqa: SLF001 - the hot path's constructor
_trusted_profile: Final = Profile._trusted  # noqa: SLF001 - the hot path's constructor

_SortKey = tuple[object, ...]
_ALLOW: Final = Action.ALLOW
_ERRNO: Final = Action.ERRNO
_ALLOW_KEY: Final = Rule(("read",)).sort_key()[:-1]
"""The unconditional ALLOW rule sorts first."""
_Groups = dict[tuple[Action, int | None, tuple[Arg, ...]], tuple[int, tuple[str, ...]]]


def _groups(
    u: Universe, others: Iterable[_Resolved], decided: int, action: Action, errno: int | None, conditional_allow: int
) -> _Groups:
    """Merge the conditional and non-allowing rules by (action, errno, conditions), as the profile keeps them.

    Minus the names decided outright; soft refusals give way to conditional allows; and,
    as ``Profile`` reads rules (``first_wins``), conditional rules lose the names an
    unconditional verdict has.
    """
    hard: dict[int, tuple[Action, int | None, str]] = {}
    out: _Groups = {}
    for r in others:
        bits = r.bits & ~decided
        rule = r.rule
        if not rule.args and not rule.action.allows:
            bits &= ~conditional_allow
            if rule.action is action and rule.errno == errno:
                continue  # the runtime would skip it: the default does the same
            _check_conflicts(u, hard, bits, r)
        if bits or r.foreign:
            key = (rule.action, rule.errno, rule.args)
            seen = out.get(key)
            out[key] = (bits, r.foreign) if seen is None else (seen[0] | bits, seen[1] + r.foreign)
    claimed = functools.reduce(operator.or_, (bits for (_, _, args), (bits, _) in out.items() if not args), 0)
    if claimed:
        for key, (bits, foreign) in list(out.items()):
            if key[2] and bits & claimed:
                if bits & ~claimed or foreign:
                    out[key] = (bits & ~claimed, foreign)
                else:
                    del out[key]
    return out


def _rule(u: Universe, key: tuple[Action, int | None, tuple[Arg, ...]], bits: int, foreign: tuple[str, ...]) -> Rule:
    if foreign:
        return Rule._trusted(tuple(sorted({*u.names_of(bits), *foreign})), *key)  # noqa: SLF001 - sorted, unique
    return Rule._from_bits(u, bits, *key)  # noqa: SLF001 - the key canonical


_SHARED: dict[tuple[Universe, tuple[Action, int | None, tuple[Arg, ...]], int], tuple[_SortKey, Rule]] = {}
"""Bases' rules and what containers leave of them, one object per (key, names): bases of one template mostly
share them, and containers that allow the same names the same remainder; each keeps its text."""


def _group_rules(u: Universe, groups: _Groups) -> list[tuple[_SortKey, Rule]]:
    out: list[tuple[_SortKey, Rule]] = []
    for key, (bits, foreign) in groups.items():
        if foreign:
            rule = _rule(u, key, bits, foreign)
            out.append((rule.sort_key()[:-1], rule))
            continue
        out.append(_shared(u, key, bits))
    out.sort(key=operator.itemgetter(0))
    return out


def _shared(u: Universe, key: tuple[Action, int | None, tuple[Arg, ...]], bits: int) -> tuple[_SortKey, Rule]:
    """Return the (kept) rule of ``key`` with the names of ``bits``, and its sort key: one object per value."""
    shared = _SHARED.get((u, key, bits))
    if shared is None:
        rule = _rule(u, key, bits, ())
        if len(_SHARED) >= _BASES:
            _SHARED.clear()
            _order.cache_clear()  # type: ignore[attr-defined]  # its keys are the rules' keys: bounded with them
        shared = _SHARED[u, key, bits] = (rule.sort_key()[:-1], rule)
    return shared


@_caches.cache
def _order(key: tuple[Action, int | None, tuple[Arg, ...]]) -> _SortKey:
    """``Rule.sort_key`` without the names, from a rule's key.

    (The names of a rule built from bits are spelled out only when read.)
    """
    return Rule._trusted(("read",), *key).sort_key()[:-1]  # noqa: SLF001 - canonical parts


@_caches.cache
def _mux_calls(u: Universe) -> tuple[tuple[str, int, int], ...]:
    """Every call of the multiplexers of ``u``'s host: (multiplexer, call, bits of the family it runs)."""
    return tuple((name, call, fam) for name, _, calls in u.multiplexers for call, fam in calls)


@_caches.cache
def _mux_places(u: Universe) -> tuple[tuple[str, int, int], ...]:
    """Per multiplexer: its name, its bit and the places of its calls in a ``mux_key``."""
    calls = _mux_calls(u)
    return tuple(
        (name, bit, functools.reduce(operator.or_, (1 << i for i, c in enumerate(calls) if c[0] == name), 0))
        for name, bit, _ in u.multiplexers
    )


_RuleKey = tuple[Action, int | None, tuple[Arg, ...]]
_MUX_RULES: dict[tuple[Universe, int, int, bool, int], tuple[tuple[_RuleKey, int], ...]] = {}
"""``_mux_rules`` by its arguments."""


def _mux_rules(
    u: Universe, refused: int, errno: int, like_default: bool, allowed: int
) -> tuple[tuple[_RuleKey, int], ...]:
    """Return the (key, bits) of the rules a simple base gets for the calls ``refused`` (``_Base.mux_key``).

    Each multiplexer the container allows outright (``allowed``: their bits) is allowed
    call by call for the calls it may still run; where the default does not refuse with
    ``errno``, the refused calls get it (``_multiplex`` does the same on the general path).
    """
    key = (u, refused, errno, like_default, allowed)
    found = _MUX_RULES.get(key)
    if found is None:
        calls = _mux_calls(u)
        out: list[tuple[_RuleKey, int]] = []
        for name, bit, places in _mux_places(u):
            if not refused & places:
                continue
            mine = [(i, c) for i, c in enumerate(calls) if c[0] == name]
            if allowed & bit:
                out += [((_ALLOW, None, (_selector(name, c),)), bit) for i, (_, c, _) in mine if not refused >> i & 1]
            if not like_default:
                out += [((_ERRNO, errno, (_selector(name, c),)), bit) for i, (_, c, _) in mine if refused >> i & 1]
        if len(_MUX_RULES) >= _CACHE_SIZE:
            _MUX_RULES.clear()
        found = _MUX_RULES[key] = tuple(out)
    return found


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
        refused = [
            s for s in calls if u.mask(n for n in s.family if n in u.index) & denied or s.name in foreign_denied
        ]
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


def _combine(
    u: Universe, base: _Base, cap_bits: int, cap_touched: int, allow_bits: int, deny_bits: int, deny_errno: int
) -> tuple[Rule, ...]:
    """Return the profile's rules when only the capabilities and allow/deny lists add to a trusted base.

    ``cap_bits``: the names the capabilities allow; ``cap_touched``: those of the base's
    own rules they take out (``_Family.add``).

    The rules are canonical (merged by key, names sorted, sorted), equal to what
    ``_combine_layers`` and ``Profile`` make of the same layers.
    """
    action = base.action
    errno = base.errno
    allow_bits |= base.allow | cap_bits
    log_bits = base.log & ~allow_bits
    decided = allow_bits | log_bits | deny_bits
    allowed = allow_bits & ~deny_bits
    log_bits &= ~deny_bits
    deny_rule = bool(deny_bits) and (action is not _ERRNO or errno != deny_errno)
    # Deciding more names only takes them out of the base's own rules (conflicts and first-wins cannot
    # come back): what is left of them is the base's variant for those names.
    out = [(rule.sort_key()[:-1], rule) for rule in base.variant(decided & base.open | cap_touched)[0]]
    if allowed:
        out.insert(0, (_ALLOW_KEY, Rule._from_bits(u, allowed, _ALLOW, None, (), base.allow)))  # noqa: SLF001
    if log_bits:
        log = _rule(u, (Action.LOG, None, ()), log_bits, ())
        bisect.insort(out, (log.sort_key()[:-1], log), key=operator.itemgetter(0))
    if deny_rule:
        key = (_ERRNO, deny_errno, ())
        names = u.names_of(deny_bits)
        for i, (_, rule) in enumerate(out):
            if rule.key() == key:  # the base's own unconditional denies with that errno: one rule
                names = tuple(sorted({*names, *rule.names}))
                del out[i]
                break
        denied = Rule._trusted(names, *key)  # noqa: SLF001 - names sorted and unique
        bisect.insort(out, (denied.sort_key()[:-1], denied), key=operator.itemgetter(0))
    return tuple(r for _, r in out)


def _bits_of(rule: Rule) -> int:
    """Return the bits of one of a trusted base's rules (all have them: no name is outside the tables)."""
    hint = rule._bits  # noqa: SLF001 - set by Rule._trusted
    assert hint is not None  # noqa: S101 - _Base.trusted checked there is no foreign name
    return hint[1]


def _combine_layers(
    u: Universe,
    union: Sequence[_Resolved],
    denies: Sequence[_Resolved],
    action: Action,
    errno: int | None,
    deny_errno: int,
) -> list[Rule]:
    """Return the profile's rules from every layer's resolved rules, in layer order, for ``Profile`` to canonicalise.

    The general algebra (conditional rules of the caller's, names outside the tables);
    ``_combine`` is its fast path.
    """
    allow_bits = log_bits = deny_bits = 0
    foreign_allow: set[str] = set()
    for r in union:
        if r.rule.args or not r.rule.action.allows:
            continue
        if r.rule.action is Action.ALLOW:
            allow_bits |= r.bits
            foreign_allow.update(r.foreign)
        else:
            log_bits |= r.bits
    for r in denies:
        if r.rule.args:
            raise ConflictError(
                f"deny rules cannot have argument conditions ({r.label}): deny removes the whole syscall; "
                "allow it conditionally instead"
            )
        deny_bits |= r.bits
    log_bits &= ~allow_bits
    decided = allow_bits | log_bits | deny_bits
    # A name some layer allows under conditions keeps that allow: a soft refusal of the same
    # name from another layer would override it in libseccomp, so the refusal gives way.
    conditional_allow = 0
    for r in union:
        if r.rule.args and r.rule.action.allows:
            conditional_allow |= r.bits
    out: list[Rule] = []
    if allow_bits & ~deny_bits or foreign_allow:
        out.append(Rule(u.names_of(allow_bits & ~deny_bits) + tuple(foreign_allow), Action.ALLOW))
    if log_bits & ~deny_bits:
        out.append(Rule(u.names_of(log_bits & ~deny_bits), Action.LOG))
    hard: dict[int, tuple[Action, int | None, str]] = {}
    for r in union:
        if not (r.rule.args or not r.rule.action.allows):
            continue
        bits = r.bits & ~decided
        if not r.rule.args and not r.rule.action.allows:
            bits &= ~conditional_allow
            if r.rule.action is action and r.rule.errno == errno:
                continue  # the runtime would skip it: the default does the same
            _check_conflicts(u, hard, bits, r)
        if bits or r.foreign:
            out.append(Rule(u.names_of(bits) + r.foreign, r.rule.action, r.rule.errno, r.rule.args))
    if deny_bits and (action, errno) != (Action.ERRNO, deny_errno):
        out.append(Rule(u.names_of(deny_bits), Action.ERRNO, deny_errno))
    return out


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


def _template_part(base: _Base, capbits: int) -> list[_Resolved]:
    """Return the template's resolved rules for a container, additive ones included, as compose would alone."""
    info, additive, kernel = base.source
    if not (additive.indexes or additive.refusals):
        return list(base.template.resolved(base.u))
    capset = _capset(capbits)
    rules = info.rules(base.u)
    selected = [rules[i] for i, tr in enumerate(info.template.rules) if tr.gate.passes(base.u.arch, capset, kernel)]
    resolved, _ = _first_wins(base.u, f"template:{info.template.name}", selected, base.action, base.raw_errno)
    return resolved


class _Explainer:
    """Lazily works out which layers decided a syscall (kept off the hot path)."""

    __slots__ = ("_layers", "inputs")

    def __init__(
        self,
        base: _Base,
        capbits: int,
        allow_bits: int,
        deny_bits: int,
        union: Sequence[_Part],
        denies: Sequence[_Part],
    ) -> None:
        self.inputs = (base, capbits, allow_bits, deny_bits, union, denies)
        self._layers: tuple[tuple[_Resolved, ...], tuple[_Resolved, ...]] | None = None

    def layers(self) -> tuple[tuple[_Resolved, ...], tuple[_Resolved, ...]]:
        """Return the resolved rules of every union layer and every deny layer, in compose's order."""
        if self._layers is None:
            base, capbits, allow_bits, deny_bits, union_parts, deny_parts = self.inputs
            u = base.u
            if allow_bits:
                union_parts = [_Part.names("allow", allow_bits), *union_parts]
            if deny_bits:
                deny_parts = [*deny_parts, _Part.names("deny", deny_bits)]
            caps = base.cmap.resolved(capbits)
            runtime = base.runtime.resolved(u) if base.runtime is not None else ()
            union = (*_template_part(base, capbits), *caps, *runtime, *(r for p in union_parts for r in p.resolved(u)))
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
            labels = tuple(
                dict.fromkeys(r.label for r in union if has(r) and not r.rule.args and r.rule.action.allows)
            )
        elif verdict.verdict == "default":
            return verdict
        else:
            labels = tuple(dict.fromkeys(r.label for r in union if has(r)))
        return Provenance(name, verdict.verdict, verdict.action, verdict.errno, labels, verdict.conditions)


@_caches.on_clear
def _clear() -> None:
    """Empty every cache of compose (``seccompose.clear_caches``), and the counts that bound them."""
    for cache in (_INTERNED, _NAMED, _CAP_BITS, _FAMILIES, _CAPMAPS, _RUNTIMES, _TEMPLATES, _SHARED, _MUX_RULES):
        cache.clear()
    _VARIANT_BASES.clear()
    _KEPT.sets = 0
    _KEPT.variants = 0

"""compose's fast path: what a template compiles to, kept, and a container's profile from it in bits.

The algebra (``seccompose.compose``) defines a profile layer by layer. Most containers differ
only in their capabilities and their allow/deny lists, on one of a few templates: this module
compiles a template once per host, options and set of the capabilities its refusing and
conditional rules look at (``_Compiled``: its rules selected and settled by first-wins, with the
runtime's set, its profile rules ready), keeps it per capability set (``_Family``), and gives a
container its profile from those rules and the bits of its own lists (``compose_fast``):
names taken out of the compiled rules per set of touched names (``_Compiled.variant``), the
multiplexers' calls a deny refuses (``_mux_rules``), each kept so emitters reuse its text.
Anything else goes to the algebra, which ``compose`` passes in (``general``).

Every cache here is bounded and emptied by ``seccompose.clear_caches()``. The profiles equal the
algebra's: ``tests/property/test_fast_paths.py`` pins them (rules, warnings, provenance).
"""

from __future__ import annotations

import bisect
import functools
import operator
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

from seccompose import _caches
from seccompose._compose_parts import (
    _capabilities,
    _capset,
    _check_conflicts,
    _default,
    _Explainer,
    _first_wins,
    _multiplex,
    _Part,
    _resolve_names,
    _Resolved,
    _selector,
    _TemplateRule,
)
from seccompose.actions import ENOSYS, EPERM, Action
from seccompose.arch import Arch
from seccompose.caps import Capability
from seccompose.errors import ConflictError, InvalidRuntimeError
from seccompose.profile import Flag, Profile, Shape, _default_errno
from seccompose.rules import Arg, Rule
from seccompose.runtime import ALL_RUNTIMES, RUNTIMES
from seccompose.syscalls import subcalls
from seccompose.syscallset import Universe, universe
from seccompose.templates import Template

if TYPE_CHECKING:
    from seccompose.compose import ErrnoPolicy, Layer

    _Runtimes = str | tuple[str, ...] | None
    _FamilyArgs = tuple[Arch, tuple[int, int] | None, _Runtimes, bool, ErrnoPolicy | None, Action | None, str | None]
    """What ``_compiled_for`` takes after the template and capabilities: arch, kernel, runtime, no_new_privileges,
    errno_policy, default_action, capability_map."""

__all__ = ["container", "fast_path"]

_F = TypeVar("_F", bound=Callable[..., "Profile"])

_CACHE_SIZE: Final = 512
"""Entries each cache keeps; on overflow it starts again (memory stays flat whatever the inputs)."""

_SHARED_KEPT: Final = 1024
"""Rules ``_SHARED`` keeps (a few kB each with their text)."""

_VARIANTS: Final = 256
"""Variants of compiled templates (the rules left when containers take names out of a compiled template's
conditional and refusing rules, and their shape, a few kB with its text) kept in all; past that, every compiled
template starts again."""


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
        """Variants the compiled templates hold (bounded by ``_VARIANTS``)."""


_KEPT: Final = _Counts()

_HOLDING_VARIANTS: list[_Compiled] = []
"""The compiled templates holding variants (one once per variant): what to clear when ``_VARIANTS`` is reached."""

_COMPILED_PER_TEMPLATE: Final = 512
"""Compiled templates kept per template: one per set of the capabilities its refusing and conditional rules look at."""

_INTERNED: dict[tuple[object, ...], Any] = {}
"""Arches and flags tuples, one object per value (few values: one per host arch and template)."""


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
        rule = Rule(_runtime_names(runtime, no_new_privileges, u.arch))
        found = _Part([_resolve_names(u, _runtime_label(runtime), rule, warnings, "runtime", strict=True)], warnings)
        if len(_RUNTIMES) >= _CACHE_SIZE:
            _RUNTIMES.clear()
        _RUNTIMES[runtime, no_new_privileges, u] = found
    return found


def fast_path(  # noqa: PLR0915 - compose inline: a call more would cost ~0.8 % of a composition
    *, general: Callable[..., Profile], template_from: Callable[[Any], Template], named: dict[str, Template]
) -> Callable[[_F], _F]:
    """Return the decorator that gives ``compose`` its fast path, in ``compose``'s own frame.

    The decorated function (``seccompose.compose.compose``) is the algebra alone; what the
    decorator returns takes its name, docstring and signature (``__wrapped__`` is the algebra)
    and runs this module's fast path: a container whose capabilities and allow/deny lists are
    all it adds to a trusted compiled template gets its profile from that template's kept
    rules; any other (its own rules or layers, names outside the universe, denies the
    multiplexers settle only on the general path) gets ``general``'s, the algebra's
    ``_compose_layers`` given the compiled template. (One more Python call per composition,
    algebra to fast path, would cost 500-700 instructions, about 0.8 % of one.)
    """

    def install(algebra: _F) -> _F:  # noqa: PLR0915 - with compose inline
        def compose(  # the signature of seccompose.compose.compose (pinned by test_fast_paths)
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
            template = named.get(base) if type(base) is str else None
            if template is None:
                template = template_from(base)
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
            capbits, compiled, cap_bits, cap_touched = found
            u = compiled.u

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
                and compiled.trusted
                and not rules
                and not layers
                and not (deny_bits and deny_bits & compiled.mux_general)
                and not (deny_exact or strict_multiplexers)
            ):
                # The common case: capabilities and allow/deny lists on a compiled template whose own rules are ready.
                explain = _Explainer(compiled, capbits, allow_bits, deny_bits, (), ())
                allowed = (allow_bits | compiled.allow | cap_bits) & ~deny_bits
                mux, refusal, refusing, outright = None, deny_bits, deny_errno, 0
                if (
                    deny_bits and deny_bits & compiled.multiplexed
                ):  # x86 calls of the denies' families: refused through them too
                    mux, allowed, refusal, refusing, outright = compiled.mux(deny_bits, allowed, deny_errno)
                touched = (allow_bits | deny_bits) & compiled.open | cap_touched
                shape = None
                if allowed and not compiled.log:
                    # The container's allow list, then the compiled template's own rules as its names leave them.
                    first = _rule_from_bits(u, allowed, _ALLOW, None, (), family.near)
                    rules_, shape = compiled.after(first, touched, refusal, refusing, mux)
                elif mux is None:
                    rules_ = _combine(u, compiled, cap_bits, cap_touched, allow_bits, deny_bits, deny_errno)
                if (
                    mux is None or shape is not None
                ):  # else (nothing allowed, and multiplexers to settle): the general path
                    return _trusted_profile(  # canonical by construction, the default checked by _Compiled
                        compiled.action,
                        compiled.errno,
                        compiled.architectures,
                        rules_,
                        compiled.flags,
                        template.listener_path,
                        template.listener_metadata,
                        # A container that takes names out of the compiled template's conditional socket/IPC rules has
                        # other warnings.
                        compiled.warnings_for(compiled.unchecked & ~touched, outright, deny_errno)
                        if touched & compiled.unchecked or outright
                        else compiled.fast_warnings,
                        explain,
                        shape,
                    )

            cap = (cap_bits, cap_touched)
            lists = (allow, deny, allow_bits, deny_bits)
            last = (deny_errno, kernel, tuple(deny_exact), strict_multiplexers)
            return general(template, compiled, capbits, cap, *lists, tuple(rules), layers, *last)

        functools.update_wrapper(compose, algebra)
        return cast("_F", compose)

    return install


def container(
    template: Template,
    arch: Arch | str,
    caps: Iterable[Capability | str],
    options: tuple[Any, ...],
) -> tuple[int, _Compiled, int, int]:
    """Return a container's capability bits, compiled template, capability syscall bits and touched bits.

    ``options``: kernel, runtime, no_new_privileges, errno_policy, default_action, capability_map.
    What the fast path looks up inline, for the algebra alone (``seccompose.compose.compose.__wrapped__``).
    """
    key = (id(template), arch, *options)
    try:
        family = _FAMILIES.get(key)
    except TypeError:  # an unhashable arch: _family says what is wrong
        family = None
    if family is None or family.template is not template:
        family = _family(key, template, arch, options)
    capbits = _capbits(caps)
    found = family.containers.get(capbits)
    return found if found is not None else family.add(capbits, caps)


class _Compiled:
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
        self.source: tuple[_TemplateInfo, _Additive, tuple[int, int] | None]  # set by _compiled_for
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
        """The bits of the compiled template's own conditional and refusing rules a container's layers may take over."""
        self.shape = Shape()
        self.variants: dict[int | tuple[int, tuple[int, int, int]], tuple[tuple[Rule, ...], Shape]] = {}
        """Kept by ``variant``; ``_KEPT.variants`` counts them over every compiled template."""
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
        """The names of the compiled template's unconditional ERRNO rules, by errno: a container's denies with one
        join it."""
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
        container that denies one takes the general path: ``_multiplex``); those the compiled template
        allows or refuses under argument conditions, which the multiplexers cannot check (a
        container that allows one outright changes the warnings); and the warnings of a
        profile made on the fast path: the compiled template's, and the multiplexers'.
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
        calls of the multiplexers that run its family. A compiled template whose multiplexers are allowed outright (or
        not at all) and whose rules for the calls they run do not refuse them or give them
        conditions of several actions settles a deny as ``_multiplex`` does, a variant per
        key; on any other compiled template, a deny of those names (``mux_general``) takes the general
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

        A container that allows (or denies) a name the compiled template allows under conditions takes it
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
        """Return a profile's rules and shape: ``first``, then the compiled template's rules less the names ``touched``.

        With the container's denies (``deny``) if the default does not refuse them with
        ``errno``; and with the multiplexers' calls they refuse (``mux``: ``mux_key``). As
        ``_combine`` and ``_multiplex`` would make them, with the rest kept per set of
        touched names (``variant``, ``errno_variant``), so emitters keep its text.
        """
        if deny and errno != self.refuses:
            # The denies join the compiled template's own refusals with that errno: that rule's names are written apart.
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
        """Return the compiled template's rules less the names ``touched`` (bits of ``open``), and their shape (kept).

        A container that allows, denies or has the capabilities of some of the names the
        compiled template's conditional or refusing rules hold takes them out of those rules; the rest
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
        join the compiled template's own refusals with it in one rule; and capabilities drop some of
        those refusals. Returns the rules before and after that one, the names the
        compiled template's own rule has in it (bits; 0: the compiled template has none), and the shape of
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
            if at < len(rest) and keys[at] == sort:  # the compiled template's own rule: the names are joined to it
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

    def template_part(self, capbits: int) -> list[_Resolved]:
        """Return the template's resolved rules for a container, additive ones included, as compose would alone."""
        info, additive, kernel = self.source
        if not (additive.indexes or additive.refusals):
            return list(self.template.resolved(self.u))
        capset = _capset(capbits)
        rules = info.rules(self.u)
        selected = [rules[i] for i, tr in enumerate(info.template.rules) if tr.gate.passes(self.u.arch, capset, kernel)]
        resolved, _ = _first_wins(self.u, f"template:{info.template.name}", selected, self.action, self.raw_errno)
        return resolved

    def combine(
        self, cap_bits: int, cap_touched: int, allow_bits: int, deny_bits: int, deny_errno: int
    ) -> tuple[Rule, ...]:
        """Return the profile's rules when only the capabilities and allow/deny lists add to it (``_combine``)."""
        return _combine(self.u, self, cap_bits, cap_touched, allow_bits, deny_bits, deny_errno)

    def _kept(self) -> None:
        """Count a variant kept; past ``_VARIANTS``, every compiled template starts again."""
        if _KEPT.variants >= _VARIANTS:
            for compiled in _HOLDING_VARIANTS:
                compiled.variants.clear()
                compiled.errno_variants.clear()
            _HOLDING_VARIANTS.clear()
            _KEPT.variants = 0
        _HOLDING_VARIANTS.append(self)
        _KEPT.variants += 1


class _Additive:
    """A template's rules that add or take away names per capability, the way a capability map adds them.

    Docker's default allows ``reboot`` with CAP_SYS_BOOT, ``ptrace`` with CAP_SYS_PTRACE…:
    an unconditional ALLOW whose gate is capabilities it needs. When no conditional or
    refusing rule of the template names the same syscalls, first-wins cannot touch it,
    so its bits are simply OR-ed per container. Podman's default refuses
    ``open_by_handle_at`` with EPERM unless CAP_DAC_READ_SEARCH…: an unconditional
    refusal that capabilities drop. When no other rule that can apply with it names the
    same syscalls, it is in every compiled template, and a container with one of those capabilities
    takes its names out (as it would names it allows). The other ("structural") rules
    decide the compiled template, which then depends on few capabilities.
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
        # Refusals that only capabilities drop, naming what no other structural rule names: in every compiled template.
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
    """Per template: which capabilities its gates look at, its rules resolved per universe, its compiled templates."""

    __slots__ = ("_additive", "_rules", "compiled", "template")

    def __init__(self, template: Template) -> None:
        self.template = template
        self.compiled: dict[tuple[object, ...], _Compiled] = {}
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


class _Family:
    """Containers of one template on one host with the same options: they differ in capabilities only.

    Per capability set it keeps the compiled template (which depends on the few capabilities the
    template's structural rules look at: ``_Additive``), the syscall bits the capabilities
    unlock and the names of the compiled template's rules they take out, so a container costs a
    dictionary lookup before its own lists.
    """

    __slots__ = (
        "args", "compiled", "containers", "drop_tables", "gates", "nbytes", "near", "structural", "tables", "template",
    )  # fmt: skip

    def __init__(self, template: Template, args: _FamilyArgs, additive: _Additive, cmap: _CapMap) -> None:
        self.template = template
        self.args = args
        self.structural = additive.structural_caps
        self.tables = additive.tables_with(cmap)
        self.nbytes = len(self.tables)
        self.gates = additive.gates
        self.drop_tables = additive.drop_tables
        self.compiled: dict[int, _Compiled] = {}
        self.containers: dict[object, tuple[int, _Compiled, int, int]] = {}
        self.near = -1
        """The allow bits of the family's first compiled template: its containers' allow lists are written as that
        text's slices around the names that differ (``Universe.write``), one kept text per family, not per compiled
        template."""

    def add(self, given: object, caps: Iterable[Capability | str]) -> tuple[int, _Compiled, int, int]:
        """Work out and keep a capability set's bits, compiled template, capability syscall bits and touched bits.

        The touched bits are those of the compiled template's conditional and refusing rules the
        capabilities take out: the names they allow, and those of the refusals they drop.
        """
        capbits = given if type(given) is int else _capbits(caps)
        compiled = self.compiled.get(capbits & self.structural)
        if compiled is None:
            if len(self.compiled) >= _COMPILED_PER_TEMPLATE:
                self.compiled.clear()
            compiled = self.compiled[capbits & self.structural] = _compiled_for(self.template, capbits, *self.args)
            if self.near < 0:
                self.near = compiled.allow
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
        found = (capbits, compiled, cap_bits, touched & compiled.open)
        if _KEPT.sets >= _SETS_KEPT:
            for family in _FAMILIES.values():
                family.containers.clear()
            _KEPT.sets = 0
        self.containers[given] = found
        _KEPT.sets += 1
        return found


def _family(key: tuple[object, ...], template: Template, arch: Arch | str, options: tuple[Any, ...]) -> _Family:
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


def _compiled_for(
    template: Template,
    capbits: int,
    arch: Arch,
    kernel: tuple[int, int] | None,
    runtime: str | tuple[str, ...] | None,
    no_new_privileges: bool,
    errno_policy: ErrnoPolicy | None,
    default_action: Action | None,
    capability_map: str | None,
) -> _Compiled:
    """Return the (cached) compiled template for a container: what all but its own layers give."""
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
    compiled = info.compiled.get(key)
    if compiled is None:
        action, errno = _default(template, errno_policy, default_action)
        u = additive.u
        resolved = info.rules(u)
        selected = [resolved[i] for i, needs, drops in additive.structural if not (needs & ~capbits or drops & capbits)]
        runtime_part = _runtime(runtime, no_new_privileges, u) if runtime else None
        capmap = capability_map if capability_map is not None else template.capability_map
        compiled = _Compiled(u, template, selected, runtime_part, action, errno, _capmap(capmap, u))
        compiled.source = (info, additive, kernel)
        if len(info.compiled) >= _COMPILED_PER_TEMPLATE:
            info.compiled.clear()
        info.compiled[key] = compiled
    return compiled


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


def _rule_for_key(
    u: Universe, key: tuple[Action, int | None, tuple[Arg, ...]], bits: int, foreign: tuple[str, ...]
) -> Rule:
    if foreign:
        return Rule._trusted(tuple(sorted({*u.names_of(bits), *foreign})), *key)  # noqa: SLF001 - sorted, unique
    return Rule._from_bits(u, bits, *key)  # noqa: SLF001 - the key canonical


_SHARED: dict[tuple[Universe, tuple[Action, int | None, tuple[Arg, ...]], int], tuple[_SortKey, Rule]] = {}
"""Compiled templates' rules and what containers leave of them, one object per (key, names): those of one template
mostly share them, and containers that allow the same names the same remainder; each keeps its text."""


def _group_rules(u: Universe, groups: _Groups) -> list[tuple[_SortKey, Rule]]:
    out: list[tuple[_SortKey, Rule]] = []
    for key, (bits, foreign) in groups.items():
        if foreign:
            rule = _rule_for_key(u, key, bits, foreign)
            out.append((rule.sort_key()[:-1], rule))
            continue
        out.append(_shared(u, key, bits))
    out.sort(key=operator.itemgetter(0))
    return out


def _shared(u: Universe, key: tuple[Action, int | None, tuple[Arg, ...]], bits: int) -> tuple[_SortKey, Rule]:
    """Return the (kept) rule of ``key`` with the names of ``bits``, and its sort key: one object per value."""
    shared = _SHARED.get((u, key, bits))
    if shared is None:
        rule = _rule_for_key(u, key, bits, ())
        if len(_SHARED) >= _SHARED_KEPT:
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
    """Return the (key, bits) of the rules a simple compiled template gets for the calls ``refused`` (``mux_key``).

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


def _combine(
    u: Universe, compiled: _Compiled, cap_bits: int, cap_touched: int, allow_bits: int, deny_bits: int, deny_errno: int
) -> tuple[Rule, ...]:
    """Return the profile's rules when only the capabilities and allow/deny lists add to a trusted compiled template.

    ``cap_bits``: the names the capabilities allow; ``cap_touched``: those of the compiled template's
    own rules they take out (``_Family.add``).

    The rules are canonical (merged by key, names sorted, sorted), equal to what
    ``_combine_layers`` and ``Profile`` make of the same layers.
    """
    action = compiled.action
    errno = compiled.errno
    allow_bits |= compiled.allow | cap_bits
    log_bits = compiled.log & ~allow_bits
    decided = allow_bits | log_bits | deny_bits
    allowed = allow_bits & ~deny_bits
    log_bits &= ~deny_bits
    deny_rule = bool(deny_bits) and (action is not _ERRNO or errno != deny_errno)
    # Deciding more names only takes them out of the compiled template's own rules (conflicts and first-wins cannot
    # come back): what is left of them is the compiled template's variant for those names.
    out = [(rule.sort_key()[:-1], rule) for rule in compiled.variant(decided & compiled.open | cap_touched)[0]]
    if allowed:
        out.insert(0, (_ALLOW_KEY, Rule._from_bits(u, allowed, _ALLOW, None, (), compiled.allow)))  # noqa: SLF001
    if log_bits:
        log = _rule_for_key(u, (Action.LOG, None, ()), log_bits, ())
        bisect.insort(out, (log.sort_key()[:-1], log), key=operator.itemgetter(0))
    if deny_rule:
        key = (_ERRNO, deny_errno, ())
        names = u.names_of(deny_bits)
        for i, (_, rule) in enumerate(out):
            if rule.key() == key:  # the compiled template's own unconditional denies with that errno: one rule
                names = tuple(sorted({*names, *rule.names}))
                del out[i]
                break
        denied = Rule._trusted(names, *key)  # noqa: SLF001 - names sorted and unique
        bisect.insort(out, (denied.sort_key()[:-1], denied), key=operator.itemgetter(0))
    return tuple(r for _, r in out)


def _bits_of(rule: Rule) -> int:
    """Return the bits of one of a trusted compiled template's rules (all have them: no name is outside the tables)."""
    hint = rule._bits  # noqa: SLF001 - set by Rule._trusted
    assert hint is not None  # noqa: S101 - _Compiled.trusted checked there is no foreign name
    return hint[1]


@_caches.on_clear
def _clear() -> None:
    """Empty every cache of the fast path (``seccompose.clear_caches``), and the counts that bound them."""
    for cache in (_INTERNED, _CAP_BITS, _FAMILIES, _CAPMAPS, _RUNTIMES, _TEMPLATES, _SHARED, _MUX_RULES):
        cache.clear()
    _HOLDING_VARIANTS.clear()
    _KEPT.sets = 0
    _KEPT.variants = 0

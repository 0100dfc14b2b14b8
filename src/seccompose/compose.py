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

This module is the algebra, read top to bottom, ``compose`` last: alone it resolves every
layer and calls ``_compose_layers``; decorated (``_compose_fast.fast_path``), the fast path
answers first and hands the rest to ``_compose_layers`` here (every layer resolved on the
host's universe, ``_combine_layers``, ``Profile``'s canonicalisation, ``_multiplex``). The
fast path (``seccompose._compose_fast``) keeps what a template compiles to per set of the
capabilities its rules look at, and gives the common container (capabilities and allow/deny
lists on a shipped template) its profile from that in a few integer operations; it never
decides anything the algebra does not: ``tests/property/test_fast_paths.py`` pins its profiles
(rules, warnings, provenance) to this module's. The pieces both build on (layers resolved on a
universe, first-wins within a template, the multiplexers, provenance) live in
``seccompose._compose_parts``.

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

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from seccompose import _caches
from seccompose._compose_fast import container, fast_path
from seccompose._compose_parts import (
    _capset,
    _check_conflicts,
    _Explainer,
    _multiplex,
    _Part,
    _resolve_names,
    _Resolved,
)
from seccompose.actions import EPERM, Action
from seccompose.arch import Arch
from seccompose.caps import Capability
from seccompose.errors import ConflictError, InvalidArgumentError, UnknownSyscallError
from seccompose.loader import load_template
from seccompose.profile import Profile
from seccompose.rules import Rule
from seccompose.runtime import ALL_RUNTIMES
from seccompose.simplify import merge_conditions
from seccompose.syscalls import all_names
from seccompose.syscallset import Universe
from seccompose.templates import Gate, Template, template_from_profile

if TYPE_CHECKING:
    from seccompose._compose_fast import _Compiled


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


def _compose_layers(
    template: Template,
    compiled: _Compiled,
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
    """The algebra: the profile every layer gives, resolved on the host's universe and combined in layer order.

    ``compiled``: what the template, the capabilities' and the runtime's layers compile to
    for this container (``_compose_fast``; ``_Explainer`` reads their resolved rules back);
    ``cap``: the names the capabilities allow, and those of the template's own rules they
    take out. The caller's lists come as names and as bits (-1: a name outside the universe:
    they are resolved as layers here, with their warnings); then its rules and gated layers,
    the denies (each name with its family), the rules combined (``_combine_layers``) and
    canonicalised (``Profile``), and the multiplexers' calls settled (``_multiplex``). When no
    layer of the caller's is left and the compiled base is trusted, its own ``combine`` gives
    the same rules from bits.
    """
    u = compiled.u
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

    explain = _Explainer(compiled, capbits, allow_bits, deny_bits, union, denies)
    fields = (compiled.architectures, compiled.flags, template.listener_path, template.listener_metadata)
    warned = tuple(sorted({*compiled.warnings, *warnings})) if warnings else compiled.warnings
    if compiled.trusted and not union and not denies:
        rules_ = compiled.combine(*cap, allow_bits, deny_bits, deny_errno)
        profile = Profile._trusted(  # noqa: SLF001 - canonical by construction, the default checked by _Compiled
            compiled.action, compiled.errno, fields[0], rules_, fields[1], fields[2], fields[3], warned, explain
        )
    else:
        # The general case: the caller's own rules and layers, names outside the tables, conflicts to report.
        rules_ = tuple(_combine_layers(u, *explain.layers(), compiled.action, compiled.errno, deny_errno))
        # Where the caller's rules add conditions, the fewest rules that give the same verdicts (simplify.py).
        conditioned = {n for part in union for r in part.others if r.rule.args for n in r.rule.names}
        rules_ = (merge_conditions(rules_, conditioned) if conditioned else None) or rules_
        profile = Profile(
            compiled.action, compiled.errno, fields[0], rules_, fields[1], fields[2], fields[3], warned, explain
        )
    # The multiplexers' calls, on the canonical rules (one verdict per name, as the runtime reads them).
    default = (compiled.action, compiled.errno)
    muxed = _multiplex(u, fields[0], profile.rules, default, family_denied, foreign_denied, deny_errno, strict=strict)
    if muxed.rules is None and not muxed.warnings:
        return profile
    warned = tuple(sorted({*warned, *muxed.warnings}))
    rules_ = profile.rules if muxed.rules is None else tuple(muxed.rules)
    return Profile(compiled.action, compiled.errno, fields[0], rules_, fields[1], fields[2], fields[3], warned, explain)


def _deny_part(u: Universe, layer: Layer, warnings: list[str], location: str, foreign: set[str]) -> _Part:
    """A deny layer resolved on ``u``: each name with its family (unless ``layer.exact``).

    Denied names no ABI of the host has join ``foreign``: a multiplexer may run them.
    """
    resolved = _resolve(u, layer, warnings, location)
    if layer.exact:
        return _Part(resolved)
    foreign.update(n for r in layer.rules for n in r.names if n not in u.index)
    return _Part([_Resolved(r.label, r.rule, u.expand(r.bits), r.foreign) for r in resolved])


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
    ``_compose_fast._combine`` is its fast path.
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


def _resolve(u: Universe, layer: Layer, warnings: list[str], location: str) -> list[_Resolved]:
    """Resolve each rule of ``layer`` on ``u`` (conditions that test nothing dropped: ``_simplified``)."""
    out = []
    for i, given in enumerate(layer.rules):
        rule = _simplified(given, layer, warnings, f"{location}[{i}]") if given.args else given
        where = location if len(layer.rules) == 1 else f"{location}[{i}].names"
        out.append(_resolve_names(u, layer.label, rule, warnings, where, strict=layer.strict))
    return out


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
    dropped = " and ".join(a.describe() for a in rule.args if a not in simpler.args)
    if not simpler.args:
        warnings.append(
            f"{where}: every condition of the rule for {names} holds for every value ({dropped}); write it without "
            f"conditions if that is what is meant (while a rule has conditions, the kernel cannot cache {names})"
        )
        return rule
    warnings.append(f"{where}: {dropped} holds for every value; dropped from the rule for {names}")
    return simpler


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


_NAMED: dict[str, Template] = _caches.dict_cache()
"""Shipped templates by name: ``load_template`` checks the file exists on every call, this skips it."""


def _template_from(base: str | Path | Template | Profile | None) -> Template:
    """Return the template a profile starts from: ``compose``'s ``base``."""
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


@fast_path(general=_compose_layers, template_from=_template_from, named=_NAMED)
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
    # The algebra alone (``compose.__wrapped__``): the decorator runs the fast path, which gives the same profiles.
    template = _template_from(base)
    options = (kernel, runtime, no_new_privileges, errno_policy, default_action, capability_map)
    capbits, compiled, cap_bits, cap_touched = container(template, arch, caps, options)
    allow, deny = tuple(allow), tuple(deny)
    return _compose_layers(
        template, compiled, capbits, (cap_bits, cap_touched), allow, deny, -1 if allow else 0, -1 if deny else 0,
        tuple(rules), layers, deny_errno, kernel, tuple(deny_exact), strict_multiplexers,
    )  # fmt: skip


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


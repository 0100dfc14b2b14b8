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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from seccompose.actions import ENOSYS, EPERM, Action
from seccompose.arch import Arch
from seccompose.caps import Capability
from seccompose.errors import ConflictError, InvalidActionError, UnknownSyscallError
from seccompose.profile import Flag, Profile, Provenance, first_wins, verdict_from_rules
from seccompose.rules import Rule
from seccompose.syscalls import all_names
from seccompose.syscallset import Universe, universe
from seccompose.templates import Gate, Template, load_template, template_from_profile

__all__ = ["ErrnoPolicy", "Layer", "compose"]

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


@dataclass(frozen=True, slots=True)
class _Resolved:
    label: str
    rule: Rule
    bits: int
    foreign: tuple[str, ...]


def _resolve(u: Universe, layer: Layer, warnings: list[str], location: str) -> list[_Resolved]:
    known = None
    out = []
    for i, rule in enumerate(layer.rules):
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


def _check_names(u: Universe, names: Sequence[str], location: str) -> None:
    """Name the first unknown syscall by its position in the user's own list."""
    known = None
    for i, name in enumerate(names):
        if name not in u.index:
            known = all_names() if known is None else known
            if name not in known:
                raise UnknownSyscallError(name, location=f"{location}[{i}]", choices=sorted(known))


def _base(base: str | Path | Template | Profile | None) -> Template:
    if base is None:
        return Template(name="empty")
    if isinstance(base, Template):
        return base
    if isinstance(base, Profile):
        return template_from_profile(base)
    return load_template(base)


def _capability_names(capmap: str, cap: Capability, arch: Arch) -> tuple[str, ...]:
    from seccompose.caps import load_capability_map

    return tuple(load_capability_map(capmap).syscalls(cap, arch=arch))


def _runtime_names(runtime: str, no_new_privileges: bool, arch: Arch) -> tuple[str, ...]:
    from seccompose.runtime import runtime_base

    return tuple(sorted(runtime_base(runtime, no_new_privileges=no_new_privileges, arch=arch)))


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
    arch: Arch,
    caps: Iterable[Capability | str] = (),
    allow: Iterable[str] = (),
    deny: Iterable[str] = (),
    rules: Iterable[Rule] = (),
    layers: Iterable[Layer] = (),
    errno_policy: ErrnoPolicy | None = None,
    default_action: Action | None = None,
    deny_errno: int = EPERM,
    runtime: str | None = "runc",
    no_new_privileges: bool = True,
    capability_map: str | None = None,
    kernel: tuple[int, int] | None = None,
) -> Profile:
    """Compose the seccomp profile of one container on an ``arch`` host.

    Args:
        base: a template name (``"default"``, ``"nginx"``), a template/profile file, a
            ``Template`` or a ``Profile``; None: an empty base.
        arch: the host architecture; the profile covers every ABI it runs.
        caps: the container's capabilities (``"NET_ADMIN"``, ``"CAP_NET_ADMIN"`` or ``Capability``).
        allow: syscall names to allow (a runtime rule).
        deny: syscall names to deny; deny wins over every other layer.
        rules: extra rules (e.g. conditional allows) added as one layer.
        layers: extra layers (policies' runtime rules), each with its own label and gate.
        errno_policy: ``"eperm"`` or ``"enosys"``; None: the template's default, else eperm.
        default_action: override the action for unnamed syscalls (e.g. ``Action.LOG`` to learn).
        deny_errno: the errno denied syscalls return when it differs from the default's.
        runtime: add the base set of this OCI runtime (``"runc"``, ``"crun"``); None: don't.
        no_new_privileges: which base set of the runtime to add.
        capability_map: ``"docker"`` or ``"kernel"``; None: the template's choice.
        kernel: host kernel (major, minor) for templates gated on ``minKernel``; None: newest.

    Returns:
        The canonical profile, with ``warnings`` and per-syscall provenance.

    Raises:
        UnknownSyscallError: a name in ``allow``/``deny`` exists on no arch (did-you-mean).
        InvalidCapabilityError: an unknown capability.
        ConflictError: two layers give the same syscall different deny actions.

    >>> p = compose(arch=Arch.AARCH64, allow=["open", "openat"], runtime=None)
    >>> sorted(p.allowed()), p.warnings
    (['openat'], ("'open' does not exist on aarch64; skipped (allow)",))
    """
    template = _base(base)
    capset = frozenset(c if isinstance(c, Capability) else Capability.parse(c, location="caps") for c in caps)
    action, errno = _default(template, errno_policy, default_action)
    u = universe(arch)
    warnings: list[str] = []

    union: list[_Resolved] = []
    denies: list[_Resolved] = []
    tlabel = f"template:{template.name}"
    selected = [tr for tr in template.rules if tr.gate.passes(arch, capset, kernel)]
    if selected:
        # Inside one template the runtime's reading holds: the first unconditional verdict wins.
        t_rules = first_wins((tr.rule for tr in selected), action, errno)
        t_layer = Layer(tlabel, tuple(t_rules), strict=False)
        union += _resolve(u, t_layer, warnings, "base.rules")
    capmap = capability_map if capability_map is not None else template.capability_map
    if capmap:
        for cap in sorted(capset):
            names = _capability_names(capmap, cap, arch)
            if names:
                union += _resolve(u, Layer(f"capability:{cap.name}", (Rule(names),)), warnings, "caps")
    if runtime:
        union += _resolve(
            u,
            Layer(f"runtime:{runtime}", (Rule(_runtime_names(runtime, no_new_privileges, arch)),)),
            warnings,
            "runtime",
        )
    allow = list(allow)
    deny = list(deny)
    _check_names(u, allow, "allow")
    _check_names(u, deny, "deny")
    if allow:
        union += _resolve(u, Layer("allow", (Rule(tuple(allow)),)), warnings, "allow")
    extra = tuple(rules)
    if extra:
        union += _resolve(u, Layer("rule", extra), warnings, "rules")
    for k, layer in enumerate(layers):
        if not layer.gate.passes(arch, capset, kernel):
            continue
        (denies if layer.deny else union).extend(_resolve(u, layer, warnings, f"layers[{k}].rules"))
    if deny:
        denies += _resolve(u, Layer("deny", (Rule(tuple(deny)),), deny=True), warnings, "deny")

    profile_rules = _combine(u, union, denies, action, errno, deny_errno)
    architectures = template.architectures_for(arch)
    flags = tuple(Flag(f) for f in template.flags)
    explain = _Explainer(u, tuple(union), tuple(denies))
    profile = Profile(
        action,
        errno,
        architectures,
        tuple(profile_rules),
        flags,
        template.listener_path,
        template.listener_metadata,
        tuple(sorted(set(warnings))),
        None,
    )
    explain.profile = profile
    object.__setattr__(profile, "_explain", explain)
    return profile


def _combine(
    u: Universe,
    union: Sequence[_Resolved],
    denies: Sequence[_Resolved],
    action: Action,
    errno: int | None,
    deny_errno: int,
) -> list[Rule]:
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


class _Explainer:
    """Lazily works out which layers decided a syscall (kept off the hot path)."""

    __slots__ = ("denies", "profile", "u", "union")

    def __init__(self, u: Universe, union: tuple[_Resolved, ...], denies: tuple[_Resolved, ...]) -> None:
        self.u = u
        self.union = union
        self.denies = denies
        self.profile: Profile | None = None

    def __call__(self, name: str) -> Provenance:
        assert self.profile is not None  # noqa: S101 - set by compose before the profile is returned
        bit = self.u.index.get(name)

        def has(r: _Resolved) -> bool:
            return (bit is not None and bool(r.bits >> bit & 1)) or name in r.foreign

        deniers = tuple(dict.fromkeys(r.label for r in self.denies if has(r)))
        if deniers:
            p = verdict_from_rules(self.profile, name, deniers)
            return Provenance(name, "denied", p.action, p.errno, deniers)
        verdict = verdict_from_rules(self.profile, name, ())
        if verdict.verdict == "allowed":
            labels = tuple(
                dict.fromkeys(r.label for r in self.union if has(r) and not r.rule.args and r.rule.action.allows)
            )
        elif verdict.verdict == "default":
            return verdict
        else:
            labels = tuple(dict.fromkeys(r.label for r in self.union if has(r)))
        return Provenance(name, verdict.verdict, verdict.action, verdict.errno, labels, verdict.conditions)

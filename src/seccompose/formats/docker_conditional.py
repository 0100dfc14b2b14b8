"""A capability-conditional Docker-format profile: one file for an engine's default, like Docker's ``default.json``.

Docker's ``daemon.json`` ``seccomp-profile``, Podman's ``containers.conf`` ``seccomp_profile``
and CRI-O's ``seccomp_profile`` take one profile for every container; the engine keeps, per
container, the rules whose ``includes.caps`` it has all of and whose ``excludes.caps`` it
has none of. :func:`conditional_dict` writes such a profile so that the engine's rendering
for a container with capabilities ``S`` is exactly ``compose(base, caps=S, ...)``:

- the rules of the composition with no capabilities, each name that some capability takes
  away (a conditional rule an unconditional one replaces, e.g. ``clone``'s namespace flags
  under CAP_SYS_ADMIN) in a rule ``excludes: {caps: [those capabilities]}``;
- per capability, the rules it adds, under ``includes: {caps: [it]}``.

That holds because a composition is additive per capability (templates gate rules on one
capability at a time, and the capability maps add names per capability); the tests check it
against the engines' own rendering for random capability sets.

>>> from seccompose.arch import Arch
>>> doc = conditional_dict("default", arch=Arch.X86_64)
>>> [r["names"] for r in doc["syscalls"] if r.get("includes") == {"caps": ["CAP_SYS_BOOT"]}]
[['reboot']]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from seccompose.arch import Arch
from seccompose.caps import Capability, all_capabilities
from seccompose.formats import oci
from seccompose.profile import Profile
from seccompose.rules import Rule
from seccompose.templates import Template

__all__ = ["conditional_dict"]

_Key = tuple[str, int | None, tuple[Any, ...]]


def _keyed(profile: Profile) -> dict[_Key, set[str]]:
    out: dict[_Key, set[str]] = {}
    for rule in profile.rules:
        out.setdefault((rule.action.value, rule.errno, rule.args), set()).update(rule.names)
    return out


def _entry(key: _Key, names: Iterable[str], gate: dict[str, Any] | None) -> dict[str, Any]:
    action, errno, args = key
    from seccompose.actions import Action

    entry = oci.rule_to_dict(Rule(tuple(names), Action(action), errno, args))
    if gate:
        entry.update(gate)
    return entry


def conditional_dict(
    base: str | Path | Template | Profile | Sequence[str | Path | Template | Profile] | None = "default",
    *,
    arch: Arch | str,
    allow: Iterable[str] = (),
    deny: Iterable[str] = (),
    deny_exact: Iterable[str] = (),
    strict_multiplexers: bool = False,
    errno_policy: str | None = None,
    runtime: str | None = "runc,crun",
    no_new_privileges: bool = False,
    kernel: tuple[int, int] | None = None,
    capabilities: Iterable[Capability] | None = None,
) -> dict[str, Any]:
    """Return a Docker-format profile whose rules are gated on capabilities as the engines gate them.

    Args:
        base: the template (``"default"``, an app template, a file), or several: their union per
            capability set (``compose.union_template``).
        arch: the host arch the profile is for (its ABIs go in ``archMap``).
        allow: names every container gets.
        deny: names no container gets, whatever its capabilities (each with its family, as ``compose``).
        deny_exact: names denied as named only (``compose(deny_exact=...)``).
        strict_multiplexers: refuse socketcall/ipc outright where a call keeps conditions (``compose``).
        errno_policy: ``"eperm"`` or ``"enosys"``; None: the template's.
        runtime: the OCI runtimes whose start-up sets every container gets (``runc``, ``crun``, ``runc,crun``).
        no_new_privileges: which of the runtime's start-up sets.
        kernel: the host kernel (major, minor) for kernel-gated template rules.
        capabilities: the capabilities to write conditions for (default: every one the kernel has).

    Raises:
        SeccomposeError: the base or a name cannot be composed (as ``compose`` raises).
    """
    from seccompose.compose import compose, union_template
    from seccompose.formats import docker

    allow, deny, deny_exact = tuple(allow), tuple(deny), tuple(deny_exact)
    several = not isinstance(base, (str, Path, Template, Profile)) and base is not None
    if several and len(base) == 1:  # type: ignore[arg-type]
        base, several = base[0], False  # type: ignore[index]

    def one(caps: Iterable[Capability]) -> Profile:
        caps = tuple(caps)
        from_ = base
        if several:  # the union for this capability set
            from_ = union_template(base, arch=arch, caps=caps, errno_policy=errno_policy, kernel=kernel)  # type: ignore[arg-type]
        return compose(
            from_,  # type: ignore[arg-type]
            arch=arch,
            caps=caps,
            allow=allow,
            deny=deny,
            deny_exact=deny_exact,
            strict_multiplexers=strict_multiplexers,
            errno_policy=errno_policy,  # type: ignore[arg-type]  # checked by compose
            runtime=runtime,
            no_new_privileges=no_new_privileges,
            kernel=kernel,
        )

    empty = one(())
    base_rules = _keyed(empty)
    removed_by: dict[tuple[_Key, str], set[str]] = {}
    added: list[tuple[Capability, _Key, set[str]]] = []
    for cap in sorted(all_capabilities() if capabilities is None else set(capabilities)):
        rules = _keyed(one((cap,)))
        for key, names in base_rules.items():
            for name in names - rules.get(key, set()):
                removed_by.setdefault((key, name), set()).add(cap.name)
        for key, names in rules.items():
            extra = names - base_rules.get(key, set())
            if extra:
                added.append((cap, key, extra))
    doc = docker.to_dict(Profile(empty.default_action, empty.default_errno, empty.architectures), arch_map=True)
    syscalls: list[dict[str, Any]] = []
    for key in sorted(base_rules, key=lambda k: (k[0] != "SCMP_ACT_ALLOW", k[0], k[1] or 0, repr(k[2]))):
        groups: dict[tuple[str, ...], list[str]] = {}
        for name in sorted(base_rules[key]):
            groups.setdefault(tuple(sorted(removed_by.get((key, name), ()))), []).append(name)
        for caps, group in sorted(groups.items()):
            syscalls.append(_entry(key, group, {"excludes": {"caps": list(caps)}} if caps else None))
    for cap, key, extra in added:
        syscalls.append(_entry(key, sorted(extra), {"includes": {"caps": [cap.name]}}))
    doc["syscalls"] = syscalls
    return doc

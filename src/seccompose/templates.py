"""Templates: the first layer of a composition (an app's syscalls, or the generic default).

A template is data (``data/templates/NAME.json``, format in
``docs/reference/template-format.md``): rules, each optionally gated on the host
arch, the container's capabilities and the kernel version, exactly as Docker
gates the rules of its profiles.

>>> t = Template.from_dict({"schema": 1, "name": "demo", "rules": [
...     {"names": ["read", "write"]},
...     {"names": ["mount"], "includes": {"caps": ["CAP_SYS_ADMIN"]}}]})
>>> [r.rule.names for r in t.rules]
[('read', 'write'), ('mount',)]
>>> t.rules[1].gate.passes(Arch.X86_64, frozenset())
False
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from seccompose.actions import Action, parse_errno
from seccompose.arch import Arch
from seccompose.caps import Capability
from seccompose.errors import FormatError, InvalidProfileError, SeccomposeError
from seccompose.phases import Startup
from seccompose.profile import Profile
from seccompose.rules import Rule

__all__ = [
    "Gate",
    "Template",
    "TemplateRule",
    "template_from_profile",
    "with_gate_fields",
]

_KERNEL_NEWEST: Final = (1 << 16, 0)


def parse_kernel(text: str, *, location: str | None = None) -> tuple[int, int]:
    """Return (major, minor) of a kernel version such as ``"6.18.44-fc"``; engines compare only these.

    Raises:
        InvalidProfileError: not a version.

    >>> parse_kernel("4.8"), parse_kernel("6.18.44-fc-v657")
    ((4, 8), (6, 18))
    """
    parts = str(text).strip().split(".")
    try:
        # int() takes "-1" and "+1"; a version does not
        major = int(parts[0]) if parts[0].isascii() and parts[0].isdigit() else int("x")
        minor = int("".join(c for c in parts[1].split("-")[0] if c.isdigit()) or "x") if len(parts) > 1 else 0
    except ValueError:
        raise InvalidProfileError(
            f"{text!r} is not a kernel version; write it as MAJOR.MINOR, e.g. '5.8'", location=location
        ) from None
    return (major, minor)


@dataclass(frozen=True, slots=True)
class Gate:
    """When a template rule applies: host arch, capabilities (all of includes, none of excludes), kernel."""

    arches: frozenset[Arch] = frozenset()
    """Host arches the rule applies to; empty: all."""
    excluded_arches: frozenset[Arch] = frozenset()
    includes_caps: frozenset[Capability] = frozenset()
    excludes_caps: frozenset[Capability] = frozenset()
    min_kernel: tuple[int, int] | None = None
    """The rule applies from this kernel (major, minor) on (Docker's ``includes.minKernel``)."""
    below_kernel: tuple[int, int] | None = None
    """The rule applies only below this kernel (Docker's ``excludes.minKernel``)."""

    def passes(self, arch: Arch, caps: frozenset[Capability], kernel: tuple[int, int] | None = None) -> bool:
        """Whether the rule applies to a container on an ``arch`` host with ``caps`` on ``kernel``.

        ``kernel=None`` means a kernel newer than any gate names.
        """
        if self.arches and arch not in self.arches:
            return False
        if arch in self.excluded_arches:
            return False
        if not self.includes_caps <= caps:
            return False
        if self.excludes_caps and not self.excludes_caps.isdisjoint(caps):
            return False
        k = kernel or _KERNEL_NEWEST
        if self.min_kernel is not None and k < self.min_kernel:
            return False
        return not (self.below_kernel is not None and k >= self.below_kernel)

    @property
    def on_caps(self) -> bool:
        """Whether the gate depends on capabilities."""
        return bool(self.includes_caps or self.excludes_caps)

    def meet(self, other: Gate) -> Gate | None:
        """Return the gate that passes where both ``self`` and ``other`` pass (None: nowhere).

        >>> from seccompose.caps import Capability
        >>> both = Gate(arches=frozenset({Arch.X86_64})).meet(Gate(excludes_caps=frozenset({Capability("CAP_BPF")})))
        >>> sorted(both.arches), sorted(c.name for c in both.excludes_caps)
        ([<Arch.X86_64: 'x86_64'>], ['CAP_BPF'])
        >>> Gate(min_kernel=(5, 8)).meet(Gate(below_kernel=(5, 8))) is None
        True
        """
        arches = self.arches & other.arches if self.arches and other.arches else self.arches or other.arches
        excluded = self.excluded_arches | other.excluded_arches
        inc, exc = self.includes_caps | other.includes_caps, self.excludes_caps | other.excludes_caps
        lows = [k for k in (self.min_kernel, other.min_kernel) if k is not None]
        highs = [k for k in (self.below_kernel, other.below_kernel) if k is not None]
        low, high = (max(lows) if lows else None), (min(highs) if highs else None)
        if (
            ((self.arches or other.arches) and not arches)
            or (arches and arches <= excluded)
            or (inc & exc)
            or (low is not None and high is not None and low >= high)
        ):
            return None
        return Gate(arches - excluded if arches else arches, excluded, inc, exc, low, high)

    def negation(self) -> tuple[Gate, ...]:
        """Return gates of which at least one passes exactly where ``self`` does not (empty: it always passes).

        >>> [g.below_kernel for g in Gate(min_kernel=(5, 8)).negation()]
        [(5, 8)]
        """
        out = []
        if self.arches:
            out.append(Gate(excluded_arches=self.arches))
        if self.excluded_arches:
            out.append(Gate(arches=self.excluded_arches))
        out += [Gate(excludes_caps=frozenset({c})) for c in sorted(self.includes_caps)]
        out += [Gate(includes_caps=frozenset({c})) for c in sorted(self.excludes_caps)]
        if self.min_kernel is not None:
            out.append(Gate(below_kernel=self.min_kernel))
        if self.below_kernel is not None:
            out.append(Gate(min_kernel=self.below_kernel))
        return tuple(out)


@dataclass(frozen=True, slots=True)
class TemplateRule:
    """A rule of a template and the gate that decides when it applies."""

    rule: Rule
    gate: Gate = Gate()
    comment: str = ""


@dataclass(frozen=True, slots=True)
class Template:
    """An app template or the generic default: gated rules plus metadata."""

    name: str
    rules: tuple[TemplateRule, ...] = ()
    description: str = ""
    images: tuple[str, ...] = ()
    capability_map: str | None = "docker"
    """Which capability map compose adds (None: the template gates capabilities itself)."""
    default_action: Action | None = None
    default_errno: int | None = None
    provenance: tuple[tuple[str, str], ...] = ()
    architectures: tuple[Arch, ...] | None = None
    """A fixed ``architectures`` list (from a profile file); None: the host's ABIs."""
    arch_map: tuple[tuple[Arch, tuple[Arch, ...]], ...] = ()
    """Docker's ``archMap``: host arch -> its sub-architectures; only the host's entry is used."""
    flags: tuple[str, ...] = ()
    listener_path: str | None = None
    listener_metadata: str | None = None
    startup: Startup | None = None
    """Syscalls needed only while the container starts (``phases.startup``): see ``seccompose.phases``."""
    looser_than_default: tuple[tuple[str, str], ...] = ()
    """Syscalls the template may allow beyond what ``default`` allows the same container (arguments
    included), each with the reason: the only way a template may be looser than the default."""
    source: str = field(default="", compare=False)

    def architectures_for(self, arch: Arch) -> tuple[Arch, ...]:
        """Return the ``architectures`` a profile for an ``arch`` host gets from this template."""
        if self.architectures is not None:
            return self.architectures
        if self.arch_map:
            for host, subs in self.arch_map:
                if host is arch:
                    return (host, *subs)
            return ()
        return arch.abis

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], *, source: str = "") -> Template:
        """Build a template from its JSON document, checking every field.

        Raises:
            InvalidProfileError: a field is missing or wrong (with its JSON path and the file).
        """
        try:
            return _template(doc, source)
        except SeccomposeError as exc:
            if isinstance(exc, FormatError) and not exc.source and source:
                raise InvalidProfileError(str(exc.args[0]), source=source) from None
            raise

    def to_dict(self) -> dict[str, Any]:
        """Return the template as its JSON document (the inverse of ``from_dict``)."""
        from seccompose.formats.oci import rule_to_dict

        rules = []
        for tr in self.rules:
            item = rule_to_dict(tr.rule)
            g = tr.gate
            if g.arches:
                item["arches"] = sorted(a.value for a in g.arches)
            inc: dict[str, Any] = {}
            exc: dict[str, Any] = {}
            if g.includes_caps:
                inc["caps"] = [c.name for c in sorted(g.includes_caps)]
            if g.min_kernel:
                inc["minKernel"] = "{}.{}".format(*g.min_kernel)
            if g.excluded_arches:
                exc["arches"] = sorted(a.value for a in g.excluded_arches)
            if g.excludes_caps:
                exc["caps"] = [c.name for c in sorted(g.excludes_caps)]
            if g.below_kernel:
                exc["minKernel"] = "{}.{}".format(*g.below_kernel)
            rules.append(with_gate_fields(item, inc, exc, tr.comment))
        out: dict[str, Any] = {"schema": 1, "name": self.name}
        if self.description:
            out["description"] = self.description
        if self.images:
            out["images"] = list(self.images)
        out["capabilityMap"] = self.capability_map
        if self.default_action is not None:
            out["defaultAction"] = self.default_action.value
        if self.default_errno is not None:
            out["defaultErrnoRet"] = self.default_errno
        if self.provenance:
            out["provenance"] = dict(self.provenance)
        if self.startup is not None:
            out["phases"] = {"startup": self.startup.to_dict()}
        if self.looser_than_default:
            out["looserThanDefault"] = dict(self.looser_than_default)
        out["rules"] = rules
        return out

    def names(self, arch: Arch | None = None) -> frozenset[str]:
        """Return every name the template's allowing rules mention (for ``arch`` only, if given)."""
        return frozenset(
            n
            for tr in self.rules
            if tr.rule.action.allows and (arch is None or not tr.gate.arches or arch in tr.gate.arches)
            for n in tr.rule.names
        )


def _gate(raw: object, location: str) -> tuple[frozenset[Arch], frozenset[Capability], tuple[int, int] | None]:
    if raw is None:
        return frozenset(), frozenset(), None
    if not isinstance(raw, Mapping):
        raise InvalidProfileError("must be an object with caps, arches, minKernel", location=location)
    unknown = set(raw) - {"caps", "arches", "minKernel"}
    if unknown:
        raise InvalidProfileError(
            f"unknown field {min(unknown)!r}; use caps, arches, minKernel", location=location
        )
    arches = frozenset(
        Arch.parse(a, location=f"{location}.arches[{i}]") for i, a in enumerate(_strings(raw, "arches", location))
    )
    caps = frozenset(
        Capability.parse(c, location=f"{location}.caps[{i}]") for i, c in enumerate(_strings(raw, "caps", location))
    )
    kernel = raw.get("minKernel")
    return arches, caps, (parse_kernel(kernel, location=f"{location}.minKernel") if kernel else None)


def _strings(raw: Mapping[str, Any], key: str, location: str) -> list[str]:
    value = raw.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidProfileError(f"{key} must be an array of strings", location=f"{location}.{key}")
    return value


def with_gate_fields(
    item: dict[str, Any], includes: dict[str, Any], excludes: dict[str, Any], comment: str
) -> dict[str, Any]:
    """Return a rule's JSON object with its ``includes``, ``excludes`` and ``comment``, each only when not empty.

    The tail both gated documents share: a template's rule (``Template.to_dict``) and a
    Docker/Podman rule (``docker_profile.export_conditional``); each fills the gates its way.

    >>> with_gate_fields({"names": ["mount"]}, {"caps": ["CAP_SYS_ADMIN"]}, {}, "")
    {'names': ['mount'], 'includes': {'caps': ['CAP_SYS_ADMIN']}}
    """
    if includes:
        item["includes"] = includes
    if excludes:
        item["excludes"] = excludes
    if comment:
        item["comment"] = comment
    return item


def _template(doc: Mapping[str, Any], source: str) -> Template:
    from seccompose.formats.oci import rule_from_dict as _rule

    if not isinstance(doc, Mapping):
        raise InvalidProfileError("a template must be a JSON object", location="$", source=source or None)
    if doc.get("schema") != 1:
        raise InvalidProfileError(
            f"schema must be 1, not {doc.get('schema')!r} (is this a template file?)", location="schema"
        )
    name = doc.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidProfileError("name must be a non-empty string", location="name")
    known = {
        "schema", "name", "description", "images", "capabilityMap", "defaultAction",
        "defaultErrnoRet", "provenance", "looserThanDefault", "rules", "phases",
    }  # fmt: skip
    unknown = set(doc) - known
    if unknown:
        raise InvalidProfileError(f"unknown field {min(unknown)!r}; template fields are {sorted(known)}")
    capmap = doc.get("capabilityMap", "docker")
    if capmap not in ("docker", "kernel", None):
        raise InvalidProfileError(
            f"capabilityMap must be 'docker', 'kernel' or null, not {capmap!r}", location="capabilityMap"
        )
    action = Action.parse(doc["defaultAction"], location="defaultAction") if doc.get("defaultAction") else None
    errno = parse_errno(doc["defaultErrnoRet"], location="defaultErrnoRet") if "defaultErrnoRet" in doc else None
    raw_rules = doc.get("rules", [])
    if not isinstance(raw_rules, list):
        raise InvalidProfileError("rules must be an array", location="rules")
    rules = []
    for i, raw in enumerate(raw_rules):
        loc = f"rules[{i}]"
        if not isinstance(raw, Mapping):
            raise InvalidProfileError("a rule must be an object", location=loc)
        extra = set(raw) - {"names", "action", "errnoRet", "args", "arches", "includes", "excludes", "comment"}
        if extra:
            raise InvalidProfileError(f"unknown field {min(extra)!r} in a template rule", location=loc)
        core = {k: raw[k] for k in ("names", "action", "errnoRet", "args") if k in raw}
        core.setdefault("action", Action.ALLOW.value)
        rule = _rule(core, loc)
        arches = frozenset(
            Arch.parse(a, location=f"{loc}.arches[{j}]") for j, a in enumerate(_strings(raw, "arches", loc))
        )
        inc_arches, inc_caps, min_kernel = _gate(raw.get("includes"), f"{loc}.includes")
        exc_arches, exc_caps, below_kernel = _gate(raw.get("excludes"), f"{loc}.excludes")
        gate = Gate(arches | inc_arches, exc_arches, inc_caps, exc_caps, min_kernel, below_kernel)
        comment = raw.get("comment", "")
        rules.append(TemplateRule(rule, gate, comment if isinstance(comment, str) else ""))
    images = doc.get("images", [])
    if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
        raise InvalidProfileError("images must be an array of image globs (strings)", location="images")
    description = doc.get("description", "")
    if not isinstance(description, str):
        raise InvalidProfileError("description must be a string", location="description")
    startup = _phases(doc.get("phases"))
    prov = doc.get("provenance", {})
    if not isinstance(prov, Mapping):
        raise InvalidProfileError("provenance must be an object", location="provenance")
    return Template(
        name=name,
        rules=tuple(rules),
        description=description,
        images=tuple(images),
        capability_map=capmap,
        default_action=action,
        default_errno=errno,
        provenance=tuple((str(k), str(v)) for k, v in prov.items()),
        startup=startup,
        looser_than_default=_exceptions(doc.get("looserThanDefault", {})),
        source=source,
    )


def _phases(raw: object) -> Startup | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or set(raw) - {"startup"}:
        raise InvalidProfileError('phases must be an object with one key, "startup"', location="phases")
    if "startup" not in raw:
        return None
    startup = Startup.from_dict(raw["startup"])
    from seccompose.errors import UnknownSyscallError
    from seccompose.syscalls import all_names

    known = all_names()
    for i, name in enumerate(startup.names):
        if name not in known:
            raise UnknownSyscallError(name, location=f"phases.startup.names[{i}]", choices=sorted(known))
    return startup
def _exceptions(raw: object) -> tuple[tuple[str, str], ...]:
    """``looserThanDefault``: syscall name -> the reason the template allows more than ``default`` there."""
    from seccompose.errors import UnknownSyscallError
    from seccompose.syscalls import all_names

    if not isinstance(raw, Mapping):
        raise InvalidProfileError(
            "looserThanDefault must be an object: syscall name -> why the template allows more than default",
            location="looserThanDefault",
        )
    out = []
    for name, reason in raw.items():
        where = f"looserThanDefault.{name}"
        if name not in all_names():
            raise UnknownSyscallError(str(name), location=where, choices=sorted(all_names()))
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidProfileError(
                "each exception needs its reason: a non-empty string saying why the template needs more than "
                "default allows",
                location=where,
            )
        out.append((str(name), reason.strip()))
    return tuple(sorted(out))


def template_from_profile(profile: Profile, *, name: str = "profile") -> Template:
    """Return a profile as a template: its rules ungated; its arches, default action and flags kept.

    >>> from seccompose.profile import Profile
    >>> from seccompose.rules import Rule
    >>> template_from_profile(Profile(rules=(Rule(("read",)),))).rules[0].rule.names
    ('read',)
    """
    return Template(
        name=name,
        rules=tuple(TemplateRule(r) for r in profile.rules),
        capability_map="docker",
        default_action=profile.default_action,
        default_errno=profile.default_errno,
        architectures=profile.architectures or None,
        flags=tuple(f.value for f in profile.flags),
        listener_path=profile.listener_path,
        listener_metadata=profile.listener_metadata,
    )

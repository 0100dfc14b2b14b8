"""The Docker profile format (``docker run --security-opt seccomp=FILE``; also Podman, kubelet).

Writing: a ``Profile`` becomes a Docker profile with ``architectures`` (or, with
``arch_map=True``, an ``archMap`` entry for its host arch), rules with ``names``.
Reading: a profile without capability/arch/kernel conditions becomes a ``Profile``
directly; a conditional one (``includes``/``excludes``, ``archMap``) needs the
container it is for, so ``loads`` keeps the rules whose conditions hold for
``arch``/``caps``/``kernel``, as the engine renders it (``seccompose.render`` also
keeps the engine's rule order, which a canonical ``Profile`` does not).

>>> from seccompose import Profile, Rule, Arch
>>> p = Profile(architectures=Arch.X86_64.abis, rules=(Rule(("read",)),))
>>> print(dumps(p, arch_map=True, indent=None))  # doctest: +NORMALIZE_WHITESPACE
{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
 "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
 "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from seccompose.actions import Action, parse_errno
from seccompose.arch import Arch
from seccompose.errors import FormatError, InvalidArchError, InvalidProfileError
from seccompose.formats import oci
from seccompose.profile import Flag, Profile
from seccompose.rules import Rule
from seccompose.templates import Gate, Template, TemplateRule, parse_kernel

__all__ = ["dumps", "is_conditional", "loads", "template_from_docker", "to_dict"]

Engine = Literal["docker", "podman"]
_OCI_ARCH = {a.oci: a for a in Arch}


def to_dict(profile: Profile, *, arch_map: bool = False) -> dict[str, Any]:
    """Return the Docker-format document of a profile.

    Raises:
        FormatError: ``arch_map=True`` for a profile without architectures.
    """
    doc = oci.to_dict(profile)
    if arch_map:
        arches = doc.pop("architectures", None)
        if not arches:
            raise FormatError("archMap needs the profile's architectures; the profile lists none")
        entry = {"architecture": arches[0], "subArchitectures": arches[1:]}
        out: dict[str, Any] = {}
        for key, value in doc.items():
            out[key] = value
            if key in ("defaultErrnoRet", "defaultAction") and "archMap" not in out and (
                key == "defaultErrnoRet" or "defaultErrnoRet" not in doc
            ):
                out["archMap"] = [entry]
        doc = out
    doc.setdefault("syscalls", [])
    return doc


def dumps(profile: Profile, *, arch_map: bool = False, indent: int | None = 2) -> str:
    """Return the Docker-format JSON of a profile (deterministic)."""
    return json.dumps(to_dict(profile, arch_map=arch_map), indent=indent, ensure_ascii=True)


def is_conditional(doc: Mapping[str, Any]) -> bool:
    """Whether a Docker-format document needs a container context (arch, caps, kernel) to render.

    >>> is_conditional({"syscalls": [{"names": ["mount"], "action": "SCMP_ACT_ALLOW",
    ...                               "includes": {"caps": ["CAP_SYS_ADMIN"]}}]})
    True
    """
    if doc.get("archMap"):
        return True
    for rule in doc.get("syscalls") or []:
        if isinstance(rule, Mapping) and any(rule.get(k) for k in ("includes", "excludes")):
            return True
    return False


def _arches_of(names: Iterable[str], location: str) -> frozenset[Arch]:
    out = set()
    for name in names:
        try:
            out.add(Arch.parse(name, location=location))
        except InvalidArchError:
            continue  # the engines ignore names they don't know: such a rule matches no host
    return frozenset(out)


def _gate(raw: Mapping[str, Any], location: str, engine: Engine) -> tuple[Gate, bool]:
    from seccompose.caps import Capability

    inc = raw.get("includes") or {}
    exc = raw.get("excludes") or {}
    for key, part in (("includes", inc), ("excludes", exc)):
        if not isinstance(part, Mapping):
            raise InvalidProfileError(f"{key} must be an object", location=f"{location}.{key}")
        extra = set(part) - {"caps", "arches", "minKernel"}
        if extra:
            raise InvalidProfileError(
                f"unknown field {min(extra)!r}; use caps, arches, minKernel", location=f"{location}.{key}"
            )
        for field in ("caps", "arches"):
            value = part.get(field) or []
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise InvalidProfileError(
                    f"{field} must be an array of strings", location=f"{location}.{key}.{field}"
                )
    inc_names = inc.get("arches") or []
    inc_arches = _arches_of(inc_names, f"{location}.includes.arches")
    never = bool(inc_names) and not inc_arches  # listed arches exist, but none we know: never applies
    min_k = below_k = None
    if engine == "docker":  # Podman ignores minKernel
        if inc.get("minKernel"):
            min_k = parse_kernel(inc["minKernel"], location=f"{location}.includes.minKernel")
        if exc.get("minKernel"):
            below_k = parse_kernel(exc["minKernel"], location=f"{location}.excludes.minKernel")
    gate = Gate(
        arches=inc_arches,
        excluded_arches=_arches_of(exc.get("arches") or [], f"{location}.excludes.arches"),
        includes_caps=frozenset(
            Capability.parse(c, location=f"{location}.includes.caps[{i}]") for i, c in enumerate(inc.get("caps") or [])
        ),
        excludes_caps=frozenset(
            Capability.parse(c, location=f"{location}.excludes.caps[{i}]") for i, c in enumerate(exc.get("caps") or [])
        ),
        min_kernel=min_k,
        below_kernel=below_k,
    )
    return gate, never


def _errno(raw: Mapping[str, Any], number_key: str, name_key: str, location: str, engine: Engine) -> int | None:
    if engine == "podman" and raw.get(name_key):
        return parse_errno(str(raw[name_key]), location=f"{location}{name_key}")
    value = raw.get(number_key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidProfileError(f"{number_key} must be an integer", location=f"{location}{number_key}")
    return parse_errno(value, location=f"{location}{number_key}")


def template_from_docker(doc: Mapping[str, Any], *, source: str = "", engine: Engine = "docker") -> Template:
    """Return a Docker/Podman profile as a template whose gates are the profile's conditions.

    ``compose(base=template, arch=A, caps=C)`` then gives what the engine renders for
    a container with bounding set ``C`` on an ``A`` host.

    Raises:
        InvalidProfileError: the document breaks the format (with its JSON path).
    """
    src = source or None
    if not isinstance(doc, Mapping):
        raise InvalidProfileError("a Docker profile must be a JSON object", location="$", source=src)
    if doc.get("architectures") and doc.get("archMap"):
        raise InvalidProfileError(
            "both 'architectures' and 'archMap' are set; the engines refuse this: keep one",
            location="architectures",
            source=src,
        )
    action = Action.parse(doc.get("defaultAction", ""), location="defaultAction")
    default_errno = _errno(doc, "defaultErrnoRet", "defaultErrno", "", engine)
    arch_map = []
    for i, entry in enumerate(doc.get("archMap") or []):
        loc = f"archMap[{i}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("architecture"), str):
            raise InvalidProfileError("an archMap entry needs 'architecture'", location=loc, source=src)
        host = _OCI_ARCH.get(entry["architecture"])
        if host is None:
            raise InvalidArchError(entry["architecture"], location=f"{loc}.architecture", choices=_OCI_ARCH)
        subs = []
        for j, name in enumerate(entry.get("subArchitectures") or []):
            if name not in _OCI_ARCH:
                raise InvalidArchError(name, location=f"{loc}.subArchitectures[{j}]", choices=_OCI_ARCH)
            subs.append(_OCI_ARCH[name])
        arch_map.append((host, tuple(subs)))
    architectures = None
    if doc.get("architectures"):
        architectures = oci.from_dict({"defaultAction": "SCMP_ACT_ALLOW", "architectures": doc["architectures"]})
    rules = []
    for i, raw in enumerate(doc.get("syscalls") or []):
        loc = f"syscalls[{i}]"
        if not isinstance(raw, Mapping):
            raise InvalidProfileError("a syscall rule must be an object", location=loc, source=src)
        if raw.get("name") and raw.get("names"):
            raise InvalidProfileError(
                "both 'name' and 'names' are set; the engines refuse this: use 'names' only",
                location=loc,
                source=src,
            )
        names = [raw["name"]] if raw.get("name") else raw.get("names")
        core: dict[str, Any] = {"names": names, "action": raw.get("action")}
        if raw.get("args"):
            core["args"] = raw["args"]
        rule = oci._rule(core, loc)  # noqa: SLF001 - the OCI reader's rule parser, shared on purpose
        errno = _errno(raw, "errnoRet", "errno", f"{loc}.", engine)
        if errno is not None:
            rule = Rule(rule.names, rule.action, errno, rule.args)
        gate, never = _gate(raw, loc, engine)
        if never:
            continue
        comment = raw.get("comment")
        rules.append(TemplateRule(rule, gate, comment if isinstance(comment, str) else ""))
    return Template(
        name=(source.rsplit("/", 1)[-1].removesuffix(".json") if source else "profile"),
        rules=tuple(rules),
        capability_map=None,
        default_action=action,
        default_errno=default_errno,
        architectures=architectures.architectures if architectures is not None else None,
        arch_map=tuple(arch_map),
        flags=tuple(doc.get("flags") or ()),
        listener_path=doc.get("listenerPath"),
        listener_metadata=doc.get("listenerMetadata"),
        source=source,
    )


def loads(
    text: str | bytes,
    *,
    source: str | None = None,
    arch: Arch | None = None,
    caps: Iterable[str] | None = None,
    kernel: tuple[int, int] | None = None,
    engine: Engine = "docker",
) -> Profile:
    """Return the profile in Docker-format text; a conditional one is rendered for ``arch``/``caps``.

    Raises:
        FormatError: malformed or invalid document, or a conditional one without ``arch``.
    """
    doc = oci.parse_json(text, source=source)
    template = template_from_docker(doc, source=source or "", engine=engine)
    if not is_conditional(doc):
        # An unconditional profile is exactly its rules, whatever the host.
        return Profile(
            template.default_action or Action.ERRNO,
            template.default_errno,
            template.architectures or (),
            tuple(r.rule for r in template.rules),
            tuple(Flag(f) for f in template.flags),
            template.listener_path,
            template.listener_metadata,
        )
    if arch is None:
        raise FormatError(
            "this Docker profile has archMap or includes/excludes conditions: say which container it is "
            "for (arch=, caps=, kernel=), or use it as a template with compose(base=FILE)",
            source=source,
        )
    from seccompose.caps import DOCKER_DEFAULT_CAPABILITIES, container_capabilities

    capset = DOCKER_DEFAULT_CAPABILITIES if caps is None else container_capabilities(list(caps) or ["none"])
    # As the engines render: keep the rules whose conditions hold, verbatim.
    return Profile(
        template.default_action or Action.ERRNO,
        template.default_errno,
        template.architectures_for(arch),
        tuple(r.rule for r in template.rules if r.gate.passes(arch, capset, kernel)),
        tuple(Flag(f) for f in template.flags),
        template.listener_path,
        template.listener_metadata,
    )

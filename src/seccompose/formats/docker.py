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
from dataclasses import replace
from typing import Any, Literal

from seccompose.actions import Action
from seccompose.arch import Arch
from seccompose.errors import FormatError, InvalidProfileError
from seccompose.formats import oci
from seccompose.profile import Flag, Profile
from seccompose.templates import Template

__all__ = ["dumps", "is_conditional", "loads", "template_from_docker", "to_dict"]

Engine = Literal["docker", "podman"]


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
    for rule in (listed if isinstance(listed := doc.get("syscalls"), list) else []):
        if isinstance(rule, Mapping) and any(rule.get(k) for k in ("includes", "excludes")):
            return True
    return False


def template_from_docker(doc: Mapping[str, Any], *, source: str = "", engine: Engine = "docker") -> Template:
    """Return a Docker/Podman profile as a template whose gates are the profile's conditions.

    ``compose(base=template, arch=A, caps=C)`` then loads what the engine renders for a
    container with bounding set ``C`` on an ``A`` host. The document is read by the one
    engine-faithful reader, ``seccompose.formats.docker_profile``.

    Raises:
        FormatError: the document breaks the format (with its JSON path).
    """
    from seccompose.formats.docker_profile import parse_docker_profile, to_template

    name = source.rsplit("/", 1)[-1].removesuffix(".json") if source else "profile"
    parsed = parse_docker_profile(doc, source=source or None, engine=engine)
    template = to_template(parsed, engine=engine, name=name)
    return replace(template, source=source)


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
    from seccompose._reader import parse_json

    doc = parse_json(text, source=source)
    if not isinstance(doc, Mapping):
        raise InvalidProfileError("a Docker profile must be a JSON object", location="$", source=source)
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

"""Kubernetes: Security Profiles Operator ``SeccompProfile`` YAML, and kubelet's localhost profiles.

The Security Profiles Operator (SPO) keeps seccomp profiles as ``SeccompProfile``
objects (``security-profiles-operator.x-k8s.io/v1beta1``) whose ``spec`` is an OCI
profile without ``defaultErrnoRet``, plus ``baseProfileName``: the profile's rules are
unioned with those of a base profile in the same namespace, which may have a base of
its own. The operator writes the result to each node as the JSON file kubelet loads for
``securityContext.seccompProfile: {type: Localhost, localhostProfile: operator/NS/NAME.json}``.

Here, :func:`dumps` writes a ``SeccompProfile``, :func:`load_documents` reads every
``SeccompProfile`` of a (multi-document) YAML text, :func:`resolve` follows
``baseProfileName`` among the documents given (a cycle, a missing base, a remote
``oci://`` base or a chain deeper than 15 are errors), and :func:`localhost_profile`
writes the JSON kubelet reads.

>>> text = dumps({"defaultAction": "SCMP_ACT_ERRNO",
...               "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}, name="app", namespace="web")
>>> print(text)
apiVersion: security-profiles-operator.x-k8s.io/v1beta1
kind: SeccompProfile
metadata:
  name: app
  namespace: web
spec:
  defaultAction: SCMP_ACT_ERRNO
  syscalls:
  - names:
    - read
    action: SCMP_ACT_ALLOW
<BLANKLINE>
>>> resolve(load_documents(text), "app", namespace="web")["syscalls"]
[{'names': ['read'], 'action': 'SCMP_ACT_ALLOW'}]
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import yaml

from seccompose.errors import ConflictError, FormatError, InvalidProfileError
from seccompose.formats.docker_profile import DockerProfile, parse_docker_profile, runtime_fields

if TYPE_CHECKING:
    from seccompose.profile import Profile

__all__ = [
    "API_VERSION",
    "KIND",
    "MAX_BASE_DEPTH",
    "SeccompProfileDocument",
    "dumps",
    "load_documents",
    "localhost_path",
    "localhost_profile",
    "resolve",
]

API_VERSION: Final = "security-profiles-operator.x-k8s.io/v1beta1"
KIND: Final = "SeccompProfile"
MAX_BASE_DEPTH: Final = 15
"""Longest ``baseProfileName`` chain followed (the profile itself not counted)."""
MAX_YAML_BYTES: Final = 4 * 1024 * 1024
"""Largest YAML text read by default (the reader's limit; ``SECCOMPOSE_MAX_INPUT_BYTES`` changes it)."""

_SPEC_KEYS: Final = (
    "defaultAction",
    "architectures",
    "listenerPath",
    "listenerMetadata",
    "syscalls",
    "flags",
)  # SeccompProfileSpec's order (after baseProfileName)
_EPERM: Final = 1


@dataclass(frozen=True, slots=True)
class SeccompProfileDocument:
    """One ``SeccompProfile`` object: its identity, base, and checked spec."""

    name: str
    namespace: str | None
    base_profile_name: str | None
    profile: DockerProfile
    """The spec's OCI fields, checked as a profile document."""
    disabled: bool = False
    index: int = 0
    """Position among the YAML documents it was read from."""

    @property
    def key(self) -> tuple[str | None, str]:
        """(namespace, name): how a base profile is found."""
        return (self.namespace, self.name)


def _seccomp_dict(seccomp: Mapping[str, Any] | Profile) -> dict[str, Any]:
    if isinstance(seccomp, Mapping):
        copy: dict[str, Any] = json.loads(json.dumps(seccomp))  # a plain, private copy
        return copy
    from seccompose.formats.oci import to_dict

    return to_dict(seccomp)


def dumps(
    seccomp: Mapping[str, Any] | Profile,
    *,
    name: str,
    namespace: str | None = None,
    base_profile_name: str | None = None,
) -> str:
    """Return a ``SeccompProfile`` YAML document for an OCI ``linux.seccomp`` object (or a ``Profile``).

    Raises:
        ConflictError: the profile says something SPO cannot: a ``defaultErrnoRet`` other
            than EPERM (SPO has no such field), or ``errnoRet: 0`` (SPO omits zero).
        InvalidProfileError: ``name`` is not a Kubernetes object name.

    >>> print(dumps({"defaultAction": "SCMP_ACT_LOG"}, name="audit"))
    apiVersion: security-profiles-operator.x-k8s.io/v1beta1
    kind: SeccompProfile
    metadata:
      name: audit
    spec:
      defaultAction: SCMP_ACT_LOG
    <BLANKLINE>
    """
    _check_name(name, "name")
    if namespace is not None:
        _check_name(namespace, "namespace")
    doc = _seccomp_dict(seccomp)
    parse_docker_profile(doc, source="the profile")  # refuse what no runtime would load
    default_errno = doc.get("defaultErrnoRet")
    if default_errno is not None and default_errno != _EPERM:
        raise ConflictError(
            f"defaultErrnoRet {default_errno} cannot be written: a SeccompProfile has no defaultErrnoRet and "
            "runtimes then use EPERM",
            location="defaultErrnoRet",
            hint="; use defaultErrnoRet 1, or give kubelet the localhost JSON profile (localhost_profile) instead",
        )
    spec: dict[str, Any] = {}
    if base_profile_name:
        spec["baseProfileName"] = base_profile_name
    for key in _SPEC_KEYS:
        if doc.get(key) or key == "defaultAction":
            spec[key] = doc[key]
    for i, rule in enumerate(spec.get("syscalls", [])):
        if rule.get("errnoRet") == 0:
            raise ConflictError(
                "errnoRet 0 cannot be written: SPO omits a zero errnoRet and runtimes then use EPERM",
                location=f"syscalls[{i}].errnoRet",
                hint="; use SCMP_ACT_ALLOW for a syscall that should succeed",
            )
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    out = {"apiVersion": API_VERSION, "kind": KIND, "metadata": metadata, "spec": spec}
    return yaml.safe_dump(out, sort_keys=False, default_flow_style=False, width=1000)


def _check_name(value: str, what: str) -> None:
    # RFC 1123 subdomain, as Kubernetes checks object names.
    ok = 0 < len(value) <= 253 and all(
        part and part[0].isalnum() and part[-1].isalnum() and all(c.isalnum() or c == "-" for c in part)
        for part in value.split(".")
    )
    if not ok or value != value.lower() or not value.isascii():
        raise InvalidProfileError(
            f"{value!r} is not a Kubernetes {what}: use lower-case letters, digits, '-' and '.'",
            location=f"metadata.{what}",
        )


def load_documents(text: str | bytes, *, source: str | None = None) -> tuple[SeccompProfileDocument, ...]:
    r"""Read every ``SeccompProfile`` of a YAML text (other kinds are skipped).

    Raises:
        DocumentTooLargeError: over the size limit (4 MiB by default).
        FormatError: not YAML, or a ``SeccompProfile`` of the wrong shape (with its path).
        InvalidProfileError: a spec that no runtime would load.

    >>> docs = load_documents(
    ...     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\n---\n"
    ...     "apiVersion: security-profiles-operator.x-k8s.io/v1beta1\nkind: SeccompProfile\n"
    ...     "metadata: {name: app, namespace: web}\nspec: {defaultAction: SCMP_ACT_LOG, baseProfileName: base}\n")
    >>> [(d.namespace, d.name, d.base_profile_name, d.index) for d in docs]
    [('web', 'app', 'base', 1)]
    """
    from seccompose._reader import parse_yaml

    raw_docs = parse_yaml(text, source=source, multi=True)
    out = []
    for i, raw in enumerate(raw_docs):
        if raw is None:
            continue  # an empty document between '---'
        where = f"documents[{i}]"
        if not isinstance(raw, dict):
            raise FormatError("a YAML document must be a mapping", location=where, source=source)
        if raw.get("kind") != KIND:
            continue
        if raw.get("apiVersion") != API_VERSION:
            raise FormatError(
                f"apiVersion {raw.get('apiVersion')!r} is not {API_VERSION!r}",
                location=f"{where}.apiVersion",
                source=source,
            )
        out.append(_document(raw, i, where, source))
    return tuple(out)


def _document(raw: dict[str, Any], index: int, where: str, source: str | None) -> SeccompProfileDocument:
    meta = raw.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not meta["name"]:
        raise FormatError("metadata.name is required", location=f"{where}.metadata.name", source=source)
    namespace = meta.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        raise FormatError("metadata.namespace must be a string", location=f"{where}.metadata.namespace", source=source)
    spec = raw.get("spec")
    if not isinstance(spec, dict):
        raise FormatError("spec is required and must be a mapping", location=f"{where}.spec", source=source)
    base = spec.get("baseProfileName")
    if base is not None and not isinstance(base, str):
        raise FormatError("baseProfileName must be a string", location=f"{where}.spec.baseProfileName", source=source)
    disabled = spec.get("disabled", False)
    if not isinstance(disabled, bool):
        raise FormatError("disabled must be true or false", location=f"{where}.spec.disabled", source=source)
    body = {k: v for k, v in spec.items() if k not in ("baseProfileName", "disabled")}
    for j, rule in enumerate(listed if isinstance(listed := body.get("syscalls"), list) else []):
        # Older SPO releases typed errnoRet as a string.
        if isinstance(rule, dict) and isinstance(rule.get("errnoRet"), str) and rule["errnoRet"].isdigit():
            body["syscalls"][j] = {**rule, "errnoRet": int(rule["errnoRet"])}
    label = f"{source + ': ' if source else ''}{where}.spec (SeccompProfile {meta['name']!r})"
    if "defaultErrnoRet" in body:
        raise InvalidProfileError(
            "a SeccompProfile spec has no defaultErrnoRet (SPO would drop it)",
            location="defaultErrnoRet",
            source=label,
        )
    profile = parse_docker_profile(body, source=label)
    unknown = [p for p in profile.ignored if "." not in p and "[" not in p]
    if unknown:
        raise FormatError(
            f"unknown spec field {unknown[0]!r}; the CRD would reject it", location=unknown[0], source=label
        )
    return SeccompProfileDocument(meta["name"], namespace, base or None, profile, disabled, index)


def resolve(documents: Sequence[SeccompProfileDocument], name: str, *, namespace: str | None = None) -> dict[str, Any]:
    r"""Return the OCI ``linux.seccomp`` object of profile ``name``, its ``baseProfileName`` chain unioned.

    With a base, the rules of the whole chain are unioned as SPO's merger does: one rule per
    (action, errno, arguments) with its names sorted, the least restrictive first (the runtime
    keeps a syscall's first unconditional rule, so where the chain disagrees about a syscall the
    least restrictive action wins). Without a base the profile's rules are kept as they are.
    The profile's default action, architectures, flags and listener win over its bases'.

    Raises:
        InvalidProfileError: no such profile, a base that is not among the documents
            (or a remote ``oci://`` one), a cycle, or a chain deeper than 15.

    >>> docs = load_documents(dumps({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
    ...     {"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}, name="base") + "---\n" + dumps(
    ...     {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["write"], "action": "SCMP_ACT_ALLOW"}]},
    ...     name="app", base_profile_name="base"))
    >>> resolve(docs, "app")
    {'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': [{'names': ['read', 'write'], 'action': 'SCMP_ACT_ALLOW'}]}
    """
    by_key: dict[tuple[str | None, str], SeccompProfileDocument] = {}
    for doc in documents:
        if doc.key in by_key:
            raise InvalidProfileError(
                f"two SeccompProfiles are named {doc.name!r} in namespace {doc.namespace!r}",
                location=f"documents[{doc.index}].metadata.name",
            )
        by_key[doc.key] = doc
    chain = [_find(by_key, namespace, name, f"profile {name!r}")]
    while chain[-1].base_profile_name:
        current = chain[-1]
        base_name = current.base_profile_name or ""
        where = f"documents[{current.index}].spec.baseProfileName"
        if base_name.startswith("oci://"):
            raise InvalidProfileError(
                f"base profile {base_name!r} is a remote OCI artifact; pull it and pass it as a document",
                location=where,
            )
        base = _find(by_key, current.namespace, base_name, f"base profile {base_name!r}", where)
        if base in chain:
            cycle = " -> ".join([d.name for d in chain[chain.index(base) :]] + [base.name])
            raise InvalidProfileError(f"baseProfileName chain has a cycle: {cycle}; break it", location=where)
        if len(chain) > MAX_BASE_DEPTH:
            raise InvalidProfileError(
                f"baseProfileName chain from {name!r} is deeper than {MAX_BASE_DEPTH}; flatten it",
                location=where,
            )
        chain.append(base)
    leaf = chain[0].profile
    out: dict[str, Any] = {"defaultAction": leaf.default_action}
    if leaf.architectures:
        out["architectures"] = list(leaf.architectures)
    out.update(runtime_fields(leaf.flags, leaf.listener_path, leaf.listener_metadata))
    if len(chain) == 1:
        syscalls = [_rule(r) for r in leaf.syscalls]
    else:
        syscalls = _union([_rule(r) for doc in reversed(chain) for r in doc.profile.syscalls])
    if syscalls:
        out["syscalls"] = syscalls
    return out


# Least restrictive first: the runtime keeps a syscall's first unconditional rule, so in this
# order the union lets the least restrictive action win, as SPO's profile merger does.
_RESTRICTIVENESS: Final = {
    a: i
    for i, a in enumerate(
        (
            "SCMP_ACT_ALLOW",
            "SCMP_ACT_LOG",
            "SCMP_ACT_NOTIFY",
            "SCMP_ACT_TRACE",
            "SCMP_ACT_ERRNO",
            "SCMP_ACT_TRAP",
            "SCMP_ACT_KILL_THREAD",
            "SCMP_ACT_KILL",
            "SCMP_ACT_KILL_PROCESS",
        )
    )
}


def _union(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Merge rules of a base chain: one rule per (action, errno, args), names sorted, least restrictive first."""
    merged: dict[str, tuple[dict[str, Any], set[str]]] = {}
    for rule in rules:
        key = json.dumps({k: v for k, v in rule.items() if k != "names"}, sort_keys=True)
        merged.setdefault(key, (rule, set()))[1].update(rule["names"])
    ordered = sorted(
        merged.items(),
        key=lambda item: (_RESTRICTIVENESS[item[1][0]["action"]], item[1][0].get("errnoRet") or 0, item[0]),
    )
    return [{**rule, "names": sorted(names)} for _, (rule, names) in ordered]


def _rule(rule: Any) -> dict[str, Any]:  # noqa: ANN401 - a docker_profile.Syscall
    out: dict[str, Any] = {"names": list(rule.syscall_names), "action": rule.action}
    if rule.errno_ret is not None:
        out["errnoRet"] = rule.errno_ret
    if rule.args:
        out["args"] = [
            {"index": a.index, "value": a.value, **({"valueTwo": a.value_two} if a.value_two else {}), "op": a.op}
            for a in rule.args
        ]
    return out


def _find(
    by_key: Mapping[tuple[str | None, str], SeccompProfileDocument],
    namespace: str | None,
    name: str,
    what: str,
    where: str | None = None,
) -> SeccompProfileDocument:
    found = by_key.get((namespace, name))
    if found is None:
        known = ", ".join(sorted(f"{ns + '/' if ns else ''}{n}" for ns, n in by_key)) or "none"
        raise InvalidProfileError(
            f"{what} is not among the documents given (in namespace {namespace!r}); known: {known}",
            location=where,
        )
    return found


def localhost_path(name: str, namespace: str | None = None) -> str:
    """Return the ``localhostProfile`` path SPO installs a profile at (under kubelet's seccomp root).

    >>> localhost_path("app", "web")
    'operator/web/app.json'
    """
    file = name if name.endswith(".json") else f"{name}.json"
    return f"operator/{namespace}/{file}" if namespace else f"operator/{file}"


def localhost_profile(seccomp: Mapping[str, Any] | Profile) -> str:
    """Return the JSON file kubelet's runtime reads for a ``Localhost`` seccomp profile.

    containerd and CRI-O read it as a Docker-format profile; an OCI ``linux.seccomp``
    object is one, so it is written as is (checked, keys in the OCI order, 2-space indent).

    Raises:
        SeccomposeError: the profile is not one a runtime would load.

    >>> print(localhost_profile({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38}))
    {
      "defaultAction": "SCMP_ACT_ERRNO",
      "defaultErrnoRet": 38
    }
    """
    doc = _seccomp_dict(seccomp)
    parse_docker_profile(doc, source="the profile")
    order = ("defaultAction", "defaultErrnoRet", "architectures", "flags", "listenerPath", "listenerMetadata")
    out = {k: doc[k] for k in order if k in doc}
    out.update({k: v for k, v in doc.items() if k not in out})
    return json.dumps(out, indent=2) + "\n"

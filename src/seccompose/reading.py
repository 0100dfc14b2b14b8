"""A profile as runc and crun read it: the rules they hand libseccomp, before it resolves names.

The reading follows runc's ``libcontainer/seccomp`` and crun's ``seccomp.c``: rules whose
action and errno equal the default are skipped; repeated argument indexes within one rule
turn every condition into its own rule (OR); for ``SCMP_CMP_MASKED_EQ`` ``value`` is the
mask and ``valueTwo`` the datum. :mod:`seccompose.check` reports on it, :mod:`seccompose.libseccomp`
compiles it.

>>> r = read_as_runtime({"defaultAction": "SCMP_ACT_ERRNO",
...                      "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]})
>>> [(rule.name, rule.action.value) for rule in r.rules]
[('read', 'SCMP_ACT_ALLOW')]
"""

from __future__ import annotations

import dataclasses
import errno as _errno
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

from seccompose.actions import Action, parse_errno
from seccompose.arch import Arch, host_arch
from seccompose.errors import (
    FormatError,
    InvalidActionError,
    InvalidArgumentError,
    InvalidProfileError,
    did_you_mean,
)
from seccompose.rules import Arg, Operator, runtime_groups

__all__ = [
    "OPERATORS",
    "SOCKETCALL_NAMES",
    "U64",
    "UNFILTERABLE",
    "Condition",
    "Finding",
    "LoadedRule",
    "RuntimeReading",
    "Severity",
    "extract_seccomp",
    "read_as_runtime",
    "rule_key",
]

OPERATORS: Final = tuple(op.value for op in Operator)
"""The seven argument operators, in libseccomp's numbering order (``SCMP_CMP_NE`` is 1)."""

FLAGS: Final = (
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
)
KERNEL_FLAG_BITS: Final = {"SECCOMP_FILTER_FLAG_LOG": 2, "SECCOMP_FILTER_FLAG_SPEC_ALLOW": 4}
U64: Final = (1 << 64) - 1
NR_SCMP_ERROR: Final = -1
BPF_MAXINSNS: Final = 4096
MAX_CONDITIONAL_RULES: Final = 2 * BPF_MAXINSNS
"""More distinct conditional rules than this cannot fit the kernel's limit (each needs a comparison)."""
PNR_BASE: Final = -10000  # libseccomp's pseudo numbers for names not on an arch are <= -10000
X32_BIT: Final = 0x40000000

# Syscalls that bypass seccomp on x86_64 (measured on Linux 6.18): the kernel runs
# uretprobe/uprobe without consulting the filter, so no profile can deny them.
UNFILTERABLE: Final = {Arch.X86_64: {"uretprobe": 335, "uprobe": 336}}
"""Per ABI, the syscalls (name: number) the kernel runs without consulting seccomp."""


SOCKETCALL_NAMES: Final = frozenset(
    {
        "socket", "bind", "connect", "listen", "accept", "getsockname", "getpeername", "socketpair",
        "send", "recv", "sendto", "recvfrom", "shutdown", "setsockopt", "getsockopt", "sendmsg",
        "recvmsg", "accept4", "recvmmsg", "sendmmsg",
    }
)  # fmt: skip


# --------------------------------------------------------------------------- model


Condition = Arg
"""One argument comparison as the runtime hands it to libseccomp: the one condition type, ``rules.Arg``.

For ``SCMP_CMP_MASKED_EQ``, ``value`` is the mask and ``value_two`` the datum. The reader
refuses (``InvalidArgumentError``) what runc and crun refuse before it builds one: an index
outside 0-5, an operator other than the seven exact ``SCMP_CMP_*`` names, a value outside
64 bits.

>>> Condition(0, "SCMP_CMP_MASKED_EQ", 0x7E020000, 0).matches(0x11)
True
>>> Condition(1, "SCMP_CMP_GE", 5).matches(4)
False
"""


@dataclasses.dataclass(frozen=True, slots=True)
class LoadedRule:
    """One rule as a runtime adds it to libseccomp: one name, one action, ANDed conditions.

    ``errno`` is set for ``SCMP_ACT_ERRNO`` and ``SCMP_ACT_TRACE`` (EPERM when the profile
    leaves it out, as runc and crun do) and None otherwise. ``location`` is where the rule
    came from in the profile, e.g. ``syscalls[3].names[1]``.
    """

    name: str
    action: Action
    errno: int | None
    conditions: tuple[Arg, ...]
    location: str

    def matches(self, args: Sequence[int]) -> bool:
        """Return whether a call with these six argument values hits the rule."""
        return all(c.matches(args[c.index]) for c in self.conditions)


@dataclasses.dataclass(frozen=True, slots=True)
class RuntimeReading:
    """A profile as runc and crun read it, before libseccomp resolves names.

    Rules whose action and errno equal the default are already dropped (and listed in
    ``skipped``); rules with a repeated argument index are already split into one rule
    per condition.
    """

    default_action: Action
    default_errno: int | None
    architectures: tuple[Arch, ...]
    flags: tuple[str, ...]
    rules: tuple[LoadedRule, ...]
    skipped: tuple[LoadedRule, ...]
    findings: tuple[Finding, ...]


def rule_key(action: Action, errno: int | None) -> tuple[Action, int | None]:
    """Return what the runtime compares an action by (``SCMP_ACT_KILL`` is ``KILL_THREAD``)."""
    return (Action.KILL_THREAD if action is Action.KILL else action, errno)


Severity = Literal["problem", "warning", "note"]
"""``problem``: the runtime loads something else than the profile says, or refuses it (exit 1);
``warning``: it loads something that still fails closed, e.g. a name this libseccomp cannot
resolve stays refused (exit 0, exit 1 with ``--strict``); ``note``: worth knowing."""


@dataclasses.dataclass(frozen=True, slots=True)
class Finding:
    """Something ``check`` reports. ``severity`` ``"problem"`` makes the check fail, ``"warning"`` with ``--strict``.

    ``kind`` is a stable identifier: ``unknown-syscall``, ``unresolved``,
    ``number-mismatch``, ``default-action-rule``, ``conflict``, ``rejected``,
    ``unsupported-arch``, ``unknown-flag``, ``errno-on-action``, ``unfilterable``,
    ``socketcall``, ``rule-order``, ``enosys-stub``, ``foreign-arch``, ``unknown-field``, ``too-many-rules``,
    ``too-long``,
    ``runtime-cannot-start``.
    """

    severity: Severity
    kind: str
    message: str
    location: str | None = None
    arch: str | None = None
    names: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Return the finding as a JSON-ready dict (stable key order)."""
        out: dict[str, Any] = {"severity": self.severity, "kind": self.kind, "message": self.message}
        if self.location:
            out["location"] = self.location
        if self.arch:
            out["arch"] = self.arch
        if self.names:
            out["names"] = list(self.names)
        return out


# --------------------------------------------------------------------------- parsing


def extract_seccomp(
    document: Mapping[str, Any],
    *,
    arch: Arch | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """Return the OCI ``linux.seccomp`` object held by a profile document.

    Accepts an OCI ``linux.seccomp`` object, a whole OCI ``config.json`` and a Docker-format
    profile whose rules carry no ``includes``/``excludes`` gates (its ``archMap`` entry for
    ``arch``, default the host's, gives the architectures).

    Raises:
        FormatError: the document is none of those, or a Docker rule is gated.

    >>> extract_seccomp({"linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW"}}})
    {'defaultAction': 'SCMP_ACT_ALLOW'}
    >>> extract_seccomp({"defaultAction": "SCMP_ACT_ERRNO", "archMap": [
    ...     {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
    ...     "syscalls": [{"name": "read", "action": "SCMP_ACT_ALLOW", "includes": {}}]},
    ...     arch=Arch.X86_64)
    {'defaultAction': 'SCMP_ACT_ERRNO', 'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'], \
'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_ALLOW'}]}
    """
    if not isinstance(document, Mapping):
        raise FormatError("a profile must be a JSON object", source=source)
    if "linux" in document or "ociVersion" in document:
        linux = document.get("linux")
        seccomp = linux.get("seccomp") if isinstance(linux, Mapping) else None
        if not isinstance(seccomp, Mapping):
            raise FormatError(
                "this OCI config.json has no linux.seccomp object; add one (seccompose compose --format oci)",
                location="linux.seccomp",
                source=source,
            )
        return dict(seccomp)
    rules = (listed if isinstance(listed := document.get("syscalls"), list) else [])
    docker = (
        "archMap" in document
        or "defaultErrno" in document
        or any(isinstance(r, Mapping) and _DOCKER_RULE_KEYS & set(r) for r in rules)
    )
    if not docker:
        return dict(document)
    return _from_docker(document, arch or host_arch(), source)


_DOCKER_RULE_KEYS: Final = frozenset({"name", "includes", "excludes", "comment", "errno"})


def _from_docker(document: Mapping[str, Any], arch: Arch, source: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {k: v for k, v in document.items() if k not in ("archMap", "syscalls", "defaultErrno")}
    if "defaultErrno" in document:  # Podman: an errno name that overrides defaultErrnoRet
        out["defaultErrnoRet"] = parse_errno(document["defaultErrno"], location="defaultErrno")
    if "archMap" in document:
        if "architectures" in document:
            raise FormatError(
                "a Docker profile may hold 'architectures' or 'archMap', not both; remove one",
                location="archMap",
                source=source,
            )
        out.update(_arch_map(document["archMap"] or [], arch, source))
    syscalls = []
    rules = document.get("syscalls")
    if rules is not None and not isinstance(rules, list):
        raise FormatError("syscalls must be an array of rules", location="syscalls", source=source)
    for i, rule in enumerate(rules or []):
        if not isinstance(rule, Mapping):
            raise FormatError("a syscalls entry must be an object", location=f"syscalls[{i}]", source=source)
        for gate in ("includes", "excludes"):
            value = rule.get(gate)
            if value is not None and not isinstance(value, Mapping):
                raise FormatError(f"'{gate}' must be an object", location=f"syscalls[{i}].{gate}", source=source)
            if value:
                raise FormatError(
                    f"this Docker rule has '{gate}' gates, which only an engine resolves; "
                    "render the profile for a container first (seccompose render --format oci)",
                    location=f"syscalls[{i}].{gate}",
                    source=source,
                )
        names = rule.get("names") if "names" in rule else ([rule["name"]] if "name" in rule else None)
        converted = {"names": names, **{k: v for k, v in rule.items() if k in ("action", "errnoRet", "args")}}
        if "errno" in rule:  # Podman: an errno name that overrides errnoRet
            converted["errnoRet"] = parse_errno(rule["errno"], location=f"syscalls[{i}].errno")
        syscalls.append(converted)
    if syscalls:
        out["syscalls"] = syscalls
    return out


def _arch_map(entries: object, arch: Arch, source: str | None) -> dict[str, Any]:
    if not isinstance(entries, list):
        raise FormatError("archMap must be an array of objects", location="archMap", source=source)
    for i, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise FormatError("an archMap entry must be an object", location=f"archMap[{i}]", source=source)
        native = Arch.parse(str(entry.get("architecture", "")), location=f"archMap[{i}].architecture")
        if native is arch:
            subs = entry.get("subArchitectures")
            return {"architectures": [entry["architecture"], *(subs if isinstance(subs, list) else [])]}
    return {}  # no entry for the host: Docker emits no architectures (native only)


def read_as_runtime(oci_seccomp: Mapping[str, Any], *, source: str | None = None) -> RuntimeReading:
    """Validate an OCI ``linux.seccomp`` object and read it the way runc and crun do.

    Raises:
        InvalidProfileError: a field has the wrong type or shape (the message names the JSON path).
        InvalidActionError: an unknown action or an out-of-range errno.
        InvalidArgumentError: a bad argument condition (index, operator or value).
        InvalidArchError: an unknown architecture.

    >>> r = read_as_runtime({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
    ...     {"names": ["kill"], "action": "SCMP_ACT_ERRNO"},
    ...     {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [
    ...         {"index": 0, "op": "SCMP_CMP_EQ", "value": 1},
    ...         {"index": 0, "op": "SCMP_CMP_EQ", "value": 2}]}]})
    >>> [(x.name, len(x.conditions)) for x in r.rules], [x.name for x in r.skipped]
    ([('clone', 1), ('clone', 1)], ['kill'])
    """
    if not isinstance(oci_seccomp, Mapping):
        raise InvalidProfileError("linux.seccomp must be a JSON object", source=source)
    default_action = _action(oci_seccomp.get("defaultAction"), "defaultAction", source)
    default_errno = _errno_for(default_action, oci_seccomp, "defaultErrnoRet", source)
    findings: list[Finding] = []
    if "defaultErrnoRet" in oci_seccomp and not default_action.takes_errno:
        findings.append(_errno_on_action(default_action, "defaultErrnoRet"))
    arches = _arches(oci_seccomp, source)
    flags = [f for f in _list(oci_seccomp, "flags", source) if f in FLAGS]
    findings += [
        Finding(
            "problem",
            "unknown-flag",
            f"runc 1.1 refuses the seccomp flag {flag!r}; use one of {', '.join(FLAGS)}",
            location=f"flags[{i}]",
        )
        for i, flag in enumerate(_list(oci_seccomp, "flags", source))
        if flag not in FLAGS
    ]
    findings += _unknown_fields(oci_seccomp)
    default_key = rule_key(default_action, default_errno)
    rules: list[LoadedRule] = []
    skipped: list[LoadedRule] = []
    for i, raw in enumerate(_list(oci_seccomp, "syscalls", source)):
        where = f"syscalls[{i}]"
        if not isinstance(raw, Mapping):
            raise InvalidProfileError("a syscalls entry must be a JSON object", location=where, source=source)
        action = _action(raw.get("action"), f"{where}.action", source)
        rule_errno = _errno_for(action, raw, "errnoRet", source, where)
        if "errnoRet" in raw and not action.takes_errno:
            findings.append(_errno_on_action(action, f"{where}.errnoRet"))
        names = raw.get("names")
        if not isinstance(names, list) or not names:
            raise InvalidProfileError(
                "a rule needs 'names', a non-empty list of syscall names", location=f"{where}.names", source=source
            )
        groups = _condition_groups(raw, where, source)
        for j, name in enumerate(names):
            if not isinstance(name, str) or not name:
                raise InvalidProfileError(
                    "a syscall name must be a non-empty string", location=f"{where}.names[{j}]", source=source
                )
            for conditions in groups:
                loaded = LoadedRule(name, action, rule_errno, conditions, f"{where}.names[{j}]")
                (skipped if rule_key(action, rule_errno) == default_key else rules).append(loaded)
    return RuntimeReading(
        default_action=default_action,
        default_errno=default_errno,
        architectures=tuple(arches),
        flags=tuple(flags),
        rules=tuple(rules),
        skipped=tuple(skipped),
        findings=tuple(findings),
    )


_OCI_KEYS: Final = frozenset(
    {"defaultAction", "defaultErrnoRet", "architectures", "flags", "listenerPath", "listenerMetadata", "syscalls"}
)
_OCI_RULE_KEYS: Final = frozenset({"names", "action", "errnoRet", "args"})
_OCI_ARG_KEYS: Final = frozenset({"index", "value", "valueTwo", "op"})


def _unknown_fields(oci_seccomp: Mapping[str, Any]) -> list[Finding]:
    """Fields runc and crun ignore; an ignored errno name silently becomes EPERM, so that is a problem."""
    places: list[tuple[str, str]] = [(k, k) for k in oci_seccomp if k not in _OCI_KEYS]
    rules = oci_seccomp.get("syscalls")
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        if isinstance(rule, Mapping):
            places += [(k, f"syscalls[{i}].{k}") for k in rule if k not in _OCI_RULE_KEYS]
            args = rule.get("args")
            for j, arg in enumerate(args if isinstance(args, list) else []):
                if isinstance(arg, Mapping):
                    places += [(k, f"syscalls[{i}].args[{j}].{k}") for k in arg if k not in _OCI_ARG_KEYS]
    out = []
    for key, where in places:
        errno_name_field = key in ("defaultErrno", "errno")
        hint = (
            f"; write the number as '{'defaultErrnoRet' if key == 'defaultErrno' else 'errnoRet'}'"
            if errno_name_field
            else did_you_mean(key, _OCI_KEYS | _OCI_RULE_KEYS | _OCI_ARG_KEYS)
        )
        out.append(
            Finding(
                "problem" if errno_name_field else "note",
                "unknown-field",
                f"runc and crun ignore the field {key!r}{hint}",
                location=where,
            )
        )
    return out


def _arches(oci_seccomp: Mapping[str, Any], source: str | None) -> list[Arch]:
    arches: list[Arch] = []
    for i, name in enumerate(_list(oci_seccomp, "architectures", source)):
        if not isinstance(name, str):
            raise InvalidProfileError("an architecture must be a string", location=f"architectures[{i}]", source=source)
        found = Arch.parse(name, location=f"architectures[{i}]")
        if found not in arches:
            arches.append(found)
    return arches


def _errno_on_action(action: Action, where: str) -> Finding:
    return Finding(
        "problem",
        "errno-on-action",
        f"crun refuses an errno on {action.value} (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE carry one); remove it",
        location=where,
    )


def _list(obj: Mapping[str, Any], key: str, source: str | None) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidProfileError(f"'{key}' must be a JSON list", location=key, source=source)
    return value


def _action(value: object, where: str, source: str | None) -> Action:
    if not isinstance(value, str):
        raise InvalidProfileError(
            f"missing or non-string action {value!r}; use an SCMP_ACT_* name", location=where, source=source
        )
    try:
        return Action(value)
    except ValueError:
        names = [a.value for a in Action]
        hint = did_you_mean(value.upper(), names) or f"; use one of {', '.join(names)}"
        raise InvalidActionError(
            f"unknown action {value!r} (runtimes accept only the exact SCMP_ACT_* names){hint}", location=where
        ) from None


def _errno_for(action: Action, obj: Mapping[str, Any], key: str, source: str | None, where: str = "") -> int | None:
    if not action.takes_errno:
        return None
    raw = obj.get(key)
    if raw is None:
        return _errno.EPERM  # runc and crun default an absent errnoRet to EPERM
    location = f"{where}.{key}" if where else key
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise InvalidProfileError(f"'{key}' must be a number, not {raw!r}", location=location, source=source)
    return parse_errno(raw, location=location)


def _condition_groups(raw: Mapping[str, Any], where: str, source: str | None) -> list[tuple[Arg, ...]]:
    args = raw.get("args")
    if args is None or args == []:
        return [()]
    if not isinstance(args, list):
        raise InvalidProfileError("'args' must be a JSON list", location=f"{where}.args", source=source)
    conditions: list[Arg] = []
    for k, arg in enumerate(args):
        at = f"{where}.args[{k}]"
        if not isinstance(arg, Mapping):
            raise InvalidProfileError("an argument condition must be a JSON object", location=at, source=source)
        index = arg.get("index")
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index <= 5:
            raise InvalidArgumentError(
                f"argument index {index!r} is invalid; use 0 to 5 (syscalls take at most six arguments)",
                location=f"{at}.index",
            )
        op = arg.get("op")
        if op not in OPERATORS:
            hint = did_you_mean(str(op).upper(), OPERATORS) or f"; use one of {', '.join(OPERATORS)}"
            raise InvalidArgumentError(f"unknown operator {op!r}{hint}", location=f"{at}.op")
        values = []
        for key in ("value", "valueTwo"):
            v = arg.get(key, 0)
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= U64:
                raise InvalidArgumentError(
                    f"'{key}' {v!r} is not an unsigned 64-bit number", location=f"{at}.{key}"
                )
            values.append(v)
        conditions.append(Arg(index, Operator(op), values[0], values[1]))
    return runtime_groups(conditions)



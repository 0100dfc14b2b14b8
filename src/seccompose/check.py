"""Prove a profile against the real libseccomp, the way runc and crun load it.

A profile that parses is not yet a profile that works. :func:`check` compiles an OCI
``linux.seccomp`` object with the system's ``libseccomp.so.2`` (through the
``pyseccomp`` ctypes binding, the optional extra ``seccompose[check]``) and reports
what the runtime would silently change:

- names libseccomp cannot resolve on an architecture of the profile (runc and crun
  skip them without an error, so an allow never happens and a deny never applies);
- rules whose action and errno equal the default action (runc and crun skip them, so a
  deny meant to override another rule is a no-op);
- rules libseccomp refuses (the container would not start) or merges;
- the size of the BPF program the kernel receives (a problem past the kernel's 4,096 instructions).

:func:`run_under` and :func:`popen_under` run a command under a profile: fork, load the
filter in the child (with ``no_new_privs``), exec. The reading follows runc's
``libcontainer/seccomp`` and crun's ``seccomp.c``: repeated argument indexes within one
rule turn every condition into its own rule (OR), and for ``SCMP_CMP_MASKED_EQ``
``value`` is the mask and ``valueTwo`` the datum.

>>> report = check({"defaultAction": "SCMP_ACT_ERRNO",
...                 "architectures": ["SCMP_ARCH_X86_64"],
...                 "syscalls": [{"names": ["read", "opnat"], "action": "SCMP_ACT_ALLOW"}]})
>>> report.ok
False
>>> print(report.problems[0].message)
unknown syscall 'opnat': libseccomp ... does not know it and it is in none of seccompose's kernel tables
(x86_64, aarch64, x86, x32); runc and crun skip it; did you mean 'openat'?
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import errno as _errno
import functools
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal, cast

from seccompose.actions import Action, errno_name, parse_errno
from seccompose.arch import Arch, host_arch
from seccompose.errors import (
    FormatError,
    InvalidActionError,
    InvalidArchError,
    InvalidArgumentError,
    InvalidProfileError,
    LibseccompUnavailableError,
    did_you_mean,
)
from seccompose.syscalls import TABLED_ARCHES, all_names, table

if TYPE_CHECKING:
    from types import ModuleType

__all__ = [
    "OPERATORS",
    "UNFILTERABLE",
    "CheckReport",
    "Condition",
    "Finding",
    "LoadedRule",
    "RuntimeReading",
    "check",
    "compile_bpf",
    "extract_seccomp",
    "libseccomp_version",
    "popen_under",
    "read_as_runtime",
    "run_under",
]

OPERATORS: Final = (
    "SCMP_CMP_NE",
    "SCMP_CMP_LT",
    "SCMP_CMP_LE",
    "SCMP_CMP_EQ",
    "SCMP_CMP_GE",
    "SCMP_CMP_GT",
    "SCMP_CMP_MASKED_EQ",
)
"""The seven argument operators, in libseccomp's numbering order (``SCMP_CMP_NE`` is 1)."""

_FLAGS: Final = (
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
)
_KERNEL_FLAG_BITS: Final = {"SECCOMP_FILTER_FLAG_LOG": 2, "SECCOMP_FILTER_FLAG_SPEC_ALLOW": 4}
_U64: Final = (1 << 64) - 1
_NR_SCMP_ERROR: Final = -1
_BPF_MAXINSNS: Final = 4096
_MAX_CONDITIONAL_RULES: Final = 2 * _BPF_MAXINSNS
"""More distinct conditional rules than this cannot fit the kernel's limit (each needs a comparison)."""
_PNR_BASE: Final = -10000  # libseccomp's pseudo numbers for names not on an arch are <= -10000
_X32_BIT: Final = 0x40000000

# Syscalls that bypass seccomp on x86_64 (measured on Linux 6.18): the kernel runs
# uretprobe/uprobe without consulting the filter, so no profile can deny them.
UNFILTERABLE: Final = {Arch.X86_64: {"uretprobe": 335, "uprobe": 336}}
"""Per ABI, the syscalls (name: number) the kernel runs without consulting seccomp."""


# --------------------------------------------------------------------------- model


@dataclasses.dataclass(frozen=True, slots=True)
class Condition:
    """One argument comparison, as the runtime hands it to libseccomp.

    For ``SCMP_CMP_MASKED_EQ``, ``value`` is the mask and ``value_two`` the datum.

    >>> Condition(0, "SCMP_CMP_MASKED_EQ", 0x7E020000, 0).matches(0x11)
    True
    >>> Condition(1, "SCMP_CMP_GE", 5).matches(4)
    False
    """

    index: int
    op: str
    value: int
    value_two: int = 0

    def matches(self, arg: int) -> bool:
        """Return whether argument value ``arg`` satisfies the comparison."""
        return _compare(self.op, arg & _U64, self.value, self.value_two)


def _compare(op: str, arg: int, value: int, value_two: int) -> bool:
    result: bool
    if op == "SCMP_CMP_NE":
        result = arg != value
    elif op == "SCMP_CMP_LT":
        result = arg < value
    elif op == "SCMP_CMP_LE":
        result = arg <= value
    elif op == "SCMP_CMP_EQ":
        result = arg == value
    elif op == "SCMP_CMP_GE":
        result = arg >= value
    elif op == "SCMP_CMP_GT":
        result = arg > value
    else:  # SCMP_CMP_MASKED_EQ
        result = (arg & value) == value_two
    return result


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
    conditions: tuple[Condition, ...]
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


def _key(action: Action, errno: int | None) -> tuple[Action, int | None]:
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


@dataclasses.dataclass(frozen=True, slots=True)
class CheckReport:
    """What :func:`check` found. ``ok`` is True when there is no problem (notes are fine)."""

    source: str
    libseccomp: str
    native: Arch
    architectures: tuple[Arch, ...]
    bpf_instructions: int
    rules_loaded: int
    findings: tuple[Finding, ...]
    unresolved: tuple[tuple[str, tuple[str, ...]], ...]
    """Per arch (libseccomp name), the names libseccomp cannot resolve there although the kernel has them."""

    @property
    def problems(self) -> tuple[Finding, ...]:
        """The findings that make the check fail."""
        return tuple(f for f in self.findings if f.severity == "problem")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """The findings that fail the check only with ``strict``."""
        return tuple(f for f in self.findings if f.severity == "warning")

    @property
    def ok(self) -> bool:
        """Whether the runtime loads what the profile says (warnings are fine: they fail closed)."""
        return not self.problems

    def failed(self, *, strict: bool = False) -> bool:
        """Whether the check fails: any problem, or (``strict``) any warning.

        >>> CheckReport("p", "2.5.4", Arch.X86_64, (), 0, 0, (Finding("warning", "unresolved", "m"),), ()).failed()
        False
        """
        return bool(self.problems or (strict and self.warnings))

    def to_json(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dict."""
        return {
            "source": self.source,
            "ok": self.ok,
            "warnings": len(self.warnings),
            "libseccomp": self.libseccomp,
            "native": self.native.value,
            "architectures": [a.value for a in self.architectures],
            "bpfInstructions": self.bpf_instructions,
            "rulesLoaded": self.rules_loaded,
            "unresolved": {arch: list(names) for arch, names in self.unresolved},
            "findings": [f.to_json() for f in self.findings],
        }

    def format_text(self) -> str:
        """Return a human-readable report."""
        arches = ", ".join(a.value for a in self.architectures) or "(native only)"
        verdict = "PROBLEMS" if not self.ok else f"OK with {len(self.warnings)} warning(s)" if self.warnings else "OK"
        lines = [
            f"{self.source}: {verdict}",
            f"  libseccomp {self.libseccomp}, native {self.native.value}, architectures: {arches}",
            (
                f"  BPF program: {self.bpf_instructions} instructions (kernel limit 4096), "
                f"{self.rules_loaded} rules loaded"
            ),
        ]
        for severity in ("problem", "warning", "note"):
            for f in self.findings:
                if f.severity == severity:
                    where = f" [{f.location}]" if f.location else ""
                    lines.append(f"  {severity}: {f.message}{where}")
        return "\n".join(lines)


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
    flags = [f for f in _list(oci_seccomp, "flags", source) if f in _FLAGS]
    findings += [
        Finding(
            "problem",
            "unknown-flag",
            f"runc 1.1 refuses the seccomp flag {flag!r}; use one of {', '.join(_FLAGS)}",
            location=f"flags[{i}]",
        )
        for i, flag in enumerate(_list(oci_seccomp, "flags", source))
        if flag not in _FLAGS
    ]
    findings += _unknown_fields(oci_seccomp)
    default_key = _key(default_action, default_errno)
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
                (skipped if _key(action, rule_errno) == default_key else rules).append(loaded)
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


def _condition_groups(raw: Mapping[str, Any], where: str, source: str | None) -> list[tuple[Condition, ...]]:
    args = raw.get("args")
    if args is None or args == []:
        return [()]
    if not isinstance(args, list):
        raise InvalidProfileError("'args' must be a JSON list", location=f"{where}.args", source=source)
    conditions: list[Condition] = []
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
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= _U64:
                raise InvalidArgumentError(
                    f"'{key}' {v!r} is not an unsigned 64-bit number", location=f"{at}.{key}"
                )
            values.append(v)
        conditions.append(Condition(index, str(op), values[0], values[1]))
    indexes = [c.index for c in conditions]
    if len(set(indexes)) != len(indexes):
        # runc and crun: a repeated index turns every condition into a rule of its own (OR).
        return [(c,) for c in conditions]
    return [tuple(conditions)]


# --------------------------------------------------------------------------- libseccomp


def _pyseccomp() -> ModuleType:
    try:
        import pyseccomp
    except (ImportError, RuntimeError) as exc:  # pyseccomp raises RuntimeError without libseccomp.so
        raise LibseccompUnavailableError(str(exc)) from None
    return cast("ModuleType", pyseccomp)


@functools.cache
def libseccomp_version() -> str:
    """Return the version of the system libseccomp that ``pyseccomp`` loaded, e.g. ``"2.5.4"``.

    Raises:
        LibseccompUnavailableError: pyseccomp or libseccomp.so.2 is missing.

    >>> libseccomp_version().count(".")
    2
    """
    lib = ctypes.CDLL(_pyseccomp()._libseccomp_path)  # noqa: SLF001 - pyseccomp does not wrap seccomp_version()

    class _Version(ctypes.Structure):
        _fields_ = (("major", ctypes.c_uint), ("minor", ctypes.c_uint), ("micro", ctypes.c_uint))

    lib.seccomp_version.restype = ctypes.POINTER(_Version)
    v = lib.seccomp_version().contents
    return f"{v.major}.{v.minor}.{v.micro}"


def _token(arch: Arch) -> int | None:
    value = getattr(_pyseccomp().Arch, arch.name, None)
    return value if isinstance(value, int) else None


def _native() -> Arch:
    pyseccomp = _pyseccomp()
    native = pyseccomp.system_arch()
    for arch in Arch:
        if _token(arch) == native:
            return arch
    raise InvalidArchError(str(native))


def _resolve(arch: Arch | None, name: str) -> int:
    pyseccomp = _pyseccomp()
    token = 0 if arch is None else _token(arch)
    return int(pyseccomp.resolve_syscall(token or 0, name))


def _action_value(action: Action, errno: int | None) -> int:
    p = _pyseccomp()
    values: dict[Action, int] = {
        Action.ALLOW: p.ALLOW,
        Action.LOG: p.LOG,
        Action.TRAP: p.TRAP,
        Action.NOTIFY: p.NOTIFY,
        Action.KILL: p.KILL_THREAD,  # runc and crun map SCMP_ACT_KILL to KILL_THREAD
        Action.KILL_THREAD: p.KILL_THREAD,
        Action.KILL_PROCESS: p.KILL_PROCESS,
    }
    if action is Action.ERRNO:
        return int(p.ERRNO(errno if errno is not None else _errno.EPERM))
    if action is Action.TRACE:
        return int(p.TRACE(errno if errno is not None else _errno.EPERM))
    return values[action]


def _configure(filt: Any, reading: RuntimeReading) -> None:  # noqa: ANN401 - a pyseccomp.SyscallFilter
    p = _pyseccomp()
    for arch in reading.architectures:
        token = _token(arch)
        if token is None:
            continue  # reported by check() as unsupported-arch
        try:
            filt.add_arch(token)
        except OSError as exc:
            if exc.errno != _errno.EEXIST:
                raise
    if "SECCOMP_FILTER_FLAG_LOG" in reading.flags:
        filt.set_attr(p.Attr.CTL_LOG, 1)
    if "SECCOMP_FILTER_FLAG_SPEC_ALLOW" in reading.flags:
        filt.set_attr(p.Attr.CTL_SSB, 1)


_Substitute = Callable[[Action, "int | None"], tuple[Action, "int | None"]]


def _build(
    reading: RuntimeReading,
    *,
    substitute: _Substitute | None = None,
    badarch: tuple[Action, int | None] | None = None,
    extra: Sequence[LoadedRule] = (),
    drop_native: bool = False,
    binary_tree: bool | None = None,
) -> tuple[bytes, int, list[Finding]]:
    """Compile a reading with libseccomp; return (BPF bytes, rules added, findings).

    ``substitute`` rewrites every action of the reading (the probe's sentinel copy);
    ``extra`` rules are added as they are, after the reading's. ``drop_native`` builds the
    filter a host of the profile's first arch would build (for a profile of another arch).
    ``binary_tree``: None lays the program out as runc >= 1.2 does (libseccomp's binary
    tree above 32 rules); False as runc 1.1 and crun 1.8 do (libseccomp's default order).
    """
    p = _pyseccomp()

    def value(action: Action, errno: int | None) -> int:
        if substitute is not None:
            action, errno = substitute(action, errno)
        return _action_value(action, errno)

    findings: list[Finding] = []
    filt = p.SyscallFilter(value(reading.default_action, reading.default_errno))
    if badarch is not None:
        filt.set_attr(p.Attr.ACT_BADARCH, _action_value(*badarch))
    filt.set_attr(p.Attr.CTL_NNP, 0)  # runc and crun set no_new_privs themselves, as run_under does
    _configure(filt, reading)
    if drop_native and reading.architectures:
        filt.remove_arch(p.Arch.NATIVE)
    rules = [*reading.rules, *extra]
    if binary_tree if binary_tree is not None else len(rules) > 32:  # runc >= 1.2's threshold
        with contextlib.suppress(OSError):  # libseccomp < 2.5 has no optimizer
            filt.set_attr(p.Attr.CTL_OPTIMIZE, 2)
    added = 0
    plain = {id(r) for r in extra}
    numbers: dict[str, int] = {}
    # libseccomp takes time linear in a syscall's rules to add one more (quadratic for a name listed
    # 80,000 times), and adding a rule it already has changes nothing; so each distinct rule is
    # added once, and a repeat gets the first one's outcome.
    outcome: dict[tuple[int, int, tuple[Condition, ...]], OSError | None] = {}
    for rule in rules:
        number = numbers.get(rule.name)
        if number is None:
            number = numbers[rule.name] = _resolve(None, rule.name)
        if number == _NR_SCMP_ERROR:
            continue  # the runtimes skip it; check() reports it
        verdict = (
            _action_value(rule.action, rule.errno) if id(rule) in plain else value(rule.action, rule.errno)
        )
        key = (number, verdict, rule.conditions)
        try:
            if key not in outcome:
                args = [
                    p.Arg(
                        c.index, OPERATORS.index(c.op) + 1, c.value, c.value_two if c.op == "SCMP_CMP_MASKED_EQ" else 0
                    )
                    for c in rule.conditions
                ]
                try:
                    filt.add_rule(verdict, number, *args)
                    outcome[key] = None
                except OSError as exc:
                    outcome[key] = exc
            if outcome[key] is not None:
                raise outcome[key]  # type: ignore[misc]
            added += 1
        except OSError as exc:
            why = (
                "on x86 libseccomp turns every conditional rule for a socket call into an argument-less "
                "socketcall(2) rule, so two of them with different actions clash; allow socketcall first, "
                "or drop x86 from the architectures"
                if rule.name in _SOCKETCALL_NAMES and rule.conditions and Arch.X86 in reading.architectures
                else "it repeats the conditions of an earlier rule with another action; merge or drop one of them"
            )
            findings.append(
                Finding(
                    "problem",
                    "rejected",
                    f"libseccomp refuses the rule for {rule.name!r} ({os.strerror(exc.errno or 0)}): {why}; "
                    "runc and crun fail to start the container",
                    location=rule.location,
                    names=(rule.name,),
                )
            )
    with tempfile.TemporaryFile() as out:
        filt.export_bpf(out)
        out.seek(0)
        bpf = out.read()
    return bpf, added, findings


def compile_bpf(oci_seccomp: Mapping[str, Any], *, source: str | None = None) -> bytes:
    """Return the BPF program libseccomp builds for a profile (runc's reading, without its ENOSYS stub).

    The bytes are ``struct sock_filter`` records of 8 bytes, in host byte order: what
    ``bwrap --seccomp FD`` reads and what ``prctl(PR_SET_SECCOMP)`` loads.

    Raises:
        LibseccompUnavailableError: pyseccomp or libseccomp.so.2 is missing.
        InvalidProfileError: the profile is malformed.

    >>> len(compile_bpf({"defaultAction": "SCMP_ACT_ALLOW"})) % 8
    0
    """
    bpf, _, _ = _build(read_as_runtime(oci_seccomp, source=source))
    return bpf


# --------------------------------------------------------------------------- check


def check(
    oci_seccomp: Mapping[str, Any],
    *,
    source: str = "<profile>",
    accept_unresolved: bool = False,
    runtime: str | None = None,
    no_new_privileges: bool = False,
) -> CheckReport:
    """Compile a profile with the real libseccomp and report where the runtime departs from it.

    Args:
        oci_seccomp: an OCI ``linux.seccomp`` object (see :func:`extract_seccomp`).
        source: how to name the profile in the report.
        accept_unresolved: report rules for names this libseccomp cannot resolve (newer
            syscalls, which then stay refused) as notes instead of warnings. Skipped denies
            under an allowing default, which make the profile more permissive, stay problems.
        runtime: the OCI runtimes that start the container (``"runc"``, ``"crun"``, both
            comma-separated): the syscalls they make after loading the filter that the profile
            refuses are a problem (``runtime-cannot-start``). None: not checked (the CLI checks
            for runc, as Docker runs containers).
        no_new_privileges: the container's ``noNewPrivileges`` (default False, as Docker, Podman
            and Kubernetes run containers), which decides the runtime's base set.

    Raises:
        LibseccompUnavailableError: pyseccomp or libseccomp.so.2 is missing.
        InvalidProfileError: the profile is malformed (and other ``SeccomposeError`` subclasses).

    >>> r = check({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
    ...            "architectures": ["SCMP_ARCH_X86_64"],
    ...            "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"},
    ...                         {"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]})
    >>> [f.kind for f in r.problems], r.bpf_instructions > 0
    (['default-action-rule'], True)
    """
    reading = read_as_runtime(oci_seccomp, source=source)
    native = _native()
    findings = list(reading.findings)
    arches = reading.architectures or (native,)
    # libseccomp always keeps the native arch, so on a host of one of the profile's arches the
    # filter is native + listed. A profile for another host (aarch64 checked on x86_64) is
    # checked as that host builds it: its own arches only.
    foreign = native not in arches
    filtered = arches if foreign else tuple(dict.fromkeys((native, *arches)))
    findings += [
        Finding(
            "problem",
            "unsupported-arch",
            f"libseccomp {libseccomp_version()} cannot filter {arch.value}; runc refuses the profile",
            arch=arch.value,
        )
        for arch in arches
        if _token(arch) is None
    ]
    findings += _skipped_findings(reading)
    unresolved, name_findings = _resolution(reading, filtered, accept_unresolved=accept_unresolved)
    findings += name_findings
    findings += _conflicts(reading)
    findings += _unfilterable(reading, filtered)
    findings += _socketcall(reading, filtered)
    findings += _order(reading, filtered)
    conditional = len({(r.name, r.action, r.errno, r.conditions) for r in reading.rules if r.conditions})
    if conditional > _MAX_CONDITIONAL_RULES:
        # libseccomp's time to add a rule grows with the rules a syscall already has (32,000 take
        # half a minute), and so many could never load: each needs at least one BPF comparison.
        bpf, added = b"", 0
        findings.append(
            Finding(
                "problem",
                "too-many-rules",
                f"{conditional:,} distinct conditional rules need at least as many BPF instructions, over the "
                f"kernel's limit of {_BPF_MAXINSNS:,}: runc and crun fail to load the filter; not compiled",
            )
        )
    else:
        bpf, added, build_findings = _build(reading, drop_native=foreign)
        findings += build_findings
    if len(bpf) // 8 > _BPF_MAXINSNS:
        findings.append(
            Finding(
                "problem",
                "too-long",
                f"the BPF program is {len(bpf) // 8:,} instructions, over the kernel's limit of {_BPF_MAXINSNS:,} "
                "(BPF_MAXINSNS): seccomp(2) refuses it with EINVAL and the container does not start; merge rules, "
                "drop argument conditions or architectures",
            )
        )
    findings += _runtime_start(reading, runtime, no_new_privileges, arches[0] if foreign else native)
    findings += _enosys_stub(reading, filtered)
    if foreign:
        findings.append(
            Finding(
                "note",
                "foreign-arch",
                f"checked for a {arches[0].value} host; on this {native.value} host runc would also apply the "
                f"rules to {native.value}, the native arch libseccomp always keeps",
            )
        )
    return CheckReport(
        source=source,
        libseccomp=libseccomp_version(),
        native=native,
        architectures=reading.architectures,
        bpf_instructions=len(bpf) // 8,
        rules_loaded=added,
        findings=tuple(findings),
        unresolved=unresolved,
    )


def _runtime_start(reading: RuntimeReading, runtime: str | None, nnp: bool, arch: Arch) -> Iterator[Finding]:
    """The runtime's measured base set against what the filter lets run (the first unconditional verdict)."""
    if runtime is None:
        return
    from seccompose.runtime import describe_start, refused_at_start

    def allows(name: str) -> bool:
        for rule in reading.rules:
            if rule.name == name and not rule.conditions:
                return rule.action.allows
        return reading.default_action.allows

    refused = refused_at_start(allows, runtime, no_new_privileges=nnp, arch=arch)
    if refused:
        yield Finding(
            "problem",
            "runtime-cannot-start",
            f"{', '.join(refused)} refused: {describe_start(runtime, nnp)} makes "
            f"{'them' if len(refused) > 1 else 'it'} after loading the filter, so the container does not start; "
            "allow them (seccompose compose adds them) or say which runtime and mode with --runtime and "
            "--no-new-privileges",
            names=refused,
        )


def _skipped_findings(reading: RuntimeReading) -> Iterator[Finding]:
    actions = _rule_actions(reading)
    default = _describe(reading.default_action, reading.default_errno)
    for rule in reading.skipped:
        effect = (
            f"another rule for {rule.name!r} ({actions[rule.name]}) then applies unopposed"
            if rule.name in actions
            else "it has no effect"
        )
        yield Finding(
            "problem",
            "default-action-rule",
            f"the rule for {rule.name!r} has the default action {default}: runc and crun skip it, so {effect}; "
            "give the deny another errno or drop it",
            location=rule.location,
            names=(rule.name,),
        )


def _rule_actions(reading: RuntimeReading) -> dict[str, str]:
    """Per name, what the rules for it do (``SCMP_ACT_ALLOW, SCMP_ACT_ERRNO(EPERM)``), in one pass."""
    seen: dict[str, set[str]] = {}
    for r in reading.rules:
        seen.setdefault(r.name, set()).add(_describe(r.action, r.errno))
    return {name: ", ".join(sorted(described)) for name, described in seen.items()}


def _describe(action: Action, errno: int | None) -> str:
    return f"{action.value}({errno_name(errno)})" if errno is not None else action.value


def _resolution(
    reading: RuntimeReading, arches: Sequence[Arch], *, accept_unresolved: bool
) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], list[Finding]]:
    names = {r.name: r.location for r in reading.rules}
    names.update({r.name: r.location for r in reading.skipped if r.name not in names})
    version = libseccomp_version()
    findings: list[Finding] = []
    per_arch: dict[str, list[str]] = {}
    for name, location in sorted(names.items()):
        if _resolve(None, name) == _NR_SCMP_ERROR and name not in all_names():
            hint = did_you_mean(name, all_names())
            findings.append(
                Finding(
                    "problem",
                    "unknown-syscall",
                    f"unknown syscall {name!r}: libseccomp {version} does not know it and it is in none of "
                    f"seccompose's kernel tables (x86_64, aarch64, x86, x32); runc and crun skip it{hint}",
                    location=location,
                    names=(name,),
                )
            )
            continue
        for arch in arches:
            if _token(arch) is None:
                continue
            number = _resolve(arch, name)
            kernel = table(arch).number(name) if arch in TABLED_ARCHES and name in table(arch) else None
            if kernel is None:
                continue  # not a syscall of this ABI: the default action applies, as intended
            if number == _NR_SCMP_ERROR or number <= _PNR_BASE:
                if UNFILTERABLE.get(arch, {}).get(name) == kernel:
                    continue  # seccomp never sees it on this ABI; reported as unfilterable
                per_arch.setdefault(arch.value, []).append(name)
            elif number >= 0 and number != kernel:
                findings.append(
                    Finding(
                        "problem",
                        "number-mismatch",
                        f"libseccomp {version} numbers {name!r} {number & ~_X32_BIT} on {arch.value}, "
                        f"the kernel table {kernel & ~_X32_BIT}; the filter would guard the wrong syscall",
                        location=location,
                        arch=arch.value,
                        names=(name,),
                    )
                )
    for arch_name, missing in per_arch.items():
        findings += _unresolved(reading, Arch(arch_name), missing, accept_unresolved=accept_unresolved)
    return tuple((a, tuple(n)) for a, n in sorted(per_arch.items())), findings


def _unresolved(reading: RuntimeReading, arch: Arch, missing: list[str], *, accept_unresolved: bool) -> list[Finding]:
    default = _describe(reading.default_action, reading.default_errno)
    # A skipped deny under an allowing default is a hole; anything else only changes how a call is refused.
    holes = [n for n in missing if reading.default_action.allows]
    refused = [n for n in missing if n not in holes]
    hint = (
        "" if accept_unresolved else " (a warning: it fails closed; --strict fails on it, --accept-unresolved notes it)"
    )
    out = []
    severity: Severity
    for names, severity, effect in (
        (holes, "problem", f"so the default action {default} applies to them instead: more permissive than written"),
        (
            refused,
            "note" if accept_unresolved else "warning",
            f"so the default action {default} applies to them instead, which still refuses them{hint}",
        ),
    ):
        if not names:
            continue
        actions = _rule_actions(reading)
        listed = ", ".join(
            f"{n} ({table(arch).number(n) & ~_X32_BIT}: {actions.get(n) or 'skipped'})" for n in names
        )
        out.append(
            Finding(
                severity,
                "unresolved",
                f"libseccomp {libseccomp_version()} cannot resolve {len(names)} name(s) the kernel has on "
                f"{arch.value}: {listed}; runc and crun skip these rules silently, {effect}; "
                "use a newer libseccomp",
                arch=arch.value,
                names=tuple(names),
            )
        )
    return out


def _conflicts(reading: RuntimeReading) -> Iterator[Finding]:
    first: dict[str, LoadedRule] = {}
    for rule in reading.rules:
        if rule.conditions:
            continue
        seen = first.get(rule.name)
        if seen is None:
            first[rule.name] = rule
        elif _key(seen.action, seen.errno) != _key(rule.action, rule.errno):
            yield Finding(
                "problem",
                "conflict",
                f"{rule.name!r} has two unconditional rules, {_describe(seen.action, seen.errno)} at "
                f"{seen.location} and {_describe(rule.action, rule.errno)}; libseccomp keeps the first and "
                "drops the second silently; keep one",
                location=rule.location,
                names=(rule.name,),
            )


def _unfilterable(reading: RuntimeReading, arches: Sequence[Arch]) -> Iterator[Finding]:
    for arch in arches:
        for name, number in UNFILTERABLE.get(arch, {}).items():
            explicit = [r for r in reading.rules if r.name == name and not r.action.allows]
            yield Finding(
                "problem" if explicit else "note",
                "unfilterable",
                f"{name} ({number}) on {arch.value} passes seccomp unfiltered (Linux >= 6.11); "
                + (
                    "this profile's deny cannot take effect"
                    if explicit
                    else "it is harmless outside a uprobe trampoline (SIGILL) and no profile can deny it"
                ),
                location=explicit[0].location if explicit else None,
                arch=arch.value,
                names=(name,),
            )


_SOCKETCALL_NAMES: Final = frozenset(
    {
        "socket", "bind", "connect", "listen", "accept", "getsockname", "getpeername", "socketpair",
        "send", "recv", "sendto", "recvfrom", "shutdown", "setsockopt", "getsockopt", "sendmsg",
        "recvmsg", "accept4", "recvmmsg", "sendmmsg",
    }
)  # fmt: skip


def _socketcall(reading: RuntimeReading, arches: Sequence[Arch]) -> Iterator[Finding]:
    if Arch.X86 not in arches:
        return
    names = sorted({r.name for r in reading.rules if r.conditions and r.name in _SOCKETCALL_NAMES})
    if names:
        yield Finding(
            "note",
            "socketcall",
            "on x86 (i386), libseccomp also adds these rules to socketcall(2), where the arguments are in "
            f"memory and cannot be checked, so their argument conditions do not apply there: {', '.join(names)}",
            arch=Arch.X86.value,
            names=tuple(names),
        )


def _order(reading: RuntimeReading, arches: Sequence[Arch]) -> Iterator[Finding]:
    if not {Arch.X86, Arch.X32} & set(arches):
        return
    seen_allow: set[str] = set()
    for rule in reading.rules:
        if not rule.conditions:
            continue
        if rule.action.allows:
            seen_allow.add(rule.name)
        elif rule.name in seen_allow:
            seen_allow.discard(rule.name)
            yield Finding(
                "note",
                "rule-order",
                f"a conditional {_describe(rule.action, rule.errno)} rule for {rule.name!r} follows a conditional "
                "allow for it: on x86 and x32 libseccomp 2.5 merges overlapping conditions in the order they "
                "are added, and the later deny can lose (measured with Podman's socket rules); put the deny "
                "first and verify with 'seccompose check --probe'",
                location=rule.location,
                names=(rule.name,),
            )


def _enosys_stub(reading: RuntimeReading, arches: Sequence[Arch]) -> Iterator[Finding]:
    if reading.default_action in (Action.ALLOW, Action.LOG, Action.TRACE):
        return
    parts = []
    for arch in arches:
        if _token(arch) is None:
            continue
        # runc's findLastSyscalls: the largest number libseccomp resolves on the arch
        numbers = [n for n in (_resolve(arch, name) for name in {r.name: None for r in reading.rules}) if n >= 0]
        if numbers:
            parts.append(f"{arch.value} > {max(numbers) & ~_X32_BIT}")
    if parts:
        yield Finding(
            "note",
            "enosys-stub",
            "runc (not crun) returns ENOSYS instead of the default action for syscall numbers above the highest "
            f"one the profile names: {', '.join(parts)}",
        )


# --------------------------------------------------------------------------- running


class _SockFilter(ctypes.Structure):
    _fields_ = (("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint32))


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter)))


_PR_SET_NO_NEW_PRIVS: Final = 38
_SECCOMP_SET_MODE_FILTER: Final = 1
_SYS_SECCOMP: Final = {Arch.X86_64: 317, Arch.AARCH64: 277, Arch.X86: 354}


class _Loader:
    """Everything the child needs, built in the parent so the child only makes syscalls."""

    def __init__(self, bpf: bytes, flags: int, no_new_privs: bool) -> None:
        count = len(bpf) // 8
        self.buffer = (_SockFilter * count).from_buffer_copy(bpf)
        self.prog = _SockFprog(count, ctypes.cast(self.buffer, ctypes.POINTER(_SockFilter)))
        self.flags = flags
        self.no_new_privs = no_new_privs
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.syscall.restype = ctypes.c_long
        self.nr = _SYS_SECCOMP[host_arch()]

    def load(self) -> int:
        """Load the filter into the calling process; return 0 or the errno."""
        if self.no_new_privs and self.libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return ctypes.get_errno()
        result = self.libc.syscall(
            ctypes.c_long(self.nr),
            ctypes.c_long(_SECCOMP_SET_MODE_FILTER),
            ctypes.c_long(self.flags),
            ctypes.byref(self.prog),
        )
        return ctypes.get_errno() if result != 0 else 0

    def preexec(self) -> None:
        error = self.load()
        if error:
            # Raised in the child before exec: subprocess reports it to the parent as an OSError.
            raise OSError(error, f"loading the seccomp filter failed: {os.strerror(error)}")


def _loader(oci_seccomp: Mapping[str, Any], no_new_privs: bool) -> _Loader:
    reading = read_as_runtime(oci_seccomp)
    if any(r.action is Action.NOTIFY for r in reading.rules) or reading.default_action is Action.NOTIFY:
        raise InvalidProfileError(
            "SCMP_ACT_NOTIFY needs a seccomp agent, which run_under does not provide; use another action"
        )
    bpf, _, _ = _build(reading)
    flags = sum(_KERNEL_FLAG_BITS.get(f, 0) for f in reading.flags)
    return _Loader(bpf, flags, no_new_privs)


def run_under(
    oci_seccomp: Mapping[str, Any],
    argv: Sequence[str],
    *,
    no_new_privs: bool = True,
    **kwargs: Any,  # noqa: ANN401 - passed through to subprocess.run
) -> subprocess.CompletedProcess[Any]:
    """Run ``argv`` under a profile: fork, load the filter in the child, exec, wait.

    The filter is compiled as runc reads the profile and loaded in the child right before
    ``execve`` (after ``no_new_privs``, unless ``no_new_privs=False``, which needs
    CAP_SYS_ADMIN). As in a runtime, the profile must allow ``execve`` and what the child
    does between the load and the exec (``close_range``/``close`` when ``close_fds``).
    Keyword arguments go to :func:`subprocess.run` (``capture_output``, ``timeout``, ...).

    Raises:
        LibseccompUnavailableError: pyseccomp or libseccomp.so.2 is missing.
        InvalidProfileError: the profile is malformed or uses SCMP_ACT_NOTIFY.
        OSError: the kernel refused the filter, or ``argv[0]`` could not be executed.

    >>> profile = {"defaultAction": "SCMP_ACT_ALLOW",
    ...            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
    >>> p = run_under(profile, ["mkdir", "/tmp/seccompose-doctest"], capture_output=True, text=True)
    >>> p.returncode, "Permission denied" in p.stderr
    (1, True)
    """
    loader = _loader(oci_seccomp, no_new_privs)
    return subprocess.run(list(argv), preexec_fn=loader.preexec, check=False, **kwargs)


def popen_under(
    oci_seccomp: Mapping[str, Any],
    argv: Sequence[str],
    *,
    no_new_privs: bool = True,
    **kwargs: Any,  # noqa: ANN401 - passed through to subprocess.Popen
) -> subprocess.Popen[Any]:
    """Start ``argv`` under a profile and return the :class:`subprocess.Popen` (for servers).

    Same loading as :func:`run_under`; keyword arguments go to :class:`subprocess.Popen`.

    Raises:
        LibseccompUnavailableError: pyseccomp or libseccomp.so.2 is missing.
        InvalidProfileError: the profile is malformed or uses SCMP_ACT_NOTIFY.
        OSError: the kernel refused the filter, or ``argv[0]`` could not be executed.

    >>> with popen_under({"defaultAction": "SCMP_ACT_ALLOW"}, ["true"]) as p:
    ...     p.wait()
    0
    """
    loader = _loader(oci_seccomp, no_new_privs)
    return subprocess.Popen(list(argv), preexec_fn=loader.preexec, **kwargs)  # noqa: PLW1509

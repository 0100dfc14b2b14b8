"""The corners of a Docker/Podman profile the engines accept but that do not say what they seem to.

Private: :func:`seccompose.lint.lint` reports each as a finding of its own rule (the rule ids
are the first element of each tuple). Each oddity is found on the document as written, and the
message says what Docker (23+), Docker 20.10 and Podman do with it (:mod:`seccompose.engines`).

>>> [o[0] for o in find({"DefaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"name": "read", "action": "ALLOW"}]})]
['key-case', 'name-singular', 'unknown-action']
"""

from __future__ import annotations

import errno as _errno
from collections.abc import Iterator, Mapping
from typing import Any, Final

from seccompose.actions import Action
from seccompose.arch import Arch
from seccompose.caps import all_capabilities
from seccompose.engines import ENGINES, PODMAN_ERRNO_NAMES, Engine, decode, field_keys, fold, setup
from seccompose.errors import EngineRefusedError

__all__ = ["Oddity", "find"]

Oddity = tuple[str, str, str]
"""(rule id, message, JSON path)."""

_NAMES: Final = {"docker": "Docker", "docker-20.10": "Docker 20.10", "podman": "Podman"}
_OPERATORS: Final = frozenset(
    {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"}
)
_FLAGS: Final = frozenset(
    {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
     "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"}
)  # fmt: skip
_GATE_ARCHES: Final = frozenset(
    {"x86", "amd64", "x32", "arm", "arm64", "loong64", "loongarch64", "m68k", "mips", "mips64", "mips64n32",
     "mipsel", "mipsel64", "mipsel64n32", "mips3l64n32", "ppc", "ppc64", "ppc64le", "s390", "s390x", "parisc",
     "parisc64", "riscv64", "sh", "sheb"}
)  # fmt: skip
_OCI_ARCHES: Final = frozenset(a.oci for a in Arch)
_HOSTS: Final = (Arch.X86_64, Arch.AARCH64)


def _keys(where: str) -> dict[str, tuple[Engine, ...]]:
    """Every key any engine reads in this kind of object -> the engines that read it."""
    out: dict[str, list[Engine]] = {}
    for engine in ENGINES:
        for key in field_keys(engine, where):  # type: ignore[arg-type]
            out.setdefault(key, []).append(engine)
    return {k: tuple(v) for k, v in out.items()}


def _walk_keys(raw: Mapping[str, Any], where: str, path: str) -> Iterator[Oddity]:
    known = _keys(where)
    for key, value in raw.items():
        at = f"{path}.{key}" if path else key
        if key in known:
            if value is None and key != "subArchitectures":  # Docker's own default.json writes null there
                yield ("null-value", f"{key} is null, which the engines read as absent; remove it", at)
            continue
        readers = {e: f for e in ENGINES if (f := _match(key, field_keys(e, where), e)) is not None}  # type: ignore[arg-type]
        if readers:
            field = next(iter(readers.values()))
            which = ", ".join(_NAMES[e] for e in readers)
            others = [_NAMES[e] for e in ENGINES if e not in readers and field in field_keys(e, where)]  # type: ignore[arg-type]
            extra = f"; {' and '.join(others)} ignore it (Go before 1.21 does not fold it)" if others else ""
            yield ("key-case", (f"{key!r} is read as {field!r} by {which} (Go matches keys case-insensitively)"
                   f"{extra}; write {field!r}"), at)  # fmt: skip
        else:
            yield ("unknown-key", f"no engine reads {key!r}: it is ignored; remove it or fix the name", at)


def _match(key: str, fields: tuple[str, ...], engine: Engine) -> str | None:
    folded = fold(key, go121=engine == "docker")
    return next((f for f in fields if fold(f) == folded), None)


def _get(raw: Mapping[str, Any], field: str) -> Any:  # noqa: ANN401 - JSON
    """The value the newest Go reads for ``field`` (exact key first, then folded)."""
    if field in raw:
        return raw[field]
    folded = fold(field)
    return next((v for k, v in raw.items() if fold(k) == folded), None)


def _has(raw: Mapping[str, Any], field: str) -> bool:
    folded = fold(field)
    return field in raw or any(fold(k) == folded for k in raw)


def find(doc: object, *, bom: bool = False) -> list[Oddity]:
    """Return the oddities of a Docker/Podman profile document, in document order.

    ``bom``: the file started with a UTF-8 byte-order mark (which the reader removed).
    """
    out: list[Oddity] = []
    if bom:
        out.append(("byte-order-mark", ("the file starts with a byte-order mark, which Go's decoder does not skip: "
                    "every engine refuses the profile; save it as UTF-8 without one"), "line 1"))  # fmt: skip
    if not isinstance(doc, Mapping):
        return out
    out += _refusals(doc)
    out += _walk_keys(doc, "profile", "")
    rules = _get(doc, "syscalls")
    default = _get(doc, "defaultAction")
    if not default and not rules:
        message = (
            "no defaultAction and no syscalls: Docker and Podman read this as 'seccomp disabled' and run the "
            "container without any filter; set defaultAction"
        )
        out.append(("unconfined", message, "defaultAction"))
    elif not default:
        out.append(("default-action-missing", ("no defaultAction: the engines pass an empty one on and runc refuses "
                    "to start the container; set defaultAction (e.g. SCMP_ACT_ERRNO)"), "defaultAction"))  # fmt: skip
    elif isinstance(default, str) and default not in {a.value for a in Action}:
        out.append(("unknown-action", f"unknown defaultAction {default!r}: the engines pass it on and runc refuses it",
                    "defaultAction"))  # fmt: skip
    out += _arches(doc)
    out += _errno_pair(doc, "defaultErrno", "defaultErrnoRet", "")
    flags = _get(doc, "flags")
    for i, flag in enumerate(flags if isinstance(flags, list) else []):
        if isinstance(flag, str) and flag not in _FLAGS:
            out.append(("unknown-flag", (f"unknown seccomp flag {flag!r}: Docker 23 and Podman pass it on and runc "
                        "refuses it"), f"flags[{i}]"))  # fmt: skip
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        out += _rule(rule, f"syscalls[{i}]")
    return out


def _refusals(doc: Mapping[str, Any]) -> Iterator[Oddity]:
    """What each engine refuses or crashes on, on an x86_64 and an aarch64 host (one finding per reason)."""
    seen: dict[tuple[str, str, bool], list[str]] = {}
    for engine in ENGINES:
        for host in _HOSTS:
            try:
                setup(doc, engine=engine, arch=host, caps=[c.name for c in all_capabilities()], kernel=(6, 1))
            except EngineRefusedError as exc:
                names = seen.setdefault((exc.reason, exc.location or "$", exc.panic), [])
                if _NAMES[engine] not in names:
                    names.append(_NAMES[engine])
    for (reason, location, panic), engines in seen.items():
        if panic:
            yield ("null-entry", (f"{' and '.join(engines)} crash on it ({reason}): Podman exits, Docker's daemon "
                   "drops the request; remove the null"), location)  # fmt: skip
        else:
            yield ("engine-refuses", f"{' and '.join(engines)} refuse the profile: {reason}", location)


def _arches(doc: Mapping[str, Any]) -> Iterator[Oddity]:
    arches = _get(doc, "architectures")
    archmap = _get(doc, "archMap")
    if isinstance(arches, list):
        for i, name in enumerate(arches):
            if isinstance(name, str) and name not in _OCI_ARCHES:
                yield ("unknown-architecture", f"unknown architecture {name!r}: passed on, runc refuses it",
                       f"architectures[{i}]")  # fmt: skip
        if arches == [] and archmap:
            yield ("empty-architectures", "an empty architectures list beside archMap has no effect; remove it",
                   "architectures")  # fmt: skip
    if arches and archmap:
        yield ("architectures-and-archmap", ("both architectures and archMap are set: every engine refuses the "
               "profile; keep one"), "archMap")  # fmt: skip
    if not isinstance(archmap, list):
        return
    first: dict[str, int] = {}
    for i, entry in enumerate(archmap):
        if not isinstance(entry, Mapping):
            continue
        yield from _walk_keys(entry, "archMap", f"archMap[{i}]")
        name = _get(entry, "architecture")
        subs = _get(entry, "subArchitectures")
        for j, arch in enumerate([name, *(subs if isinstance(subs, list) else [])]):
            if isinstance(arch, str) and arch not in _OCI_ARCHES:
                where = f"archMap[{i}].architecture" if j == 0 else f"archMap[{i}].subArchitectures[{j - 1}]"
                yield ("unknown-architecture", f"unknown architecture {arch!r}: passed on, runc refuses it", where)
        if isinstance(name, str):
            if name in first:
                yield ("archmap-duplicate", (f"a second archMap entry for {name}: the engines use the first "
                       f"(archMap[{first[name]}]) and never this one; merge them"), f"archMap[{i}]")  # fmt: skip
            first.setdefault(name, i)


def _errno_pair(raw: Mapping[str, Any], name_key: str, number_key: str, path: str) -> Iterator[Oddity]:
    text = _get(raw, name_key)
    number = _get(raw, number_key)
    at = f"{path}.{name_key}" if path else name_key
    if not isinstance(text, str) or not text:
        return
    if text.isascii() and text.isdigit() and int(text) <= 0xFFFFFFFF:
        podman: int | None = int(text)
    elif text in PODMAN_ERRNO_NAMES:
        podman = int(getattr(_errno, text))
    else:
        yield ("errno-unknown", (f"{name_key} {text!r} is not in Podman's errno table: Podman refuses the profile "
               "(Docker ignores the key)"), at)  # fmt: skip
        return
    docker = number if isinstance(number, int) and not isinstance(number, bool) else None
    if docker is not None and docker != podman:
        yield ("errno-conflict", (f"{name_key} {text!r} ({podman}) and {number_key} {docker} disagree: Podman uses "
               f"{podman}, Docker {docker}; keep one"), at)  # fmt: skip
    elif docker is None and podman != _errno.EPERM:
        yield ("errno-name", (f"{name_key} {text!r} is read by Podman only: Podman returns {podman}, Docker EPERM; "
               f"write {number_key}: {podman}"), at)  # fmt: skip


def _rule(rule: object, path: str) -> Iterator[Oddity]:
    if not isinstance(rule, Mapping):
        return
    yield from _walk_keys(rule, "rule", path)
    name, names = _get(rule, "name"), _get(rule, "names")
    if isinstance(name, str) and name and isinstance(names, list) and names:
        yield ("name-and-names", ("both name and names: the engines refuse the profile (Docker 20.10 and Podman "
               "only where the rule applies); keep names"), path)  # fmt: skip
    elif isinstance(name, str) and name:
        yield ("name-singular", (f"the deprecated name {name!r}: the engines read it as names [{name!r}]; write "
               "names"), f"{path}.name")  # fmt: skip
    elif names == [] and _has(rule, "names"):
        yield ("names-empty", ("names is empty: Docker passes an empty rule on, Podman drops it; list the syscalls "
               "or delete the rule"), f"{path}.names")  # fmt: skip
    elif names is None:
        yield ("names-missing", ("no names: Docker passes a rule with names null on, Podman drops it; list the "
               "syscalls or delete the rule"), path)  # fmt: skip
    if isinstance(names, list):
        seen: set[str] = set()
        for j, n in enumerate(names):
            if n == "":
                yield ("empty-name", "an empty syscall name: passed on, runtimes skip it; remove it",
                       f"{path}.names[{j}]")  # fmt: skip
            elif isinstance(n, str) and n in seen:
                yield ("repeated-name", f"{n!r} is listed twice in this rule; remove one", f"{path}.names[{j}]")
            if isinstance(n, str):
                seen.add(n)
    action = _get(rule, "action")
    if not isinstance(action, str) or action not in {a.value for a in Action}:
        shown = f"{action!r}" if action else "no action"
        yield ("unknown-action", (f"{shown}: the engines pass it on and runc refuses to start the container; use an "
               "SCMP_ACT_* action"), f"{path}.action")  # fmt: skip
    number = _get(rule, "errnoRet")
    if isinstance(number, int) and not isinstance(number, bool):
        if isinstance(action, str) and action in {a.value for a in Action} and not Action(action).takes_errno:
            yield ("errno-on-action", (f"errnoRet on {action}, which returns no errno: crun refuses it; remove "
                   "errnoRet"), f"{path}.errnoRet")  # fmt: skip
        if number > 4095:
            yield ("errno-range", f"errnoRet {number} is over 4095: libc does not see it as an error; use an errno",
                   f"{path}.errnoRet")  # fmt: skip
    yield from _errno_pair(rule, "errno", "errnoRet", path)
    args = _get(rule, "args")
    for k, arg in enumerate(args if isinstance(args, list) else []):
        at = f"{path}.args[{k}]"
        if not isinstance(arg, Mapping):
            continue
        yield from _walk_keys(arg, "arg", at)
        op, index = _get(arg, "op"), _get(arg, "index")
        if not isinstance(op, str) or op not in _OPERATORS:
            yield ("unknown-operator", (f"operator {op!r}: the engines pass it on and runc refuses it; use an "
                   "SCMP_CMP_* operator"), f"{at}.op")  # fmt: skip
        if isinstance(index, int) and not isinstance(index, bool) and index > 5:
            yield ("arg-index", f"argument index {index}: syscalls have arguments 0 to 5, runc refuses it",
                   f"{at}.index")  # fmt: skip
    for gate in ("includes", "excludes"):
        value = _get(rule, gate)
        if isinstance(value, Mapping):
            yield from _gate(value, f"{path}.{gate}", gate)


def _gate(gate: Mapping[str, Any], path: str, which: str) -> Iterator[Oddity]:
    yield from _walk_keys(gate, "filter", path)
    known = {c.name for c in all_capabilities()}
    caps = _get(gate, "caps")
    for i, cap in enumerate(caps if isinstance(caps, list) else []):
        if isinstance(cap, str) and cap not in known:
            effect = "the rule never applies" if which == "includes" else "it never excludes the rule"
            yield ("unknown-capability", (f"{cap!r} is not a capability name the engines compare with (CAP_*): "
                   f"{effect}"), f"{path}.caps[{i}]")  # fmt: skip
    arches = _get(gate, "arches")
    for i, arch in enumerate(arches if isinstance(arches, list) else []):
        if isinstance(arch, str) and arch not in _GATE_ARCHES:
            effect = "the rule never applies" if which == "includes" else "it never excludes the rule"
            yield ("unknown-gate-arch", f"{arch!r} is not an engine arch name (amd64, arm64, ...): {effect}",
                   f"{path}.arches[{i}]")  # fmt: skip
    kernel = _get(gate, "minKernel")
    if kernel == "":
        effect = "always holds" if which == "includes" else "always drops the rule"
        yield ("min-kernel-empty", (f'minKernel "" is version 0.0 to Docker: the condition {effect}; '
               "write a version or remove it"), f"{path}.minKernel")  # fmt: skip
    elif kernel is not None and not _kernel_ok(kernel):
        yield ("min-kernel-invalid", (f"minKernel {kernel!r} is not '<major>.<minor>': Docker refuses the profile, "
               "Podman ignores the key"), f"{path}.minKernel")  # fmt: skip


def _kernel_ok(value: object) -> bool:
    try:
        decode({"syscalls": [{"includes": {"minKernel": value}}]}, "docker")
    except EngineRefusedError:
        return False
    return True


RULES: Final[tuple[tuple[str, str, str, str, str], ...]] = (
    (
        "engine-refuses",
        "error",
        "An engine refuses the profile",
        (
            "Docker and Podman read a profile with Go's encoding/json and then their own setupSeccomp, "
            "which accept much more than a well-formed profile. This one fails their decoder (a value of "
            "the wrong JSON type, a number that is not an unsigned integer, a minKernel that is not a "
            "version) or their checks: the container does not start."
        ),
        (
            "Fix the value the message names; `seccompose render --engine ENGINE` shows each engine's "
            "reading."
        ),
    ),
    (
        "null-entry",
        "error",
        "A null rule or argument the engines crash on",
        (
            "Docker and Podman read a profile with Go's encoding/json and then their own setupSeccomp, "
            "which accept much more than a well-formed profile. A null entry of syscalls (every engine) "
            "or of args (Docker 20.10, Podman) is a nil pointer their code dereferences: Podman crashes, "
            "Docker's daemon drops the request."
        ),
        "Remove the null entry.",
    ),
    (
        "byte-order-mark",
        "error",
        "A byte-order mark before the JSON",
        (
            "Go's decoder does not skip a UTF-8 byte-order mark: Docker and Podman refuse the profile "
            "with \"invalid character 'ï'\" (seccompose itself reads it)."
        ),
        "Save the file as UTF-8 without a byte-order mark.",
    ),
    (
        "unconfined",
        "error",
        "No defaultAction and no syscalls: no filter at all",
        (
            "Docker and Podman read a profile with Go's encoding/json and then their own setupSeccomp, "
            "which accept much more than a well-formed profile. A profile with neither is read as "
            "'seccomp disabled': the container runs unconfined, with no error."
        ),
        "Set defaultAction (SCMP_ACT_ERRNO for an allow-list) and the rules.",
    ),
    (
        "default-action-missing",
        "error",
        "No defaultAction",
        (
            "With rules but no defaultAction the engines pass an empty default action on, and runc "
            "refuses to start the container."
        ),
        "Set defaultAction.",
    ),
    (
        "key-case",
        "error",
        "A key in another case than the field",
        (
            "Docker and Podman read a profile with Go's encoding/json and then their own setupSeccomp, "
            "which accept much more than a well-formed profile. Go matches a key to a field "
            "case-insensitively when no field matches exactly (Go 1.21 also folds some non-ASCII letters:"
            " ı, İ, ſ, the Kelvin sign), so 'Names' is names; the engines built with an older Go may not "
            "fold it the same way, and other tools do not fold at all."
        ),
        "Write the key exactly as the field is named.",
    ),
    (
        "unknown-key",
        "error",
        "A key no engine reads",
        (
            "Keys that match no field are ignored: a misspelt 'nmaes' or 'errnoret' silently has no "
            "effect."
        ),
        "Fix the name, or remove the key.",
    ),
    (
        "null-value",
        "error",
        "A field set to null",
        (
            "null leaves the field at its zero value, as if it were absent: a 'names': null rule has no "
            "names."
        ),
        "Remove the key, or give it a value.",
    ),
    (
        "name-singular",
        "error",
        "The deprecated 'name' instead of 'names'",
        (
            "Every engine still reads 'name' as a one-name 'names', but it is deprecated and other tools "
            "skip it."
        ),
        'Write "names": ["..."].',
    ),
    (
        "name-and-names",
        "error",
        "Both 'name' and 'names' on one rule",
        (
            "Docker (23+) refuses the profile; Docker 20.10 and Podman refuse it on hosts where the rule "
            "applies, so the same file works on one machine and not on another."
        ),
        "Keep names only.",
    ),
    (
        "names-empty",
        "error",
        "An empty 'names' list",
        "Docker passes a rule with no syscalls on; Podman drops it. It does nothing either way.",
        "List the syscalls, or delete the rule.",
    ),
    (
        "names-missing",
        "error",
        "A rule without names",
        "Docker passes a rule with names null on (runc skips it); Podman drops it.",
        "List the syscalls in names, or delete the rule.",
    ),
    (
        "empty-name",
        "error",
        "An empty syscall name",
        "Passed on; runtimes cannot resolve it and skip it.",
        "Remove it.",
    ),
    (
        "repeated-name",
        "error",
        "A syscall listed twice in one rule",
        (
            "The engines copy names as they are; the repeat is harmless to the kernel but usually a merge"
            " mistake."
        ),
        "Remove the repeat.",
    ),
    (
        "unknown-action",
        "error",
        "An action that is not SCMP_ACT_*",
        (
            "The engines pass actions on as strings; runc refuses an unknown one and the container does "
            "not start."
        ),
        "Use an SCMP_ACT_* action.",
    ),
    (
        "unknown-operator",
        "error",
        "An operator that is not SCMP_CMP_*",
        "The engines pass operators on as strings; runc refuses an unknown or missing one.",
        "Use an SCMP_CMP_* operator.",
    ),
    (
        "arg-index",
        "error",
        "An argument index above 5",
        (
            "Syscalls take at most six arguments (0-5); the engines pass the index on and runc refuses "
            "it."
        ),
        "Use an index from 0 to 5.",
    ),
    (
        "unknown-architecture",
        "error",
        "An architecture that is not SCMP_ARCH_*",
        "Passed on as written; runc refuses an architecture libseccomp does not know.",
        "Use an SCMP_ARCH_* name.",
    ),
    (
        "architectures-and-archmap",
        "error",
        "Both architectures and archMap",
        "Every engine refuses a profile with both lists non-empty.",
        "Keep one of them.",
    ),
    (
        "empty-architectures",
        "error",
        "An empty architectures list beside archMap",
        "It has no effect (the engines check the lengths), but reads as if it meant something.",
        "Remove it.",
    ),
    (
        "archmap-duplicate",
        "error",
        "Two archMap entries for one architecture",
        "The engines use the first entry for the host and never look at the second.",
        "Merge the entries.",
    ),
    (
        "errno-name",
        "error",
        "An errno name only Podman reads",
        (
            'Podman reads errno/defaultErrno names ("ENOSYS"); Docker ignores those keys and uses '
            "errnoRet, or EPERM: the same profile returns different errors under the two engines."
        ),
        "Also write the number in errnoRet/defaultErrnoRet (Podman's own profile does both).",
    ),
    (
        "errno-conflict",
        "error",
        "An errno name and errnoRet that disagree",
        "Podman uses the name, Docker the number: the two engines return different errors.",
        "Make them agree, or keep only errnoRet.",
    ),
    (
        "errno-unknown",
        "error",
        "An errno name Podman does not know",
        "Podman refuses the profile ('unknown errno'); Docker ignores the key.",
        "Use a name from Podman's table (EPERM, ENOSYS, ...) or a number.",
    ),
    (
        "errno-on-action",
        "error",
        "errnoRet on an action that returns no errno",
        "The engines copy it; crun refuses it and runc ignores it.",
        "Remove errnoRet, or use SCMP_ACT_ERRNO.",
    ),
    (
        "errno-range",
        "error",
        "errnoRet above 4095",
        "libc reads only -4095..-1 as errors: the program sees a strange return value, not a failure.",
        "Use an errno number.",
    ),
    (
        "unknown-flag",
        "error",
        "A seccomp flag runc does not know",
        "Docker (23+) and Podman pass flags on; runc refuses an unknown one.",
        "Use a SECCOMP_FILTER_FLAG_* name.",
    ),
    (
        "min-kernel-empty",
        "error",
        "An empty minKernel",
        'Docker reads "" as version 0.0: includes always holds, excludes always drops the rule.',
        'Write a version such as "5.8", or remove minKernel.',
    ),
    (
        "min-kernel-invalid",
        "error",
        "A minKernel that is not '<major>.<minor>'",
        "Docker refuses the profile; Podman ignores minKernel and accepts it.",
        'Write a version such as "5.8".',
    ),
    (
        "unknown-capability",
        "error",
        "A capability the engines never match",
        (
            "includes/excludes.caps are compared as exact CAP_* strings with the bounding set: "
            "'SYS_ADMIN' never matches, so an includes never holds and an excludes never drops."
        ),
        "Write the CAP_* name.",
    ),
    (
        "unknown-gate-arch",
        "error",
        "An includes/excludes arch the engines never match",
        (
            "includes/excludes.arches are the engines' native names (amd64, arm64, x86, ...), not "
            "SCMP_ARCH_* or x86_64: such a name never matches."
        ),
        "Use the engine's name (amd64, arm64, ...).",
    ),
    (
        "ignored-by-engine",
        "warning",
        "A field the target engine ignores",
        (
            "Docker before 23 has no defaultErrnoRet, flags or listener fields; Docker never reads errno "
            "names; Podman never reads minKernel. The container then gets something else than the profile"
            " says (EPERM instead of ENOSYS, a rule on every kernel)."
        ),
        "Write the profile for the engine that runs it (lint --engine).",
    ),
)
"""The lint rules of the oddities, and ``ignored-by-engine`` (the target engine's own blind spots)."""

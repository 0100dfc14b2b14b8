"""The Docker / Podman seccomp profile document, read the way the engines read it.

A Docker profile (``default.json``) or a Podman one (``seccomp.json``) is not an OCI
profile: its rules carry conditions (``includes`` / ``excludes`` on capabilities,
architectures and, for Docker, the kernel version), it may list architectures as an
``archMap`` and rules may use the deprecated ``name``. The engine turns it into the OCI
``linux.seccomp`` object for one container; :func:`seccompose.render.render` does that
here. This module only reads and checks the document.

The engines decode with Go's ``encoding/json``, and this reader keeps its rules where
they decide what a profile means:

- unknown keys are ignored (kept in :attr:`DockerProfile.ignored` so a linter can say so);
- keys match case-insensitively (``"Names"`` is ``names``), ``null`` is the same as absent;
- a wrong JSON type is an error, and so is anything the runtime would reject later
  (unknown action, operator or flag, argument index above 5), or that would silently
  mean something else than it says (both ``name`` and ``names``, a capability the
  engine would never match, an arch name the engine never uses).

Errors name the JSON path of the problem:

>>> parse_docker_profile('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"],'
...                      ' "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "EQ"}]}]}')
Traceback (most recent call last):
...
seccompose.errors.InvalidArgumentError: unknown operator 'EQ' at syscalls[0].args[0].op; did you mean 'SCMP_CMP_EQ'?
>>> doc = parse_docker_profile({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
...     {"name": "ptrace", "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}}]})
>>> doc.syscalls[0].syscall_names, doc.syscalls[0].includes.min_kernel
(('ptrace',), KernelVersion(major=4, minor=8))
"""

from __future__ import annotations

import errno as _errno
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from seccompose.actions import EPERM, Action
from seccompose.arch import Arch
from seccompose.caps import all_capabilities
from seccompose.engines import ENGINES, Engine
from seccompose.errors import (
    ConflictError,
    FormatError,
    InvalidActionError,
    InvalidArgumentError,
    InvalidEngineError,
    InvalidProfileError,
    SeccomposeError,
    did_you_mean,
)
from seccompose.kernel import KernelVersion

if TYPE_CHECKING:
    import os

    from seccompose.rules import Arg as RuleArg
    from seccompose.templates import Template, TemplateRule

__all__ = [
    "ENGINES",
    "ENGINE_ARCH_NAMES",
    "MAX_PROFILE_BYTES",
    "ArchMapEntry",
    "Arg",
    "DockerProfile",
    "Engine",
    "Filter",
    "KernelVersion",
    "Syscall",
    "check_engine",
    "export_conditional",
    "load_docker_profile",
    "parse_docker_profile",
    "runtime_fields",
    "to_template",
]

# The engines (ENGINES, Engine) are seccompose.engines': ``docker-20.10``'s profile type has only defaultAction,
# architectures, archMap and syscalls, so it drops defaultErrnoRet, flags and the listener fields.
_DOCKER_20_DROPS: Final = ("defaultErrnoRet", "flags", "listenerPath", "listenerMetadata")

MAX_PROFILE_BYTES: Final = 4 * 1024 * 1024
"""Largest profile read by default (4 MiB, the reader's limit; ``SECCOMPOSE_MAX_INPUT_BYTES`` changes it).
Real profiles are 10-100 KB; a larger file is refused unread."""

MAX_ARG_INDEX: Final = 5
_U64: Final = (1 << 64) - 1
_MAX_ERRNO: Final = 4095  # as seccompose.actions: libc only sees -4095..-1 as errors

ENGINE_ARCH_NAMES: Final = frozenset(
    {
        # Go's GOARCH as moby maps it ("native" names), and libseccomp-golang's names (Podman).
        "x86", "amd64", "x32", "arm", "arm64", "loong64", "loongarch64", "m68k",
        "mips", "mips64", "mips64n32", "mipsel", "mipsel64", "mipsel64n32", "mips3l64n32",
        "ppc", "ppc64", "ppc64le", "s390", "s390x", "parisc", "parisc64", "riscv64", "sh", "sheb",
    }
)  # fmt: skip
"""Every arch name Docker or Podman compares ``includes/excludes.arches`` with.

``mips3l64n32`` is moby's own spelling of mipsel64n32 and appears in Docker's profile."""

_OCI_ARCHES: Final = {a.oci for a in Arch}
_ACTIONS: Final = {a.value for a in Action}
_OPERATORS: Final = ("SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT",
                     "SCMP_CMP_MASKED_EQ")  # fmt: skip
_FLAGS: Final = (
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
)


def check_engine(engine: str) -> Engine:
    """Return ``engine`` if it is ``"docker"``, ``"docker-20.10"`` or ``"podman"``.

    Raises:
        InvalidEngineError: any other name.

    >>> check_engine("podman")
    'podman'
    """
    if engine == "docker":
        return "docker"
    if engine == "docker-20.10":
        return "docker-20.10"
    if engine == "podman":
        return "podman"
    raise InvalidEngineError(str(engine), choices=ENGINES)


# --- the model ---------------------------------------------------------------------------------


class _Model(BaseModel):
    # Go's decoder ignores unknown keys, so extras are ignored (and listed in `ignored`);
    # frozen, and every field is hashable (tuples, frozen models).
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


def _fail(code: str, message: str, *, suffix: str = "", hint: str = "") -> PydanticCustomError:
    # The code picks the SeccomposeError class in _raise_from(); `suffix` extends the JSON path
    # (an item of a list field), `hint` (the fix) goes after the location.
    return PydanticCustomError(code, "{message}", {"message": message, "suffix": suffix, "hint": hint})


class Arg(_Model):
    """One argument condition of a rule, as written in the document."""

    index: StrictInt = 0
    """Which syscall argument (0-5); Go's zero value 0 when absent."""
    value: StrictInt = 0
    value_two: StrictInt = Field(default=0, alias="valueTwo")
    op: StrictStr
    """``SCMP_CMP_*``, checked exactly: runc knows no other spelling."""

    @field_validator("index")
    @classmethod
    def _index(cls, v: int) -> int:
        if not 0 <= v <= MAX_ARG_INDEX:
            msg = f"argument index {v} is out of range"
            raise _fail("seccompose.arg", msg, hint="; syscalls have arguments 0 to 5")
        return v

    @field_validator("value", "value_two")
    @classmethod
    def _u64(cls, v: int) -> int:
        if not 0 <= v <= _U64:
            raise _fail("seccompose.arg", f"{v} is not an unsigned 64-bit integer")
        return v

    @field_validator("op")
    @classmethod
    def _op(cls, v: str) -> str:
        if v not in _OPERATORS:
            hint = did_you_mean(v.upper(), _OPERATORS) or did_you_mean("SCMP_CMP_" + v.upper(), _OPERATORS)
            hint = hint or f"; use one of {', '.join(_OPERATORS)}"
            raise _fail("seccompose.arg", f"unknown operator {v!r}", hint=hint)
        return v

    def condition(self) -> RuleArg:
        """The condition as the one condition type, ``rules.Arg`` (this model is only the document's schema).

        >>> Arg.model_validate({"index": 1, "op": "SCMP_CMP_GE", "value": 8}).condition().describe()
        'arg1 >= 8'
        """
        from seccompose.rules import Arg as RuleArg
        from seccompose.rules import Operator

        return RuleArg(self.index, Operator(self.op), self.value, self.value_two)


class Filter(_Model):
    """An ``includes`` or ``excludes`` condition."""

    caps: tuple[StrictStr, ...] = ()
    """Capabilities (``CAP_*``): includes needs all of them, excludes drops on any."""
    arches: tuple[StrictStr, ...] = ()
    """Engine arch names (``amd64``, ``arm64``, ``x86``...), not ``SCMP_ARCH_*``."""
    min_kernel: KernelVersion | None = Field(default=None, alias="minKernel")
    """Docker only (Podman ignores it): includes keeps the rule on kernels >= this, excludes drops it."""

    @field_validator("caps")
    @classmethod
    def _caps(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        known = {c.name for c in all_capabilities()}
        for i, cap in enumerate(v):
            if cap not in known:
                # The engines compare strings exactly, so 'sys_admin' would never match.
                hint = did_you_mean(cap.upper(), known) or did_you_mean("CAP_" + cap.upper(), known)
                msg = f"unknown capability {cap!r} (the engines compare exact 'CAP_*' names){hint or ''}"
                raise _fail("seccompose.profile", msg.replace("?", ""), suffix=f"[{i}]")
        return v

    @field_validator("arches")
    @classmethod
    def _arches(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for i, name in enumerate(v):
            if name not in ENGINE_ARCH_NAMES:
                try:
                    hint = f"; the engines call it {Arch.parse(name).engine!r}"
                except SeccomposeError:
                    hint = did_you_mean(name, ENGINE_ARCH_NAMES)
                msg = f"arch {name!r} is not a name Docker or Podman uses in includes/excludes{hint}"
                raise _fail("seccompose.profile", msg.replace("?", ""), suffix=f"[{i}]")
        return v

    @field_serializer("min_kernel")
    def _dump_min_kernel(self, v: KernelVersion | None) -> str | None:
        return None if v is None else str(v)

    @field_validator("min_kernel", mode="before")
    @classmethod
    def _min_kernel(cls, v: object, info: ValidationInfo) -> object:
        if isinstance(v, KernelVersion):
            return v
        if not isinstance(v, str):
            raise _fail("seccompose.format", f"minKernel must be a string like '4.8', not {_kind(v)} {_show(v)}")
        try:
            return KernelVersion.parse(v)
        except ValueError as exc:
            if (info.context or {}).get("engine") == "podman":
                # Podman has no minKernel field and never reads it.
                return None
            raise _fail("seccompose.profile", str(exc)) from None


class Syscall(_Model):
    """One entry of ``syscalls``: names, action, and the conditions that keep it."""

    names: tuple[StrictStr, ...] = ()
    name: StrictStr = ""
    """Deprecated single name; exclusive with ``names``."""
    action: StrictStr
    errno_ret: StrictInt | None = Field(default=None, alias="errnoRet")
    errno: StrictStr = ""
    """Podman only: errno as a name (``"ENOSYS"``) or decimal text; overrides ``errnoRet``."""
    args: tuple[Arg, ...] = ()
    comment: StrictStr = ""
    includes: Filter | None = None
    excludes: Filter | None = None

    @property
    def syscall_names(self) -> tuple[str, ...]:
        """The names the rule applies to, in document order (``name`` as a one-item tuple)."""
        return (self.name,) if self.name else self.names

    @field_validator("action")
    @classmethod
    def _action(cls, v: str) -> str:
        return _check_action(v)

    @field_validator("errno_ret")
    @classmethod
    def _errno_ret(cls, v: int | None) -> int | None:
        return _check_errno(v)

    @field_validator("names")
    @classmethod
    def _names(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for i, n in enumerate(v):
            if not n:
                raise _fail("seccompose.profile", "empty syscall name; remove it", suffix=f"[{i}]")
        return v

    @model_validator(mode="after")
    def _whole(self, info: ValidationInfo) -> Syscall:
        engine = (info.context or {}).get("engine", "docker")
        if self.name and self.names:
            raise _fail(
                "seccompose.profile",
                "both 'name' and 'names' are set; Docker and Podman refuse the profile: keep only 'names'",
            )
        if not self.name and not self.names:
            raise _fail(
                "seccompose.profile",
                "rule has neither 'names' nor 'name' (Docker passes an empty rule, Podman drops it); "
                "list the syscalls in 'names' or delete the rule",
            )
        _check_errno_pair(self.errno, self.errno_ret, engine, ".errno")
        if self.errnoish is not None and not Action(self.action).takes_errno:
            raise _fail(
                "seccompose.action",
                f"errnoRet is set but {self.action} returns no errno, so the number would mean nothing; "
                "remove errnoRet or use SCMP_ACT_ERRNO",
                suffix=".errnoRet",
            )
        return self

    @property
    def errnoish(self) -> int | None:
        """``errnoRet`` or, if given, ``errno`` resolved (what Podman uses)."""
        return _errno_value(self.errno) if self.errno else self.errno_ret


class ArchMapEntry(_Model):
    """One ``archMap`` entry: a host arch and the sub-architectures it also runs."""

    architecture: StrictStr
    sub_architectures: tuple[StrictStr, ...] = Field(default=(), alias="subArchitectures")

    @field_validator("architecture")
    @classmethod
    def _arch(cls, v: str) -> str:
        return _check_oci_arch(v, "")

    @field_validator("sub_architectures")
    @classmethod
    def _subs(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for i, a in enumerate(v):
            _check_oci_arch(a, f"[{i}]")
        return v


class DockerProfile(_Model):
    """A whole Docker/Podman profile document, checked; render it with :func:`seccompose.render.render`."""

    default_action: StrictStr = Field(alias="defaultAction")
    default_errno_ret: StrictInt | None = Field(default=None, alias="defaultErrnoRet")
    default_errno: StrictStr = Field(default="", alias="defaultErrno")
    """Podman only: the default errno by name; overrides ``defaultErrnoRet``."""
    architectures: tuple[StrictStr, ...] = ()
    arch_map: tuple[ArchMapEntry, ...] = Field(default=(), alias="archMap")
    syscalls: tuple[Syscall, ...] = ()
    flags: tuple[StrictStr, ...] = ()
    listener_path: StrictStr = Field(default="", alias="listenerPath")
    listener_metadata: StrictStr = Field(default="", alias="listenerMetadata")
    ignored: tuple[StrictStr, ...] = ()
    """JSON paths of keys the engines do not know and therefore ignore (not an input field)."""
    engine: Engine = "docker"
    """The engine whose reading rules were applied (not an input field)."""

    @field_validator("default_action")
    @classmethod
    def _default_action(cls, v: str) -> str:
        return _check_action(v)

    @field_validator("default_errno_ret")
    @classmethod
    def _default_errno(cls, v: int | None) -> int | None:
        return _check_errno(v)

    @field_validator("architectures")
    @classmethod
    def _arches(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for i, a in enumerate(v):
            _check_oci_arch(a, f"[{i}]")
        return v

    @field_validator("flags")
    @classmethod
    def _flags(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for i, f in enumerate(v):
            if f not in _FLAGS:
                hint = did_you_mean(f, _FLAGS) or f"; use one of {', '.join(_FLAGS)}"
                raise _fail("seccompose.profile", f"unknown seccomp flag {f!r}{hint}".replace("?", ""), suffix=f"[{i}]")
        return v

    @model_validator(mode="after")
    def _whole(self, info: ValidationInfo) -> DockerProfile:
        engine = (info.context or {}).get("engine", self.engine)
        if self.architectures and self.arch_map:
            raise _fail(
                "seccompose.profile",
                "both 'architectures' and 'archMap' are set; Docker and Podman refuse the profile: keep one",
                suffix="archMap",
            )
        _check_errno_pair(self.default_errno, self.default_errno_ret, engine, "defaultErrno")
        if engine == "docker-20.10":
            self._check_docker_20()
        default = self.default_errno_value
        if default is not None and not Action(self.default_action).takes_errno:
            raise _fail(
                "seccompose.action",
                f"defaultErrnoRet is set but defaultAction {self.default_action} returns no errno, so the "
                "number would mean nothing; remove defaultErrnoRet or use SCMP_ACT_ERRNO",
                suffix="defaultErrnoRet",
            )
        return self

    def _check_docker_20(self) -> None:
        # Docker 20.10 silently drops these; EPERM is what a missing defaultErrnoRet means anyway.
        dropped = {
            "defaultErrnoRet": self.default_errno_ret not in (None, 1),
            "flags": bool(self.flags),
            "listenerPath": bool(self.listener_path),
            "listenerMetadata": bool(self.listener_metadata),
        }
        for field, changes in dropped.items():
            if changes:
                raise _fail(
                    "seccompose.conflict",
                    f"Docker 20.10 ignores {field}, so the container would not get what the profile says",
                    suffix=field,
                    hint="; remove it, or render for a newer engine (docker, podman)",
                )

    @property
    def default_errno_value(self) -> int | None:
        """``defaultErrnoRet``, or ``defaultErrno`` resolved when given (Podman's reading)."""
        return _errno_value(self.default_errno) if self.default_errno else self.default_errno_ret


# --- checks shared by the models -----------------------------------------------------------------


def _show(value: object) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_action(v: str) -> str:
    if v not in _ACTIONS:
        hint = (
            did_you_mean(v.upper(), _ACTIONS)
            or did_you_mean("SCMP_ACT_" + v.upper(), _ACTIONS)
            or f"; use one of {', '.join(sorted(_ACTIONS))}"
        )
        raise _fail("seccompose.action", f"unknown action {v!r}", hint=hint)
    return v


def _check_errno(v: int | None) -> int | None:
    if v is not None and not 0 <= v <= _MAX_ERRNO:
        raise _fail("seccompose.action", f"errno {v} is out of range", hint=f"; use a number from 0 to {_MAX_ERRNO}")
    return v


def _check_oci_arch(v: str, suffix: str) -> str:
    if v not in _OCI_ARCHES:
        try:
            hint = f"; did you mean {Arch.parse(v).oci!r}?"
        except SeccomposeError:
            hint = did_you_mean(v.upper(), _OCI_ARCHES)
        raise _fail("seccompose.profile", f"unknown architecture {v!r}{hint}".replace("?", ""), suffix=suffix)
    return v


def _errno_value(text: str) -> int | None:
    # Podman: decimal text first (strconv.ParseUint(s, 10, 32)), then the errno name table.
    if text.isascii() and text.isdigit():
        number = int(text)
        return number if number <= _MAX_ERRNO else None
    named = getattr(_errno, text, None) if text.isupper() and text.startswith("E") else None
    return named if isinstance(named, int) else None


def _check_errno_pair(text: str, number: int | None, engine: str, field: str) -> None:
    if not text:
        return
    value = _errno_value(text)
    suffix = field
    name = field.lstrip(".")
    if engine == "podman":
        if value is None:
            hint = did_you_mean(text.upper(), _errno.errorcode.values()) or "; use a name such as 'EPERM'"
            raise _fail("seccompose.action", f"unknown errno {text!r} (Podman refuses it)", suffix=suffix, hint=hint)
        return
    # Docker has no errno/defaultErrno field: it ignores the name and uses the number (or EPERM).
    if value is None or value != number:
        numeric = "errnoRet" if field.startswith(".") else "defaultErrnoRet"
        got = "absent" if number is None else str(number)
        raise _fail(
            "seccompose.conflict",
            f"Docker ignores {name}={text!r} and would use {numeric} ({got}) instead",
            suffix=suffix,
            hint=f"; set {numeric} to the same errno, or render with engine podman",
        )


# --- reading -------------------------------------------------------------------------------------

# Which keys each object of the document has; a nested dict is an object, a 1-tuple an array of it.
_ARG: Final[dict[str, Any]] = {"index": None, "value": None, "valueTwo": None, "op": None}
_FILTER: Final[dict[str, Any]] = {"caps": None, "arches": None, "minKernel": None}
_SYSCALL: Final[dict[str, Any]] = {
    "names": None, "name": None, "action": None, "errnoRet": None, "errno": None,
    "args": (_ARG,), "comment": None, "includes": _FILTER, "excludes": _FILTER,
}  # fmt: skip
_ARCHMAP: Final[dict[str, Any]] = {"architecture": None, "subArchitectures": None}
_DOC: Final[dict[str, Any]] = {
    "defaultAction": None, "defaultErrnoRet": None, "defaultErrno": None, "architectures": None,
    "archMap": (_ARCHMAP,), "syscalls": (_SYSCALL,), "flags": None, "listenerPath": None, "listenerMetadata": None,
}  # fmt: skip
_PODMAN_ONLY: Final = {"errno", "defaultErrno"}
_DOCKER_ONLY: Final = {"minKernel"}


def _path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


class _Walk:
    """Normalise a decoded document the way Go's decoder sees it, before the models check it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.ignored: list[str] = []

    def obj(self, raw: object, schema: Mapping[str, Any], where: str) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise FormatError(f"expected a JSON object, not {_kind(raw)} {_show(raw)}", location=where or "$")
        out: dict[str, Any] = {}
        seen: dict[str, str] = {}
        for key, value in raw.items():
            field = key if key in schema else next((f for f in schema if f.casefold() == key.casefold()), None)
            if field is None:
                self.ignored.append(_path(where, key))
                continue
            if field in seen:
                msg = f"keys {seen[field]!r} and {key!r} both mean {field!r} to the engines; keep one"
                raise FormatError(msg, location=_path(where, key))
            seen[field] = key
            if field in (_DOCKER_ONLY if self.engine == "podman" else _PODMAN_ONLY):
                self.ignored.append(_path(where, field))
            if value is not None:  # Go leaves the zero value for null: the same as absent
                out[field] = self.value(value, schema[field], _path(where, field))
        return out

    def value(self, value: object, sub: object, where: str) -> object:
        if isinstance(sub, dict):
            return self.obj(value, sub, where)
        if isinstance(sub, tuple):
            if not isinstance(value, list):
                raise FormatError(f"expected a JSON array, not {_kind(value)} {_show(value)}", location=where)
            return [self.obj(item, sub[0], _path(where, i)) for i, item in enumerate(value)]
        return value


def _kind(value: object) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _decode(data: str | bytes, source: str | None, max_bytes: int | None) -> object:
    from seccompose._reader import parse_json

    return parse_json(data, source=source, limit=max_bytes)


_ERROR_CLASSES: Final = {
    "seccompose.action": InvalidActionError,
    "seccompose.arg": InvalidArgumentError,
    "seccompose.conflict": ConflictError,
}


def _loc_path(loc: tuple[int | str, ...]) -> str:
    # pydantic reports field names by alias (the JSON key), so the path reads like the document.
    where = ""
    for part in loc:
        where = _path(where, part)
    return where


def _raise_from(exc: ValidationError, source: str | None) -> SeccomposeError:
    first = exc.errors(include_url=False)[0]
    loc = tuple(first["loc"])
    where = _loc_path(loc)
    kind = first["type"]
    if kind.startswith("seccompose."):
        ctx = first.get("ctx") or {}
        message, suffix, hint = str(ctx.get("message", "")), str(ctx.get("suffix", "")), str(ctx.get("hint", ""))
        if suffix:
            where = where + suffix if suffix.startswith(("[", ".")) or not where else f"{where}.{suffix}"
        if kind == "seccompose.format":
            return FormatError(message + hint, location=where, source=source)
        cls = _ERROR_CLASSES.get(kind)
        if cls is not None:
            return cls(message, location=where + (f" in {source}" if source else ""), hint=hint)
        return InvalidProfileError(message + hint, location=where, source=source)
    if kind == "missing":
        return InvalidProfileError(f"required key {str(loc[-1])!r} is missing", location=where, source=source)
    value = first.get("input")
    expected = _EXPECTED.get(kind, str(first["msg"]))
    return FormatError(f"wrong JSON type: expected {expected}, got {_kind(value)} {_show(value)}", location=where,
                       source=source)  # fmt: skip


_EXPECTED: Final = {
    "tuple_type": "an array",
    "list_type": "an array",
    "string_type": "a string",
    "int_type": "an unsigned integer",
    "int_from_float": "an unsigned integer",
    "int_parsing": "an unsigned integer",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "dict_type": "an object",
    "literal_error": "'docker' or 'podman'",
}


def parse_docker_profile(
    data: str | bytes | Mapping[str, Any],
    *,
    source: str | None = None,
    engine: Engine = "docker",
    max_bytes: int | None = None,
) -> DockerProfile:
    """Read a Docker or Podman profile from JSON text, bytes, or an already decoded dict.

    ``engine`` picks the reading rules where the engines differ: Podman reads
    ``errno``/``defaultErrno`` (names such as ``"ENOSYS"``) and ignores ``minKernel``;
    Docker ignores ``errno``/``defaultErrno``, so a name that disagrees with the numeric
    field is an error rather than a silently different profile.

    Raises:
        DocumentTooLargeError: the text is over ``max_bytes`` (checked before parsing).
        FormatError: malformed JSON or a wrong JSON type (with the JSON path).
        InvalidProfileError: the document breaks a rule of the engines or the runtime.
        InvalidActionError: an unknown action or errno.
        InvalidArgumentError: an unknown operator, or an argument index above 5.
        ConflictError: a field the chosen engine ignores would change the meaning.

    >>> p = parse_docker_profile('{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrno": "ENOSYS",'
    ...                          ' "syscalls": []}', engine="podman")
    >>> p.default_errno_value
    38
    >>> parse_docker_profile('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"],'
    ...                      ' "action": "SCMP_ACT_ALLOW", "args": [{"index": 6, "op": "SCMP_CMP_EQ"}]}]}')
    Traceback (most recent call last):
    ...
    seccompose.errors.InvalidArgumentError: argument index 6 is out of range at syscalls[0].args[0].index; syscalls ...
    """
    engine = check_engine(engine)
    raw: object = data if isinstance(data, Mapping) else _decode(data, source, max_bytes)
    walk = _Walk(engine)
    try:
        doc = walk.obj(raw, _DOC, "")
    except FormatError as exc:
        if source and not exc.source:
            raise FormatError(str(exc), source=source) from None
        raise
    if "defaultAction" not in doc or doc["defaultAction"] == "":
        raise InvalidProfileError(
            "the profile has no defaultAction; with no syscalls either the engines run the container "
            "unconfined, otherwise runc refuses it: set defaultAction (e.g. SCMP_ACT_ERRNO)",
            location="defaultAction",
            source=source,
        )
    doc["ignored"] = tuple(walk.ignored)
    doc["engine"] = engine
    try:
        return DockerProfile.model_validate(doc, context={"engine": engine})
    except ValidationError as exc:
        raise _raise_from(exc, source) from None


def load_docker_profile(
    path: str | os.PathLike[str], *, engine: Engine = "docker", max_bytes: int | None = None
) -> DockerProfile:
    """Read a profile file; a file over ``max_bytes`` is refused before it is read.

    Raises:
        DocumentTooLargeError: the file is too large.
        OSError: the file cannot be read.
        SeccomposeError: as :func:`parse_docker_profile`.

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
    ...     _ = f.write('{"defaultAction": "SCMP_ACT_ERRNO",'
    ...                 ' "syscalls": [{"name": "read", "action": "SCMP_ACT_ALLOW"}]}')
    ...     f.flush()
    ...     load_docker_profile(f.name).syscalls[0].syscall_names
    ('read',)
    """
    from seccompose._reader import read_bytes

    source = "<stdin>" if str(path) == "-" else str(path)
    data = read_bytes(path, limit=max_bytes, what="profile")
    return parse_docker_profile(data, source=source, engine=engine, max_bytes=max_bytes)


# --- templates: a conditional profile as a composition base, and back -------------------------------


def _arch_of_engine_name(engine: Engine, name: str) -> Arch | None:
    from seccompose.engine_arches import engine_arch_name

    return next((a for a in Arch if engine_arch_name(engine, a) == name and name), None)


def to_template(doc: DockerProfile, *, engine: Engine | None = None, name: str = "profile") -> Template:
    """Return a profile document as a template whose gates are its ``includes``/``excludes``.

    ``compose(base=to_template(doc), arch=A, caps=C, kernel=K, runtime=None)`` then
    gives what the runtime loads from ``render(doc, arch=A, caps=C, kernel=K)`` (see the
    property tests for the exact statement). Engine arch names map to arches as ``engine``
    reads them; a rule whose ``includes.arches`` names no arch that engine runs on is never
    kept, so it is left out.

    The runtime adds rules in order and libseccomp silently keeps the *first* unconditional
    rule of a syscall (and an unconditional rule overrides the conditional ones), while
    ``compose`` lets an allow win. So where a later rule gives a
    syscall another action than an earlier one (Podman's profile denies ``perf_event_open``
    unless CAP_SYS_ADMIN or CAP_BPF, then allows it with CAP_PERFMON), the later rule's gate
    gets "and the earlier rule is not kept" added, split into as many gates as needed.

    >>> rule = {"names": ["mount"], "action": "SCMP_ACT_ALLOW",
    ...         "includes": {"caps": ["CAP_SYS_ADMIN"], "arches": ["arm64"]}}
    >>> t = to_template(parse_docker_profile({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [rule]}))
    >>> t.rules[0].gate.includes_caps, t.rules[0].gate.arches, t.capability_map
    (frozenset({Capability('CAP_SYS_ADMIN')}), frozenset({<Arch.AARCH64: 'aarch64'>}), None)
    """
    from seccompose.caps import Capability
    from seccompose.rules import Rule
    from seccompose.templates import Gate, Template, TemplateRule

    engine = check_engine(engine or doc.engine)
    docker = engine != "podman"
    oci = {a.oci: a for a in Arch}
    rules = []
    for rule in doc.syscalls:
        inc, exc = rule.includes or Filter(), rule.excludes or Filter()
        arches = frozenset(a for n in inc.arches if (a := _arch_of_engine_name(engine, n)) is not None)
        if inc.arches and not arches:
            continue  # listed arches, none of them a host this engine names that way: never kept
        errno = rule.errnoish if engine == "podman" else rule.errno_ret
        core = Rule(
            rule.syscall_names,
            Action(rule.action),
            errno,
            tuple(a.condition() for a in rule.args),
        )
        gate = Gate(
            arches=arches,
            excluded_arches=frozenset(a for n in exc.arches if (a := _arch_of_engine_name(engine, n)) is not None),
            includes_caps=frozenset(Capability(c) for c in inc.caps),
            excludes_caps=frozenset(Capability(c) for c in exc.caps),
            min_kernel=(inc.min_kernel.major, inc.min_kernel.minor) if docker and inc.min_kernel else None,
            below_kernel=(exc.min_kernel.major, exc.min_kernel.minor) if docker and exc.min_kernel else None,
        )
        rules.append(TemplateRule(core, gate, rule.comment))
    default_errno = doc.default_errno_value if engine == "podman" else doc.default_errno_ret
    default_action = Action(doc.default_action)
    runtime_errno = (EPERM if default_errno is None else default_errno) if default_action.takes_errno else None
    rules = _first_wins(rules, (default_action, runtime_errno))
    return Template(
        name=name,
        rules=tuple(rules),
        capability_map=None,  # the document gates capabilities itself
        default_action=Action(doc.default_action),
        default_errno=default_errno,
        architectures=tuple(oci[a] for a in doc.architectures) if doc.architectures else None,
        arch_map=tuple((oci[e.architecture], tuple(oci[s] for s in e.sub_architectures)) for e in doc.arch_map),
        flags=doc.flags,
        listener_path=doc.listener_path or None,
        listener_metadata=doc.listener_metadata or None,
    )


_EXPORT_HOSTS: Final = (Arch.X86_64, Arch.AARCH64)
"""Hosts an exported profile spells out capability-map rules and an archMap entry for."""


def runtime_fields(flags: Sequence[str], listener_path: str | None, listener_metadata: str | None) -> dict[str, Any]:
    """A profile's seccomp ``flags``, ``listenerPath`` and ``listenerMetadata`` as the documents write them.

    Each only when set, in that order (the Docker/Podman export and the Kubernetes
    ``SeccompProfile`` flattening write them so).

    >>> runtime_fields(("SECCOMP_FILTER_FLAG_LOG",), None, "")
    {'flags': ['SECCOMP_FILTER_FLAG_LOG']}
    """
    out: dict[str, Any] = {}
    if flags:
        out["flags"] = list(flags)
    if listener_path:
        out["listenerPath"] = listener_path
    if listener_metadata:
        out["listenerMetadata"] = listener_metadata
    return out


def export_conditional(template: Template, *, engine: Engine = "docker") -> dict[str, Any]:
    """Return a Docker/Podman profile that keeps the template's capability gates for the engine to apply.

    Rendering the result for a container (``render(out, arch=A, caps=C)``) gives what
    ``compose(template, arch=A, caps=C, runtime=None)`` composes, for x86_64 and aarch64
    hosts: gates become ``includes``/``excludes``, the template's capability map becomes
    one ``includes.caps`` rule per capability and host arch, and the host's ABIs become an
    ``archMap``.

    Raises:
        ConflictError: a kernel gate exported for Podman, which ignores ``minKernel``.

    >>> from seccompose.templates import Template
    >>> out = export_conditional(Template.from_dict({"schema": 1, "name": "t", "capabilityMap": None, "rules": [
    ...     {"names": ["mount"], "includes": {"caps": ["CAP_SYS_ADMIN"]}}]}))
    >>> out["syscalls"]
    [{'names': ['mount'], 'action': 'SCMP_ACT_ALLOW', 'includes': {'caps': ['CAP_SYS_ADMIN']}}]
    """
    from seccompose.actions import EPERM
    from seccompose.caps import all_capabilities, load_capability_map
    from seccompose.engine_arches import engine_arch_name

    engine = check_engine(engine)
    action = template.default_action or Action.ERRNO
    out: dict[str, Any] = {"defaultAction": action.value}
    errno = template.default_errno if template.default_action is not None else None
    if action.takes_errno:
        out["defaultErrnoRet"] = EPERM if errno is None else errno
    if template.architectures is not None:
        out["architectures"] = [a.oci for a in template.architectures]
    else:
        entries = template.arch_map or tuple((a, a.sub_arches) for a in _EXPORT_HOSTS)
        out["archMap"] = [{"architecture": h.oci, "subArchitectures": [s.oci for s in subs]} for h, subs in entries]
    out.update(runtime_fields(template.flags, template.listener_path, template.listener_metadata))
    rules = []
    if template.capability_map:
        capmap = load_capability_map(template.capability_map)
        for host in _EXPORT_HOSTS:
            for cap in sorted(all_capabilities()):
                names = capmap.syscalls(cap, arch=host)
                if names:
                    rules.append(
                        {
                            "names": list(names),
                            "action": Action.ALLOW.value,
                            "includes": {"caps": [cap.name], "arches": [engine_arch_name(engine, host)]},
                            "comment": f"{template.capability_map} capability map: {cap.name}",
                        }
                    )
    # The capability rules come first: libseccomp keeps a syscall's first unconditional verdict, and in
    # compose a capability's allow outranks the template's own refusals (e.g. clone3's ENOSYS).
    rules += [r for i, tr in enumerate(template.rules) if (r := _export_rule(tr, i, engine)) is not None]
    out["syscalls"] = rules
    return out


def _export_rule(tr: TemplateRule, i: int, engine: Engine) -> dict[str, Any] | None:
    from seccompose.engine_arches import engine_arch_name
    from seccompose.formats.oci import rule_to_dict
    from seccompose.templates import with_gate_fields

    item = rule_to_dict(tr.rule)
    for arg in item.get("args", []):
        if not arg["valueTwo"]:
            del arg["valueTwo"]
    gate = tr.gate
    if (gate.min_kernel or gate.below_kernel) and engine == "podman":
        raise ConflictError(
            "Podman ignores minKernel, so this kernel gate cannot be exported for it",
            location=f"rules[{i}]",
            hint="; export for docker, or drop the gate",
        )
    inc: dict[str, Any] = {}
    exc: dict[str, Any] = {}
    if gate.includes_caps:
        inc["caps"] = [c.name for c in sorted(gate.includes_caps)]
    if gate.arches:
        # An arch the engine has no name for (Docker: x32) is never its host.
        inc["arches"] = sorted(n for a in gate.arches if (n := engine_arch_name(engine, a)))
        if not inc["arches"]:
            return None
    if gate.min_kernel:
        inc["minKernel"] = "{}.{}".format(*gate.min_kernel)
    if gate.excludes_caps:
        exc["caps"] = [c.name for c in sorted(gate.excludes_caps)]
    excluded = sorted(n for a in gate.excluded_arches if (n := engine_arch_name(engine, a)))
    if excluded:
        exc["arches"] = excluded
    if gate.below_kernel:
        exc["minKernel"] = "{}.{}".format(*gate.below_kernel)
    return with_gate_fields(item, inc, exc, tr.comment)


def _first_wins(rules: list[TemplateRule], default: tuple[Action, int | None]) -> list[TemplateRule]:
    """Encode, as gates, how libseccomp loads rules in order.

    Per syscall the first unconditional rule wins, and any unconditional rule overrides
    every conditional one, whatever the order. Rules equal to the default action never
    reach libseccomp (runc and crun skip them), so they block nothing.
    """
    from seccompose.rules import Rule
    from seccompose.templates import TemplateRule

    unconditional = [
        (i, tr) for i, tr in enumerate(rules) if not tr.rule.args and (tr.rule.action, tr.rule.errno) != default
    ]
    out: list[TemplateRule] = []
    for i, tr in enumerate(rules):
        key = (tr.rule.action, tr.rule.errno)
        groups: dict[tuple[int, ...], list[str]] = {}
        for name in tr.rule.names:
            if tr.rule.args:
                blockers = tuple(j for j, e in unconditional if name in e.rule.names)
            else:
                blockers = tuple(
                    j
                    for j, e in unconditional
                    if j < i and name in e.rule.names and (e.rule.action, e.rule.errno) != key
                )
            groups.setdefault(blockers, []).append(name)
        for blockers, names in groups.items():
            gates = [tr.gate]
            for j in blockers:
                gates = [g for old in gates for neg in rules[j].gate.negation() if (g := old.meet(neg)) is not None]
            rule = Rule(tuple(names), tr.rule.action, tr.rule.errno, tr.rule.args)
            out += [TemplateRule(rule, g, tr.comment) for g in dict.fromkeys(gates)]
    return out

"""What Docker and Podman make of a seccomp profile: their JSON decoders and ``setupSeccomp``, modelled.

A Docker/Podman profile is read by Go's ``encoding/json`` into the engine's own types, then
turned into the OCI ``linux.seccomp`` object for one container. Both steps accept far more than
a well-formed profile: keys in another case, ``null`` for anything, a rule without names, an
action or operator no runtime knows (the runtime refuses it later, the engine passes it on),
fields one engine reads and another ignores. :func:`setup` does exactly what the engine does,
including its errors (and its panics, as an error), for three readings:

- ``docker``: Docker 23 and newer (moby/profiles ``seccomp``; Go >= 1.21);
- ``docker-20.10``: Docker 20.10 and older (``profiles/seccomp`` of moby 20.10.24, Debian 12's
  docker.io; Go 1.19): no ``defaultErrnoRet``, ``flags`` or listener fields;
- ``podman``: Podman 4 and newer (containers/common ``pkg/seccomp``, 0.50.1 = Podman 4.3 and
  today's): reads ``errno``/``defaultErrno`` names, ignores ``minKernel``.

The rules of Go's decoder kept here: a key matches a field exactly or else case-insensitively
(Go 1.21 folds each character with ``ToUpper(ToLower(c))``, so ``ı`` and ``İ`` match ``i``; Go
1.19 only ASCII, the Kelvin sign and ``ſ``); unknown keys are ignored; ``null`` leaves the zero
value (a nil slice or pointer); a value of the wrong JSON type, or a number that is not an
unsigned integer in range, fails the whole profile. seccompose's own reader already refused
duplicate keys, non-UTF-8 text and the rest (``docs/reference/inputs.md``).

>>> out = setup({"DefaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"name": "read", "action": "SCMP_ACT_ALLOW"},
...              {"action": "SCMP_ACT_ALLOW"}]}, engine="docker", arch=Arch.X86_64, caps=(), kernel=(6, 1))
>>> out
{'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': [{'names': ['read'], 'action': 'SCMP_ACT_ALLOW'},
 {'names': None, 'action': 'SCMP_ACT_ALLOW'}]}
>>> setup({"syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}, engine="podman",
...       arch=Arch.X86_64, caps=(), kernel=(6, 1))["defaultAction"]
''
"""

from __future__ import annotations

import errno as _errno
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from seccompose.arch import Arch
from seccompose.engine_arches import archmap_key, engine_arch_name
from seccompose.errors import EngineRefusedError, InvalidEngineError

__all__ = [
    "ENGINES",
    "Engine",
    "engine_arch_name",
    "field_keys",
    "fold",
    "normalize",
    "parse_engine",
    "setup",
]

Engine = Literal["docker", "docker-20.10", "podman"]
ENGINES: Final[tuple[Engine, ...]] = ("docker", "docker-20.10", "podman")
_NAMES: Final = {"docker": "Docker", "docker-20.10": "Docker 20.10", "podman": "Podman"}
_U64: Final = (1 << 64) - 1


def parse_engine(text: str, *, location: str = "--engine") -> Engine:
    """Return the reading for an engine name, with or without a version.

    ``docker``/``podman`` are the newest; ``docker-VERSION`` below 23 reads as Docker 20.10 (whose
    profile type has no defaultErrnoRet, flags or listener fields), 23 and above as ``docker``;
    every Podman from 4.0 reads profiles the same way.

    Raises:
        InvalidEngineError: any other name.

    >>> parse_engine("docker-20.10.24"), parse_engine("docker-27.1"), parse_engine("podman-4.3")
    ('docker-20.10', 'docker', 'podman')
    """
    name, sep, version = text.strip().lower().partition("-")
    major = _major(version)
    if sep and major is None:
        name = ""  # "docker-" or "docker-x": a version that is none
    if name == "docker" and (not version or major is not None):
        return "docker-20.10" if major is not None and major < 23 else "docker"
    if name == "podman" and (not version or (major is not None and major >= 4)):
        return "podman"
    raise InvalidEngineError(
        text,
        choices=("docker", "docker-VERSION (e.g. docker-20.10)", "podman", "podman-VERSION (4 or newer)"),
        location=location,
    )


def _major(version: str) -> int | None:
    head = version.split(".", 1)[0]
    return int(head) if head.isdigit() and len(head) <= 4 else None


# --- Go's field matching ----------------------------------------------------------------------------


def fold(key: str, *, go121: bool = True) -> str:
    """Return ``key`` folded as Go's decoder folds keys to match struct fields.

    >>> fold("Names"), fold("ſyscalls"), fold("ındex"), fold("ındex", go121=False)
    ('NAMES', 'SYSCALLS', 'INDEX', 'ıNDEX')
    """
    out = []
    for c in key:
        if c.isascii():
            out.append(c.upper())
            continue
        if go121:
            lower = c.lower()
            upper = lower.upper() if len(lower) == 1 else c
            out.append(upper if len(upper) == 1 else c)
        else:  # Go 1.19: bytes.EqualFold's special cases only
            out.append({"\u212a": "K", "\u017f": "S"}.get(c, c))
    return "".join(out)


def _field(key: str, fields: Iterable[str], *, go121: bool) -> str | None:
    names = tuple(fields)
    if key in names:
        return key
    folded = fold(key, go121=go121)
    return next((f for f in names if fold(f) == folded), None)


# --- the engines' types -----------------------------------------------------------------------------
# A type is "string", "uint", ("slice", T), ("ptr", T) or ("struct", {json name: T}); "kernel" is
# moby's *KernelVersion (its own UnmarshalJSON). A decoded struct is a dict of every field, the
# absent ones at Go's zero value: "" / 0 / None (a nil slice or pointer) / a zero struct.

_STRINGS: Final = ("slice", "string")
_ARG: Final = ("struct", {"index": "uint", "value": "uint", "valueTwo": "uint", "op": "string"})
_ARCHMAP: Final = ("struct", {"architecture": "string", "subArchitectures": _STRINGS})
_DOCKER_FILTER: Final = ("struct", {"caps": _STRINGS, "arches": _STRINGS, "minKernel": ("ptr", "kernel")})
_PODMAN_FILTER: Final = ("struct", {"caps": _STRINGS, "arches": _STRINGS})

_TYPES: Final[dict[Engine, Any]] = {
    # moby/profiles: Seccomp embeds specs.LinuxSeccomp, Syscall embeds specs.LinuxSyscall (Args []LinuxSeccompArg)
    "docker": (
        "struct",
        {
            "defaultAction": "string",
            "defaultErrnoRet": ("ptr", "uint"),
            "architectures": _STRINGS,
            "flags": _STRINGS,
            "listenerPath": "string",
            "listenerMetadata": "string",
            "archMap": ("slice", _ARCHMAP),
            "syscalls": (
                "slice",
                (
                    "ptr",
                    (
                        "struct",
                        {
                            "names": _STRINGS,
                            "action": "string",
                            "errnoRet": ("ptr", "uint"),
                            "args": ("slice", _ARG),
                            "name": "string",
                            "comment": "string",
                            "includes": ("ptr", _DOCKER_FILTER),
                            "excludes": ("ptr", _DOCKER_FILTER),
                        },
                    ),
                ),
            ),
        },
    ),
    # moby 20.10.24 profiles/seccomp/seccomp.go
    "docker-20.10": (
        "struct",
        {
            "defaultAction": "string",
            "architectures": _STRINGS,
            "archMap": ("slice", _ARCHMAP),
            "syscalls": (
                "slice",
                (
                    "ptr",
                    (
                        "struct",
                        {
                            "name": "string",
                            "names": _STRINGS,
                            "action": "string",
                            "errnoRet": ("ptr", "uint"),
                            "args": ("slice", ("ptr", _ARG)),
                            "comment": "string",
                            "includes": _DOCKER_FILTER,
                            "excludes": _DOCKER_FILTER,
                        },
                    ),
                ),
            ),
        },
    ),
    # containers/common pkg/seccomp/types.go
    "podman": (
        "struct",
        {
            "defaultAction": "string",
            "defaultErrnoRet": ("ptr", "uint"),
            "defaultErrno": "string",
            "architectures": _STRINGS,
            "archMap": ("slice", _ARCHMAP),
            "syscalls": (
                "slice",
                (
                    "ptr",
                    (
                        "struct",
                        {
                            "name": "string",
                            "names": _STRINGS,
                            "action": "string",
                            "args": ("slice", ("ptr", _ARG)),
                            "comment": "string",
                            "includes": _PODMAN_FILTER,
                            "excludes": _PODMAN_FILTER,
                            "errnoRet": ("ptr", "uint"),
                            "errno": "string",
                        },
                    ),
                ),
            ),
            "flags": _STRINGS,
            "listenerPath": "string",
            "listenerMetadata": "string",
        },
    ),
}
_GO_NAMES: Final = {  # how Go's errors name the types
    "string": "string",
    "uint": "uint",
    "kernel": "seccomp.KernelVersion",
}


def field_keys(engine: Engine, where: Literal["profile", "rule", "arg", "filter", "archMap"]) -> tuple[str, ...]:
    """Return the JSON keys ``engine`` reads in one object of a profile.

    >>> field_keys("podman", "filter")
    ('caps', 'arches')
    """
    top = _TYPES[engine][1]
    rule = top["syscalls"][1][1][1]
    found = {
        "profile": top,
        "rule": rule,
        "arg": _ARG[1],
        "filter": (rule["includes"][1] if rule["includes"][0] == "ptr" else rule["includes"])[1],
        "archMap": _ARCHMAP[1],
    }[where]
    return tuple(found)


@dataclass
class _Decoder:
    engine: Engine

    @property
    def go121(self) -> bool:
        return self.engine == "docker"

    def fail(self, what: str, gotype: str, path: str) -> EngineRefusedError:
        struct = "Seccomp" if "." not in path and "[" not in path else _struct_of(path)
        where = path.replace("[", ".[").split(".")
        field = ".".join(p for p in where if not p.startswith("["))
        return EngineRefusedError(
            self.engine,
            f"json: cannot unmarshal {what} into Go struct field {struct}.{field} of type {gotype}",
            location=path or "$",
        )

    def value(self, raw: object, kind: Any, path: str) -> Any:  # noqa: ANN401 - Go values
        if raw is None:
            return _zero(kind)
        if kind == "string":
            if not isinstance(raw, str):
                raise self.fail(_json_kind(raw), "string", path)
            return raw
        if kind == "uint":
            if isinstance(raw, bool) or not isinstance(raw, (int, float)):
                raise self.fail(_json_kind(raw), "uint", path)
            if isinstance(raw, float) or not 0 <= raw <= _U64:
                raise self.fail(f"number {_number(raw)}", "uint", path)
            return raw
        if kind == "kernel":
            return _decode_kernel_version(raw, self.engine, path)
        tag, inner = kind
        if tag == "ptr":
            return self.value(raw, inner, path)
        if tag == "slice":
            if not isinstance(raw, list):
                raise self.fail(_json_kind(raw), _go_type(kind), path)
            return [self.value(item, inner, f"{path}[{i}]") for i, item in enumerate(raw)]
        if not isinstance(raw, Mapping):
            raise self.fail(_json_kind(raw), _go_type(kind), path)
        out = _zero(kind)
        for key, item in raw.items():
            field = _field(key, inner, go121=self.go121)
            if field is None:
                continue  # Go ignores keys no field matches
            sub = inner[field]
            out[field] = self.value(item, sub, f"{path}.{field}" if path else field)
        return out


def _struct_of(path: str) -> str:
    if ".args" in path:
        return "Syscall" if path.endswith(".args") else "LinuxSeccompArg"
    if ".includes" in path or ".excludes" in path:
        return "Filter"
    if path.startswith("archMap["):
        return "Architecture"
    if path.startswith("syscalls["):
        return "Syscall"
    return "Seccomp"


def _zero(kind: Any) -> Any:  # noqa: ANN401 - Go values
    if kind == "string":
        return ""
    if kind == "uint":
        return 0
    if kind == "kernel":
        return None
    tag, inner = kind
    if tag in ("ptr", "slice"):
        return None
    return {name: _zero(sub) for name, sub in inner.items()}


def _json_kind(raw: object) -> str:
    if isinstance(raw, bool):
        return "bool"
    if isinstance(raw, str):
        return "string"
    if isinstance(raw, (int, float)):
        return "number"
    return "array" if isinstance(raw, list) else "object"


def _number(raw: float) -> str:
    return "-0" if raw == 0 and isinstance(raw, float) else str(raw)


def _go_type(kind: Any) -> str:  # noqa: ANN401
    if isinstance(kind, str):
        return _GO_NAMES[kind]
    tag, inner = kind
    if tag == "slice":
        return "[]" + _go_type(inner)
    if tag == "ptr":
        return "*" + _go_type(inner)
    keys = tuple(inner)
    return {
        ("index", "value", "valueTwo", "op"): "specs.LinuxSeccompArg",
        ("architecture", "subArchitectures"): "seccomp.Architecture",
    }.get(keys, "seccomp.Filter" if "caps" in keys else "seccomp.Syscall" if "action" in keys else "seccomp.Seccomp")


def _decode_kernel_version(raw: object, engine: Engine, path: str) -> tuple[int, int]:
    """Moby's KernelVersion.UnmarshalJSON: a string "X.Y" of two 8-bit numbers, not 0.0; "" is 0.0."""
    shown = f'"{raw}"' if isinstance(raw, str) else _json_kind(raw)
    bad = EngineRefusedError(engine, f'invalid kernel version: {shown}, expected "<kernel>.<major>"', location=path)
    if not isinstance(raw, str):
        raise bad
    if raw == "":
        return (0, 0)
    parts = raw.split(".", 2)
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() and int(p) <= 255 for p in parts):
        raise bad
    version = (int(parts[0]), int(parts[1]))
    if version == (0, 0):
        why = f'invalid kernel version: "{raw}", expected "<kernel>.<major>": version cannot be 0.0'
        raise EngineRefusedError(engine, why, location=path)
    return version


def decode(doc: object, engine: Engine) -> dict[str, Any]:
    """Return the profile as ``engine``'s Go types hold it after ``json.Unmarshal``.

    Raises:
        EngineRefusedError: the engine's decoder fails (a value of the wrong type, a bad minKernel).

    >>> decode({"syscalls": [{"Names": "read"}]}, "podman")
    Traceback (most recent call last):
    ...
    seccompose.errors.EngineRefusedError: Podman refuses the profile: json: cannot unmarshal string into Go struct
    field Syscall.syscalls.names of type []string at syscalls[0].names
    >>> decode({"syscalls": [{"Names": None, "errno": "EPERM"}]}, "docker")["syscalls"][0]["names"] is None
    True
    """
    if not isinstance(doc, Mapping):
        raise EngineRefusedError(
            engine, f"json: cannot unmarshal {_json_kind(doc)} into Go value of type seccomp.Seccomp", location="$"
        )
    decoded: dict[str, Any] = _Decoder(engine).value(doc, _TYPES[engine], "")
    return decoded


# --- setupSeccomp -----------------------------------------------------------------------------------

def _errno_of(text: str, default: int | None, engine: Engine, path: str) -> int | None:
    """containers/common getErrno: decimal (32-bit) first, then its errno name table."""
    if text == "":
        return default
    if text.isascii() and text.isdigit() and int(text) <= 0xFFFFFFFF:
        return int(text)
    if text in PODMAN_ERRNO_NAMES:
        return int(getattr(_errno, text))
    raise EngineRefusedError(engine, f"unknown errno {text}", location=path)


PODMAN_ERRNO_NAMES: Final = frozenset(
    """
    EPERM ENOENT ESRCH EIO ENXIO E2BIG ENOEXEC EBADF ECHILD EDEADLK ENOMEM EACCES EFAULT ENOTBLK EBUSY
    EEXIST EXDEV ENODEV ENOTDIR EISDIR EINVAL ENFILE EMFILE ENOTTY ETXTBSY EFBIG ENOSPC ESPIPE EROFS
    EMLINK EPIPE EDOM ERANGE EAGAIN EINPROGRESS EALREADY ENOTSOCK EDESTADDRREQ EMSGSIZE EPROTOTYPE
    ENOPROTOOPT EPROTONOSUPPORT ESOCKTNOSUPPORT EOPNOTSUPP EPFNOSUPPORT EAFNOSUPPORT EADDRINUSE
    EADDRNOTAVAIL ENETDOWN ENETUNREACH ENETRESET ECONNABORTED ECONNRESET ENOBUFS EISCONN ENOTCONN
    ESHUTDOWN ETOOMANYREFS ETIMEDOUT ECONNREFUSED ELOOP ENAMETOOLONG EHOSTDOWN EHOSTUNREACH ENOTEMPTY
    EUSERS EDQUOT ESTALE EREMOTE ENOLCK ENOSYS EILSEQ ENOMEDIUM EMEDIUMTYPE EOVERFLOW ECANCELED EIDRM
    ENOMSG ENOTSUP EBADMSG ENOTRECOVERABLE EOWNERDEAD
    """.split()  # noqa: SIM905 - the table, as a block of names
)
"""The errno names containers/common's ``errnoArch`` table knows (pkg/seccomp/errno_list.go)."""


def _panic(engine: Engine, what: str, path: str) -> EngineRefusedError:
    return EngineRefusedError(engine, f"nil pointer dereference on {what}", location=path, panic=True)


def _dropped(
    engine: Engine, call: dict[str, Any], native: str, bounding: frozenset[str], kernel: tuple[int, int]
) -> bool:
    inc, exc = call["includes"], call["excludes"]
    docker = engine != "podman"
    if exc is not None:
        if exc["arches"] and native in exc["arches"]:
            return True
        if exc["caps"] and any(c in bounding for c in exc["caps"]):
            return True
        if docker and exc["minKernel"] is not None and kernel >= exc["minKernel"]:
            return True
    if inc is not None:
        if inc["arches"] and native not in inc["arches"]:
            return True
        if inc["caps"] and any(c not in bounding for c in inc["caps"]):
            return True
        if docker and inc["minKernel"] is not None and kernel < inc["minKernel"]:
            return True
    return False


def _rule_out(names: list[str] | None, action: str, errno: int | None, args: list[Any] | None) -> dict[str, Any]:
    # specs.LinuxSyscall: names (no omitempty: nil is null), action, errnoRet (omitempty pointer), args (omitempty)
    out: dict[str, Any] = {"names": names, "action": action}
    if errno is not None:
        out["errnoRet"] = errno
    if args:
        out["args"] = [_arg_out(a) for a in args]
    return out


def _arg_out(arg: dict[str, Any]) -> dict[str, Any]:
    # specs.LinuxSeccompArg: index, value, valueTwo (omitempty), op
    out: dict[str, Any] = {"index": arg["index"], "value": arg["value"]}
    if arg["valueTwo"]:
        out["valueTwo"] = arg["valueTwo"]
    out["op"] = arg["op"]
    return out


def setup(  # noqa: PLR0915 - setupSeccomp's steps, in its order
    doc: object,
    *,
    engine: Engine,
    arch: Arch,
    caps: Iterable[str],
    kernel: tuple[int, int],
) -> dict[str, Any] | None:
    """Return the ``linux.seccomp`` object ``engine`` gives a container, or None: it runs unconfined.

    ``doc`` is the decoded JSON document; ``caps`` the container's bounding set (``CAP_*``
    strings, compared exactly as the engines do); ``kernel`` the host's (major, minor).

    Raises:
        EngineRefusedError: the engine refuses the profile (its decoder or ``setupSeccomp``
            returns an error) or panics on it (a ``null`` rule or argument).
    """
    if engine not in ENGINES:
        raise InvalidEngineError(str(engine), choices=ENGINES)
    config = decode(doc, engine)
    bounding = frozenset(caps)
    native = engine_arch_name(engine, arch)
    calls: list[dict[str, Any] | None] = config["syscalls"] or []
    if config["defaultAction"] == "" and not calls:
        return None  # "no default action specified, no syscalls listed, assume seccomp disabled"
    if config["architectures"] and config["archMap"]:
        raise EngineRefusedError(
            engine,
            "'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or "
            "'archMap'",
            location="archMap",
        )
    architectures = list(config["architectures"] or [])
    if archmap_key(engine, arch) is not None:
        for entry in config["archMap"] or []:
            if entry["architecture"] == arch.oci:
                architectures += [entry["architecture"], *(entry["subArchitectures"] or [])]
                break
    out: dict[str, Any] = {"defaultAction": config["defaultAction"]}
    if engine == "podman":
        default_errno = _errno_of(config["defaultErrno"], config["defaultErrnoRet"], engine, "defaultErrno")
    else:
        default_errno = config.get("defaultErrnoRet")
    if default_errno is not None:
        out["defaultErrnoRet"] = default_errno
    if architectures:
        out["architectures"] = architectures
    for key in ("flags", "listenerPath", "listenerMetadata"):
        if config.get(key):
            out[key] = list(config[key]) if key == "flags" else config[key]
    rules: list[dict[str, Any]] = []
    for i, call in enumerate(calls):
        where = f"syscalls[{i}]"
        if call is None:
            raise _panic(engine, "a null entry of syscalls", where)
        conflict = call["name"] != "" and bool(call["names"])
        if conflict and engine == "docker":  # moby/profiles checks before the conditions
            raise _name_and_names(engine, where)
        if _dropped(engine, call, native, bounding, kernel):
            continue
        if conflict:
            raise _name_and_names(engine, where)
        args = call["args"] or []
        if engine != "docker" and any(a is None for a in args):
            raise _panic(engine, "a null entry of args", f"{where}.args[{args.index(None)}]")
        if engine == "docker":
            args = [a if a is not None else _zero(_ARG) for a in args]  # []LinuxSeccompArg: null is a zero arg
        if engine == "podman":
            errno = _errno_of(call["errno"], call["errnoRet"], engine, f"{where}.errno")
            if call["name"]:
                rules.append(_rule_out([call["name"]], call["action"], errno, args))
            if call["names"]:
                rules.append(_rule_out(call["names"], call["action"], errno, args))
            continue  # a rule with neither is dropped
        names = [call["name"]] if call["name"] else call["names"]
        rules.append(_rule_out(names, call["action"], call["errnoRet"], args))
    if rules:
        out["syscalls"] = rules
    return out


def _name_and_names(engine: Engine, where: str) -> EngineRefusedError:
    return EngineRefusedError(
        engine,
        "'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'",
        location=where,
    )


def normalize(doc: object) -> object:
    """Return a profile document as Docker (23+) reads it, in canonical keys: for checks that follow the engine.

    Keys matched case-insensitively get their field's name, ``null`` values and unknown keys are
    dropped, ``name`` becomes ``names``. A document Docker refuses is returned unchanged.

    >>> normalize({"DefaultAction": "SCMP_ACT_ERRNO", "foo": 1, "syscalls": [{"name": "read", "Action": None}]})
    {'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': [{'action': '', 'names': ['read']}]}
    """
    try:
        config = decode(doc, "docker")
    except EngineRefusedError:
        return doc
    out: dict[str, Any] = {k: v for k, v in config.items() if v is not None and v != "" and k != "syscalls"}
    rules = []
    for call in config["syscalls"] or []:
        if call is None:
            continue
        rule: dict[str, Any] = {"action": call["action"]}
        names = [call["name"]] if call["name"] and not call["names"] else call["names"]
        if names is not None:
            rule["names"] = names
        for key in ("errnoRet", "comment"):
            if call[key] not in (None, ""):
                rule[key] = call[key]
        if call["args"]:
            rule["args"] = [_arg_out(a if a is not None else _zero(_ARG)) for a in call["args"]]
        for key in ("includes", "excludes"):
            gate = call[key]
            if gate is not None:
                kept = {k: v for k, v in gate.items() if v is not None and k != "minKernel"}
                if gate["minKernel"] is not None:
                    kept["minKernel"] = "{}.{}".format(*gate["minKernel"]) if gate["minKernel"] != (0, 0) else ""
                rule[key] = kept
        rules.append(rule)
    if config["syscalls"] is not None:
        out["syscalls"] = rules
    return out


def ignored(doc: object, *, engine: Engine) -> tuple[str, ...]:
    """Return warnings for what ``engine`` silently ignores in a profile where that changes the container.

    Docker 20.10 has no ``defaultErrnoRet`` (the container gets EPERM), ``flags`` or listener
    fields; Docker never reads the ``errno``/``defaultErrno`` names Podman reads; Podman never
    reads ``minKernel``. A document the engine refuses gives no warning (the refusal says more).

    >>> ignored({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38}, engine="docker-20.10")
    ('Docker 20.10 ignores defaultErrnoRet (38): the container gets EPERM for every syscall no rule names',)
    """
    try:
        config = decode(doc, engine)
        newest = decode(doc, "podman" if engine == "podman" else "docker")
    except EngineRefusedError:
        return ()
    name = _NAMES[engine]
    out = []
    if engine == "docker-20.10":
        errno = newest["defaultErrnoRet"]
        if errno is not None and errno != _errno.EPERM:
            out.append(
                f"{name} ignores defaultErrnoRet ({errno}): the container gets EPERM for every syscall no rule names"
            )
        out += [
            f"{name} ignores {key} ({_short(newest[key])}): Docker 23 and Podman pass it to the runtime"
            for key in ("flags", "listenerPath", "listenerMetadata")
            if newest[key]
        ]
    if engine != "podman":
        podman = _decode_quietly(doc, "podman")
        if podman is not None:
            # an errno name changes nothing where Docker's number is the same (Podman's own profile has both)
            default = None if engine == "docker-20.10" else podman["defaultErrnoRet"]
            if podman["defaultErrno"] and _named(podman["defaultErrno"]) not in (default or _errno.EPERM, None):
                out.append(
                    f"{name} ignores defaultErrno ({podman['defaultErrno']!r}); only Podman reads errno names: "
                    f"the container gets {default or _errno.EPERM}, not {_named(podman['defaultErrno'])}"
                )
            out += [
                f"{name} ignores syscalls[{i}].errno ({call['errno']!r}); only Podman reads errno names: the rule "
                f"returns {call['errnoRet'] or _errno.EPERM}, not {_named(call['errno'])}; write errnoRet"
                for i, call in enumerate(podman["syscalls"] or [])
                if call is not None
                and call["errno"]
                and _named(call["errno"]) not in (call["errnoRet"] or _errno.EPERM, None)
            ]
    else:
        docker = _decode_quietly(doc, "docker")
        calls = (docker or {}).get("syscalls") or []
        out += [
            f"{name} ignores syscalls[{i}].{gate}.minKernel ({_version(call[gate]['minKernel'])}): it "
            + ("keeps the rule on every kernel" if gate == "includes" else "never drops the rule for it")
            for i, call in enumerate(calls)
            for gate in ("includes", "excludes")
            if call is not None and call[gate] is not None and call[gate]["minKernel"] is not None
        ]
    del config
    return tuple(out)


def _named(text: str) -> int | None:
    """What Podman makes of an errno name or number (None: it refuses it)."""
    try:
        return _errno_of(text, None, "podman", "")
    except EngineRefusedError:
        return None


def _version(version: tuple[int, int]) -> str:
    return "{}.{}".format(*version)


def _decode_quietly(doc: object, engine: Engine) -> dict[str, Any] | None:
    try:
        return decode(doc, engine)
    except EngineRefusedError:
        return None


_INSTALLED: list[tuple[Engine, ...]] = []


def installed() -> tuple[Engine, ...]:
    """Return the readings of the engines installed here (``dockerd --version``, ``podman --version``).

    None installed: the newest Docker. Asked once per process. ``SECCOMPOSE_ENGINES`` (a
    comma-separated list such as ``docker-20.10,podman``) names them instead.

    >>> set(installed()) <= set(ENGINES)
    True
    """
    import os

    named = os.environ.get("SECCOMPOSE_ENGINES", "").strip()
    if named:
        return tuple(dict.fromkeys(parse_engine(e, location="SECCOMPOSE_ENGINES") for e in named.split(",") if e))
    if _INSTALLED:
        return _INSTALLED[0]
    import shutil
    import subprocess

    found: list[Engine] = []
    for binary, name in (("dockerd", "docker"), ("podman", "podman")):
        path = shutil.which(binary) or (f"/usr/sbin/{binary}" if binary == "dockerd" else None)
        if path is None:
            continue
        try:
            done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired):
            continue
        words = done.stdout.replace(",", " ").split()
        version = next((w for w in words if w[:1].isdigit()), "")
        if done.returncode == 0 and version:
            found.append(parse_engine(f"{name}-{version}"))
    _INSTALLED.append(tuple(found) or ("docker",))
    return _INSTALLED[0]


def _short(value: object, limit: int = 60) -> str:
    """A value for a message: its repr, cut to ``limit`` characters (listenerMetadata is a whole JSON document)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def target_warnings(doc: object, engines: Iterable[str] | None) -> list[str]:
    """Return what the target engines (None: those installed) ignore in a profile document.

    Cheap when nothing could be ignored: the engines are only looked up (``installed()``) for a
    profile with a non-EPERM ``defaultErrnoRet``, flags, listener fields, errno names or a
    ``minKernel``.

    >>> target_warnings({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38}, ["docker-20.10", "podman"])
    ['Docker 20.10 ignores defaultErrnoRet (38): the container gets EPERM for every syscall no rule names']
    """
    if not isinstance(doc, Mapping) or not _may_be_ignored(doc):
        return []
    targets = installed() if engines is None else tuple(parse_engine(e) for e in engines)
    return [w for engine in dict.fromkeys(targets) for w in ignored(doc, engine=engine)]


def _may_be_ignored(doc: Mapping[str, Any]) -> bool:
    if doc.get("defaultErrnoRet") not in (None, _errno.EPERM) or any(
        doc.get(k) for k in ("flags", "listenerPath", "listenerMetadata", "defaultErrno")
    ):
        return True
    rules = doc.get("syscalls")
    if not isinstance(rules, list):
        return False
    text = repr(rules) if len(rules) < 10_000 else "minKernel"  # a huge list: ask rather than scan
    return "minKernel" in text or "'errno'" in text


def engine_document(profile: object, *, engine: Engine, source: str | None = None) -> object:
    r"""Return the decoded JSON document an engine reads, refusing a byte-order mark as Go's decoder does.

    ``profile`` is JSON text or bytes, an already decoded document, or a parsed
    :class:`~seccompose.formats.docker_profile.DockerProfile`.

    Raises:
        EngineRefusedError: the bytes start with a UTF-8 byte-order mark.
        FormatError: the text is not a JSON document seccompose reads (``docs/reference/inputs.md``).

    >>> engine_document(b'\xef\xbb\xbf{}', engine="docker")
    Traceback (most recent call last):
    ...
    seccompose.errors.EngineRefusedError: Docker refuses the profile: invalid character 'ï' looking for beginning ...
    """
    dump = getattr(profile, "model_dump", None)
    if dump is not None:  # a DockerProfile (pydantic), checked by duck type: no pydantic import here
        return dump(mode="json", by_alias=True, exclude={"ignored", "engine"}, exclude_defaults=True)
    if isinstance(profile, Mapping):
        return profile
    from seccompose._reader import parse_json

    if (isinstance(profile, bytes) and profile.startswith(b"\xef\xbb\xbf")) or (
        isinstance(profile, str) and profile.startswith("\ufeff")
    ):
        raise EngineRefusedError(
            engine,
            "invalid character 'ï' looking for beginning of value (Go's decoder does not skip a byte-order mark; "
            "save the file as UTF-8 without one)",
            location="line 1 column 1" + (f" in {source}" if source else ""),
        )
    if not isinstance(profile, (str, bytes)):
        msg = f"a profile is JSON text, bytes or a decoded document, not {type(profile).__name__}"
        raise TypeError(msg)
    return parse_json(profile, source=source)


def kernel_of(release: str | None, *, location: str = "--kernel") -> tuple[int, int]:
    """Return the (major, minor) of a kernel release, as the engines read uname's (None: the running kernel).

    Raises:
        FormatError: the text does not start with ``<major>.<minor>``.

    >>> kernel_of("6.18.44-1-amd64")
    (6, 18)
    """
    import os
    import re

    from seccompose.errors import FormatError

    text = os.uname().release if release is None else release
    found = re.match(r"\s*(\d{1,9})\.(\d{1,9})", text)
    if not found:
        raise FormatError(
            f"kernel release {text!r} does not start with '<major>.<minor>'; use e.g. '6.18'", location=location
        )
    return (int(found.group(1)), int(found.group(2)))


def has_folded_keys(doc: object) -> bool:
    """Whether a document has keys the engines (and runc) only match case-insensitively.

    >>> has_folded_keys({"DefaultAction": "SCMP_ACT_ERRNO"}), has_folded_keys({"defaultAction": "x", "foo": 1})
    (True, False)
    """
    fields = {f for e in ENGINES for w in ("profile", "rule", "arg", "filter", "archMap") for f in field_keys(e, w)}
    folded = {fold(f) for f in fields}
    stack: list[object] = [doc]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            if any(k not in fields and fold(k) in folded for k in item if isinstance(k, str)):
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False

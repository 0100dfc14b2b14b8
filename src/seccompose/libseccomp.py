"""The system libseccomp, through the ``pyseccomp`` ctypes binding (the extra ``seccompose[check]``).

:func:`build_filter` compiles a :class:`~seccompose.reading.RuntimeReading` as runc and crun
have libseccomp build it; :func:`compile_bpf` returns the program for a profile.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno as _errno
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, cast

from seccompose import _caches
from seccompose.actions import Action
from seccompose.arch import Arch
from seccompose.errors import (
    InvalidArchError,
    LibseccompUnavailableError,
)

if TYPE_CHECKING:
    from types import ModuleType

from seccompose.reading import (
    OPERATORS,
    SOCKETCALL_NAMES,
    Condition,
    Finding,
    LoadedRule,
    RuntimeReading,
    read_as_runtime,
)

__all__ = [
    "NR_SCMP_ERROR",
    "PNR_BASE",
    "X32_BIT",
    "arch_token",
    "build_filter",
    "compile_bpf",
    "libseccomp_version",
    "native_arch",
    "resolve_syscall",
]

NR_SCMP_ERROR: Final = -1
"""What libseccomp resolves a name it does not know to."""
PNR_BASE: Final = -10000
"""libseccomp's pseudo numbers for names not on an arch are <= this."""
X32_BIT: Final = 0x40000000
"""The x32 ABI's syscall numbers have this bit set."""

# --------------------------------------------------------------------------- libseccomp


def _pyseccomp() -> ModuleType:
    try:
        import pyseccomp
    except (ImportError, RuntimeError) as exc:  # pyseccomp raises RuntimeError without libseccomp.so
        raise LibseccompUnavailableError(str(exc)) from None
    return cast("ModuleType", pyseccomp)


@_caches.cache
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


def arch_token(arch: Arch) -> int | None:
    """Return libseccomp's token of ``arch`` (None: this libseccomp does not know it)."""
    value = getattr(_pyseccomp().Arch, arch.name, None)
    return value if isinstance(value, int) else None


def native_arch() -> Arch:
    """Return the arch libseccomp builds filters for natively."""
    pyseccomp = _pyseccomp()
    native = pyseccomp.system_arch()
    for arch in Arch:
        if arch_token(arch) == native:
            return arch
    raise InvalidArchError(str(native))


def resolve_syscall(arch: Arch | None, name: str) -> int:
    """Return libseccomp's number of ``name`` on ``arch`` (None: native; ``NR_SCMP_ERROR``: unknown)."""
    pyseccomp = _pyseccomp()
    token = 0 if arch is None else arch_token(arch)
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
        token = arch_token(arch)
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


def build_filter(
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
            number = numbers[rule.name] = resolve_syscall(None, rule.name)
        if number == NR_SCMP_ERROR:
            continue  # the runtimes skip it; check() reports it
        verdict = (
            _action_value(rule.action, rule.errno) if id(rule) in plain else value(rule.action, rule.errno)
        )
        key = (number, verdict, rule.conditions)
        try:
            if key not in outcome:
                args = [
                    p.Arg(
                        c.index,
                        OPERATORS.index(c.op.value) + 1,
                        c.value,
                        c.value_two if c.op.value == "SCMP_CMP_MASKED_EQ" else 0,
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
                if rule.name in SOCKETCALL_NAMES and rule.conditions and Arch.X86 in reading.architectures
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
    bpf, _, _ = build_filter(read_as_runtime(oci_seccomp, source=source))
    return bpf



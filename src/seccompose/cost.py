"""What a profile costs at run time: the program runc loads, and what the kernel can cache.

Every syscall of a confined process runs the seccomp filter, unless the kernel has cached
its verdict: since Linux 5.11, when a filter is attached, the kernel emulates it for every
syscall number of the native ABI and of the compat ABI with the arguments unknown, and
remembers the numbers whose verdict is a constant ``SECCOMP_RET_ALLOW``. Those skip the
filter (and every filter below it) from then on; every other call runs the whole BPF path.

:func:`runc_program` returns the exact program runc 1.1 hands the kernel for a profile:
libseccomp's exported program behind runc's ENOSYS stub.
"""

from __future__ import annotations

import errno as _errno
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from seccompose import bpf
from seccompose.actions import Action, errno_name
from seccompose.arch import Arch
from seccompose.errors import InvalidArchError
from seccompose.libseccomp import PNR_BASE, build_filter, native_arch, resolve_syscall
from seccompose.reading import UNFILTERABLE, LoadedRule, RuntimeReading, read_as_runtime
from seccompose.syscalls import TABLED_ARCHES, table

__all__ = ["AbiCost", "CostReport", "Layout", "cost", "runc_program", "runc_stub"]

# Classic BPF opcodes (linux/bpf_common.h) that runc's stub uses.
_LD_W_ABS: Final = 0x20
_JA: Final = 0x05
_JEQ: Final = 0x15
_JGT: Final = 0x25
_JSET: Final = 0x45
_RET_K: Final = 0x06
_RET_ERRNO: Final = 0x00050000
_OFF_NR: Final = 0
_OFF_ARCH: Final = 4
X32_BIT: Final = 0x40000000
_S390_SETUP: Final = 0  # s390's multiplexer for syscall numbers past the table

_Insn = tuple[int, int, int, int]  # code, jt, jf, k


def _pack(program: Sequence[_Insn]) -> bytes:
    return b"".join(struct.pack("=HBBI", *insn) for insn in program)


def _last_syscalls(reading: RuntimeReading) -> dict[int, dict[Arch, int]]:
    """Per audit arch, per profile arch: the largest syscall number a rule names (runc's findLastSyscalls)."""
    out: dict[int, dict[Arch, int]] = {}
    for arch in reading.architectures:
        audit = arch.audit
        if audit is None:
            continue  # an arch without a known AUDIT_ARCH value: no stub section, the filter decides
        numbers = [n for n in (resolve_syscall(arch, r.name) for r in (*reading.rules, *reading.skipped)) if n > 0]
        if numbers:
            out.setdefault(audit, {})[arch] = max(numbers)
    return out


def runc_stub(oci_seccomp: Mapping[str, Any] | RuntimeReading) -> bytes:
    """Return the ENOSYS stub runc 1.1 puts in front of libseccomp's program (b"" when it adds none).

    For syscall numbers above the largest one the profile names on each arch, runc returns
    ENOSYS instead of the default action, so that programs fall back from syscalls newer
    than the profile. The stub loads only the arch and the number, so it never makes a
    syscall uncacheable. runc adds none when the default action lets calls run (allow, log,
    trace) or already returns ENOSYS.

    >>> stub = runc_stub({"defaultAction": "SCMP_ACT_ERRNO",
    ...                   "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    ...                   "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]})
    >>> len(stub) // 8
    14
    """
    reading = oci_seccomp if isinstance(oci_seccomp, RuntimeReading) else read_as_runtime(oci_seccomp)
    if reading.default_action in (Action.ALLOW, Action.LOG, Action.TRACE) or (
        reading.default_action is Action.ERRNO and reading.default_errno == _errno.ENOSYS
    ):
        return b""
    enosys = _RET_ERRNO | _errno.ENOSYS
    # Built backwards, as runc does, so that every jump is measured from the end of the stub.
    tail: list[_Insn] = [(_JA, 0, 0, 1), (_RET_K, 0, 0, enosys)]  # into the filter / ENOSYS
    starts: dict[int, int] = {}
    last = _last_syscalls(reading)
    # runc walks a Go map (random order); the native arch first here, then by audit value.
    native = native_arch().audit
    for audit in sorted(last, key=lambda a: (a != native, a)):
        per_arch = last[audit]
        to_enosys = len(tail) - 1
        to_filter = to_enosys + 1
        section: list[_Insn] = [(_LD_W_ABS, 0, 0, _OFF_NR)]
        if len(per_arch) == 1:
            ((arch, top),) = per_arch.items()
            if arch in (Arch.S390, Arch.S390X):
                section.append((_JEQ, 0, 1, _S390_SETUP))  # jne setup, 1
                section.append((_RET_K, 0, 0, enosys))
            if to_enosys + 1 <= 255:
                body: list[_Insn] = [(_JGT, to_enosys + 1, 0, top), (_JA, 0, 0, to_filter)]
            else:
                body = [(_JGT, 0, 1, top), (_JA, 0, 0, to_enosys + 1), (_JA, 0, 0, to_filter)]
            if audit == Arch.X86_64.audit:
                # x86_64 and x32 share the audit arch: skip the section for the other mode.
                skip = len(body) - 1
                body.insert(0, (_JSET, skip, 0, X32_BIT) if arch is Arch.X86_64 else (_JSET, 0, skip, X32_BIT))
            section += body
        else:  # x86_64 with x32
            top64, top32 = per_arch[Arch.X86_64], per_arch[Arch.X32]
            if to_enosys + 2 <= 255:
                section += [
                    (_JSET, 1, 0, X32_BIT),
                    (_JGT, to_enosys + 2, 1, top64),
                    (_JGT, to_enosys + 1, 0, top32),
                    (_JA, 0, 0, to_filter),
                ]
            else:
                section += [
                    (_JSET, 1, 0, X32_BIT),
                    (_JGT, 1, 2, top64),
                    (_JGT, 0, 1, top32),
                    (_JA, 0, 0, to_enosys + 1),
                    (_JA, 0, 0, to_filter),
                ]
        tail = section + tail
        starts[audit] = len(tail)
    tail = [(_JA, 0, 0, len(tail)), *tail]  # an arch of no section goes straight to the filter
    for audit in sorted(last, key=lambda a: (a != native, a), reverse=True):
        jump = len(tail) - starts[audit]
        near = jump <= 255
        tail = [*([(_JEQ, jump, 0, audit)] if near else [(_JEQ, 0, 1, audit), (_JA, 0, 0, jump)]), *tail]
    return _pack([(_LD_W_ABS, 0, 0, _OFF_ARCH), *tail])


def runc_program(oci_seccomp: Mapping[str, Any], *, binary_tree: bool | None = None) -> bytes:
    """Return the BPF program runc loads for a profile: its ENOSYS stub, then libseccomp's program.

    The bytes are ``struct sock_filter`` records of 8 bytes in host byte order, read the way
    runc and crun read the profile (see :func:`seccompose.check.read_as_runtime`). runc 1.1
    (Debian 12's 1.1.5) lays libseccomp's program out in libseccomp's default order
    (``binary_tree=False``); runc 1.2 and later ask for libseccomp's binary tree when a
    profile has more than 32 rules (``None``, the default; ``True`` forces it). crun 1.8
    loads the same program as runc 1.1, without the stub.

    Raises:
        LibseccompUnavailableError: pyseccomp or libseccomp.so.2 is missing.
        InvalidProfileError: the profile is malformed.

    >>> profile = {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
    ...            "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}
    >>> from seccompose.check import compile_bpf
    >>> len(runc_program(profile)) == len(runc_stub(profile)) + len(compile_bpf(profile))
    True
    """
    reading = read_as_runtime(oci_seccomp)
    bpf, _, _ = build_filter(reading, binary_tree=binary_tree)
    return runc_stub(reading) + bpf


# --------------------------------------------------------------------------- what the kernel caches

# Per host arch, the ABIs the kernel keeps a cache for (SECCOMP_ARCH_NATIVE, SECCOMP_ARCH_COMPAT).
# x32 calls reach the filter with x86_64's audit arch and bit 30 in the number, past the native
# cache's table: never cached.
_CACHED_ABIS: Final = {
    Arch.X86_64: (Arch.X86_64, Arch.X86),
    Arch.AARCH64: (Arch.AARCH64, Arch.ARM),
    Arch.X86: (Arch.X86,),
    Arch.ARM: (Arch.ARM,),
}
_MULTIPLEXERS: Final = {"socketcall": "socket", "ipc": "SysV IPC"}
_RUNS: Final = (bpf.SECCOMP_RET_ALLOW, bpf.SECCOMP_RET_LOG)
_TO_USERSPACE: Final = {
    bpf.SECCOMP_RET_TRACE: "SCMP_ACT_TRACE: every call stops for the tracer",
    bpf.SECCOMP_RET_USER_NOTIF: "SCMP_ACT_NOTIFY: every call waits for the seccomp agent",
}
Layout = Literal["linear", "tree"]


@dataclass(frozen=True, slots=True)
class AbiCost:
    """One ABI of a profile: which allowed syscalls the kernel caches, and why the others run the filter."""

    abi: Arch
    cacheable: tuple[str, ...]
    uncacheable: tuple[tuple[str, str], ...]
    """(name, reason) for every syscall the filter lets run (for some arguments) that it does not cache."""
    worst_case: int
    """The most instructions one call of this ABI executes (any number, any argument values)."""
    worst_call: str
    """The syscall (or ``#number``) of that worst case."""


@dataclass(frozen=True, slots=True)
class CostReport:
    """What a profile's filter costs per syscall, as :func:`cost` computes it."""

    instructions: int
    """Length of libseccomp's program in the chosen layout."""
    layout: Layout
    other_layout_instructions: int
    """Length of the program in the other layout, for comparison."""
    stub: int
    """Instructions runc's ENOSYS stub puts in front (0: none; crun adds none)."""
    abis: tuple[AbiCost, ...]

    @property
    def worst_case(self) -> int:
        """The most instructions one syscall can execute, over every ABI, number and argument value."""
        return max((a.worst_case for a in self.abis), default=0)

    def to_json(self) -> dict[str, Any]:
        """Return ``instructions``, ``abis`` (ABI -> ``cacheable``, ``uncacheable``) and ``worst_case``."""
        return {
            "instructions": self.instructions,
            "abis": {
                a.abi.value: {"cacheable": list(a.cacheable), "uncacheable": dict(a.uncacheable)} for a in self.abis
            },
            "worst_case": self.worst_case,
        }

    def format_text(self) -> str:
        """Return the report as text, one block per ABI."""
        if self.layout == "linear":
            how, other = "as runc 1.1 and crun build it (libseccomp's default order)", "as runc >= 1.2 builds it"
        else:
            how, other = "as runc >= 1.2 builds it (libseccomp's binary tree above 32 rules)", "as runc 1.1 and crun"
        stub = f"; runc puts its {self.stub}-instruction ENOSYS stub in front" if self.stub else ""
        head = f"cost: BPF program of {self.instructions} instructions {how}; {other}: "
        lines = [f"{head}{self.other_layout_instructions}{stub}"]
        if self.abis:
            worst = max(self.abis, key=lambda a: a.worst_case)
            lines.append(
                f"  worst case: {self.worst_case} instructions for one syscall "
                f"({worst.worst_call} on {worst.abi.value})"
            )
        for a in self.abis:
            allowed = len(a.cacheable) + len(a.uncacheable)
            lines.append(
                f"  {a.abi.value}: {len(a.cacheable)} of {allowed} allowed syscalls cached by the kernel; "
                f"the others run the filter (up to {a.worst_case} instructions)"
            )
            reasons: dict[str, list[str]] = {}
            for name, reason in a.uncacheable:
                reasons.setdefault(reason, []).append(name)
            for reason, names in reasons.items():
                if len(names) > 8:
                    lines.append(f"    {len(names)} syscalls: {reason}")
                else:
                    lines += [f"    {name}: {reason}" for name in names]
        return "\n".join(lines)


def cost(
    oci_seccomp: Mapping[str, Any],
    *,
    layout: Layout = "tree",
    source: str | None = None,
) -> CostReport:
    """Return what a profile's filter costs per syscall on its host: cached calls, the others, the worst case.

    The program is libseccomp's, laid out as runc and crun build it (``layout``:
    ``"linear"``, libseccomp's default order, runc 1.1 and crun 1.8; ``"tree"``, the binary
    tree runc 1.2 and later ask for above 32 rules). For each ABI of the host, each syscall
    the filter lets run for some arguments is either cached by the kernel (the kernel's own
    emulation, with the arguments unknown, reaches ``SECCOMP_RET_ALLOW``) or runs the filter
    on every call, with the reason: the rules that look at its arguments, an action other
    than allow, or an ABI the kernel keeps no cache for (x32).

    Raises:
        LibseccompUnavailableError: pyseccomp or libseccomp.so.2 is missing.
        InvalidProfileError: the profile is malformed.

    >>> report = cost({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
    ...                "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
    ...                             {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
    ...                              "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]})
    >>> abis = report.to_json()["abis"]
    >>> abis["x86_64"]
    {'cacheable': ['read', 'write'], 'uncacheable': {'personality': 'arg0 checked by syscalls[1] (allow if arg0 == 8)'}}
    """
    reading = read_as_runtime(oci_seccomp, source=source)
    native = native_arch()
    arches = reading.architectures or (native,)
    foreign = native not in arches
    host = arches[0] if foreign else native
    filtered = arches if foreign else tuple(dict.fromkeys((native, *arches)))
    linear, _, _ = build_filter(reading, drop_native=foreign, binary_tree=False)
    tree, _, _ = build_filter(reading, drop_native=foreign)  # runc >= 1.2: the tree above 32 rules only
    raw, other = (tree, linear) if layout == "tree" else (linear, tree)
    program = bpf.Program.from_bytes(raw)
    cached = _CACHED_ABIS.get(host, (host,))
    abis = tuple(
        _abi_cost(program, reading, abi, cached=abi in cached) for abi in filtered if abi in TABLED_ARCHES
    )
    return CostReport(len(program), layout, len(other) // 8, len(runc_stub(reading)) // 8, abis)


def _abi_cost(program: bpf.Program, reading: RuntimeReading, abi: Arch, *, cached: bool) -> AbiCost:
    tab = table(abi)
    audit = Arch.X86_64.audit if abi is Arch.X32 else abi.audit
    if audit is None:  # pragma: no cover - every tabled arch has an audit value
        raise InvalidArchError(abi.value)
    base = X32_BIT if abi is Arch.X32 else 0
    exempt = UNFILTERABLE.get(abi, {})
    cacheable: list[str] = []
    uncacheable: list[tuple[str, str]] = []
    worst, worst_call = 0, ""
    numbers = sorted(set(tab.numbers()) | set(range(base, max(tab.numbers()) + 16)))
    for number in numbers:
        name = tab.name(number) if number in tab.numbers() else f"#{number & ~X32_BIT}"
        longest = program.longest(number, audit)
        if longest > worst:
            worst, worst_call = longest, name
        if name in exempt and exempt[name] == number:
            continue  # the kernel runs it without consulting seccomp
        if name.startswith("#"):
            continue
        const = program.const(number, audit)
        if const.value is not None:
            value = const.value & 0xFFFF0000
            if value not in _RUNS and value not in _TO_USERSPACE:
                continue  # refused whatever the arguments
            if value in _TO_USERSPACE:
                uncacheable.append((name, _TO_USERSPACE[value]))
            elif value == bpf.SECCOMP_RET_LOG:
                uncacheable.append((name, "SCMP_ACT_LOG: the kernel caches only SCMP_ACT_ALLOW"))
            elif not cached:
                uncacheable.append((name, _no_cache(abi)))
            else:
                cacheable.append(name)
            continue
        returns = program.returns(number, audit)
        if not any(r is None or (r & 0xFFFF0000) in (*_RUNS, *_TO_USERSPACE) for r in returns):
            continue  # refused whatever the arguments
        uncacheable.append((name, _no_cache(abi) if not cached else _why(reading, abi, name, const)))
    return AbiCost(abi, tuple(sorted(cacheable)), tuple(sorted(uncacheable)), worst, worst_call)


def _no_cache(abi: Arch) -> str:
    if abi is Arch.X32:
        return "x32 calls are never cached (their numbers carry bit 30, past the kernel's cache)"
    return f"the kernel keeps no cache for {abi.value} calls on this host"


def _verb(rule: LoadedRule) -> str:
    if rule.action.allows:
        return "allow" if rule.action is Action.ALLOW else "log"
    return rule.action.value.removeprefix("SCMP_ACT_").lower() + (f" {errno_name(rule.errno)}" if rule.errno else "")


def _why(reading: RuntimeReading, abi: Arch, name: str, const: bpf.ConstResult) -> str:
    """Name the rules that make the filter look at this call's arguments."""
    # the table's name for this number; libseccomp resolves x86's socket and IPC calls to pseudo
    # numbers and then adds the direct number too, so the name is what decides
    rules = [r for r in reading.rules if r.name == name and r.conditions]
    if rules:
        where = sorted({r.location.split(".")[0] for r in rules}, key=lambda s: int(s.split("[")[1].rstrip("]")))
        indexes = sorted({c.index for r in rules for c in r.conditions})
        shown = "; ".join(f"{_verb(r)} if {' and '.join(c.describe() for c in r.conditions)}" for r in rules[:6])
        more = f"; and {len(rules) - 6} more" if len(rules) > 6 else ""
        args = ", ".join(f"arg{i}" for i in indexes)
        return f"{args} checked by {', '.join(where)} ({shown}{more})"
    if abi is Arch.X86 and name in _MULTIPLEXERS:
        subs = sorted(
            {r.name for r in reading.rules if r.name != name and PNR_BASE < resolve_syscall(abi, r.name) < 0}
            | {r.name for r in reading.rules if r.name != name and _multiplexed(r.name, name)}
        )
        what = _MULTIPLEXERS[name]
        listed = ", ".join(subs[:12]) + (f" and {len(subs) - 12} more" if len(subs) > 12 else "")
        return (
            f"libseccomp checks arg0, the {what} sub-call, to let through only the {what} calls the profile names "
            f"({listed}); allow {name} unconditionally to cache it, if every {what} call may run"
        )
    return f"the filter loads {const.reason.removeprefix('loads ')} on its path (instruction {const.stop})"


def _multiplexed(name: str, multiplexer: str) -> bool:
    from seccompose.reading import SOCKETCALL_NAMES

    if multiplexer == "socketcall":
        return name in SOCKETCALL_NAMES
    return name in _IPC_NAMES


_IPC_NAMES: Final = frozenset(
    {"semop", "semget", "semctl", "semtimedop", "msgsnd", "msgrcv", "msgget", "msgctl", "shmat", "shmdt", "shmget",
     "shmctl"}
)  # fmt: skip

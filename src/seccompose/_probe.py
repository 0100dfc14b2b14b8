"""Kernel probe: ask the running kernel for its seccomp verdict on every syscall number.

A forked child loads a *probe copy* of the compiled filter, in which every action that
would let a call run (or kill, trap, trace, notify) is replaced by ``SCMP_ACT_ERRNO`` with
a distinct sentinel errno; the profile's own errno actions stay as they are. The child
then makes every syscall number of each ABI the host runs: x86_64 through ``syscall``,
the i386 compat ABI through ``int 0x80`` and x32 through ``syscall`` with bit 30 set,
from a few bytes of machine code in an executable page (so no Python runs, and nothing
allocates, between the calls). Each return value is the kernel's verdict, read without
the call ever running. Results go through shared memory; the parent compares them with
what the profile intends (under runc's reading) and prints an agreement table.

Argument conditions are probed with values that hit and miss each condition; where no
such value exists (or two rules overlap) the number is reported as ``conditional``.

Known limits (measured on Linux 6.18): ``exit``/``exit_group`` cannot be probed (the
child must exit), and x86_64 ``uretprobe`` (335) and ``uprobe`` (336) pass seccomp
unfiltered: they are skipped and reported as unfilterable.
"""

from __future__ import annotations

import ctypes
import dataclasses
import mmap
import os
import signal
import time
from typing import TYPE_CHECKING, Any, Final, Literal

from seccompose.actions import Action, errno_name
from seccompose.arch import Arch, host_arch
from seccompose.errors import InvalidProfileError, ProbeError
from seccompose.libseccomp import NR_SCMP_ERROR, PNR_BASE, X32_BIT, build_filter, native_arch, resolve_syscall
from seccompose.reading import U64, UNFILTERABLE, Condition, LoadedRule, RuntimeReading, read_as_runtime, rule_key
from seccompose.runner import FilterLoader
from seccompose.syscalls import table

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

__all__ = ["ProbeResult", "ProbeRow", "Verdict", "probe"]

# Sentinel errnos: above every real errno (the kernel's largest is 133) and below MAX_ERRNO.
_SENTINEL: Final = {
    Action.ALLOW: 4001,
    Action.LOG: 4002,
    Action.TRAP: 4003,
    Action.KILL_THREAD: 4004,
    Action.KILL_PROCESS: 4005,
    Action.TRACE: 4006,
    Action.NOTIFY: 4007,
}
_BADARCH_SENTINEL: Final = 4008
_BY_SENTINEL: Final = {v: k for k, v in _SENTINEL.items()}
_MAX_ERRNO: Final = 4095
_U32: Final = (1 << 32) - 1

# x86_64 machine code (assembled with GNU as from the listing below; `tests/integration/
# test_probe.py` re-assembles it when `as` is installed and compares the bytes).
#   probe64(const u64 *calls, u64 count, i64 *out) / probe32(same): save rbx rbp r12-r15;
#   r12=calls r13=count r14=out r15=0; loop: if r15>=r13 break; load nr and six args from
#   calls[0..6] into rax rdi rsi rdx r10 r8 r9 (probe64) or eax ebx ecx edx esi edi ebp
#   (probe32); `syscall` (0f 05) / `int 0x80` (cd 80) + movsxd rax,eax; out[r15]=rax;
#   calls += 56; r15++; restore; ret.
_PROBE64: Final = bytes.fromhex(
    "535541544155415641574989fc4989f54989d64d31ff4d39ef7331498b0424498b7c2408498b742410"
    "498b5424184d8b5424204d8b4424284d8b4c24300f054b8904fe4983c43849ffc7ebca415f415e415d"
    "415c5d5bc3"
)
_PROBE32: Final = bytes.fromhex(
    "535541544155415641574989fc4989f54989d64d31ff4d39ef7334418b0424418b5c2408418b4c2410"
    "418b542418418b742420418b7c2428418b6c2430cd804863c04b8904fe4983c43849ffc7ebc7415f41"
    "5e415d415c5d5bc3"
)
_SKIP: Final = {
    Arch.X86_64: {60: "exit", 231: "exit_group"},
    Arch.X86: {1: "exit", 252: "exit_group"},
    Arch.X32: {60 | X32_BIT: "exit", 231 | X32_BIT: "exit_group"},
}
_EXTRA_NUMBERS: Final = 16  # unassigned numbers probed past each table's end
_MAX_VECTORS: Final = 24  # argument vectors per syscall


@dataclasses.dataclass(frozen=True, slots=True, order=True)
class Verdict:
    """What the filter answers for one call: an action, with its errno for ERRNO/TRACE.

    ``kind`` is an :class:`~seccompose.actions.Action` value, ``"badarch"`` (the ABI is not in
    the filter), or ``"ran"`` (the call was not filtered and returned ``errno`` as its value).

    >>> str(Verdict("SCMP_ACT_ERRNO", 1)), str(Verdict("SCMP_ACT_ALLOW"))
    ('errno EPERM', 'allow')
    """

    kind: str
    errno: int | None = None

    def __str__(self) -> str:
        if self.kind == Action.ERRNO.value:
            return f"errno {errno_name(self.errno or 0)}"
        if self.kind == "ran":
            return f"ran (returned {self.errno})"
        return self.kind.removeprefix("SCMP_ACT_").lower()


@dataclasses.dataclass(frozen=True, slots=True)
class ProbeRow:
    """One probed (or skipped) call: ABI, number, name, arguments, intended and kernel verdicts.

    ``status`` is ``agree``, ``disagree``, ``skipped`` (cannot be probed, see ``note``) or
    ``conditional`` (argument conditions with no probe values, or overlapping rules).
    """

    abi: Arch
    number: int
    name: str
    args: tuple[int, ...]
    intended: Verdict | None
    kernel: Verdict | None
    status: Literal["agree", "disagree", "skipped", "conditional"]
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        """Return the row as a JSON-ready dict."""
        return {
            "abi": self.abi.value,
            "number": self.number,
            "name": self.name,
            "args": list(self.args),
            "intended": str(self.intended) if self.intended else None,
            "kernel": str(self.kernel) if self.kernel else None,
            "status": self.status,
            **({"note": self.note} if self.note else {}),
        }


@dataclasses.dataclass(frozen=True, slots=True)
class ProbeResult:
    """Every probed call, per ABI, with the kernel facts the probe found."""

    rows: tuple[ProbeRow, ...]
    abis: tuple[Arch, ...]
    kernel: str
    x32_in_kernel: bool
    ia32_in_kernel: bool

    @property
    def disagreements(self) -> tuple[ProbeRow, ...]:
        """The calls where the kernel's verdict differs from the profile's intent."""
        return tuple(r for r in self.rows if r.status == "disagree")

    @property
    def ok(self) -> bool:
        """Whether every probed call agrees (100% agreement)."""
        return not self.disagreements

    def summary(self) -> list[dict[str, Any]]:
        """Return one agreement row per ABI (counts and the verdict breakdown)."""
        out = []
        for abi in self.abis:
            rows = [r for r in self.rows if r.abi is abi]
            probed = [r for r in rows if r.status in ("agree", "disagree")]
            agree = sum(r.status == "agree" for r in probed)
            breakdown: dict[str, int] = {}
            for r in probed:
                if not any(r.args):
                    breakdown[str(r.kernel)] = breakdown.get(str(r.kernel), 0) + 1
            out.append(
                {
                    "abi": abi.value,
                    "numbers": len({r.number for r in probed}),
                    "calls": len(probed),
                    "argumentCalls": sum(1 for r in probed if any(r.args)),
                    "agree": agree,
                    "disagree": len(probed) - agree,
                    "agreement": f"{100.0 * agree / len(probed):.1f}%" if probed else "n/a",
                    "skipped": sorted({f"{r.name} ({r.number & ~X32_BIT})" for r in rows if r.status == "skipped"}),
                    "conditional": sorted({r.name for r in rows if r.status == "conditional"}),
                    "verdicts": dict(sorted(breakdown.items())),
                }
            )
        return out

    def to_json(self) -> dict[str, Any]:
        """Return the result as a JSON-ready dict (summary plus every disagreement)."""
        return {
            "kernel": self.kernel,
            "x32InKernel": self.x32_in_kernel,
            "ia32InKernel": self.ia32_in_kernel,
            "ok": self.ok,
            "abis": self.summary(),
            "disagreements": [r.to_json() for r in self.disagreements],
        }

    def format_table(self) -> str:
        """Return the agreement table as text."""
        head = f"{'ABI':<8} {'numbers':>7} {'calls':>6} {'w/ args':>7} {'agree':>6} {'disagree':>8} {'agreement':>9}"
        lines = [f"kernel probe on Linux {self.kernel}", head, "-" * len(head)]
        lines += [
            f"{s['abi']:<8} {s['numbers']:>7} {s['calls']:>6} {s['argumentCalls']:>7} {s['agree']:>6} "
            f"{s['disagree']:>8} {s['agreement']:>9}"
            for s in self.summary()
        ]
        for s in self.summary():
            verdicts = ", ".join(f"{k}: {v}" for k, v in s["verdicts"].items())
            lines.append(f"  {s['abi']}: {verdicts}")
            if s["skipped"]:
                lines.append(f"  {s['abi']} skipped (not probeable): {', '.join(s['skipped'])}")
            if s["conditional"]:
                lines.append(f"  {s['abi']} conditional (not fully probed): {', '.join(s['conditional'])}")
        if not self.x32_in_kernel:
            lines.append(
                "  x32: this kernel has no x32 ABI (CONFIG_X86_X32_ABI off); x32 numbers still reach the "
                "filter, which is what was probed, and then fail with ENOSYS"
            )
        for r in self.disagreements:
            args = f"({', '.join(hex(a) for a in r.args)})" if any(r.args) else ""
            lines.append(
                f"  DISAGREE {r.abi.value} {r.number & ~X32_BIT} {r.name}{args}: "
                f"intended {r.intended}, kernel {r.kernel}"
            )
        return "\n".join(lines)


# --------------------------------------------------------------------------- intent


def _resolves_to(abi: Arch, name: str, number: int, intent: str) -> bool:
    """Whether a runtime's rule for ``name`` lands on ``number`` in ``abi``'s filter."""
    if intent == "profile":
        return True  # the caller already matched the name to the number by the kernel table
    if resolve_syscall(None, name) == NR_SCMP_ERROR:
        return False  # runc and crun skip names libseccomp does not know natively
    got = resolve_syscall(abi, name)
    if got >= 0:
        return got == number
    # x86 socketcall/ipc multiplexed names resolve to small negative numbers; libseccomp
    # then also adds the direct number, which is the one in the kernel table.
    return PNR_BASE < got < NR_SCMP_ERROR


def _intend(reading: RuntimeReading, rules: Sequence[LoadedRule], args: Sequence[int]) -> Verdict | None:
    keys = {rule_key(r.action, r.errno) for r in rules if r.matches(args)}
    if not keys:
        keys = {rule_key(reading.default_action, reading.default_errno)}
    if len(keys) > 1:
        return None  # overlapping rules with different actions: libseccomp's order decides
    action, errno = keys.pop()
    # Only ERRNO's errno is visible to the probe; the other actions become one sentinel each.
    return Verdict(action.value, errno if action is Action.ERRNO else None)


def _hit(c: Condition) -> int | None:
    candidates = {
        "SCMP_CMP_EQ": [c.value],
        "SCMP_CMP_NE": [c.value + 1, c.value - 1],
        "SCMP_CMP_LT": [c.value - 1, 0],
        "SCMP_CMP_LE": [c.value, 0],
        "SCMP_CMP_GT": [c.value + 1],
        "SCMP_CMP_GE": [c.value],
        "SCMP_CMP_MASKED_EQ": [c.value_two],
    }[c.op.value]
    return next((v for v in candidates if 0 <= v <= U64 and c.matches(v)), None)


def _miss(c: Condition) -> int | None:
    low_bit = c.value & -c.value if c.value else 0
    candidates = {
        "SCMP_CMP_EQ": [c.value + 1, c.value - 1],
        "SCMP_CMP_NE": [c.value],
        "SCMP_CMP_LT": [c.value],
        "SCMP_CMP_LE": [c.value + 1],
        "SCMP_CMP_GT": [c.value, 0],
        "SCMP_CMP_GE": [c.value - 1, 0],
        "SCMP_CMP_MASKED_EQ": [c.value_two ^ low_bit],
    }[c.op.value]
    return next((v for v in candidates if 0 <= v <= U64 and not c.matches(v)), None)


def _vectors(rules: Sequence[LoadedRule], width: int) -> tuple[list[tuple[int, ...]], bool]:
    """Return argument vectors that hit and miss each conditional rule, and whether all were found."""
    limit = U64 if width == 64 else _U32
    vectors: list[tuple[int, ...]] = [(0,) * 6]
    complete = True
    for rule in rules:
        if not rule.conditions:
            continue
        hit = [0] * 6
        for c in rule.conditions:
            v = _hit(c)
            if v is None or v > limit:
                complete = False
                break
            hit[c.index] = v
        else:
            vectors.append(tuple(hit))
            for c in rule.conditions:
                v = _miss(c)
                if v is None or v > limit:
                    complete = False
                    continue
                miss = list(hit)
                miss[c.index] = v
                vectors.append(tuple(miss))
    unique = list(dict.fromkeys(vectors))
    if len(unique) > _MAX_VECTORS:
        complete = False
    return unique[:_MAX_VECTORS], complete


# --------------------------------------------------------------------------- kernel


class _Code:
    """The probe routines in an executable anonymous page."""

    def __init__(self) -> None:
        code = _PROBE64 + _PROBE32
        self.page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
        self.page.write(code)
        base = ctypes.addressof(ctypes.c_char.from_buffer(self.page))
        proto = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_void_p)
        self.native = proto(base)
        self.int80 = proto(base + len(_PROBE64))


def _fork_run(fn: Any, args: tuple[Any, ...], loader: FilterLoader | None, status: Any, timeout: float) -> int:  # noqa: ANN401
    """Run ``fn(*args)`` in a forked child (after loading the filter); return its wait status."""
    pid = os.fork()
    if pid == 0:  # child: no Python allocation matters once the machine code runs
        try:
            if loader is not None:
                error = loader.load()
                if error:
                    status.value = -error
                    os._exit(3)
            fn(*args)
            status.value = 1
        finally:
            os._exit(0)
    deadline = time.monotonic() + timeout
    while True:
        done, wait_status = os.waitpid(pid, os.WNOHANG)
        if done:
            return wait_status
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise ProbeError(f"the probe child did not finish within {timeout:.0f}s (a call blocked or ran)")
        time.sleep(0.005)


class _Shared:
    """An anonymous shared mapping: the child writes results, the parent reads them."""

    def __init__(self, count: int) -> None:
        self.map = mmap.mmap(-1, max(8, 8 * (count + 1)), flags=mmap.MAP_SHARED)
        self.status = ctypes.c_int64.from_buffer(self.map, 0)
        self.out = (ctypes.c_int64 * max(1, count)).from_buffer(self.map, 8)


def _kernel_has(code: _Code, abi: Arch) -> bool:
    """Whether the kernel serves ``abi`` at all (getpid through it returns our pid)."""
    calls = (ctypes.c_uint64 * 7)(*((20 if abi is Arch.X86 else 39 | X32_BIT), 0, 0, 0, 0, 0, 0))
    shared = _Shared(1)
    fn = code.int80 if abi is Arch.X86 else code.native
    wait_status = _fork_run(fn, (ctypes.addressof(calls), 1, ctypes.addressof(shared.out)), None, shared.status, 10)
    return os.WIFEXITED(wait_status) and shared.status.value == 1 and shared.out[0] > 0


def probe(
    oci_seccomp: Mapping[str, Any],
    *,
    abis: Iterable[Arch] | None = None,
    intent: Literal["runtime", "profile"] = "runtime",
    timeout: float = 60.0,
) -> ProbeResult:
    """Probe the kernel's verdict for every syscall number of each ABI the host runs.

    Args:
        oci_seccomp: an OCI ``linux.seccomp`` object.
        abis: the ABIs to probe (default: every ABI of the host, x86_64: x86_64, x86, x32).
        intent: what the kernel's verdicts are compared with: ``"runtime"`` (default), the
            profile as runc and crun load it (names libseccomp cannot resolve are skipped,
            as ``check`` reports); ``"profile"``, the profile as written, so every such
            skipped name shows up as a disagreement.
        timeout: seconds the probe child may take.

    Raises:
        ProbeError: the host is not x86_64, the kernel has no seccomp, or the child failed.
        LibseccompUnavailableError: pyseccomp or libseccomp.so.2 is missing.

    >>> r = probe({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
    ...            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
    ...            "syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_ALLOW"}]},
    ...           abis=[Arch.X86_64])
    >>> r.ok, [str(x.kernel) for x in r.rows if x.name == "getpid"]
    (True, ['allow'])
    """
    host = host_arch()
    if host is not Arch.X86_64:
        raise ProbeError(f"the probe's machine code is x86_64 only; this host is {host.value}", arch=host.value)
    reading = read_as_runtime(oci_seccomp)
    _check_sentinels(reading)
    wanted = tuple(abis) if abis is not None else host.abis
    code = _Code()
    ia32 = _kernel_has(code, Arch.X86)
    x32 = _kernel_has(code, Arch.X32)
    filtered = {native_arch(), *reading.architectures}

    plans: dict[Arch, list[tuple[int, str, tuple[int, ...], Verdict | None, str]]] = {}
    rows: list[ProbeRow] = []
    for abi in wanted:
        if abi not in (Arch.X86_64, Arch.X86, Arch.X32):
            raise ProbeError(f"cannot probe {abi.value} on an x86_64 host", arch=abi.value)
        if abi is Arch.X86 and not ia32:
            rows.append(ProbeRow(abi, 0, "*", (), None, None, "skipped", "the kernel has no i386 (int 0x80) ABI"))
            continue
        plans[abi] = _plan(reading, abi, abi in filtered, rows, intent)

    entries = [(abi, item) for abi, items in plans.items() for item in items]
    results = _run(code, reading, entries, timeout)
    for (abi, (number, name, args, intended, note)), raw in zip(entries, results, strict=True):
        kernel = _decode(raw)
        if intended is None:
            rows.append(ProbeRow(abi, number, name, args, None, kernel, "conditional", note or "overlapping rules"))
        else:
            status: Literal["agree", "disagree"] = "agree" if kernel == intended else "disagree"
            rows.append(ProbeRow(abi, number, name, args, intended, kernel, status, note))
    return ProbeResult(tuple(rows), tuple(wanted), os.uname().release, x32, ia32)


def _check_sentinels(reading: RuntimeReading) -> None:
    used = {r.errno for r in reading.rules} | {reading.default_errno}
    clash = sorted(e for e in used if e is not None and e in (*_SENTINEL.values(), _BADARCH_SENTINEL))
    if clash:
        raise InvalidProfileError(
            f"errno {clash[0]} is one of the probe's sentinel values (4001-4008); the probe cannot tell it apart "
            "from a verdict; use a real errno"
        )


def _plan(
    reading: RuntimeReading, abi: Arch, in_filter: bool, rows: list[ProbeRow], intent: str
) -> list[tuple[int, str, tuple[int, ...], Verdict | None, str]]:
    tab = table(abi)
    base = X32_BIT if abi is Arch.X32 else 0
    numbers = sorted(set(tab.numbers()) | set(range(base, max(tab.numbers()) + _EXTRA_NUMBERS)))
    unfilterable = UNFILTERABLE.get(abi, {})
    by_name: dict[str, list[LoadedRule]] = {}
    for rule in reading.rules:
        by_name.setdefault(rule.name, []).append(rule)
    plan: list[tuple[int, str, tuple[int, ...], Verdict | None, str]] = []
    for number in numbers:
        name = tab.name(number) if number in tab.numbers() else f"#{number & ~X32_BIT}"
        if number in _SKIP.get(abi, {}):
            rows.append(ProbeRow(abi, number, name, (), None, None, "skipped", "the probe child must exit"))
            continue
        if name in unfilterable and unfilterable[name] == number:
            rows.append(ProbeRow(abi, number, name, (), None, None, "skipped", "passes seccomp unfiltered"))
            continue
        if not in_filter:
            plan.append((number, name, (0,) * 6, Verdict("badarch"), "ABI not in the profile"))
            continue
        rules = [r for r in by_name.get(name, []) if _resolves_to(abi, name, number, intent)]
        # libseccomp treats x86 and x32 as 32-bit ABIs and compares only the low 32 bits of
        # each argument there (measured: x32 personality(0x1_ffffffff) hits "== 0xffffffff"),
        # so probe values stay below 2**32 on both.
        vectors, complete = _vectors(rules, 64 if abi is Arch.X86_64 else 32)
        note = "" if complete else "some conditions have no probe values"
        plan += [(number, name, args, _intend(reading, rules, args), note) for args in vectors]
    return plan


def _substitute(action: Action, errno: int | None) -> tuple[Action, int | None]:
    if action is Action.ERRNO:
        return action, errno
    return Action.ERRNO, _SENTINEL[Action.KILL_THREAD if action is Action.KILL else action]


def _run(
    code: _Code, reading: RuntimeReading, entries: Sequence[tuple[Arch, Any]], timeout: float
) -> list[int]:
    keep = ("exit", "exit_group")
    probe_reading = dataclasses.replace(reading, rules=tuple(r for r in reading.rules if r.name not in keep))
    extra = [LoadedRule(n, Action.ALLOW, None, (), "probe") for n in keep]
    bpf, _, findings = build_filter(
        probe_reading,
        substitute=_substitute,
        badarch=(Action.ERRNO, _BADARCH_SENTINEL),
        extra=extra,
    )
    if findings:
        raise ProbeError(f"libseccomp refused the probe copy of the profile: {findings[0].message}")
    loader = FilterLoader(bpf, 0, no_new_privs=True)
    groups: dict[bool, list[int]] = {False: [], True: []}  # int 0x80 or not -> entry indexes
    for i, (abi, _item) in enumerate(entries):
        groups[abi is Arch.X86].append(i)
    shared = _Shared(len(entries))
    batches = []
    for int80, indexes in groups.items():
        calls = (ctypes.c_uint64 * (7 * max(1, len(indexes))))()
        for slot, i in enumerate(indexes):
            number, _name, args, _intended, _note = entries[i][1]
            calls[7 * slot : 7 * slot + 7] = [number, *args]
        out = ctypes.addressof(shared.out) + 8 * len(groups[False]) * int80
        batches.append((code.int80 if int80 else code.native, ctypes.addressof(calls), len(indexes), out, calls))

    def run_all() -> None:
        for fn, calls_at, count, out_at, _keepalive in batches:
            fn(calls_at, count, out_at)

    wait_status = _fork_run(run_all, (), loader, shared.status, timeout)
    if shared.status.value < 0:
        raise ProbeError(f"the kernel refused the filter: {os.strerror(-shared.status.value)}")
    if not os.WIFEXITED(wait_status) or shared.status.value != 1:
        how = (
            f"signal {signal.Signals(os.WTERMSIG(wait_status)).name}"
            if os.WIFSIGNALED(wait_status)
            else f"exit {os.WEXITSTATUS(wait_status)}"
        )
        raise ProbeError(f"the probe child died before finishing ({how})")
    order = groups[False] + groups[True]
    results = [0] * len(entries)
    for slot, i in enumerate(order):
        results[i] = shared.out[slot]
    return results


def _decode(raw: int) -> Verdict:
    if -_MAX_ERRNO <= raw < 0:
        errno = -raw
        if errno in _BY_SENTINEL:
            return Verdict(_BY_SENTINEL[errno].value)
        if errno == _BADARCH_SENTINEL:
            return Verdict("badarch")
        return Verdict(Action.ERRNO.value, errno)
    return Verdict("ran", raw)

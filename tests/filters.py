"""What a composed profile's compiled filter does, call by call: the laws' and the sweep's oracle.

A profile is turned into JSON, compiled with the real libseccomp as runc reads it
(``seccompose.check.compile_bpf``) and the BPF program run by ``seccompose.bpf`` on each
(ABI, number[, sub-call], arguments). Nothing here asks ``explain`` or the profile's rules.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from seccompose import Arch, Profile
from seccompose.bpf import Outcome, Program, SeccompData
from seccompose.formats.oci import to_dict
from seccompose.profile import loaded_rules
from seccompose.rules import Arg, Operator
from seccompose.syscalls import MULTIPLEXERS, TABLED_ARCHES, SubCall, family, subcalls, table

U32 = 0xFFFFFFFF
U64 = 0xFFFFFFFFFFFFFFFF
WIDE = {Arch.X86_64, Arch.AARCH64}
"""ABIs whose arguments libseccomp compares in 64 bits (x86, x32 and arm: the low 32)."""
IPC_VERSION = 1 << 16
"""ipc(2) reads the call from the low 16 bits of its first argument, a version above (IPCCALL)."""


def compile_profile(profile: Profile) -> Program:
    """Compile ``profile`` with libseccomp as runc does and return the BPF program the kernel gets."""
    from seccompose.check import compile_bpf

    return Program.from_bytes(compile_bpf(to_dict(profile)))


@functools.cache
def resolvable(abi: Arch, name: str) -> bool:
    """Whether this libseccomp resolves ``name`` on ``abi`` (runc and crun skip the rules of names it cannot)."""
    import pyseccomp

    if name not in table(abi):
        return False
    token = getattr(pyseccomp.Arch, abi.name)
    try:
        number = pyseccomp.resolve_syscall(token, name)
    except Exception:  # pyseccomp raises for names libseccomp does not know
        return False
    # i386 socket and IPC calls resolve to libseccomp's multiplexer pseudo-numbers (-101, -202 ...)
    return number == table(abi).number(name) or (abi is Arch.X86 and -300 < number <= -100)


@dataclass(frozen=True, slots=True)
class Call:
    """One call a filter is asked about."""

    abi: Arch
    number: int
    name: str
    args: tuple[int, ...] = (0, 0, 0, 0, 0, 0)
    via: str = ""
    """``socketcall(SYS_SOCKET)``-like when the call goes through a multiplexer."""

    def run(self, prog: Program) -> Outcome:
        audit = self.abi.audit
        assert audit is not None
        return prog.run(SeccompData(self.number, audit, args=self.args))

    def __str__(self) -> str:
        what = self.via or f"{self.name}({', '.join(hex(a) for a in self.args if a)})"
        return f"{self.abi.value} #{self.number & ~0x40000000} {what}"


def listed(profile: Profile) -> tuple[Arch, ...]:
    """The tabled ABIs the profile lists."""
    return tuple(a for a in profile.architectures if a in TABLED_ARCHES)


def _pad(args: Sequence[int]) -> tuple[int, ...]:
    return (*args, 0, 0, 0, 0, 0, 0)[:6]


PLAIN = ((0,) * 6, (1, 1, 1, 1, 1, 1), (U32,) * 6, (2, 0x7FFF, 0x1000, 0, 0, 0))
"""Argument vectors a call is tried with when nothing depends on its arguments."""


def direct_calls(abi: Arch, name: str, vectors: Iterable[tuple[int, ...]] = PLAIN) -> Iterator[Call]:
    """The calls of ``name`` made directly on ``abi`` (none if the ABI lacks it)."""
    if name in table(abi):
        number = table(abi).number(name)
        mask = U64 if abi in WIDE else U32
        for args in dict.fromkeys(tuple(a & mask for a in v) for v in vectors):
            yield Call(abi, number, name, _pad(args))


def subcall_calls(sub: SubCall) -> Iterator[Call]:
    """The calls of one multiplexed call: the plain number, and for ipc a versioned one."""
    number = table(sub.abi).number(sub.multiplexer)
    firsts = (sub.call, sub.call | IPC_VERSION) if sub.multiplexer == "ipc" else (sub.call,)
    for first in firsts:
        for rest in ((0, 0), (0x1000, 1)):
            yield Call(sub.abi, number, sub.multiplexer, _pad((first, *rest)), f"{sub.multiplexer}({sub.constant}={first:#x})")


def denied_calls(profile: Profile, host: Arch, denied: Iterable[str]) -> list[Call]:
    """Every call the deny of ``denied`` must refuse: each family member on every listed ABI, each sub-call."""
    names: set[str] = set()
    for name in denied:
        names.update(family(name, host))
        names.add(name)
    abis = listed(profile)
    out = [c for abi in abis for n in sorted(names) for c in direct_calls(abi, n)]
    if Arch.X86 in abis:
        for sub in subcalls(host):
            if names.intersection((sub.name, *sub.family)) or sub.multiplexer in names:
                out += subcall_calls(sub)
        for multiplexer in MULTIPLEXERS:
            if multiplexer in names:  # anything it may be asked to run
                number = table(Arch.X86).number(multiplexer)
                out += [Call(Arch.X86, number, multiplexer, _pad((k,)), f"{multiplexer}({k})") for k in (0, 25, 0xFFFF)]
    return out


def _hits(arg: Arg) -> tuple[int, ...]:
    """Values on both sides of one condition."""
    v, two = arg.value, arg.value_two
    if arg.op is Operator.MASKED_EQ:
        low = v & -v if v else 1
        return (two, two ^ low, two | v, 0)
    return tuple(x & U64 for x in (v - 1, v, v + 1))


def vectors(profile: Profile, name: str, abi: Arch) -> list[tuple[int, ...]]:
    """Argument vectors that hit and miss each condition the runtime loads for ``name`` on ``abi``."""
    out: list[tuple[int, ...]] = [(0,) * 6]
    for rule in loaded_rules(profile, name, abi=abi):
        if not rule.args:
            continue
        base = [0] * 6
        for a in rule.args:
            base[a.index] = _hits(a)[0] if a.op is Operator.MASKED_EQ else a.value
        out.append(tuple(base))
        for a in rule.args:
            for value in _hits(a):
                vec = list(base)
                vec[a.index] = value
                out.append(tuple(vec))
    return list(dict.fromkeys(out))


def verdict_calls(profile: Profile, name: str) -> list[Call]:
    """The calls that decide ``name``'s verdict: on every listed ABI that has it, with hitting and missing args."""
    calls = []
    for abi in listed(profile):
        if name not in table(abi):
            continue
        if abi is Arch.X86 and name in MULTIPLEXERS:
            number = table(abi).number(name)
            firsts = [0, *range(1, 26), *(k | IPC_VERSION for k in range(1, 26))]
            extra = [v for v in vectors(profile, name, abi) if v[0] not in firsts]
            calls += [Call(abi, number, name, _pad((k,))) for k in firsts]
            calls += [Call(abi, number, name, v) for v in extra]
            continue
        calls += direct_calls(abi, name, vectors(profile, name, abi))
    return calls


def filter_verdict(prog: Program, calls: Sequence[Call]) -> str | None:
    """``allowed`` (every call runs), ``denied`` (none does) or ``conditional``; None without calls."""
    if not calls:
        return None
    ran = [c.run(prog).action.allows for c in calls]
    return "allowed" if all(ran) else "denied" if not any(ran) else "conditional"

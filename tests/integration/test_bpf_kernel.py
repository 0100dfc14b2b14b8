"""The BPF evaluator against the running kernel: the same program, every syscall number of every ABI.

libseccomp's program for Docker's default (both layouts runc uses) is loaded into a child the
way the kernel probe loads it (every action turned into an ERRNO sentinel, so no call runs);
the child makes every number of x86_64, x86 (int 0x80) and x32, with argument values that
hit and miss the argument rules, and the kernel's return value must be the evaluator's.
"""

from __future__ import annotations

import ctypes
import dataclasses
import json
import os
import platform
from pathlib import Path
from typing import Any

import pytest

from seccompose import Action, Arch

pytestmark = pytest.mark.integration

pytest.importorskip("pyseccomp", reason="the 'check' extra (pyseccomp + libseccomp.so.2) is not installed")
if platform.machine() != "x86_64":
    pytest.skip("the probe's machine code is x86_64 only", allow_module_level=True)

from seccompose import _probe  # noqa: E402
from seccompose.bpf import Program, SeccompData  # noqa: E402
from seccompose.libseccomp import build_filter  # noqa: E402
from seccompose.reading import UNFILTERABLE, LoadedRule, read_as_runtime  # noqa: E402
from seccompose.render import render  # noqa: E402
from seccompose.runner import FilterLoader  # noqa: E402
from seccompose.syscalls import table  # noqa: E402

REFERENCE = Path(__file__).resolve().parent.parent / "fixtures" / "reference" / "profiles"
X32_BIT = 0x40000000
# Argument vectors for the argument rules of Docker's default (from the kernel's ABI: personality's
# query value, clone's namespace flags, socket families on both sides of AF_VSOCK).
ARGS = {
    "personality": [(0,), (8,), (0x20008,), (0xFFFFFFFF,), (0x10,), (0x1_0000_0000,)],
    "clone": [(0x800,), (0x10000000,), (0x20000,), (0x1_0000_0000,)],
    "socket": [(2,), (37,), (38,), (39,), (40,), (41,), (0x1_0000_0002,)],
    "socketcall": [(1,), (2,), (20,)],
}


def _docker_default() -> dict[str, Any]:
    doc = json.loads((REFERENCE / "docker-default-moby-profiles-cd3bed8.json").read_text(encoding="utf-8"))
    return render(doc, engine="docker", arch=Arch.X86_64, kernel="6.18")


def _calls() -> list[tuple[Arch, int, tuple[int, ...]]]:
    calls = []
    for abi in (Arch.X86_64, Arch.X86, Arch.X32):
        tab = table(abi)
        base = X32_BIT if abi is Arch.X32 else 0
        skip = set(_probe._SKIP.get(abi, {})) | set(UNFILTERABLE.get(abi, {}).values())
        for number in range(base, max(tab.numbers()) + 16):
            if number in skip:
                continue
            name = tab.name(number) if number in tab.numbers() else ""
            calls += [(abi, number, args + (0,) * (6 - len(args))) for args in [(0,), *ARGS.get(name, [])]]
    return calls


def _kernel(program: bytes, calls: list[tuple[Arch, int, tuple[int, ...]]]) -> list[int]:
    code = _probe._Code()
    shared = _probe._Shared(len(calls))
    order = [i for i, c in enumerate(calls) if c[0] is not Arch.X86] + [i for i, c in enumerate(calls) if c[0] is Arch.X86]
    batches = []
    offset = 0
    for int80 in (False, True):
        indexes = [i for i in order if (calls[i][0] is Arch.X86) is int80]
        buf = (ctypes.c_uint64 * (7 * max(1, len(indexes))))()
        for slot, i in enumerate(indexes):
            _abi, number, args = calls[i]
            buf[7 * slot : 7 * slot + 7] = [number, *args]
        batches.append((code.int80 if int80 else code.native, buf, len(indexes), offset))
        offset += len(indexes)

    def run_all() -> None:
        for fn, buf, count, at in batches:
            fn(ctypes.addressof(buf), count, ctypes.addressof(shared.out) + 8 * at)

    status = _probe._fork_run(run_all, (), FilterLoader(program, 0, no_new_privs=True), shared.status, 60)
    assert os.WIFEXITED(status) and shared.status.value == 1, "the child died"
    results = [0] * len(calls)
    for slot, i in enumerate(order):
        results[i] = shared.out[slot]
    return results


@pytest.mark.parametrize("binary_tree", [False, True], ids=["runc-1.1-linear", "runc-1.2-tree"])
def test_the_evaluator_returns_what_the_kernel_returns_on_every_number(binary_tree: bool) -> None:
    reading = read_as_runtime(_docker_default())
    keep = ("exit", "exit_group")
    probe_reading = dataclasses.replace(reading, rules=tuple(r for r in reading.rules if r.name not in keep))
    bpf, _, findings = build_filter(
        probe_reading,
        substitute=_probe._substitute,
        badarch=(Action.ERRNO, _probe._BADARCH_SENTINEL),
        extra=[LoadedRule(n, Action.ALLOW, None, (), "probe") for n in keep],
        binary_tree=binary_tree,
    )
    assert not findings
    program = Program.from_bytes(bpf)
    calls = _calls()
    kernel = _kernel(bpf, calls)
    disagree = []
    for (abi, number, args), got in zip(calls, kernel, strict=True):
        audit = Arch.X86_64.audit if abi is Arch.X32 else abi.audit
        assert audit is not None
        out = program.run(SeccompData(number, audit, args=args))
        assert out.action is Action.ERRNO  # every action of the probe copy is an errno sentinel
        if got != -(out.errno or 0):
            disagree.append((abi.value, number & ~X32_BIT, args[0], got, -(out.errno or 0)))
    assert len(calls) > 1500
    assert not disagree, disagree[:20]

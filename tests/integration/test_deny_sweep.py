"""The sweep: every syscall name of x86_64 and aarch64 hosts, denied alone, reaches the kernel on no ABI.

For each host, each name its ABIs have and both errno policies, ``compose("default",
caps=<all>, deny=[name])`` is compiled with the real libseccomp as runc reads it, and the BPF
program run for every member of the name's family on every ABI of the host (x86_64: x86_64,
x86 via int 0x80, x32; aarch64: aarch64, arm) with several argument vectors, and, on x86,
every ``socketcall``/``ipc`` call that runs one (``ipc`` also with a version above the call).
No call may be allowed. The figures go to ``SWEEP`` (stdout with ``-s``) for the closing note.

The two x86_64 calls the kernel runs without asking seccomp (``uretprobe``, ``uprobe``,
``seccompose.check.UNFILTERABLE``) are refused by the filter like the rest; ``check`` reports
that the kernel bypasses it for them.
"""

from __future__ import annotations

import errno
import json
import os
from collections import Counter
from pathlib import Path

import pytest
from tests.filters import compile_profile, denied_calls, resolvable

from seccompose import Arch, compose
from seccompose.caps import all_capabilities
from seccompose.syscalls import host_names, table

pytestmark = [pytest.mark.integration, pytest.mark.slow]

pytest.importorskip("pyseccomp", reason="the 'check' extra (pyseccomp + libseccomp.so.2) is not installed")

SWEEP = Path(os.environ.get("SECCOMPOSE_SWEEP_OUT", "/tmp/seccompose-sweep.json"))


@pytest.mark.parametrize("host", [Arch.X86_64, Arch.AARCH64])
def test_no_denied_call_reaches_the_kernel(host: Arch) -> None:
    caps = all_capabilities()
    figures: Counter[str] = Counter()
    errnos: Counter[str] = Counter()
    leaks: list[str] = []
    for policy in ("eperm", "enosys"):
        for name in host_names(host):
            profile = compose("default", arch=host, caps=caps, deny=[name], errno_policy=policy)
            prog = compile_profile(profile)
            calls = denied_calls(profile, host, [name])
            figures["profiles"] += 1
            for call in calls:
                out = call.run(prog)
                figures["calls"] += 1
                figures[f"calls on {call.abi.value}"] += 1
                if call.via:
                    figures["calls through a multiplexer"] += 1
                if out.action.allows:
                    leaks.append(f"{policy} deny {name}: {call} runs")
                    continue
                how = f"{out.action.name}({errno.errorcode.get(out.errno or 0, out.errno)})"
                if out.errno == errno.EPERM:
                    why = "the deny"
                elif not resolvable(call.abi, call.name):
                    why = "the default: this libseccomp cannot resolve the name, runc skips its rule"
                elif call.name in ("socketcall", "ipc"):
                    why = "the refused multiplexer's own errno (the default's is the deny's)"
                else:
                    why = "unexplained"
                errnos[f"{policy}: {how} by {why}"] += 1
    names = len(host_names(host))
    summary = {
        "host": host.value,
        "abis": [a.value for a in host.abis],
        "names": names,
        "policies": 2,
        **dict(sorted(figures.items())),
        "reaching the kernel": len(leaks),
        "refused with": dict(sorted(errnos.items())),
        "numbers per abi": {a.value: len(table(a)) for a in host.abis},
    }
    previous = json.loads(SWEEP.read_text()) if SWEEP.exists() else {}
    previous[host.value] = summary
    SWEEP.write_text(json.dumps(previous, indent=2) + "\n")
    print(json.dumps(summary, indent=2))  # the figures of the closing note
    assert figures["profiles"] == 2 * names
    assert leaks == []
    assert not any("unexplained" in k for k in errnos), errnos

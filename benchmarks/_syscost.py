"""(f) What a profile costs per syscall: the C helper ``syscost.c``, the profiles it loads, the figures.

Each row loads one profile (or a stack of two) the way runc 1.1 does (libseccomp's program
behind runc's ENOSYS stub, ``seccompose.cost.runc_program``) into one child and times
each call against an unconfined twin in the same run; see ``syscost.c`` for the protocol.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from seccompose import Arch, compose, dumps
from seccompose.bpf import Program
from seccompose.caps import DOCKER_DEFAULT_CAPABILITIES
from seccompose.check import read_as_runtime
from seccompose.cost import runc_program
from seccompose.loader import template_names
from seccompose.render import kernel_version, render

HERE: Final = Path(__file__).resolve().parent
SOURCE: Final = HERE / "syscost.c"
DOCKER_DEFAULT: Final = HERE.parent / "tests" / "fixtures" / "reference" / "profiles" / (
    "docker-default-moby-profiles-cd3bed8.json"
)
# The calls, then one compat call whose rules look at an argument on the templates.
CALLS: Final = (
    "getppid", "clone", "clone3", "personality", "socket", "swapoff", "getppid@x86", "socketcall@x86",
)  # fmt: skip
_KERNEL_FLAGS: Final = {"SECCOMP_FILTER_FLAG_LOG": 2, "SECCOMP_FILTER_FLAG_SPEC_ALLOW": 4}


# (number, audit arch) of each call, for the kernel's cache emulation
_NUMBERS: Final = {
    "getppid": (110, 0xC000003E), "clone": (56, 0xC000003E), "clone3": (435, 0xC000003E),
    "personality": (135, 0xC000003E), "socket": (41, 0xC000003E), "swapoff": (168, 0xC000003E),
    "getppid@x86": (64, 0x40000003), "socketcall@x86": (102, 0x40000003),
}  # fmt: skip


@dataclass
class Cell:
    """One call under one profile: what the filter did and what it added."""

    call: str
    verdict: str
    cached: bool = False
    """Whether the kernel caches the call under every filter of the row (its own emulation, seccompose.bpf)."""
    added_ns: float | None = None
    q1: float | None = None
    q3: float | None = None
    unconfined_ns: float | None = None
    confined_ns: float | None = None
    calls_per_batch: int | None = None


@dataclass
class RowResult:
    """One profile (row): its program lengths and a cell per call."""

    label: str
    instructions: list[int]
    cells: dict[str, Cell] = field(default_factory=dict)


def build_helper(cache: Path) -> Path:
    """Compile ``syscost.c`` into ``cache`` (again when the source is newer); raise when gcc is missing."""
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        raise RuntimeError("no C compiler (gcc) on PATH; install gcc and libc6-dev (.ci/apt-packages)")
    cache.mkdir(parents=True, exist_ok=True)
    binary = cache / "syscost"
    if not binary.exists() or binary.stat().st_mtime < SOURCE.stat().st_mtime:
        subprocess.run([cc, "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(binary), str(SOURCE)], check=True)
    return binary


def _kernel() -> tuple[int, int]:
    version = kernel_version(None)
    return (version.major, version.minor)


def profiles() -> list[tuple[str, list[dict[str, Any]]]]:
    """Return the rows: (label, OCI profiles loaded one after the other); the first row loads none."""
    docker = render(json.loads(DOCKER_DEFAULT.read_text(encoding="utf-8")), engine="docker", arch=Arch.X86_64)
    rows: list[tuple[str, list[dict[str, Any]]]] = [("unconfined (A/A control)", []), ("Docker's default", [docker])]
    for name in template_names():
        profile = compose(
            name,
            arch=Arch.X86_64,
            caps=DOCKER_DEFAULT_CAPABILITIES,
            runtime="runc",
            no_new_privileges=False,
            kernel=_kernel(),
        )
        rows.append((name, [json.loads(dumps(profile))]))
    rows.append(("2 stacked: Docker's default twice", [docker, docker]))
    return rows


def _verdict(unconfined: dict[str, Any], confined: dict[str, Any]) -> str:
    if "signal" in confined:
        return f"killed (signal {confined['signal']})"
    if "errno" in confined and confined != unconfined:
        import errno

        return f"refused ({errno.errorcode.get(confined['errno'], confined['errno'])})"
    if set(confined) - {"errno", "value"}:
        return "not measured"
    return "runs"


def installed_runc() -> str | None:
    """Return the version of the runc on PATH (``"1.1.5"``), or None."""
    runc = shutil.which("runc")
    if runc is None:
        return None
    out = subprocess.run([runc, "--version"], capture_output=True, text=True, check=False).stdout
    words = out.split()
    return words[2].split("+")[0] if len(words) > 2 and words[:2] == ["runc", "version"] else None


def layouts() -> list[tuple[str, bool | None]]:
    """Return the program layouts measured: this machine's runc first, then the other one."""
    version = installed_runc()
    old = version is not None and tuple(int(x) for x in version.split(".")[:2]) < (1, 2)
    linear = ("runc 1.1 (libseccomp's default order" + (f"; this machine's runc {version})" if old else ")"), False)
    tree = ("runc >= 1.2 (libseccomp's binary tree above 32 rules" + (
        f"; this machine's runc {version})" if version and not old else ")"
    ), None)
    return [linear, tree] if old or version is None else [tree, linear]


def measure(
    binary: Path,
    label: str,
    stack: list[dict[str, Any]],
    *,
    rounds: int,
    batch_us: int,
    cpu: int,
    binary_tree: bool | None = None,
) -> RowResult:
    """Run the helper for one row and summarise it."""
    with tempfile.TemporaryDirectory(prefix="seccompose-syscost-") as tmp:
        args = [str(binary), "--rounds", str(rounds), "--batch-us", str(batch_us), "--cpu", str(cpu)]
        lengths = []
        flags = 0
        for i, profile in enumerate(stack):
            program = runc_program(profile, binary_tree=binary_tree)
            lengths.append(len(program) // 8)
            path = Path(tmp) / f"filter{i}.bpf"
            path.write_bytes(program)
            args += ["--filter", str(path)]
            flags |= sum(_KERNEL_FLAGS.get(f, 0) for f in read_as_runtime(profile).flags)
        args += ["--flags", str(flags), *CALLS]
        out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    doc = json.loads(out)
    row = RowResult(label, lengths)
    programs = [Program.from_bytes(runc_program(p, binary_tree=binary_tree)) for p in stack]
    for call, raw in doc["results"].items():
        nr, arch = _NUMBERS[call]
        cached = bool(programs) and all(p.const(nr, arch).allows for p in programs)
        cell = Cell(call, _verdict(raw["unconfined"], raw["confined"]), cached)
        if raw["timed"]:
            added = sorted(c - u for c, u in zip(raw["confinedNs"], raw["unconfinedNs"], strict=True))
            q = statistics.quantiles(added, n=4) if len(added) > 1 else [added[0]] * 3
            cell.added_ns = statistics.median(added)
            cell.q1, cell.q3 = q[0], q[2]
            cell.unconfined_ns = statistics.median(raw["unconfinedNs"])
            cell.confined_ns = statistics.median(raw["confinedNs"])
            cell.calls_per_batch = raw["callsPerBatch"]
        row.cells[call] = cell
    return row


def machine_notes() -> list[str]:
    """Return what on this machine changes the figures: JIT, speculation mitigations, the VM."""
    notes = []

    def read(path: str) -> str:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError:
            return "?"

    notes.append(
        f"kernel {platform.release()}; BPF JIT {'on' if read('/proc/sys/net/core/bpf_jit_enable') == '1' else 'off'}; "
        f"spec_store_bypass: {read('/sys/devices/system/cpu/vulnerabilities/spec_store_bypass')} "
        "(a seccomp filter turns SSBD on for its task only in the kernel's 'seccomp' mitigation mode); "
        f"clocksource {read('/sys/devices/system/clocksource/clocksource0/current_clocksource')}"
    )
    return notes


def cell_text(cell: Cell) -> str:
    """Return a table cell: median added ns and the interquartile range of the per-round differences."""
    if cell.added_ns is None:
        return cell.verdict
    mark = " cached" if cell.cached else "" if cell.verdict == "runs" else f" {cell.verdict.split(' ')[0]}"
    return f"{cell.added_ns:+.0f} ({cell.q1:+.0f}..{cell.q3:+.0f}){mark}"


def matrix(rows: list[RowResult]) -> str:
    """Return the rows as a Markdown table: a row per profile, a column per call."""
    head = ["profile", "BPF insns", *CALLS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        lengths = " + ".join(str(n) for n in row.instructions) or "-"
        cells = [cell_text(row.cells[c]) if c in row.cells else "n/a" for c in CALLS]
        lines.append("| " + " | ".join([row.label, lengths, *cells]) + " |")
    base = rows[0].cells if rows else {}
    lines.append(
        "| unconfined, ns per call | | "
        + " | ".join(f"{base[c].unconfined_ns:.0f}" if c in base and base[c].unconfined_ns else "n/a" for c in CALLS)
        + " |"
    )
    return "\n".join(lines)


def default_cpu() -> int:
    """Return the CPU the helper pins itself to: the last one this process may run on."""
    return max(os.sched_getaffinity(0))

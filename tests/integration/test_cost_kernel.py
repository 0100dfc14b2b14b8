"""What a profile costs, checked against the real runtimes and the running kernel.

- ``runc_program`` is the program runc loads: read back from a running runc container with
  ``PTRACE_SECCOMP_GET_FILTER``, and crun's is libseccomp's program without runc's stub.
- The cache emulation is the kernel's: a call the emulation caches costs the same whatever the
  filter's length, one it does not runs the filter (timed with ``benchmarks/syscost.c``).
"""

from __future__ import annotations

import ctypes
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from seccompose import Arch

pytestmark = pytest.mark.integration

pytest.importorskip("pyseccomp", reason="the 'check' extra (pyseccomp + libseccomp.so.2) is not installed")
if platform.machine() != "x86_64":
    pytest.skip("the timing helper and the syscall numbers here are x86_64", allow_module_level=True)

from seccompose.bpf import SECCOMP_RET_ALLOW, Program, SeccompData  # noqa: E402
from seccompose.cost import cost, runc_program, runc_stub  # noqa: E402
from seccompose.libseccomp import build_filter  # noqa: E402
from seccompose.reading import read_as_runtime  # noqa: E402
from seccompose.render import render  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "fixtures" / "reference" / "profiles"
sys.path.insert(0, str(ROOT / "tools"))
from make_bundle import make_bundle  # noqa: E402

X86_64, I386 = 0xC000003E, 0x40000003
GETPPID, GETPID = 110, 39


def _docker_default() -> dict[str, Any]:
    doc = json.loads((REFERENCE / "docker-default-moby-profiles-cd3bed8.json").read_text(encoding="utf-8"))
    return render(doc, engine="docker", arch=Arch.X86_64, kernel="6.18")


# --------------------------------------------------------------------------- the program runc and crun load

_PTRACE_SEIZE, _PTRACE_INTERRUPT, _PTRACE_DETACH, _PTRACE_SECCOMP_GET_FILTER = 0x4206, 0x4207, 17, 0x420C
_WALL = 0x40000000


class _SockFilter(ctypes.Structure):
    _fields_ = (("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint32))


def _loaded_filters(pid: int) -> list[bytes]:
    """Read every seccomp filter of a process back from the kernel (newest first)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.restype = ctypes.c_long
    libc.ptrace.argtypes = (ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p)
    if libc.ptrace(_PTRACE_SEIZE, pid, None, None) != 0:
        raise OSError(ctypes.get_errno(), "PTRACE_SEIZE")
    try:
        libc.ptrace(_PTRACE_INTERRUPT, pid, None, None)
        os.waitpid(pid, _WALL)
        out = []
        for index in range(8):
            count = libc.ptrace(_PTRACE_SECCOMP_GET_FILTER, pid, ctypes.c_void_p(index), None)
            if count < 0:
                break
            buf = (_SockFilter * count)()
            libc.ptrace(_PTRACE_SECCOMP_GET_FILTER, pid, ctypes.c_void_p(index), ctypes.byref(buf))
            out.append(bytes(buf))
        return out
    finally:
        libc.ptrace(_PTRACE_DETACH, pid, None, None)


def _why_no_runtime(runtime: str) -> str | None:
    if os.geteuid() != 0:
        return f"{runtime} and PTRACE_SECCOMP_GET_FILTER need root"
    if shutil.which(runtime) is None:
        return f"{runtime} is not installed (apt-get install {runtime})"
    if not Path("/bin/busybox").exists():
        return "busybox is not installed (apt-get install busybox-static)"
    return None


def _filters_of_container(runtime: str, profile: dict[str, Any], tmp: Path) -> list[bytes]:
    bundle = make_bundle(tmp / "bundle", args=["/bin/sleep", "60"], seccomp=profile, no_new_privileges=False)
    state = tmp / "state"
    cid = f"seccompose-cost-{uuid.uuid4().hex[:10]}"
    if runtime == "runc":
        cmd = ["runc", "--root", str(state), "run", "--bundle", str(bundle), cid]
        query = ["runc", "--root", str(state)]
    else:  # crun 1.8 refuses the hybrid cgroup layout: hide the v2 mount in a private mount namespace
        script = 'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun --root "$0" --cgroup-manager=disabled run --bundle "$1" "$2"'
        cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c", script, str(state), str(bundle), cid]
        query = ["crun", "--root", str(state)]
    log = tmp / "runtime.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    try:
        deadline = time.monotonic() + 30
        pid = 0
        while time.monotonic() < deadline and not pid:
            got = subprocess.run([*query, "state", cid], capture_output=True, text=True, check=False)
            if got.returncode == 0 and json.loads(got.stdout).get("status") == "running":
                pid = json.loads(got.stdout)["pid"]
            elif proc.poll() is not None:
                break
            else:
                time.sleep(0.1)
        assert pid, f"the container did not start: {log.read_text(errors='replace')[-2000:]}"
        return _loaded_filters(pid)
    finally:
        subprocess.run([*query, "kill", cid, "KILL"], capture_output=True, check=False)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        subprocess.run([*query, "delete", "-f", cid], capture_output=True, check=False)


def _installed_runc_lays_out_a_tree() -> bool:
    out = subprocess.run(["runc", "--version"], capture_output=True, text=True, check=False).stdout.split()
    major, minor = (int(x) for x in out[2].split("+")[0].split(".")[:2])
    return (major, minor) >= (1, 2)


def _same_verdicts(a: Program, b: Program) -> list[tuple[int, int]]:
    differ = []
    for arch in (X86_64, I386, 0xC00000B7):
        for nr in [*range(470), *range(0x40000000, 0x40000000 + 560)]:
            for arg in (0, 0x800, 0x10000000, 0xFFFFFFFF, 40):
                data = SeccompData(nr, arch, args=(arg,))
                if a.run(data).value != b.run(data).value:
                    differ.append((arch, nr))
                    break
    return differ


@pytest.mark.skipif(_why_no_runtime("runc") is not None, reason=str(_why_no_runtime("runc")))
@pytest.mark.parametrize("base", ["docker", "redis"])
def test_runc_loads_runc_program(base: str, tmp_path: Path) -> None:
    if base == "docker":
        profile = _docker_default()
    else:
        from seccompose import compose, dumps
        from seccompose.caps import DOCKER_DEFAULT_CAPABILITIES

        # the container runs busybox sleep, which the server template does not cover
        composed = compose(base, arch=Arch.X86_64, caps=DOCKER_DEFAULT_CAPABILITIES, runtime="runc",
                           no_new_privileges=False, allow=["clock_nanosleep", "nanosleep"])  # fmt: skip
        profile = json.loads(dumps(composed))
    (loaded,) = _filters_of_container("runc", profile, tmp_path)
    ours = runc_program(profile, binary_tree=None if _installed_runc_lays_out_a_tree() else False)
    stub = len(runc_stub(profile))
    assert stub == 14 * 8  # x86_64 + x32 and x86 sections
    assert len(loaded) == len(ours)
    assert loaded[stub:] == ours[stub:]  # libseccomp's program, byte for byte
    # runc orders the stub's arch sections by walking a Go map: compare what the stubs decide
    assert _same_verdicts(Program.from_bytes(loaded), Program.from_bytes(ours)) == []


@pytest.mark.skipif(_why_no_runtime("crun") is not None, reason=str(_why_no_runtime("crun")))
def test_crun_loads_libseccomps_program_without_a_stub(tmp_path: Path) -> None:
    profile = _docker_default()
    (loaded,) = _filters_of_container("crun", profile, tmp_path)
    linear, _, _ = build_filter(read_as_runtime(profile), binary_tree=False)
    assert loaded == linear


# --------------------------------------------------------------------------- the kernel's cache, timed


@pytest.fixture(scope="module")
def syscost(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cc = shutil.which("gcc")
    if cc is None:
        pytest.skip("gcc is not installed (apt-get install gcc libc6-dev)")
    binary = tmp_path_factory.mktemp("syscost") / "syscost"
    subprocess.run([cc, "-O2", "-Wall", "-Werror", "-o", str(binary), str(ROOT / "benchmarks" / "syscost.c")], check=True)
    return binary


def _added_ns(syscost: Path, programs: list[bytes], calls: list[str], tmp: Path) -> dict[str, float]:
    """Median ns each call costs under the filters, over an unconfined twin measured in the same rounds."""
    args = [str(syscost), "--rounds", "21", "--batch-us", "3000", "--cpu", str(max(os.sched_getaffinity(0)))]
    for i, program in enumerate(programs):
        path = tmp / f"f{i}.bpf"
        path.write_bytes(program)
        args += ["--filter", str(path)]
    doc = json.loads(subprocess.run([*args, *calls], check=True, capture_output=True, text=True).stdout)
    out = {}
    for call, row in doc["results"].items():
        assert row["timed"], row
        out[call] = statistics.median(c - u for c, u in zip(row["confinedNs"], row["unconfinedNs"], strict=True))
    return out


def test_a_call_the_emulation_caches_skips_the_filter_however_long(syscost: Path, tmp_path: Path) -> None:
    # 3,000 instructions of comparisons on the number before every verdict; getpid's path also
    # loads arg0 (and ignores it), so the kernel cannot cache it; getppid's depends on nothing else.
    chain = [("jeq", 9999, 0, 0)] * 3000
    program = Program.assemble(
        [("ld", "nr"), *chain, ("jeq", GETPID, 0, 1), ("ld", 16), ("ret", SECCOMP_RET_ALLOW)]
    )
    assert program.const(GETPPID, X86_64).allows
    assert program.const(GETPPID, I386).allows  # the compat ABI has its own cache
    assert program.const(GETPID, X86_64).reason == "loads arg0[lo]"
    assert program.longest(GETPPID, X86_64) == program.longest(GETPID, X86_64) - 1 == 3003
    added = _added_ns(syscost, [program.to_bytes()], ["getppid", "getpid", "getppid@x86"], tmp_path)
    # Uncached, 3,000 BPF instructions cost hundreds of ns even JIT-compiled; cached, the call only
    # pays seccomp's entry (about 30 ns here), whatever the filter's length.
    assert added["getpid"] > 150, added
    assert added["getpid"] > 3 * added["getppid"], added


def test_stacked_filters_cache_what_every_filter_caches(syscost: Path, tmp_path: Path) -> None:
    # The same long filter twice, then under a filter whose getppid path loads arg0: the kernel's
    # cache of the newest filter is the intersection, so getppid runs both filters.
    chain = [("jeq", 9999, 0, 0)] * 1500
    long_allow = Program.assemble([("ld", "nr"), *chain, ("ret", SECCOMP_RET_ALLOW)])
    looks = Program.assemble([("ld", "nr"), ("jeq", GETPPID, 0, 1), ("ld", 16), *chain, ("ret", SECCOMP_RET_ALLOW)])
    twice = _added_ns(syscost, [long_allow.to_bytes()] * 2, ["getppid"], tmp_path)
    mixed = _added_ns(syscost, [long_allow.to_bytes(), looks.to_bytes()], ["getppid"], tmp_path)
    assert mixed["getppid"] > 150, (twice, mixed)
    assert mixed["getppid"] > 3 * twice["getppid"], (twice, mixed)


def test_dockers_default_costs_what_the_emulation_says(syscost: Path, tmp_path: Path) -> None:
    profile = _docker_default()
    report = cost(profile, layout="linear")
    x86_64 = {a.abi: a for a in report.abis}[Arch.X86_64]
    assert "getppid" in x86_64.cacheable
    assert {"clone", "personality", "socket"} <= dict(x86_64.uncacheable).keys()
    added = _added_ns(syscost, [runc_program(profile, binary_tree=False)], ["getppid", "clone", "socket"], tmp_path)
    # In runc 1.1's layout the argument rules sit at the end of a path of hundreds of instructions.
    for call in ("clone", "socket"):
        assert added[call] > added["getppid"] + 40, added


# --------------------------------------------------------------------------- cheaper output, same kernel verdicts

_CHEAPER = {  # compositions whose caller rules compose() rewrites (seccompose.simplify, Rule.simplified)
    "socket: every family between default's rules": [("socket", "EQ", 38), ("socket", "EQ", 40)],
    "personality: default's personas inside a range": [("personality", "LE", 0x20008)],
    "personality >= 0 beside default's; syslog < 0, for no value": [("personality", "GE", 0), ("syslog", "LT", 0)],
    "syslog: every value but one": [("syslog", "LT", 7), ("syslog", "GT", 7)],
}
# Probed for every syscall number of x86_64, x86 and x32 with these first arguments (and 0 for the others):
# both sides of every condition above and of default's, and of the 32-bit boundary.
_VALUES = (0, 1, 6, 7, 8, 9, 37, 38, 39, 40, 41, 0x20000, 0x20008, 0x20009, 0xFFFF_FFFF, 0x1_0000_0000, 0x1_0000_0026)


@pytest.mark.parametrize("case", sorted(_CHEAPER))
def test_cheaper_output_gets_the_same_verdicts_from_the_kernel(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import seccompose._probe as probe_module
    from seccompose import Arg, Operator, Rule, compose
    from seccompose.formats.oci import to_dict

    compose_module = sys.modules["seccompose.compose"]
    rules = [Rule((name,), args=(Arg(0, Operator[op], value),)) for name, op, value in _CHEAPER[case]]
    cheaper = compose("default", arch=Arch.X86_64, rules=rules)
    with monkeypatch.context() as m:  # the algebra alone, without the steps that make the output cheaper
        m.setattr(compose_module, "merge_conditions", lambda *_: None)
        m.setattr(compose_module, "_simplified", lambda rule, *_: rule)
        plain = compose("default", arch=Arch.X86_64, rules=rules)
    assert to_dict(cheaper) != to_dict(plain)
    assert len(runc_program(to_dict(cheaper))) < len(runc_program(to_dict(plain)))

    def vectors(_rules: object, width: int) -> tuple[list[tuple[int, ...]], bool]:
        top = (1 << width) - 1
        return [(v, 0, 0, 0, 0, 0) for v in _VALUES if v <= top], True

    monkeypatch.setattr(probe_module, "_MAX_VECTORS", len(_VALUES))
    monkeypatch.setattr(probe_module, "_vectors", vectors)
    kernel = []
    for profile in (cheaper, plain):
        result = probe_module.probe(to_dict(profile))
        kernel.append({(r.abi, r.number, r.args): r.kernel for r in result.rows if r.status != "skipped"})
    assert len(kernel[0]) > 1000
    assert kernel[0].keys() == kernel[1].keys()
    differ = [(k, str(kernel[0][k]), str(kernel[1][k])) for k in kernel[0] if kernel[0][k] != kernel[1][k]]
    # The one change allowed: on x86, a socket call's allow rule that matches no value is gone, so
    # socketcall no longer runs it (libseccomp cannot check the arguments through the multiplexer).
    assert all(abi is Arch.X86 and number == 102 and before == "allow" for (abi, number, _), _, before in differ), differ

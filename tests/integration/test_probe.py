"""The kernel probe and run_under, against the running kernel's seccomp.

Every syscall number of x86_64, x86 (int 0x80) and x32 is sent through a probe copy of the
filter; the kernel's verdict must agree with the profile's intent (runc's reading) 100%.
"""

from __future__ import annotations

import errno
import json
import os
import platform
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from seccompose.arch import Arch

pytestmark = pytest.mark.integration

pytest.importorskip("pyseccomp", reason="the 'check' extra (pyseccomp + libseccomp.so.2) is not installed")


def _seccomp_filter_in_kernel() -> bool:
    status = Path("/proc/self/status").read_text()
    return "Seccomp_filters:" in status or "Seccomp:" in status


if platform.machine() != "x86_64":
    pytest.skip("the probe's machine code is x86_64 only", allow_module_level=True)
if not _seccomp_filter_in_kernel():
    pytest.skip("this kernel has no seccomp (no Seccomp: line in /proc/self/status)", allow_module_level=True)

from seccompose._probe import _PROBE32, _PROBE64, ProbeResult, Verdict, probe  # noqa: E402
from seccompose.check import popen_under, run_under  # noqa: E402

REFERENCE = Path(__file__).resolve().parent.parent / "fixtures" / "reference" / "profiles"
ABIS = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]

# Syscall numbers from the kernel's own tables (syscall_64.tbl / syscall_32.tbl), not from our data.
GETPID = {Arch.X86_64: 39, Arch.X86: 20, Arch.X32: 39 | 0x40000000}
MKDIR = {Arch.X86_64: 83, Arch.X86: 39, Arch.X32: 83 | 0x40000000}
PERSONALITY = {Arch.X86_64: 135, Arch.X86: 136, Arch.X32: 135 | 0x40000000}


def verdict(result: ProbeResult, abi: Arch, number: int, args: tuple[int, ...] = (0,) * 6) -> Verdict | None:
    (row,) = [r for r in result.rows if r.abi is abi and r.number == number and r.args == args]
    return row.kernel


def test_hand_written_profile_every_abi() -> None:
    profile = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "architectures": ABIS,
        "syscalls": [
            {"names": ["getpid", "read"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 28},
            {"names": ["kill"], "action": "SCMP_ACT_KILL_PROCESS"},
            {"names": ["tkill"], "action": "SCMP_ACT_TRAP"},
            {"names": ["tgkill"], "action": "SCMP_ACT_LOG"},
        ],
    }
    result = probe(profile)
    assert result.ok, result.format_table()
    for abi in (Arch.X86_64, Arch.X86, Arch.X32):
        assert verdict(result, abi, GETPID[abi]) == Verdict("SCMP_ACT_ALLOW")
        assert verdict(result, abi, MKDIR[abi]) == Verdict("SCMP_ACT_ERRNO", errno.ENOSPC)
    counts = {s["abi"]: s for s in result.summary()}
    # every number of each table was asked (plus unassigned ones past the end), minus the unprobeable
    assert counts["x86_64"]["numbers"] > 460
    assert counts["x86"]["numbers"] > 460
    assert counts["x32"]["numbers"] > 540
    assert sorted(counts["x86_64"]["skipped"]) == ["exit (60)", "exit_group (231)", "uprobe (336)", "uretprobe (335)"]
    assert counts["x86_64"]["verdicts"]["kill_process"] == 1
    assert counts["x86_64"]["verdicts"]["trap"] == 1
    assert counts["x86_64"]["verdicts"]["log"] == 1


@pytest.mark.parametrize("default", ["SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP", "SCMP_ACT_TRACE", "SCMP_ACT_LOG"])
def test_deadly_and_odd_defaults_are_probed_without_running_anything(default: str) -> None:
    # Nothing runs in the probe: a KILL default kills nobody, a LOG/ALLOW default runs nothing.
    profile = {
        "defaultAction": default,
        "architectures": ABIS,
        "syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EPERM}],
    }
    result = probe(profile)
    assert result.ok, result.format_table()
    expected = "SCMP_ACT_KILL_THREAD" if default == "SCMP_ACT_KILL" else default
    assert verdict(result, Arch.X86_64, MKDIR[Arch.X86_64]) == Verdict(expected)
    assert verdict(result, Arch.X86, GETPID[Arch.X86]) == Verdict("SCMP_ACT_ERRNO", errno.EPERM)


def test_probe_sees_an_abi_missing_from_the_profile() -> None:
    profile = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_ALLOW"}],
    }
    result = probe(profile)
    assert result.ok, result.format_table()
    assert verdict(result, Arch.X86_64, GETPID[Arch.X86_64]) == Verdict("SCMP_ACT_ALLOW")
    # int 0x80 and x32 calls hit libseccomp's bad-arch action
    assert verdict(result, Arch.X86, GETPID[Arch.X86]) == Verdict("badarch")
    assert verdict(result, Arch.X32, GETPID[Arch.X32]) == Verdict("badarch")


def test_conditions_are_probed_on_both_sides() -> None:
    profile = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "architectures": ABIS,
        "syscalls": [
            {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
            {
                "names": ["clone"],
                "action": "SCMP_ACT_ALLOW",
                "args": [{"index": 0, "value": 0x7E020000, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
            },
        ],
    }
    result = probe(profile)
    assert result.ok, result.format_table()
    for abi in (Arch.X86_64, Arch.X86):
        hit = (8, 0, 0, 0, 0, 0)
        miss = (9, 0, 0, 0, 0, 0)
        assert verdict(result, abi, PERSONALITY[abi], hit) == Verdict("SCMP_ACT_ALLOW")
        assert verdict(result, abi, PERSONALITY[abi], miss) == Verdict("SCMP_ACT_ERRNO", 1)
    with_args = [r for r in result.rows if any(r.args) and r.name == "clone" and r.abi is Arch.X86_64]
    assert with_args, "the MASKED_EQ miss vector was probed"
    assert all(r.kernel == Verdict("SCMP_ACT_ERRNO", 1) for r in with_args)


def test_probe_catches_a_name_the_runtime_skips() -> None:
    # Intent "profile": the profile says allow listmount; libseccomp 2.5.4 cannot resolve it, so
    # the kernel says EPERM. The probe must report the disagreement (it can fail).
    from seccompose.libseccomp import resolve_syscall

    if resolve_syscall(Arch.X86_64, "listmount") >= 0:
        pytest.skip("this libseccomp knows listmount")
    profile = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["getpid", "listmount"], "action": "SCMP_ACT_ALLOW"}],
    }
    assert probe(profile).ok  # the runtime's reading skips it: agreement
    result = probe(profile, intent="profile")
    assert not result.ok
    (row,) = result.disagreements
    assert (row.abi, row.number, row.name) == (Arch.X86_64, 458, "listmount")
    assert (row.intended, row.kernel) == (Verdict("SCMP_ACT_ALLOW"), Verdict("SCMP_ACT_ERRNO", 1))
    assert "DISAGREE x86_64 458 listmount" in result.format_table()


def test_probe_catches_libseccomp_merging_overlapping_rules_by_order() -> None:
    # Podman's socket rules overlap: EINVAL for socket(AF_NETLINK, *, NETLINK_AUDIT), else allow.
    # Added deny-first (as Podman writes them) the kernel agrees everywhere; added allow-first,
    # libseccomp 2.5.4 builds an i386/x32 filter where the deny never matches (measured).
    deny = {
        "names": ["socket"],
        "action": "SCMP_ACT_ERRNO",
        "errnoRet": errno.EINVAL,
        "args": [{"index": 0, "value": 16, "op": "SCMP_CMP_EQ"}, {"index": 2, "value": 9, "op": "SCMP_CMP_EQ"}],
    }
    allows = [
        {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 16, "op": "SCMP_CMP_NE"}]},
        {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 2, "value": 9, "op": "SCMP_CMP_NE"}]},
    ]
    # socketcall allowed first, as in Docker's and Podman's profiles: on x86 libseccomp turns every
    # socket rule into an argument-less socketcall(SYS_SOCKET) rule, which would otherwise clash
    socketcall = {"names": ["socketcall"], "action": "SCMP_ACT_ALLOW"}
    base = {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": errno.ENOSYS, "architectures": ABIS}
    assert probe({**base, "syscalls": [socketcall, deny, *allows]}).ok
    result = probe({**base, "syscalls": [socketcall, *allows, deny]})
    wrong = {(r.abi, r.args) for r in result.disagreements}
    assert (Arch.X86_64, (16, 0, 9, 0, 0, 0)) not in wrong  # 64-bit: no problem
    if not wrong:
        pytest.skip("this libseccomp merges overlapping rules independently of their order")
    assert wrong == {(Arch.X86, (16, 0, 9, 0, 0, 0)), (Arch.X32, (16, 0, 9, 0, 0, 0))}


def _docker_first_rule() -> dict[str, Any]:
    from seccompose.check import extract_seccomp

    doc = json.loads((REFERENCE / "docker-default-moby-profiles-cd3bed8.json").read_text())
    flat = {k: doc[k] for k in ("defaultAction", "defaultErrnoRet", "archMap")} | {"syscalls": [doc["syscalls"][0]]}
    return extract_seccomp(flat, arch=Arch.X86_64)


def test_docker_default_first_rule_full_agreement() -> None:
    result = probe(_docker_first_rule())
    assert result.ok, result.format_table()
    summary = {s["abi"]: s for s in result.summary()}
    assert summary["x86_64"]["verdicts"]["allow"] > 280
    # the i386-only names (_llseek, socketcall, ...) are allowed on the x86 ABI only
    assert summary["x86"]["verdicts"]["allow"] > summary["x86_64"]["verdicts"]["allow"]


def test_default_template_full_agreement() -> None:
    try:
        from seccompose import compose, dumps
        from seccompose.caps import DOCKER_DEFAULT_CAPABILITIES
    except ImportError:
        pytest.skip("compose/dumps are not available in this checkout yet")
    from seccompose.caps import all_capabilities

    for caps in (frozenset(), DOCKER_DEFAULT_CAPABILITIES, all_capabilities()):
        profile = json.loads(dumps(compose(base="default", arch=Arch.X86_64, caps=caps)))
        result = probe(profile)
        assert result.ok, result.format_table()
        conditional = sum(s["argumentCalls"] for s in result.summary())
        # with CAP_SYS_ADMIN clone is unconditional, but socket/personality keep conditions
        assert conditional > 0


def test_cli_probe(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ABIS, "syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_ALLOW"}]}))
    # (a toy profile no runtime could start a container with: --runtime none)
    p = subprocess.run(["seccompose", "check", str(path), "--probe", "--runtime", "none"], capture_output=True, text=True, check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "100.0%" in p.stdout
    p = subprocess.run(["seccompose", "check", str(path), "--probe", "--format", "json", "--runtime", "none"], capture_output=True, text=True, check=False)
    out = json.loads(p.stdout)
    assert out["probe"]["ok"] is True
    assert [a["abi"] for a in out["probe"]["abis"]] == ["x86_64", "x86", "x32"]


@pytest.mark.skipif(shutil.which("as") is None, reason="GNU as (binutils) is not installed to re-assemble the probe code")
def test_machine_code_matches_its_listing(tmp_path: Path) -> None:
    source = """
.intel_syntax noprefix
.text
probe64:
    push rbx; push rbp; push r12; push r13; push r14; push r15
    mov r12, rdi; mov r13, rsi; mov r14, rdx; xor r15, r15
1:  cmp r15, r13; jae 2f
    mov rax, [r12]; mov rdi, [r12+8]; mov rsi, [r12+16]; mov rdx, [r12+24]
    mov r10, [r12+32]; mov r8, [r12+40]; mov r9, [r12+48]
    syscall
    mov [r14+r15*8], rax; add r12, 56; inc r15; jmp 1b
2:  pop r15; pop r14; pop r13; pop r12; pop rbp; pop rbx; ret
probe32:
    push rbx; push rbp; push r12; push r13; push r14; push r15
    mov r12, rdi; mov r13, rsi; mov r14, rdx; xor r15, r15
1:  cmp r15, r13; jae 2f
    mov eax, [r12]; mov ebx, [r12+8]; mov ecx, [r12+16]; mov edx, [r12+24]
    mov esi, [r12+32]; mov edi, [r12+40]; mov ebp, [r12+48]
    int 0x80
    movsxd rax, eax; mov [r14+r15*8], rax; add r12, 56; inc r15; jmp 1b
2:  pop r15; pop r14; pop r13; pop r12; pop rbp; pop rbx; ret
"""
    (tmp_path / "p.s").write_text(source)
    subprocess.run(["as", "-o", str(tmp_path / "p.o"), str(tmp_path / "p.s")], check=True)
    subprocess.run(["objcopy", "-O", "binary", "-j", ".text", str(tmp_path / "p.o"), str(tmp_path / "p.bin")], check=True)
    assert (tmp_path / "p.bin").read_bytes() == _PROBE64 + _PROBE32


# ----------------------------------------------------------------------------- run_under


def test_run_under_denied_and_allowed(tmp_path: Path) -> None:
    profile = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.ENOSPC}],
    }
    target = tmp_path / "d"
    p = run_under(profile, ["mkdir", str(target)], capture_output=True, text=True)
    assert p.returncode != 0
    assert os.strerror(errno.ENOSPC) in p.stderr
    assert not target.exists()
    p = run_under(profile, ["touch", str(tmp_path / "f")], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "f").exists()


def test_run_under_default_deny_profile() -> None:
    # A default-deny profile: Docker's first rule plus its amd64-gated arch_prctl rule, as Docker
    # renders it on x86_64 (without arch_prctl, glibc cannot set up thread-local storage).
    profile = _docker_first_rule()
    profile["syscalls"].append({"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW"})
    p = run_under(profile, ["python3", "-c", "import os; print(os.getpid() > 0)"], capture_output=True, text=True)
    assert (p.returncode, p.stdout.strip()) == (0, "True"), p.stderr


def test_run_under_reports_a_denied_execve() -> None:
    profile = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["execve"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EACCES}]}
    with pytest.raises(PermissionError):
        run_under(profile, ["true"])


def test_popen_under_server_like_process() -> None:
    profile = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EAFNOSUPPORT}]}
    code = "import socket\ntry:\n    socket.socket()\nexcept OSError as e:\n    print(e.errno)"
    with popen_under(profile, ["python3", "-c", code], stdout=subprocess.PIPE, text=True) as p:
        out, _ = p.communicate(timeout=30)
    assert out.strip() == str(errno.EAFNOSUPPORT)

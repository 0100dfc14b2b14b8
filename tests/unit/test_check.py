"""seccompose.check: the runtime's reading of a profile and the libseccomp compile.

Compiling needs only libseccomp.so.2 (no kernel seccomp), so these are unit tests; they skip
when the optional `check` extra is missing.
"""

from __future__ import annotations

import copy
import json
import struct
from pathlib import Path
from typing import Any

import pytest

from seccompose.actions import Action
from seccompose.arch import Arch
from seccompose.check import Condition, check, compile_bpf, extract_seccomp, read_as_runtime
from seccompose.cli import main
from seccompose.errors import (
    FormatError,
    InvalidActionError,
    InvalidArchError,
    InvalidArgumentError,
    InvalidProfileError,
    SeccomposeError,
)
from seccompose.loader import template_names

pytest.importorskip("pyseccomp", reason="the 'check' extra (pyseccomp + libseccomp.so.2) is not installed")

REFERENCE = Path(__file__).resolve().parent.parent / "fixtures" / "reference" / "profiles"
X86_64_ABIS = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]


def profile(*rules: dict[str, Any], default: str = "SCMP_ACT_ERRNO", errno: int | None = 1) -> dict[str, Any]:
    out: dict[str, Any] = {"defaultAction": default, "architectures": X86_64_ABIS, "syscalls": list(rules)}
    if errno is not None:
        out["defaultErrnoRet"] = errno
    return out


ALLOW_BASICS = {"names": ["read", "write", "openat", "close"], "action": "SCMP_ACT_ALLOW"}


def docker_first_rule() -> dict[str, Any]:
    """Docker's current default, rendered by hand: its unconditional first rule and its x86_64 archMap entry."""
    doc = json.loads((REFERENCE / "docker-default-moby-profiles-cd3bed8.json").read_text())
    return {
        "defaultAction": doc["defaultAction"],
        "defaultErrnoRet": doc["defaultErrnoRet"],
        "archMap": doc["archMap"],
        "syscalls": [doc["syscalls"][0]],
    }


# ----------------------------------------------------------------------------- the runtime's reading


def test_rules_with_the_default_action_and_errno_are_skipped() -> None:
    r = read_as_runtime(
        profile(
            ALLOW_BASICS,
            {"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},  # == default: skipped
            {"names": ["kill"], "action": "SCMP_ACT_ERRNO"},  # errnoRet absent means EPERM == default
            {"names": ["mount"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},  # another errno: kept
        )
    )
    assert sorted(x.name for x in r.skipped) == ["kill", "ptrace"]
    assert "mount" in {x.name for x in r.rules}


def test_kill_equals_kill_thread_for_the_skip() -> None:
    # runc maps SCMP_ACT_KILL to KILL_THREAD, so a KILL_THREAD rule under a KILL default is a no-op
    r = read_as_runtime(profile({"names": ["read"], "action": "SCMP_ACT_KILL_THREAD"}, default="SCMP_ACT_KILL", errno=None))
    assert [x.name for x in r.skipped] == ["read"]


def test_repeated_index_becomes_or() -> None:
    rule = {
        "names": ["personality", "clone"],
        "action": "SCMP_ACT_ALLOW",
        "args": [
            {"index": 0, "value": 0, "op": "SCMP_CMP_EQ"},
            {"index": 0, "value": 8, "op": "SCMP_CMP_EQ"},
        ],
    }
    r = read_as_runtime(profile(rule))
    assert [(x.name, len(x.conditions)) for x in r.rules] == [("personality", 1), ("personality", 1), ("clone", 1), ("clone", 1)]
    # each name hits on 0 or 8 (OR), where an AND of both could never hit
    assert [x.matches([8, 0, 0, 0, 0, 0]) for x in r.rules[:2]] == [False, True]


def test_distinct_indexes_stay_anded() -> None:
    rule = {
        "names": ["socket"],
        "action": "SCMP_ACT_ALLOW",
        "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 1, "op": "SCMP_CMP_EQ"}],
    }
    (loaded,) = read_as_runtime(profile(rule)).rules
    assert loaded.matches([2, 1, 0, 0, 0, 0])
    assert not loaded.matches([2, 2, 0, 0, 0, 0])


@pytest.mark.parametrize(
    ("op", "value", "value_two", "arg", "expected"),
    [
        ("SCMP_CMP_MASKED_EQ", 0x7E020000, 0, 0x11, True),  # value is the mask, valueTwo the datum
        ("SCMP_CMP_MASKED_EQ", 0x7E020000, 0, 0x10000000, False),  # CLONE_NEWUSER is in the mask
        ("SCMP_CMP_MASKED_EQ", 0xFF, 0x0F, 0xF0F, True),
        ("SCMP_CMP_NE", 40, 0, 40, False),
        ("SCMP_CMP_LT", 38, 0, 37, True),
        ("SCMP_CMP_LE", 38, 0, 38, True),
        ("SCMP_CMP_GT", 40, 0, 40, False),
        ("SCMP_CMP_GE", 40, 0, 40, True),
        ("SCMP_CMP_EQ", 2**64 - 1, 0, 2**64 - 1, True),
    ],
)
def test_condition_semantics(op: str, value: int, value_two: int, arg: int, expected: bool) -> None:
    assert Condition(0, op, value, value_two).matches(arg) is expected


@pytest.mark.parametrize(
    ("doc", "error", "fragment"),
    [
        ({"defaultAction": "SCMP_ACT_ALOW"}, InvalidActionError, "did you mean 'SCMP_ACT_ALLOW'? at defaultAction"),
        ({"defaultAction": "errno"}, InvalidActionError, "exact SCMP_ACT_* names"),  # runtimes are strict
        ({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 5000}, InvalidActionError, "out of range"),
        ({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": "EPERM"}, InvalidProfileError, "must be a number"),
        ({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_AMD65"]}, InvalidArchError, "architectures[0]"),
        ({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": {"names": ["read"]}}, InvalidProfileError, "JSON list"),
        ({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"action": "SCMP_ACT_ALLOW"}]}, InvalidProfileError, "syscalls[0].names"),
        ({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": [""], "action": "SCMP_ACT_ALLOW"}]}, InvalidProfileError, "syscalls[0].names[0]"),
        (
            {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]},
            InvalidArgumentError,
            "syscalls[0].args[0].index",
        ),
        (
            {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQUAL"}]}]},
            InvalidArgumentError,
            "syscalls[0].args[0].op",
        ),
        (
            {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": -1, "op": "SCMP_CMP_EQ"}]}]},
            InvalidArgumentError,
            "syscalls[0].args[0].value",
        ),
        ([], InvalidProfileError, "JSON object"),
    ],
)
def test_bad_profiles_name_the_place(doc: Any, error: type[SeccomposeError], fragment: str) -> None:
    with pytest.raises(error) as info:
        read_as_runtime(doc)
    assert fragment in str(info.value)


# ----------------------------------------------------------------------------- document shapes


def test_extract_from_config_json_and_docker() -> None:
    seccomp = profile(ALLOW_BASICS)
    assert extract_seccomp({"ociVersion": "1.0.2", "linux": {"seccomp": seccomp}}) == seccomp
    assert extract_seccomp(seccomp) == seccomp
    oci = extract_seccomp(docker_first_rule(), arch=Arch.X86_64)
    assert oci["architectures"] == X86_64_ABIS
    assert oci["syscalls"][0]["action"] == "SCMP_ACT_ALLOW"
    assert "includes" not in oci["syscalls"][0]
    aarch64 = extract_seccomp(docker_first_rule(), arch=Arch.AARCH64)
    assert aarch64["architectures"] == ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]


def test_extract_refuses_gated_docker_rules_and_configs_without_seccomp() -> None:
    doc = json.loads((REFERENCE / "docker-default-moby-profiles-cd3bed8.json").read_text())
    with pytest.raises(FormatError, match=r"render the profile.*at syscalls\[1\]\.includes"):
        extract_seccomp(doc, arch=Arch.X86_64)
    with pytest.raises(FormatError, match=r"linux\.seccomp"):
        extract_seccomp({"ociVersion": "1.0.2", "linux": {}})


# ----------------------------------------------------------------------------- check: planted bugs


def test_clean_profile_is_ok() -> None:
    report = check(profile(ALLOW_BASICS, {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}))
    assert report.ok, report.format_text()
    assert report.rules_loaded == 5
    # notes (unfilterable uretprobe/uprobe, runc's ENOSYS stub) do not fail the check
    assert {f.kind for f in report.findings} <= {"unfilterable", "enosys-stub"}


def test_planted_unknown_name_is_caught() -> None:
    report = check(profile({"names": ["read", "opnat"], "action": "SCMP_ACT_ALLOW"}))
    (problem,) = report.problems
    assert problem.kind == "unknown-syscall"
    assert problem.location == "syscalls[0].names[1]"
    assert "did you mean 'openat'" in problem.message


def test_planted_name_newer_than_libseccomp_is_caught_per_arch() -> None:
    # listmount (Linux 6.8, number 458 on every x86 ABI) is unknown to libseccomp 2.5.4
    from seccompose.libseccomp import resolve_syscall

    if resolve_syscall(Arch.X86_64, "listmount") >= 0:
        pytest.skip("this libseccomp knows listmount; the planted name is not unknown to it")
    report = check(profile({"names": ["read", "listmount"], "action": "SCMP_ACT_ALLOW"}))
    # the allow is skipped and the default refuses listmount: fails closed, so a warning (issue 15)
    assert report.ok
    assert report.failed(strict=True)
    assert dict(report.unresolved) == {"x32": ("listmount",), "x86": ("listmount",), "x86_64": ("listmount",)}
    messages = [f.message for f in report.warnings if f.kind == "unresolved"]
    assert len(messages) == 3
    assert all("listmount (458" in m for m in messages)


def test_accept_unresolved_downgrades_only_what_stays_refused() -> None:
    from seccompose.libseccomp import resolve_syscall

    if resolve_syscall(Arch.X86_64, "listmount") >= 0:
        pytest.skip("this libseccomp knows listmount")
    allow = profile({"names": ["read", "listmount"], "action": "SCMP_ACT_ALLOW"})
    accepted = check(allow, accept_unresolved=True)
    assert accepted.ok
    assert {f.severity for f in accepted.findings if f.kind == "unresolved"} == {"note"}
    # a deny the runtime skips under an allowing default is a hole: never accepted
    deny = profile({"names": ["listmount"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}, default="SCMP_ACT_ALLOW", errno=None)
    hole = check(deny, accept_unresolved=True)
    assert not hole.ok
    assert all("more permissive than written" in f.message for f in hole.problems)


def test_planted_deny_with_the_default_errno_is_caught() -> None:
    # The deny is meant to override the allow-all rule for clone's namespace flags; runc skips it.
    report = check(
        profile(
            {"names": ["clone"], "action": "SCMP_ACT_ALLOW"},
            {
                "names": ["clone"],
                "action": "SCMP_ACT_ERRNO",
                "errnoRet": 1,
                "args": [{"index": 0, "value": 0x10000000, "valueTwo": 0x10000000, "op": "SCMP_CMP_MASKED_EQ"}],
            },
        )
    )
    (problem,) = report.problems
    assert problem.kind == "default-action-rule"
    assert problem.location == "syscalls[1].names[0]"
    assert "SCMP_ACT_ALLOW" in problem.message  # says which rule then applies unopposed


def test_conflicting_unconditional_rules_are_reported() -> None:
    report = check(profile(ALLOW_BASICS, {"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5}))
    assert [f.kind for f in report.problems] == ["conflict"]


def test_rule_libseccomp_refuses_is_reported_not_raised() -> None:
    cond = [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]
    report = check(
        profile(
            {"names": ["write"], "action": "SCMP_ACT_ALLOW", "args": cond},
            {"names": ["write"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5, "args": cond},
        )
    )
    assert [f.kind for f in report.problems] == ["rejected"]


def test_explicit_deny_of_an_unfilterable_syscall_is_a_problem() -> None:
    report = check(profile({"names": ["uretprobe"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}, default="SCMP_ACT_ALLOW", errno=None))
    severity = {f.names: f.severity for f in report.findings if f.kind == "unfilterable"}
    assert severity == {("uretprobe",): "problem", ("uprobe",): "note"}


def test_names_of_other_arches_are_not_problems() -> None:
    # _llseek is i386 only; on the x86_64 and x32 ABIs it simply does not exist
    report = check(profile({"names": ["read", "_llseek"], "action": "SCMP_ACT_ALLOW"}))
    assert report.ok, report.format_text()


def test_unknown_flag_and_errno_on_allow_are_problems() -> None:
    doc = profile({"names": ["read"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1})
    doc["flags"] = ["SECCOMP_FILTER_FLAG_BOGUS"]
    kinds = sorted(f.kind for f in check(doc).problems)
    assert kinds == ["errno-on-action", "unknown-flag"]


# ----------------------------------------------------------------------------- BPF


def _instructions(bpf: bytes) -> list[tuple[int, int, int, int]]:
    return [struct.unpack("=HBBI", bpf[i : i + 8]) for i in range(0, len(bpf), 8)]


def test_bpf_is_a_seccomp_program() -> None:
    bpf = compile_bpf(profile(ALLOW_BASICS))
    program = _instructions(bpf)
    # Facts of the kernel's seccomp ABI, not of our code: a filter first loads seccomp_data.arch
    # (BPF_LD|BPF_W|BPF_ABS = 0x20, offset 4) and every path ends in BPF_RET (class 0x06).
    assert program[0] == (0x20, 0, 0, 4)
    assert program[-1][0] & 0x07 == 0x06
    assert check(profile(ALLOW_BASICS)).bpf_instructions == len(program)


def test_bpf_size_of_docker_default_first_rule() -> None:
    report = check(extract_seccomp(docker_first_rule(), arch=Arch.X86_64), source="docker")
    # three ABIs x ~350 names: far more than the 4 of a small profile, under the kernel's 4096
    assert 500 < report.bpf_instructions < 4096
    assert report.rules_loaded > 300
    # Docker's own file names syscalls libseccomp 2.5.4 does not know; check must say so
    assert "unresolved" in {f.kind for f in report.warnings}


def test_report_json_is_stable() -> None:
    doc = profile(ALLOW_BASICS)
    shuffled = copy.deepcopy(doc)
    shuffled["syscalls"][0]["names"].reverse()
    assert json.dumps(check(doc).to_json(), sort_keys=True) == json.dumps(check(shuffled).to_json(), sort_keys=True)


# ----------------------------------------------------------------------------- CLI


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean = tmp_path / "clean.json"
    clean.write_text(json.dumps(profile(ALLOW_BASICS)))
    planted = tmp_path / "planted.json"
    planted.write_text(json.dumps({"ociVersion": "1.0.2", "linux": {"seccomp": profile({"names": ["opnat"], "action": "SCMP_ACT_ALLOW"})}}))
    broken = tmp_path / "broken.json"
    broken.write_text('{"defaultAction": ')
    assert main(["check", str(clean), "--runtime", "none"]) == 0  # a toy profile: no runtime could start with it
    assert "OK" in capsys.readouterr().out
    assert main(["check", str(planted), "--format", "json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False
    assert out["findings"][0]["kind"] == "unknown-syscall"
    assert main(["check", str(broken)]) == 2
    assert "malformed JSON" in capsys.readouterr().err


def test_actions_cover_every_oci_action() -> None:
    # every action compiles (KILL variants, TRAP, TRACE, LOG, NOTIFY) without a Python error
    for action in Action:
        if action is Action.ERRNO:
            continue
        report = check(profile(ALLOW_BASICS, {"names": ["ptrace"], "action": action.value}))
        assert report.rules_loaded == 5


def test_a_profile_for_another_arch_is_checked_as_its_host_builds_it() -> None:
    doc = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
        "syscalls": [{"names": ["read", "openat", "renameat2"], "action": "SCMP_ACT_ALLOW"}],
    }
    report = check(doc)
    assert report.ok, report.format_text()
    assert {f.arch for f in report.findings} <= {None}  # nothing about this host's x86_64
    assert "foreign-arch" in {f.kind for f in report.findings}
    # the aarch64 host's filter has two arch sections; this host's would add an x86_64 one
    native_too = len(compile_bpf(doc)) // 8
    assert report.bpf_instructions < native_too


SOCKET_DENY = {
    "names": ["socket"],
    "action": "SCMP_ACT_ERRNO",
    "errnoRet": 22,
    "args": [{"index": 0, "value": 16, "op": "SCMP_CMP_EQ"}, {"index": 2, "value": 9, "op": "SCMP_CMP_EQ"}],
}
SOCKET_ALLOW = {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 16, "op": "SCMP_CMP_NE"}]}


def test_x86_socketcall_clash_is_explained() -> None:
    # on x86 both socket rules become socketcall(SYS_SOCKET) without arguments: libseccomp says EEXIST
    (problem,) = check(profile(SOCKET_DENY, SOCKET_ALLOW)).problems
    assert problem.kind == "rejected"
    assert "socketcall" in problem.message
    # allowing socketcall first (as Docker and Podman do) avoids it
    assert check(profile({"names": ["socketcall"], "action": "SCMP_ACT_ALLOW"}, SOCKET_DENY, SOCKET_ALLOW)).ok


def test_deny_after_a_conditional_allow_gets_an_order_note() -> None:
    socketcall = {"names": ["socketcall"], "action": "SCMP_ACT_ALLOW"}
    late = check(profile(socketcall, SOCKET_ALLOW, SOCKET_DENY))
    assert [f.kind for f in late.findings if f.kind == "rule-order"] == ["rule-order"]
    early = check(profile(socketcall, SOCKET_DENY, SOCKET_ALLOW))
    assert "rule-order" not in {f.kind for f in early.findings}


def test_podman_errno_names_are_read() -> None:
    doc = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrno": "ENOSYS",
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "errno": "EPERM"},
        ],
    }
    oci = extract_seccomp(doc)
    assert oci["defaultErrnoRet"] == 38
    assert oci["syscalls"][1]["errnoRet"] == 1
    assert check(oci).ok


def test_fields_runtimes_ignore_are_reported() -> None:
    doc = profile({"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "comment": "why"})
    doc["listenerPat"] = "/run/agent.sock"
    findings = {f.location: f for f in check(doc).findings if f.kind == "unknown-field"}
    assert findings["listenerPat"].severity == "note"
    assert "did you mean 'listenerPath'" in findings["listenerPat"].message
    assert findings["syscalls[0].comment"].severity == "note"
    # an errno name in an OCI profile is ignored by runc: the deny silently becomes EPERM
    doc["syscalls"][0]["errno"] = "ENOSYS"
    (problem,) = [f for f in check(doc).problems if f.kind == "unknown-field"]
    assert problem.location == "syscalls[0].errno"


@pytest.mark.parametrize("name", template_names())
def test_check_passes_every_shipped_template(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    # issue 15: libseccomp 2.5.4 cannot resolve 7 names of the default; they stay refused (fail closed),
    # which is a warning, not a failure
    assert main(["check", name]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert out.startswith(f"{name}: OK")
    assert "problem:" not in out


def test_strict_fails_on_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    from seccompose.libseccomp import resolve_syscall

    if resolve_syscall(Arch.X86_64, "listmount") >= 0:
        pytest.skip("this libseccomp knows every name of the default")
    assert main(["check", "default", "--strict"]) == 1
    assert "warning: libseccomp" in capsys.readouterr().out
    assert main(["check", "default", "--strict", "--accept-unresolved"]) == 0


def test_a_filter_longer_than_the_kernel_takes_is_a_problem() -> None:
    # 4,100 argument values of one syscall: libseccomp compiles them, the kernel refuses past 4,096
    # instructions (BPF_MAXINSNS); before, check printed OK for such a filter.
    rules = [
        {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": v, "op": "SCMP_CMP_EQ"}]}
        for v in range(4100)
    ]
    report = check({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": rules})
    assert report.bpf_instructions > 4096
    assert [f.kind for f in report.problems] == ["too-long"]
    assert not report.ok


def test_check_knows_the_runtime(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A profile that lacks the runtime's start-up set fails check (as Docker runs: runc, noNewPrivileges false)."""
    from seccompose import Arch, compose
    from seccompose.formats.oci import to_dict

    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(to_dict(compose("nginx", arch=Arch.X86_64, runtime=None))))
    assert main(["check", str(bare)]) == 1
    out = capsys.readouterr().out
    assert "problem: " in out and "refused: runc 1.1.5+ds1 with noNewPrivileges false makes them" in out
    assert main(["check", str(bare), "--format", "json"]) == 1
    finding = next(f for f in json.loads(capsys.readouterr().out)["findings"] if f["kind"] == "runtime-cannot-start")
    assert "setgroups" not in finding["names"]  # nginx switches user itself: it is in the template
    # runc's own calls after it loads the filter, which nginx never makes (its entrypoint's find and chown
    # make fstatfs and getdents64, now in the template recorded from the image)
    assert {"capget", "capset"} <= set(finding["names"])
    good = tmp_path / "good.json"
    good.write_text(json.dumps(to_dict(compose("nginx", arch=Arch.X86_64))))
    assert main(["check", str(good), "--runtime", "runc,crun", "--accept-unresolved"]) == 0
    report = check(to_dict(compose("nginx", arch=Arch.X86_64, runtime="runc", no_new_privileges=True)), runtime="runc")
    assert [f.kind for f in report.problems] == ["runtime-cannot-start"]  # made for nnp true, run with false

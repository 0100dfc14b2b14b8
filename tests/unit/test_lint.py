"""lint: one profile per rule that triggers it (and only it, where that is possible), clean profiles that trigger nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from seccompose import Action, Arch, Profile, Rule, compose
from seccompose.errors import FormatError, InvalidActionError, InvalidProfileError, TemplateNotFoundError
from seccompose.lint import DANGEROUS, ENOSYS_FALLBACK, LIBSECCOMP_KERNEL, RULES, lint, lint_file, rule
from seccompose.syscalls import TABLED_ARCHES, all_names, table

REFERENCE = Path(__file__).parents[1] / "fixtures" / "reference" / "profiles"
X86_64 = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]


def oci(
    *rules: dict[str, Any], default: str = "SCMP_ACT_ERRNO", arches: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    doc: dict[str, Any] = {"defaultAction": default, "architectures": X86_64 if arches is None else arches}
    doc["syscalls"] = list(rules)
    doc.update(extra)
    return doc


def allow(*names: str, **extra: Any) -> dict[str, Any]:
    return {"names": list(names), "action": "SCMP_ACT_ALLOW", **extra}


def ids(doc: Any, **kw: Any) -> list[str]:
    return [f.rule.id for f in lint(doc, **kw).findings]


# runc's start-up set for noNewPrivileges false, but setuid (runc switches user after loading the filter)
_RUNC_BUT_SETUID = sorted({
    "capget", "capset", "chdir", "close", "execve", "faccessat2", "fstat", "fstatfs", "futex", "getcwd", "getdents64",
    "getppid", "newfstatat", "openat", "prctl", "read", "rt_sigreturn", "setgid", "setgroups", "write", "exit_group",
})  # fmt: skip

_NEWER = ["close_range", "futex_time64", "openat2", "statx"]  # ENOSYS, so enosys-fallback stays quiet

# Each case: a profile built so that exactly the named rule fires.
TRIGGERS: list[tuple[str, dict[str, Any], str | None]] = [
    (
        "runtime-cannot-start",
        oci(allow(*_RUNC_BUT_SETUID), {"names": _NEWER, "action": "SCMP_ACT_ERRNO", "errnoRet": 38}),
        "syscalls",
    ),
    (
        "noop-deny-overridden",
        # kill is allowed by the first rule; the deny equals the default so runc drops it: kill runs.
        oci(
            allow("read", "kill"),
            {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
            default="SCMP_ACT_ERRNO",
        ),
        "syscalls[1]",
    ),
    (
        "noop-deny",
        # ERRNO without errnoRet is EPERM, like the default's missing defaultErrnoRet.
        oci(allow("read"), {"names": ["kill"], "action": "SCMP_ACT_ERRNO"}),
        "syscalls[1]",
    ),
    ("unknown-syscall", oci(allow("read", "opnat")), "syscalls[0].names[1]"),
    (
        "unverifiable-syscall",
        # s390x has no table here: the name may exist there.
        oci(allow("read", "s390_runtime_instr"), arches=["SCMP_ARCH_S390X", "SCMP_ARCH_S390"]),
        "syscalls[0].names[1]",
    ),
    ("not-on-arch", oci(allow("read", "open"), arches=["SCMP_ARCH_AARCH64"]), "syscalls[0].names[1]"),
    (
        "compat-arch-missing",
        oci(
            {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
            default="SCMP_ACT_ALLOW",
            arches=["SCMP_ARCH_X86_64"],
        ),
        "architectures",
    ),
    (
        "enosys-fallback",
        oci(allow("clone", "read"), {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}),
        "syscalls[1]",
    ),
    ("io-uring-allowed", oci(allow("read", "io_uring_setup", "io_uring_enter")), "syscalls[0]"),
    (
        "repeated-arg-index",
        oci(
            allow("read"),
            allow(
                "personality",
                args=[{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}],
            ),
        ),
        "syscalls[1].args[1]",
    ),
    (
        "masked-datum",
        oci(allow("read"), allow("personality", args=[{"index": 0, "value": 0xFF, "valueTwo": 0x100, "op": "SCMP_CMP_MASKED_EQ"}])),
        "syscalls[1].args[0]",
    ),
    (
        "useless-condition",
        # personality >= 0: allowed whatever the argument, yet the filter tests it on every call
        oci(allow("read"), allow("personality", args=[{"index": 0, "value": 0, "op": "SCMP_CMP_GE"}])),
        "syscalls[1].args[0]",
    ),
    ("dangerous-allowed", oci(allow("read", "mount")), "syscalls[0]"),
    (
        "notify-without-listener",
        oci(allow("read"), {"names": ["openat"], "action": "SCMP_ACT_NOTIFY"}),
        "syscalls[1].action",
    ),
    ("newer-than-libseccomp", oci(allow("read", "mseal")), "syscalls[0]"),
    (
        "unfilterable-uprobe",
        oci(allow("read"), {"names": ["uretprobe"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}),
        "syscalls[1]",
    ),
    (
        "permissive-default",
        # a deny-list: every syscall no rule names runs (issue 15: lint --strict passed it)
        oci({"names": ["kexec_load"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}, default="SCMP_ACT_ALLOW"),
        "defaultAction",
    ),
    ("log-rule", oci(allow("read"), {"names": ["kill"], "action": "SCMP_ACT_LOG"}), "syscalls[1].action"),
    (
        "alias-allowed",
        # setuid refused, but i386 programs call setuid32 (sys_setuid too), which is allowed
        oci(allow("read", "setuid32"), {"names": ["setuid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}),
        "syscalls[1]",
    ),
    (
        "multiplexer-unchecked",
        # socket only for AF_UNIX, but socketcall(SYS_SOCKET, args) carries the family in memory
        oci(allow("read", "socketcall"), allow("socket", args=[{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}])),
        "syscalls[1]",
    ),
]
ODDITIES = Path(__file__).parents[1] / "golden" / "render" / "oddities"
ODDITY_RULES = {
    v["lint"] for k, v in json.loads((ODDITIES / "expected.json").read_text()).items() if not k.startswith("_")
} - {None}


def test_every_rule_has_a_trigger_case() -> None:
    # the engines' oddities are triggered by the render goldens' profiles (tests/golden/render/test_render_oddities.py)
    assert sorted(r.id for r in RULES) == sorted({case[0] for case in TRIGGERS} | ODDITY_RULES)


@pytest.mark.parametrize(("rule_id", "doc", "location"), TRIGGERS, ids=[c[0] for c in TRIGGERS])
def test_each_rule_fires_alone(rule_id: str, doc: dict[str, Any], location: str | None) -> None:
    report = lint(doc, source="case.json", runtime="runc" if rule_id == "runtime-cannot-start" else None)
    # uretprobe is also newer than libseccomp 2.5.4: it cannot be named without that finding
    also = {"newer-than-libseccomp"} if rule_id == "unfilterable-uprobe" else set()
    also |= {"permissive-default"} if rule_id == "compat-arch-missing" else set()
    assert [f.rule.id for f in report.findings if f.rule.id not in also] == [rule_id]
    (finding,) = [f for f in report.findings if f.rule.id == rule_id]
    assert finding.location == location
    assert finding.severity == rule(rule_id).severity


def test_rules_are_complete() -> None:
    for r in RULES:
        assert r.severity in ("error", "warning", "info")
        assert r.title and r.explanation.endswith(".") and r.fix
    assert len({r.id for r in RULES}) == len(RULES)


CLEAN = [
    oci(allow("read", "write", "exit_group")),
    # clone3 with ENOSYS next to clone: exactly what glibc wants
    oci(allow("clone", "read"), {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}),
    # the same syscall under conditions on two different arguments
    oci(
        allow("read"),
        allow(
            "prctl",
            args=[{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 1, "op": "SCMP_CMP_EQ"}],
        ),
    ),
    # socket under conditions, socketcall refused outright (--strict-multiplexers): nothing unchecked
    oci(
        allow("read"),
        allow("socket", args=[{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]),
        {"names": ["socketcall"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
    ),
    # a whole family refused, the multiplexer with it
    oci(allow("read"), {"names": ["setuid", "setuid32", "socket", "socketcall"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}),
    # NOTIFY with a listener
    oci(allow("read"), {"names": ["openat"], "action": "SCMP_ACT_NOTIFY"}, listenerPath="/run/agent.sock"),
]


@pytest.mark.parametrize("doc", CLEAN)
def test_clean_profiles_have_no_findings(doc: dict[str, Any]) -> None:
    report = lint(doc)
    assert report.findings == ()
    assert not report.failed(strict=True)
    assert report.format_text() == "<profile>: no problems found"


def test_noop_deny_is_not_reported_when_the_deny_differs_from_default() -> None:
    doc = oci(allow("read"), {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38})
    assert "noop-deny" not in ids(doc)


def test_noop_deny_also_applies_to_conditional_denies() -> None:
    # runc compares the action only, whatever the rule's conditions
    doc = oci(
        allow("read"),
        {
            "names": ["personality"],
            "action": "SCMP_ACT_ERRNO",
            "errnoRet": 1,
            "args": [{"index": 0, "value": 40, "op": "SCMP_CMP_EQ"}],
        },
    )
    assert ids(doc) == ["noop-deny"]


def test_compat_arch_missing_with_no_architectures() -> None:
    doc = {"defaultAction": "SCMP_ACT_LOG", "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_KILL"}]}
    report = lint(doc)
    assert [f.rule.id for f in report.findings] == ["compat-arch-missing", "permissive-default"]
    assert report.findings[0].location == "defaultAction"


def test_compat_arch_missing_on_aarch64() -> None:
    doc = oci({"names": ["kill"], "action": "SCMP_ACT_KILL"}, default="SCMP_ACT_ALLOW", arches=["SCMP_ARCH_AARCH64"])
    assert "SCMP_ARCH_ARM" in lint(doc).findings[0].message


def test_enosys_fallback_through_the_default_action() -> None:
    # clone3 named by no rule falls to EPERM; clone is allowed, so glibc would have fallen back
    doc = oci(allow("clone", "read"))
    report = lint(doc)
    assert [f.rule.id for f in report.findings] == ["enosys-fallback"]
    assert report.findings[0].names == ("clone3",)
    assert report.findings[0].location == "defaultAction"


def test_enosys_fallback_not_reported_with_an_enosys_default() -> None:
    doc = oci(allow("clone", "read"))
    doc["defaultErrnoRet"] = 38
    assert ids(doc) == []


def test_enosys_time64_names_only_for_x86() -> None:
    doc = oci(allow("clock_gettime", "read"))
    found = lint(doc).findings
    assert [f.names for f in found] == [("clock_gettime64",)]
    assert ids(oci(allow("clock_gettime", "read"), arches=["SCMP_ARCH_AARCH64"])) == []


@pytest.mark.parametrize(
    ("arg", "fragment"),
    [
        ({"index": 1, "value": 0xFFFFFFFFFFFFFFFF, "op": "SCMP_CMP_LE"}, "arg1 <= 0xffffffffffffffff holds for every"),
        ({"index": 0, "value": 0, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}, "arg0 & 0x0 == 0x0 holds for every"),
        ({"index": 2, "value": 0, "op": "SCMP_CMP_LT"}, "arg2 < 0 holds for no value; the rule never applies"),
    ],
)
def test_useless_condition_comparisons(arg: dict[str, Any], fragment: str) -> None:
    (finding,) = lint(oci(allow("read"), allow("personality", args=[arg]))).findings
    assert finding.rule.id == "useless-condition"
    assert fragment in finding.message


def test_masked_datum_says_what_libseccomp_loads() -> None:
    # libseccomp masks the datum too: (arg & 0xff) == (0x1ff & 0xff), not "no value" as written
    (finding,) = lint(
        oci(allow("read"), allow("personality", args=[{"index": 0, "value": 0xFF, "valueTwo": 0x1FF, "op": "SCMP_CMP_MASKED_EQ"}]))
    ).findings
    assert (finding.rule.id, finding.severity, finding.location) == ("masked-datum", "error", "syscalls[1].args[0]")
    assert "the runtime loads arg0 & 0xff == 0xff" in finding.message


def test_useless_condition_beside_an_unconditional_rule_with_the_same_action() -> None:
    doc = oci(
        allow("read", "personality"),
        allow("personality", args=[{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]),
        # a conditional refusal of an allowed name changes the verdict: not reported
        {"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 9, "args": [{"index": 0, "value": 3, "op": "SCMP_CMP_EQ"}]},
    )
    (finding,) = lint(doc).findings
    assert (finding.rule.id, finding.location, finding.names) == ("useless-condition", "syscalls[1].args", ("personality",))
    assert "syscalls[0] already allows personality without conditions" in finding.message


def test_a_condition_gated_on_a_capability_is_not_made_useless_by_a_narrower_rule() -> None:
    # Docker format: the unconditional allow needs CAP_SYS_ADMIN, the conditional one applies to everyone
    doc = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [
            {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
            {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}]},
        ],
    }
    assert "useless-condition" not in ids(doc)


def test_dangerous_justified_by_includes_caps_in_a_docker_profile() -> None:
    doc = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
        "syscalls": [allow("read"), allow("mount", includes={"caps": ["CAP_SYS_ADMIN"]})],
    }
    report = lint(doc)
    assert report.kind == "docker"
    assert report.findings == ()


def test_dangerous_justified_by_the_containers_caps() -> None:
    doc = oci(allow("read", "mount", "ptrace"))
    (finding,) = lint(doc, caps=["SYS_ADMIN"]).findings
    assert finding.names == ("ptrace",)
    assert "CAP_SYS_PTRACE" in finding.message
    assert lint(doc, caps=["SYS_ADMIN", "CAP_SYS_PTRACE"]).findings == ()


def test_dangerous_without_any_justifying_capability() -> None:
    (finding,) = lint(oci(allow("read", "keyctl"))).findings
    assert "no capability makes it safe" in finding.message


def test_dangerous_names_exist() -> None:
    assert all_names() >= DANGEROUS
    assert set(ENOSYS_FALLBACK) <= all_names()
    assert {f for fallbacks in ENOSYS_FALLBACK.values() for f in fallbacks} <= all_names()


def test_ignore_drops_a_rule_and_rejects_unknown_ids() -> None:
    doc = oci(allow("read", "io_uring_setup"))
    assert ids(doc, ignore=["io-uring-allowed"]) == []
    with pytest.raises(InvalidProfileError, match="did you mean 'io-uring-allowed'"):
        lint(doc, ignore=["io-uring-alowed"])


def test_strict_fails_on_warnings_only() -> None:
    warn = lint(oci(allow("read", "io_uring_setup")))
    assert not warn.failed() and warn.failed(strict=True)
    err = lint(oci(allow("read", "opnat")))
    assert err.failed() and err.failed(strict=True)


def test_findings_sorted_errors_first_and_json_shape() -> None:
    doc = oci(allow("read", "io_uring_setup", "opnat"))
    report = lint(doc, source="p.json")
    assert [f.severity for f in report.findings] == ["error", "warning"]
    data = report.to_json()
    assert data["errors"] == 1 and data["warnings"] == 1
    assert data["findings"][0] == {
        "id": "unknown-syscall",
        "severity": "error",
        "message": "'opnat' is in no syscall table of Linux 7.2.13; runtimes skip it silently; did you mean 'openat'?",
        "location": "syscalls[0].names[2]",
        "names": ["opnat"],
        "fix": rule("unknown-syscall").fix,
    }
    assert report.format_text().splitlines()[0].startswith("p.json:syscalls[0].names[2]: error [unknown-syscall]")


def test_config_json_locations_are_prefixed() -> None:
    doc = {"ociVersion": "1.0.2", "linux": {"seccomp": oci(allow("read", "opnat"))}}
    (finding,) = lint(doc).findings
    assert finding.location == "linux.seccomp.syscalls[0].names[1]"


def test_profile_objects_are_linted() -> None:
    p = Profile(default_action=Action.ERRNO, architectures=Arch.X86_64.abis, rules=(Rule(("read", "io_uring_enter")),))
    assert [f.rule.id for f in lint(p).findings] == ["io-uring-allowed"]


def test_template_documents() -> None:
    doc = {"schema": 1, "name": "t", "rules": [{"names": ["read", "arch_prctl"], "arches": ["aarch64"]}]}
    report = lint(doc)
    assert report.kind == "template"
    assert [(f.rule.id, f.location) for f in report.findings] == [("not-on-arch", "rules[0].names[1]")]


@pytest.mark.parametrize(
    ("doc", "error", "match"),
    [
        ([], FormatError, "a profile must be a JSON object"),
        ("SCMP_ACT_ERRNO", FormatError, "a profile must be a JSON object"),
        ({"schema": 1, "name": "x", "rules": [{"names": ["read"], "action": "SCMP_ACT_ALOW"}]}, InvalidActionError,
         "did you mean 'SCMP_ACT_ALLOW'"),
    ],
)
def test_bad_documents(doc: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        lint(doc)


@pytest.mark.parametrize(
    ("doc", "rule_id"),
    [
        # issue 15: these profiles made lint exit 2, although finding them is its job
        ({"architectures": []}, "unconfined"),
        ({"defaultAction": "SCMP_ACT_ALOW"}, "unknown-action"),
        ({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": {}}, "engine-refuses"),
        ({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": "read", "action": "SCMP_ACT_ALLOW"}]},
         "engine-refuses"),
        ({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
                                                          "args": [{"index": "0"}]}]}, "engine-refuses"),
        ({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"Names": ["read"], "Action": "SCMP_ACT_ALLOW"}]},
         "key-case"),
        ({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": [], "action": "SCMP_ACT_ALLOW"}]}, "names-empty"),
    ],
)
def test_what_the_engines_accept_or_refuse_is_a_finding(doc: dict[str, Any], rule_id: str) -> None:
    report = lint(doc)
    assert rule_id in {f.rule.id for f in report.findings}
    assert report.failed()


def test_lint_file_reads_files_and_templates(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(oci(allow("read", "io_uring_setup"))))
    report = lint_file(str(path))
    assert report.source == str(path) and [f.rule.id for f in report.findings] == ["io-uring-allowed"]
    with pytest.raises(TemplateNotFoundError):
        lint_file(str(tmp_path / "missing.json"))


def test_docker_reference_profile_has_no_errors() -> None:
    # Docker's current default is careful: nothing it says is silently dropped on the tabled arches. But it
    # allows socket for some address families only and socketcall outright, which i386 programs go through.
    report = lint_file(str(REFERENCE / "docker-default-moby-profiles-cd3bed8.json"), engines=["docker"])
    assert report.errors == ()
    assert {f.rule.id for f in report.warnings} == {"dangerous-allowed", "multiplexer-unchecked"}
    assert {f.names for f in report.warnings if f.rule.id == "multiplexer-unchecked"} == {("socket", "socketcall")}
    # the same file given to Podman: its minKernel conditions are ignored (issue 15: say what the target ignores)
    podman = lint_file(str(REFERENCE / "docker-default-moby-profiles-cd3bed8.json"), engines=["podman"])
    ignored = [f.message for f in podman.warnings if f.rule.id == "ignored-by-engine"]
    assert ignored
    assert all("Podman ignores syscalls[" in m and "minKernel" in m for m in ignored)


def test_a_deny_of_socketcall_equal_to_the_default_is_overridden_by_the_calls_it_runs() -> None:
    # runc drops it, and libseccomp gives socketcall a rule per allowed socket call: SYS_BIND still runs.
    doc = oci(allow("read", "bind"), {"names": ["socketcall"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1})
    assert ids(doc) == ["noop-deny-overridden"]
    # without x86 there is no socketcall to reach
    assert ids(oci(allow("read", "bind"), {"names": ["socketcall"], "action": "SCMP_ACT_ERRNO"}, arches=["SCMP_ARCH_X86_64", "SCMP_ARCH_X32"])) == ["noop-deny", "not-on-arch"]


def test_a_refused_socket_call_reached_through_socketcall_is_an_alias() -> None:
    doc = oci(allow("read", "socketcall"), {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38})
    (finding,) = lint(doc).findings
    assert finding.rule.id == "alias-allowed" and "socketcall, which runs it on x86" in finding.message


def test_docker_20_10_allowed_io_uring() -> None:
    # Docker 20.10's default still allowed io_uring; moby removed it later (moby/moby#46762).
    report = lint_file(str(REFERENCE / "docker-default-20.10.24.json"))
    assert "io-uring-allowed" in {f.rule.id for f in report.findings}


def test_composed_profile_with_deny_list_default() -> None:
    p = compose(arch=Arch.X86_64, allow=["read"], runtime=None, default_action=Action.ALLOW)
    # compose lists the compat arches itself, so no bypass warning
    assert "compat-arch-missing" not in [f.rule.id for f in lint(p).findings]


def test_libseccomp_cutoff_matches_the_real_libseccomp() -> None:
    # LIBSECCOMP_KERNEL is a constant; check it against the libseccomp installed here when it is 2.5.4.
    pytest.importorskip("pyseccomp")
    from seccompose import libseccomp as check

    try:
        version = check.libseccomp_version()
    except Exception as exc:
        pytest.skip(f"libseccomp unavailable: {exc}")
    if version != "2.5.4":
        pytest.skip(f"libseccomp {version} is not the 2.5.4 the constant describes")
    for arch in (Arch.X86_64, Arch.AARCH64):
        t = table(arch)
        for name in t:
            since = t.since(name)
            if not since or since.startswith("<="):
                continue
            newer = tuple(int(x) for x in since.split(".")[:2]) > LIBSECCOMP_KERNEL
            resolves = check.resolve_syscall(arch, name) >= 0
            assert resolves != newer, (arch, name, since)
    assert TABLED_ARCHES


def test_runtime_cannot_start_names_what_each_runtime_and_mode_needs() -> None:
    doc = oci(allow(*_RUNC_BUT_SETUID))
    (finding,) = [f for f in lint(doc, runtime="runc").findings if f.rule.id == "runtime-cannot-start"]
    assert finding.names == ("setuid",)
    assert finding.message.startswith("setuid refused: runc 1.1.5+ds1 with noNewPrivileges false makes it")
    assert "runtime-cannot-start" not in ids(doc, runtime="runc", no_new_privileges=True)
    assert "runtime-cannot-start" not in ids(doc)  # the library checks only when asked
    crun = [f for f in lint(doc, runtime="runc,crun").findings if f.rule.id == "runtime-cannot-start"]
    assert crun[0].names == ("pselect6", "rt_sigaction", "rt_sigprocmask", "setresgid", "setresuid", "setuid")
    # a template gets the base set from compose: not reported
    assert "runtime-cannot-start" not in [f.rule.id for f in lint_file("redis", runtime="runc").findings]
    # a gated allow counts only with its capability (Docker's default capabilities when none are given)
    gated = oci(allow(*_RUNC_BUT_SETUID), allow("setuid", includes={"caps": ["CAP_SYS_ADMIN"]}))
    assert "runtime-cannot-start" in ids(gated, runtime="runc")
    assert "runtime-cannot-start" not in ids(gated, runtime="runc", caps=["SYS_ADMIN"])

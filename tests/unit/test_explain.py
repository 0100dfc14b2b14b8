"""explain: verdicts and the layers that decided them; summaries by category."""

from __future__ import annotations

from pathlib import Path

import pytest

from seccompose import Action, Arch, Arg, Operator, Profile, Rule, compose
from seccompose.errors import UnknownSyscallError
from seccompose.explain import explain, summarize
from seccompose.loader import load_template

REFERENCE = Path(__file__).parents[1] / "fixtures" / "reference" / "profiles"


def labels(e: object) -> list[str]:
    return [d.label for d in e.layers]  # type: ignore[attr-defined]


def test_allowed_by_the_allow_layer() -> None:
    e = explain("read", compose(arch=Arch.X86_64, allow=["read"], caps=[], runtime=None))
    assert (e.verdict, e.by_default, labels(e)) == ("allowed", False, ["allow"])
    assert e.abis == (Arch.X86_64, Arch.X86, Arch.X32)


def test_deny_wins_and_is_named() -> None:
    p = compose(arch=Arch.X86_64, allow=["ptrace"], deny=["ptrace"], caps=["SYS_PTRACE"], runtime=None)
    e = explain("ptrace", p)
    assert (e.verdict, e.action, e.errno, labels(e)) == ("denied", Action.ERRNO, 1, ["deny"])


def test_capability_layer_names_the_capability_and_its_source() -> None:
    e = explain("ptrace", compose(arch=Arch.X86_64, caps=["SYS_PTRACE"], runtime=None))
    (layer,) = e.layers
    assert (layer.label, layer.kind) == ("capability:CAP_SYS_PTRACE", "capability")
    assert "moby/profiles" in layer.detail


def test_default_action_decides_unnamed_syscalls() -> None:
    p = compose(arch=Arch.AARCH64, allow=["read"], caps=[], runtime=None, errno_policy="enosys")
    e = explain("kexec_load", p)
    assert (e.verdict, e.by_default, e.errno, labels(e)) == ("denied", True, 38, ["default action"])
    assert "denied with SCMP_ACT_ERRNO(ENOSYS)" in e.format_text()


def test_template_rule_comment_respects_the_gate() -> None:
    t = load_template("default")
    with_admin = compose(t, arch=Arch.X86_64, caps=["SYS_ADMIN"], runtime=None)
    without = compose(t, arch=Arch.X86_64, caps=[], runtime=None)
    e1 = explain("clone3", with_admin, template=t, caps=["SYS_ADMIN"])
    e2 = explain("clone3", without, template=t, caps=[])
    assert e1.verdict == "allowed" and "CAP_SYS_ADMIN" in e1.layers[0].detail
    # without CAP_SYS_ADMIN, Docker's default fails clone3 with ENOSYS so glibc falls back to clone
    assert (e2.verdict, e2.errno) == ("denied", 38)
    assert e2.layers[0].label == "template:default"
    assert "without CAP_SYS_ADMIN" in e2.layers[0].detail and "with CAP_SYS_ADMIN)" not in e2.layers[0].detail


def test_conditional_with_conditions_and_otherwise() -> None:
    cond = (Arg(0, Operator.MASKED_EQ, 0x7E020000, 0),)
    p = compose(arch=Arch.X86_64, rules=[Rule(("clone",), args=cond)], caps=[], runtime=None)
    e = explain("clone", p)
    assert e.verdict == "conditional"
    assert e.conditions == (cond,)
    text = e.format_text()
    assert "otherwise SCMP_ACT_ERRNO(EPERM)" in text
    assert "if arg0 & 0x7e020000 == 0x0" in text
    assert e.to_json()["conditions"] == [[{"index": 0, "value": 0x7E020000, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]]


def test_profile_file_points_at_its_rules() -> None:
    import json

    doc = json.loads((REFERENCE / "docker-default-moby-profiles-cd3bed8.json").read_text())
    from seccompose.formats import docker

    p = docker.loads(json.dumps(doc), arch=Arch.X86_64)
    e = explain("clone3", p, document=doc)
    assert e.verdict == "denied" and e.errno == 38
    (layer,) = e.layers
    assert layer.kind == "profile"
    assert 'SCMP_ACT_ERRNO(ENOSYS) excludes {"caps":["CAP_SYS_ADMIN"]}' in layer.detail


def test_name_absent_on_the_profiles_abis() -> None:
    e = explain("open", Profile(architectures=(Arch.AARCH64,), rules=(Rule(("read",)),)))
    assert e.abis == ()
    assert "does not exist on this profile's ABIs" in e.notes[0]


def test_unknown_syscall() -> None:
    with pytest.raises(UnknownSyscallError, match="did you mean 'mount'"):
        explain("mout", Profile())


def test_json_and_category() -> None:
    e = explain("socket", compose(arch=Arch.X86_64, allow=["socket"], caps=[], runtime=None))
    data = e.to_json()
    assert (data["syscall"], data["verdict"], data["group"], data["category"]) == (
        "socket",
        "allowed",
        "interprocess-communication",
        "network",
    )


def test_summary_counts() -> None:
    p = compose(arch=Arch.AARCH64, allow=["socket", "connect", "mount"], caps=[], runtime=None)
    s = summarize(p, source="p")
    net = next(c for c in s.categories if c.name == "network")
    assert net.allowed == ("connect", "socket")
    assert len(net.denied) == net.total - 2
    mounts = next(c for c in s.categories if c.name == "mounts")
    assert mounts.allowed == ("mount",)
    assert sum(len(g.allowed) for g in s.groups) == 3
    assert s.format_text().startswith("p, aarch64 host: 3 of ")


def test_summary_conditional_column() -> None:
    cond = (Arg(0, Operator.EQ, 1),)
    p = Profile(architectures=(Arch.AARCH64,), rules=(Rule(("socket",), args=cond), Rule(("read",))))
    s = summarize(p)
    net = next(c for c in s.categories if c.name == "network")
    assert net.conditional == ("socket",) and net.allowed == ()
    assert s.to_json()["arch"] == "aarch64"


@pytest.mark.parametrize(
    ("rule", "head"),
    [
        (Rule(("read",), Action.LOG), "read: allowed and logged (SCMP_ACT_LOG)"),
        (Rule(("read",), Action.NOTIFY), "read: handed to the seccomp agent (SCMP_ACT_NOTIFY), which decides"),
        (
            Rule(("read",), Action.TRACE, 38),
            "read: handed to the ptrace tracer (SCMP_ACT_TRACE(ENOSYS); fails without one)",
        ),
        (Rule(("read",), Action.KILL_PROCESS), "read: denied with SCMP_ACT_KILL_PROCESS"),
    ],
)
def test_actions_other_than_allow_and_errno(rule: Rule, head: str) -> None:
    p = Profile(architectures=(Arch.X86_64,), rules=(rule,), listener_path="/run/agent.sock")
    assert explain("read", p).format_text().splitlines()[0] == f"{head} (x86_64 host; exists on x86_64)"


@pytest.mark.parametrize("arch", [Arch.X86_64, Arch.AARCH64])
@pytest.mark.parametrize("base", ["default", "podman-default", "redis"])
def test_summary_categories_add_up_to_their_group(base: str, arch: Arch) -> None:
    # issue 15: the initialization group's names kept their categories' usual group, so the rows under
    # process-management counted 17/98 where the group said 14/88
    from seccompose.compose import compose
    from seccompose.explain import summarize

    summary = summarize(compose(base, arch=arch), arch=arch)
    for group in summary.groups:
        rows = [c for c in summary.categories if c.group == group.name]
        for field in ("allowed", "conditional", "denied"):
            assert sum(len(getattr(c, field)) for c in rows) == len(getattr(group, field)), (group.name, field)
    assert sum(g.total for g in summary.groups) == sum(c.total for c in summary.categories)

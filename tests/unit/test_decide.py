"""decide(): one answer to "what does this container get?" for every route."""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path

import pytest

from seccompose import Arch, FormatError, compose
from seccompose.caps import DOCKER_DEFAULT_CAPABILITIES, Capability, all_capabilities
from seccompose.cli import main
from seccompose.compose import Layer
from seccompose.decide import Facts, decide, on_error
from seccompose.errors import InvalidArgumentError, InvalidCapabilityError, SeccomposeError
from seccompose.policy import Policy, load_policy
from seccompose.rules import Rule

POLICY = {
    "templates": [{"template": "redis", "images": ["redis:*"]}],
    "rules": [
        {"name": "no-ptrace", "deny": ["ptrace"]},
        {"name": "prod-no-mkdir", "deny": ["mkdir", "mkdirat"], "scope": {"labels": {"env": "prod"}}},
        {"name": "perf", "allow": ["perf_event_open"], "scope": {"names": ["perf-*"], "images": ["busybox*"]}},
    ],
}


def _facts(**kw: object) -> Facts:
    base: dict[str, object] = {"image": "redis:7", "arch": Arch.X86_64}
    base.update(kw)
    return Facts(**base)  # type: ignore[arg-type]


def test_the_bound_template_the_capabilities_and_the_scoped_rules() -> None:
    policy = Policy.from_dict(POLICY)
    d = decide(policy, _facts(labels=(("env", "prod"),)))
    assert (d.action, d.template, d.image_glob) == ("apply", "redis", "redis:*")
    assert [(r.name, r.scope) for r in d.rules] == [("no-ptrace", "every container"), ("prod-no-mkdir", "labels env=prod")]
    assert d.profile is not None
    # The same composition, spelled out by hand with the library: the decision adds nothing of its own.
    expected = compose(
        "redis",
        arch=Arch.X86_64,
        caps=DOCKER_DEFAULT_CAPABILITIES,
        layers=[
            Layer("rule:no-ptrace", (Rule(("ptrace",)),), deny=True),
            Layer("rule:prod-no-mkdir", (Rule(("mkdir", "mkdirat")),), deny=True),
        ],
        no_new_privileges=False,
    )
    assert d.profile == expected
    assert "mkdir" not in d.profile.allowed()
    assert "mkdir" in decide(policy, _facts()).profile.allowed()  # type: ignore[union-attr]


def test_an_image_no_binding_names_gets_the_default_and_name_scoped_rules_apply() -> None:
    policy = Policy.from_dict(POLICY)
    d = decide(policy, _facts(image="busybox:latest", name="perf-1"))
    assert (d.template, d.image_glob) == ("default", None)
    assert [r.name for r in d.rules] == ["no-ptrace", "perf"]
    assert "perf_event_open" in d.profile.allowed()  # type: ignore[union-attr]
    assert "perf" not in [r.name for r in decide(policy, _facts(image="busybox:latest", name="web")).rules]


def test_capabilities_unlock_their_syscalls_and_only_then() -> None:
    policy = Policy.from_dict(POLICY)
    without = decide(policy, _facts(image="busybox")).profile
    with_admin = decide(policy, _facts(image="busybox", capabilities=DOCKER_DEFAULT_CAPABILITIES | {Capability("CAP_SYS_ADMIN")})).profile
    assert without is not None and with_admin is not None
    assert "mount" not in without.allowed()
    assert {"mount", "umount2", "setns"} <= with_admin.allowed()


# (request, privileged, policy setting) -> action
CASES = [
    ("unconfined", False, {"unconfined": "refuse"}, "refuse"),
    ("unconfined", False, {"unconfined": "allow"}, "unconfined"),
    ("unconfined", True, {"unconfined": "allow", "privileged": "refuse"}, "unconfined"),
    ("profile", False, {"explicit_profile": "respect"}, "keep"),
    ("profile", False, {"explicit_profile": "override"}, "apply"),
    ("profile", False, {"explicit_profile": "refuse"}, "refuse"),
    ("default", True, {"privileged": "confine"}, "apply"),
    ("default", True, {"privileged": "allow"}, "keep"),
    ("default", True, {"privileged": "refuse"}, "refuse"),
    ("default", False, {}, "apply"),
]


@pytest.mark.parametrize(("request_", "privileged", "setting", "action"), CASES)
def test_what_the_user_asked_for_follows_the_policy(request_: str, privileged: bool, setting: dict[str, str], action: str) -> None:
    d = decide(Policy.from_dict({**POLICY, **setting}), _facts(seccomp=request_, privileged=privileged))
    assert d.action == action
    if action == "refuse":
        # The message names the policy setting that refused, and the fix.
        key = next(iter(setting)) if request_ != "unconfined" or not privileged else "unconfined"
        assert f"{key}: refuse" in d.reason or f"{key}: " in d.reason
        assert d.profile is None and d.digest is None
    assert (d.profile is not None) == (action == "apply")


def test_the_defaults_refuse_unconfined_respect_profiles_and_confine_privileged() -> None:
    policy = Policy.from_dict({})
    assert (policy.explicit_profile, policy.unconfined, policy.privileged, policy.on_error, policy.mode) == (
        "respect", "refuse", "confine", "engine-default", "enforce",
    )  # fmt: skip


def test_no_setting_and_no_facts_lead_to_unconfined_unless_the_user_asked_and_the_policy_allows() -> None:
    keys = {
        "explicit_profile": ("respect", "override", "refuse"),
        "unconfined": ("allow", "refuse"),
        "privileged": ("confine", "allow", "refuse"),
    }
    for values in itertools.product(*keys.values()):
        policy = Policy.from_dict(dict(zip(keys, values, strict=True)))
        for request_, privileged in itertools.product(("default", "unconfined", "profile"), (False, True)):
            d = decide(policy, _facts(image="busybox", seccomp=request_, privileged=privileged))
            if d.action == "unconfined":
                assert request_ == "unconfined" and policy.unconfined == "allow"
            if d.action == "keep":
                assert request_ == "profile" or (privileged and policy.privileged == "allow")


def test_a_privileged_container_is_confined_with_every_capability_it_has() -> None:
    d = decide(Policy.from_dict({}), _facts(image="busybox", privileged=True, capabilities=all_capabilities()))
    assert d.action == "apply" and d.profile is not None
    assert {"mount", "reboot", "init_module"} <= d.profile.allowed()


def test_the_record_is_plain_json_and_names_everything() -> None:
    policy = Policy.from_dict(POLICY)
    d = decide(policy, _facts(container_id="abc", name="r1", engine="docker", route="proxy"))
    record = json.loads(json.dumps(d.record()))
    assert record["schema"] == 1 and record["action"] == "apply" and record["mode"] == "enforce"
    assert record["template"] == "redis" and record["binding"] == "redis:*"
    assert record["profile"] == "sha256:" + hashlib.sha256(d.seccomp_json().encode()).hexdigest()
    assert record["facts"]["container_id"] == "abc" and record["facts"]["engine"] == "docker"
    assert record["capabilities"] == sorted(c.name for c in DOCKER_DEFAULT_CAPABILITIES)
    assert record["version"]


def test_seccomp_is_a_copy() -> None:
    d = decide(Policy.from_dict(POLICY), _facts())
    d.seccomp()["defaultAction"] = "SCMP_ACT_ALLOW"
    assert d.seccomp()["defaultAction"] == "SCMP_ACT_ERRNO"


def test_a_decision_without_a_profile_has_no_seccomp() -> None:
    d = decide(Policy.from_dict({}), _facts(seccomp="unconfined"))
    with pytest.raises(InvalidArgumentError, match="'refuse' decision has no profile"):
        d.seccomp()


def test_on_error_never_unconfined() -> None:
    for setting in ("engine-default", "refuse"):
        d = on_error(setting, _facts(seccomp="unconfined"), RuntimeError("bug"))
        assert d.action in ("engine-default", "refuse")
        assert "RuntimeError: bug" in d.reason


def test_a_template_that_cannot_be_composed_raises_for_the_adapter(tmp_path: Path) -> None:
    policy = Policy.from_dict({"default": "no-such-template"})
    with pytest.raises(SeccomposeError):
        decide(policy, _facts(image="busybox"))


@pytest.mark.parametrize(
    ("kw", "error"),
    [
        ({"seccomp": "sometimes"}, InvalidArgumentError),
        ({"capabilities": ["CAP_NOPE"]}, InvalidCapabilityError),
    ],
)
def test_bad_facts(kw: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        _facts(**kw)


def test_facts_take_capability_names_and_sort_labels() -> None:
    f = _facts(capabilities=["chown", "CAP_KILL"], labels=(("b", "2"), ("a", "1")))
    assert f.capabilities == frozenset({Capability("CAP_CHOWN"), Capability("CAP_KILL")})
    assert f.labels == (("a", "1"), ("b", "2"))


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        ({"unconfined": "maybe"}, "unconfined"),
        ({"explicit_profile": "ignore"}, "explicit_profile"),
        ({"privileged": True}, "privileged"),
        ({"on_error": "unconfined"}, "on_error"),
        ({"mode": "sometimes"}, "mode"),
    ],
)
def test_bad_policy_settings_name_the_key(doc: dict[str, object], where: str) -> None:
    with pytest.raises(FormatError, match=where):
        Policy.from_dict(doc)


def test_compose_policy_goes_through_decide(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(POLICY))
    out = tmp_path / "profile.json"
    record = tmp_path / "decision.json"
    argv = ["compose", "--policy", str(path), "--image", "redis:7", "--label", "env=prod", "--arch", "x86_64"]
    assert main([*argv, "--runtime", "runc", "-o", str(out), "--decision", str(record)]) == 0
    d = decide(load_policy(path), _facts(labels=(("env", "prod"),), runtime="runc"))
    got = json.loads(out.read_text())
    assert got == d.seccomp()
    assert json.loads(record.read_text())["profile"] == d.digest
    assert json.loads(record.read_text())["policy"].endswith(load_policy(path).digest)


def test_compose_policy_says_why_there_is_no_profile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(POLICY))
    assert main(["compose", "--policy", str(path), "--image", "redis:7", "--seccomp-request", "unconfined"]) == 2
    assert "unconfined: refuse" in capsys.readouterr().err


def test_a_rule_scoped_to_a_kubernetes_namespace() -> None:
    policy = Policy.from_dict({"rules": [{"name": "prod", "deny": ["mknod"], "scope": {"namespaces": ["prod*"]}}]})
    inside = decide(policy, _facts(image="busybox", namespace="prod-eu", engine="cri"))
    outside = decide(policy, _facts(image="busybox", namespace="dev", engine="cri"))
    docker = decide(policy, _facts(image="busybox"))
    assert [(r.name, r.scope) for r in inside.rules] == [("prod", "namespaces prod*")]
    assert "mknod" not in inside.profile.allowed()  # type: ignore[union-attr]
    assert outside.rules == docker.rules == ()


# --------------------------------------------------------------------------- observing modes (issue 17)


def _observe_policy(mode: str, **observe: object) -> Policy:
    from seccompose.policy import Policy

    return Policy.from_dict({
        "mode": mode,
        "observe": {"socket": "/run/sc/agent.sock", **observe},
        "templates": [{"template": "redis", "images": ["redis:*"]}],
        "rules": [{"name": "no-mkdir", "deny": ["mkdir"]}],
    })


@pytest.mark.parametrize(("mode", "answer"), [("observe", "enforce"), ("complain", "complain"), ("learn", "learn")])
def test_observing_modes_hand_refusals_to_the_agent(mode: str, answer: str) -> None:
    import json

    from seccompose.decide import Facts, decide
    from seccompose.observe import Metadata

    d = decide(_observe_policy(mode), Facts(image="redis:7", arch=Arch.X86_64, name="web"))
    assert d.observing
    seccomp = json.loads(d.seccomp_json())
    assert seccomp["listenerPath"] == "/run/sc/agent.sock"
    meta = Metadata.from_json(seccomp["listenerMetadata"])
    assert meta.mode == answer and dict(meta.container) == {"image": "redis:7"}
    assert meta.layers("mkdir") == ("rule:no-mkdir",)
    assert meta.startup is not None  # the redis template's phase
    assert any(r["action"] == "SCMP_ACT_NOTIFY" and "mkdir" in r["names"] for r in seccomp["syscalls"])
    assert d.record()["observe"] == {"socket": "/run/sc/agent.sock", "agent_missing": "enforce"}
    # unobserved: the same profile the enforce mode gives, for adapters whose agent is missing
    enforce = decide(_observe_policy("enforce"), Facts(image="redis:7", arch=Arch.X86_64, name="web"))
    assert not enforce.observing and "observe" not in enforce.record()
    assert d.unobserved_json() == enforce.seccomp_json()


def test_observe_without_phases() -> None:
    import json

    from seccompose.decide import Facts, decide
    from seccompose.observe import Metadata

    d = decide(_observe_policy("observe", phases=False), Facts(image="redis:7", arch=Arch.X86_64))
    assert Metadata.from_json(json.loads(d.seccomp_json())["listenerMetadata"]).startup is None


@pytest.mark.parametrize(
    ("observe", "fragment"),
    [({"socket": "agent.sock"}, "absolute"), ({"agent_missing": "ignore"}, "agent_missing"), ({"port": 1}, "port")],
)
def test_bad_observe_settings(observe: dict[str, object], fragment: str) -> None:
    from seccompose.errors import FormatError
    from seccompose.policy import Policy

    with pytest.raises(FormatError, match=fragment):
        Policy.from_dict({"mode": "observe", "observe": observe})

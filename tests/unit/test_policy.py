"""Policies: image globs pick templates, scoped rules apply, errors name the place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seccompose import Arch, FormatError, InvalidArgumentError
from seccompose.cli import main
from seccompose.policy import Container, ImageReference, Policy, Scope, image_names, load_policy

APP = {"schema": 1, "name": "app", "images": ["acme/app"], "rules": [{"names": ["read", "write", "exit_group"]}]}


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    (tmp_path / "app.json").write_text(json.dumps(APP))
    (tmp_path / "policy.yaml").write_text(
        """
version: 1
templates:
  - template: ./app.json
    images: ["acme/app:1.*", "registry.example.com/acme/*"]
rules:
  - name: no-ptrace
    deny: [ptrace]
  - name: prod-extra
    allow: [getrandom]
    scope: {labels: {env: prod}}
  - name: web-only
    allow: [accept4]
    scope: {names: ["web-*"], images: ["acme/*"]}
"""
    )
    return tmp_path / "policy.yaml"


DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("image", "forms"),
    [
        # distribution/reference: no registry is docker.io, one component there is library/, no tag is :latest
        ("redis", ("docker.io/library/redis:latest", "library/redis:latest", "redis:latest")),
        ("docker.io/library/nginx:1.25", ("docker.io/library/nginx:1.25", "library/nginx:1.25", "nginx:1.25")),
        ("localhost:5000/x/y:2", ("localhost:5000/x/y:2",)),  # a registry with a port
        ("acme/app", ("docker.io/acme/app:latest", "acme/app:latest")),
        # pinned to a digest alone: no tag (Docker adds none), matched by the digest or as any tag of the repository
        (f"acme/app@{DIGEST}", ("docker.io/acme/app:", "acme/app:", f"docker.io/acme/app@{DIGEST}", f"acme/app@{DIGEST}")),
        ("", ()),  # an image the engine did not say
    ],
)
def test_image_names(image: str, forms: tuple[str, ...]) -> None:
    assert image_names(image) == forms


@pytest.mark.parametrize(
    "spelling",
    ["redis:7", "library/redis:7", "docker.io/library/redis:7", "index.docker.io/library/redis:7", "docker.io/redis:7",
     "index.docker.io/redis:7", f"redis:7@{DIGEST}"],
)  # fmt: skip
def test_one_image_however_it_is_spelled(spelling: str) -> None:
    assert str(ImageReference.parse(spelling)).startswith("docker.io/library/redis:7")
    policy = Policy.from_dict(
        {"templates": [{"template": "redis", "images": ["redis:*"]}],
         "rules": [{"name": "no-ptrace", "deny": ["ptrace"], "scope": {"images": ["redis:*"]}}]}
    )  # fmt: skip
    assert policy.template_for(spelling) == ("redis", "redis:*")
    assert Scope(images=("redis:*",)).matches(Container(spelling, Arch.X86_64))
    # and the globs are normalised too
    for glob in ("docker.io/library/redis:*", "index.docker.io/library/redis", "docker.io/redis"):
        assert Scope(images=(glob,)).matches(Container(spelling, Arch.X86_64)), glob


def test_other_registries_and_repositories_stay_apart() -> None:
    scope = Scope(images=("redis:*",))
    for other in ("ghcr.io/library/redis:7", "quay.io/redis:7", "acme/redis:7", "localhost:5000/redis:7"):
        assert not scope.matches(Container(other, Arch.X86_64)), other
    assert Scope(images=("localhost:5000/*",)).matches(Container("localhost:5000/redis:7", Arch.X86_64))
    assert Scope(images=(f"redis@{DIGEST}",)).matches(Container(f"redis@{DIGEST}", Arch.X86_64))
    assert Scope(images=("redis:*",)).matches(Container(f"redis@{DIGEST}", Arch.X86_64))  # any tag, or none
    assert not Scope(images=("redis:7",)).matches(Container(f"redis@{DIGEST}", Arch.X86_64))


@pytest.mark.parametrize(
    ("image", "why"),
    [("Redis:7", "lowercase"), ("redis:7@sha256:abc", "invalid digest"), ("redis:", "invalid tag ''"),
     ("re dis", "not a repository"), ("redis:-7", "invalid tag")],
)  # fmt: skip
def test_references_docker_refuses_are_errors(image: str, why: str) -> None:
    with pytest.raises(InvalidArgumentError, match=why):
        image_names(image)


def test_template_and_rules_for_a_container(policy_file: Path) -> None:
    policy = load_policy(policy_file)
    d = policy.profile_for(Container("acme/app:1.4", Arch.X86_64, frozenset(), (("env", "prod"),), "web-1"))
    assert Path(d.template).name == "app.json"
    assert d.image_glob == "acme/app:1.*"
    assert d.rules == ("no-ptrace", "prod-extra", "web-only")
    allowed = d.profile.allowed()
    assert {"read", "write", "getrandom", "accept4"} <= allowed
    assert "ptrace" not in allowed
    assert d.profile.explain("getrandom").layers == ("rule:prod-extra",)
    assert d.profile.explain("ptrace").layers == ("rule:no-ptrace",)


def test_unmatched_image_gets_the_default(policy_file: Path) -> None:
    d = load_policy(policy_file).profile_for(Container("busybox", Arch.X86_64))
    assert d.template == "default" and d.image_glob is None
    assert d.rules == ("no-ptrace",)
    assert "ptrace" not in d.profile.allowed()


def test_more_specific_glob_wins() -> None:
    p = Policy.from_dict({"templates": [
        {"template": "default", "images": ["*"]},
        {"template": "podman-default", "images": ["docker.io/library/redis:7*"]},
    ]})
    assert p.template_for("redis:7.2")[0] == "podman-default"
    assert p.template_for("nginx")[0] == "default"


@pytest.mark.parametrize(
    ("doc", "fragment"),
    [
        ({"rules": [{"name": "x", "allow": "read"}]}, "rules[0].allow"),
        ({"rules": [{"allow": ["read"]}]}, "rules[0].name"),
        ({"templates": [{"template": "t", "imgs": ["a"]}]}, "templates[0].imgs"),
        ({"errnoPolicy": "enoent"}, "errnoPolicy"),
        ({"rules": [{"name": "x", "rules": [{"names": ["clone"], "action": "SCMP_ACT_ALLOW",
                                              "args": [{"index": 7, "value": 1, "op": "SCMP_CMP_EQ"}]}]}]}, "rules[0]"),
    ],
)
def test_bad_policy_documents(doc: dict[str, object], fragment: str) -> None:
    with pytest.raises(FormatError) as info:
        Policy.from_dict(doc, source="p.yaml")
    assert fragment in str(info.value)
    assert "p.yaml" in str(info.value)


def test_malformed_yaml(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [\n  - name: x\n")
    with pytest.raises(FormatError, match="malformed YAML"):
        load_policy(bad)


def test_cli_policy_flow(policy_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["compose", "--policy", str(policy_file), "--image", "acme/app:1.0", "--label", "env=prod",
               "--arch", "x86_64", "--runtime", "none", "--caps", "none"])
    out, err = capsys.readouterr()
    assert rc == 0
    names = json.loads(out)["syscalls"][0]["names"]
    assert "getrandom" in names and "ptrace" not in names
    assert "rules applied: no-ptrace, prod-extra" in err


def test_cli_policy_needs_image(policy_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compose", "--policy", str(policy_file)]) == 2
    assert "--policy and --image go together" in capsys.readouterr().err


def test_policy_takes_no_new_privileges_from_the_container() -> None:
    from seccompose.runtime import runtime_base

    policy = Policy.from_dict({"templates": [{"template": "redis", "images": ["redis:*"]}]})
    started = policy.profile_for(Container(image="redis:7", arch=Arch.X86_64, capabilities=frozenset()))
    assert runtime_base(no_new_privileges=False) <= started.profile.allowed()  # the engines' default
    nnp = policy.profile_for(
        Container(image="redis:7", arch=Arch.X86_64, capabilities=frozenset(), no_new_privileges=True)
    )
    assert "setresuid" not in nnp.profile.allowed()  # crun's noNewPrivileges-false set only
    assert nnp.profile.allowed() < started.profile.allowed()

"""Security Profiles Operator SeccompProfile YAML in and out; kubelet localhost profiles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from seccompose.arch import Arch
from seccompose.errors import ConflictError, FormatError, InvalidProfileError
from seccompose.formats.k8s import (
    API_VERSION,
    MAX_BASE_DEPTH,
    dumps,
    load_documents,
    localhost_path,
    localhost_profile,
    resolve,
)
from seccompose.render import render

PROFILES = Path(__file__).parents[1] / "fixtures" / "reference" / "profiles"


def _spo(name: str, spec: dict[str, Any], namespace: str | None = "apps") -> str:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return yaml.safe_dump({"apiVersion": API_VERSION, "kind": "SeccompProfile", "metadata": meta, "spec": spec})


def _allow(*names: str) -> dict[str, Any]:
    return {"names": list(names), "action": "SCMP_ACT_ALLOW"}


def test_rendered_docker_default_round_trips() -> None:
    seccomp = render(
        (PROFILES / "docker-default-moby-profiles-cd3bed8.json").read_text(), arch=Arch.X86_64, kernel="6.18"
    )
    text = dumps(seccomp, name="docker-default", namespace="security")
    docs = load_documents(text)
    assert [(d.name, d.namespace) for d in docs] == [("docker-default", "security")]
    back = resolve(docs, "docker-default", namespace="security")
    # defaultErrnoRet 1 is EPERM, which runtimes use anyway; SPO has no field for it.
    assert back == {k: v for k, v in seccomp.items() if k != "defaultErrnoRet"}


def test_emitted_yaml_shape() -> None:
    text = dumps(
        {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_AARCH64"], "syscalls": [_allow("read")]},
        name="app",
        namespace="web",
        base_profile_name="runc-v1.0.0",
    )
    doc = yaml.safe_load(text)
    assert doc["apiVersion"] == "security-profiles-operator.x-k8s.io/v1beta1"
    assert doc["kind"] == "SeccompProfile"
    assert list(doc["spec"]) == ["baseProfileName", "defaultAction", "architectures", "syscalls"]


def test_enosys_default_cannot_be_written() -> None:
    with pytest.raises(ConflictError, match="defaultErrnoRet 38 cannot be written"):
        dumps({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38}, name="p")


def test_errno_zero_cannot_be_written() -> None:
    with pytest.raises(ConflictError, match=r"errnoRet 0 cannot be written.* at syscalls\[0\]\.errnoRet"):
        dumps(
            {
                "defaultAction": "SCMP_ACT_ERRNO",
                "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ERRNO", "errnoRet": 0}],
            },
            name="p",
        )


@pytest.mark.parametrize("name", ["App", "a_b", "", "-a", "a" * 254])
def test_names_must_be_kubernetes_names(name: str) -> None:
    with pytest.raises(InvalidProfileError, match="is not a Kubernetes name"):
        dumps({"defaultAction": "SCMP_ACT_LOG"}, name=name)


def test_base_chain_is_unioned_base_first() -> None:
    text = "---\n".join(
        [
            _spo("app", {"baseProfileName": "lib", "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [_allow("accept4")]}),
            _spo("lib", {"baseProfileName": "runc", "defaultAction": "SCMP_ACT_KILL", "syscalls": [_allow("openat")]}),
            _spo(
                "runc",
                {
                    "defaultAction": "SCMP_ACT_LOG",
                    "architectures": ["SCMP_ARCH_X86_64"],
                    "syscalls": [_allow("execve")],
                },
            ),
            yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}),
        ]
    )
    docs = load_documents(text)
    assert [d.name for d in docs] == ["app", "lib", "runc"]  # the ConfigMap is skipped
    out = resolve(docs, "app", namespace="apps")
    assert out == {
        "defaultAction": "SCMP_ACT_ERRNO",  # the profile's own settings win; only rules are unioned
        "syscalls": [_allow("accept4", "execve", "openat")],
    }


def test_union_lets_the_least_restrictive_action_win() -> None:
    text = "---\n".join(
        [
            _spo("app", {"baseProfileName": "base", "defaultAction": "SCMP_ACT_ERRNO", "syscalls": [_allow("ptrace")]}),
            _spo(
                "base",
                {
                    "defaultAction": "SCMP_ACT_ERRNO",
                    "syscalls": [
                        {"names": ["ptrace", "mount"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
                        {"names": ["kexec_load"], "action": "SCMP_ACT_KILL_PROCESS"},
                    ],
                },
            ),
        ]
    )
    out = resolve(load_documents(text), "app", namespace="apps")
    assert out["syscalls"] == [
        _allow("ptrace"),
        {"names": ["mount", "ptrace"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
        {"names": ["kexec_load"], "action": "SCMP_ACT_KILL_PROCESS"},
    ]
    # The runtime keeps ptrace's first unconditional rule: the allow.
    from seccompose.formats import oci

    first = next(r for r in out["syscalls"] if "ptrace" in r["names"])
    assert first["action"] == "SCMP_ACT_ALLOW"
    assert oci.from_dict(out).rules  # a valid OCI profile


def _chain(length: int) -> str:
    # p0 -> p1 -> ... -> p{length}: `length` base profiles below p0.
    docs = []
    for i in range(length + 1):
        spec: dict[str, Any] = {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [_allow(f"s{i}")]}
        if i < length:
            spec["baseProfileName"] = f"p{i + 1}"
        docs.append(_spo(f"p{i}", spec))
    return "---\n".join(docs)


def test_chain_of_15_bases_is_followed() -> None:
    out = resolve(load_documents(_chain(MAX_BASE_DEPTH)), "p0", namespace="apps")
    assert out["syscalls"] == [_allow(*sorted(f"s{i}" for i in range(MAX_BASE_DEPTH + 1)))]


def test_chain_of_16_bases_is_an_error() -> None:
    with pytest.raises(InvalidProfileError, match="deeper than 15"):
        resolve(load_documents(_chain(MAX_BASE_DEPTH + 1)), "p0", namespace="apps")


def test_cycle_is_an_error() -> None:
    text = "---\n".join(
        [
            _spo("a", {"baseProfileName": "b", "defaultAction": "SCMP_ACT_ERRNO"}),
            _spo("b", {"baseProfileName": "c", "defaultAction": "SCMP_ACT_ERRNO"}),
            _spo("c", {"baseProfileName": "b", "defaultAction": "SCMP_ACT_ERRNO"}),
        ]
    )
    with pytest.raises(InvalidProfileError, match=r"cycle: b -> c -> b.*documents\[2\]\.spec\.baseProfileName"):
        resolve(load_documents(text), "a", namespace="apps")


def test_self_base_is_a_cycle() -> None:
    text = _spo("a", {"baseProfileName": "a", "defaultAction": "SCMP_ACT_ERRNO"})
    with pytest.raises(InvalidProfileError, match="cycle: a -> a"):
        resolve(load_documents(text), "a", namespace="apps")


def test_missing_and_remote_bases() -> None:
    missing = _spo("a", {"baseProfileName": "nope", "defaultAction": "SCMP_ACT_ERRNO"})
    with pytest.raises(InvalidProfileError, match="base profile 'nope' is not among the documents given"):
        resolve(load_documents(missing), "a", namespace="apps")
    remote = _spo("a", {"baseProfileName": "oci://ghcr.io/x/profile:v1", "defaultAction": "SCMP_ACT_ERRNO"})
    with pytest.raises(InvalidProfileError, match="remote OCI artifact"):
        resolve(load_documents(remote), "a", namespace="apps")


def test_bases_are_looked_up_in_the_same_namespace() -> None:
    text = "---\n".join(
        [
            _spo("a", {"baseProfileName": "base", "defaultAction": "SCMP_ACT_ERRNO"}, namespace="one"),
            _spo("base", {"defaultAction": "SCMP_ACT_ERRNO"}, namespace="two"),
        ]
    )
    with pytest.raises(InvalidProfileError, match="in namespace 'one'"):
        resolve(load_documents(text), "a", namespace="one")


def test_duplicate_profiles_are_an_error() -> None:
    text = _spo("a", {"defaultAction": "SCMP_ACT_ERRNO"}) + "---\n" + _spo("a", {"defaultAction": "SCMP_ACT_LOG"})
    with pytest.raises(InvalidProfileError, match="two SeccompProfiles are named 'a'"):
        resolve(load_documents(text), "a", namespace="apps")


@pytest.mark.parametrize(
    ("text", "error", "fragment"),
    [
        ("a: [", FormatError, "malformed YAML"),
        ("kind: SeccompProfile\napiVersion: security-profiles-operator.x-k8s.io/v1alpha1\n", FormatError, "apiVersion"),
        (_spo("a", {"defaultAction": "SCMP_ACT_NOPE"}), Exception, "unknown action 'SCMP_ACT_NOPE' at defaultAction"),
        (
            _spo("a", {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38}),
            InvalidProfileError,
            "no defaultErrnoRet",
        ),
        (_spo("a", {"defaultAction": "SCMP_ACT_ERRNO", "sycalls": []}), FormatError, "unknown spec field 'sycalls'"),
        (
            _spo(
                "a",
                {
                    "defaultAction": "SCMP_ACT_ERRNO",
                    "syscalls": [
                        {"names": ["x"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 9, "op": "SCMP_CMP_EQ"}]}
                    ],
                },
            ),
            Exception,
            "argument index 9 is out of range at syscalls[0].args[0].index",
        ),
        (
            "kind: SeccompProfile\napiVersion: security-profiles-operator.x-k8s.io/v1beta1\nspec: {}\n",
            FormatError,
            "metadata.name",
        ),
    ],
)
def test_bad_documents(text: str, error: type[Exception], fragment: str) -> None:
    with pytest.raises(error) as info:
        load_documents(text, source="profiles.yaml")
    assert fragment in str(info.value)


def test_string_errno_ret_from_older_spo() -> None:
    text = _spo(
        "a",
        {
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": "1"}],
        },
    )
    assert resolve(load_documents(text), "a", namespace="apps")["syscalls"][0]["errnoRet"] == 1


def test_localhost_profile_is_docker_format_json() -> None:
    seccomp = render(
        (PROFILES / "podman-default-0.50.1.json").read_text(), engine="podman", arch=Arch.AARCH64, kernel="6.18"
    )
    text = localhost_profile(seccomp)
    assert json.loads(text) == seccomp
    assert list(json.loads(text))[:3] == ["defaultAction", "defaultErrnoRet", "architectures"]
    # containerd/CRI-O read this file the way Docker reads a profile: rendering it is the identity.
    assert render(text, arch=Arch.AARCH64, kernel="6.18") == seccomp


def test_localhost_path() -> None:
    assert localhost_path("app.json") == "operator/app.json"

"""seccompose-runtime without an engine: a stand-in "real runtime" script records what it was handed.

The wrapper is run as a process (its console script), exactly as an engine runs it; the
stand-in runtime copies its argv and the bundle's config.json, so each test checks what the
real runtime would have been given. Real runc is in tests/integration/test_engine_*.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from seccompose.arch import host_arch
from seccompose.caps import Capability
from seccompose.decide import Facts, decide
from seccompose.integrations.bundle import facts_from_config
from seccompose.integrations.runtime import _facts_dict, create_target, find_command, split_argv
from seccompose.policy import load_policy

WRAPPER = Path(sys.executable).parent / "seccompose-runtime"
CAPS = ["CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_SETGID"]

pytestmark = pytest.mark.skipif(not WRAPPER.exists(), reason="seccompose-runtime is not installed in this environment")


@pytest.mark.parametrize(
    ("argv", "own", "rest"),
    [
        (["create", "x"], {}, ["create", "x"]),
        (["--seccompose-policy", "p", "--root", "/r", "create", "x"], {"policy": "p"}, ["--root", "/r", "create", "x"]),
        (["--seccompose-runtime=crun", "--log", "l", "--log-format", "json", "delete", "x"], {"runtime": "crun"},
         ["--log", "l", "--log-format", "json", "delete", "x"]),
        # After the command, nothing is ours: passed through as it is.
        (["create", "--seccompose-log", "x"], {}, ["create", "--seccompose-log", "x"]),
        # A global option's value that looks like ours is the runtime's.
        (["--root", "--seccompose-log", "create"], {}, ["--root", "--seccompose-log", "create"]),
    ],
)  # fmt: skip
def test_split_argv(argv: list[str], own: dict[str, str], rest: list[str]) -> None:
    assert split_argv(argv) == (own, rest)


def test_create_target_defaults_to_the_current_directory() -> None:
    cwd = Path.cwd()
    assert create_target(["create", "c1"], 0) == (str(cwd), str(cwd / "config.json"), "c1")
    assert create_target(["run", "-b", "/b", "-d", "c2"], 0)[::2] == ("/b", "c2")
    assert find_command(["--debug", "--root", "/x", "run", "c"]) == (3, "run")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, Any]:
    fake = tmp_path / "fake-runtime"
    fake.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > {tmp_path}/argv\n'
        'while [ $# -gt 0 ]; do if [ "$1" = --bundle ]; then cp "$2/config.json" '
        f"{tmp_path}/handed.json; fi; shift; done\n"
    )
    fake.chmod(0o755)
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "templates: [{template: redis, images: ['redis:*']}]\n"
        "rules: [{name: prod-no-mkdir, deny: [mkdir, mkdirat], scope: {labels: {env: prod}}}]\n"
    )
    return {"tmp": tmp_path, "fake": fake, "bundle": bundle, "policy": policy, "log": tmp_path / "log" / "d.jsonl"}


def _config(annotations: dict[str, str], seccomp: dict[str, Any] | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {
        "ociVersion": "1.0.2",
        "process": {"args": ["/bin/true"], "capabilities": {"bounding": CAPS}, "user": {"uid": 0, "gid": 0}},
        "root": {"path": "rootfs"},
        "annotations": annotations,
        "linux": {"namespaces": [{"type": "pid"}]},
    }
    if seccomp is not None:
        config["linux"]["seccomp"] = seccomp
    return config


CRI = {
    "io.kubernetes.cri.container-type": "container",
    "io.kubernetes.cri.image-name": "docker.io/library/redis:7",
    "io.kubernetes.cri.container-name": "cache",
    "io.kubernetes.cri.sandbox-name": "pod-1",
    "io.kubernetes.cri.sandbox-namespace": "default",
    "env": "prod",
}


def _run(env: dict[str, Any], *, config: dict[str, Any], extra_env: dict[str, str] | None = None,
         cid: str = "c1") -> subprocess.CompletedProcess[str]:  # fmt: skip
    (env["bundle"] / "config.json").write_text(json.dumps(config))
    argv = [
        str(WRAPPER),
        "--seccompose-policy", str(env["policy"]),
        "--seccompose-runtime", str(env["fake"]),
        "--seccompose-log", str(env["log"]),
        "--root", "/run/x", "--log", str(env["tmp"] / "runtime-log.json"), "--log-format", "json",
        "create", "--bundle", str(env["bundle"]), "--pid-file", str(env["tmp"] / "pid"), cid,
    ]  # fmt: skip
    return subprocess.run(
        argv, capture_output=True, text=True, check=False, env={**os.environ, **(extra_env or {})}, timeout=60
    )


def _log(env: dict[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in env["log"].read_text().splitlines()]


def test_create_writes_the_decided_profile_and_passes_every_argument(env: dict[str, Any]) -> None:
    done = _run(env, config=_config(CRI))
    assert done.returncode == 0, done.stderr
    argv = (env["tmp"] / "argv").read_text().splitlines()
    assert argv == ["--root", "/run/x", "--log", str(env["tmp"] / "runtime-log.json"), "--log-format", "json",
                    "create", "--bundle", str(env["bundle"]), "--pid-file", str(env["tmp"] / "pid"), "c1"]  # fmt: skip
    handed = json.loads((env["tmp"] / "handed.json").read_text())
    [entry] = _log(env)
    assert entry["engine"] == "cri" and entry["container"] == {"id": "c1", "name": "cache"}
    decision = entry["decision"]
    assert (decision["template"], decision["binding"], [r["name"] for r in decision["rules"]]) == (
        "redis", "redis:*", ["prod-no-mkdir"],
    )  # fmt: skip
    # The same facts through the library give the same profile, byte for byte.
    facts = Facts(image="docker.io/library/redis:7", arch=host_arch(), capabilities=frozenset(Capability(c) for c in CAPS),
                  labels=(("env", "prod"),), name="cache", runtime=None, kernel=_kernel())  # fmt: skip
    expected = decide(load_policy(env["policy"]), facts)
    assert handed["linux"]["seccomp"] == expected.seccomp()
    assert decision["profile"] == expected.digest
    assert json.loads(Path(str(env["log"]) + ".profiles", expected.digest.removeprefix("sha256:") + ".json").read_text()) == expected.seccomp()  # type: ignore[union-attr]
    assert handed["process"] == _config(CRI)["process"]  # nothing else touched


def _kernel() -> tuple[int, int]:
    from seccompose.templates import parse_kernel

    return parse_kernel(os.uname().release)


def test_a_cached_decision_is_the_decision(env: dict[str, Any]) -> None:
    assert _run(env, config=_config(CRI), cid="first").returncode == 0
    first = json.loads((env["tmp"] / "handed.json").read_text())
    assert list((env["log"].parent / "state").glob("decision-*.json")), "the decision was not cached"
    assert _run(env, config=_config(CRI), cid="second").returncode == 0
    second = json.loads((env["tmp"] / "handed.json").read_text())
    assert first == second
    a, b = _log(env)
    a.pop("time"), b.pop("time")
    assert a["decision"]["facts"].pop("container_id") == "first"
    assert b["decision"]["facts"].pop("container_id") == "second"
    assert a["container"].pop("id") == "first" and b["container"].pop("id") == "second"
    assert a == b


def test_the_fast_facts_are_the_libraries_facts(env: dict[str, Any]) -> None:
    raw = facts_from_config(_config(CRI), bundle=str(env["bundle"]), container_id="c9")
    raw.update(arch=host_arch().value, runtime="runc", kernel="6.1")
    fast = _facts_dict(raw)
    slow = Facts(
        image=str(raw["image"]), arch=host_arch(), capabilities=frozenset(Capability(c) for c in CAPS), engine="cri", route="runtime",
        container_id="c9", name="cache", labels=(("env", "prod"),), namespace="default", pod="pod-1",
        user="0:0", runtime="runc", kernel=(6, 1),
    ).to_dict()  # fmt: skip
    assert fast == slow


def test_a_broken_policy_keeps_the_last_good_one(env: dict[str, Any]) -> None:
    assert _run(env, config=_config(CRI), cid="good").returncode == 0
    good = json.loads((env["tmp"] / "handed.json").read_text())["linux"]["seccomp"]
    env["policy"].write_text("rules: [\n")
    done = _run(env, config=_config(CRI), cid="after")
    assert done.returncode == 0, done.stderr
    assert "kept the last good policy" in done.stderr
    assert json.loads((env["tmp"] / "handed.json").read_text())["linux"]["seccomp"] == good
    assert any("kept the last good policy" in w for w in _log(env)[-1]["decision"]["warnings"])
    env["policy"].unlink()
    done = _run(env, config=_config(CRI), cid="deleted")
    assert done.returncode == 0 and "kept the last good policy" in done.stderr
    assert json.loads((env["tmp"] / "handed.json").read_text())["linux"]["seccomp"] == good


ENGINE_PROFILE = {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}


def _broken_template(env: dict[str, Any], extra: str = "") -> None:
    """A policy whose template cannot be composed: seccompose fails while deciding."""
    (env["tmp"] / "broken.json").write_text('{"schema": 1, "name": "broken", "rules": [{"names": [')
    env["policy"].write_text("templates: [{template: ./broken.json, images: ['redis:*']}]\n" + extra)


def test_an_error_inside_seccompose_keeps_the_engines_profile(env: dict[str, Any]) -> None:
    _broken_template(env)
    done = _run(env, config=_config(CRI, ENGINE_PROFILE))
    assert done.returncode == 0, done.stderr
    assert json.loads((env["tmp"] / "handed.json").read_text())["linux"]["seccomp"] == ENGINE_PROFILE
    entry = _log(env)[-1]["decision"]
    assert entry["action"] == "engine-default" and "broken.json" in entry["reason"]


def test_an_error_without_an_engine_profile_gets_default_never_unconfined(env: dict[str, Any]) -> None:
    _broken_template(env)
    done = _run(env, config=_config(CRI))
    assert done.returncode == 0, done.stderr
    seccomp = json.loads((env["tmp"] / "handed.json").read_text())["linux"]["seccomp"]
    assert seccomp["defaultAction"] == "SCMP_ACT_ERRNO"
    assert _log(env)[-1]["decision"]["profile"].startswith("sha256:")


def test_on_error_refuse_stops_the_container_with_the_reason(env: dict[str, Any]) -> None:
    _broken_template(env, "on_error: refuse\n")
    done = _run(env, config=_config(CRI))
    assert done.returncode == 1
    assert not (env["tmp"] / "argv").exists(), "the real runtime ran"
    assert "on_error: refuse" in done.stderr
    line = json.loads((env["tmp"] / "runtime-log.json").read_text().splitlines()[-1])
    assert line["level"] == "error" and "on_error: refuse" in line["msg"]


def test_no_policy_file_at_all_is_on_error_engine_default(env: dict[str, Any]) -> None:
    env["policy"].unlink()
    done = _run(env, config=_config(CRI, ENGINE_PROFILE))
    assert done.returncode == 0, done.stderr
    assert json.loads((env["tmp"] / "handed.json").read_text())["linux"]["seccomp"] == ENGINE_PROFILE
    assert _log(env)[-1]["decision"]["action"] == "engine-default"


def test_other_commands_pass_through(env: dict[str, Any]) -> None:
    done = subprocess.run(
        [str(WRAPPER), "--seccompose-runtime", str(env["fake"]), "--root", "/r", "delete", "--force", "c1"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0
    assert (env["tmp"] / "argv").read_text().splitlines() == ["--root", "/r", "delete", "--force", "c1"]


def test_podman_facts_from_annotations_and_storage(tmp_path: Path) -> None:
    root = tmp_path / "overlay-containers"
    bundle = root / "abc" / "userdata"
    bundle.mkdir(parents=True)
    meta = {"image-name": "localhost/redis:7", "image-id": "61c0", "name": "pp"}
    (root / "containers.json").write_text(json.dumps([{"id": "abc", "names": ["pp"], "metadata": json.dumps(meta)}]))
    config = _config({"io.container.manager": "libpod", "io.podman.annotations.privileged": "TRUE",
                      "io.podman.annotations.seccomp": "unconfined", "team": "a"})  # fmt: skip
    raw = facts_from_config(config, bundle=str(bundle), container_id="abc")
    assert (raw["engine"], raw["image"], raw["name"], raw["privileged"], raw["seccomp"], raw["labels"]) == (
        "podman", "localhost/redis:7", "pp", True, "unconfined", {"team": "a"},
    )  # fmt: skip


def test_docker_facts_from_the_daemons_record(tmp_path: Path) -> None:
    record_dir = tmp_path / "data" / "containers" / "cid1"
    record_dir.mkdir(parents=True)
    (record_dir / "config.v2.json").write_text(json.dumps({
        "ID": "cid1", "Name": "/web", "Image": "sha256:1", "SeccompProfile": "",
        "Config": {"Image": "redis:7", "Labels": {"env": "prod"}, "User": ""},
    }))  # fmt: skip
    (record_dir / "hostconfig.json").write_text(json.dumps({"Privileged": False}))
    config = _config({})
    config["mounts"] = [{"destination": "/etc/hostname", "source": str(record_dir / "hostname")}]
    raw = facts_from_config(config, bundle=str(tmp_path), container_id="cid1")
    assert (raw["engine"], raw["image"], raw["name"], raw["labels"], raw["seccomp"]) == (
        "docker", "redis:7", "web", {"env": "prod"}, "default",
    )  # fmt: skip
    # A record that is not this container's (another id) is not used.
    assert facts_from_config(config, bundle=str(tmp_path), container_id="other")["engine"] == "oci"


def test_the_wrapper_start_up_does_not_load_the_composer() -> None:
    code = (
        "import sys, seccompose.integrations.runtime; "
        "print(sorted(m for m in sys.modules if m.startswith(('seccompose', 'pydantic', 'yaml', 'json', 're', 'enum'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert eval(out) == [  # noqa: S307 - our own output
        "seccompose", "seccompose._version", "seccompose.integrations", "seccompose.integrations._fastjson",
        "seccompose.integrations.runtime",
    ]  # fmt: skip


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs sh")
def test_unknown_real_runtime_is_a_clear_error(env: dict[str, Any]) -> None:
    done = subprocess.run([str(WRAPPER), "--seccompose-runtime", "no-such-runtime-xyz", "state", "c"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode != 0 and "no-such-runtime-xyz" in done.stderr

"""Podman 4.3 (Debian): containers get the policy's profile by both routes.

- ``runtime``: ``podman run --runtime seccompose --runtime-flag seccompose-policy=FILE ...`` with the
  documented containers.conf (docs/examples/podman/containers.conf);
  Podman hands the runtime no labels, so label-scoped rules see Podman's ``--annotation``;
- ``proxy``: ``seccompose proxy`` in front of ``podman system service`` (Podman's Docker-compatible
  API), the Docker client on ``DOCKER_HOST``.

Podman runs with a private root, runroot and ``containers.conf`` (``CONTAINERS_CONF``). The real
runtime is runc: crun 1.8.1 cannot create a container on this machine's hybrid cgroup layout
("cgroups in hybrid mode not supported"), and the machine's hard ``RLIMIT_NOFILE`` is below
Podman's default ulimits, which the private containers.conf lowers.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.integration._engines import (
    DOCKER,
    SECCOMPOSE,
    WRAPPER,
    busybox_rootfs,
    compose_for,
    in_pty,
    last_decision,
    podman_argv,
    stop_process,
    wait_for_socket,
)

from seccompose.formats import oci

pytestmark = [pytest.mark.integration, pytest.mark.engines]

PODMAN = shutil.which("podman")

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"
POLICY = (EXAMPLES / "policy.yaml").read_text()  # the documented example policy, as it is


def with_setting(key: str, value: str) -> str:
    """The example policy with one of its settings changed."""
    text, count = re.subn(rf"^{key}: \S+", f"{key}: {value}", POLICY, flags=re.MULTILINE)
    assert count == 1, key
    return text
# This machine's needs (see the module docstring), then the documented containers.conf as it is.
PRIVATE_CONF = """\
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

"""
PRIVATE_ENGINE = """\
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
"""
EPERM_TEXT = "Operation not permitted"


@dataclass
class Route:
    name: str
    root: Path
    log: Path
    policy: Path
    env: dict[str, str]
    proxy_host: str = ""

    def podman(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        assert PODMAN is not None
        argv = [*podman_argv(self.root), *args]
        done = subprocess.run(argv, capture_output=True, text=True, env=self.env, timeout=180, check=False)
        if check and done.returncode != 0:
            pytest.fail(f"podman {' '.join(args)}: {done.stderr[-800:]}")
        return done

    def docker(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {**self.env, "DOCKER_HOST": self.proxy_host}
        done = subprocess.run([DOCKER, *args], capture_output=True, text=True, env=env, timeout=180, check=False)
        if check and done.returncode != 0:
            pytest.fail(f"docker {' '.join(args)}: {done.stderr[-800:]}")
        return done

    def start(self, image: str, *options: str, labels: dict[str, str] | None = None,
              check: bool = True) -> subprocess.CompletedProcess[str]:  # fmt: skip
        marks: list[str] = []
        for key, value in (labels or {}).items():
            # Through the runtime route the facts Podman hands over are annotations, not labels.
            marks += ["--annotation" if self.name == "runtime" else "--label", f"{key}={value}"]
        if self.name == "runtime":
            flags = [
                "--runtime", "seccompose",  # the name containers.conf gives the wrapper
                "--runtime-flag", "seccompose-runtime=runc",
                "--runtime-flag", f"seccompose-policy={self.policy}",
                "--runtime-flag", f"seccompose-log={self.log}",
            ]  # fmt: skip
            return self.podman("run", "-d", "-i", *flags, "--network", "none", *marks, *options, image, "cat",
                               check=check)  # fmt: skip
        return self.docker("run", "-d", "-i", "--network", "none", *marks, *options, image, "cat", check=check)

    def probe(self, cid: str, *cmd: str) -> subprocess.CompletedProcess[str]:
        return self.podman("exec", cid, *cmd, check=False)

    def handed(self, cid: str) -> dict[str, Any]:
        path = self.root / "root" / "overlay-containers" / cid / "userdata" / "config.json"
        doc: dict[str, Any] = json.loads(path.read_text())
        return doc


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    # Skipped per test (not per module), so a CI run counts each skip (tests/ci_skips.py).
    if PODMAN is None or os.geteuid() != 0 or not WRAPPER.exists():
        pytest.skip("podman (as root) and seccompose-runtime are needed")
    tmp = tmp_path_factory.mktemp("podman")
    root = Path(f"/tmp/sc16-podman-{os.getpid()}")
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir()
    conf = root / "containers.conf"
    documented = (EXAMPLES / "podman" / "containers.conf").read_text()
    assert documented.startswith("[engine]\n")
    conf.write_text(
        PRIVATE_CONF
        + documented.replace("[engine]\n", "[engine]\n" + PRIVATE_ENGINE, 1).replace(
            "/usr/local/bin/seccompose-runtime", str(WRAPPER)
        )
    )
    env = {**os.environ, "CONTAINERS_CONF": str(conf)}
    env.pop("DOCKER_HOST", None)
    policy = tmp / "policy.yaml"
    policy.write_text(POLICY)
    runtime = Route("runtime", root, tmp / "runtime" / "decisions.jsonl", policy, env)
    tar = subprocess.run(["tar", "-C", str(busybox_rootfs(tmp / "rootfs")), "-c", "."], capture_output=True,
                         check=True).stdout  # fmt: skip
    assert PODMAN is not None
    subprocess.run([*podman_argv(root), "import", "-",
                    "docker.io/library/redis:7"], input=tar, env=env, check=True, capture_output=True)  # fmt: skip
    runtime.podman("tag", "docker.io/library/redis:7", "docker.io/library/plain:1")
    service_sock = root / "podman.sock"
    proxy_sock = root / "proxy.sock"
    service = subprocess.Popen(
        [*podman_argv(root), "system", "service", "--time", "0",
         f"unix://{service_sock}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    err = (tmp / "proxy.err").open("wb")
    proxy: subprocess.Popen[bytes] | None = None
    try:
        wait_for_socket(service_sock, service)
        proxy = subprocess.Popen(
            [str(SECCOMPOSE), "proxy", "--listen", str(proxy_sock), "--upstream", str(service_sock),
             "--policy", str(policy), "--log", str(tmp / "proxy" / "decisions.jsonl")],
            stdout=subprocess.DEVNULL, stderr=err,
        )  # fmt: skip
        wait_for_socket(proxy_sock, proxy)
        via_proxy = Route("proxy", root, tmp / "proxy" / "decisions.jsonl", policy, env, f"unix://{proxy_sock}")
        yield {"routes": {"runtime": runtime, "proxy": via_proxy}, "policy": policy, "tmp": tmp}
    finally:
        runtime.podman("rm", "-f", "-t", "0", "-a", check=False)
        for proc in (proxy, service):
            if proc is not None:
                stop_process(proc)
        err.close()
        subprocess.run(["umount", "-R", str(root / "root" / "overlay")], capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["runtime", "proxy"])
def route(request: pytest.FixtureRequest, setup: dict[str, Any]) -> Iterator[Route]:
    r: Route = setup["routes"][request.param]
    setup["policy"].write_text(POLICY)
    yield r
    setup["policy"].write_text(POLICY)
    r.podman("rm", "-f", "-t", "0", "-a", check=False)


def _cid(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout.strip().splitlines()[-1]


def _check_handed(route: Route, cid: str, image: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    config = route.handed(cid)
    caps = config["process"]["capabilities"]["bounding"]
    expected, record = compose_for(route.policy, image, caps, labels=labels)
    # Podman hands runc the profile as it reads it (the proxy gives it our file): the same filter.
    assert oci.from_dict(config["linux"]["seccomp"]) == oci.from_dict(expected)
    entry = last_decision(route.log, cid)
    assert entry["engine"] == "podman"
    assert (entry["decision"]["profile"], entry["decision"]["template"]) == (record["profile"], record["template"])
    return entry


def test_a_bound_image_runs_with_its_template(route: Route) -> None:
    cid = _cid(route.start("redis:7"))
    entry = _check_handed(route, cid, "redis:7")
    assert entry["decision"]["template"] == "redis"
    done = route.probe(cid, "rmdir", "/tmp/d")
    assert done.returncode != 0 and EPERM_TEXT in done.stderr


def test_an_image_no_binding_names_runs_with_default(route: Route) -> None:
    cid = _cid(route.start("plain:1"))
    assert _check_handed(route, cid, "plain:1")["decision"]["template"] == "default"
    assert route.probe(cid, "rmdir", "/tmp/d").returncode == 0
    assert EPERM_TEXT in route.probe(cid, "unshare", "-U", "true").stderr


def test_cap_add_sys_admin_unlocks_its_syscalls(route: Route) -> None:
    cid = _cid(route.start("plain:1", "--cap-add", "SYS_ADMIN"))
    _check_handed(route, cid, "plain:1")
    assert route.probe(cid, "unshare", "-U", "true").returncode == 0


def test_a_label_scoped_deny_refuses_only_in_labelled_containers(route: Route) -> None:
    cid = _cid(route.start("plain:1", labels={"env": "prod"}))
    entry = _check_handed(route, cid, "plain:1", labels={"env": "prod"})
    assert [r["name"] for r in entry["decision"]["rules"]] == ["prod-no-mkdir"]
    assert EPERM_TEXT in route.probe(cid, "mkdir", "/tmp/new").stderr
    other = _cid(route.start("plain:1", labels={"env": "dev"}))
    assert route.probe(other, "mkdir", "/tmp/new").returncode == 0


def test_unconfined_follows_the_policy(route: Route) -> None:
    done = route.start("plain:1", "--security-opt", "seccomp=unconfined", check=False)
    assert done.returncode != 0 and "unconfined: refuse" in done.stderr, done.stderr
    route.policy.write_text(with_setting("unconfined", "allow"))
    cid = _cid(route.start("plain:1", "--security-opt", "seccomp=unconfined"))
    assert "seccomp" not in route.handed(cid)["linux"]
    assert route.probe(cid, "unshare", "-U", "true").returncode == 0


@pytest.mark.parametrize("setting", ["respect", "override", "refuse"])
def test_an_explicit_profile_follows_the_policy(route: Route, setting: str, tmp_path: Path) -> None:
    profile = tmp_path / "user.json"
    profile.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW",
                                   "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}))  # fmt: skip
    route.policy.write_text(with_setting("explicit_profile", setting))
    done = route.start("plain:1", "--security-opt", f"seccomp={profile}", check=False)
    if setting == "refuse":
        assert done.returncode != 0 and "explicit_profile: refuse" in done.stderr, done.stderr
        return
    cid = _cid(done)
    if setting == "respect":
        assert route.handed(cid)["linux"]["seccomp"]["defaultAction"] == "SCMP_ACT_ALLOW"
        assert EPERM_TEXT in route.probe(cid, "mkdir", "/tmp/new").stderr
    else:
        _check_handed(route, cid, "plain:1")
        assert route.probe(cid, "mkdir", "/tmp/new").returncode == 0


def test_interactive_terminals(route: Route) -> None:
    """``-it`` in a real pseudo-terminal: Podman's own through the wrapper, the Docker client's through the proxy."""
    if route.name == "runtime":
        assert PODMAN is not None
        argv = [*podman_argv(route.root), "run", "-it",
                "--rm", "--runtime", "seccompose", "--runtime-flag", "seccompose-runtime=runc",
                "--runtime-flag", f"seccompose-policy={route.policy}", "--runtime-flag", f"seccompose-log={route.log}",
                "--network", "none", "plain:1", "sh"]  # fmt: skip
        env = {**route.env, "TERM": "xterm"}
    else:
        argv = [DOCKER, "run", "-it", "--rm", "--network", "none", "plain:1", "sh"]
        env = {**route.env, "DOCKER_HOST": route.proxy_host, "TERM": "xterm"}
    out = in_pty(argv, env, [(b"", b"# "), (b"tty; echo sum-$((40+2))\r", b"sum-42"), (b"exit\r", b"")])
    assert b"/dev/pts/" in out
    entry = json.loads(route.log.read_text().splitlines()[-1])
    assert entry["decision"]["action"] == "apply" and entry["engine"] == "podman"

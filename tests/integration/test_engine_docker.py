"""Docker (Debian's docker.io 20.10): containers get the policy's profile with no flag, by both routes.

- ``runtime``: ``daemon.json`` ``runtimes.seccompose`` = ``seccompose-runtime`` with ``runtimeArgs``
  (``docker run --runtime seccompose``; ``default-runtime`` works the same way);
- ``proxy``: ``seccompose proxy`` in front of dockerd, the client on ``DOCKER_HOST`` = the proxy.

Every check is made twice over: by the kernel (the errno of a real syscall inside the
container, through ``docker exec``, which runs under the container's filter) and by the
``linux.seccomp`` containerd handed runc (the bundle's config.json while the container runs),
which must equal ``seccompose compose --policy FILE --image IMG ...`` for the same facts, as
must the decision log's profile digest.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.integration._engines import (
    SECCOMPOSE,
    WRAPPER,
    Dockerd,
    busybox_rootfs,
    compose_for,
    dockerd,
    last_decision,
    why_not_docker,
)

from seccompose.arch import host_arch
from seccompose.render import render

pytestmark = [pytest.mark.integration, pytest.mark.engines]

if why_not_docker():
    pytest.skip(str(why_not_docker()), allow_module_level=True)

POLICY = """\
templates:
  - template: redis
    images: ["redis:*"]
rules:
  - name: prod-no-mkdir
    deny: [mkdir, mkdirat]
    scope: {labels: {env: prod}}
"""

EPERM_TEXT = "Operation not permitted"


@dataclass
class Route:
    name: str
    engine: Dockerd
    host: str
    log: Path
    run_args: tuple[str, ...]

    def docker(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.engine.run(*args, check=check, host=self.host)

    def start(self, image: str, *options: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        # `cat` on an open stdin waits in read(2), which every template allows (redis has no nanosleep).
        return self.docker("run", "-d", "-i", *self.run_args, "--network", "none", *options, image, "cat", check=check)

    def probe(self, cid: str, *cmd: str) -> subprocess.CompletedProcess[str]:
        return self.docker("exec", cid, *cmd, check=False)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("docker-routes")
    policy = tmp / "policy.yaml"
    policy.write_text(POLICY)
    runtime_log = tmp / "runtime" / "decisions.jsonl"
    proxy_log = tmp / "proxy" / "decisions.jsonl"
    daemon = {
        "runtimes": {
            "seccompose": {
                "path": str(WRAPPER),
                "runtimeArgs": ["--seccompose-policy", str(policy), "--seccompose-log", str(runtime_log)],
            }
        }
    }
    with dockerd("docker", daemon) as engine:
        engine.import_image(busybox_rootfs(tmp / "rootfs"), "redis:7", "plain:1")
        proxy_sock = engine.root / "proxy.sock"
        err = (tmp / "proxy.err").open("wb")
        proxy = subprocess.Popen(
            [str(SECCOMPOSE), "proxy", "--listen", f"unix://{proxy_sock}", "--upstream", engine.sock,
             "--policy", str(policy), "--log", str(proxy_log)],
            stdout=subprocess.DEVNULL, stderr=err,
        )  # fmt: skip
        try:
            for _ in range(200):
                if proxy_sock.exists() or proxy.poll() is not None:
                    break
                time.sleep(0.05)
            routes = {
                "runtime": Route("runtime", engine, engine.host, runtime_log, ("--runtime", "seccompose")),
                "proxy": Route("proxy", engine, f"unix://{proxy_sock}", proxy_log, ()),
            }
            yield {"policy": policy, "routes": routes, "proxy": proxy, "tmp": tmp}
        finally:
            proxy.terminate()
            proxy.wait(timeout=30)
            err.close()


@pytest.fixture(params=["runtime", "proxy"])
def route(request: pytest.FixtureRequest, setup: dict[str, Any]) -> Iterator[Route]:
    r: Route = setup["routes"][request.param]
    if r.name == "proxy" and setup["proxy"].poll() is not None:
        pytest.fail(f"seccompose proxy exited: {(setup['tmp'] / 'proxy.err').read_text()[-800:]}")
    setup["policy"].write_text(POLICY)
    yield r
    setup["policy"].write_text(POLICY)
    leftover = r.engine.run("ps", "-aq", check=False).stdout.split()
    if leftover:
        r.engine.run("rm", "-f", *leftover, check=False)


def _cid(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout.strip().splitlines()[-1]


def _check_handed(route: Route, policy: Path, cid: str, image: str, *, labels: dict[str, str] | None = None) -> dict[str, Any]:
    """The runtime got exactly the policy's profile for these facts, and the log says so."""
    config = route.engine.bundle_config(cid)
    caps = config["process"]["capabilities"]["bounding"]
    expected, record = compose_for(policy, image, caps, labels=labels)
    if route.name == "proxy":
        # The proxy hands Docker the profile in SecurityOpt; Docker renders it for runc as it renders any.
        expected = render(json.dumps(expected), engine="docker-20.10", arch=host_arch(), caps=caps,
                          kernel=os.uname().release)  # fmt: skip
    assert config["linux"]["seccomp"] == expected
    entry = last_decision(route.log, cid)
    assert entry["decision"]["profile"] == record["profile"]
    assert entry["decision"]["template"] == record["template"]
    assert [r["name"] for r in entry["decision"]["rules"]] == [r["name"] for r in record["rules"]]
    return entry


def test_a_bound_image_runs_with_its_template(route: Route, setup: dict[str, Any]) -> None:
    cid = _cid(route.start("redis:7"))
    entry = _check_handed(route, setup["policy"], cid, "redis:7")
    assert (entry["decision"]["template"], entry["decision"]["binding"]) == ("redis", "redis:*")
    # rmdir is in Docker's default, not in the redis template: the kernel refuses it here.
    done = route.probe(cid, "rmdir", "/tmp/d")
    assert done.returncode == 1 and EPERM_TEXT in done.stderr


def test_an_image_no_binding_names_runs_with_default(route: Route, setup: dict[str, Any]) -> None:
    cid = _cid(route.start("plain:1"))
    entry = _check_handed(route, setup["policy"], cid, "plain:1")
    assert (entry["decision"]["template"], entry["decision"]["binding"]) == ("default", None)
    assert route.probe(cid, "rmdir", "/tmp/d").returncode == 0
    assert route.probe(cid, "mkdir", "/tmp/new").returncode == 0
    done = route.probe(cid, "unshare", "-U", "true")
    assert done.returncode != 0 and EPERM_TEXT in done.stderr  # no CAP_SYS_ADMIN: no user namespace


def test_cap_add_sys_admin_unlocks_its_syscalls_and_only_then(route: Route, setup: dict[str, Any]) -> None:
    cid = _cid(route.start("plain:1", "--cap-add", "SYS_ADMIN"))
    _check_handed(route, setup["policy"], cid, "plain:1")
    assert route.probe(cid, "unshare", "-U", "true").returncode == 0


def test_a_label_scoped_deny_refuses_only_in_labelled_containers(route: Route, setup: dict[str, Any]) -> None:
    cid = _cid(route.start("plain:1", "--label", "env=prod"))
    entry = _check_handed(route, setup["policy"], cid, "plain:1", labels={"env": "prod"})
    assert [r["name"] for r in entry["decision"]["rules"]] == ["prod-no-mkdir"]
    done = route.probe(cid, "mkdir", "/tmp/new")
    assert done.returncode == 1 and EPERM_TEXT in done.stderr
    other = _cid(route.start("plain:1", "--label", "env=dev"))
    assert route.probe(other, "mkdir", "/tmp/new").returncode == 0


def test_unconfined_follows_the_policy(route: Route, setup: dict[str, Any]) -> None:
    done = route.start("plain:1", "--security-opt", "seccomp=unconfined", check=False)
    assert done.returncode != 0
    assert "unconfined: refuse" in done.stderr, done.stderr
    setup["policy"].write_text(POLICY + "unconfined: allow\n")  # the next container uses the new policy
    cid = _cid(route.start("plain:1", "--security-opt", "seccomp=unconfined"))
    assert "seccomp" not in route.engine.bundle_config(cid)["linux"]
    assert route.probe(cid, "unshare", "-U", "true").returncode == 0  # no filter at all: as asked, as allowed
    assert last_decision(route.log, cid)["decision"]["action"] == "unconfined"


USER_PROFILE = {
    "defaultAction": "SCMP_ACT_ALLOW",
    "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}],
}


@pytest.mark.parametrize("setting", ["respect", "override", "refuse"])
def test_an_explicit_profile_follows_the_policy(route: Route, setup: dict[str, Any], setting: str) -> None:
    profile = setup["tmp"] / "user-profile.json"
    profile.write_text(json.dumps(USER_PROFILE))
    setup["policy"].write_text(POLICY + f"explicit_profile: {setting}\n")
    done = route.start("plain:1", "--security-opt", f"seccomp={profile}", check=False)
    if setting == "refuse":
        assert done.returncode != 0 and "explicit_profile: refuse" in done.stderr, done.stderr
        return
    cid = _cid(done)
    handed = route.engine.bundle_config(cid)["linux"]["seccomp"]
    if setting == "respect":
        assert handed["defaultAction"] == "SCMP_ACT_ALLOW"  # Docker's rendering of the user's own profile
        assert EPERM_TEXT in route.probe(cid, "mkdir", "/tmp/new").stderr
        assert route.probe(cid, "unshare", "-U", "true").returncode == 0
        assert last_decision(route.log, cid)["decision"]["action"] == "keep"
    else:
        _check_handed(route, setup["policy"], cid, "plain:1")
        assert route.probe(cid, "mkdir", "/tmp/new").returncode == 0
        assert route.probe(cid, "unshare", "-U", "true").returncode != 0


def test_privileged_is_confined_or_refused(route: Route, setup: dict[str, Any]) -> None:
    done = route.start("plain:1", "--privileged", check=False)
    if route.name == "proxy":
        # Docker applies no seccomp profile to a privileged container whatever SecurityOpt says:
        # the proxy cannot confine it, so under privileged: confine it refuses, naming the way out.
        assert done.returncode != 0 and "privileged" in done.stderr, done.stderr
        return
    entry = json.loads(route.log.read_text().splitlines()[-1])
    assert entry["decision"]["action"] == "apply" and entry["decision"]["facts"]["privileged"] is True
    caps = entry["decision"]["facts"]["capabilities"]
    assert len(caps) >= 38  # every capability Docker 20.10 knows
    expected, record = compose_for(setup["policy"], "plain:1", caps, extra=("--privileged",))
    assert entry["decision"]["profile"] == record["profile"]
    kept = Path(str(route.log) + ".profiles") / (record["profile"].removeprefix("sha256:") + ".json")
    assert json.loads(kept.read_text()) == expected
    if done.returncode != 0:
        # This machine cannot start any privileged container (runc cannot grant capabilities the
        # sandbox itself lacks, e.g. CAP_SYS_RESOURCE); the decision above is what it would have got.
        assert "unable to apply caps" in done.stderr, done.stderr
        return
    cid = _cid(done)
    assert route.engine.bundle_config(cid)["linux"]["seccomp"] == expected
    assert EPERM_TEXT not in route.probe(cid, "unshare", "-U", "true").stderr  # every capability: allowed


def test_the_log_lists_every_container(route: Route, setup: dict[str, Any]) -> None:
    cid = _cid(route.start("redis:7", "--name", f"listed-{route.name}"))
    out = subprocess.run(
        [str(SECCOMPOSE), "decisions", "--log", str(route.log), "--container", f"listed-{route.name}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert cid[:12] in out and "redis" in out
    profile = subprocess.run(
        [str(SECCOMPOSE), "decisions", "--log", str(route.log), "--container", cid[:12], "--profile"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    kept = json.loads(profile)
    if route.name == "proxy":
        assert kept.pop("defaultErrnoRet") == 1  # Docker 20.10 drops the field; EPERM is what it gives anyway
    assert kept == route.engine.bundle_config(cid)["linux"]["seccomp"]


def test_environment_is_what_users_have() -> None:
    # The tests drive Debian's docker.io client and daemon, 20.10.
    version = subprocess.run(["/usr/bin/docker", "--version"], capture_output=True, text=True, check=True).stdout
    assert "20.10" in version, version
    assert WRAPPER.name == "seccompose-runtime"

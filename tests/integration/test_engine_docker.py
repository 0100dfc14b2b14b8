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
import re
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
    UnixHTTP,
    busybox_rootfs,
    compose_for,
    dockerd,
    in_pty,
    last_decision,
    stop_process,
    wait_for_socket,
    why_not_docker,
)

from seccompose.arch import host_arch
from seccompose.formats import oci
from seccompose.render import render
from seccompose.syscalls import host_names

pytestmark = [pytest.mark.integration, pytest.mark.engines]


EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"
POLICY = (EXAMPLES / "policy.yaml").read_text()  # the documented example policy, as it is


def with_setting(key: str, value: str) -> str:
    """The example policy with one of its settings changed."""
    text, count = re.subn(rf"^{key}: \S+", f"{key}: {value}", POLICY, flags=re.MULTILINE)
    assert count == 1, key
    return text

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
    # Skipped per test (not per module), so a CI run counts each skip (tests/ci_skips.py).
    if why_not_docker():
        pytest.skip(str(why_not_docker()))
    tmp = tmp_path_factory.mktemp("docker-routes")
    policy = tmp / "policy.yaml"
    policy.write_text(POLICY)
    runtime_log = tmp / "runtime" / "decisions.jsonl"
    proxy_log = tmp / "proxy" / "decisions.jsonl"
    # The documented daemon.json, with this test's paths for the wrapper, the policy and the log.
    documented = (EXAMPLES / "docker" / "daemon.json").read_text()
    daemon = json.loads(
        documented.replace("/usr/local/bin/seccompose-runtime", str(WRAPPER))
        .replace("/etc/seccompose/policy.yaml", str(policy))
        .replace("/var/log/seccompose/decisions.jsonl", str(runtime_log))
    )
    assert daemon["runtimes"]["seccompose"]["path"] == str(WRAPPER)
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
            wait_for_socket(proxy_sock, proxy)
            routes = {
                "runtime": Route("runtime", engine, engine.host, runtime_log, ("--runtime", "seccompose")),
                "proxy": Route("proxy", engine, f"unix://{proxy_sock}", proxy_log, ()),
            }
            yield {"policy": policy, "routes": routes, "proxy": proxy, "tmp": tmp}
        finally:
            try:
                stop_process(proxy, 60)
            finally:
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
    setup["policy"].write_text(with_setting("unconfined", "allow"))  # the next container uses the new policy
    cid = _cid(route.start("plain:1", "--security-opt", "seccomp=unconfined"))
    assert "seccomp" not in route.engine.bundle_config(cid)["linux"]
    assert route.probe(cid, "unshare", "-U", "true").returncode == 0  # no filter at all: as asked, as allowed
    assert last_decision(route.log, cid)["decision"]["action"] == "unconfined"


def test_a_create_body_python_cannot_decode_is_refused_not_forwarded(setup: dict[str, Any]) -> None:
    # Go's decoder reads invalid UTF-8 inside a string (as U+FFFD); Python's does not. The proxy once
    # forwarded such a body undecided, so a label with one bad byte started a container unconfined
    # although the policy says `unconfined: refuse` (issue 15's reader layer: it is a 400 now).
    route = setup["routes"]["proxy"]
    body = (
        b'{"Image": "plain:1", "Cmd": ["cat"], "OpenStdin": true, "Labels": {"note": "caf\xe9"},'
        b' "HostConfig": {"NetworkMode": "none", "SecurityOpt": ["seccomp=unconfined"]}}'
    )
    with pytest.raises(UnicodeDecodeError):
        body.decode()
    # Control: dockerd itself takes the body and would create the container unconfined.
    made = route.engine.api("POST", "/containers/create", body)
    config = route.engine.api("GET", f"/containers/{made['Id']}/json")
    assert config["HostConfig"]["SecurityOpt"] == ["seccomp=unconfined"]
    route.engine.api("DELETE", f"/containers/{made['Id']}?force=1")
    before = route.engine.run("ps", "-aq").stdout.split()
    conn = UnixHTTP(route.host.removeprefix("unix://"))
    try:
        conn.request("POST", "/v1.41/containers/create", body=body, headers={"Content-Type": "application/json"})
        answer = conn.getresponse()
        status, text = answer.status, answer.read().decode(errors="replace")
    finally:
        conn.close()
    assert status == 400, (status, text)
    assert "UTF-8" in text, text
    assert route.engine.run("ps", "-aq").stdout.split() == before  # nothing was created
    assert setup["proxy"].poll() is None  # and the proxy goes on serving
    assert route.docker("version").returncode == 0


USER_PROFILE = {
    "defaultAction": "SCMP_ACT_ALLOW",
    "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}],
}


@pytest.mark.parametrize("setting", ["respect", "override", "refuse"])
def test_an_explicit_profile_follows_the_policy(route: Route, setup: dict[str, Any], setting: str) -> None:
    profile = setup["tmp"] / "user-profile.json"
    profile.write_text(json.dumps(USER_PROFILE))
    setup["policy"].write_text(with_setting("explicit_profile", setting))
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
    handed = route.engine.bundle_config(cid)["linux"]["seccomp"]
    if route.name == "proxy":  # Docker re-encodes the profile: a valueTwo of 0 is left out (omitempty), the same condition
        assert oci.from_dict(kept) == oci.from_dict(handed)
        assert json.dumps(handed).count('"op"') == json.dumps(kept).count('"op"')
    else:  # the wrapper writes the very profile it logs
        assert kept == handed


def test_environment_is_what_users_have() -> None:
    # The tests drive Debian's docker.io client and daemon, 20.10.
    version = subprocess.run(["/usr/bin/docker", "--version"], capture_output=True, text=True, check=True).stdout
    assert "20.10" in version, version
    assert WRAPPER.name == "seccompose-runtime"


# --- the proxy: terminals, streams, faults, load ---------------------------------------------------


def _client_env(route: Route) -> dict[str, str]:
    env = {**os.environ, "DOCKER_HOST": route.host, "TERM": "xterm"}
    env.pop("DOCKER_CONTEXT", None)
    return env


def test_docker_run_it_and_exec_it_work_in_a_real_terminal_through_the_proxy(setup: dict[str, Any]) -> None:
    proxy: Route = setup["routes"]["proxy"]
    docker = "/usr/bin/docker"
    out = in_pty(
        [docker, "run", "-it", "--rm", "--network", "none", "plain:1", "sh"],
        _client_env(proxy),
        [(b"", b"# "), (b"tty; echo sum-$((40+2))\r", b"sum-42"), (b"exit\r", b"")],
    )
    assert b"/dev/pts/" in out  # the shell in the container has a terminal of its own
    cid = _cid(proxy.start("plain:1"))
    out = in_pty(
        [docker, "exec", "-it", cid, "sh"],
        _client_env(proxy),
        [(b"", b"# "), (b"stty size; echo exec-$((6*7))\r", b"exec-42"), (b"exit\r", b"")],
    )
    assert b"exec-42" in out
    assert last_decision(proxy.log, cid)["decision"]["action"] == "apply"


def test_streams_pass_through_the_proxy_unchanged(setup: dict[str, Any]) -> None:
    proxy: Route = setup["routes"]["proxy"]
    direct = setup["routes"]["runtime"]
    cid = _cid(proxy.docker("run", "-d", "--network", "none", "plain:1", "sh", "-c",
                            "i=0; while [ $i -lt 3000 ]; do echo line-$i; i=$((i+1)); done"))  # fmt: skip
    proxy.docker("wait", cid)
    through = proxy.docker("logs", cid).stdout
    plain = direct.engine.run("logs", cid).stdout
    assert through == plain and through.count("\n") == 3000
    # A follow stream: the proxy forwards it as it comes.
    follow = subprocess.run([DOCKER_BIN, "logs", "-f", "--tail", "2", cid], env=_client_env(proxy),
                            capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    assert follow.stdout == "line-2998\nline-2999\n"


DOCKER_BIN = "/usr/bin/docker"


def test_a_broken_policy_keeps_the_last_good_one_in_the_proxy(route: Route, setup: dict[str, Any]) -> None:
    cid = _cid(route.start("plain:1", "--label", "env=prod"))
    good = last_decision(route.log, cid)["decision"]["profile"]
    setup["policy"].write_text("rules: [ {name: broken\n")
    try:
        cid = _cid(route.start("plain:1", "--label", "env=prod"))
        entry = last_decision(route.log, cid)
        assert entry["decision"]["profile"] == good
        assert EPERM_TEXT in route.probe(cid, "mkdir", "/tmp/new").stderr
        if route.name == "runtime":
            assert any("kept the last good policy" in w for w in entry["decision"]["warnings"])
        else:
            assert "kept the last good policy" in (setup["tmp"] / "proxy.err").read_text()
        setup["policy"].unlink()
        cid = _cid(route.start("plain:1", "--label", "env=prod"))
        assert last_decision(route.log, cid)["decision"]["profile"] == good
    finally:
        setup["policy"].write_text(POLICY)


def _proxy(engine: Dockerd, tmp: Path, policy: Path, upstream: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], Path, Path]:
    sock = engine.root / f"p{len(list(engine.root.glob('p*.sock')))}.sock"
    log = tmp / f"{sock.stem}.jsonl"
    proc = subprocess.Popen(
        [str(SECCOMPOSE), "proxy", "--listen", str(sock), "--upstream", upstream, "--policy", str(policy),
         "--log", str(log), "--grace", "5"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **(env or {})},
    )  # fmt: skip
    wait_for_socket(sock, proc)
    assert sock.exists(), proc.stderr.read().decode() if proc.stderr and proc.poll() is not None else "no socket"
    return proc, sock, log


def _stop(proc: subprocess.Popen[bytes]) -> str:
    stop_process(proc)
    if proc.stderr is None:
        return ""
    with proc.stderr:
        return proc.stderr.read().decode()


def test_upstream_down_is_a_clean_error(setup: dict[str, Any]) -> None:
    engine = setup["routes"]["proxy"].engine
    proc, sock, _ = _proxy(engine, setup["tmp"], setup["policy"], str(engine.root / "nothing-here.sock"))
    try:
        done = engine.run("version", check=False, host=f"unix://{sock}")
        assert done.returncode != 0
        assert "cannot reach the engine" in done.stderr and "nothing-here.sock" in done.stderr, done.stderr
        assert proc.poll() is None  # still serving
    finally:
        _stop(proc)


@pytest.mark.parametrize("setting", ["engine-default", "refuse"])
def test_an_error_inside_seccompose_applies_on_error_never_unconfined(setup: dict[str, Any], setting: str, tmp_path: Path) -> None:
    engine = setup["routes"]["proxy"].engine
    policy = tmp_path / "policy.yaml"
    # A template that cannot be composed (a cut file) as the default: every create fails inside seccompose.
    (tmp_path / "broken.json").write_text('{"schema": 1, "name": "broken", "rules": [{"names": [')
    policy.write_text(with_setting("on_error", setting) + "default: ./broken.json\n")
    proc, sock, log = _proxy(engine, tmp_path, policy, engine.sock)
    try:
        host = f"unix://{sock}"
        # Asking for unconfined is decided before any composition: the policy's unconfined: refuse.
        done = engine.run("run", "-d", "--network", "none", "--security-opt", "seccomp=unconfined", "plain:1", "true",
                          check=False, host=host)  # fmt: skip
        assert done.returncode != 0 and "unconfined: refuse" in done.stderr, done.stderr
        for options in ([], ["--cap-add", "SYS_ADMIN"]):
            done = engine.run("run", "-d", "-i", "--network", "none", *options, "plain:1", "cat", check=False, host=host)
            if setting == "refuse":
                assert done.returncode != 0 and "on_error: refuse" in done.stderr, done.stderr
                continue
            cid = _cid(done)
            handed = engine.bundle_config(cid)["linux"]
            # Docker's own default profile: a filter, and not ours (the fault stopped ours).
            assert handed["seccomp"]["defaultAction"] == "SCMP_ACT_ERRNO"
            probe = engine.run("exec", cid, "unshare", "-U", "true", check=False)
            assert (EPERM_TEXT in probe.stderr) == (not options)  # Docker's default: unshare only with the cap
            entry = last_decision(log, cid)
            assert entry["decision"]["action"] == "engine-default" and "broken.json" in entry["decision"]["reason"]
    finally:
        _stop(proc)


def test_two_hundred_concurrent_creates_each_reach_their_own_client(setup: dict[str, Any], tmp_path: Path) -> None:
    import concurrent.futures
    import http.client
    import socket

    proxy: Route = setup["routes"]["proxy"]
    sock = proxy.host.removeprefix("unix://")

    class Conn(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(300)
            self.sock.connect(sock)

    def create(i: int) -> tuple[int, int, dict[str, Any]]:
        conn = Conn("localhost", timeout=300)
        labels = {"n": str(i)} | ({"env": "prod"} if i % 2 else {})
        body = json.dumps({"Image": "plain:1", "Cmd": ["true"], "Labels": labels, "HostConfig": {"NetworkMode": "none"}})
        try:
            conn.request("POST", f"/v1.41/containers/create?name=load-{i}", body=body,
                         headers={"Content-Type": "application/json"})  # fmt: skip
            resp = conn.getresponse()
            return i, resp.status, json.loads(resp.read())
        finally:
            conn.close()

    with concurrent.futures.ThreadPoolExecutor(max_workers=200) as pool:
        results = list(pool.map(create, range(200)))
    try:
        assert all(status == 201 for _, status, _ in results), [r for r in results if r[1] != 201][:3]
        ids = {i: doc["Id"] for i, _, doc in results}
        assert len(set(ids.values())) == 200
        inspect = json.loads(proxy.engine.run("inspect", *ids.values()).stdout)
        by_id = {c["Id"]: c for c in inspect}
        for i, cid in ids.items():
            c = by_id[cid]
            assert c["Name"] == f"/load-{i}" and c["Config"]["Labels"]["n"] == str(i)  # its own answer
            [opt] = [o for o in c["HostConfig"]["SecurityOpt"] if o.startswith("seccomp=")]
            names = {n for rule in json.loads(opt.removeprefix("seccomp="))["syscalls"] for n in rule["names"]
                     if rule["action"] == "SCMP_ACT_ALLOW"}  # fmt: skip
            assert ("mkdir" in names) == (i % 2 == 0)  # the label-scoped deny, per container
        logged = {e["container"]["id"]: e for e in map(json.loads, proxy.log.read_text().splitlines())}
        assert all(logged[cid]["container"]["name"] == f"load-{i}" for i, cid in ids.items())
    finally:
        proxy.engine.run("rm", "-f", *[doc.get("Id", "") for _, _, doc in results if "Id" in doc], check=False)


def test_killing_the_proxy_mid_work_starts_nothing_unconfined(setup: dict[str, Any], tmp_path: Path) -> None:
    import signal
    import threading

    engine = setup["routes"]["proxy"].engine
    proc, sock, _ = _proxy(engine, tmp_path, setup["policy"], engine.sock)
    host = f"unix://{sock}"
    done: list[subprocess.CompletedProcess[str]] = []

    def worker(i: int) -> None:
        done.append(engine.run("create", "--network", "none", "--name", f"kill-{i}", "plain:1", "true",
                               check=False, host=host ))  # fmt: skip

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # kill it once it has passed on some creates: mid-work
        names = engine.run("ps", "-a", "--format", "{{.Names}}").stdout.split()
        if sum(n.startswith("kill-") for n in names) >= 3:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    for t in threads:
        t.join()
    made = [n for n in engine.run("ps", "-a", "--format", "{{.Names}}").stdout.split() if n.startswith("kill-")]
    try:
        assert made, "the proxy was killed before any create: the test proved nothing"
        for c in json.loads(engine.run("inspect", *made).stdout):
            # Every container the engine got went through the decision: it carries the policy's profile.
            assert any(o.startswith("seccomp={") for o in c["HostConfig"]["SecurityOpt"] or []), c["Name"]
        ok = [d for d in done if d.returncode == 0]
        assert len(ok) <= len(made)
    finally:
        if made:
            engine.run("rm", "-f", *made, check=False)
        _stop(proc)


def test_sigterm_stops_the_proxy_cleanly_and_sighup_reloads(setup: dict[str, Any], tmp_path: Path) -> None:
    import signal

    engine = setup["routes"]["proxy"].engine
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    proc, sock, _ = _proxy(engine, tmp_path, policy, engine.sock)
    policy.write_text(with_setting("unconfined", "allow"))
    proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    assert engine.run("version", host=f"unix://{sock}").returncode == 0
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    err = _stop(proc)
    assert "reloaded" in err, err
    assert not sock.exists()


REFERENCE = Path(__file__).parents[1] / "fixtures" / "reference" / "profiles"


def test_a_conditional_default_unlocks_what_dockers_own_default_unlocks(setup: dict[str, Any], tmp_path: Path) -> None:
    """``compose --format docker --conditional`` as daemon.json's seccomp-profile: no proxy, no wrapper.

    The base is Docker 20.10.24's own default (as a seccompose base), so the daemon's rendering of
    our file must match its built-in default container by container; seccompose's ``default``
    follows today's moby profile, checked against that one in tests/property/test_conditional_laws.py.
    """
    base = REFERENCE / "docker-default-20.10.24.json"
    profile = tmp_path / "seccompose-default.json"
    subprocess.run(
        [str(SECCOMPOSE), "compose", "--base", str(base), "--format", "docker", "--conditional", "--runtime", "none",
         "--no-new-privileges", "false", "-o", str(profile)],
        check=True, capture_output=True,
    )  # fmt: skip
    own = setup["routes"]["runtime"].engine  # Docker's built-in default (no runtime, no proxy)
    with dockerd("cond", {"seccomp-profile": str(profile)}) as ours:
        ours.import_image(busybox_rootfs(tmp_path / "rootfs"), "plain:1")

        def allowed(engine: Dockerd, *options: str) -> tuple[frozenset[str], str, dict[str, Any]]:
            cid = _cid(engine.run("run", "-d", "-i", "--network", "none", *options, "plain:1", "cat"))
            config = engine.bundle_config(cid)
            probe = engine.run("exec", cid, "unshare", "-U", "true", check=False)
            # Names no ABI of this host has (Docker 20.10 lists send and recv) are nothing to the kernel.
            names = oci.from_dict(config["linux"]["seccomp"]).allowed() & frozenset(host_names(host_arch()))
            return names, probe.stderr, config

        options = ((), ("--cap-add", "SYS_ADMIN"), ("--cap-drop", "ALL"), ("--cap-add", "SYS_PTRACE"))
        got = {o: allowed(ours, *o) for o in options}
        docker = {o: allowed(own, *o) for o in options}
        for o in options:
            caps = got[o][2]["process"]["capabilities"].get("bounding", [])
            # What Docker handed runc is the composition for the container's capabilities ...
            assert oci.from_dict(got[o][2]["linux"]["seccomp"]) == oci.from_dict(compose_seccomp(str(base), caps)), o
            # ... and allows what Docker's own default allows that container.
            assert got[o][0] == docker[o][0], (o, sorted(got[o][0] ^ docker[o][0]))
        sys_admin = ("--cap-add", "SYS_ADMIN")
        assert got[sys_admin][0] - got[()][0] == docker[sys_admin][0] - docker[()][0]
        assert EPERM_TEXT in got[()][1] and got[sys_admin][1] == ""  # the kernel: a user namespace only with the cap


def compose_seccomp(base: str, caps: list[str]) -> dict[str, Any]:
    from seccompose import compose

    kernel = tuple(int(p) for p in os.uname().release.split("-")[0].split(".")[:2])
    profile = compose(base, arch=host_arch(), caps=caps, no_new_privileges=False, runtime=None, kernel=kernel)  # type: ignore[arg-type]
    seccomp = oci.to_dict(profile)
    seccomp.pop("defaultErrnoRet", None)  # Docker 20.10 drops it (and gives EPERM, the same)
    return seccomp

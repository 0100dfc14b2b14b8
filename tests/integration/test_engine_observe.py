"""Docker (Debian's docker.io 20.10) with a policy in observe mode: events for every container, no flag from the user.

Docker runs its containers through ``seccompose-runtime`` (``daemon.json`` ``runtimes``, as
documented); the policy says ``mode: observe`` (or ``complain``) and where the agent
listens. A plain ``docker run`` then gets the composed profile with its refusals handed to
``seccompose agent``: the container sees the profile's answers (or, in complain mode, the
call runs), and each refused call is an event naming Docker's container id and the image.

Docker 20.10 drops ``listenerPath`` from a profile given with ``--security-opt`` (so the
proxy route cannot observe there: ``engines.ignored`` says so); the runtime route writes the
bundle's ``config.json`` itself. When the agent is not running, the policy's
``observe.agent_missing`` decides: ``enforce`` starts the container with the profile
unobserved (the same answers), ``refuse`` does not start it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.integration._engines import (
    WRAPPER,
    Dockerd,
    busybox_rootfs,
    dockerd,
    last_decision,
    stop_process,
    wait_for_socket,
    why_not_docker,
)
from tests.integration.test_agent_runtimes import AgentProcess

pytestmark = [pytest.mark.integration, pytest.mark.engines]

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"
EPERM_TEXT = "Operation not permitted"


def policy_text(mode: str, socket: Path, agent_missing: str = "enforce") -> str:
    return f"""\
mode: {mode}
observe:
  socket: {socket}
  agent_missing: {agent_missing}
templates:
  - template: redis
    images: ["redis:*"]
rules:
  - name: no-mkdir
    deny: [mkdir]
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if why_not_docker():
        pytest.skip(str(why_not_docker()))
    tmp = tmp_path_factory.mktemp("docker-observe")
    agent = AgentProcess()
    policy = tmp / "policy.yaml"
    policy.write_text(policy_text("observe", agent.socket))
    log = tmp / "decisions.jsonl"
    documented = (EXAMPLES / "docker" / "daemon.json").read_text()
    daemon = json.loads(
        documented.replace("/usr/local/bin/seccompose-runtime", str(WRAPPER))
        .replace("/etc/seccompose/policy.yaml", str(policy))
        .replace("/var/log/seccompose/decisions.jsonl", str(log))
    )
    try:
        with dockerd("observe", daemon) as d:
            d.import_image(busybox_rootfs(tmp / "rootfs"), "redis:7", "plain:1")
            yield {"docker": d, "agent": agent, "policy": policy, "log": log}
    finally:
        agent.cleanup()


def run(d: Dockerd, image: str, script: str) -> tuple[str, str]:
    """``docker run`` as a user types it (only the runtime, which daemon.json could make the default)."""
    cid = d.run("run", "-d", "--runtime", "seccompose", "--network", "none", image, "sh", "-c", script).stdout.strip()
    d.run("wait", cid, timeout=120)
    logs = d.run("logs", cid)
    return cid, logs.stdout + logs.stderr


def test_observe_mode_gives_docker_containers_events_without_a_flag(engine: dict[str, Any]) -> None:
    d, agent = engine["docker"], engine["agent"]
    cid, out = run(d, "plain:1", "mkdir /tmp/new; echo mkdir=$?; unshare -U true; echo unshare=$?")
    assert "mkdir=1" in out and "unshare=1" in out and out.count(EPERM_TEXT) == 2, out
    agent.wait_for(lambda: len(agent.records(container=cid)) >= 2)
    events = agent.records(container=cid)
    assert [(e["syscall"], e["answer"], e["errno"]) for e in events] == [("mkdir", "errno", 1), ("unshare", "errno", 1)]
    assert events[0]["layers"] == ["rule:no-mkdir"] and events[1]["layers"] == ["default action"]
    assert all(e["container"] == {"id": cid, "image": "plain:1"} for e in events)
    assert all(e["mode"] == "enforce" for e in events)
    entry = last_decision(engine["log"], cid)
    assert entry["decision"]["mode"] == "observe"
    assert entry["decision"]["observe"]["socket"] == str(agent.socket)


def test_complain_mode_lets_the_call_run_and_records_it(engine: dict[str, Any]) -> None:
    d, agent = engine["docker"], engine["agent"]
    engine["policy"].write_text(policy_text("complain", agent.socket))
    try:
        cid, out = run(d, "redis:7", "mkdir /tmp/new && echo made")
        assert "made" in out, out
        agent.wait_for(lambda: bool(agent.records(container=cid)))
        events = agent.records(container=cid)
        assert ("mkdir", "continue", "complain") in [(e["syscall"], e["answer"], e["mode"]) for e in events]
        assert events[0]["container"]["image"] == "redis:7"
    finally:
        engine["policy"].write_text(policy_text("observe", agent.socket))


def test_without_the_agent_the_policy_says_enforce_or_refuse(engine: dict[str, Any]) -> None:
    d, agent = engine["docker"], engine["agent"]
    agent.stop()
    try:
        # enforce: the container starts with the same profile unobserved (the kernel answers), and the log says why
        cid, out = run(d, "plain:1", "mkdir /tmp/new; echo mkdir=$?")
        assert "mkdir=1" in out and EPERM_TEXT in out, out
        entry = last_decision(engine["log"], cid)
        assert entry["decision"]["observe"]["agent"] == "missing"
        assert any("no seccomp agent answers" in w for w in entry["decision"]["warnings"])
        # refuse: it does not start
        engine["policy"].write_text(policy_text("observe", agent.socket, agent_missing="refuse"))
        done = d.run("run", "--runtime", "seccompose", "--network", "none", "plain:1", "true", check=False)
        assert done.returncode != 0 and "agent_missing: refuse" in done.stderr, done.stderr
    finally:
        engine["policy"].write_text(policy_text("observe", agent.socket))
        agent.start()
        time.sleep(0.5)


def test_the_proxy_route_on_docker_20_10_starts_the_container_unobserved(engine: dict[str, Any]) -> None:
    import subprocess

    from tests.integration._engines import SECCOMPOSE

    d: Dockerd = engine["docker"]
    sock = d.root / "observe-proxy.sock"
    log = d.root / "proxy-decisions.jsonl"
    proxy = subprocess.Popen(
        [str(SECCOMPOSE), "proxy", "--listen", f"unix://{sock}", "--upstream", d.sock, "--policy",
         str(engine["policy"]), "--log", str(log)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_socket(sock, proxy)
        host = f"unix://{sock}"
        cid = d.run("run", "-d", "--network", "none", "plain:1", "sh", "-c", "mkdir /tmp/n; echo mkdir=$?",
                    host=host).stdout.strip()  # fmt: skip
        d.run("wait", cid, host=host)
        logs = d.run("logs", cid, host=host)
        # the same answers: given the observed profile, Docker 20.10 drops listenerPath and runc then fails the
        # container ("listenerPath is not set", measured), so the proxy hands it the profile unobserved
        assert "mkdir=1" in logs.stdout and EPERM_TEXT in logs.stderr, logs
        entry = last_decision(log, cid)
        assert "observe" not in entry["decision"]
        assert any("drops listenerPath" in w for w in entry["decision"]["warnings"]), entry["decision"]["warnings"]
    finally:
        stop_process(proxy, 60)

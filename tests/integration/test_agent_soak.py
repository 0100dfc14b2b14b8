"""The agent under load and with real servers (``nox -s soak``; deselected from ``nox -s tests``).

- a container calling a refused syscall a million times in a tight loop: every call is
  answered and counted (the container's count equals the agent's), the events file holds
  every call (or counts the ones it dropped), the agent's memory stays flat, and the rate
  is reported;
- fifty containers at once, each with its own events;
- the learn loop on a real server: redis under its template with ``epoll_wait`` removed keeps
  serving in complain mode, the events name exactly what was removed, and ``learn --events``
  gives a template under which the same workload runs in enforce mode with no event;
- startup phases on three shipped servers: each starts, serves its recorded workload, and a
  startup-only syscall made after it is ready gets the errno.

Every container is started by runc as Docker starts it (noNewPrivileges false, Docker's
capabilities); the servers run from the host's packages, bind-mounted read-only into an
otherwise empty root, on the host's network (their recipes' ports, under the shared lock).
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shlex
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests._tools import tool
from tests.integration.test_agent_runtimes import AgentProcess, bundle, bundles, cid

from seccompose import Arch, compose
from seccompose.caps import DOCKER_DEFAULT_CAPABILITIES
from seccompose.formats.oci import dumps
from seccompose.loader import load_template
from seccompose.observe import observe
from seccompose.phases import Ready

pytestmark = [pytest.mark.integration, pytest.mark.soak]

ROOT = Path(__file__).resolve().parents[2]
CALLS = int(os.environ.get("SECCOMPOSE_SOAK_CALLS", "1000000"))
REPORT = Path(os.environ.get("SECCOMPOSE_SOAK_REPORT", tempfile.gettempdir() + "/seccompose-soak.json"))


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "runc needs root"
    if shutil.which("runc") is None:
        return "runc is not installed"
    return None


if _why_not():
    pytestmark.append(pytest.mark.skip(reason=str(_why_not())))


def _report(key: str, value: Any) -> None:
    """Keep a figure for the closing note (the soak session prints the file at the end)."""
    doc = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    doc[key] = value
    REPORT.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"{key}: {value}")


def observed(runtime: str, listener: Path, base: str = "default", **kw: Any) -> dict[str, Any]:
    mode = kw.pop("mode", None)
    startup = kw.pop("startup", None)
    facts = kw.pop("container", None)
    p = compose(base, arch=Arch.X86_64, caps=DOCKER_DEFAULT_CAPABILITIES, runtime=runtime,
                no_new_privileges=False, **kw)
    o = observe(p, listener_path=str(listener), runtime=runtime, mode=mode, startup=startup, base=base,
                container=facts)
    oci: dict[str, Any] = json.loads(dumps(o.profile))
    return oci


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# --------------------------------------------------------------------------- load


def test_a_million_refused_calls_are_each_answered_and_counted_in_flat_memory(tmp_path: Path) -> None:
    agent = AgentProcess()
    try:
        assert agent.proc is not None
        name = cid()
        b = bundles.make_bundle(
            tmp_path / "b", args=["/loop"], seccomp=observed("runc", agent.socket, deny=["mkdir"]),
            writable=True, no_new_privileges=False,
        )
        (b / "rootfs" / "loop").write_bytes(bundles.refuse_loop_elf(83, CALLS, "/tmp/d"))
        (b / "rootfs" / "loop").chmod(0o755)
        samples: list[tuple[int, int]] = []  # (notifications so far, agent RSS in KiB)
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.5):
                with contextlib.suppress(OSError):
                    seen = agent.events.stat().st_size // 560 if agent.events.exists() else 0
                    samples.append((seen, _rss_kib(agent.proc.pid)))  # type: ignore[union-attr]

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.monotonic()
        p = subprocess.run(bundles.container_command("runc", b, name), capture_output=True, timeout=3600, check=False)
        elapsed = time.monotonic() - started
        done.set()
        sampler.join()
        subprocess.run(["runc", "delete", "-f", name], capture_output=True, check=False)
        assert p.returncode == 0, p.stderr
        refused = struct.unpack("<Q", p.stdout[:8])[0]
        assert refused == CALLS  # the container saw every call refused (EPERM: the raw syscall returned -1)
        agent.wait_for(lambda: bool(agent.records("stop", name)), timeout=600)
        stop = agent.records("stop", name)[0]
        assert stop["notifications"] == CALLS and stop["errno"] == CALLS  # the agent answered each one
        events = dropped = 0
        with agent.events.open("rb") as f:
            for line in f:
                if b'"kind":"syscall"' in line and name.encode() in line:
                    events += 1
                elif b'"kind":"dropped"' in line:
                    doc = json.loads(line)
                    dropped += sum(c["count"] for c in doc["counts"] if c["container"] == name)
        assert events + dropped == CALLS  # every call is an event, or a counted drop
        rss = [kib for _, kib in samples]
        tenth = rss[len(rss) // 10] if rss else 0
        _report("soak_calls", CALLS)
        _report("soak_seconds", round(elapsed, 1))
        _report("soak_notifications_per_s", round(CALLS / elapsed))
        _report("soak_events_written", events)
        _report("soak_events_dropped", dropped)
        _report("soak_agent_rss_kib_at_10pct_max_end", [tenth, max(rss, default=0), rss[-1] if rss else 0])
        assert max(rss) - tenth < 16 * 1024, rss  # flat: no growth with the number of events
    finally:
        agent.cleanup()


def test_fifty_containers_at_once(tmp_path: Path) -> None:
    agent = AgentProcess()
    try:
        script = "i=0; while [ $i -lt 5 ]; do mkdir /tmp/d 2>/dev/null; i=$((i+1)); done; /mkdir32; echo done"
        names = [cid() for _ in range(50)]
        bundles_ = [bundle(tmp_path / n, script, observed("runc", agent.socket, deny=["mkdir"])) for n in names]
        started = time.monotonic()
        procs = [
            subprocess.Popen(bundles.container_command("runc", b, n), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for n, b in zip(names, bundles_, strict=True)
        ]
        outs = [p.communicate(timeout=600) for p in procs]
        elapsed = time.monotonic() - started
        for n in names:
            subprocess.run(["runc", "delete", "-f", n], capture_output=True, check=False)
        assert [p.returncode for p in procs] == [0] * 50, [o[1][-300:] for o in outs]
        assert all(o[0] == b"done\n" for o in outs)
        agent.wait_for(lambda: len(agent.records("stop")) == 50, timeout=120)
        for n in names:
            events = agent.records(container=n)
            assert [(e["abi"], e["syscall"], e["answer"]) for e in events] == [("x86_64", "mkdir", "errno")] * 5 + [
                ("x86", "mkdir", "errno")
            ]
        _report("fifty_containers_seconds", round(elapsed, 1))
    finally:
        agent.cleanup()


# --------------------------------------------------------------------------- real servers


RECIPES = tool("record_templates")


class ServerContainers:
    """Starts each server-side command of a recipe in its own runc container, as Docker would.

    The root is empty but for the host's ``/usr`` and ``/etc`` (read-only) and the work
    folder (read-write, at its own path): the servers run from the host's packages. Each
    container has its own network namespace (loopback only): the recipe's clients run in the
    server's through ``nsenter``, so nothing else on the machine shares its ports.
    """

    def __init__(self, base: Path, seccomp: dict[str, Any]) -> None:
        self.base = base
        self.seccomp = seccomp
        self.ids: list[str] = []

    def bundle(self, argv: list[str], user: str | None, work: Path) -> tuple[Path, str]:
        name = f"sc17-{uuid.uuid4().hex[:10]}"
        b = self.base / name
        b.mkdir(parents=True)
        rootfs = b / "rootfs"
        for d in ("usr", "etc", "proc", "dev", "sys", "tmp", "run", "var/lib", "opt"):
            (rootfs / d).mkdir(parents=True, exist_ok=True)
        for link in ("bin", "sbin", "lib", "lib64"):
            (rootfs / link).symlink_to(f"usr/{link}")
        (rootfs / work.relative_to("/")).mkdir(parents=True, exist_ok=True)
        subprocess.run(["runc", "spec", "--bundle", str(b)], check=True, capture_output=True)
        config = json.loads((b / "config.json").read_text())
        config["mounts"] += [
            {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]},
            {"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=755"]},
        ]
        for src, ro in (("/usr", True), ("/etc", True), (str(work), False)):  # after /tmp: work may be under it
            config["mounts"].append(
                {"destination": src, "type": "bind", "source": src, "options": ["rbind", "ro" if ro else "rw"]}
            )
        config["root"] = {"path": "rootfs", "readonly": True}
        caps = sorted(f"CAP_{c.name.removeprefix('CAP_')}" for c in DOCKER_DEFAULT_CAPABILITIES)
        process = config["process"]
        process.update(args=argv, cwd=str(work), terminal=False, noNewPrivileges=False)
        process["capabilities"] = dict.fromkeys(("bounding", "effective", "permitted"), caps)
        process["env"] = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"]
        if user:
            pw = pwd.getpwnam(user)
            process["user"] = {"uid": pw.pw_uid, "gid": pw.pw_gid}
        config["linux"]["seccomp"] = self.seccomp
        (b / "config.json").write_text(json.dumps(config, indent=2))
        return b, name

    def start(self, argv: list[str], user: str | None, work: Path, log: Path) -> tuple[str, subprocess.Popen[bytes]]:
        b, name = self.bundle(argv, user, work)
        self.ids.append(name)
        with log.open("wb") as out:
            proc = subprocess.Popen(["runc", "run", "--bundle", str(b), name], stdout=out, stderr=subprocess.STDOUT)
        return name, proc

    def pid(self, name: str) -> int:
        state = subprocess.run(["runc", "state", name], capture_output=True, text=True, check=True, timeout=30)
        pid: int = json.loads(state.stdout)["pid"]
        return pid

    def kill(self, name: str, sig: signal.Signals) -> None:
        subprocess.run(["runc", "kill", name, sig.name.removeprefix("SIG")], capture_output=True, check=False, timeout=30)

    def cleanup(self) -> None:
        for name in self.ids:
            subprocess.run(["runc", "delete", "-f", name], capture_output=True, check=False)


def _client(pid: int, cmd: list[str], work: Path) -> str:
    """Run a recipe's client command in the server container's network namespace; fail as the recipe does."""
    done = subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", *cmd], cwd=work, capture_output=True,
                          timeout=300, check=False)
    out = (done.stdout + done.stderr).decode(errors="replace")
    problem = f"exit {done.returncode}" if done.returncode != 0 else RECIPES.output_problem(cmd, out)
    assert not problem, f"{shlex.join(cmd)}: {problem}\n{out[-1500:]}"
    return out


def _listening(pid: int, port: int) -> bool:
    from seccompose.integrations.agent import port_listening

    return port_listening(pid, port)


def life(server: Any, work: Path, containers: ServerContainers,
         after_ready: Callable[[str, int], None] | None = None) -> None:
    """A recipe's life in containers: first start, start, workload, reload, more work, clean stop."""
    for i, cmd in enumerate(server.first_start(work)):
        _, proc = containers.start(cmd, server.user, work, work / f"first-start-{i}.log")
        assert proc.wait(timeout=300) == 0, (work / f"first-start-{i}.log").read_text(errors="replace")[-1500:]
    name, proc = containers.start([*RECIPES.ENTRYPOINT, *server.argv(work)], server.user, work, work / "server.log")
    try:
        deadline = time.monotonic() + 60
        pid = 0
        while True:
            assert proc.poll() is None, (work / "server.log").read_text(errors="replace")[-1500:]
            assert time.monotonic() < deadline, "the server never listened"
            with contextlib.suppress(subprocess.CalledProcessError, KeyError, ValueError):
                pid = pid or containers.pid(name)
            if pid and _listening(pid, server.port):
                break
            time.sleep(0.2)
        time.sleep(0.5)  # let workers finish starting
        for cmd in server.workload(work):
            _client(pid, cmd, work)
        if server.reload_signal is not None:
            containers.kill(name, server.reload_signal)
            time.sleep(2)
        for cmd in server.after_reload(work):
            _client(pid, cmd, work)
        if after_ready is not None:
            after_ready(name, pid)
        containers.kill(name, server.stop_signal)
        code = proc.wait(timeout=60)
        assert code in (0, 128 + server.stop_signal), (code, (work / "server.log").read_text(errors="replace")[-1500:])
    finally:
        containers.kill(name, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=30)


@contextlib.contextmanager
def workdir(name: str) -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="sc17-srv-", dir="/tmp"))
    base.chmod(0o755)
    try:
        yield RECIPES.fresh_workdir(base, name)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _server_ready(name: str) -> str | None:
    server = RECIPES.SERVERS[name]
    if not Path(server.program).exists():
        return f"{server.program} is not installed (see .ci/apt-packages)"
    return None


def deliberate(template: str) -> set[str]:
    """The names a template refuses by a rule of its own (clone3 with ENOSYS, so glibc uses clone; default's
    conditions): their events are the template working as meant, not something the container lacks."""
    from seccompose import compose
    from seccompose.arch import host_arch

    return {n for r in compose(template, arch=host_arch()).rules if not r.action.allows for n in r.names}


def without(template: str, names: set[str], dest: Path) -> Path:
    doc = load_template(template).to_dict()
    for rule in doc["rules"]:
        rule["names"] = [n for n in rule["names"] if n not in names]
    doc["rules"] = [r for r in doc["rules"] if r["names"]]
    doc.pop("phases", None)
    path = dest / f"{template}-without.json"
    path.write_text(json.dumps(doc, indent=2))
    return path


@pytest.mark.skipif(_server_ready("redis") is not None, reason=str(_server_ready("redis")))
def test_learn_loop_on_redis(tmp_path: Path) -> None:
    server = RECIPES.SERVERS["redis"]
    removed = {"epoll_wait"}
    tight = without("redis", removed, tmp_path)

    def run(mode: str, template: Path) -> tuple[AgentProcess, list[dict[str, Any]]]:
        agent = AgentProcess(mode)
        facts = {"image": "redis:7", "name": f"redis-{mode}"}  # what the wrapper and the proxy put in the metadata
        containers = ServerContainers(tmp_path / mode, observed("runc", agent.socket, base=str(template),
                                                                container=facts))
        try:
            with workdir("redis") as work:
                server.prepare(work)
                life(server, work, containers)  # starts, serves its workload, stops cleanly
            agent.wait_for(lambda: len(agent.records("stop")) >= 1, timeout=60)
            return agent, agent.records()
        finally:
            containers.cleanup()
            agent.stop()

    # 1. complain: redis keeps serving under the tight template; the events name what was removed
    agent, events = run("complain", tight)
    meant = deliberate("redis")
    try:
        assert {e["syscall"] for e in events} - meant == removed, sorted({e["syscall"] for e in events})
        assert {e["answer"] for e in events} == {"continue"}
        learned = tmp_path / "redis-learned.json"
        from seccompose.cli import main

        assert main(["learn", "--events", str(agent.events), "--image", "redis:7", "--into", str(tight),
                     "-o", str(learned)]) == 0
        _report("learn_loop_complain_events", len(events))
    finally:
        agent.cleanup()
    doc = json.loads(learned.read_text())
    assert removed <= {n for r in doc["rules"] for n in r["names"]}
    assert "learnedFromEvents" in doc["provenance"]
    # 2. enforce, under the learned template: the same workload, and not one event
    agent, events = run("enforce", learned)
    try:
        assert [e for e in events if e["syscall"] not in meant] == [], events[:3]
    finally:
        agent.cleanup()


def _in(pid: int, cmd: list[str]) -> str:
    done = subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", *cmd], capture_output=True, text=True,
                          timeout=60, check=False)
    return done.stdout + done.stderr


def _redis_trigger(containers: ServerContainers, name: str, pid: int, work: Path) -> str:
    # INFO server calls uname() the first time it is asked (redis keeps the answer): startup-only since
    # the templates were recorded from the image (issue 18), where only the entrypoint's tools call it
    return _in(pid, ["redis-cli", "-p", "28102", "INFO", "server"])


def _nginx_trigger(containers: ServerContainers, name: str, pid: int, work: Path) -> str:
    # a reload that listens on one more port: the master calls bind(), startup-only
    conf = work / "nginx.conf"
    text = conf.read_text()
    conf.write_text(text.replace("listen 127.0.0.1:28101;", "listen 127.0.0.1:28101; listen 127.0.0.1:28112;"))
    containers.kill(name, signal.SIGHUP)
    time.sleep(2)
    conf.write_text(text)
    return (work / "error.log").read_text(errors="replace")


def _httpd_trigger(containers: ServerContainers, name: str, pid: int, work: Path) -> str:
    # nothing to do: the graceful reload the life makes next starts new children, which seed their random
    # generator with getrandom(), startup-only for httpd (its image's first start made every such call
    # before the first listen())
    return ""


TRIGGERS: dict[str, tuple[Callable[[ServerContainers, str, int, Path], str], set[str], str]] = {
    # Startup-only names come from the templates' recordings (issue 18: from the image's entrypoint on);
    # socket keeps default's conditions on its address family, so it is never phased: bind is, for nginx.
    "redis": (_redis_trigger, {"uname"}, "redis_version"),
    "nginx": (_nginx_trigger, {"socket", "bind"}, "Operation not permitted"),
    "httpd": (_httpd_trigger, {"getrandom"}, ""),
}


@pytest.mark.parametrize("name", sorted(TRIGGERS))
def test_startup_phase_on_a_real_server(name: str, tmp_path: Path) -> None:
    reason = _server_ready(name)
    if reason:
        pytest.skip(reason)
    server = RECIPES.SERVERS[name]
    trigger, calls, message = TRIGGERS[name]
    template = load_template(name)
    assert template.startup is not None, f"{name} has no recorded startup phase (tools/record_phases.py)"
    # the recipe's port, not the image's (a policy or compose --ready says it the same way)
    startup = template.startup.__class__(template.startup.names, Ready(port=server.port), template.startup.timeout)
    agent = AgentProcess("enforce")
    try:
        seccomp = observed("runc", agent.socket, base=name, startup=startup)
        phased = set(json.loads(seccomp["listenerMetadata"])["startup"]["names"])
        assert calls & phased, (calls, sorted(phased))
        containers = ServerContainers(tmp_path / "c", seccomp)
        outcome: list[str] = []
        with workdir(name) as work:
            server.prepare(work)

            def after_ready(container: str, pid: int) -> None:
                # ready and serving: now a startup-only call made by the server itself gets the errno
                outcome.append(trigger(containers, container, pid, work))

            try:
                life(server, work, containers, after_ready)  # starts, serves, reloads, stops cleanly
            finally:
                containers.cleanup()
        assert outcome and message in outcome[0], outcome
        launched = len(containers.ids)
        agent.wait_for(lambda: len(agent.records("stop")) >= launched, timeout=60)  # every event is written
        events = agent.records()
        ready = agent.records("ready")[0]
        continued = [e for e in events if e["phase"] == "startup"]
        refused = [e for e in events if e["syscall"] in calls & phased and e["phase"] == "steady"]
        assert continued and all(e["answer"] == "continue" for e in continued)
        later = [(e["syscall"], e["answer"], e["comm"]) for e in events if e["phase"] != "startup"]
        assert refused, (sorted(set(later)), outcome)
        assert all(e["answer"] == "errno" and e["layers"] == ["phase:startup"] for e in refused), later[-20:]
        # nothing else was refused, but runc's own fchown of the standard streams to a non-root user (runc
        # tolerates EPERM there; the runtime base sets were measured as root)
        others = [e for e in events if e["phase"] == "steady" and e["syscall"] not in phased | deliberate(name)]
        assert not [e for e in others if e["comm"] != "runc:[2:INIT]"], others[:5]
        _report(f"phase_{name}", {
            "phased": len(phased), "startup_calls_continued": len(continued), "ready": ready["reason"],
            "after_s": ready["after"], "refused_after_ready": sorted({e["syscall"] for e in refused}),
        })
    finally:
        agent.cleanup()

"""``seccompose agent`` with the real runc and crun: observed containers, as users run them.

Docker's defaults first: ``noNewPrivileges`` false and Docker's 14 capabilities, the
``default`` template plus a deny of ``mkdir``, composed with ``--observe``. Each
container runs busybox (and a static 32-bit program for ``int 0x80``); the agent runs
as the CLI, on a private socket, writing a private events file.

Also what the runtimes do when the agent is not there (the container does not start)
and when it dies mid-stream (notified calls fail with ENOSYS; nothing hangs).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests._tools import tool
from tests.integration._engines import stop_process

from seccompose import Arch, compose
from seccompose.caps import DOCKER_DEFAULT_CAPABILITIES
from seccompose.formats.oci import dumps
from seccompose.observe import observe

pytestmark = pytest.mark.integration

bundles = tool("make_bundle")


def _why_not(runtime: str) -> str | None:
    if platform.machine() != "x86_64":
        return "the test programs are x86_64 machine code"
    if os.geteuid() != 0:
        return f"{runtime} needs root here"
    if shutil.which(runtime) is None:
        return f"{runtime} is not installed (apt-get install {runtime})"
    if not Path("/bin/busybox").exists():
        return "busybox is not installed (apt-get install busybox-static)"
    return None


RUNTIMES = [
    pytest.param(rt, marks=pytest.mark.skipif(_why_not(rt) is not None, reason=str(_why_not(rt))))
    for rt in ("runc", "crun")
]


class AgentProcess:
    """``seccompose agent`` as a user starts it, on a private socket and events file."""

    def __init__(self, mode: str = "enforce", *extra: str) -> None:
        # unix socket paths must stay under 108 bytes: not under pytest's tmp_path
        self.dir = Path(tempfile.mkdtemp(prefix="sc-agent-", dir="/tmp"))
        self.socket = self.dir / "agent.sock"
        self.events = self.dir / "events.jsonl"
        self.log = self.dir / "agent.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start(mode, *extra)

    def start(self, mode: str = "enforce", *extra: str) -> None:
        cmd = [sys.executable, "-m", "seccompose", "agent", "--socket", str(self.socket), "--events", str(self.events)]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen([*cmd, "--mode", mode, *extra], stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while not self.socket.exists():
            assert self.proc.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, "the agent did not start"
            time.sleep(0.05)

    def records(self, kind: str | None = "syscall", container: str | None = None) -> list[dict[str, Any]]:
        if not self.events.exists():
            return []
        out = []
        for line in self.events.read_text().splitlines():
            if not line.endswith("}"):
                continue
            record = json.loads(line)
            if kind and record["kind"] != kind:
                continue
            if container and record["container"].get("id") != container:
                continue
            out.append(record)
        return out

    def wait_for(self, predicate: Any, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, self.events.read_text() if self.events.exists() else "no events"
            time.sleep(0.05)

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, 15)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def agent() -> Iterator[AgentProcess]:
    a = AgentProcess()
    yield a
    a.cleanup()


def profile(runtime: str, listener: Path | None, *, mode: str | None = None, deny: tuple[str, ...] = ("mkdir",)) -> dict[str, Any]:
    """Docker's defaults: the default template, Docker's capabilities, noNewPrivileges false."""
    p = compose(
        "default",
        arch=Arch.X86_64,
        caps=DOCKER_DEFAULT_CAPABILITIES,
        deny=list(deny),
        runtime=runtime,
        no_new_privileges=False,
    )
    if listener is not None:
        p = observe(p, listener_path=str(listener), runtime=runtime, mode=mode).profile  # type: ignore[arg-type]
    oci: dict[str, Any] = json.loads(dumps(p))
    return oci


def bundle(dest: Path, script: str, seccomp: dict[str, Any]) -> Path:
    b: Path = bundles.make_bundle(
        dest, args=["/bin/sh", "-c", script], seccomp=seccomp, writable=True, no_new_privileges=False
    )
    rootfs = b / "rootfs"
    (rootfs / "mkdir32").write_bytes(bundles.mkdir32_elf("/tmp/x86dir"))
    (rootfs / "mkdir32").chmod(0o755)
    link = rootfs / "bin" / "unshare"
    if not link.is_symlink():
        link.symlink_to("busybox")
    return b


def run(runtime: str, b: Path, cid: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    result: subprocess.CompletedProcess[str] = bundles.run_container(runtime, b, cid, timeout=timeout)
    return result


def start(runtime: str, b: Path, cid: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        bundles.container_command(runtime, b, cid), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def cid() -> str:
    return f"sc17-{uuid.uuid4().hex[:10]}"


SCRIPT = "mkdir /tmp/d; echo mkdir=$?; unshare -U true; echo unshare=$?; /mkdir32; echo mkdir32=$?; echo done"


# --------------------------------------------------------------------------- enforce, complain, int 0x80


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_enforce_gives_the_same_errnos_as_without_the_agent_and_records_each(
    runtime: str, agent: AgentProcess, tmp_path: Path
) -> None:
    plain = run(runtime, bundle(tmp_path / "plain", SCRIPT, profile(runtime, None)), cid())
    name = cid()
    seen = run(runtime, bundle(tmp_path / "seen", SCRIPT, profile(runtime, agent.socket)), name)
    # the container sees no difference: same output, same messages (EPERM), same exit
    assert plain.stdout == seen.stdout == "mkdir=1\nunshare=1\nmkdir32=1\ndone\n", (plain, seen)
    assert plain.returncode == seen.returncode == 0
    assert plain.stderr.count("Operation not permitted") == seen.stderr.count("Operation not permitted") == 2
    assert not (tmp_path / "seen" / "rootfs" / "tmp" / "d").exists()
    agent.wait_for(lambda: len(agent.records(container=name)) == 3)
    events = agent.records(container=name)
    assert [(e["abi"], e["syscall"], e["nr"]) for e in events] == [
        ("x86_64", "mkdir", 83),
        ("x86_64", "unshare", 272),
        ("x86", "mkdir", 39),  # the 32-bit program's int 0x80 call, named from the i386 table
    ]
    assert {(e["answer"], e["errno"], e["errnoName"], e["mode"]) for e in events} == {("errno", 1, "EPERM", "enforce")}
    assert [e["layers"] for e in events] == [["deny"], ["default action"], ["deny"]]
    assert [e["comm"] for e in events] == ["mkdir", "unshare", "mkdir32"]
    assert events[2]["exe"] == "/mkdir32"
    assert all(e["container"]["id"] == name for e in events)
    assert agent.records("start", name) and agent.records("stop", name)[0]["errno"] == 3


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_complain_lets_mkdir_run_and_records_it(runtime: str, tmp_path: Path) -> None:
    a = AgentProcess("complain")
    try:
        name = cid()
        b = bundle(tmp_path / "b", "mkdir /tmp/d && echo made; /mkdir32; echo mkdir32=$?", profile(runtime, a.socket))
        p = run(runtime, b, name)
        assert p.returncode == 0, p.stderr
        assert p.stdout == "made\nmkdir32=0\n"
        assert (b / "rootfs" / "tmp" / "d").is_dir() and (b / "rootfs" / "tmp" / "x86dir").is_dir()
        a.wait_for(lambda: len(a.records(container=name)) == 2)
        events = a.records(container=name)
        assert [(e["abi"], e["syscall"], e["answer"], e["mode"]) for e in events] == [
            ("x86_64", "mkdir", "continue", "complain"),
            ("x86", "mkdir", "continue", "complain"),
        ]
    finally:
        a.cleanup()


# --------------------------------------------------------------------------- the agent absent or dying


@pytest.mark.parametrize("stale", [False, True], ids=["no-socket", "stale-socket"])
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_without_the_agent_the_container_does_not_start(runtime: str, stale: bool, tmp_path: Path) -> None:
    where = Path(tempfile.mkdtemp(prefix="sc-none-", dir="/tmp"))
    try:
        listener = where / "agent.sock"
        if stale:  # a socket file left by an agent that died: nobody accepts on it
            import socket

            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(str(listener))
            s.close()
        b = bundle(tmp_path / "b", "touch /tmp/started; echo started", profile(runtime, listener))
        p = run(runtime, b, cid())
        assert p.returncode != 0
        assert "started" not in p.stdout
        assert not (b / "rootfs" / "tmp" / "started").exists()  # the container's process never ran
        expected = "failed to connect with seccomp agent" if runtime == "runc" else "open seccomp receiver"
        assert expected in p.stderr, p.stderr
    finally:
        shutil.rmtree(where, ignore_errors=True)


LOOP = (
    "i=0; while [ $i -lt 60 ]; do mkdir /tmp/d 2>>/tmp/errors; i=$((i+1)); "
    "[ -e /tmp/go ] || sleep 0.05; done; echo finished"
)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_agent_killed_mid_stream_later_calls_fail_with_enosys_and_nothing_hangs(
    runtime: str, agent: AgentProcess, tmp_path: Path
) -> None:
    name = cid()
    b = bundle(tmp_path / "b", LOOP, profile(runtime, agent.socket))
    proc = start(runtime, b, name)
    try:
        agent.wait_for(lambda: len(agent.records(container=name)) >= 5)
        agent.signal(signal.SIGKILL)
        (b / "rootfs" / "tmp" / "go").touch()
        out, err = proc.communicate(timeout=60)  # no hang
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        subprocess.run([runtime, "delete", "-f", name], capture_output=True, check=False)
    assert proc.returncode == 0, err
    assert out.strip() == "finished"
    errors = (b / "rootfs" / "tmp" / "errors").read_text().splitlines()
    assert len(errors) == 60
    first = errors.index(next(e for e in errors if "Function not implemented" in e))
    assert first >= 5
    assert all("Operation not permitted" in e for e in errors[:first])  # answered by the agent
    assert all("Function not implemented" in e for e in errors[first:])  # the kernel, without a listener
    assert not (b / "rootfs" / "tmp" / "d").exists()  # refused all along: it fails closed


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_call_waiting_when_the_agent_dies_fails_with_enosys(
    runtime: str, agent: AgentProcess, tmp_path: Path
) -> None:
    name = cid()
    script = "mkdir /tmp/a; echo first=$?; while [ ! -e /tmp/go ]; do sleep 0.05; done; mkdir /tmp/b; echo second=$?"
    b = bundle(tmp_path / "b", script, profile(runtime, agent.socket, mode="complain"))
    proc = start(runtime, b, name)
    try:
        agent.wait_for(lambda: len(agent.records(container=name)) == 1)
        agent.signal(signal.SIGSTOP)  # the agent hangs ...
        (b / "rootfs" / "tmp" / "go").touch()
        time.sleep(1)
        assert proc.poll() is None  # ... so the second mkdir waits in the kernel
        agent.signal(signal.SIGKILL)  # the agent dies: the waiting call is answered ENOSYS
        out, err = proc.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        subprocess.run([runtime, "delete", "-f", name], capture_output=True, check=False)
    assert out == "first=0\nsecond=1\n", (out, err)
    assert "Function not implemented" in err
    assert (b / "rootfs" / "tmp" / "a").is_dir() and not (b / "rootfs" / "tmp" / "b").exists()


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_runtime_restrictions_on_notify(runtime: str, agent: AgentProcess, tmp_path: Path) -> None:
    """runc refuses NOTIFY as the default action and on write; crun 1.8.1 accepts both (measured)."""
    from seccompose.observe import Metadata

    base = {
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "listenerPath": str(agent.socket),
        "listenerMetadata": Metadata(mode="complain").to_json(),  # the agent lets every notified call run
    }
    allow_read = [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]
    as_default = {**base, "defaultAction": "SCMP_ACT_NOTIFY", "syscalls": allow_read}
    on_write = {**base, "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["write"], "action": "SCMP_ACT_NOTIFY"}]}
    results = {}
    for label, seccomp in (("default", as_default), ("write", on_write)):
        b = bundles.make_bundle(tmp_path / label, args=["/exit42"], seccomp=seccomp, no_new_privileges=False)
        results[label] = run(runtime, b, cid())
    if runtime == "runc":
        assert results["default"].returncode == 1
        assert "SCMP_ACT_NOTIFY cannot be used as default action" in results["default"].stderr
        assert results["write"].returncode == 1
        assert "SCMP_ACT_NOTIFY cannot be used for the write syscall" in results["write"].stderr
    else:
        # crun loads both, and hands every such call to the agent (here: complain, so they run)
        assert results["default"].returncode == bundles.EXIT42_STATUS, results["default"].stderr
        assert results["write"].returncode == bundles.EXIT42_STATUS, results["write"].stderr
        assert agent.records()  # crun's own calls after loading the filter went through the agent


# --------------------------------------------------------------------------- where no agent can run


def _audit_records(marker: str) -> list[str]:
    """Kernel audit records of seccomp (type=1326) from the kernel log that name ``marker``'s executable."""
    out = subprocess.run(["dmesg"], capture_output=True, text=True, check=False).stdout
    return [line for line in out.splitlines() if "type=1326" in line and marker in line]


@pytest.mark.parametrize(
    ("runtime", "how", "code", "made"),
    [
        pytest.param(RUNTIMES[1].values[0], "errno", "code=0x50000", False, marks=RUNTIMES[1].marks, id="crun-errno"),
        pytest.param(RUNTIMES[0].values[0], "allow", "code=0x7ffc0000", True, marks=RUNTIMES[0].marks, id="runc-allow"),
    ],
)
def test_log_refusals_leave_audit_records_that_learn_reads(
    runtime: str, how: str, code: str, made: bool, tmp_path: Path
) -> None:
    from seccompose.cli import main
    from seccompose.observe import log_refusals

    if shutil.which("dmesg") is None:
        pytest.skip("dmesg (util-linux) is not installed")
    p = compose("default", arch=Arch.X86_64, caps=DOCKER_DEFAULT_CAPABILITIES, deny=["mkdir"], runtime=runtime,
                no_new_privileges=False)  # fmt: skip
    seccomp = json.loads(dumps(log_refusals(p, how=how)))  # type: ignore[arg-type]
    marker = f"/x{uuid.uuid4().hex[:8]}/busybox"  # an executable only this test's records name (exe=...)
    b = bundle(tmp_path / "b", f"{marker} mkdir /tmp/d; echo rc=$?", seccomp)
    (b / "rootfs" / marker.lstrip("/")).parent.mkdir()
    shutil.copy2("/bin/busybox", b / "rootfs" / marker.lstrip("/"))
    records: list[str] = []
    for attempt in range(3):  # printk's rate limit (10 records per 5 s) is shared with the whole machine
        p_run = run(runtime, b, cid())
        assert p_run.returncode == 0, p_run.stderr
        assert p_run.stdout == ("rc=0\n" if made else "rc=1\n")
        records = [r for r in _audit_records(marker) if code in r]
        if records:
            break
        time.sleep(5 * (attempt + 1))
    assert records, "no audit record (is auditd taking them? then they are in /var/log/audit/audit.log)"
    trace = tmp_path / "kernel.log"
    trace.write_text("\n".join(records) + "\n")
    template = tmp_path / "learned.json"
    assert main(["learn", str(trace), "--kind", "audit", "--program", "mkdir", "-o", str(template)]) == 0
    assert "mkdir" in json.loads(template.read_text())["rules"][0]["names"]

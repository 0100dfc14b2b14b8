"""The agent against the real kernel, with a stand-in runtime whose timing the test controls.

A forked child loads the observed profile's filter with ``SECCOMP_FILTER_FLAG_NEW_LISTENER``
(compiled by libseccomp, as runc compiles it), hands the listener to the agent the way
crun does (container state JSON + ``SCM_RIGHTS`` on ``listenerPath``, from the
container's side), closes its own copy, then makes the syscalls the test asks for, one
at a time. The agent runs in this process, one ``serve_once`` at a time, so faults land
exactly where a test puts them: a caller killed between ``RECV`` and the answer, a
signal while the call waits, a sink nobody reads, a peer of the wrong uid.
"""

from __future__ import annotations

import array
import contextlib
import ctypes
import errno
import io
import json
import os
import platform
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from seccompose import Action, Arch, Profile, Rule
from seccompose.formats.oci import dumps
from seccompose.integrations import notify
from seccompose.integrations.agent import Agent
from seccompose.integrations.sink import EventSink
from seccompose.observe import Metadata, observe
from seccompose.phases import Ready, Startup

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(platform.machine() != "x86_64", reason="syscall numbers below are x86_64's"),
]
pytest.importorskip("pyseccomp", reason="the 'check' extra (pyseccomp + libseccomp.so.2) is not installed")

NR_MKDIR = 83
NR_GETPPID = 110
_LIBC = ctypes.CDLL(None, use_errno=True)


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def refusing(*names: str, errno_ret: int = errno.EPERM) -> Profile:
    """Allow everything but ``names`` (so the child's Python keeps working), which get ``errno_ret``."""
    return Profile(
        default_action=Action.ALLOW,
        architectures=(Arch.X86_64, Arch.X86, Arch.X32),
        rules=(Rule(names, Action.ERRNO, errno_ret),),
    )


class Target:
    """A child process under an observed filter: ``call(nr, *args)`` makes one syscall there and returns -errno/ret."""

    def __init__(
        self, oci: dict[str, Any], socket_path: Path, cid: str, *, fds: list[str] | None = None, restart: bool = True
    ) -> None:
        self.restart = restart
        from seccompose.check import compile_bpf

        bpf = compile_bpf(oci)
        self.cmd_r, self.cmd_w = os.pipe()
        self.res_r, self.res_w = os.pipe()
        state = {
            "ociVersion": "1.0.2",
            "fds": fds if fds is not None else ["seccompFd"],
            "pid": 0,
            "metadata": oci.get("listenerMetadata", ""),
            "state": {"ociVersion": "1.0.2", "id": cid, "status": "creating", "pid": 0, "bundle": "/b"},
        }
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            code = 0
            try:
                self._child(bpf, socket_path, state)
            except BaseException as exc:
                os.write(self.res_w, f"error {exc!r}\n".encode())
                code = 99
            os._exit(code)
        self.pid = pid
        os.close(self.cmd_r)
        os.close(self.res_w)

    def _child(self, bpf: bytes, socket_path: Path, state: dict[str, Any]) -> None:  # pragma: no cover
        os.close(self.cmd_w)
        os.close(self.res_r)
        # The parent (pytest) may handle signals of its own: give the child a known disposition.
        for sig in (signal.SIGWINCH, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGUSR1, lambda *_: None)
        signal.siginterrupt(signal.SIGUSR1, not self.restart)
        n = len(bpf) // 8
        prog = _Fprog(n, (_SockFilter * n).from_buffer_copy(bpf))
        _LIBC.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
        listener = _LIBC.syscall(317, 1, 8, ctypes.byref(prog))  # seccomp(SET_MODE_FILTER, NEW_LISTENER)
        if listener < 0:
            os.write(self.res_w, b"load %d\n" % ctypes.get_errno())
            return
        state["pid"] = state["state"]["pid"] = os.getpid()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(str(socket_path))
        fds = [listener] * len(state["fds"])
        rights = array.array("i", fds).tobytes()
        sock.sendmsg([json.dumps(state).encode()], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, rights)])
        os.close(listener)
        os.write(self.res_w, b"ready\n")
        f = os.fdopen(self.cmd_r, "rb")
        for line in f:
            nr, *words = line.decode().split()
            args = [ctypes.c_char_p(w[1:].encode()) if w.startswith("/") else ctypes.c_long(int(w)) for w in words]
            ret = _LIBC.syscall(int(nr), *args)
            result = -ctypes.get_errno() if ret == -1 else ret
            os.write(self.res_w, b"%d\n" % result)
        sock.close()

    def ready(self) -> str:
        return self._line(10)

    def send(self, nr: int, *args: int | str) -> None:
        """Ask for one syscall; a str argument is passed as a pointer to that string (in the child)."""
        words = [f"/{a}" if isinstance(a, str) else str(a) for a in (nr, *args)]
        os.write(self.cmd_w, (" ".join(words) + "\n").encode())

    def _line(self, timeout: float) -> str:
        out = b""
        deadline = time.monotonic() + timeout
        while not out.endswith(b"\n"):
            if time.monotonic() > deadline:
                raise TimeoutError(out)
            import select

            if select.select([self.res_r], [], [], 0.05)[0]:
                chunk = os.read(self.res_r, 1)
                if not chunk:
                    raise EOFError(out)
                out += chunk
        return out.decode().strip()

    def result(self, timeout: float = 10) -> int:
        return int(self._line(timeout))

    def close(self) -> int:
        with contextlib.suppress(OSError):
            os.close(self.cmd_w)
        _, status = os.waitpid(self.pid, 0)
        os.close(self.res_r)
        return status

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)


class Run:
    """An agent in this process, served by a thread or step by step."""

    def __init__(self, tmp: Path, *, mode: str = "enforce", capacity: int = 65536, stream: Any = None) -> None:
        self.dir = tmp
        self.socket = tmp / "a.sock"
        self.events = tmp / "events.jsonl"
        self.sink = EventSink(None if stream else self.events, capacity=capacity, stream=stream)
        self.sink.start()
        self.log = io.StringIO()
        self.agent = Agent(self.socket, self.sink, mode=mode, log=self.log)  # type: ignore[arg-type]
        self.agent.open()
        self.thread: threading.Thread | None = None

    def until(self, predicate: Any, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, "timed out"
            self.agent.serve_once(0.02)

    def start(self) -> None:
        self.thread = threading.Thread(target=self.agent.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> list[dict[str, Any]]:
        if self.thread is not None:
            self.agent.stop()
            self.thread.join(10)
        else:
            self.agent.close()
        self.sink.close()
        if self.events.exists():
            return [json.loads(line) for line in self.events.read_text().splitlines()]
        return []

    def target(self, profile: Profile | dict[str, Any], cid: str, **kw: Any) -> Target:
        oci: dict[str, Any] = profile if isinstance(profile, dict) else json.loads(dumps(profile))
        t = Target(oci, self.socket, cid, **kw)
        if self.thread is None:
            self.until(lambda: cid in self.agent._containers or self.agent.counts["errors"])
        assert t.ready() == "ready"
        return t


@pytest.fixture
def tmp() -> Iterator[Path]:
    # unix socket paths must stay under 108 bytes: pytest's tmp_path can be longer
    with tempfile.TemporaryDirectory(prefix="sc-agent-", dir="/tmp") as d:
        yield Path(d)


def observed(profile: Profile, socket_path: Path, **kw: Any) -> dict[str, Any]:
    oci: dict[str, Any] = json.loads(dumps(observe(profile, listener_path=str(socket_path), **kw).profile))
    return oci


def syscalls(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r["kind"] == "syscall"]


# --------------------------------------------------------------------------- answers


def test_enforce_answers_the_profiles_errno_and_records_the_caller(tmp: Path) -> None:
    run = Run(tmp)
    t = run.target(observed(refusing("mkdir", errno_ret=errno.EACCES), run.socket), "c-enforce")
    path = tmp / "made"
    t.send(NR_MKDIR, str(path), 0o755)
    run.until(lambda: run.agent.counts["notifications"] == 1)
    assert t.result() == -errno.EACCES
    assert t.close() == 0
    run.until(lambda: not run.agent._containers)
    records = run.stop()
    [event] = syscalls(records)
    assert event["container"] == {"id": "c-enforce"}
    assert (event["syscall"], event["abi"], event["nr"], event["answer"], event["errno"]) == (
        "mkdir", "x86_64", NR_MKDIR, "errno", errno.EACCES,
    )
    assert event["pid"] == t.pid and event["comm"] and event["exe"].endswith(("python3", "python3.11", "python"))
    assert event["mode"] == "enforce" and event["phase"] == "steady"
    assert event["allow"] == {"names": ["mkdir"], "action": "SCMP_ACT_ALLOW"}
    assert not path.exists()
    stop = [r for r in records if r["kind"] == "stop"]
    assert stop and stop[0]["notifications"] == 1 and stop[0]["errno"] == 1


def test_complain_lets_the_call_run(tmp: Path) -> None:
    run = Run(tmp, mode="complain")
    t = run.target(observed(refusing("mkdir"), run.socket), "c-complain")
    path = tmp / "made"
    t.send(NR_MKDIR, str(path), 0o755)
    run.until(lambda: run.agent.counts["notifications"] == 1)
    assert t.result() == 0
    assert path.is_dir()
    t.close()
    [event] = syscalls(run.stop())
    assert (event["answer"], event["mode"]) == ("continue", "complain")


def test_the_profile_can_name_its_own_mode(tmp: Path) -> None:
    run = Run(tmp, mode="enforce")
    t = run.target(observed(refusing("getppid"), run.socket, mode="complain"), "c-own-mode")
    t.send(NR_GETPPID)
    run.until(lambda: run.agent.counts["notifications"] == 1)
    assert t.result() == os.getpid()  # it ran
    t.close()
    assert syscalls(run.stop())[0]["mode"] == "complain"


def test_no_metadata_is_answered_with_eperm_even_in_complain_mode(tmp: Path) -> None:
    run = Run(tmp, mode="complain")
    oci = observed(refusing("getppid"), run.socket)
    del oci["listenerMetadata"]
    t = run.target(oci, "c-foreign")
    t.send(NR_GETPPID)
    run.until(lambda: run.agent.counts["notifications"] == 1)
    assert t.result() == -errno.EPERM
    t.close()
    records = run.stop()
    assert syscalls(records)[0]["answer"] == "errno"
    assert any(r["kind"] == "error" and "no listenerMetadata" in r["message"] for r in records)


# --------------------------------------------------------------------------- faults


def test_a_caller_killed_before_the_answer_is_gone_and_the_agent_goes_on(tmp: Path) -> None:
    class Killing(Agent):
        def _proc(self, fd: int, n: notify.Notification) -> tuple[str | None, str | None]:
            os.kill(n.pid, signal.SIGKILL)  # the caller dies between RECV and the answer
            os.waitpid(n.pid, 0)  # ... and is reaped: its pid is free for reuse
            return super()._proc(fd, n)

    run = Run(tmp)
    run.agent.close()
    run.agent = killing = Killing(run.socket.with_name("b.sock"), run.sink, log=run.log)
    run.socket = run.socket.with_name("b.sock")
    run.agent.open()
    t = run.target(observed(refusing("getppid"), run.socket), "c-gone")
    t.send(NR_GETPPID)
    run.until(lambda: run.agent.counts["notifications"] == 1)
    run.until(lambda: not run.agent._containers)  # the listener hung up: the container is gone
    # the agent still answers the next container
    killing.__class__ = Agent  # type: ignore[assignment]
    t2 = run.target(observed(refusing("getppid"), run.socket), "c-next")
    t2.send(NR_GETPPID)
    run.until(lambda: run.agent.counts["notifications"] == 2)
    assert t2.result() == -errno.EPERM
    t2.close()
    records = run.stop()
    gone = [r for r in syscalls(records) if r["container"]["id"] == "c-gone"]
    assert [r["answer"] for r in gone] == ["gone"]
    assert gone[0]["comm"] == ""  # nothing read from a /proc entry that may be another process now
    assert run.agent.counts["errors"] == 0


def test_a_signal_while_waiting_restarts_the_call_as_a_new_notification(tmp: Path) -> None:
    run = Run(tmp)
    t = run.target(observed(refusing("getppid"), run.socket), "c-signal", restart=True)
    t.send(NR_GETPPID)
    time.sleep(0.2)  # the call now waits in the kernel; nobody has read it
    os.kill(t.pid, signal.SIGUSR1)  # handled with SA_RESTART: the wait is interrupted, the call restarted
    time.sleep(0.2)
    run.until(lambda: run.agent.counts["notifications"] >= 1)
    assert t.result() == -errno.EPERM
    t.close()
    records = run.stop()
    assert [r["answer"] for r in syscalls(records)] == ["errno"]  # one call, one event


def test_a_signal_without_sa_restart_fails_the_call_with_eintr_before_the_agent_sees_it(tmp: Path) -> None:
    run = Run(tmp)
    t = run.target(observed(refusing("getppid"), run.socket), "c-eintr", restart=False)
    t.send(NR_GETPPID)
    time.sleep(0.2)
    os.kill(t.pid, signal.SIGUSR1)
    assert t.result() == -errno.EINTR  # the call did not run; the notification was withdrawn unread
    for _ in range(10):
        run.agent.serve_once(0.02)
    t.close()
    run.until(lambda: not run.agent._containers)
    records = run.stop()
    assert syscalls(records) == []
    assert [r["notifications"] for r in records if r["kind"] == "stop"] == [0]


def test_the_agent_dying_fails_waiting_and_later_calls_with_enosys(tmp: Path) -> None:
    run = Run(tmp, mode="complain")
    t = run.target(observed(refusing("getppid"), run.socket), "c-dies")
    t.send(NR_GETPPID)
    time.sleep(0.2)  # waiting for an answer that will never come ...
    run.agent.close()  # ... the agent goes away: its listener is closed
    assert t.result(timeout=5) == -errno.ENOSYS  # no hang, and the call did not run
    t.send(NR_GETPPID)
    assert t.result(timeout=5) == -errno.ENOSYS  # later calls too, even in complain mode
    t.close()
    run.sink.close()


def test_a_slow_sink_never_delays_an_answer(tmp: Path) -> None:
    r, w = os.pipe()  # a reader that never reads: the writer thread blocks once the pipe is full
    stream = os.fdopen(w, "wb", buffering=0)
    run = Run(tmp, capacity=100, stream=stream)
    run.start()
    t = run.target(observed(refusing("getppid"), run.socket), "c-slow")
    started = time.monotonic()
    calls = 3000
    for _ in range(calls):
        t.send(NR_GETPPID)
        assert t.result() == -errno.EPERM
    elapsed = time.monotonic() - started
    assert run.sink.dropped > 0  # the sink fell behind: records were dropped, not answers delayed
    assert run.agent.counts["notifications"] == calls
    # drain the pipe: the writer catches up and says what it dropped
    out = bytearray()

    def drain() -> None:
        while chunk := os.read(r, 1 << 16):
            out.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    t.close()
    run.agent.stop()
    assert run.thread is not None
    run.thread.join(10)
    run.sink.close()
    stream.close()
    reader.join(10)
    lines = [json.loads(x) for x in out.decode().splitlines()]
    counts = [c for line in lines if line["kind"] == "dropped" for c in line["counts"]]
    dropped = sum(c["count"] for c in counts if c["syscall"] == "getppid")
    seen = sum(1 for line in lines if line["kind"] == "syscall")
    assert seen + dropped == calls  # every call is an event or a counted drop
    assert sum(c["count"] for c in counts) == run.sink.dropped
    assert elapsed < 30, elapsed


def test_a_peer_with_another_uid_is_refused(tmp: Path) -> None:
    run = Run(tmp)
    run.socket.chmod(0o666)  # so that the other uid reaches the agent's check at all
    tmp.chmod(0o755)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.setuid(65534)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(str(run.socket))
            s.sendall(b'{"fds": []}')
        except OSError:
            pass
        os._exit(0)
    os.waitpid(pid, 0)
    run.until(lambda: run.agent.counts["refused_peers"] == 1)
    run.stop()


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (b'{"ociVersion": "1", "fds": []}', "no seccompFd"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"ociVersion": "1", "fds": ["seccompFd"', "closed the connection"),
    ],
)
def test_malformed_states_are_errors_not_crashes(tmp: Path, payload: bytes, fragment: str) -> None:
    run = Run(tmp)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(run.socket))
    s.sendall(payload)
    s.close()
    run.until(lambda: run.agent.counts["errors"] >= 1 or run.agent.sink.written + len(run.agent.sink._queue) > 0)
    records = run.stop()
    assert any(r["kind"] == "error" and fragment in r["message"] for r in records), records


def test_a_silent_peer_times_out(tmp: Path) -> None:
    run = Run(tmp)
    run.agent.conn_timeout = 0.5
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(run.socket))
    run.until(lambda: run.agent._conns)
    run.until(lambda: not run.agent._conns, timeout=10)
    s.close()
    assert any("no whole container state" in r.get("message", "") for r in run.stop())


# --------------------------------------------------------------------------- phases


def test_startup_phase_continues_until_ready_then_refuses(tmp: Path) -> None:
    run = Run(tmp)
    flag = tmp / "ready-flag"
    profile = Profile(
        default_action=Action.ALLOW, architectures=(Arch.X86_64,), rules=()
    )
    meta = Metadata(errno=errno.EPERM, startup=Startup(("getppid",), Ready(file=str(flag))))
    oci = json.loads(dumps(profile))
    oci.update(
        listenerPath=str(run.socket),
        listenerMetadata=meta.to_json(),
        syscalls=[{"names": ["getppid"], "action": "SCMP_ACT_NOTIFY"}],
    )
    t = run.target(oci, "c-phase")
    t.send(NR_GETPPID)
    run.until(lambda: run.agent.counts["notifications"] == 1)
    assert t.result() == os.getpid()  # startup: it runs
    flag.touch()  # the container is ready (a file in its root: here the host's, as the child shares it)
    run.until(lambda: all(c.ready for c in run.agent._containers.values()))
    t.send(NR_GETPPID)
    run.until(lambda: run.agent.counts["notifications"] == 2)
    assert t.result() == -errno.EPERM  # steady state: the errno
    # a process started in the running container (docker exec, a healthcheck) keeps the whole template
    execd = run.target(oci, "c-phase")
    execd.send(NR_GETPPID)
    run.until(lambda: run.agent.counts["notifications"] == 3)
    assert execd.result() == os.getpid()
    execd.close()
    t.close()
    records = run.stop()
    assert [(r["phase"], r["answer"]) for r in syscalls(records)] == [
        ("startup", "continue"), ("steady", "errno"), ("exec", "continue"),
    ]
    assert [r["reason"] for r in records if r["kind"] == "ready"] == [f"file {flag} exists"]
    assert syscalls(records)[1]["layers"] == ["phase:startup"]


def test_startup_phase_ends_on_a_listening_port_or_the_timeout(tmp: Path) -> None:
    run = Run(tmp)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    port = server.getsockname()[1]
    quiet = socket.socket()  # bound, never listening: its port never gets ready
    quiet.bind(("127.0.0.1", 0))
    never = quiet.getsockname()[1]
    base = Profile(default_action=Action.ALLOW, architectures=(Arch.X86_64,))
    for i, (cid, ready, timeout) in enumerate((("c-port", Ready(port=port), 300.0), ("c-timeout", Ready(port=never), 0.5))):
        oci = json.loads(dumps(base))
        meta = Metadata(startup=Startup(("getppid",), ready, timeout))
        oci.update(
            listenerPath=str(run.socket),
            listenerMetadata=meta.to_json(),
            syscalls=[{"names": ["getppid"], "action": "SCMP_ACT_NOTIFY"}],
        )
        t = run.target(oci, cid)
        if cid == "c-port":
            server.listen()  # the port now listens in the child's network namespace (the host's)
        run.until(lambda: all(c.ready for c in run.agent._containers.values()))
        t.send(NR_GETPPID)
        run.until(lambda i=i: run.agent.counts["notifications"] == i + 1)
        assert t.result() == -errno.EPERM
        t.close()
        run.until(lambda: not run.agent._containers)
    server.close()
    quiet.close()
    reasons = [r["reason"] for r in run.stop() if r["kind"] == "ready"]
    assert reasons == [f"TCP port {port} listening", f"timeout (0.5s) before TCP port {never} listening"]


def test_learn_mode_keeps_what_each_image_needed(tmp: Path) -> None:
    run = Run(tmp, mode="learn")
    run.agent.learned_path = tmp / "learned.json"
    run.start()
    profile = refusing("getppid", "getpgrp")
    for cid in ("c-learn-1", "c-learn-2"):  # two containers of one image
        t = run.target(observed(profile, run.socket, container={"image": "app:1"}), cid)
        for nr in (NR_GETPPID, NR_GETPPID, 111):  # getppid twice, getpgrp once
            t.send(nr)
            assert t.result() >= 0  # learn mode lets the calls run
        t.close()
    deadline = time.monotonic() + 10
    while run.agent._containers and time.monotonic() < deadline:
        time.sleep(0.05)
    records = run.stop()
    learned = [(r["container"]["image"], r["syscall"]) for r in records if r["kind"] == "learned"]
    assert learned == [("app:1", "getppid"), ("app:1", "getpgrp")]  # once per image and syscall
    assert len(syscalls(records)) == 6  # every call is still an event
    doc = json.loads((tmp / "learned.json").read_text())
    assert [e["syscall"] for e in doc["images"]["app:1"]] == ["getpgrp", "getppid"]

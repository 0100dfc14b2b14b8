"""``seccompose agent``: receives runc's and crun's seccomp listeners, records and answers every notified syscall.

Three parts, as kinvolk's seccompagent has them:

- the **listener** accepts the runtime's connection on ``listenerPath`` and reads the
  container process state (JSON: ``ociVersion``, ``fds``, ``pid``, ``metadata``,
  ``state`` with ``id``, ``pid``, ``bundle``, ``annotations``) and the listener fd
  (``SCM_RIGHTS``; its index is the one ``fds`` names ``seccompFd``). runc 1.1.5 sends
  from its parent process once the filter is loaded and keeps the connection open; crun
  1.8.1 sends from the container process. Neither waits for an answer;
- the **resolver** turns that state into the container's answering rules: the
  ``listenerMetadata`` that :func:`seccompose.observe.observe` wrote (errno per refusal,
  layers, startup phase, mode), its name and image (metadata first, then the
  annotations containerd's CRI plugin writes). State without seccompose metadata is
  answered with ``--unknown-errno`` (EPERM), whatever the mode: it fails closed;
- the **handler** answers each notification: ``RECV``; opens ``/proc/PID``; checks with
  ``ID_VALID`` that the caller still waits (so the directory is the caller's, not a
  process that reused its pid); reads ``comm`` and ``exe`` through it; ``SEND``s the
  answer (the errno in enforce mode, ``CONTINUE`` in complain and learn mode and during a
  startup phase); and queues the event for the sink (:mod:`seccompose.integrations.sink`),
  which never blocks the answer.

One thread answers every container (one ``epoll`` over every listener); the sink writes
from its own thread. ``SIGTERM``/``SIGINT`` stop the agent (its listeners close: the
kernel then fails every notified call of those containers with ENOSYS), ``SIGHUP``
reopens the events file.
"""

from __future__ import annotations

import array
import contextlib
import json
import os
import select
import signal
import socket
import stat
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

from seccompose._reader import parse_json
from seccompose.actions import EPERM, errno_name
from seccompose.arch import Arch, host_arch
from seccompose.errors import FormatError, SeccomposeError
from seccompose.events import SCHEMA
from seccompose.integrations import notify
from seccompose.integrations.sink import EventSink
from seccompose.observe import MODES, Metadata, Mode
from seccompose.phases import Ready

__all__ = ["Agent", "AgentError", "port_listening"]

_STATE_LIMIT: Final = 1 << 20
_MAX_FDS: Final = 16
_CONN_TIMEOUT: Final = 5.0
_MAX_CONNS: Final = 256
_READY_CACHE: Final = 0.02
_X32_BIT: Final = 0x40000000
_LEARN_IMAGES: Final = 256
_LEARN_ENTRIES: Final = 2048
_NAMES_KEPT: Final = 8192
_FIXED_KEPT: Final = 1024
_NARROW: Final = frozenset({"x86", "x32", "arm"})
"""ABIs whose filters libseccomp builds comparing 32-bit argument halves."""

_CRI_NAME: Final = ("io.kubernetes.cri.container-name", "io.kubernetes.container.name", "nerdctl/name")
_CRI_IMAGE: Final = ("io.kubernetes.cri.image-name", "org.opencontainers.image.ref.name")
_CRI_POD: Final = ("io.kubernetes.cri.sandbox-name", "io.kubernetes.pod.name")
_CRI_NAMESPACE: Final = ("io.kubernetes.cri.sandbox-namespace", "io.kubernetes.pod.namespace")


class AgentError(SeccomposeError, OSError):
    """The agent cannot start (its socket is taken, or not a socket path it may use)."""


def port_listening(pid: int, port: int) -> bool:
    """Whether a TCP socket listens on ``port`` in the network namespace of process ``pid``.

    >>> port_listening(os.getpid(), 1) in (True, False)
    True
    """
    for name in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{name}", "rb") as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split(None, 4)
            if len(parts) > 3 and parts[3] == b"0A" and int(parts[1].rsplit(b":", 1)[1], 16) == port:
                return True
    return False


class _Container:
    """One container: what answers its calls, what it was told, and what it did."""

    __slots__ = (
        "bundle",
        "counts",
        "fixed",
        "id",
        "info",
        "info_json",
        "init_pid",
        "listeners",
        "meta",
        "mode",
        "ready",
        "ready_at",
        "ready_checked",
        "started",
        "startup",
        "unknown",
    )  # fmt: skip

    def __init__(self, cid: str, meta: Metadata, mode: Mode, info: dict[str, str], init_pid: int, bundle: str) -> None:
        self.id = cid
        self.meta = meta
        self.mode = mode
        self.info = info
        self.info_json = _dumps(info)
        self.fixed: dict[str, tuple[str, dict[str, Any] | None]] = {}
        """Per syscall without argument conditions: the end of its event line (layers, allow), and its rule."""
        self.init_pid = init_pid
        self.bundle = bundle
        self.listeners = 0
        self.started = time.monotonic()
        self.startup = frozenset(meta.startup.names) if meta.startup else frozenset()
        self.ready = not self.startup
        self.ready_at = 0.0
        self.ready_checked = 0.0
        self.unknown = False
        self.counts = {"notifications": 0, "errno": 0, "continue": 0, "gone": 0, "withdrawn": 0}


@dataclass(slots=True)
class _Listener:
    fd: int
    container: _Container
    pid: int
    exec: bool = False
    """A process started in a running container (``runc exec``, ``docker exec``, a healthcheck), not its init."""


class _Conn:
    __slots__ = ("data", "deadline", "fds", "peer", "sock")

    def __init__(self, sock: socket.socket, peer: tuple[int, int, int], timeout: float) -> None:
        self.sock = sock
        self.peer = peer
        self.data = bytearray()
        self.fds: list[int] = []
        self.deadline = time.monotonic() + timeout


def _close_fds(fds: list[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


class Agent:
    """The agent: one socket for the runtimes, one epoll over every container's listener.

    Args:
        socket_path: where runc and crun connect (``listenerPath``); created 0600.
        sink: where events go.
        mode: the answer for containers whose metadata names no mode.
        unknown_errno: the answer for listeners without seccompose metadata (any mode).
        learned_path: in learn mode, where the per-image needs are kept (JSON, rewritten atomically).
        peer_uids: the uids allowed to hand over listeners (default: root and the agent's own).
        log: where the agent's own JSON-lines log goes.
    """

    def __init__(
        self,
        socket_path: str | Path,
        sink: EventSink,
        *,
        mode: Mode = "enforce",
        unknown_errno: int = EPERM,
        learned_path: str | Path | None = None,
        peer_uids: frozenset[int] | None = None,
        log: IO[str] | None = None,
    ) -> None:
        if mode not in MODES:
            raise AgentError(f"mode {mode!r} is not one of {', '.join(MODES)}")
        self.socket_path = Path(socket_path)
        self.sink = sink
        self.mode: Mode = mode
        self.unknown_errno = unknown_errno
        self.learned_path = Path(learned_path) if learned_path else None
        self.peer_uids = peer_uids if peer_uids is not None else frozenset({0, os.geteuid()})
        self.log_stream = log if log is not None else sys.stderr
        self.arch = host_arch()
        self.conn_timeout = _CONN_TIMEOUT
        """Seconds a runtime has to send the whole container state once connected."""
        self.counts = {"notifications": 0, "containers": 0, "refused_peers": 0, "errors": 0}
        self._clock = _Clock()
        self._server: socket.socket | None = None
        self._epoll = select.epoll()
        self._listeners: dict[int, _Listener] = {}
        self._containers: dict[str, _Container] = {}
        self._conns: dict[int, _Conn] = {}
        self._names: dict[tuple[int, int], tuple[str, str]] = {}
        self._learned: dict[str, dict[tuple[str, str, str], dict[str, Any]]] = {}
        self._learned_dirty = False
        self._learned_saved = 0.0
        self._stopping = False
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._epoll.register(self._wake_r, select.EPOLLIN)
        self._signals: list[int] = []

    # ------------------------------------------------------------------ lifecycle

    def open(self) -> None:
        """Bind the socket (0600); refuse when another agent answers on it.

        Raises:
            AgentError: the path is held by a live agent, or is not a socket.
        """
        path = self.socket_path
        if path.exists() or path.is_symlink():
            if not stat.S_ISSOCK(path.lstat().st_mode):
                raise AgentError(f"{path} exists and is not a socket; choose another --socket")
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(str(path))
            except OSError:
                path.unlink()  # a stale socket left by an agent that died
            else:
                raise AgentError(f"another agent is listening on {path}; stop it or choose another --socket")
            finally:
                probe.close()
        path.parent.mkdir(parents=True, exist_ok=True)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK)
        old = os.umask(0o177)
        try:
            server.bind(str(path))
        finally:
            os.umask(old)
        server.listen(128)
        self._server = server
        self._epoll.register(server.fileno(), select.EPOLLIN)
        self._log("info", "listening", socket=str(path), mode=self.mode, pid=os.getpid())

    def install_signal_handlers(self) -> None:
        """SIGTERM/SIGINT stop the agent, SIGHUP reopens the events file (main thread only)."""
        signal.set_wakeup_fd(self._wake_w, warn_on_full_buffer=False)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, _frame: object) -> None:
        self._signals.append(signum)

    def stop(self) -> None:
        """Ask the loop to stop (from any thread or a signal handler)."""
        self._stopping = True
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def close(self) -> None:
        """Close every listener (the kernel then fails their notified calls with ENOSYS) and the socket."""
        for lis in list(self._listeners.values()):
            self._drop(lis, "agent stopped")
        for conn in list(self._conns.values()):
            self._end_conn(conn)
        if self._server is not None:
            with contextlib.suppress(OSError):
                self._epoll.unregister(self._server.fileno())
            self._server.close()
            with contextlib.suppress(FileNotFoundError):
                self.socket_path.unlink()
            self._server = None
        self._save_learned(force=True)
        self._epoll.close()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def serve_forever(self) -> None:
        """Answer until :meth:`stop` (or SIGTERM); then close."""
        try:
            while not self._stopping:
                self.serve_once()
        finally:
            self._log("info", "stopping", **self.counts)
            self.close()

    def serve_once(self, timeout: float | None = None) -> None:
        """Wait for work once (at most ``timeout`` seconds) and do it."""
        if timeout is None:
            timeout = 0.05 if self._conns or any(not c.ready for c in self._containers.values()) else 1.0
        try:
            ready = self._epoll.poll(timeout)
        except InterruptedError:
            ready = []
        listeners = self._listeners
        for fd, mask in ready:
            lis = listeners.get(fd)
            if lis is not None:
                if mask & select.EPOLLIN:
                    self._handle(lis)
                elif mask & (select.EPOLLHUP | select.EPOLLERR):
                    self._drop(lis, "exited")
            elif self._server is not None and fd == self._server.fileno():
                self._accept()
            elif fd == self._wake_r:
                self._woken()
            elif fd in self._conns:
                self._read_conn(self._conns[fd])
        self._housekeeping()

    # ------------------------------------------------------------------ the listener

    def _accept(self) -> None:
        assert self._server is not None  # noqa: S101 - registered only while open
        while True:
            try:
                sock, _ = self._server.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._log("error", "accept failed", error=str(exc))
                return
            sock.setblocking(False)  # noqa: FBT003 - the socket module's own signature
            pid, uid, gid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
            if uid not in self.peer_uids or len(self._conns) >= _MAX_CONNS:
                self.counts["refused_peers"] += 1
                self._log("warning", "connection refused", peer_pid=pid, peer_uid=uid, open=len(self._conns))
                sock.close()
                continue
            conn = _Conn(sock, (pid, uid, gid), self.conn_timeout)
            self._conns[sock.fileno()] = conn
            self._epoll.register(sock.fileno(), select.EPOLLIN | select.EPOLLRDHUP)
            self._read_conn(conn)

    def _read_conn(self, conn: _Conn) -> None:
        while True:
            try:
                msg, ancdata, flags, _ = conn.sock.recvmsg(
                    65536, socket.CMSG_SPACE(4 * _MAX_FDS), socket.MSG_CMSG_CLOEXEC
                )
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._fail_conn(conn, f"reading the container state failed: {exc}")
                return
            for level, kind, data in ancdata:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    received = array.array("i")
                    received.frombytes(data[: len(data) - len(data) % received.itemsize])
                    conn.fds.extend(received)
            if flags & socket.MSG_CTRUNC:
                self._fail_conn(conn, "too many file descriptors sent")
                return
            conn.data += msg
            if len(conn.data) > _STATE_LIMIT:
                self._fail_conn(conn, f"container state over {_STATE_LIMIT} bytes")
                return
            error: FormatError | None = None
            if conn.data:
                try:
                    state = parse_json(bytes(conn.data), source="the container state", limit=_STATE_LIMIT)
                except FormatError as exc:
                    state, error = None, exc  # not whole yet (or never: the runtime's close then fails it)
                if state is not None:
                    fds, conn.fds = conn.fds, []
                    self._end_conn(conn)
                    self._attach(state, fds, conn.peer)
                    return
            if not msg:
                if not conn.data and not conn.fds:  # a probe (seccompose-runtime checking that the agent is up)
                    self._end_conn(conn)
                else:
                    why = f": {error}" if error is not None else ""
                    self._fail_conn(conn, f"the runtime closed the connection before sending a whole state{why}")
                return

    def _fail_conn(self, conn: _Conn, why: str) -> None:
        self.counts["errors"] += 1
        self._log("error", why, peer_pid=conn.peer[0])
        self._event("error", {}, message=why)
        self._end_conn(conn)

    def _end_conn(self, conn: _Conn) -> None:
        _close_fds(conn.fds)
        conn.fds = []
        fd = conn.sock.fileno()
        if self._conns.pop(fd, None) is not None:
            with contextlib.suppress(OSError):
                self._epoll.unregister(fd)
        conn.sock.close()

    # ------------------------------------------------------------------ the resolver

    def _attach(self, state: object, fds: list[int], peer: tuple[int, int, int]) -> None:
        if not isinstance(state, dict):
            _close_fds(fds)
            self._event("error", {}, message="the container state is not a JSON object")
            return
        names = state.get("fds")
        if not isinstance(names, list) or names.count("seccompFd") != 1 or names.index("seccompFd") >= len(fds):
            _close_fds(fds)
            self._event("error", {}, message=f"no seccompFd among the fds sent ({names!r}, {len(fds)} received)")
            return
        index = names.index("seccompFd")
        fd = fds.pop(index)
        _close_fds(fds)
        inner = state.get("state") if isinstance(state.get("state"), dict) else {}
        assert isinstance(inner, dict)  # noqa: S101 - narrowed above
        pid = _positive_int(state.get("pid")) or _positive_int(inner.get("pid"))
        cid = str(inner.get("id") or f"pid-{pid}")
        container = self._containers.get(cid)
        if container is None:
            container = self._resolve(cid, state, inner, pid)
            self._containers[cid] = container
            self.counts["containers"] += 1
        container.listeners += 1
        self._listeners[fd] = _Listener(fd, container, pid, exec=container.listeners > 1)
        self._epoll.register(fd, select.EPOLLIN)
        self._event(
            "start",
            container.info,
            pid=pid,
            process="init" if container.listeners == 1 else "exec",
            mode=container.mode,
            profile=container.meta.digest,
            runtime_pid=peer[0],
            startup=sorted(container.startup),
            **({"unknown": True} if container.unknown else {}),
        )
        self._log("info", "container attached", id=cid, pid=pid, mode=container.mode)

    def _resolve(self, cid: str, state: dict[str, Any], inner: dict[str, Any], pid: int) -> _Container:
        text = state.get("metadata")
        meta: Metadata
        unknown = False
        try:
            if not isinstance(text, str) or not text:
                raise FormatError("no listenerMetadata: not a profile seccompose observed")  # noqa: TRY301
            meta = Metadata.from_json(text)
        except FormatError as exc:
            meta = Metadata(errno=self.unknown_errno, mode="enforce")
            unknown = True
            self._event("error", {"id": cid}, message=f"{exc}; answering every call with {errno_name(meta.errno)}")
        annotations = inner.get("annotations") if isinstance(inner.get("annotations"), dict) else {}
        assert isinstance(annotations, dict)  # noqa: S101 - narrowed above
        facts = dict(meta.container)
        info = {"id": cid}
        name = facts.get("name") or _first(annotations, _CRI_NAME)
        image = facts.get("image") or _first(annotations, _CRI_IMAGE)
        if name:
            info["name"] = name
        if image:
            info["image"] = image
        for key, keys in (("pod", _CRI_POD), ("namespace", _CRI_NAMESPACE)):
            value = facts.get(key) or _first(annotations, keys)
            if value:
                info[key] = value
        mode: Mode = "enforce" if unknown else (meta.mode or self.mode)
        init_pid = _positive_int(inner.get("pid")) or pid
        container = _Container(cid, meta, mode, info, init_pid, str(inner.get("bundle", "")))
        container.unknown = unknown
        return container

    # ------------------------------------------------------------------ the handler

    def _name(self, arch: int, nr: int) -> tuple[str, str]:
        key = (arch, nr)
        found = self._names.get(key)
        if found is not None:
            return found
        from seccompose.errors import UnknownSyscallError
        from seccompose.syscalls import TABLED_ARCHES, table

        abi = Arch.from_audit(arch)
        if abi is Arch.X86_64 and nr & _X32_BIT:
            abi = Arch.X32
        name = ""
        if abi is not None and abi in TABLED_ARCHES:
            with contextlib.suppress(UnknownSyscallError):
                name = table(abi).name(nr)
        found = (abi.value if abi is not None else f"{arch:#x}", name)
        if len(self._names) >= _NAMES_KEPT:
            self._names.clear()
        self._names[key] = found
        return found

    def _handle(self, lis: _Listener) -> None:
        try:
            n = notify.receive(lis.fd)
        except OSError as exc:
            self._drop(lis, f"receive failed: {exc}")
            return
        container = lis.container
        counts = container.counts
        if n is None:
            counts["withdrawn"] += 1
            return
        counts["notifications"] += 1
        self.counts["notifications"] += 1
        try:
            self._answer(lis, container, n)
        except Exception as exc:  # noqa: BLE001 - a bug must not leave the caller waiting, nor let it run
            self.counts["errors"] += 1
            self._log("error", "handler failed; answered EPERM", error=f"{type(exc).__name__}: {exc}")
            with contextlib.suppress(OSError):
                notify.respond(lis.fd, n.id, error=EPERM)

    def _answer(self, lis: _Listener, container: _Container, n: notify.Notification) -> None:
        abi, name = self._name(n.arch, n.nr)
        meta = container.meta
        phase = "steady"
        if name in container.startup and lis.exec:
            # The startup phase confines the container's own process tree. What `docker exec` and
            # healthchecks run keeps the whole template (the unobserved profile's answer: it runs).
            phase = "exec"
        elif name in container.startup and not self._is_ready(container):
            phase = "startup"
        proceed = container.mode != "enforce" or phase != "steady"
        narrow = abi in _NARROW
        err = 0 if proceed else meta.answer(name, n.args, narrow=narrow)
        comm, exe = self._proc(lis.fd, n)
        if comm is None:
            answer = "gone"
        elif notify.respond(lis.fd, n.id, error=err, proceed=proceed):
            answer = "continue" if proceed else "errno"
        else:
            answer = "gone"
        container.counts[answer] += 1
        fixed = container.fixed.get(name) if not phase_dependent(container, name) else None
        if fixed is None:
            layers = meta.layers(name, n.args, narrow=narrow)
            allow = _rule_dict(meta, name, n.args) if name else None
            tail = _dumps({"layers": list(layers), "allow": allow})[1:]
            if not meta.conditional_on(name) and len(container.fixed) < _FIXED_KEPT:
                container.fixed[name] = (tail, allow)
        else:
            tail, allow = fixed
        # The line is written here, once the caller has its answer: the sink's thread only writes bytes,
        # so it never holds the interpreter while this loop waits to answer the next call.
        line = (
            f'{{"schema":{SCHEMA},"kind":"syscall","time":"{self._clock.format(time.time())}",'
            f'"container":{container.info_json},"pid":{n.pid},"comm":{_dumps(comm or "")},'
            f'"exe":{_dumps(exe or "")},"arch":"{self.arch.value}","abi":"{abi}","syscall":"{name}",'
            f'"nr":{n.nr},"args":[{",".join(map(str, n.args))}],"answer":"{answer}",'
            + (f'"errno":{err},"errnoName":"{errno_name(err)}",' if answer == "errno" else "")
            + f'"mode":"{container.mode}","phase":"{phase}","profile":"{meta.digest}",{tail}\n'
        ).encode()
        self.sink.put_line(line, container.id, name or "?")
        if container.mode == "learn" and name and phase == "steady":
            self._learn(container, abi, name, allow)

    def _proc(self, fd: int, n: notify.Notification) -> tuple[str | None, str | None]:
        """Read the caller's comm and exe, only if the notification is still live (so the pid is the caller's)."""
        try:
            dfd = os.open(f"/proc/{n.pid}", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            return None, None
        try:
            if not notify.is_valid(fd, n.id):
                return None, None
            try:
                cfd = os.open("comm", os.O_RDONLY | os.O_CLOEXEC, dir_fd=dfd)
                try:
                    comm = os.read(cfd, 64).decode(errors="replace").rstrip("\n")
                finally:
                    os.close(cfd)
            except OSError:
                comm = ""
            try:
                exe = os.readlink("exe", dir_fd=dfd)
            except OSError:
                exe = ""
            return comm, exe
        finally:
            os.close(dfd)

    def _is_ready(self, container: _Container, now: float | None = None) -> bool:
        if container.ready:
            return True
        now = time.monotonic() if now is None else now
        if now - container.ready_checked < _READY_CACHE:
            return False
        container.ready_checked = now
        startup = container.meta.startup
        assert startup is not None  # noqa: S101 - a container not ready has a startup phase
        ready = startup.ready
        why = ""
        if now - container.started >= startup.timeout:
            why = f"timeout ({startup.timeout:g}s) before {ready.describe()}"
        elif _ready_now(ready, container.init_pid, now - container.started):
            why = ready.describe()
        if why:
            container.ready = True
            container.ready_at = now
            self._event("ready", container.info, reason=why, after=round(now - container.started, 3))
        return container.ready

    def _learn(self, container: _Container, abi: str, name: str, rule: dict[str, Any] | None) -> None:
        image = container.info.get("image") or container.id
        needs = self._learned.get(image)
        if needs is None:
            if len(self._learned) >= _LEARN_IMAGES:
                return
            needs = self._learned[image] = {}
        key = (abi, name, json.dumps(rule, sort_keys=True))
        if key in needs or len(needs) >= _LEARN_ENTRIES:
            return
        needs[key] = {"abi": abi, "syscall": name, "allow": rule}
        self._learned_dirty = True
        self._event("learned", container.info, abi=abi, syscall=name, allow=rule)

    def _save_learned(self, *, force: bool = False) -> None:
        if self.learned_path is None or not self._learned_dirty:
            return
        now = time.monotonic()
        if not force and now - self._learned_saved < 5.0:
            return
        doc = {
            "schema": SCHEMA,
            "images": {
                image: sorted(needs.values(), key=lambda e: (e["abi"], e["syscall"]))
                for image, needs in self._learned.items()
            },
        }
        tmp = self.learned_path.with_name(self.learned_path.name + ".tmp")
        tmp.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(self.learned_path)
        self._learned_dirty = False
        self._learned_saved = now

    # ------------------------------------------------------------------ bookkeeping

    def _drop(self, lis: _Listener, why: str) -> None:
        if self._listeners.pop(lis.fd, None) is None:
            return
        with contextlib.suppress(OSError):
            self._epoll.unregister(lis.fd)
        with contextlib.suppress(OSError):
            os.close(lis.fd)
        container = lis.container
        container.listeners -= 1
        if container.listeners <= 0:
            self._containers.pop(container.id, None)
            self._event("stop", container.info, reason=why, **container.counts)
            self._log("info", "container detached", id=container.id, reason=why, **container.counts)

    def _woken(self) -> None:
        with contextlib.suppress(OSError):
            while os.read(self._wake_r, 512):
                pass
        signals, self._signals = self._signals, []
        for signum in signals:
            if signum == signal.SIGHUP:
                self.sink.reopen()
                self._log("info", "events file reopened")
            else:
                self._stopping = True

    def _housekeeping(self) -> None:
        now = time.monotonic()
        for conn in list(self._conns.values()):
            if now > conn.deadline:
                self._fail_conn(conn, f"no whole container state within {self.conn_timeout:g}s")
        for container in list(self._containers.values()):
            if not container.ready:
                self._is_ready(container, now)
        self._save_learned()

    def _event(self, kind: str, info: dict[str, str], **fields: Any) -> None:  # noqa: ANN401 - JSON values
        self.sink.put({"schema": SCHEMA, "kind": kind, "time": time.time(), "container": info, **fields})

    def _log(self, level: str, message: str, **fields: Any) -> None:  # noqa: ANN401 - JSON values
        from seccompose.events import format_time

        line = {"time": format_time(time.time()), "level": level, "msg": message, **fields}
        with contextlib.suppress(OSError, ValueError):
            self.log_stream.write(json.dumps(line) + "\n")
            self.log_stream.flush()


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def phase_dependent(container: _Container, name: str) -> bool:
    """Whether a syscall's event depends on the startup phase (its layer does)."""
    return name in container.startup


class _Clock:
    """RFC 3339 times with microseconds, the seconds part formatted once per second."""

    __slots__ = ("_second", "_text")

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def format(self, now: float) -> str:
        second = int(now)
        if second != self._second:
            self._second = second
            self._text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._text}.{int((now - second) * 1e6):06d}Z"


def _ready_now(ready: Ready, pid: int, elapsed: float) -> bool:
    """Whether the readiness condition holds now for a container whose init process is ``pid``.

    A file is looked up through ``/proc/PID/root`` without reading it: a container that
    fakes it only ends its own startup phase sooner, which makes it stricter.
    """
    if ready.port is not None:
        return port_listening(pid, ready.port)
    if ready.file is not None:
        return os.path.lexists(f"/proc/{pid}/root{ready.file}")
    return ready.seconds is not None and elapsed >= ready.seconds


def _rule_dict(meta: Metadata, name: str, args: tuple[int, ...]) -> dict[str, Any]:
    from seccompose.formats.oci import rule_to_dict

    return rule_to_dict(meta.allow_rule(name, args))


def _first(mapping: dict[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        value = mapping.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def _positive_int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def run(agent: Agent, *, ready: Callable[[], None] | None = None) -> None:
    """Open, install the signal handlers, call ``ready``, serve until stopped."""
    agent.open()
    agent.install_signal_handlers()
    if ready is not None:
        ready()
    agent.serve_forever()

"""``seccompose proxy``: a Docker Engine API proxy that gives every new container the policy's profile.

It listens on a unix socket (``--listen``) and speaks to the engine's (``--upstream``): dockerd,
or Podman's Docker-compatible ``podman system service``. ``POST /containers/create`` (with or
without a ``/v1.NN`` prefix) is decided by ``seccompose.decide.decide`` from the request's
``Image``, ``Labels``, ``User``, the ``name`` query parameter and ``HostConfig`` (``CapAdd``,
``CapDrop``, ``Capabilities``, ``Privileged``, ``SecurityOpt``, ``Runtime``), and rewritten to
carry ``HostConfig.SecurityOpt`` ``seccomp=<profile JSON>``; a refusal is answered as the
engine answers errors (HTTP 403, ``{"message": ...}``). Everything else passes through byte
for byte: request and response bodies by their own framing (``Content-Length``, chunked),
keep-alive connections request after request, streaming responses (``logs -f``, ``events``,
``pull``/``build`` progress) as they come, and hijacked connections (``attach`` and ``exec``
start with ``Upgrade: tcp``, or the raw-stream answer of older clients), which become a
two-way byte pipe, so ``docker run -it`` and ``docker exec -it`` work.

Failure handling: the upstream down is a 502 with a message naming the socket; an error
inside seccompose applies the policy's ``on_error`` (never unconfined: ``engine-default``
lets the engine apply its own default profile, and refuses where the engine would apply
none); the policy file is reloaded when it changes, a broken one keeps the last good policy
(logged); ``SIGHUP`` reloads now, ``SIGTERM``/``SIGINT`` stop accepting and let open
connections finish (up to ``--grace`` seconds). At most ``--max-connections`` client
connections are served at once; more wait in the listen backlog.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from seccompose._reader import parse_json

if TYPE_CHECKING:
    from seccompose.decide import Decision, Facts
    from seccompose.integrations.decisions import DecisionLog
    from seccompose.integrations.policy_source import PolicySource

__all__ = ["PODMAN_DEFAULT_CAPABILITIES", "Proxy", "create_facts", "socket_path"]

_CREATE = re.compile(r"^(/v[0-9]+(\.[0-9]+)?)?/containers/create$")
_MAX_HEAD = 64 << 10
_MAX_CREATE_BODY = 32 << 20
"""A create request's body (and the engine's answers the proxy reads): larger than a profile's 4 MiB, since it
carries a --security-opt profile as a string besides the environment, labels and mounts."""
_BUF = 256 << 10

PODMAN_DEFAULT_CAPABILITIES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE",
    "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT",
)  # fmt: skip
"""The capabilities Podman 4 gives a container by default (containers.conf ``default_capabilities``)."""


def socket_path(value: str) -> str:
    """Return the filesystem path of a unix socket given as a path or a ``unix://`` URL.

    >>> socket_path("unix:///run/docker.sock"), socket_path("/tmp/p.sock")
    ('/run/docker.sock', '/tmp/p.sock')
    """
    if value.startswith("unix://"):
        return value.removeprefix("unix://")
    if "://" in value:
        from seccompose.errors import ConflictError

        raise ConflictError(f"{value!r} is not a unix socket; give a path or a unix:// URL")
    return value


class _ClientGoneError(Exception):
    pass


class _Stream:
    """A socket with a read buffer: lines for heads, exact counts for bodies."""

    def __init__(self, sock: socket.socket, watch: socket.socket | None = None) -> None:
        self.sock = sock
        self.buf = bytearray()
        self.watch = watch
        """The client, watched while this (the engine's side) is waited on: a client that goes away
        mid-answer (a ``docker run -d`` leaves its ``wait`` behind) ends the exchange instead of
        holding a thread and an engine connection until the engine answers."""

    def _fill(self) -> bool:
        while self.watch is not None:
            ready, _, _ = select.select([self.sock, self.watch], [], [])
            if self.sock in ready:
                break
            try:
                peek = self.watch.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            except BlockingIOError:
                continue
            except OSError:
                peek = b""
            if not peek:
                raise _ClientGoneError("the client went away before the engine answered")
            self.watch = None  # the client sent more (a pipelined request): it waits its turn
        data = self.sock.recv(_BUF)
        if not data:
            return False
        self.buf += data
        return True

    def read_head(self) -> bytes | None:
        """Return the bytes up to and including the blank line; None at a clean end of stream."""
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                head = bytes(self.buf[: end + 4])
                del self.buf[: end + 4]
                return head
            if len(self.buf) > _MAX_HEAD:
                raise ValueError("HTTP head larger than 64 KiB")
            if not self._fill():
                if self.buf:
                    raise _ClientGoneError("connection closed inside a head")
                return None

    def readline(self) -> bytes:
        while True:
            end = self.buf.find(b"\n")
            if end >= 0:
                line = bytes(self.buf[: end + 1])
                del self.buf[: end + 1]
                return line
            if len(self.buf) > _MAX_HEAD:
                raise ValueError("HTTP line larger than 64 KiB")
            if not self._fill():
                raise _ClientGoneError("connection closed inside a chunked body")

    def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                raise _ClientGoneError("connection closed inside a body")
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def relay(self, n: int, out: socket.socket) -> None:
        """Send the next ``n`` bytes to ``out`` as they arrive."""
        if self.buf:
            take = min(n, len(self.buf))
            out.sendall(self.buf[:take])
            del self.buf[:take]
            n -= take
        view = memoryview(bytearray(min(n, _BUF) or 1))
        while n:
            got = self.sock.recv_into(view, min(n, len(view)))
            if not got:
                raise _ClientGoneError("connection closed inside a body")
            out.sendall(view[:got])
            n -= got

    def relay_chunked(self, out: socket.socket) -> None:
        """Send a chunked body to ``out`` as it is, through the last chunk and its trailers.

        The chunk boundaries are parsed in the buffer and everything buffered is sent at once,
        so a stream of small chunks (``docker logs``: one per line) costs one send per read.
        """
        remaining = 0  # bytes of the current chunk (and its CRLF) not yet passed
        while True:
            buf, pos, end = self.buf, 0, len(self.buf)
            done = False
            while pos < end:
                if remaining:
                    step = min(remaining, end - pos)
                    pos += step
                    remaining -= step
                    continue
                eol = buf.find(b"\n", pos)
                if eol < 0:
                    if end - pos > _MAX_HEAD:
                        raise ValueError("chunk size line larger than 64 KiB")
                    break
                size = int(bytes(buf[pos:eol]).split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    # The last chunk: trailers, up to an empty line.
                    line_start = eol + 1
                    while True:
                        nxt = buf.find(b"\n", line_start)
                        if nxt < 0:
                            break
                        if buf[line_start:nxt].strip() == b"":
                            pos, done = nxt + 1, True
                            break
                        line_start = nxt + 1
                    break
                pos, remaining = eol + 1, size + 2
            if pos:
                out.sendall(memoryview(buf)[:pos])
                del buf[:pos]
            if done:
                return
            if not self._fill():
                raise _ClientGoneError("connection closed inside a chunked body")

    def read_chunked(self, limit: int) -> bytes:
        body = bytearray()
        while True:
            size = int(self.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.readline() not in (b"\r\n", b"\n"):
                    pass
                return bytes(body)
            if len(body) + size > limit:
                raise ValueError(f"request body larger than {limit} bytes")
            body += self.read_exact(size)
            self.read_exact(2)


@dataclass
class _Head:
    raw: bytes
    first: str
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def parse(cls, raw: bytes) -> _Head:
        lines = raw.decode("latin-1").split("\r\n")
        head = cls(raw, lines[0])
        for line in lines[1:]:
            if not line:
                continue
            name, _, value = line.partition(":")
            head.headers.append((name.strip(), value.strip()))
        return head

    def get(self, name: str) -> str | None:
        low = name.lower()
        for key, value in self.headers:
            if key.lower() == low:
                return value
        return None

    @property
    def chunked(self) -> bool:
        return "chunked" in (self.get("Transfer-Encoding") or "").lower()

    @property
    def length(self) -> int | None:
        value = self.get("Content-Length")
        return int(value) if value is not None and value.strip().isdigit() else None

    def rebuilt(self, *, drop: tuple[str, ...], add: tuple[tuple[str, str], ...]) -> bytes:
        low = {d.lower() for d in drop}
        lines = [self.first] + [f"{k}: {v}" for k, v in self.headers if k.lower() not in low]
        lines += [f"{k}: {v}" for k, v in add]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _response(status: int, reason: str, body: dict[str, Any], *, close: bool = False) -> bytes:
    data = json.dumps(body).encode() + b"\n"
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        + ("Connection: close\r\n" if close else "")
        + "Api-Version: 1.41\r\n\r\n"
    )
    return head.encode() + data


def _security_opts(opts: list[str]) -> tuple[str, str, bool]:
    """Return (request, the user's profile text, noNewPrivileges) from HostConfig.SecurityOpt."""
    request, text, nnp = "default", "", False
    for opt in opts:
        key, sep, value = opt.partition("=")
        if not sep:
            key, sep, value = opt.partition(":")
        key = key.strip().lower()
        if key == "seccomp":
            if value == "unconfined":
                request, text = "unconfined", ""
            elif value:
                request, text = "profile", value
        elif key == "no-new-privileges":
            nnp = value.strip().lower() in ("", "true", "1")
    return request, text, nnp


def create_facts(
    body: dict[str, Any], query: str, *, engine: str, runtime: str | None, kernel: tuple[int, int] | None
) -> Facts:
    """Return the facts of a ``POST /containers/create`` request, capabilities computed as the engine does.

    Raises:
        SeccomposeError: an unknown capability name (the engine would refuse it too).

    >>> f = create_facts({"Image": "redis:7", "Labels": {"env": "prod"},
    ...                   "HostConfig": {"CapAdd": ["SYS_ADMIN"], "SecurityOpt": ["seccomp=unconfined"]}},
    ...                  "name=cache", engine="docker", runtime="runc", kernel=None)
    >>> f.image, f.name, f.labels, f.seccomp, "CAP_SYS_ADMIN" in {c.name for c in f.capabilities}
    ('redis:7', 'cache', (('env', 'prod'),), 'unconfined', True)
    """
    import hashlib

    from seccompose.arch import host_arch
    from seccompose.caps import all_capabilities, container_capabilities
    from seccompose.decide import Facts

    host = body.get("HostConfig") if isinstance(body.get("HostConfig"), dict) else {}
    assert isinstance(host, dict)  # noqa: S101 - narrowed above
    privileged = bool(host.get("Privileged"))
    listed = host.get("Capabilities")
    base: list[str] | None = list(listed) if isinstance(listed, list) else None
    if base is None and engine == "podman":
        base = list(PODMAN_DEFAULT_CAPABILITIES)
    caps = (
        all_capabilities()
        if privileged
        else container_capabilities(
            base if base is None else (base or ["none"]),
            add=[str(c) for c in host.get("CapAdd") or []],
            drop=[str(c) for c in host.get("CapDrop") or []],
        )
    )
    opts = [str(o) for o in host.get("SecurityOpt") or []]
    request, text, nnp = _security_opts(opts)
    labels = body.get("Labels") if isinstance(body.get("Labels"), dict) else {}
    assert isinstance(labels, dict)  # noqa: S101 - narrowed above
    name = (parse_qs(query).get("name") or [""])[0].lstrip("/")
    chosen = host.get("Runtime")
    return Facts(
        image=str(body.get("Image") or ""),
        arch=host_arch(),
        capabilities=caps,
        engine=engine,
        route="proxy",
        name=name,
        labels=tuple((str(k), str(v)) for k, v in labels.items()),
        privileged=privileged,
        no_new_privileges=nnp,
        user=str(body.get("User") or ""),
        seccomp=request,  # type: ignore[arg-type]  # one of the three
        seccomp_digest="sha256:" + hashlib.sha256(text.encode()).hexdigest() if text else "",
        runtime=chosen if chosen in ("runc", "crun") else runtime,
        kernel=kernel,
    )


class Proxy:
    """The proxy server: ``serve_forever()`` until ``stop()`` (or SIGTERM when run by ``main``)."""

    def __init__(
        self,
        listen: str,
        upstream: str,
        source: PolicySource,
        log: DecisionLog | None,
        *,
        max_connections: int = 512,
        grace: float = 30.0,
        say: Callable[[str], None] | None = None,
        state_dir: str = "/run/seccompose",
    ) -> None:
        self.state_dir = state_dir
        self.listen = socket_path(listen)
        self.upstream = socket_path(upstream)
        self.source = source
        self.log = log
        self.grace = grace
        self._slots = threading.BoundedSemaphore(max_connections)
        self._say = say or (lambda text: print(f"seccompose proxy: {text}", file=sys.stderr, flush=True))
        self._decide_lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: socket.socket | None = None
        self._threads: set[threading.Thread] = set()
        self._threads_lock = threading.Lock()
        self._engine: tuple[str, str | None, tuple[int, int] | None] | None = None
        self._engine_major = 0
        self._current: dict[int, str] = {}
        """The request line each connection is serving (what stop() waits for), by thread."""

    # --- engine facts (asked once) -------------------------------------------------------
    def _ask(self, path: str) -> dict[str, Any]:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(self.upstream)
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n".encode())
            data = bytearray()
            while chunk := s.recv(_BUF):
                data += chunk
                if len(data) > _MAX_CREATE_BODY + _MAX_HEAD:
                    raise ValueError(f"the engine's answer to GET {path} is larger than {_MAX_CREATE_BODY} bytes")
        head, _, body = bytes(data).partition(b"\r\n\r\n")
        if b"chunked" in head.lower():
            out, rest = bytearray(), body
            while rest:
                size_line, _, rest = rest.partition(b"\r\n")
                size = int(size_line.split(b";")[0] or b"0", 16)
                if size == 0:
                    break
                out += rest[:size]
                rest = rest[size + 2 :]
            body = bytes(out)
        doc = parse_json(body, source=f"the engine's answer to GET {path}", limit=_MAX_CREATE_BODY)
        return doc if isinstance(doc, dict) else {}

    def engine(self) -> tuple[str, str | None, tuple[int, int] | None]:
        """Return (engine name, default runtime, kernel) as the upstream reports them (asked once)."""
        if self._engine is None:
            from seccompose.templates import parse_kernel

            version = self._ask("/version")
            parts = version.get("Components") or []
            components = " ".join(str(c.get("Name", "")) for c in parts if isinstance(c, dict))
            name = "podman" if "podman" in components.lower() else "docker"
            try:
                runtime = str(self._ask("/info").get("DefaultRuntime") or "") or None
            except (OSError, ValueError):
                runtime = None
            kernel_text = str(version.get("KernelVersion") or os.uname().release)
            try:
                kernel: tuple[int, int] | None = parse_kernel(kernel_text)
            except ValueError:
                kernel = None
            self._engine = (name, runtime if runtime in ("runc", "crun") else None, kernel)
            try:
                self._engine_major = int(str(version.get("Version") or "0").split(".")[0])
            except ValueError:
                self._engine_major = 0
        return self._engine

    # --- the create decision ----------------------------------------------------------------
    def decide_create(self, body: bytes, query: str) -> tuple[bytes | None, Decision | None, str]:
        """Return (the body to send or None to refuse, the decision, a refusal message)."""
        from seccompose.decide import decide, on_error

        # Through the one reader (a typed FormatError, which the server answers with 400 and goes on serving):
        # a body forwarded undecided would start a container with whatever it asks for, e.g. seccomp=unconfined.
        doc = parse_json(body or b"{}", source="the create request's body", limit=_MAX_CREATE_BODY)
        if not isinstance(doc, dict):
            return body, None, ""
        engine, runtime, kernel = self.engine()
        try:
            facts = create_facts(doc, query, engine=engine, runtime=runtime, kernel=kernel)
        except Exception:  # noqa: BLE001 - bad capability names etc.: the engine refuses them with its own message
            return body, None, ""
        loaded = None
        try:
            loaded = self.source.get()
            if loaded.changed:
                self._say(loaded.problem or f"policy {loaded.policy.source} {loaded.policy.digest} in force")
            with self._decide_lock:
                decision = decide(loaded.policy, facts)
        except Exception as exc:  # noqa: BLE001 - failure is a decision too: on_error
            setting = loaded.policy.on_error if loaded is not None else "engine-default"
            policy_id = f"{loaded.policy.source} {loaded.policy.digest}" if loaded is not None else ""
            decision = on_error(setting, facts, exc, policy=policy_id)
            self._say(decision.reason)
        if decision.observing:
            decision = self._observed_or_not(decision, engine)
        host = doc.setdefault("HostConfig", {}) if isinstance(doc.get("HostConfig", {}), dict) else None
        if host is None:
            return body, decision, ""
        opts = [str(o) for o in host.get("SecurityOpt") or []]
        kept = [o for o in opts if o.replace(":", "=", 1).partition("=")[0].strip().lower() != "seccomp"]
        if decision.action == "refuse":
            return None, decision, decision.reason
        if decision.action in ("keep", "unconfined"):
            if engine == "podman" and facts.seccomp == "profile":
                # The Docker client sends the profile's content; Podman's API wants a file name.
                texts = [o.partition("=")[2] for o in opts if o.startswith("seccomp=")]
                if texts and texts[-1].lstrip().startswith("{"):
                    host["SecurityOpt"] = [*kept, "seccomp=" + self._keep_text(texts[-1])]
                    return json.dumps(doc).encode(), decision, ""
            return body, decision, ""
        if facts.privileged:
            return None, decision, (
                f"{decision.reason}; but {engine} applies no seccomp profile to a privileged container, so the "
                "proxy cannot confine it: start it through seccompose-runtime (which can), drop --privileged, "
                "or set privileged: allow"
            )
        if decision.action == "engine-default":
            if facts.seccomp == "unconfined":
                host["SecurityOpt"] = kept  # the engine's default profile instead of none
                return json.dumps(doc).encode(), decision, ""
            return body, decision, ""
        if engine == "podman":
            # Podman's compatible API reads seccomp=VALUE as a file name, not as the profile itself.
            host["SecurityOpt"] = [*kept, "seccomp=" + self._profile_file(decision)]
        else:
            host["SecurityOpt"] = [*kept, "seccomp=" + decision.seccomp_json()]
        return json.dumps(doc).encode(), decision, ""

    def _observed_or_not(self, decision: Decision, engine: str) -> Decision:
        """The decision as this engine can carry it, in the observing modes (never unconfined, never hung)."""
        from dataclasses import replace

        from seccompose.integrations.runtime import _agent_answers

        if engine == "docker" and self._engine_major < 23:
            # Docker 20.10 drops listenerPath from a --security-opt profile and would hand runc NOTIFY rules
            # without a listener: hand it the same profile unobserved (the same answers, no events).
            why = (
                f"Docker {self._engine_major or '< 23'} drops listenerPath from --security-opt profiles: this "
                "container is not observed (seccompose-runtime observes through the bundle instead)"
            )
            return replace(decision, listener="", warnings=(*decision.warnings, why))
        if not _agent_answers(decision.listener):
            why = f"no seccomp agent answers on {decision.listener}"
            if decision.agent_missing == "refuse":
                return replace(
                    decision,
                    action="refuse",
                    reason=f"{why} and the policy says agent_missing: refuse; start `seccompose agent` first",
                )
            return replace(
                decision,
                listener="",
                warnings=(*decision.warnings, f"{why}: started with the profile unobserved (agent_missing: enforce)"),
            )
        return decision

    def _decision_log(self) -> DecisionLog:
        from seccompose.integrations.decisions import DecisionLog

        return self.log or DecisionLog(os.path.join(self.state_dir, "profiles.jsonl"))

    def _keep_text(self, text: str) -> str:
        import hashlib

        digest = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
        self._decision_log().keep_profile(digest, text)
        return self._decision_log().profile_path(digest)

    def _profile_file(self, decision: Decision) -> str:
        digest = decision.digest
        assert digest is not None  # noqa: S101 - an apply decision has a profile
        store = self._decision_log()
        store.keep_profile(digest, decision.seccomp_json())
        return store.profile_path(digest)

    def _record(self, decision: Decision | None, container_id: str) -> None:
        if decision is None or self.log is None:
            return
        record = decision.record()
        record["facts"]["container_id"] = container_id
        try:
            self.log.record(record, decision.seccomp_json() if decision.profile is not None else None)
        except OSError as exc:
            self._say(f"decision log {self.log.path}: {exc}")

    # --- connections ---------------------------------------------------------------------
    def _pipe(self, a: socket.socket, b: socket.socket, a_buf: bytes, b_buf: bytes) -> None:
        """Copy both ways until both sides are done (a hijacked connection)."""

        def copy(src: socket.socket, dst: socket.socket, first: bytes) -> None:
            try:
                if first:
                    dst.sendall(first)
                view = memoryview(bytearray(_BUF))
                while True:
                    got = src.recv_into(view)
                    if not got:
                        break
                    dst.sendall(view[:got])
            except OSError:
                pass
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)

        other = threading.Thread(target=copy, args=(b, a, b_buf), daemon=True)
        other.start()
        copy(a, b, a_buf)
        other.join()

    def _connect(self, client: socket.socket) -> socket.socket | None:
        up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            up.connect(self.upstream)
        except OSError as exc:
            up.close()
            message = f"seccompose proxy: cannot reach the engine at {self.upstream}: {exc.strerror or exc}"
            client.sendall(_response(502, "Bad Gateway", {"message": message}, close=True))
            return None
        return up

    def _send_request(self, head: _Head, raw: bytes, cin: _Stream, up: socket.socket, query: str) -> tuple[
        bool, Decision | None, str
    ]:  # fmt: skip
        """Send one request upstream (a create decided first); return (sent, decision, refusal)."""
        method = head.first.partition(" ")[0]
        path = urlsplit(head.first.split(" ")[1] if head.first.count(" ") >= 2 else "/").path
        if not (method == "POST" and _CREATE.match(path)):
            up.sendall(raw)
            if head.chunked:
                cin.relay_chunked(up)
            elif head.length:
                cin.relay(head.length, up)
            return True, None, ""
        if head.chunked:
            body = cin.read_chunked(_MAX_CREATE_BODY)
        elif (head.length or 0) > _MAX_CREATE_BODY:
            raise ValueError(f"a create request larger than {_MAX_CREATE_BODY} bytes")
        else:
            body = cin.read_exact(head.length or 0)
        new_body, decision, refusal = self.decide_create(body, query)
        if new_body is None:
            return False, decision, refusal
        length = (("Content-Length", str(len(new_body))),)
        up.sendall(head.rebuilt(drop=("Content-Length", "Transfer-Encoding"), add=length) + new_body)
        return True, decision, ""

    def _serve(self, client: socket.socket) -> None:
        up: socket.socket | None = None
        try:
            cin = _Stream(client)
            upin: _Stream | None = None
            while not self._stopping.is_set():
                raw = cin.read_head()
                if raw is None:
                    return
                head = _Head.parse(raw)
                self._current[threading.get_ident()] = head.first
                if up is None:
                    up = self._connect(client)
                    if up is None:
                        return
                    upin = _Stream(up)
                assert upin is not None  # noqa: S101 - set with up
                upin.watch = client
                target = head.first.split(" ")[1] if head.first.count(" ") >= 2 else "/"
                sent, decision, refusal = self._send_request(head, raw, cin, up, urlsplit(target).query)
                if not sent:
                    self._record(decision, "")
                    client.sendall(_response(403, "Forbidden", {"message": f"seccompose: {refusal}"}))
                    continue
                if not self._relay_response(head, client, cin, up, upin, decision):
                    return
        except (_ClientGoneError, OSError, ValueError) as exc:
            if not isinstance(exc, (_ClientGoneError, ConnectionError)):
                message = {"message": f"seccompose proxy: {exc}"}
                with contextlib.suppress(OSError):
                    client.sendall(_response(400, "Bad Request", message, close=True))
        finally:
            if up is not None:
                up.close()
            client.close()

    def _relay_response(
        self, head: _Head, client: socket.socket, cin: _Stream, up: socket.socket, upin: _Stream,
        decision: Decision | None,
    ) -> bool:  # fmt: skip
        """Send the engine's answer to the client; return whether the connection goes on."""
        while True:
            rraw = upin.read_head()
            if rraw is None:
                return False  # the engine closed: so do we
            resp = _Head.parse(rraw)
            parts = resp.first.split(" ", 2)
            status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
            if 100 <= status < 200 and status != 101:
                client.sendall(rraw)  # 100 Continue and friends: the real answer follows
                continue
            break
        if decision is not None:
            self._forward_create_response(client, upin, resp, rraw, decision)
            return True
        client.sendall(rraw)
        if status == 101:
            self._pipe(client, up, bytes(cin.buf), bytes(upin.buf))
            return False
        if head.first.startswith("HEAD ") or status in (204, 304):
            return True
        if resp.chunked:
            upin.relay_chunked(client)
        elif resp.length is not None:
            upin.relay(resp.length, client)
        else:
            # No framing: the body runs until the engine closes (a raw-stream attach of a client
            # that did not ask to upgrade is a hijack too): a two-way pipe.
            self._pipe(client, up, bytes(cin.buf), bytes(upin.buf))
            return False
        closing = (resp.get("Connection") or "").lower() == "close"
        return not (closing or (head.get("Connection") or "").lower() == "close")

    def _forward_create_response(
        self, client: socket.socket, upin: _Stream, resp: _Head, rraw: bytes, decision: Decision
    ) -> None:
        if resp.chunked:
            body = upin.read_chunked(_MAX_CREATE_BODY)
            client.sendall(
                resp.rebuilt(drop=("Transfer-Encoding", "Content-Length"), add=(("Content-Length", str(len(body))),))
                + body
            )
        else:
            body = upin.read_exact(resp.length or 0)
            client.sendall(rraw + body)
        container_id = ""
        with contextlib.suppress(ValueError, AttributeError):
            answer = parse_json(body, source="the engine's answer to create", limit=_MAX_CREATE_BODY)
            container_id = str(answer.get("Id", ""))
        if container_id:
            self._record(decision, container_id)

    # --- the server ----------------------------------------------------------------------
    def bind(self) -> None:
        """Create the listening socket (replacing a stale socket file)."""
        with contextlib.suppress(FileNotFoundError):
            if os.path.exists(self.listen) and not os.path.isdir(self.listen):
                os.unlink(self.listen)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(self.listen)
        os.chmod(self.listen, 0o660)
        server.listen(1024)
        self._server = server

    def serve_forever(self) -> None:
        """Accept and serve connections until ``stop()``."""
        if self._server is None:
            self.bind()
        assert self._server is not None  # noqa: S101 - bound above
        self._server.settimeout(0.5)
        while not self._stopping.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stopping.is_set():
                    break
                raise
            client.settimeout(None)
            self._slots.acquire()
            thread = threading.Thread(target=self._run, args=(client,), daemon=True)
            with self._threads_lock:
                self._threads.add(thread)
            thread.start()
        self._server.close()
        with contextlib.suppress(OSError):
            os.unlink(self.listen)
        deadline = time.monotonic() + self.grace
        with self._threads_lock:
            threads = list(self._threads)
        if threads:
            serving = "; ".join(sorted(self._current.get(t.ident or 0, "idle") for t in threads))
            self._say(f"stopping: {len(threads)} open connection(s) get up to {self.grace:g} s to finish: {serving}")
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _run(self, client: socket.socket) -> None:
        try:
            self._serve(client)
        finally:
            self._current.pop(threading.get_ident(), None)
            self._slots.release()
            with self._threads_lock:
                self._threads.discard(threading.current_thread())

    def stop(self) -> None:
        """Stop accepting; open connections finish within the grace period."""
        self._stopping.set()


def main(
    listen: str,
    upstream: str,
    policy: str,
    log: str | None,
    *,
    state: str | None = None,
    max_connections: int = 512,
    grace: float = 30.0,
) -> int:
    """Run the proxy until SIGTERM/SIGINT; SIGHUP reloads the policy."""
    from seccompose.integrations.decisions import DecisionLog
    from seccompose.integrations.policy_source import PolicySource

    source = PolicySource(policy, state_dir=state)
    loaded = source.get()  # a policy that does not load at start is an error, not a silent default
    decisions = DecisionLog(log) if log else None
    proxy = Proxy(
        listen, upstream, source, decisions, max_connections=max_connections, grace=grace,
        state_dir=state or "/run/seccompose",
    )  # fmt: skip

    def reload(_signum: int, _frame: object) -> None:
        try:
            got = source.reload()
            proxy._say(got.problem or f"policy {got.policy.source} {got.policy.digest} reloaded")  # noqa: SLF001
        except Exception as exc:  # noqa: BLE001 - a signal handler must not kill the server
            proxy._say(f"reload failed, the last good policy stays: {exc}")  # noqa: SLF001

    signal.signal(signal.SIGHUP, reload)
    signal.signal(signal.SIGTERM, lambda *_: proxy.stop())
    signal.signal(signal.SIGINT, lambda *_: proxy.stop())
    proxy.bind()
    proxy._say(  # noqa: SLF001
        f"listening on {proxy.listen}, engine at {proxy.upstream}, policy {loaded.policy.source} {loaded.policy.digest}"
    )
    proxy.serve_forever()
    return 0

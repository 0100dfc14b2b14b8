"""The proxy's HTTP plumbing without an engine: chunked bodies pass byte for byte, facts come out of a create."""

from __future__ import annotations

import socket
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seccompose.caps import DOCKER_DEFAULT_CAPABILITIES, Capability
from seccompose.errors import ConflictError
from seccompose.integrations.proxy import PODMAN_DEFAULT_CAPABILITIES, _Stream, create_facts, socket_path


def _relay(data: bytes, splits: list[int]) -> tuple[bytes, bytes]:
    a, b = socket.socketpair()
    c, d = socket.socketpair()

    def feed() -> None:
        i = 0
        for n in splits:
            a.sendall(data[i : i + n])
            i += n
        a.sendall(data[i:])
        a.close()

    t = threading.Thread(target=feed)
    t.start()
    try:
        stream = _Stream(b)
        stream.relay_chunked(c)
        c.close()
        got = b"".join(iter(lambda: d.recv(65536), b""))
        rest = bytes(stream.buf) + b"".join(iter(lambda: b.recv(65536), b""))
    finally:
        t.join()
        for s in (a, b, c, d):
            s.close()
    return got, rest


@settings(max_examples=60, deadline=None)
@given(
    parts=st.lists(st.binary(min_size=1, max_size=3000), max_size=8),
    splits=st.lists(st.integers(1, 64), max_size=40),
    trailers=st.sampled_from([b"", b"X-Trailer: 1\r\n", b"A: b\r\nC: d\r\n"]),
    extension=st.sampled_from([b"", b";name=value"]),
)
def test_a_chunked_body_passes_byte_for_byte_and_stops_at_its_end(
    parts: list[bytes], splits: list[int], trailers: bytes, extension: bytes
) -> None:
    body = b"".join(b"%x%s\r\n%s\r\n" % (len(p), extension, p) for p in parts) + b"0\r\n" + trailers + b"\r\n"
    got, rest = _relay(body + b"NEXT REQUEST", splits)
    assert got == body
    assert rest == b"NEXT REQUEST"


def test_a_body_cut_short_is_an_error() -> None:
    from seccompose.integrations.proxy import _ClientGoneError

    with pytest.raises(_ClientGoneError):
        _relay(b"10\r\nonly a few", [])


def test_socket_paths() -> None:
    assert socket_path("unix:///run/docker.sock") == "/run/docker.sock"
    assert socket_path("/tmp/x.sock") == "/tmp/x.sock"
    with pytest.raises(ConflictError, match="not a unix socket"):
        socket_path("tcp://127.0.0.1:2375")


@pytest.mark.parametrize(
    ("host", "engine", "caps"),
    [
        ({}, "docker", DOCKER_DEFAULT_CAPABILITIES),
        ({}, "podman", frozenset(Capability(c) for c in PODMAN_DEFAULT_CAPABILITIES)),
        ({"CapDrop": ["ALL"], "CapAdd": ["NET_ADMIN"]}, "docker", frozenset({Capability("CAP_NET_ADMIN")})),
        ({"Capabilities": ["CAP_KILL"]}, "docker", frozenset({Capability("CAP_KILL")})),
    ],
)
def test_capabilities_as_the_engine_computes_them(host: dict[str, object], engine: str, caps: frozenset[Capability]) -> None:
    facts = create_facts({"Image": "x", "HostConfig": host}, "", engine=engine, runtime="runc", kernel=None)
    assert facts.capabilities == caps


@pytest.mark.parametrize(
    ("opts", "request_", "nnp"),
    [
        ([], "default", False),
        (["seccomp=unconfined"], "unconfined", False),
        (["seccomp:unconfined"], "unconfined", False),  # the old colon form Docker still reads
        (['seccomp={"defaultAction": "SCMP_ACT_ALLOW"}'], "profile", False),
        (["no-new-privileges"], "default", True),
        (["no-new-privileges:true", "label=disable"], "default", True),
        (["no-new-privileges=false"], "default", False),
    ],
)
def test_security_options(opts: list[str], request_: str, nnp: bool) -> None:
    facts = create_facts({"Image": "x", "HostConfig": {"SecurityOpt": opts}}, "name=/web", engine="docker",
                         runtime="runc", kernel=None)  # fmt: skip
    assert (facts.seccomp, facts.no_new_privileges, facts.name) == (request_, nnp, "web")
    assert bool(facts.seccomp_digest) == (request_ == "profile")


class _Upstream:
    """A stand-in engine on a unix socket: records each request, answers with ``reply`` (or never)."""

    def __init__(self, path: str, reply: bytes | None) -> None:
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(8)
        self.reply = reply
        self.requests: list[bytes] = []
        self.closed_by_peer = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.server.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            self.requests.append(data)
            if self.reply is not None:
                conn.sendall(self.reply)
            while conn.recv(65536):
                pass
            self.closed_by_peer.set()

    def close(self) -> None:
        self.server.close()


def _proxy(tmp_path: object, upstream: str) -> tuple[object, str, threading.Thread]:
    from pathlib import Path

    from seccompose.integrations.policy_source import PolicySource
    from seccompose.integrations.proxy import Proxy

    tmp = Path(str(tmp_path))
    (tmp / "policy.yaml").write_text("{}\n")
    listen = str(tmp / "p.sock")
    proxy = Proxy(listen, upstream, PolicySource(tmp / "policy.yaml"), None, grace=1, say=lambda _text: None)
    proxy.bind()
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    return proxy, listen, thread


def test_a_response_passes_unchanged_and_the_connection_stays_open(tmp_path: object) -> None:
    from pathlib import Path

    reply = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Odd:  spaced  \r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    engine = _Upstream(str(Path(str(tmp_path)) / "e.sock"), reply)
    proxy, listen, thread = _proxy(tmp_path, str(Path(str(tmp_path)) / "e.sock"))
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
            c.connect(listen)
            request = b"GET /v1.41/events?since=1 HTTP/1.1\r\nHost: docker\r\nX-Keep:  as is \r\n\r\n"
            c.sendall(request)
            got = b""
            while not got.endswith(b"0\r\n\r\n"):
                got += c.recv(65536)
            assert got == reply  # byte for byte, odd spacing included
        assert engine.closed_by_peer.wait(5)
        assert engine.requests == [request]
    finally:
        proxy.stop()  # type: ignore[attr-defined]
        thread.join(10)
        engine.close()


def test_a_client_that_goes_away_releases_the_engine_connection(tmp_path: object) -> None:
    # `docker run -d` leaves its long-polling `wait` behind when it exits: the proxy must not hold
    # the engine connection (and a thread) until the container exits.
    from pathlib import Path

    engine = _Upstream(str(Path(str(tmp_path)) / "e.sock"), None)
    proxy, listen, thread = _proxy(tmp_path, str(Path(str(tmp_path)) / "e.sock"))
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
            c.connect(listen)
            c.sendall(b"POST /v1.41/containers/x/wait?condition=next-exit HTTP/1.1\r\nHost: docker\r\n\r\n")
            for _ in range(100):
                if engine.requests:
                    break
                threading.Event().wait(0.02)
        assert engine.closed_by_peer.wait(5), "the proxy kept the engine connection of a client that left"
    finally:
        proxy.stop()  # type: ignore[attr-defined]
        thread.join(10)
        engine.close()

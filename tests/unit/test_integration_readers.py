"""Every reader of the integrations decodes through the one reader layer: hostile input is a typed error.

Each reader gets the same four hostile documents (100,000-level nesting, a 100,000-digit integer,
invalid UTF-8, a body over its limit); the daemons answer an error and go on serving, and the
runtime wrapper refuses the container rather than start it unconfined.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from seccompose.errors import DocumentTooLargeError, FormatError

DEEP = b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
LONG_INT = b'{"a": ' + b"9" * 100_000 + b"}"
NOT_UTF8 = b'{"a": "\xff\xfe"}'
HOSTILE = {"deep-nesting": DEEP, "100000-digit-integer": LONG_INT, "invalid-utf8": NOT_UTF8}
MESSAGES = {"deep-nesting": "nested deeper than 64", "100000-digit-integer": "100000-digit integer",
            "invalid-utf8": "not UTF-8"}  # fmt: skip

WRAPPER = Path(sys.executable).parent / "seccompose-runtime"


# --- the runtime wrapper: config.json, dockerd's and podman's records, the decision log


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    fake = tmp_path / "fake-runtime"
    fake.write_text(f"#!/bin/sh\ntouch {tmp_path}/ran\n")
    fake.chmod(0o755)
    (tmp_path / "bundle").mkdir()
    (tmp_path / "policy.yaml").write_text("{}\n")
    return tmp_path


def _create(tmp: Path) -> subprocess.CompletedProcess[str]:
    argv = [
        str(WRAPPER), "--seccompose-policy", str(tmp / "policy.yaml"), "--seccompose-runtime", str(tmp / "fake-runtime"),
        "--seccompose-log", str(tmp / "log" / "d.jsonl"), "create", "--bundle", str(tmp / "bundle"), "c1",
    ]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)


@pytest.mark.skipif(not WRAPPER.exists(), reason="seccompose-runtime is not installed in this environment")
@pytest.mark.parametrize("kind", [*HOSTILE, "over-64-MiB"])
def test_the_wrapper_refuses_a_hostile_config_json_with_a_typed_error(bundle: Path, kind: str) -> None:
    config = bundle / "bundle" / "config.json"
    if kind == "over-64-MiB":
        with config.open("wb") as f:
            f.write(b'{"a": "')
            f.truncate((64 << 20) + 1)
        message = "over the 67,108,864-byte limit"
    else:
        config.write_bytes(HOSTILE[kind])
        message = MESSAGES[kind]
    done = _create(bundle)
    assert done.returncode == 1
    assert not (bundle / "ran").exists(), "the real runtime ran"
    assert "FormatError" in done.stderr or "DocumentTooLargeError" in done.stderr, done.stderr
    assert message in done.stderr and str(config) in done.stderr


@pytest.mark.parametrize("kind", HOSTILE)
def test_a_hostile_daemon_record_is_a_typed_error(tmp_path: Path, kind: str) -> None:
    from seccompose.integrations.bundle import _read_json

    (tmp_path / "config.v2.json").write_bytes(HOSTILE[kind])
    with pytest.raises(FormatError, match=MESSAGES[kind]):
        _read_json(str(tmp_path / "config.v2.json"))


def test_a_daemon_record_over_its_limit_is_a_typed_error(tmp_path: Path) -> None:
    from seccompose.integrations import bundle

    (tmp_path / "hostconfig.json").write_bytes(b'["' + b"x" * 100 + b'"]')
    with pytest.MonkeyPatch.context() as m:
        m.setattr(bundle, "_MAX_RECORD", 50)
        with pytest.raises(DocumentTooLargeError):
            bundle._read_json(str(tmp_path / "hostconfig.json"))


def test_a_hostile_decision_log_line_is_skipped_and_the_next_one_read(tmp_path: Path) -> None:
    from seccompose.integrations.decisions import DecisionLog

    good = {"container": {"id": "abc", "name": "web"}, "image": "redis:7"}
    log = tmp_path / "d.jsonl"
    log.write_bytes(b"\n".join([DEEP, LONG_INT, NOT_UTF8, json.dumps(good).encode()]) + b"\n")
    assert list(DecisionLog(str(log)).entries()) == [good]


# --- the proxy: create bodies from any API client


class _Engine:
    """A stand-in engine: answers every request with a small JSON body and records what it received."""

    def __init__(self, path: str) -> None:
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(8)
        self.server.settimeout(0.1)  # a blocked accept() is not woken by close(): poll the stop flag
        self.requests: list[bytes] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop serving: no thread is left behind (later tests fork only when this process has one thread)."""
        self.stopping.set()
        self.thread.join(10)
        self.server.close()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(10)
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                if data:
                    self.requests.append(data)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[tuple[str, _Engine]]:
    from seccompose.integrations.policy_source import PolicySource
    from seccompose.integrations.proxy import Proxy

    engine = _Engine(str(tmp_path / "e.sock"))
    (tmp_path / "policy.yaml").write_text("{}\n")
    server = Proxy(str(tmp_path / "p.sock"), str(tmp_path / "e.sock"), PolicySource(tmp_path / "policy.yaml"), None,
                   grace=1, say=lambda _text: None)  # fmt: skip
    server.bind()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield str(tmp_path / "p.sock"), engine
    finally:
        server.stop()
        thread.join(10)
        engine.close()


def _send(listen: str, request: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
        c.settimeout(30)
        c.connect(listen)
        c.sendall(request)
        return b"".join(iter(lambda: c.recv(65536), b""))


@pytest.mark.parametrize("kind", HOSTILE)
def test_the_proxy_answers_a_hostile_create_body_with_an_error_and_serves_the_next(
    proxy: tuple[str, _Engine], kind: str
) -> None:
    listen, engine = proxy
    # Asking for no seccomp at all: forwarded undecided, the engine would start it unconfined.
    body = HOSTILE[kind].replace(b'{"a": ', b'{"HostConfig": {"SecurityOpt": ["seccomp=unconfined"]}, "a": ')
    head = b"POST /v1.41/containers/create HTTP/1.1\r\nHost: docker\r\nContent-Length: %d\r\n\r\n" % len(body)
    answer = _send(listen, head + body)
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert MESSAGES[kind].encode() in answer and b"create request's body" in answer
    assert not any(b"/containers/create" in r for r in engine.requests), "the create reached the engine"
    answer = _send(listen, b"GET /_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 ") and engine.requests[-1].startswith(b"GET /_ping ")


# --- the agent: the container state a runtime sends, and the listenerMetadata in it


@pytest.mark.parametrize("kind", HOSTILE)
def test_the_agent_fails_a_hostile_state_and_serves_the_next_connection(tmp_path: Path, kind: str) -> None:
    import io

    from seccompose.integrations.agent import Agent
    from seccompose.integrations.sink import EventSink

    log = io.StringIO()
    sink = EventSink(tmp_path / "events.jsonl")
    agent = Agent(tmp_path / "a.sock", sink, log=log)
    agent.open()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
            c.connect(str(tmp_path / "a.sock"))
            c.sendall(HOSTILE[kind])
        for _ in range(20):
            agent.serve_once(0.05)
        assert agent.counts["errors"] == 1
        assert MESSAGES[kind] in log.getvalue()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:  # a probe: still served
            c.connect(str(tmp_path / "a.sock"))
        for _ in range(5):
            agent.serve_once(0.05)
        assert agent.counts["errors"] == 1
    finally:
        agent.close()
        sink.close()


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_listener_metadata_is_a_typed_error(kind: str) -> None:
    from seccompose.observe import Metadata

    with pytest.raises(FormatError, match=f"listenerMetadata is not JSON: .*{MESSAGES[kind]}"):
        Metadata.from_json(HOSTILE[kind])


# --- seccompose events: the events file's lines


@pytest.mark.parametrize("kind", HOSTILE)
def test_a_hostile_events_line_is_a_typed_error(kind: str) -> None:
    from seccompose.events import Event

    with pytest.raises(FormatError, match=f"not a JSON line: .*{MESSAGES[kind]}"):
        Event.from_json(HOSTILE[kind], location="events.jsonl:1")


def test_no_reader_test_leaves_a_thread_behind() -> None:
    # After the proxy and agent tests above: strace's worker processes fork only when this process has one thread.
    assert threading.active_count() == 1, threading.enumerate()


def test_the_policy_sources_kept_copy_reads_as_load_policy_reads(tmp_path: Path) -> None:
    from seccompose.policy import load_policy, read_policy_document

    path = tmp_path / "p.yaml"
    path.write_text("default: default\nrules: [{name: r, deny: [ptrace]}]\n")
    raw, doc = read_policy_document(path)
    assert raw == path.read_bytes() and doc == {"default": "default", "rules": [{"name": "r", "deny": ["ptrace"]}]}
    assert load_policy(path).rules[0].deny == ("ptrace",)
    path.write_bytes(b"rules: " + b"[" * 1000 + b"]" * 1000 + b"\n")
    with pytest.raises(FormatError, match="nested deeper"):
        read_policy_document(path)

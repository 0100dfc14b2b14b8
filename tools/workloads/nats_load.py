"""NATS load over the plain client protocol (no client library): pub/sub, request/reply, JetStream.

    python3 nats_load.py --port 28476 --messages 20000 --stream KEPT
    python3 nats_load.py --port 28476 --expect-stream KEPT

Subscribes, publishes ``--messages`` messages and waits for all of them (exit 1 if any is
lost); answers and makes requests (a reply subject per request); with ``--stream S``, creates a
file-backed JetStream stream S (subject ``kept.>``), stores 20 messages in it and checks its
count through the JetStream API. ``--expect-stream S`` checks the stream still holds them.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time


class Client:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""
        self.pos = 0
        info = self.line()
        if not info.startswith(b"INFO "):
            raise RuntimeError(f"no INFO from the server: {info!r}")
        self.send(b'CONNECT {"verbose":false,"pedantic":false,"headers":false,"name":"seccompose"}\r\nPING\r\n')
        self.expect_pong()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> None:
        chunk = self.sock.recv(262144)
        if not chunk:
            raise RuntimeError("the server closed the connection")
        if self.pos:
            self.buf = self.buf[self.pos :]
            self.pos = 0
        self.buf += chunk

    def line(self) -> bytes:
        while (end := self.buf.find(b"\r\n", self.pos)) < 0:
            self._fill()
        line = self.buf[self.pos : end]
        self.pos = end + 2
        return line

    def payload(self, size: int) -> bytes:
        while len(self.buf) - self.pos < size + 2:
            self._fill()
        data = self.buf[self.pos : self.pos + size]
        self.pos += size + 2
        return data

    def next_msg(self) -> tuple[str, str | None, bytes]:
        """Return (subject, reply, payload) of the next MSG, answering PINGs on the way."""
        while True:
            line = self.line()
            if line == b"PING":
                self.send(b"PONG\r\n")
                continue
            if line.startswith(b"MSG "):
                parts = line.split()
                reply = parts[3].decode() if len(parts) == 5 else None
                return parts[1].decode(), reply, self.payload(int(parts[-1]))
            if line.startswith(b"-ERR"):
                raise RuntimeError(line.decode())

    def expect_pong(self) -> None:
        while True:
            line = self.line()
            if line == b"PONG":
                return
            if line.startswith(b"-ERR"):
                raise RuntimeError(line.decode())

    def pub(self, subject: str, data: bytes, reply: str = "") -> None:
        self.send(f"PUB {subject} {reply} {len(data)}\r\n".replace("  ", " ").encode() + data + b"\r\n")

    def request(self, subject: str, data: bytes, sid: int) -> bytes:
        inbox = f"_INBOX.seccompose.{sid}"
        self.send(f"SUB {inbox} {sid}\r\n".encode())
        self.pub(subject, data, inbox)
        _subject, _reply, answer = self.next_msg()
        self.send(f"UNSUB {sid}\r\n".encode())
        return answer


def stream_info(c: Client, name: str, sid: int) -> dict[str, object]:
    info: dict[str, object] = json.loads(c.request(f"$JS.API.STREAM.INFO.{name}", b"", sid))
    return info


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--stream")
    parser.add_argument("--expect-stream")
    args = parser.parse_args()

    if args.expect_stream:
        info = stream_info(Client(args.port), args.expect_stream, 1)
        state = info.get("state") or {}
        count = state.get("messages", 0) if isinstance(state, dict) else 0
        print(f"stream {args.expect_stream}: {count} message(s)")
        return 0 if count >= 20 else 1

    sub, pub = Client(args.port), Client(args.port)
    sub.send(b"SUB load.> 1\r\nPING\r\n")
    sub.expect_pong()
    started = time.monotonic()
    data = b"x" * 256
    for i in range(args.messages):
        pub.pub(f"load.{i % 16}", data)
        if i % 1000 == 999:
            pub.send(b"PING\r\n")
            pub.expect_pong()
    pub.send(b"PING\r\n")
    pub.expect_pong()
    got = 0
    while got < args.messages:
        sub.next_msg()
        got += 1
    seconds = time.monotonic() - started
    print(f"pub/sub: {got}/{args.messages} in {seconds:.2f}s")

    # request/reply: the subscriber answers on the reply subject
    sub.send(b"SUB svc.echo 2\r\nPING\r\n")
    sub.expect_pong()
    for i in range(50):
        inbox = f"_INBOX.rr.{i}"
        pub.send(f"SUB {inbox} {100 + i}\r\n".encode())
        pub.pub("svc.echo", f"ping {i}".encode(), inbox)
        _s, reply, body = sub.next_msg()
        assert reply is not None
        sub.pub(reply, body.upper())
        _s, _r, answer = pub.next_msg()
        if answer != f"PING {i}".encode():
            print(f"request {i}: wrong answer {answer!r}", file=sys.stderr)
            return 1
        pub.send(f"UNSUB {100 + i}\r\n".encode())
    print("request/reply: 50 answered")

    if args.stream:
        js = Client(args.port)
        config = {
            "name": args.stream,
            "subjects": ["kept.>"],
            "storage": "file",
            "retention": "limits",
            "num_replicas": 1,
        }
        created = json.loads(js.request(f"$JS.API.STREAM.CREATE.{args.stream}", json.dumps(config).encode(), 1))
        if "error" in created and created["error"].get("err_code") != 10058:  # 10058: already exists
            print(f"stream create: {created}", file=sys.stderr)
            return 1
        for i in range(20):
            ack = json.loads(js.request(f"kept.{i % 4}", f"across-restarts {i}".encode(), 10 + i))
            if "error" in ack:
                print(f"stream publish: {ack}", file=sys.stderr)
                return 1
        info = stream_info(js, args.stream, 500)
        print(f"stream {args.stream}: {info.get('state')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

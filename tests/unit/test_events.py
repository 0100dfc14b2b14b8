"""The events stream: parsing, filters, following a growing (and rotated) file, the CLI, learn --events."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from seccompose.cli import main
from seccompose.errors import FormatError
from seccompose.events import Event, EventFilter, format_event, parse_since, read_events
from seccompose.integrations.sink import EventSink


def syscall(cid: str, name: str, *, image: str = "redis:7", mode: str = "complain", phase: str = "steady",
            when: str = "2026-12-07T10:00:00.000000Z", allow: dict[str, Any] | None = None,
            abi: str = "x86_64") -> dict[str, Any]:  # fmt: skip
    return {
        "schema": 1, "kind": "syscall", "time": when, "container": {"id": cid, "name": f"n-{cid}", "image": image},
        "pid": 7, "comm": "redis-server", "exe": "/usr/bin/redis-server", "arch": "x86_64", "abi": abi,
        "syscall": name, "nr": 1, "args": [0, 0, 0, 0, 0, 0], "answer": "continue", "mode": mode, "phase": phase,
        "layers": ["default action"], "allow": allow or {"names": [name], "action": "SCMP_ACT_ALLOW"},
        "profile": "sha256:00",
    }  # fmt: skip


def write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_filters() -> None:
    events = [
        Event.from_dict(syscall("abc123", "mkdir")),
        Event.from_dict(syscall("def456", "mkdir", image="docker.io/library/nginx:1.25")),
        Event.from_dict(syscall("abc123", "unshare", when="2026-12-07T11:00:00.000000Z")),
        Event.from_dict({"schema": 1, "kind": "stop", "time": "2026-12-07T11:00:00Z", "container": {"id": "abc123"}}),
    ]
    assert [e.syscall for e in events if EventFilter(container="abc")(e)] == ["mkdir", "unshare"]
    assert [e.container_id for e in events if EventFilter(container="n-def456")(e)] == ["def456"]
    # images are matched as Docker names them: nginx:* is docker.io/library/nginx:1.25
    assert [e.container_id for e in events if EventFilter(image="nginx:*")(e)] == ["def456"]
    assert [e.syscall for e in events if EventFilter(since=parse_since("2026-12-07T10:30:00Z"))(e)] == ["unshare"]
    assert [e.kind for e in events if EventFilter(kinds=("stop",))(e)] == ["stop"]
    assert [e.syscall for e in events if EventFilter(syscall="unshare")(e)] == ["unshare"]


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("{", "not a JSON line"),
        ("[]", "JSON object"),
        ('{"schema": 2, "kind": "syscall"}', "schema 2"),
        ('{"schema": 1, "kind": "syscall"}', "malformed"),
        ('{"schema": 1, "kind": "syscall", "time": "yesterday"}', "malformed"),
    ],
)
def test_bad_lines(line: str, fragment: str) -> None:
    with pytest.raises(FormatError, match=fragment):
        Event.from_json(line)


@pytest.mark.parametrize("text", ["10 minutes", "", "12:00", "-5m"])
def test_bad_since(text: str) -> None:
    with pytest.raises(FormatError, match="--since"):
        parse_since(text)


def test_follow_reads_new_lines_and_survives_rotation(tmp_path: Path) -> None:
    path = write(tmp_path / "events.jsonl", [syscall("c1", "mkdir")])
    stop = threading.Event()
    seen: list[str] = []

    def follow() -> None:
        seen.extend(event.syscall for event in read_events([path], follow=True, poll=0.02, stop=stop))

    t = threading.Thread(target=follow)
    t.start()
    time.sleep(0.2)
    with path.open("a") as f:
        f.write(json.dumps(syscall("c1", "unshare"))[:40])  # half a line: not read yet
        f.flush()
        time.sleep(0.2)
        f.write(json.dumps(syscall("c1", "unshare"))[40:] + "\n")
    time.sleep(0.2)
    rotated = tmp_path / "events.jsonl.1"
    path.rename(rotated)  # logrotate: a new file at the same path
    write(path, [syscall("c1", "ptrace")])
    deadline = time.monotonic() + 5
    while len(seen) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    t.join(5)
    assert seen == ["mkdir", "unshare", "ptrace"]


def test_cli_prints_text_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "e.jsonl", [syscall("c1", "mkdir"), syscall("c2", "unshare", image="nginx:1")])
    assert main(["events", "--events", str(path), "--image", "redis:*"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [format_event(Event.from_dict(syscall("c1", "mkdir")))]
    assert main(["events", "--events", str(path), "--format", "json", "--container", "c2"]) == 0
    assert json.loads(capsys.readouterr().out)["syscall"] == "unshare"
    assert main(["events", "--events", str(path), "--kind", "nonsense"]) == 2


def test_learn_events_updates_a_template(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = {
        "schema": 1, "name": "demo", "images": ["demo:*"],
        "phases": {"startup": {"names": ["bind", "setsid"], "ready": {"port": 80}}},
        "rules": [{"names": ["read", "write", "bind", "setsid"]}],
    }  # fmt: skip
    template = tmp_path / "demo.json"
    template.write_text(json.dumps(base))
    vsock = {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 40, "op": "SCMP_CMP_EQ"}]}
    events = write(
        tmp_path / "e.jsonl",
        [
            syscall("c1", "epoll_wait", image="demo:1"),
            syscall("c1", "epoll_wait", image="demo:1"),
            syscall("c2", "socket", image="demo:1", allow=vsock),
            syscall("c2", "setsid", image="demo:1"),  # needed after startup: leaves the phase
            syscall("c3", "mount", image="demo:1", phase="startup"),  # startup: allowed by design, not learned
            syscall("c4", "ptrace", image="demo:1", mode="enforce"),  # enforce: refused; only with --enforced
            syscall("c5", "kexec_load", image="other:1"),  # another image
        ],
    )
    out = tmp_path / "new.json"
    assert main(["learn", "--events", str(events), "--image", "demo:1", "--into", str(template), "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    learned = [r for r in doc["rules"] if "learn --events" in r.get("comment", "")]
    assert [(r["names"], r.get("args")) for r in learned] == [
        (["epoll_wait", "setsid"], None),
        (["socket"], [{"index": 0, "value": 40, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]),
    ]
    assert doc["phases"]["startup"]["names"] == ["bind"]
    assert "learnedFromEvents" in doc["provenance"] and "4 calls of demo:1" in doc["provenance"]["learnedFromEvents"]
    assert "epoll_wait (x86_64, 2 calls)" in capsys.readouterr().err
    # the result is a valid template
    from seccompose.loader import load_template

    assert "epoll_wait" in load_template(out).names()
    assert main(["learn", "--events", str(events), "--image", "demo:1", "--enforced", "-o", str(out)]) == 0
    assert "ptrace" in {n for r in json.loads(out.read_text())["rules"] for n in r["names"]}
    assert main(["learn", "--events", str(events), "--image", "nothing:1", "-o", str(out)]) == 2
    assert main(["learn", "--events", str(events), "-o", str(out)]) == 2  # which image?


def test_sink_reopens_after_rotation(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    sink = EventSink(path)
    sink.start()
    sink.put({"schema": 1, "kind": "start", "time": 1.5, "container": {"id": "a"}})
    deadline = time.monotonic() + 5
    while sink.written < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    path.rename(tmp_path / "events.jsonl.1")
    sink.reopen()
    sink.put_line(b'{"schema":1}\n', "a", "x")
    sink.close()
    assert json.loads((tmp_path / "events.jsonl.1").read_text())["time"] == "1970-01-01T00:00:01.500000Z"
    assert path.read_text() == '{"schema":1}\n'

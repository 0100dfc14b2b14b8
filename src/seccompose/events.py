r"""Refused-syscall events: the JSON lines ``seccompose agent`` writes, and what reads them.

One JSON object per line, schema ``1`` (``docs/reference/events.md``). Every record has
``schema``, ``kind`` and ``time`` (RFC 3339, UTC, microseconds); ``kind`` is:

- ``syscall``: one notified call: the container (``id``, ``name``, ``image``), ``pid``
  (the calling thread, in the agent's pid namespace), ``comm``, ``exe``, the host
  ``arch`` and the caller's ``abi`` (an ``int 0x80`` call from a 32-bit program is
  ``x86`` and named from the i386 table), ``syscall`` and ``nr``, the six ``args``, the
  ``answer`` (``errno`` with ``errno``/``errnoName``, ``continue``, or ``gone`` when the
  caller vanished first), the ``mode`` and ``phase`` (``startup`` or ``steady``), the
  ``layers`` that refused it (as ``seccompose explain`` names them), ``allow`` (the
  smallest OCI rule that would allow the call) and ``profile`` (the digest of the
  profile the container would have had unobserved);
- ``start`` / ``stop``: a container's listener arrived / its last listener hung up (with
  counts); ``ready``: its startup phase ended; ``learned``: in learn mode, the first
  time an image needed a syscall; ``dropped``: records the sink could not keep up with
  (counts per container and syscall); ``error``: something the agent could not handle.

>>> line = ('{"schema":1,"kind":"syscall","time":"2026-12-07T10:00:00.000001Z","container":{"id":"c1",'
...         '"name":"web","image":"redis:7"},"pid":42,"comm":"sh","exe":"/bin/busybox","arch":"x86_64",'
...         '"abi":"x86","syscall":"mkdir","nr":39,"args":[1,2,3,4,5,6],"answer":"errno","errno":1,'
...         '"errnoName":"EPERM","mode":"enforce","phase":"steady","layers":["deny"],'
...         '"allow":{"names":["mkdir"],"action":"SCMP_ACT_ALLOW"},"profile":"sha256:00"}')
>>> ev = Event.from_json(line)
>>> ev.abi, ev.syscall, ev.answer, ev.container_id
('x86', 'mkdir', 'errno', 'c1')
>>> print(format_event(ev))
2026-12-07T10:00:00.000001Z c1 (web) redis:7 pid 42 sh: mkdir [x86] -> EPERM (enforce; refused by deny; allow: mkdir)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TextIO

from seccompose.errors import FormatError

__all__ = [
    "KINDS",
    "SCHEMA",
    "Event",
    "EventFilter",
    "format_event",
    "format_time",
    "parse_since",
    "read_events",
]

SCHEMA: Final = 1
KINDS: Final = ("syscall", "start", "stop", "ready", "learned", "dropped", "error")
_MAX_LINE: Final = 1 << 20


def format_time(epoch: float) -> str:
    """Return an epoch time as RFC 3339 in UTC with microseconds.

    >>> format_time(0.5)
    '1970-01-01T00:00:00.500000Z'
    """
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(text: str) -> float:
    return dt.datetime.fromisoformat(text).timestamp()


_RELATIVE: Final = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h|d)$")
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str, *, now: float | None = None) -> float:
    """Return the epoch time ``--since`` names: RFC 3339 (``2026-12-07T10:00:00Z``) or an age (``10m``, ``2h``).

    Raises:
        FormatError: neither.

    >>> parse_since("90s", now=1000.0), parse_since("1970-01-01T00:01:00Z")
    (910.0, 60.0)
    """
    relative = _RELATIVE.match(text.strip())
    if relative:
        return (time.time() if now is None else now) - float(relative[1]) * _UNITS[relative[2]]
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise FormatError(
            f"{text!r} is not a time; give RFC 3339 (2026-12-07T10:00:00Z) or an age (30s, 10m, 2h, 1d)",
            location="--since",
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


@dataclass(frozen=True, slots=True)
class Event:
    """One record of the events stream (every kind; fields a kind does not have are empty)."""

    kind: str
    time: float
    container_id: str = ""
    container_name: str = ""
    image: str = ""
    pid: int = 0
    comm: str = ""
    exe: str = ""
    arch: str = ""
    abi: str = ""
    syscall: str = ""
    nr: int = -1
    args: tuple[int, ...] = ()
    answer: str = ""
    errno: int | None = None
    mode: str = ""
    phase: str = ""
    layers: tuple[str, ...] = ()
    allow: Mapping[str, Any] | None = field(default=None, hash=False, compare=False)
    profile: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False, repr=False)

    @classmethod
    def from_json(cls, line: str | bytes, *, location: str | None = None) -> Event:
        """Parse one line.

        Raises:
            FormatError: not an events record of a schema this version reads.
        """
        from seccompose._reader import parse_json

        try:
            doc = parse_json(line, limit=_MAX_LINE)
        except FormatError as exc:
            raise FormatError(f"not a JSON line: {exc}", location=location) from None
        if not isinstance(doc, Mapping):
            raise FormatError("an event is a JSON object", location=location)
        return cls.from_dict(doc, location=location)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], *, location: str | None = None) -> Event:
        """Build an event from its parsed JSON object.

        Raises:
            FormatError: not an events record of a schema this version reads.
        """
        if doc.get("schema") != SCHEMA:
            raise FormatError(f"events schema {doc.get('schema')!r} is not {SCHEMA}", location=location)
        try:
            container = doc.get("container") or {}
            allow = doc.get("allow")
            return cls(
                kind=str(doc["kind"]),
                time=_parse_time(str(doc["time"])),
                container_id=str(container.get("id", "")),
                container_name=str(container.get("name", "")),
                image=str(container.get("image", "")),
                pid=int(doc.get("pid", 0)),
                comm=str(doc.get("comm", "")),
                exe=str(doc.get("exe", "")),
                arch=str(doc.get("arch", "")),
                abi=str(doc.get("abi", "")),
                syscall=str(doc.get("syscall", "")),
                nr=int(doc.get("nr", -1)),
                args=tuple(int(a) for a in doc.get("args") or ()),
                answer=str(doc.get("answer", "")),
                errno=int(doc["errno"]) if doc.get("errno") is not None else None,
                mode=str(doc.get("mode", "")),
                phase=str(doc.get("phase", "")),
                layers=tuple(str(x) for x in doc.get("layers") or ()),
                allow=allow if isinstance(allow, Mapping) else None,
                profile=str(doc.get("profile", "")),
                raw=doc,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise FormatError(f"malformed event ({type(exc).__name__}: {exc})", location=location) from None


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events to keep: a container (id prefix or name), an image, a time, kinds, a syscall."""

    container: str | None = None
    image: str | None = None
    since: float | None = None
    kinds: tuple[str, ...] = ("syscall",)
    syscall: str | None = None

    def __call__(self, event: Event) -> bool:
        """Whether ``event`` passes."""
        if self.kinds and event.kind not in self.kinds:
            return False
        if self.since is not None and event.time < self.since:
            return False
        if self.container and not (
            event.container_id.startswith(self.container) or event.container_name == self.container
        ):
            return False
        if self.image and not _same_image(self.image, event.image):
            return False
        return not (self.syscall and event.syscall != self.syscall)


def _same_image(glob: str, image: str) -> bool:
    """Whether ``image`` is ``glob`` (a reference or a glob), under Docker's normalisation."""
    if not image:
        return False
    from seccompose.policy import _glob_matches

    return _glob_matches(glob, image) or glob == image


def read_events(
    paths: Iterable[str | Path],
    *,
    follow: bool = False,
    poll: float = 0.25,
    errors: TextIO | None = None,
    stop: Any = None,  # noqa: ANN401 - anything with is_set() (a threading.Event), for tests
) -> Iterator[Event]:
    """Yield the events of files in order; with ``follow``, keep reading the last one as it grows.

    Lines that are not events (a partial last line, another schema) are skipped and reported
    to ``errors``. Following survives rotation (the file replaced or truncated).

    Raises:
        OSError: a file cannot be opened.
    """
    files = [Path(p) for p in paths]
    for i, path in enumerate(files):
        last = follow and i == len(files) - 1
        yield from _read_one(path, follow=last, poll=poll, errors=errors, stop=stop)


def _read_one(path: Path, *, follow: bool, poll: float, errors: TextIO | None, stop: Any) -> Iterator[Event]:  # noqa: ANN401
    stream = path.open("rb")
    ino = os.fstat(stream.fileno()).st_ino
    partial = b""
    number = 0
    try:
        while True:
            chunk = stream.readline(_MAX_LINE)
            if chunk:
                partial += chunk
                if not partial.endswith(b"\n") and len(partial) < _MAX_LINE:
                    continue  # a line still being written
                number += 1
                line, partial = partial, b""
                if not line.strip():
                    continue
                try:
                    yield Event.from_json(line, location=f"{path}:{number}")
                except FormatError as exc:
                    if errors is not None:
                        errors.write(f"seccompose events: skipped: {exc}\n")
                continue
            if not follow or (stop is not None and stop.is_set()):
                return
            time.sleep(poll)
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            if st.st_ino != ino or st.st_size < stream.tell():  # rotated or truncated: start on the new file
                stream.close()
                stream = path.open("rb")
                ino = os.fstat(stream.fileno()).st_ino
                partial = b""
    finally:
        stream.close()


def _args_text(args: tuple[int, ...], count: int = 3) -> str:
    return ", ".join(hex(a) if a > 9 else str(a) for a in args[:count])


def format_event(event: Event) -> str:
    """Return one event as a line a person reads."""
    when = event.raw.get("time", "") if event.raw else format_time(event.time)
    who = event.container_id + (f" ({event.container_name})" if event.container_name else "")
    image = f" {event.image}" if event.image else ""
    if event.kind != "syscall":
        detail = {k: v for k, v in event.raw.items() if k not in ("schema", "kind", "time", "container")}
        return f"{when} {who}{image} {event.kind}: {json.dumps(detail, sort_keys=True)}"
    if event.answer == "errno":
        from seccompose.actions import errno_name

        answer = errno_name(event.errno if event.errno is not None else 0)
    else:
        answer = event.answer
    allow = ""
    if event.allow:
        conds = event.allow.get("args") or []
        allow = ",".join(event.allow.get("names") or []) + "".join(
            f" if arg{c['index']} == {c['value']:#x}" for c in conds
        )
    phase = " startup" if event.phase == "startup" else ""
    return (
        f"{when} {who}{image} pid {event.pid} {event.comm}: {event.syscall} [{event.abi}] -> {answer} "
        f"({event.mode}{phase}; refused by {', '.join(event.layers) or 'the profile'}; allow: {allow or '?'})"
    )

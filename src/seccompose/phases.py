"""Startup phases: syscalls a container needs only while it starts, and when it is ready.

A template may name syscalls its server makes only before it serves (``execve`` of the
entrypoint, ``setuid``/``setgid`` when it drops privileges, ``bind``/``listen``…), and
say how to tell that it serves: a TCP port listening in the container's network
namespace, a file appearing in its root filesystem, or a number of seconds. Without an
agent these syscalls stay allowed (nothing could end the phase). Under an observed
profile (:func:`seccompose.observe.observe`) they are handed to the agent, which lets
them run until the container is ready and answers them with the profile's errno
afterwards; ``timeout`` ends the phase even if the container never gets ready.

The template field (``docs/reference/template-format.md``)::

    "phases": {"startup": {"names": ["setgid", "setuid"], "ready": {"port": 6379}, "timeout": 300}}

>>> s = Startup.from_dict({"names": ["setuid", "bind"], "ready": {"port": 6379}})
>>> s.names, s.ready.describe(), s.timeout
(('bind', 'setuid'), 'TCP port 6379 listening', 300.0)
>>> Ready.parse("file:/run/ready").file
'/run/ready'
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from seccompose.errors import InvalidProfileError

__all__ = ["DEFAULT_TIMEOUT", "Ready", "Startup"]

DEFAULT_TIMEOUT: Final = 300.0
"""Seconds after which a startup phase ends even if the container never got ready."""

_MAX_SECONDS: Final = 86400.0


def _seconds(value: object, location: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidProfileError(f"{value!r} is not a number of seconds", location=location)
    if not 0 < value <= _MAX_SECONDS:
        raise InvalidProfileError(
            f"{value!r} seconds is out of range; use more than 0, at most 86400", location=location
        )
    return float(value)


@dataclass(frozen=True, slots=True)
class Ready:
    """When a container is ready: exactly one of a TCP ``port`` listening, a ``file`` existing, ``seconds`` passed."""

    port: int | None = None
    """A TCP port (IPv4 or IPv6) in LISTEN state in the container's network namespace."""
    file: str | None = None
    """An absolute path inside the container's root filesystem."""
    seconds: float | None = None
    """Seconds since the agent received the container."""

    def __post_init__(self) -> None:
        _check_ready(self, "ready")

    @classmethod
    def from_dict(cls, raw: object, *, location: str = "ready") -> Ready:
        """Return the condition of ``{"port": N}``, ``{"file": PATH}`` or ``{"seconds": N}``.

        Raises:
            InvalidProfileError: anything else.
        """
        if not isinstance(raw, Mapping) or len(raw) != 1 or next(iter(raw)) not in ("port", "file", "seconds"):
            raise InvalidProfileError(
                'ready must be one of {"port": N}, {"file": "/path"} or {"seconds": N}', location=location
            )
        ready = object.__new__(cls)
        for key in ("port", "file", "seconds"):
            object.__setattr__(ready, key, raw.get(key))
        _check_ready(ready, location)
        return ready

    @classmethod
    def parse(cls, text: str, *, location: str = "--ready") -> Ready:
        """Return the condition written ``port:N``, ``file:PATH`` or ``seconds:N`` (a command-line form).

        Raises:
            InvalidProfileError: anything else.

        >>> Ready.parse("port:8080"), Ready.parse("seconds:2.5").seconds
        (Ready(port=8080, file=None, seconds=None), 2.5)
        """
        kind, sep, value = str(text).partition(":")
        raw: dict[str, object] = {}
        if sep and kind == "port" and value.isdigit():
            raw = {"port": int(value)}
        elif sep and kind == "file":
            raw = {"file": value}
        elif sep and kind == "seconds":
            with contextlib.suppress(ValueError):
                raw = {"seconds": float(value)}
        if raw:
            return cls.from_dict(raw, location=location)
        raise InvalidProfileError(
            f"{text!r} is not a readiness condition; write port:N, file:/path or seconds:N", location=location
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        if self.port is not None:
            return {"port": self.port}
        if self.file is not None:
            return {"file": self.file}
        return {"seconds": self.seconds}

    def describe(self) -> str:
        """Say the condition in words."""
        if self.port is not None:
            return f"TCP port {self.port} listening"
        if self.file is not None:
            return f"file {self.file} exists"
        return f"{self.seconds:g} seconds passed"


def _check_ready(ready: Ready, location: str) -> None:
    given = [v for v in (ready.port, ready.file, ready.seconds) if v is not None]
    if len(given) != 1:
        raise InvalidProfileError("a readiness condition names exactly one of port, file or seconds", location=location)
    port = ready.port
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
        raise InvalidProfileError(f"port {port!r} is not a TCP port (1-65535)", location=f"{location}.port")
    if ready.file is not None and (not isinstance(ready.file, str) or not ready.file.startswith("/")):
        raise InvalidProfileError(
            f"file {ready.file!r} must be an absolute path inside the container", location=f"{location}.file"
        )
    if ready.seconds is not None:
        object.__setattr__(ready, "seconds", _seconds(ready.seconds, f"{location}.seconds"))


@dataclass(frozen=True, slots=True)
class Startup:
    """Syscalls needed only while the container starts, and when it counts as started."""

    names: tuple[str, ...]
    ready: Ready
    timeout: float = DEFAULT_TIMEOUT
    """The phase ends after this many seconds even if ``ready`` never holds (so it fails closed)."""
    comment: str = ""

    def __post_init__(self) -> None:
        _check_startup(self, "phases.startup")

    @classmethod
    def from_dict(cls, raw: object, *, location: str = "phases.startup") -> Startup:
        """Return the phase of ``{"names": [...], "ready": {...}, "timeout": N, "comment": "..."}``.

        Raises:
            InvalidProfileError: a field is missing, unknown or wrong (with its JSON path).
        """
        if not isinstance(raw, Mapping):
            raise InvalidProfileError("must be an object with names, ready, timeout", location=location)
        unknown = set(raw) - {"names", "ready", "timeout", "comment"}
        if unknown:
            raise InvalidProfileError(
                f"unknown field {min(unknown)!r}; use names, ready, timeout, comment", location=location
            )
        names = raw.get("names")
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise InvalidProfileError("names must be an array of syscall names", location=f"{location}.names")
        if "ready" not in raw:
            raise InvalidProfileError("ready is required: when does the container count as started?", location=location)
        ready = Ready.from_dict(raw["ready"], location=f"{location}.ready")
        comment = raw.get("comment", "")
        if not isinstance(comment, str):
            raise InvalidProfileError("comment must be a string", location=f"{location}.comment")
        startup = object.__new__(cls)
        for key, value in (("names", tuple(names)), ("ready", ready), ("timeout", raw.get("timeout", DEFAULT_TIMEOUT))):
            object.__setattr__(startup, key, value)
        object.__setattr__(startup, "comment", comment)
        _check_startup(startup, location)
        return startup

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (names sorted)."""
        out: dict[str, Any] = {"names": list(self.names), "ready": self.ready.to_dict(), "timeout": self.timeout}
        if self.comment:
            out["comment"] = self.comment
        return out


def _check_startup(startup: Startup, location: str) -> None:
    if not isinstance(startup.names, tuple) or not all(isinstance(n, str) and n for n in startup.names):
        raise InvalidProfileError("names must be syscall names", location=f"{location}.names")
    object.__setattr__(startup, "names", tuple(sorted(set(startup.names))))
    object.__setattr__(startup, "timeout", _seconds(startup.timeout, f"{location}.timeout"))

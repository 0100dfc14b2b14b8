"""The decision log: one JSON line per container start, and each profile kept once by its digest.

Layout (``LOG_SCHEMA`` 1, documented in docs/reference/decision-log.md)::

    {"schema": 1, "time": "2026-12-07T10:00:00.123456Z", "engine": "docker", "route": "proxy",
     "container": {"id": "…", "name": "web"}, "image": "redis:7", "decision": {…Decision.record()…}}

Profiles live beside the log in ``<log>.profiles/<hex>.json`` (the digest's hex), written
once, atomically: an event or a decision can be explained later with the exact profile the
kernel had. Lines are appended under an exclusive ``flock`` so concurrent writers (one
wrapper per container start, the proxy's threads) never interleave.

>>> import tempfile, os
>>> log = DecisionLog(os.path.join(tempfile.mkdtemp(), "decisions.jsonl"))
>>> log.append({"decision": {"profile": None}, "container": {"id": "c1", "name": "a"}, "image": "x"})
>>> [e["container"]["id"] for e in log.entries()]
['c1']
"""

from __future__ import annotations

import fcntl
import os
import time as _time

from seccompose.integrations import _fastjson as json  # json's own C code, without its 10 ms import

TYPE_CHECKING = False  # not typing's: the OCI runtime wrapper imports this module on every container start
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

__all__ = ["LOG_SCHEMA", "DecisionLog", "log_entry"]

LOG_SCHEMA = 1
_MAX_LINE = 16 << 20


def _now() -> str:
    now = _time.time()
    return _time.strftime("%Y-%m-%dT%H:%M:%S", _time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}Z"


def log_entry(record: dict[str, object], *, time: str | None = None) -> dict[str, object]:
    """Return the log line for a decision record (``Decision.record()``)."""
    facts = record.get("facts")
    facts = facts if isinstance(facts, dict) else {}
    return {
        "schema": LOG_SCHEMA,
        "time": time or _now(),
        "engine": facts.get("engine", ""),
        "route": facts.get("route", ""),
        "container": {"id": facts.get("container_id", ""), "name": facts.get("name", "")},
        "image": facts.get("image", ""),
        "decision": record,
    }


def _atomic_write(path: str, data: bytes) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


class DecisionLog:
    """A decision log file and its profile store."""

    def __init__(self, path: str) -> None:
        self.path = str(path)
        self.profiles = self.path + ".profiles"

    def profile_path(self, digest: str) -> str:
        """Return where the profile with ``digest`` (``sha256:<hex>``) is kept."""
        return os.path.join(self.profiles, digest.removeprefix("sha256:") + ".json")

    def keep_profile(self, digest: str, seccomp_json: str) -> None:
        """Store a profile under its digest, once."""
        path = self.profile_path(digest)
        if os.path.exists(path):
            return
        os.makedirs(self.profiles, exist_ok=True)
        _atomic_write(path, seccomp_json.encode() + b"\n")

    def append(self, entry: dict[str, object]) -> None:
        """Append one line (a ``log_entry``) under an exclusive lock."""
        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        line = json.dumps(entry, sort_keys=True).encode() + b"\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)

    def record(self, decision_record: dict[str, object], seccomp_json: str | None) -> dict[str, object]:
        """Keep the profile (when there is one) and append the decision's line; return the line."""
        digest = decision_record.get("profile")
        if isinstance(digest, str) and seccomp_json is not None:
            self.keep_profile(digest, seccomp_json)
        entry = log_entry(decision_record)
        self.append(entry)
        return entry

    def entries(self, *, container: str | None = None, image: str | None = None) -> Iterator[dict[str, Any]]:
        """Yield the log's lines, oldest first; ``container`` matches an id prefix or a name glob, ``image`` a glob."""
        import fnmatch  # here, not at the top: the wrapper only appends

        try:
            f = open(self.path, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            return
        with f:
            for raw in f:
                if len(raw) > _MAX_LINE or not raw.strip():
                    continue
                try:
                    entry = json.parse(raw, source=self.path, limit=_MAX_LINE)
                except ValueError:  # the reader layer's FormatError
                    continue  # a line cut by a crash (or a hostile one): the rest of the log is still good
                if not isinstance(entry, dict):
                    continue
                who = entry.get("container") or {}
                ident, name = str(who.get("id", "")), str(who.get("name", ""))
                if container and not (ident.startswith(container) or fnmatch.fnmatchcase(name, container)):
                    continue
                if image and not fnmatch.fnmatchcase(str(entry.get("image", "")), image):
                    continue
                yield entry

    def profile(self, digest: str) -> str:
        """Return the kept profile's JSON text.

        Raises:
            FileNotFoundError: no profile with that digest was kept here.
        """
        with open(self.profile_path(digest), encoding="utf-8") as f:
            return f.read()

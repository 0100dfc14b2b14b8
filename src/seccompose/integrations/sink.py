"""The events sink: a bounded queue in front of a writer thread, so a slow disk never delays an answer.

``put`` never blocks: when the queue is full the record is dropped and counted (per
container and syscall), and the writer writes a ``dropped`` record with those counts
once it catches up, so a reader always knows how many calls it did not see in detail.
Records are formatted (``json.dumps``) and written by the writer thread, in batches.

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "events.jsonl"
>>> sink = EventSink(path, capacity=4)
>>> sink.start()
>>> all(sink.put({"schema": 1, "kind": "syscall", "n": i}) for i in range(3))
True
>>> sink.close()
>>> len(path.read_text().splitlines()), sink.written, sink.dropped
(3, 3, 0)
"""

from __future__ import annotations

import collections
import json
import os
import threading
import time
from pathlib import Path
from typing import IO, Any, Final

__all__ = ["DEFAULT_CAPACITY", "EventSink"]

DEFAULT_CAPACITY: Final = 65536
"""Records the queue holds (about 40 MB at most); a writer that falls that far behind drops."""
_MAX_DROP_KEYS: Final = 4096


class EventSink:
    """Append JSON lines to a file (or a stream) from a writer thread fed by a bounded queue."""

    def __init__(
        self, path: str | Path | None, *, capacity: int = DEFAULT_CAPACITY, stream: IO[bytes] | None = None
    ) -> None:
        self.path = None if path is None else Path(path)
        self.capacity = capacity
        self.written = 0
        self.dropped = 0
        self._stream = stream
        self._queue: collections.deque[dict[str, Any] | bytes] = collections.deque()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._drops: dict[tuple[str, str], int] = {}
        self._closing = False
        self._reopen = False
        self._thread = threading.Thread(target=self._run, name="seccompose-events", daemon=True)
        self._file: IO[bytes] | None = None

    def start(self) -> None:
        """Open the file (append, created 0600) and start the writer.

        Raises:
            OSError: the file cannot be opened.
        """
        self._file = self._open()
        self._thread.start()

    def _open(self) -> IO[bytes]:
        if self._stream is not None:
            return self._stream
        assert self.path is not None  # noqa: S101 - one of path or stream is given
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return os.fdopen(fd, "ab", buffering=0)

    def put(self, record: dict[str, Any]) -> bool:
        """Queue a record; False (and counted) when the queue is full. Never blocks on I/O."""
        with self._lock:
            if len(self._queue) >= self.capacity:
                self.dropped += 1
                container = record.get("container") or {}
                key = (str(container.get("id", "")), str(record.get("syscall", record.get("kind", ""))))
                if key in self._drops or len(self._drops) < _MAX_DROP_KEYS:
                    self._drops[key] = self._drops.get(key, 0) + 1
                else:
                    self._drops["", "*"] = self._drops.get(("", "*"), 0) + 1
                return False
            self._queue.append(record)
            if len(self._queue) == 1:
                self._wake.notify()
        return True

    def put_line(self, line: bytes, container: str, what: str) -> bool:
        """Queue a record already written as a JSON line; False (and counted) when the queue is full."""
        with self._lock:
            if len(self._queue) >= self.capacity:
                self.dropped += 1
                key = (container, what)
                if key in self._drops or len(self._drops) < _MAX_DROP_KEYS:
                    self._drops[key] = self._drops.get(key, 0) + 1
                else:
                    self._drops["", "*"] = self._drops.get(("", "*"), 0) + 1
                return False
            self._queue.append(line)
            if len(self._queue) == 1:
                self._wake.notify()
        return True

    def reopen(self) -> None:
        """Reopen the file at its path (after log rotation); done by the writer before its next write."""
        with self._lock:
            self._reopen = True
            self._wake.notify()

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the writer and close the file."""
        with self._lock:
            self._closing = True
            self._wake.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._file is not None and self._stream is None:
            self._file.close()

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closing and not self._reopen and not self._drops:
                    self._wake.wait(1.0)
                batch = self._queue
                self._queue = collections.deque()
                drops, self._drops = self._drops, {}
                closing, reopen, self._reopen = self._closing, self._reopen, False
            if reopen and self._stream is None:
                assert self._file is not None  # noqa: S101 - opened in start()
                self._file.close()
                self._file = self._open()
            self._write(batch, drops)
            if closing:
                with self._lock:
                    if not self._queue and not self._drops:
                        return

    def _write(self, batch: collections.deque[dict[str, Any] | bytes], drops: dict[tuple[str, str], int]) -> None:
        from seccompose.events import SCHEMA, format_time

        out = bytearray()
        dumps = json.dumps
        for record in batch:
            if isinstance(record, bytes):
                out += record
                continue
            when = record.get("time")
            if isinstance(when, float):  # the answering thread stores time.time(); formatting is done here
                record["time"] = format_time(when)
            out += dumps(record, separators=(",", ":")).encode()
            out += b"\n"
        if drops:
            counts = [{"container": c, "syscall": s, "count": n} for (c, s), n in sorted(drops.items())]
            summary = {"schema": SCHEMA, "kind": "dropped", "time": format_time(time.time()), "counts": counts}
            out += dumps(summary, separators=(",", ":")).encode() + b"\n"
        if not out:
            return
        assert self._file is not None  # noqa: S101 - opened in start()
        try:
            self._file.write(out)
            self._file.flush()
        except OSError:
            # A full disk or a closed pipe must not kill the writer: the records are lost, and counted.
            with self._lock:
                self.dropped += len(batch)
            return
        self.written += len(batch)

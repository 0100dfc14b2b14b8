"""(g) The seccomp agent: notification round trip, sustained rate, and the cost of being observed at all.

A forked child loads the observed profile (Docker's default plus a deny of ``getppid``,
compiled by libseccomp as runc compiles it) with ``SECCOMP_FILTER_FLAG_NEW_LISTENER``,
hands the listener to a real ``seccompose agent`` process (enforce mode, writing its
events file) the way crun does, and then:

- round trip: calls ``getppid`` (refused, so notified: the agent reads it, checks it,
  reads ``/proc``, answers EPERM, queues the event) one at a time, timing each call;
- sustained: calls it as fast as it can for a number of calls, the rate being calls per
  second of wall time;
- overhead: runs a workload that never hits a refused syscall (``getpid``, ``read`` of
  4 kB from ``/dev/zero``, ``stat``, ``clock_gettime``) under the observed profile with
  the agent running, and under the same profile unobserved, alternating, in one run:
  the ratio of the medians.
"""

from __future__ import annotations

import array
import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from seccompose import Arch, compose
from seccompose.caps import DOCKER_DEFAULT_CAPABILITIES
from seccompose.check import compile_bpf
from seccompose.formats.oci import dumps
from seccompose.observe import observe

_LIBC = ctypes.CDLL(None, use_errno=True)
NR_GETPPID = 110
NR_GETPID = 39


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def profiles(socket_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(unobserved, observed): Docker's default for Docker's capabilities, getppid denied."""
    p = compose(
        "default", arch=Arch.X86_64, caps=DOCKER_DEFAULT_CAPABILITIES, deny=["getppid"], no_new_privileges=False
    )
    o = observe(p, listener_path=str(socket_path), runtime="runc,crun")
    return json.loads(dumps(p)), json.loads(dumps(o.profile))


@contextlib.contextmanager
def agent() -> Iterator[tuple[Path, subprocess.Popen[bytes]]]:
    """A real ``seccompose agent`` on a private socket, with its events file; stopped and removed after."""
    where = Path(tempfile.mkdtemp(prefix="sc-bench-agent-", dir="/tmp"))
    sock = where / "agent.sock"
    proc = subprocess.Popen(
        [sys.executable, "-m", "seccompose", "agent", "--socket", str(sock), "--events", str(where / "events.jsonl")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not sock.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                msg = "the agent did not start"
                raise RuntimeError(msg)
            time.sleep(0.02)
        yield sock, proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(where, ignore_errors=True)


def _child(bpf: bytes, sock: Path | None, work: Callable[[], bytes], out: int) -> None:  # pragma: no cover
    n = len(bpf) // 8
    prog = _Fprog(n, (_SockFilter * n).from_buffer_copy(bpf))
    _LIBC.prctl(38, 1, 0, 0, 0)
    flags = 8 if sock else 0  # SECCOMP_FILTER_FLAG_NEW_LISTENER
    listener = _LIBC.syscall(317, 1, flags, ctypes.byref(prog))
    if listener < 0:
        os._exit(3)
    if sock is not None:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(str(sock))
        pid = os.getpid()
        inner = {"ociVersion": "1.0.2", "id": f"bench-{pid}", "status": "running", "pid": pid}
        state = {"ociVersion": "1.0.2", "fds": ["seccompFd"], "pid": pid, "metadata": _METADATA, "state": inner}
        s.sendmsg([json.dumps(state).encode()], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [listener]))])
        os.close(listener)
        s.close()
    result = work()
    os.write(out, struct.pack("<Q", len(result)) + result)
    os._exit(0)


_METADATA = ""


def run_child(oci: dict[str, Any], sock: Path | None, work: Callable[[], bytes]) -> bytes:
    """Run ``work`` in a child under ``oci`` (observed: its listener goes to the agent on ``sock``)."""
    global _METADATA  # noqa: PLW0603 - the forked child reads it
    _METADATA = oci.get("listenerMetadata", "")
    bpf = compile_bpf(oci)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(r)
        try:
            _child(bpf, sock, work, w)
        finally:
            os._exit(2)
    os.close(w)
    data = bytearray()
    while chunk := os.read(r, 1 << 20):
        data += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    if status != 0 or len(data) < 8:
        msg = f"the benchmark child failed (status {status})"
        raise RuntimeError(msg)
    size = struct.unpack_from("<Q", data)[0]
    return bytes(data[8 : 8 + size])


def _timed_calls(nr: int, count: int) -> Callable[[], bytes]:
    """``count`` calls of syscall ``nr``, each timed (ns): getppid's trips to the agent, getpid's allowed calls."""

    def work() -> bytes:  # pragma: no cover - runs in the child
        syscall = _LIBC.syscall
        clock = time.perf_counter_ns
        out = array.array("q")
        for _ in range(count):
            t0 = clock()
            syscall(nr)
            out.append(clock() - t0)
        return out.tobytes()

    return work


def _sustained(count: int) -> Callable[[], bytes]:
    def work() -> bytes:  # pragma: no cover - runs in the child
        syscall = _LIBC.syscall
        refused = 0
        t0 = time.perf_counter()
        for _ in range(count):
            if syscall(NR_GETPPID) == -1:
                refused += 1
        elapsed = time.perf_counter() - t0
        return struct.pack("<dQ", elapsed, refused)

    return work


def _workload(rounds: int) -> Callable[[], bytes]:
    def work() -> bytes:  # pragma: no cover - runs in the child
        fd = os.open("/dev/zero", os.O_RDONLY)
        t0 = time.perf_counter()
        for _ in range(rounds):
            os.getpid()
            os.read(fd, 4096)
            os.stat("/")  # noqa: PTH116 - the syscall is the workload
            time.clock_gettime(time.CLOCK_MONOTONIC)
        elapsed = time.perf_counter() - t0
        os.close(fd)
        return struct.pack("<d", elapsed)

    return work


def _drained(events: Path, quiet: float = 1.0, limit: float = 120.0) -> None:
    """Wait until the events file has not grown for ``quiet`` seconds."""
    deadline = time.monotonic() + limit
    size, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now = events.stat().st_size if events.exists() else 0
        if now != size:
            size, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.1)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(*, quick: bool) -> dict[str, float]:
    """Return the figures: round trip p50/p99 (us), allowed call p50 (us), notifications/s, overhead ratio."""
    trips, sustained, rounds, repeats = (2_000, 20_000, 20_000, 4) if quick else (50_000, 300_000, 200_000, 10)
    with agent() as (sock, _proc):
        unobserved, observed = profiles(sock)
        raw = run_child(observed, sock, _timed_calls(NR_GETPPID, trips))
        rt = [v / 1000 for v in array.array("q", raw)]
        allowed = [v / 1000 for v in array.array("q", run_child(observed, sock, _timed_calls(NR_GETPID, trips)))]
        elapsed, refused = struct.unpack("<dQ", run_child(observed, sock, _sustained(sustained)))
        _drained(sock.parent / "events.jsonl")  # the agent's sink has written everything: an idle agent
        times: dict[str, list[float]] = {"observed": [], "unobserved": []}
        runs = {"observed": (observed, sock), "unobserved": (unobserved, None)}
        for i in range(repeats):  # alternating (ABBA: neither always runs first), so both see the same machine
            for label in ("observed", "unobserved") if i % 2 == 0 else ("unobserved", "observed"):
                oci, listener = runs[label]
                times[label].append(struct.unpack("<d", run_child(oci, listener, _workload(rounds)))[0])
    return {
        "round_trip_p50_us": statistics.median(rt),
        "round_trip_p99_us": _pct(rt, 0.99),
        "allowed_p50_us": statistics.median(allowed),
        "notifications_per_s": sustained / elapsed,
        "refused": float(refused),
        "sustained_calls": float(sustained),
        "workload_observed_s": statistics.median(times["observed"]),
        "workload_unobserved_s": statistics.median(times["unobserved"]),
        "overhead_ratio": statistics.median(times["observed"]) / statistics.median(times["unobserved"]),
        "workload_rounds": float(rounds),
        "repeats": float(repeats),
        "trips": float(trips),
    }

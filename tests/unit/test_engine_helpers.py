"""tests/integration/_engines.py: the process helpers every real-engine test stops and waits with."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.integration._engines import podman_argv, stop_process, wait_for_socket


def test_stop_process_ends_a_process_with_sigterm() -> None:
    proc = subprocess.Popen(["sleep", "100"])
    stop_process(proc, timeout=10)
    assert proc.returncode == -signal.SIGTERM


def test_stop_process_kills_a_process_that_ignores_the_signal() -> None:
    ready = "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(flush=True); time.sleep(100)"
    proc = subprocess.Popen([sys.executable, "-c", ready], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.readline()  # the handler is in place
    stop_process(proc, timeout=0.5)
    assert proc.returncode == -signal.SIGKILL
    proc.stdout.close()


def test_stop_process_leaves_an_exited_process_alone() -> None:
    proc = subprocess.Popen(["true"])
    proc.wait()
    stop_process(proc)
    assert proc.returncode == 0


def test_wait_for_socket_stops_waiting_when_the_process_exits(tmp_path: Path) -> None:
    proc = subprocess.Popen(["true"])
    proc.wait()
    started = time.monotonic()
    wait_for_socket(tmp_path / "never.sock", proc, tries=1000, delay=0.05)  # 50 s if it kept waiting
    assert time.monotonic() - started < 5


def test_wait_for_socket_returns_once_the_path_exists(tmp_path: Path) -> None:
    sock = tmp_path / "made.sock"
    proc = subprocess.Popen(["sh", "-c", f"sleep 0.3; : > {sock}; sleep 100"])
    try:
        wait_for_socket(sock, proc, tries=200, delay=0.05)
        assert sock.exists()
    finally:
        stop_process(proc)


def test_podman_keeps_its_storage_under_the_given_root() -> None:
    argv = podman_argv(Path("/tmp/sc-x"))
    assert argv[1:] == ["--root", "/tmp/sc-x/root", "--runroot", "/tmp/sc-x/run"]

"""Fixtures of the image suites (``nox -s images``, ``nox -s images_soak``): a private dockerd with the
twenty template images, ``seccompose proxy`` in front of it, the static test programs.

The images are built once per session from the shared Debian root filesystem (``tools/images.py``,
cached across runs by its package list) with the Dockerfiles of ``images/`` and tagged with the
official names. Everything started is this session's own: the daemon and the proxy live under
``/tmp/sc18-img-PID/`` and are stopped at the end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests._tools import tool
from tests.integration._engines import stop_process, wait_for_socket

engines = tool("engines")
images = tool("images")
recipes = tool("image_recipes")
session_tools = tool("image_session")

BIN = Path(sys.executable).parent
SECCOMPOSE = BIN / "seccompose"
TIMINGS: dict[str, float] = {}
"""Seconds per test, printed at the end of the session (the CI log keeps them)."""


def why_not() -> str | None:
    """Why this machine cannot run the image suites (None: it can)."""
    if os.uname().machine != "x86_64":
        return "the static test programs are x86_64 machine code"
    if os.geteuid() != 0:
        return "dockerd and mmdebstrap need root"
    lacking = engines.missing("/usr/sbin/dockerd", "/usr/bin/docker", "mmdebstrap", "as", "ld")
    if lacking:
        return f"not installed: {', '.join(lacking)} (see .ci/apt-packages)"
    return None


@dataclass
class Setup:
    """What the image tests share: the engine, the proxy's socket and log, the probes, a scratch root."""

    engine: Any
    proxy: str
    proxy_log: Path
    probes: Path
    root: Path


def _policy() -> str:
    """Every app template bound to its own image globs (a binding with no images takes the template's)."""
    lines = ["version: 1", "templates:"]
    lines += [f"  - template: {name}" for name in recipes.RECIPES]
    lines += ["explicit_profile: respect", "unconfined: refuse", "on_error: refuse"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="session")
def setup() -> Iterator[Setup]:
    reason = why_not()
    if reason:
        pytest.skip(reason)
    root = Path(f"/tmp/sc18-img-{os.getpid()}")  # short: unix socket paths are limited to 107 bytes
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    root.chmod(0o755)
    started = time.monotonic()
    rootfs = images.build()
    TIMINGS["(rootfs build or cache)"] = time.monotonic() - started
    engine = engines.PrivateDocker(root / "d")
    proxy = None
    try:
        engine.start()
        started = time.monotonic()
        images.prepare(engine, rootfs)
        session_tools.ensure_tiny_image(engine)
        TIMINGS["(import and image builds)"] = time.monotonic() - started
        policy = root / "policy.yaml"
        policy.write_text(_policy())
        proxy_sock = root / "proxy.sock"
        proxy_log = root / "decisions.jsonl"
        err = (root / "proxy.err").open("wb")
        proxy = subprocess.Popen(
            [str(SECCOMPOSE), "proxy", "--listen", f"unix://{proxy_sock}", "--upstream", str(engine.sock),
             "--policy", str(policy), "--log", str(proxy_log)],
            stdout=subprocess.DEVNULL, stderr=err,
        )  # fmt: skip
        err.close()
        wait_for_socket(proxy_sock, proxy, tries=400)
        if proxy.poll() is not None:
            pytest.fail(f"seccompose proxy exited: {(root / 'proxy.err').read_text()[-800:]}")
        probe, _probe32 = tool("syscall_probe").build(root / "probe")
        (root / "probe").chmod(0o755)
        yield Setup(engine, f"unix://{proxy_sock}", proxy_log, probe.parent, root)
    finally:
        if proxy is not None:
            stop_process(proxy, 60)
        engine.stop()
        shutil.rmtree(root, ignore_errors=True)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print how long each image test took (the budget is checked on these)."""
    if not TIMINGS:
        return
    terminalreporter.section("image suite timings")
    for key, seconds in TIMINGS.items():
        terminalreporter.write_line(f"{key:<40} {seconds:7.1f}s")
    terminalreporter.write_line(f"{'total':<40} {sum(TIMINGS.values()):7.1f}s")

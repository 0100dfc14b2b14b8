"""Fixtures of the real-engine suite (``nox -s engines``): a private dockerd and podman, the server images.

The suite is slow (it builds a Debian root filesystem with every server once, cached across
runs, imports it into its own dockerd and podman, and runs every template's server under each
engine), so ``nox -s tests`` leaves it out (``-m "not engines"``) and ``nox -s engines`` (also
run by ``.ci/run``) runs it. Everything it starts is its own: daemons under
``/tmp/sc-eng-PID/``, stopped and removed at the end of the session.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._tools import tool

engines = tool("engines")
images = tool("images")


def why_not() -> str | None:
    """Why this machine cannot run the real-engine suite (None: it can)."""
    if os.uname().machine != "x86_64":
        return "the test programs are x86_64 machine code"
    if os.geteuid() != 0:
        return "dockerd, podman, runc and mmdebstrap need root"
    lacking = engines.missing(
        "/usr/sbin/dockerd", "/usr/bin/docker", "/usr/bin/podman", "runc", "crun", "mmdebstrap", "as", "ld", "strace"
    )
    if lacking:
        return f"not installed: {', '.join(lacking)} (see .ci/apt-packages)"
    return None


@pytest.fixture(scope="session")
def state_root() -> Iterator[Path]:
    root = Path(f"/tmp/sc-eng-{os.getpid()}")  # short: unix socket paths are limited to 107 bytes
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    root.chmod(0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def rootfs() -> Path:
    reason = why_not()
    if reason:
        pytest.skip(reason)
    path: Path = images.build()
    return path


@pytest.fixture(scope="session")
def docker(state_root: Path, rootfs: Path) -> Iterator[object]:
    engine = engines.PrivateDocker(state_root / "d")
    with engine:
        images.import_into(engine, rootfs)
        yield engine


@pytest.fixture(scope="session")
def podman(state_root: Path, rootfs: Path) -> Iterator[object]:
    engine = engines.PrivatePodman(state_root / "p")
    with engine:
        images.import_into(engine, rootfs)
        yield engine


@pytest.fixture(scope="session")
def probes(state_root: Path) -> tuple[Path, Path]:
    """The static test programs (``probe``, ``probe32``), in a folder every container mounts read-only."""
    probe: tuple[Path, Path] = tool("syscall_probe").build(state_root / "probe")
    (state_root / "probe").chmod(0o755)
    return probe

"""render(engine="podman") against the real Podman: the linux.seccomp it writes into the container's config.json.

``podman create --security-opt seccomp=FILE`` followed by ``podman init`` makes Podman
write the OCI config it hands the runtime (even where the runtime then cannot start the
container on this machine). The rendered object must equal Podman's byte for byte, key
order included, for the capability set Podman itself put in ``process.capabilities.bounding``.
Podman keeps its storage under a private ``--root``/``--runroot``, never the machine's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.integration._engines import podman_argv

from seccompose.arch import host_arch
from seccompose.render import render

PROFILES = Path(__file__).parents[2] / "fixtures" / "reference" / "profiles"
PODMAN = shutil.which("podman")

CAP_OPTIONS = {
    "defaults": [],
    "sys-admin": ["--cap-add", "SYS_ADMIN"],
    "none": ["--cap-drop", "ALL"],
    "perfmon-audit": ["--cap-drop", "ALL", "--cap-add", "PERFMON", "--cap-add", "AUDIT_WRITE"],
    "all": ["--cap-add", "ALL"],
}

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def podman() -> Iterator[list[str]]:
    """podman with storage of its own (never the machine's), emptied and removed afterwards."""
    root = Path(f"/tmp/sc16-render-podman-{os.getpid()}")  # short: conmon's attach sockets live under it
    shutil.rmtree(root, ignore_errors=True)
    base = [*podman_argv(root), "--storage-driver", "vfs"]
    try:
        yield base
    finally:
        subprocess.run([*base, "rm", "--all", "--force"], capture_output=True, timeout=120, check=False)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if PODMAN is None:
        pytest.skip("podman is not installed (apt-get install podman)")
    if os.geteuid() != 0:
        pytest.skip("podman's rootful storage needs root; rootless podman needs subuid setup this test does not do")
    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.skip("busybox is not installed (apt-get install busybox-static)")
    root = tmp_path_factory.mktemp("rootfs")
    (root / "bin").mkdir()
    shutil.copy(busybox, root / "bin" / "busybox")
    (root / "bin" / "sh").symlink_to("busybox")
    return root


def _podman_config(podman: list[str], rootfs: Path, profile: Path, options: list[str]) -> dict[str, Any]:
    created = subprocess.run(
        [*podman, "create", *options, "--security-opt", f"seccomp={profile}", "--rootfs", str(rootfs), "/bin/sh"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if created.returncode != 0:
        pytest.skip(f"podman create fails on this machine: {created.stderr.strip()[:300]}")
    cid = created.stdout.strip().splitlines()[-1]
    try:
        # init writes config.json, then asks the runtime to create; the latter may fail in a sandbox.
        subprocess.run([*podman, "init", cid], capture_output=True, timeout=120, check=False)
        static = subprocess.run(
            [*podman, "inspect", "--format", "{{.StaticDir}}", cid], capture_output=True, text=True, check=True
        ).stdout.strip()
        config = Path(static) / "config.json"
        if not config.is_file():
            pytest.skip("podman init wrote no config.json on this machine")
        doc: dict[str, Any] = json.loads(config.read_text(encoding="utf-8"))
        return doc
    finally:
        subprocess.run([*podman, "rm", "--force", cid], capture_output=True, timeout=120, check=False)


@pytest.mark.parametrize("caps", list(CAP_OPTIONS))
@pytest.mark.parametrize("name", sorted(p.name for p in PROFILES.glob("*.json")))
def test_render_equals_real_podman(podman: list[str], rootfs: Path, name: str, caps: str) -> None:
    config = _podman_config(podman, rootfs, PROFILES / name, CAP_OPTIONS[caps])
    bounding = config["process"].get("capabilities", {}).get("bounding", [])  # omitted when empty
    got = render((PROFILES / name).read_text(), engine="podman", arch=host_arch(), caps=bounding)
    assert json.dumps(got) == json.dumps(config["linux"]["seccomp"])

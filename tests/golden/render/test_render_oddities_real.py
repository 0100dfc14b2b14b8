"""The oddity profiles through the real engines: Docker 20.10 (Debian 12's docker.io) and Podman 4.3.

For each profile of ``oddities/``, the engine is asked to start a container under it and
what it hands the OCI runtime is captured:

- Docker: a private ``dockerd`` (own socket, data root, exec root) with an extra runtime,
  ``capture``, a script that copies the bundle's ``config.json`` and fails; so even a profile
  runc would refuse (an unknown action) is seen exactly as Docker wrote it, and a profile
  Docker refuses (or whose handler panics) fails before any runtime runs;
- Podman: ``podman create`` (which builds the spec and reads the profile) and ``podman init``
  (which writes ``config.json``), with private ``--root``/``--runroot``.

Expected: the hand-derived goldens of ``oddities/expected.json`` for ``docker-20.10`` and
``podman`` (x86_64 host, Docker's default capabilities; no profile here depends on the kernel
below 6.1), and that ``render`` agrees with what the engine wrote.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.integration._engines import Dockerd, dockerd, podman_argv

from seccompose.arch import Arch, host_arch
from seccompose.engines import engine_document, setup
from seccompose.errors import EngineRefusedError

pytestmark = pytest.mark.integration

ODDITIES = Path(__file__).parent / "oddities"
EXPECTED: dict[str, Any] = json.loads((ODDITIES / "expected.json").read_text(encoding="utf-8"))
NAMES = sorted(k for k in EXPECTED if not k.startswith("_"))
DOCKERD = shutil.which("dockerd") or ("/usr/sbin/dockerd" if Path("/usr/sbin/dockerd").exists() else None)
PODMAN = shutil.which("podman")
BUSYBOX = shutil.which("busybox")
IMAGE = "seccompose-oddities:test"
CAPTURE = """#!/bin/sh
# An OCI runtime that only keeps the bundle's config.json (seccompose's oddity tests), then fails.
bundle=""
prev=""
for arg in "$@"; do
  if [ "$prev" = "--bundle" ] || [ "$prev" = "-b" ]; then bundle="$arg"; fi
  prev="$arg"
done
if [ -n "$bundle" ] && [ -f "$bundle/config.json" ]; then
  cp "$bundle/config.json" "{out}/$(basename "$bundle").json"
fi
echo "capture runtime: not starting containers" >&2
exit 1
"""


def _kernel_at_least_6_1() -> bool:
    major, minor = (int(x) for x in os.uname().release.split(".")[:2])
    return (major, minor) >= (6, 1)


@pytest.fixture(scope="module")
def docker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Dockerd, Path]]:
    """A private dockerd with the ``capture`` runtime, and the folder it copies each config.json to."""
    if host_arch() is not Arch.X86_64 or not _kernel_at_least_6_1():
        pytest.skip("the goldens are for an x86_64 host with kernel 6.1 or newer")
    if DOCKERD is None or BUSYBOX is None:
        pytest.skip("dockerd and busybox are needed (apt-get install docker.io busybox-static)")
    if os.geteuid() != 0:
        pytest.skip("dockerd needs root")
    work = tmp_path_factory.mktemp("capture")
    (work / "captured").mkdir()
    runtime = work / "capture-runtime"
    runtime.write_text(CAPTURE.replace("{out}", str(work / "captured")))
    runtime.chmod(0o755)
    with dockerd("odd", {}, args=("--add-runtime", f"capture={runtime}")) as api:
        rootfs = tmp_path_factory.mktemp("rootfs")
        (rootfs / "bin").mkdir()
        shutil.copy(BUSYBOX, rootfs / "bin" / "busybox")
        api.import_image(rootfs, IMAGE)
        yield api, work / "captured"


def _docker_run(docker: tuple[Dockerd, Path], profile: str) -> tuple[str, Any]:
    """('config', config.json) | ('error', message) | ('crash', message): what Docker does with the profile."""
    spec = {
        "Image": IMAGE,
        "Cmd": ["/bin/busybox", "true"],
        "HostConfig": {"SecurityOpt": [f"seccomp={profile}"], "NetworkMode": "none", "Runtime": "capture"},
    }
    api, captured_in = docker
    cid = api.api("POST", "/containers/create", json.dumps(spec).encode())["Id"]
    try:
        try:
            api.api("POST", f"/containers/{cid}/start")
        except RuntimeError as exc:
            captured = captured_in / f"{cid}.json"
            if captured.is_file():
                return "config", json.loads(captured.read_text(encoding="utf-8"))
            return "error", str(exc)
        except (http.client.HTTPException, ConnectionError) as exc:  # the handler panicked: connection dropped
            return "crash", repr(exc)
        pytest.fail("the capture runtime let a container start")
    finally:
        api.api("DELETE", f"/containers/{cid}?force=1")


@pytest.mark.parametrize("name", NAMES)
def test_real_docker_20_10(docker: tuple[Dockerd, Path], name: str) -> None:
    want = EXPECTED[name]["docker-20.10"]
    profile = (ODDITIES / f"{name}.json").read_bytes().decode("utf-8")
    kind, got = _docker_run(docker, profile)
    if isinstance(want, dict) and "refuses" in want:
        assert kind == "error", (kind, got)
    elif isinstance(want, dict) and "panics" in want:
        assert kind in ("crash", "error"), (kind, got)
        docker[0].api("GET", "/_ping")  # and the daemon keeps serving
    else:
        assert kind == "config", (kind, got)
        assert json.dumps(got["linux"].get("seccomp")) == json.dumps(want)
        bounding = got["process"]["capabilities"]["bounding"]
        doc = engine_document((ODDITIES / f"{name}.json").read_bytes(), engine="docker-20.10")
        mine = setup(doc, engine="docker-20.10", arch=host_arch(), caps=bounding, kernel=(6, 1))
        assert json.dumps(mine) == json.dumps(got["linux"].get("seccomp"))


@pytest.fixture(scope="module")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[str], Path]]:
    if host_arch() is not Arch.X86_64 or not _kernel_at_least_6_1():
        pytest.skip("the goldens are for an x86_64 host with kernel 6.1 or newer")
    if PODMAN is None or BUSYBOX is None:
        pytest.skip("podman and busybox are needed (apt-get install podman busybox-static)")
    if os.geteuid() != 0:
        pytest.skip("podman's rootful storage needs root")
    root = Path(f"/tmp/sc-odd-podman-{os.getpid()}")
    shutil.rmtree(root, ignore_errors=True)
    rootfs = tmp_path_factory.mktemp("rootfs")
    (rootfs / "bin").mkdir()
    shutil.copy(BUSYBOX, rootfs / "bin" / "busybox")
    base = [*podman_argv(root), "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "none"]
    try:
        yield base, rootfs
    finally:
        subprocess.run([*base, "rm", "--all", "--force"], capture_output=True, timeout=120, check=False)
        shutil.rmtree(root, ignore_errors=True)


def _podman_run(base: list[str], rootfs: Path, profile: Path) -> tuple[str, Any]:
    name = f"sc-odd-{uuid.uuid4().hex[:10]}"
    created = subprocess.run(
        [*base, "create", "--name", name, "--security-opt", f"seccomp={profile}", "--rootfs", str(rootfs),
         "/bin/busybox", "true"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    if created.returncode != 0:
        return ("crash" if "panic:" in created.stderr else "error"), created.stderr.strip()[-400:]
    try:
        subprocess.run([*base, "init", name], capture_output=True, timeout=120, check=False)
        static = subprocess.run(
            [*base, "inspect", "--format", "{{.StaticDir}}", name], capture_output=True, text=True, check=True
        ).stdout.strip()
        config = Path(static) / "config.json"
        if not config.is_file():
            pytest.fail("podman init wrote no config.json")
        return "config", json.loads(config.read_text(encoding="utf-8"))
    finally:
        subprocess.run([*base, "rm", "--force", name], capture_output=True, timeout=120, check=False)


@pytest.mark.parametrize("name", NAMES)
def test_real_podman(podman: tuple[list[str], Path], name: str) -> None:
    base, rootfs = podman
    want = EXPECTED[name]["podman"]
    kind, got = _podman_run(base, rootfs, ODDITIES / f"{name}.json")
    if isinstance(want, dict) and "refuses" in want:
        assert kind == "error", (kind, got)
        assert want["refuses"] in got or "decoding seccomp profile failed" in got or "loading seccomp" in got, got
    elif isinstance(want, dict) and "panics" in want:
        assert kind == "crash", (kind, got)
    else:
        assert kind == "config", (kind, got)
        assert json.dumps(got["linux"].get("seccomp")) == json.dumps(want)
        bounding = got["process"]["capabilities"]["bounding"]
        doc = engine_document((ODDITIES / f"{name}.json").read_bytes(), engine="podman")
        try:
            mine = setup(doc, engine="podman", arch=host_arch(), caps=bounding, kernel=(6, 1))
        except EngineRefusedError as exc:  # pragma: no cover - reported by the assert
            pytest.fail(f"render refuses what Podman accepted: {exc}")
        assert json.dumps(mine) == json.dumps(got["linux"].get("seccomp"))

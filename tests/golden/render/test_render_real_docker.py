"""render(engine="docker-20.10") against the real Docker daemon: the linux.seccomp it hands containerd and runc.

The test starts its own ``dockerd`` (Debian's docker.io, 20.10.24: the engine whose
``default.json`` is one of the reference profiles) on a private socket and data root,
imports a busybox image, starts containers with ``SecurityOpt: seccomp=<profile>`` and
capability options through the Engine API, and reads the OCI ``config.json`` containerd
keeps in the bundle while the container runs. The rendered object must equal Docker's
byte for byte, key order included, for the bounding set Docker itself computed and for
this machine's kernel.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.integration._engines import Dockerd, busybox_rootfs, dockerd

from seccompose.arch import host_arch
from seccompose.engines import ignored
from seccompose.render import render

PROFILES = Path(__file__).parents[2] / "fixtures" / "reference" / "profiles"
DOCKERD = shutil.which("dockerd") or ("/usr/sbin/dockerd" if Path("/usr/sbin/dockerd").exists() else None)
IMAGE = "seccompose-busybox:test"

CAP_OPTIONS: dict[str, dict[str, list[str]]] = {
    "defaults": {},
    "sys-admin": {"CapAdd": ["CAP_SYS_ADMIN"]},
    "none": {"CapDrop": ["ALL"]},
    "ptrace-time-audit": {"CapDrop": ["ALL"], "CapAdd": ["CAP_SYS_PTRACE", "CAP_SYS_TIME", "CAP_AUDIT_WRITE"]},
    # Docker 20.10 knows no CAP_PERFMON/CAP_BPF; sandboxes often lack CAP_SYS_RESOURCE, which runc cannot grant.
    "all-but-sys-resource": {"CapAdd": ["ALL"], "CapDrop": ["CAP_SYS_RESOURCE"]},
}

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dockerd]:
    if DOCKERD is None:
        pytest.skip("dockerd is not installed (apt-get install docker.io)")
    if os.geteuid() != 0:
        pytest.skip("dockerd needs root")
    if shutil.which("busybox") is None:
        pytest.skip("busybox is not installed (apt-get install busybox-static)")
    with dockerd("render", {}, unavailable=pytest.skip) as api:
        api.import_image(busybox_rootfs(tmp_path_factory.mktemp("rootfs")), IMAGE)
        yield api


def _docker_config(api: Dockerd, profile: str, caps: dict[str, list[str]]) -> dict[str, Any]:
    spec = {
        "Image": IMAGE,
        "Cmd": ["/bin/sleep", "60"],
        "HostConfig": {"SecurityOpt": [f"seccomp={profile}"], "NetworkMode": "none", **caps},
    }
    cid = api.api("POST", "/containers/create", json.dumps(spec).encode())["Id"]
    try:
        try:
            api.api("POST", f"/containers/{cid}/start")
        except RuntimeError as exc:
            pytest.skip(f"docker cannot start a container on this machine: {exc}")
        return api.bundle_config(cid)
    finally:
        api.api("DELETE", f"/containers/{cid}?force=1")


@pytest.mark.parametrize("caps", list(CAP_OPTIONS))
@pytest.mark.parametrize("name", sorted(p.name for p in PROFILES.glob("*.json")))
def test_render_equals_real_docker(engine: Dockerd, name: str, caps: str) -> None:
    text = (PROFILES / name).read_text(encoding="utf-8")
    config = _docker_config(engine, text, CAP_OPTIONS[caps])
    real = config["linux"]["seccomp"]
    bounding = config["process"].get("capabilities", {}).get("bounding", [])  # omitted when empty
    source = json.loads(text)
    if source.get("defaultErrnoRet", 1) != 1:
        # Podman's profiles ask for ENOSYS by default; Docker 20.10 has no such field and silently gives
        # EPERM instead: render gives what Docker gives, and says what it ignored (issue 15).
        assert "defaultErrnoRet" not in real
        assert any("Docker 20.10 ignores defaultErrnoRet" in w for w in ignored(source, engine="docker-20.10"))
    got = render(text, engine="docker-20.10", arch=host_arch(), caps=bounding, kernel=os.uname().release)
    assert json.dumps(got) == json.dumps(real)

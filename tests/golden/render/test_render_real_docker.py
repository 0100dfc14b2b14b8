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

import http.client
import io
import json
import os
import shutil
import socket
import subprocess
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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


class _UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=120)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(120)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class _Engine:
    def __init__(self, sock: str, exec_root: Path) -> None:
        self.sock = sock
        self.exec_root = exec_root

    def call(self, method: str, url: str, body: bytes | None = None, content_type: str = "application/json") -> Any:
        conn = _UnixHTTP(self.sock)
        try:
            conn.request(method, url, body=body, headers={"Content-Type": content_type})
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        if response.status >= 400:
            raise RuntimeError(f"{method} {url}: {response.status} {data[:300]!r}")
        return json.loads(data) if data.strip().startswith((b"{", b"[")) else data


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Engine]:
    if DOCKERD is None:
        pytest.skip("dockerd is not installed (apt-get install docker.io)")
    if os.geteuid() != 0:
        pytest.skip("dockerd needs root")
    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.skip("busybox is not installed (apt-get install busybox-static)")
    # A short path: unix socket paths are limited to 107 bytes.
    root = Path(f"/tmp/seccompose-dockerd-{os.getpid()}")
    shutil.rmtree(root, ignore_errors=True)
    (root / "data").mkdir(parents=True)
    sock = str(root / "docker.sock")
    log = (root / "dockerd.log").open("wb")
    proc = subprocess.Popen(
        [
            DOCKERD,
            "--data-root", str(root / "data"),
            "--exec-root", str(root / "exec"),
            "--pidfile", str(root / "docker.pid"),
            "-H", f"unix://{sock}",
            "--iptables=false", "--ip-masq=false", "--bridge=none", "--storage-driver=vfs",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        api = _Engine(sock, root / "exec")
        for _ in range(120):
            if proc.poll() is not None:
                pytest.skip(f"dockerd exited on this machine: {(root / 'dockerd.log').read_text()[-300:]}")
            try:
                api.call("GET", "/_ping")
                break
            except (OSError, RuntimeError):
                time.sleep(0.25)
        else:
            pytest.skip("dockerd did not answer within 30 s on this machine")
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            folder = tarfile.TarInfo("bin")
            folder.type, folder.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(folder)
            tar.add(busybox, arcname="bin/busybox")
            for applet in ("sh", "sleep"):
                link = tarfile.TarInfo(f"bin/{applet}")
                link.type = tarfile.SYMTYPE
                link.linkname = "busybox"
                tar.addfile(link)
        repo, tag = IMAGE.split(":")
        api.call("POST", f"/images/create?fromSrc=-&repo={repo}&tag={tag}", buf.getvalue(), "application/x-tar")
        yield api
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def _docker_config(api: _Engine, profile: str, caps: dict[str, list[str]]) -> dict[str, Any]:
    spec = {
        "Image": IMAGE,
        "Cmd": ["/bin/sleep", "60"],
        "HostConfig": {"SecurityOpt": [f"seccomp={profile}"], "NetworkMode": "none", **caps},
    }
    cid = api.call("POST", "/containers/create", json.dumps(spec).encode())["Id"]
    try:
        try:
            api.call("POST", f"/containers/{cid}/start")
        except RuntimeError as exc:
            pytest.skip(f"docker cannot start a container on this machine: {exc}")
        matches = list(api.exec_root.glob(f"containerd/**/moby/{cid}/config.json"))
        assert matches, "containerd's bundle config.json was not found"
        doc: dict[str, Any] = json.loads(matches[0].read_text(encoding="utf-8"))
        return doc
    finally:
        api.call("DELETE", f"/containers/{cid}?force=1")


@pytest.mark.parametrize("caps", list(CAP_OPTIONS))
@pytest.mark.parametrize("name", sorted(p.name for p in PROFILES.glob("*.json")))
def test_render_equals_real_docker(engine: _Engine, name: str, caps: str) -> None:
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

"""Private engines for the container-start tests: dockerd, Podman, containerd on their own sockets and roots.

Each engine runs under a unique ``/tmp/sc16-<what>-<pid>`` folder (unix socket paths stay
under 107 bytes), never the machine's default daemons, and is stopped by the fixture that
started it (by its own pid). The image is a busybox root filesystem with ``/tmp``, imported
under the names the tests bind templates to.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import pytest

DOCKER = "/usr/bin/docker"  # Debian's docker.io client (20.10), the one the daemon ships with
DOCKERD = shutil.which("dockerd") or "/usr/sbin/dockerd"
BIN = Path(sys.executable).parent
WRAPPER = BIN / "seccompose-runtime"
SECCOMPOSE = BIN / "seccompose"
APPLETS = ("sh", "sleep", "mkdir", "rmdir", "mknod", "unshare", "cat", "echo", "true", "id", "ls", "head", "dd", "stty",
           "tty")  # fmt: skip


PODMAN = shutil.which("podman") or "/usr/bin/podman"


def podman_argv(root: Path) -> list[str]:
    """podman with its own storage under ``root`` (``root/root``, ``root/run``): never the machine's."""
    return [PODMAN, "--root", str(root / "root"), "--runroot", str(root / "run")]


def stop_process(proc: subprocess.Popen[Any], timeout: float = 30, sig: signal.Signals = signal.SIGTERM) -> None:
    """Stop a process this test started: ``sig``, then SIGKILL when it has not exited after ``timeout`` s."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_for_socket(path: Path, proc: subprocess.Popen[Any], tries: int = 200, delay: float = 0.05) -> None:
    """Wait until ``proc`` made its socket at ``path``, or exited, or ``tries`` x ``delay`` s passed."""
    for _ in range(tries):
        if path.exists() or proc.poll() is not None:
            return
        time.sleep(delay)


class UnixHTTP(http.client.HTTPConnection):
    """HTTP over a unix socket: the Engine API of a private dockerd."""

    def __init__(self, path: str, timeout: float = 120) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def why_not_docker() -> str | None:
    if os.geteuid() != 0:
        return "dockerd needs root"
    if not Path(DOCKERD).exists() or not Path(DOCKER).exists():
        return "docker.io is not installed (apt-get install docker.io)"
    if not Path("/bin/busybox").exists():
        return "busybox is not installed (apt-get install busybox-static)"
    if not WRAPPER.exists():
        return "seccompose-runtime is not installed in this environment (pip install -e .)"
    return None


def busybox_rootfs(dest: Path) -> Path:
    """Write a busybox root filesystem (with /tmp and /tmp/d) to ``dest``; return it."""
    for sub in ("bin", "tmp/d", "etc", "proc", "sys", "dev"):
        (dest / sub).mkdir(parents=True, exist_ok=True)
    (dest / "tmp").chmod(0o1777)
    shutil.copy2("/bin/busybox", dest / "bin" / "busybox")
    for applet in APPLETS:
        link = dest / "bin" / applet
        if not link.is_symlink():
            link.symlink_to("busybox")
    return dest


class Dockerd:
    """A private dockerd (Debian's docker.io) with ``daemon.json`` and more ``args``; ``run`` calls the docker
    client on it, ``api`` its Engine API. When it cannot start, ``unavailable`` (pytest.fail by default) says why."""

    def __init__(self, root: Path, daemon_json: dict[str, Any], *, args: Sequence[str] = (),
                 unavailable: Callable[[str], NoReturn] = pytest.fail) -> None:  # fmt: skip
        self.root = root
        self.args = tuple(args)
        self.unavailable = unavailable
        self.sock = str(root / "docker.sock")
        self.exec_root = root / "exec"
        self.data_root = root / "data"
        self.config = root / "daemon.json"
        self.config.write_text(json.dumps(daemon_json))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return f"unix://{self.sock}"

    def start(self) -> None:
        self.data_root.mkdir(parents=True, exist_ok=True)
        self._log = log = (self.root / "dockerd.log").open("wb")
        self.proc = subprocess.Popen(
            [
                DOCKERD, "--config-file", str(self.config),
                "--data-root", str(self.data_root), "--exec-root", str(self.exec_root),
                "--pidfile", str(self.root / "docker.pid"), "-H", self.host,
                "--iptables=false", "--ip-masq=false", "--bridge=none", "--storage-driver=vfs", *self.args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        for _ in range(240):
            if self.proc.poll() is not None:
                self.unavailable(f"dockerd exited: {(self.root / 'dockerd.log').read_text()[-500:]}")
            if self.run("version", check=False, timeout=10).returncode == 0:
                return
            time.sleep(0.25)
        self.unavailable("dockerd did not answer within 60 s")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is not None:
            self._log.close()
            self.proc = None
            return
        leftover = self.run("ps", "-aq", check=False, timeout=30).stdout.split()
        if leftover:
            self.run("rm", "-f", *leftover, check=False, timeout=120)
        stop_process(self.proc, 60)
        self.proc = None
        self._log.close()

    def run(
        self, *args: str, check: bool = True, timeout: float = 120, host: str | None = None, input_: bytes | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "DOCKER_HOST": host or self.host}
        env.pop("DOCKER_CONTEXT", None)
        if input_ is not None:
            done_b = subprocess.run([DOCKER, *args], input=input_, capture_output=True, env=env, timeout=timeout,
                                    check=False)  # fmt: skip
            done = subprocess.CompletedProcess(done_b.args, done_b.returncode, done_b.stdout.decode(errors="replace"),
                                               done_b.stderr.decode(errors="replace"))  # fmt: skip
        else:
            done = subprocess.run([DOCKER, *args], capture_output=True, text=True, env=env, timeout=timeout, check=False)
        if check and done.returncode != 0:
            pytest.fail(f"docker {' '.join(args)}: {done.returncode}: {done.stderr[-800:]}")
        return done

    def api(self, method: str, url: str, body: bytes | None = None, content_type: str = "application/json") -> Any:
        """Call the Engine API: the decoded JSON answer (or the raw bytes); RuntimeError on a 4xx/5xx answer."""
        conn = UnixHTTP(self.sock)
        try:
            conn.request(method, url, body=body, headers={"Content-Type": content_type})
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        if response.status >= 400:
            raise RuntimeError(f"{method} {url}: {response.status} {data.decode(errors='replace')[:400]}")
        return json.loads(data) if data.strip().startswith((b"{", b"[")) else data

    def import_image(self, rootfs: Path, *tags: str) -> None:
        tar = subprocess.run(["tar", "-C", str(rootfs), "-c", "."], capture_output=True, check=True).stdout
        self.run("import", "-", tags[0], input_=tar)
        for tag in tags[1:]:
            self.run("tag", tags[0], tag)

    def bundle_config(self, cid: str) -> dict[str, Any]:
        """The config.json containerd's shim handed the runtime for a running container."""
        matches = list(self.exec_root.glob(f"containerd/**/moby/{cid}/config.json"))
        assert matches, f"no bundle config.json for {cid}"
        doc: dict[str, Any] = json.loads(matches[0].read_text(encoding="utf-8"))
        return doc


@contextmanager
def dockerd(name: str, daemon_json: dict[str, Any], *, args: Sequence[str] = (),
            unavailable: Callable[[str], NoReturn] = pytest.fail) -> Iterator[Dockerd]:  # fmt: skip
    """A started private dockerd under ``/tmp/sc16-NAME-PID``, stopped (its containers removed) on exit."""
    root = Path(f"/tmp/sc16-{name}-{os.getpid()}")
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    engine = Dockerd(root, daemon_json, args=args, unavailable=unavailable)
    try:
        engine.start()
        yield engine
    finally:
        engine.stop()
        shutil.rmtree(root, ignore_errors=True)


def compose_for(policy: Path, image: str, caps: list[str], *, labels: dict[str, str] | None = None,
                name: str = "", extra: tuple[str, ...] = (),
                no_new_privileges: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:  # fmt: skip
    """``seccompose compose --policy`` for the same facts: (linux.seccomp, decision record)."""
    from seccompose.arch import host_arch

    release = os.uname().release.split(".")
    argv = [
        str(SECCOMPOSE), "compose", "--policy", str(policy), "--image", image, "--arch", host_arch().value,
        "--caps", ",".join(caps) or "none", "--no-new-privileges", str(no_new_privileges).lower(), "--runtime", "runc",
        "--kernel", f"{release[0]}.{release[1].split('-')[0]}", *extra,
    ]  # fmt: skip
    for key, value in (labels or {}).items():
        argv += ["--label", f"{key}={value}"]
    if name:
        argv += ["--name", name]
    with tempfile.TemporaryDirectory(prefix="sc16-compose-") as tmp:
        record = Path(tmp) / "decision.json"
        done = subprocess.run([*argv, "--decision", str(record)], capture_output=True, text=True, check=False, timeout=60)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout), json.loads(record.read_text())


def last_decision(log: Path, cid: str) -> dict[str, Any]:
    for line in reversed(log.read_text().splitlines()):
        entry: dict[str, Any] = json.loads(line)
        if entry["container"]["id"] == cid:
            return entry
    pytest.fail(f"no decision logged for {cid}")


def oci_archive(rootfs: Path, dest: Path, names: tuple[str, ...], cmd: list[str]) -> Path:
    """Write an OCI image layout tarball of ``rootfs`` (one layer), tagged ``names``, for ``ctr images import``."""
    import gzip
    import hashlib
    import io
    import platform
    import tarfile

    layer_tar = subprocess.run(["tar", "-C", str(rootfs), "-c", "."], capture_output=True, check=True).stdout
    layer = gzip.compress(layer_tar, mtime=0)
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    config = json.dumps({
        "architecture": arch, "os": "linux",
        "config": {"Cmd": cmd, "Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer_tar).hexdigest()]},
    }).encode()  # fmt: skip

    def desc(media: str, data: bytes, **extra: Any) -> dict[str, Any]:
        return {"mediaType": media, "digest": "sha256:" + hashlib.sha256(data).hexdigest(), "size": len(data), **extra}

    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": desc("application/vnd.oci.image.config.v1+json", config),
        "layers": [desc("application/vnd.oci.image.layer.v1.tar+gzip", layer)],
    }).encode()  # fmt: skip
    index = json.dumps({
        "schemaVersion": 2,
        "manifests": [
            desc("application/vnd.oci.image.manifest.v1+json", manifest,
                 annotations={"io.containerd.image.name": name, "org.opencontainers.image.ref.name": name.rpartition(":")[2]})
            for name in names
        ],
    }).encode()  # fmt: skip
    with tarfile.open(dest, "w") as tar:
        for name, data in (
            ("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'),
            ("index.json", index),
            *((f"blobs/sha256/{hashlib.sha256(blob).hexdigest()}", blob) for blob in (config, manifest, layer)),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return dest


def in_pty(argv: list[str], env: dict[str, str], script: list[tuple[bytes, bytes]], timeout: float = 60) -> bytes:
    """Run ``argv`` on a real pseudo-terminal; for each (send, expect) type ``send`` once ``expect`` was seen."""
    import pty
    import select

    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + timeout
    try:
        for send, expect in script:
            if send:
                os.write(master, send)
            while expect not in seen:
                left = deadline - time.monotonic()
                assert left > 0, f"timed out waiting for {expect!r}; the terminal showed {seen[-500:]!r}"
                ready, _, _ = select.select([master], [], [], min(left, 1.0))
                if ready:
                    try:
                        chunk = os.read(master, 65536)
                    except OSError:
                        break
                    if not chunk:
                        break
                    seen += chunk
            assert expect in seen, f"{expect!r} never came; the terminal showed {seen[-500:]!r}"
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert proc.returncode == 0, seen[-500:]
    return seen

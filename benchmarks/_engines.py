"""Benchmarks of the container-start integrations (issue 16), each against the same work without seccompose.

    (g) ``seccompose-runtime create`` vs ``runc create`` on one bundle   added median ms (target <= 30 ms)
    (h) ``POST /containers/create`` through ``seccompose proxy`` vs dockerd directly   added median ms (<= 5 ms)
    (i) 100 MB through ``docker logs`` and ``docker start -a`` (attach) via the proxy vs directly   ratio (>= 0.9)

Both sides of each comparison run alternately in the same run, on this machine, as root,
against a private dockerd (Debian's docker.io 20.10) and runc. Rows are returned as tuples
``(bench, metric, value, unit, target, met, note)``.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
WRAPPER = BIN / "seccompose-runtime"
SECCOMPOSE = BIN / "seccompose"
POLICY = ROOT / "docs" / "examples" / "policy.yaml"
DOCKER = "/usr/bin/docker"

RowT = tuple[str, str, float | None, str, str, bool | None, str]

# Fresh processes run as after `pip install`, which compiles every module: with bytecode cached (an environment
# with PYTHONDONTWRITEBYTECODE set would recompile the wrapper on every container start).
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def why_not() -> str | None:
    """Return why these benchmarks cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (runc, dockerd)"
    for path in (WRAPPER, SECCOMPOSE, Path("/usr/sbin/dockerd"), Path(DOCKER), Path("/bin/busybox")):
        if not path.exists():
            return f"{path} is missing"
    if shutil.which("runc") is None:
        return "runc is not installed"
    return None


def _make_bundle() -> Any:  # the tools module, loaded by path
    spec = importlib.util.spec_from_file_location("make_bundle", ROOT / "tools" / "make_bundle.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env or _ENV)
    return time.perf_counter() - t0


def bench_wrapper(quick: bool) -> list[RowT]:
    """(g) create through the wrapper vs plain runc, the same bundle and the same final profile."""
    tool = _make_bundle()
    runs = 7 if quick else 31
    with tempfile.TemporaryDirectory(prefix="sc16-bench-") as tmp:
        bundle = tool.make_bundle(Path(tmp) / "bundle", args=["/exit42"], no_new_privileges=False)
        log = Path(tmp) / "log" / "decisions.jsonl"
        own = ["--seccompose-policy", str(POLICY), "--seccompose-log", str(log), "--seccompose-runtime", "runc"]
        root = ["--root", str(Path(tmp) / "runc-root")]

        def create(*, wrapped: bool) -> float:
            cid = f"sc16-bench-{uuid.uuid4().hex[:8]}"
            head = [str(WRAPPER), *own] if wrapped else ["runc"]
            try:
                return _timed([*head, *root, "create", "--bundle", str(bundle), cid])
            finally:
                subprocess.run(["runc", *root, "delete", "-f", cid], capture_output=True, check=False)

        # The decision for these facts is made (and cached) once; plain runc then gets the same profile.
        create(wrapped=True)
        cold = []
        for _ in range(3 if quick else 7):
            shutil.rmtree(log.parent / "state", ignore_errors=True)  # no cached decision: compose every time
            cold.append(create(wrapped=True))
        create(wrapped=False)
        wrapped: list[float] = []
        plain: list[float] = []
        for _ in range(runs):
            plain.append(create(wrapped=False))
            wrapped.append(create(wrapped=True))
    w, p = statistics.median(wrapped) * 1000, statistics.median(plain) * 1000
    added = w - p
    return [
        ("g", "`seccompose-runtime create`: median", w, "ms", "", None, f"{runs} runs, decision cached"),
        ("g", "`runc create` (same bundle, same profile): median", p, "ms", "", None, f"{runs} runs"),
        ("g", "wrapper's added time on create (median)", added, "ms", "<= 30 ms", added <= 30, ""),
        ("g", "wrapper create, no cached decision: median", statistics.median(cold) * 1000, "ms", "", None,
         f"{len(cold)} runs: policy loaded and profile composed each time"),
    ]  # fmt: skip


class _Unix(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=300)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(300)
        self.sock.connect(self._path)


def _api(sock: str, method: str, url: str, body: Any = None) -> Any:  # JSON in, JSON out
    conn = _Unix(sock)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, url, body=data, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        out = resp.read()
    finally:
        conn.close()
    if resp.status >= 400:
        raise RuntimeError(f"{method} {url}: {resp.status} {out[:300]!r}")
    return json.loads(out) if out.strip().startswith(b"{") else out


@contextmanager
def _dockerd() -> Iterator[tuple[str, Path]]:
    root = Path(f"/tmp/sc16-bench-{os.getpid()}")
    shutil.rmtree(root, ignore_errors=True)
    (root / "data").mkdir(parents=True)
    sock = str(root / "docker.sock")
    with (root / "dockerd.log").open("wb") as out:
        proc = subprocess.Popen(
            ["/usr/sbin/dockerd", "--data-root", str(root / "data"), "--exec-root", str(root / "exec"),
             "--pidfile", str(root / "docker.pid"), "-H", f"unix://{sock}", "--iptables=false", "--ip-masq=false",
             "--bridge=none", "--storage-driver=vfs"],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        proxy: subprocess.Popen[bytes] | None = None
        try:
            for _ in range(240):
                try:
                    _api(sock, "GET", "/_ping")
                    break
                except (OSError, RuntimeError):
                    time.sleep(0.25)
            rootfs = root / "rootfs"
            (rootfs / "bin").mkdir(parents=True)
            shutil.copy2("/bin/busybox", rootfs / "bin" / "busybox")
            for applet in ("sh", "dd", "cat", "true", "head", "tr"):
                (rootfs / "bin" / applet).symlink_to("busybox")
            tar = root / "rootfs.tar"
            with tarfile.open(tar, "w") as t:
                t.add(rootfs, arcname=".")
            env = {**os.environ, "DOCKER_HOST": f"unix://{sock}"}
            subprocess.run([DOCKER, "import", str(tar), "plain:1"], env=env, check=True, capture_output=True)
            proxy_sock = root / "proxy.sock"
            proxy = subprocess.Popen(
                [str(SECCOMPOSE), "proxy", "--listen", str(proxy_sock), "--upstream", sock, "--policy", str(POLICY),
                 "--log", str(root / "decisions.jsonl")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            for _ in range(200):
                if proxy_sock.exists():
                    break
                time.sleep(0.05)
            yield sock, proxy_sock
        finally:
            if proxy is not None:
                proxy.send_signal(signal.SIGTERM)
                proxy.wait(timeout=30)
            env = {**os.environ, "DOCKER_HOST": f"unix://{sock}"}
            left = subprocess.run([DOCKER, "ps", "-aq"], env=env, capture_output=True, text=True, check=False)
            if left.stdout.split():
                subprocess.run([DOCKER, "rm", "-f", *left.stdout.split()], env=env, capture_output=True, check=False)
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
            shutil.rmtree(root, ignore_errors=True)


def bench_proxy(quick: bool) -> list[RowT]:
    """(h) ``POST /containers/create`` latency through the proxy vs direct, alternately."""
    runs = 9 if quick else 41
    spec = {"Image": "plain:1", "Cmd": ["true"], "HostConfig": {"NetworkMode": "none"}}
    with _dockerd() as (sock, proxy):

        def create(target: str, body: dict[str, Any] = spec) -> float:
            t0 = time.perf_counter()
            cid = _api(target, "POST", "/v1.41/containers/create", body)["Id"]
            elapsed = time.perf_counter() - t0
            _api(sock, "DELETE", f"/containers/{cid}?force=1")
            return elapsed

        create(str(proxy))
        create(sock)
        # The same create with the profile the proxy adds, sent straight to dockerd: the engine's share
        # of the added time (it parses and stores a 20 kB SecurityOpt).
        profile = subprocess.run(
            [str(SECCOMPOSE), "compose", "--policy", str(POLICY), "--image", "plain:1", "--runtime", "runc"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        with_profile = {**spec, "HostConfig": {**spec["HostConfig"], "SecurityOpt": ["seccomp=" + profile]}}
        direct: list[float] = []
        through: list[float] = []
        heavier: list[float] = []
        for _ in range(runs):
            direct.append(create(sock))
            through.append(create(str(proxy)))
            heavier.append(create(sock, with_profile))
    d, p, h = (statistics.median(t) * 1000 for t in (direct, through, heavier))
    return [
        ("h", "`POST /containers/create` direct: median", d, "ms", "", None, f"{runs} runs"),
        ("h", "through `seccompose proxy`: median", p, "ms", "", None, f"{runs} runs, decision composed per create"),
        ("h", "proxy's added latency on create (median)", p - d, "ms", "<= 5 ms", p - d <= 5, ""),
        ("h", "direct, with the proxy's SecurityOpt profile: median", h, "ms", "", None,
         f"the engine's share of the added time: {h - d:.2f} ms"),
    ]  # fmt: skip


def bench_stream(quick: bool) -> list[RowT]:
    """(i) bytes through ``docker logs`` and attach (``docker start -a``), via the proxy vs direct."""
    megabytes = 10 if quick else 100
    runs = 3 if quick else 7
    rows: list[RowT] = []
    with _dockerd() as (sock, proxy):
        env_direct = {**os.environ, "DOCKER_HOST": f"unix://{sock}"}
        env_proxy = {**os.environ, "DOCKER_HOST": f"unix://{proxy}"}
        # Text, so the json-file log driver keeps it as lines (of 16 KiB) the way an application's output is.
        writer = ["sh", "-c", f"dd if=/dev/zero bs=1048576 count={megabytes} 2>/dev/null | tr '\\0' 'x'"]
        done = subprocess.run([DOCKER, "run", "-d", "--network", "none", "plain:1", *writer], env=env_direct,
                              capture_output=True, text=True, check=True)  # fmt: skip
        cid = done.stdout.strip()
        subprocess.run([DOCKER, "wait", cid], env=env_direct, capture_output=True, check=True)
        logs = {"direct": [], "proxy": []}  # type: dict[str, list[float]]
        for _ in range(runs):
            logs["direct"].append(_timed([DOCKER, "logs", cid], env_direct))
            logs["proxy"].append(_timed([DOCKER, "logs", cid], env_proxy))
        attach = {"direct": [], "proxy": []}  # type: dict[str, list[float]]
        made = {
            way: [
                subprocess.run(
                    [DOCKER, "create", "--network", "none", "plain:1", "dd", "if=/dev/zero", "bs=1048576",
                     f"count={megabytes}"], env=env, capture_output=True, text=True, check=True,
                ).stdout.strip()
                for _ in range(runs)
            ]
            for way, env in (("direct", env_direct), ("proxy", env_proxy))
        }  # fmt: skip
        for i in range(runs):
            attach["direct"].append(_timed([DOCKER, "start", "-a", made["direct"][i]], env_direct))
            attach["proxy"].append(_timed([DOCKER, "start", "-a", made["proxy"][i]], env_proxy))
    for name, times in (("docker logs", logs), ("docker start -a (attach)", attach)):
        d, p = statistics.median(times["direct"]), statistics.median(times["proxy"])
        ratio = d / p
        rows += [
            ("i", f"{megabytes} MB through `{name}` direct: median", megabytes / d, "MB/s", "", None, f"{runs} runs"),
            ("i", f"{megabytes} MB through `{name}` via the proxy: median", megabytes / p, "MB/s", "", None,
             f"{runs} runs"),
            ("i", f"`{name}` throughput via the proxy / direct", ratio, "x", ">= 0.9", ratio >= 0.9, ""),
        ]  # fmt: skip
    return rows

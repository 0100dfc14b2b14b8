"""Private container engines for tests and tools: a dockerd, a podman and OCI bundles of their own.

Each engine runs with its own state, never the system's:

- ``PrivateDocker``: Debian's ``dockerd`` (docker.io 20.10) with its own socket, data root, exec
  root and pid file (it starts its own containerd under the exec root), overlay2 storage, no
  bridge, no iptables: containers use ``--network host``. Commands run through Debian's own
  ``/usr/bin/docker`` client.
- ``PrivatePodman``: ``podman`` (crun) with its own storage (graph root, run root) and
  ``containers.conf``, every command inside one private mount namespace. crun 1.8 refuses a
  hybrid cgroup layout ("cgroups in hybrid mode not supported"): the namespace hides the cgroup
  v2 mount, as ``tools/make_bundle.py`` does for crun alone. Where the host lacks
  CAP_SYS_RESOURCE (some sandboxes), crun cannot raise RLIMIT_NOFILE/NPROC to Podman's defaults:
  the private ``containers.conf`` then sets them to the host's hard limits.
- ``bundle()``: an OCI bundle (``runc spec``, then Docker's defaults: capabilities, host network,
  a read-only root with tmpfs on /tmp and /run) over a root filesystem directory, for runc or
  crun run directly.

``python tools/engines.py docker|podman --root DIR`` starts one and waits (for trying things by
hand); tests use the classes as context managers. Unix socket paths are limited to 107 bytes:
keep roots short (``/tmp/sc-...``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

DOCKERD = "/usr/sbin/dockerd"
DOCKER = "/usr/bin/docker"
"""Debian's docker.io client (another docker on PATH may be a newer one)."""
PODMAN = "/usr/bin/podman"

DOCKER_DEFAULT_CAPS = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
    "CAP_AUDIT_WRITE",
)  # fmt: skip
"""The 14 capabilities docker run gives a container (moby's oci/caps/defaults.go)."""


def _cap_sys_resource() -> bool:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) >> 24 & 1)
    return False


def missing(*tools: str) -> list[str]:
    """Return the tools (paths or names) that are not installed."""
    return [t for t in tools if not (Path(t).exists() if t.startswith("/") else shutil.which(t))]


class _Client:
    """What both engines' clients share: a command's argv (``cmd``) run with the engine's ``env``."""

    @property
    def env(self) -> dict[str, str]:
        """The environment the engine's client needs."""
        raise NotImplementedError

    def cmd(self, *args: str) -> list[str]:
        """Return the argv of a client command (run it with ``env=self.env``)."""
        raise NotImplementedError

    def run(self, *args: str, input: bytes | None = None, timeout: float = 600) -> subprocess.CompletedProcess[bytes]:  # noqa: A002 - subprocess's name
        """Run a client command against this engine."""
        return subprocess.run(
            self.cmd(*args), input=input, capture_output=True, env=self.env, timeout=timeout, check=False
        )

    def popen(self, *args: str, **kwargs: Any) -> subprocess.Popen[bytes]:
        """Start a client command against this engine."""
        return subprocess.Popen(self.cmd(*args), env=self.env, **kwargs)


class PrivateDocker(_Client):
    """A dockerd of its own under ``root`` (short path!), started by ``start`` and stopped by ``stop``.

    ``runtimes`` adds OCI runtimes by name -> path (``docker run --runtime NAME``), as
    ``daemon.json``'s ``runtimes`` does.
    """

    name = "docker"

    def __init__(self, root: Path, *, runtimes: dict[str, str] | None = None) -> None:
        self.root = root
        self.sock = root / "docker.sock"
        self.runtimes = dict(runtimes or {})
        self.proc: subprocess.Popen[bytes] | None = None
        if len(str(self.sock)) > 100:
            raise ValueError(f"{self.sock}: a unix socket path must be short (107 bytes at most)")

    @property
    def env(self) -> dict[str, str]:
        """The environment a docker client needs to talk to this daemon."""
        return {**os.environ, "DOCKER_HOST": f"unix://{self.sock}"}

    def start(self, timeout: float = 60) -> Self:
        """Start dockerd and wait until it answers; raises RuntimeError with its log when it cannot."""
        if missing(DOCKERD, DOCKER):
            raise RuntimeError("docker.io is not installed (apt-get install docker.io)")
        self.root.mkdir(parents=True, exist_ok=True)
        config = self.root / "daemon.json"
        config.write_text(json.dumps({"runtimes": {k: {"path": v} for k, v in self.runtimes.items()}}))
        log = (self.root / "dockerd.log").open("ab")
        self.proc = subprocess.Popen(
            [
                DOCKERD,
                "--config-file", str(config),
                "--data-root", str(self.root / "data"),
                "--exec-root", str(self.root / "exec"),
                "--pidfile", str(self.root / "docker.pid"),
                "-H", f"unix://{self.sock}",
                "--iptables=false", "--ip-masq=false", "--bridge=none", "--storage-driver=overlay2",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dockerd exited: {self.log_tail()}")
            if self.sock.exists() and self.run("version", timeout=10).returncode == 0:
                return self
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"dockerd did not answer within {timeout}s: {self.log_tail()}")

    def log_tail(self, size: int = 1500) -> str:
        """Return the end of dockerd's log."""
        path = self.root / "dockerd.log"
        return path.read_text(errors="replace")[-size:] if path.exists() else ""

    def cmd(self, *args: str) -> list[str]:
        """Return the argv of a docker client command (run it with ``env=self.env``)."""
        return [DOCKER, *args]

    def versions(self) -> dict[str, str]:
        """Return the versions of the engine, containerd and runc as the daemon reports them."""
        out = self.run("version", "--format", "{{json .Server}}", timeout=30).stdout
        server = json.loads(out)
        found = {"docker": server.get("Version", "")}
        for part in server.get("Components") or []:
            found[part["Name"].lower()] = part.get("Version", "")
        return found

    def stop(self) -> None:
        """Remove every container, stop dockerd (and its containerd) and free its state's mounts."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired, OSError):
                ids = self.run("ps", "-aq", timeout=30).stdout.decode().split()
                if ids:
                    self.run("rm", "-f", *ids, timeout=120)
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None
        # containerd-shim-runc-v2 outlives its daemon by design: end the shims of this daemon's containerd.
        _kill_holding(f"{self.root}/exec/containerd/")
        _unmount_under(self.root)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class PrivatePodman(_Client):
    """podman with storage and configuration of its own under ``root``, in a private mount namespace."""

    name = "podman"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.holder: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        """The environment podman needs for this storage and configuration."""
        return {
            **os.environ,
            "CONTAINERS_STORAGE_CONF": str(self.root / "storage.conf"),
            "CONTAINERS_CONF": str(self.root / "containers.conf"),
        }

    def start(self) -> Self:
        """Write the configuration and open the mount namespace every command runs in."""
        if missing(PODMAN, "crun", "unshare", "nsenter"):
            raise RuntimeError("podman, crun and util-linux are needed (apt-get install podman crun util-linux)")
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "storage.conf").write_text(
            f'[storage]\ndriver = "overlay"\ngraphroot = "{self.root}/graph"\nrunroot = "{self.root}/run"\n'
        )
        conf = ["[containers]"]
        if not _cap_sys_resource():
            # crun cannot raise rlimits above the hard limits without CAP_SYS_RESOURCE; podman lowers its own
            # RLIMIT_NPROC to 32768 before it starts conmon.
            nofile = min(_hard_limit("RLIMIT_NOFILE"), 1048576)
            conf.append(f'default_ulimits = ["nofile={nofile}:{nofile}", "nproc=32768:32768"]')
        conf += ["[engine]", f'tmp_dir = "{self.root}/tmp"', 'cgroup_manager = "cgroupfs"', 'events_logger = "file"',
                 f'events_logfile_path = "{self.root}/events.log"']  # fmt: skip
        (self.root / "containers.conf").write_text("\n".join(conf) + "\n")
        script = "umount /sys/fs/cgroup/unified 2>/dev/null; exec sleep infinity"
        self.holder = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sh", "-c", script], start_new_session=True
        )
        time.sleep(0.3)
        if self.holder.poll() is not None:
            raise RuntimeError("unshare -m failed: a private mount namespace is needed for crun here")
        return self

    def cmd(self, *args: str) -> list[str]:
        """Return the argv of a podman command (run it with ``env=self.env``)."""
        assert self.holder is not None, "start() first"
        return ["nsenter", "-t", str(self.holder.pid), "-m", PODMAN, *args]

    def versions(self) -> dict[str, str]:
        """Return podman's, crun's and conmon's versions."""
        info = json.loads(self.run("info", "--format", "json", timeout=60).stdout)
        host = info.get("host", {})
        runtime = host.get("ociRuntime", {})
        return {
            "podman": info.get("version", {}).get("Version", ""),
            runtime.get("name", "crun"): runtime.get("version", "").splitlines()[0].split()[-1],
            "conmon": host.get("conmon", {}).get("version", "").split(",")[0].split()[-1],
        }

    def stop(self) -> None:
        """Remove every container and image mount, and leave the namespace."""
        if self.holder is None:
            return
        with contextlib.suppress(subprocess.TimeoutExpired, OSError):
            self.run("rm", "-af", "-t", "0", timeout=180)
            self.run("system", "prune", "-f", timeout=120)
        self.holder.kill()
        self.holder.wait()
        self.holder = None
        _unmount_under(self.root)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _hard_limit(name: str) -> int:
    import resource

    hard = resource.getrlimit(getattr(resource, name))[1]
    return hard if hard != resource.RLIM_INFINITY else 1 << 20


def _kill_holding(fragment: str) -> None:
    """SIGKILL the processes whose command line names ``fragment`` (a private engine's own state path)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if fragment in cmdline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(proc.name), signal.SIGKILL)


def _unmount_under(root: Path) -> None:
    """Unmount whatever an engine left mounted under ``root`` (deepest first)."""
    mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    for point in sorted((m for m in mounts if m.startswith(f"{root}/")), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)


# --------------------------------------------------------------------------- OCI bundles


def bundle(
    dest: Path,
    rootfs: Path,
    *,
    args: Sequence[str],
    seccomp: dict[str, Any] | None,
    no_new_privileges: bool = False,
    user: tuple[int, int] = (0, 0),
    caps: Sequence[str] = DOCKER_DEFAULT_CAPS,
    binds: Sequence[Path] = (),
    cwd: str = "/",
    env: Sequence[str] = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",),
) -> Path:
    """Write an OCI bundle in ``dest`` running ``args`` in ``rootfs`` the way docker run would set it up.

    Docker's defaults: its 14 capabilities (``caps``), ``noNewPrivileges`` false, the host's
    network (no network namespace), the root read-only with tmpfs on /tmp, /run and /var/run
    (the rootfs is shared by many runs), each of ``binds`` mounted read-write at its own path.
    """
    dest.mkdir(parents=True, exist_ok=True)
    config_path = dest / "config.json"
    config_path.unlink(missing_ok=True)
    subprocess.run(["runc", "spec", "--bundle", str(dest)], check=True, capture_output=True)
    config = json.loads(config_path.read_text())
    process = config["process"]
    process.update(
        args=list(args),
        terminal=False,
        cwd=cwd,
        env=list(env),
        noNewPrivileges=no_new_privileges,
        user={"uid": user[0], "gid": user[1]},
    )
    process["capabilities"] = {k: list(caps) for k in ("bounding", "effective", "permitted")}
    process.pop("rlimits", None)
    config["root"] = {"path": str(rootfs), "readonly": True}
    config["hostname"] = "seccompose"
    linux = config["linux"]
    linux["namespaces"] = [n for n in linux["namespaces"] if n["type"] != "network"]
    linux.pop("maskedPaths", None)  # keep /proc/... readable, as for a plain docker run of a server
    mounts = [m for m in config["mounts"] if m["destination"] not in ("/tmp", "/run")]
    mounts += [
        {"destination": place, "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]}
        for place in ("/tmp", "/run", "/var/run", "/var/tmp", "/var/log", "/var/lib/nginx")
    ]
    mounts += [{"destination": str(p), "type": "bind", "source": str(p), "options": ["rbind", "rw"]} for p in binds]
    config["mounts"] = mounts
    if seccomp is not None:
        linux["seccomp"] = seccomp
    else:
        linux.pop("seccomp", None)
    config_path.write_text(json.dumps(config, indent=2))
    return dest


_CRUN = 'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun --cgroup-manager=disabled run --bundle "$0" "$1"'


def bundle_cmd(runtime: str, dest: Path, container_id: str) -> list[str]:
    """Return the argv that runs a bundle in the foreground with ``runtime`` (runc or crun)."""
    if runtime == "runc":
        return ["runc", "run", "--bundle", str(dest), container_id]
    if runtime == "crun":
        return ["unshare", "-m", "--propagation", "private", "sh", "-c", _CRUN, str(dest), container_id]
    raise ValueError(f"unknown runtime {runtime!r}; use runc or crun")


def delete(runtime: str, container_id: str) -> None:
    """Forget a container (killed first if it still runs)."""
    subprocess.run([runtime, "kill", container_id, "KILL"], capture_output=True, check=False)
    subprocess.run([runtime, "delete", "-f", container_id], capture_output=True, check=False)


@contextlib.contextmanager
def started(engine: PrivateDocker | PrivatePodman) -> Iterator[PrivateDocker | PrivatePodman]:
    """Start an engine for the duration of a ``with`` block."""
    engine.start()
    try:
        yield engine
    finally:
        engine.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("engine", choices=("docker", "podman"))
    parser.add_argument("--root", type=Path, default=Path(f"/tmp/sc-engine-{os.getpid()}"))
    ns = parser.parse_args(argv)
    engine: PrivateDocker | PrivatePodman = PrivateDocker(ns.root) if ns.engine == "docker" else PrivatePodman(ns.root)
    with started(engine):
        if isinstance(engine, PrivateDocker):
            print(f"export DOCKER_HOST=unix://{engine.sock}   # {engine.versions()}")
        else:
            pid = engine.holder.pid if engine.holder else "?"
            conf = f"CONTAINERS_STORAGE_CONF={ns.root}/storage.conf CONTAINERS_CONF={ns.root}/containers.conf"
            print(f"nsenter -t {pid} -m env {conf} podman ...")
        print("ctrl-c stops it", file=sys.stderr)
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = [
    "DOCKER_DEFAULT_CAPS",
    "PrivateDocker",
    "PrivatePodman",
    "TracebackType",
    "bundle",
    "bundle_cmd",
    "delete",
    "missing",
    "started",
]

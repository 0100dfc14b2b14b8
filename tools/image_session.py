"""Run an image's life in a private Docker: the legs the recordings trace and the proofs check.

A *leg* is one container of an image (``tools/image_recipes.py``), started as a user would
(``docker run`` with the recipe's environment, arguments, mounts and data volumes), made ready
(its healthcheck passes), fed its workload, checked with the image's admin commands through
``docker exec``, and stopped with the image's stop signal; then its output is checked (no
refusal, a clean exit, not killed). Legs share data volumes by name, so a leg run after another
on the same ``data`` is a restart on the existing volume.

Two modes:

- **prove** (``trace=None``): the container runs with whatever options the caller gives
  (``--security-opt seccomp=FILE``, ``--cap-drop ALL ...``), or through ``seccompose proxy``
  (``host``: the proxy's socket, no option at all); the first admin command is the container's
  ``--health-cmd``, which must report healthy; ``extra`` steps (the refusals) run after the
  admin commands.
- **record** (``trace=DIR``): the image's entrypoint and command run under ``strace -f -ttt``
  *inside* the container (the image carries strace; the container gets CAP_SYS_PTRACE and a
  profile that allows ptrace), and so does every ``docker exec``; the traces land in DIR. The
  server is stopped by sending the stop signal to strace's child from the host (strace, as the
  container's first process, blocks it).
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import shlex
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, Self

from _client_output import output_problem
from _server_files import site
from image_recipes import CLIENT_IMAGE, ORIGIN_PORT, Recipe, Step

TOOLS = Path(__file__).resolve().parent
WORKLOADS = TOOLS / "workloads"
TRACE_DIR = "/seccompose-trace"
STRACE = ("/usr/bin/strace", "-f", "-qq", "-ttt")
TINY_IMAGE = CLIENT_IMAGE + "-tiny"
"""A one-layer image of a few kB that the registry's workload pushes and pulls."""


class Engine(Protocol):
    """The docker CLI of a private dockerd (``tools/engines.py``)."""

    name: str

    def run(self, *args: str, input: bytes | None = None, timeout: float = 600) -> subprocess.CompletedProcess[bytes]:  # noqa: A002
        """Run a docker command."""
        ...

    def popen(self, *args: str, **kwargs: Any) -> subprocess.Popen[bytes]:
        """Start a docker command."""
        ...


class LegFailed(RuntimeError):  # noqa: N818 - a failed leg, as the tests report it
    """A leg of an image's life failed: the message says which step and shows its output."""


@dataclass
class Leg:
    """What a leg did: its container, timings and the server's output."""

    name: str
    container: str
    id: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    log: str = ""
    exit_code: int | None = None
    outputs: list[str] = field(default_factory=list)


def _docker(
    engine: Engine, *args: str, timeout: float = 300, host: str | None = None, input_: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    if host is None:
        return engine.run(*args, input=input_, timeout=timeout)
    env = {**os.environ, "DOCKER_HOST": host}
    return subprocess.run(
        ["/usr/bin/docker", *args], input=input_, capture_output=True, env=env, timeout=timeout, check=False
    )


def _text(done: subprocess.CompletedProcess[bytes]) -> str:
    return (done.stdout + done.stderr).decode(errors="replace")


# --------------------------------------------------------------------------- helpers around the legs


@contextlib.contextmanager
def origin(work: Path) -> Iterator[None]:
    """A plain HTTP origin on ORIGIN_PORT serving ``work/html`` (for the proxies and caches)."""
    site(work)
    root = str(work / "html")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args, directory=root)

        def log_message(self, *_args: object) -> None:
            pass

    class Server(http.server.ThreadingHTTPServer):
        allow_reuse_address = True
        daemon_threads = True
        # socketserver's backlog of 5 overflows under a proxy's concurrent load (ab -c 8 through haproxy, slowed
        # by strace while recording): refused connections fail its health checks and it answers 503.
        request_queue_size = 256

    server = Server(("127.0.0.1", ORIGIN_PORT), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def ensure_tiny_image(engine: Engine) -> None:
    """Import the few-kB image the registry's workload pushes (once per engine)."""
    if engine.run("image", "inspect", TINY_IMAGE, timeout=60).returncode == 0:
        return
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in (("hello.txt", b"seccompose\n"), ("data.bin", os.urandom(64 * 1024))):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    done = engine.run("import", "-", TINY_IMAGE, input=buf.getvalue(), timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"docker import of {TINY_IMAGE}: {_text(done)}")


def image_config(engine: Engine, image: str) -> dict[str, Any]:
    """The image's Config (Entrypoint, Cmd, StopSignal, User, ...)."""
    done = engine.run("image", "inspect", "--format", "{{json .Config}}", image, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"no image {image}: {_text(done)}")
    config: dict[str, Any] = json.loads(done.stdout)
    return config


def _running(pid: int) -> bool:
    """Whether a host pid is a live process (not gone, not a zombie)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (host pids), children first found first."""
    out: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{parent}/task").iterdir():
                kids = [int(k) for k in (task / "children").read_text().split()]
                out += kids
                todo += kids
    return out


def wait_port(port: int, timeout: float, alive: Any) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise LegFailed(f"the container exited before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.25)
    raise LegFailed(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f}s")


# --------------------------------------------------------------------------- the life


class Life:
    """One image's containers in one work directory: volumes, files, the origin, and its legs."""

    def __init__(self, engine: Engine, recipe: Recipe, work: Path, *, trace: Path | None = None,
                 probes: Path | None = None, proxy: str | None = None) -> None:  # fmt: skip
        self.engine = engine
        self.recipe = recipe
        self.work = work
        self.trace = trace
        self.probes = probes
        self.proxy = proxy
        self.containers: list[str] = []
        self.volumes: list[str] = []
        self.counter = 0
        work.mkdir(parents=True, exist_ok=True)
        work.chmod(0o755)
        recipe.files(work)
        if trace is not None:
            trace.mkdir(parents=True, exist_ok=True)
            trace.chmod(0o777)  # the image's own users write their traces there too

    # -- volumes and options

    def _volume_options(self, data: str) -> list[str]:
        out: list[str] = []
        for i, vol in enumerate(self.recipe.volumes):
            if vol.named:
                name = f"sc18-{self.recipe.name}-{data}-{i}-{os.getpid()}"
                if name not in self.volumes:
                    done = self.engine.run("volume", "create", name, timeout=60)
                    if done.returncode != 0:
                        raise LegFailed(f"docker volume create {name}: {_text(done)}")
                    self.volumes.append(name)
                out += ["-v", f"{name}:{vol.target}"]
            else:
                host = self.work / f"data-{data}-{i}"
                host.mkdir(exist_ok=True)  # an empty folder owned by root: the entrypoint takes it over
                out += ["-v", f"{host}:{vol.target}"]
        return out

    def _run_options(self, name: str, data: str) -> list[str]:
        r = self.recipe
        opts = ["--name", name, "--network", "host"]
        for key, value in r.env.items():
            opts += ["-e", f"{key}={value}"]
        for m in r.mounts:
            opts += ["-v", f"{self.work / m.source}:{m.target}{':ro' if m.read_only else ''}"]
        opts += self._volume_options(data)
        if r.user:
            opts += ["--user", r.user]
        if self.probes is not None:
            opts += ["-v", f"{self.probes}:/seccompose-probe:ro"]
        if self.trace is not None:
            opts += ["-v", f"{self.trace}:{TRACE_DIR}"]
        return opts

    def _traced(self, label: str, argv: Sequence[str]) -> list[str]:
        self.counter += 1
        return [*STRACE, "-o", f"{TRACE_DIR}/{label}-{self.counter:03d}.trace", "--", *argv]

    # -- the steps

    def step(self, leg: Leg, step: Step, *, label: str, code: int = 0) -> str:
        """Run one step; raise LegFailed unless it exits ``code`` (with its expected output)."""
        argv = list(step.argv)
        env = [f"{k}={v}" for k, v in step.env]
        env_opts = [o for e in env for o in ("-e", e)]
        if step.where == "exec":
            if self.trace is not None:
                argv = self._traced(f"{leg.name}-{label}", argv)
            done = _docker(self.engine, "exec", *env_opts, leg.container, *argv, timeout=step.timeout)
        elif step.where == "docker":
            done = _docker(self.engine, *argv, timeout=step.timeout)
        else:
            mounts = ["-v", f"{self.work}:/work:ro", "-v", f"{WORKLOADS}:/workloads:ro"]
            done = _docker(self.engine, "run", "--rm", "--network", "host", *mounts, *env_opts, CLIENT_IMAGE, *argv,
                           timeout=step.timeout)  # fmt: skip
        out = _text(done)
        leg.outputs.append(f"$ {step.text()}  -> {done.returncode}\n{out[-3000:]}")
        problem = None
        if done.returncode != code:
            problem = f"exit {done.returncode}, not {code}"
        elif code == 0:
            problem = output_problem(step.argv, out)
            if problem is None and step.expect is not None and step.expect not in out:
                problem = f"its output lacks {step.expect!r}"
        if problem:
            raise LegFailed(f"{self.recipe.name} {leg.name}: {step.text()}: {problem}\n{out[-2500:]}")
        if step.settle:
            time.sleep(step.settle)
        return out

    # -- a leg

    def leg(
        self,
        name: str,
        *,
        data: str = "a",
        options: Sequence[str] = (),
        workload: Sequence[Step] | None = None,
        admin: bool = True,
        extra: Sequence[tuple[Step, int]] = (),
        through_proxy: bool = False,
    ) -> Leg:
        """Start a container, make it ready, run ``workload`` (default: the recipe's), the admin commands
        and ``extra`` (step, expected exit code), stop it, check its output; return what happened."""
        r = self.recipe
        container = f"sc18-{r.name}-{name}-{uuid.uuid4().hex[:8]}"
        leg = Leg(name, container)
        host = self.proxy if through_proxy else None
        started = time.monotonic()
        cmd = ["run", "-d", *self._run_options(container, data), *options]
        config = image_config(self.engine, r.tag)
        if self.trace is not None:
            entry = list(config.get("Entrypoint") or [])
            command = list(r.args or config.get("Cmd") or [])
            cmd += ["--cap-add", "SYS_PTRACE", "--entrypoint", STRACE[0], r.tag,
                    *self._traced(f"{name}-server", [*entry, *command])[1:]]  # fmt: skip
        else:
            health = shlex.join([*(["env", *(f"{k}={v}" for k, v in r.admin[0].env)] if r.admin[0].env else []),
                                 *r.admin[0].argv])  # fmt: skip
            cmd += ["--health-cmd", health, "--health-interval", "1s", "--health-timeout", "30s",
                    "--health-retries", str(int(r.ready_timeout)), r.tag, *r.args]  # fmt: skip
        sidecar = None
        self.containers.append(container)
        with origin(self.work) if r.origin else contextlib.nullcontext():
            try:
                done = _docker(self.engine, *cmd, timeout=120, host=host)
                if done.returncode != 0:
                    raise LegFailed(f"{r.name} {name}: docker run failed: {_text(done)}")
                leg.id = done.stdout.decode().strip().splitlines()[-1]
                if r.sidecar:
                    sidecar = f"{container}-sidecar"
                    self.containers.append(sidecar)
                    side = _docker(self.engine, "run", "-d", "--name", sidecar, "--network", "host", "-v",
                                   f"{self.work}:/work:ro", CLIENT_IMAGE, *r.sidecar, timeout=120)  # fmt: skip
                    if side.returncode != 0:
                        raise LegFailed(f"{r.name} {name}: the sidecar did not start: {_text(side)}")
                self._ready(leg)
                leg.seconds["start"] = time.monotonic() - started
                t = time.monotonic()
                for i, step in enumerate(r.workload if workload is None else workload):
                    self.step(leg, step, label=f"work{i}")
                leg.seconds["workload"] = time.monotonic() - t
                t = time.monotonic()
                if admin:
                    for i, step in enumerate(self._admin_steps()):
                        self.step(leg, step, label=f"admin{i}")
                for i, (step, code) in enumerate(extra):
                    self.step(leg, step, label=f"extra{i}", code=code)
                leg.seconds["admin"] = time.monotonic() - t
                t = time.monotonic()
                self._stop(leg)
                leg.seconds["stop"] = time.monotonic() - t
            finally:
                leg.log = _text(self.engine.run("logs", container, timeout=60))
                (self.work / f"{name}.log").write_text(leg.log + "\n--- steps\n" + "\n".join(leg.outputs))
                self.engine.run("rm", "-f", container, *([sidecar] if sidecar else []), timeout=120)
        self._check_output(leg)
        return leg

    def _admin_steps(self) -> list[Step]:
        """The admin commands as a container runs them: the first also as HEALTHCHECK's ``/bin/sh -c``."""
        admin = list(self.recipe.admin)
        if self.trace is None or not admin:
            return admin
        first = admin[0]
        shell = Step(
            ("/bin/sh", "-c", shlex.join(first.argv)), "exec", first.env, first.expect, first.timeout, first.settle
        )
        return [shell, *admin]

    def _alive(self, leg: Leg) -> bool:
        done = self.engine.run("inspect", "--format", "{{.State.Running}}", leg.container, timeout=30)
        return done.returncode == 0 and done.stdout.strip() == b"true"

    def _ready(self, leg: Leg) -> None:
        r = self.recipe
        wait_port(r.port, r.ready_timeout, lambda: self._alive(leg))
        deadline = time.monotonic() + r.ready_timeout
        if self.trace is None:
            status = ""
            while time.monotonic() < deadline:
                if not self._alive(leg):
                    raise LegFailed(f"{r.name} {leg.name}: the container exited while starting")
                done = self.engine.run("inspect", "--format", "{{.State.Health.Status}}", leg.container, timeout=30)
                status = done.stdout.decode().strip()
                if status == "healthy":
                    return
                time.sleep(0.5)
            log = self.engine.run("inspect", "--format", "{{json .State.Health.Log}}", leg.container, timeout=30)
            raise LegFailed(
                f"{r.name} {leg.name}: not healthy ({status}) after {r.ready_timeout:.0f}s: {_text(log)[-1500:]}"
            )
        last = ""
        while time.monotonic() < deadline:
            try:
                self.step(leg, r.admin[0], label="ready")
            except LegFailed as exc:
                last = str(exc)
                time.sleep(1)
            else:
                return
        raise LegFailed(f"{r.name} {leg.name}: never ready: {last}")

    def _stop(self, leg: Leg) -> None:
        r = self.recipe
        if self.trace is None:
            done = self.engine.run("stop", "-t", "90", leg.container, timeout=150)
            if done.returncode != 0:
                raise LegFailed(f"{r.name} {leg.name}: docker stop: {_text(done)}")
        else:
            pid_text = (
                self.engine.run("inspect", "--format", "{{.State.Pid}}", leg.container, timeout=30)
                .stdout.decode()
                .strip()
            )
            children = Path(f"/proc/{pid_text}/task/{pid_text}/children").read_text().split()
            stop = image_config(self.engine, r.tag).get("StopSignal") or "SIGTERM"
            number = (
                int(stop)
                if str(stop).isdigit()
                else int(signal.Signals[stop if stop.startswith("SIG") else f"SIG{stop}"])
            )
            server = int(children[0])
            os.kill(server, number)
            # strace (the first process) waits for every process it traces; when the container's first
            # process exits, the kernel ends the rest (a daemon such as epmd). Do that for strace once
            # the server is gone: SIGKILL from the host to strace's descendants.
            deadline = time.monotonic() + 150
            while _running(server) and time.monotonic() < deadline:
                time.sleep(0.2)
            for pid in _descendants(int(pid_text)):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            done = self.engine.run("wait", leg.container, timeout=150)
            if done.returncode != 0:
                raise LegFailed(f"{r.name} {leg.name}: the server did not stop on {stop}: {_text(done)}")
        state = json.loads(self.engine.run("inspect", "--format", "{{json .State}}", leg.container, timeout=30).stdout)
        leg.exit_code = int(state["ExitCode"])
        if state.get("OOMKilled") or leg.exit_code == 137:
            raise LegFailed(f"{r.name} {leg.name}: killed (exit {leg.exit_code}): it did not stop on its stop signal")

    def _check_output(self, leg: Leg) -> None:
        for line in leg.log.splitlines():
            if "Operation not permitted" in line and not any(a in line for a in self.recipe.allowed_log_lines):
                raise LegFailed(
                    f"{self.recipe.name} {leg.name}: the server logged a refused call: {line}\n{leg.log[-2000:]}"
                )

    # -- cleanup

    def close(self) -> None:
        """Remove the containers and named volumes this life made."""
        if self.containers:
            self.engine.run("rm", "-f", *self.containers, timeout=120)
        if self.volumes:
            self.engine.run("volume", "rm", "-f", *self.volumes, timeout=120)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["TINY_IMAGE", "Leg", "LegFailed", "Life", "ensure_tiny_image", "image_config", "origin", "output_problem"]

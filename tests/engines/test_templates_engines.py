"""Every app template, composed with default options, runs its server where people run it.

Per template, the profile is composed the way the README and the docs show::

    seccompose compose --base NAME --format docker -o NAME.json
    docker run --security-opt seccomp=NAME.json IMAGE ...

and the server runs the life ``tools/record_templates.py`` recorded (first start, start,
workload from the host, the image's healthcheck and admin commands through ``docker exec``,
reload, more work, clean stop; the whole workload under ``docker``, its first step elsewhere)
under:

(CI runs ``podman`` and the ``runc`` variants; ``docker`` and ``docker-cap-drop`` are proven by
tests/images in ``nox -s images``, and run here with ``SECCOMPOSE_ENGINE_VARIANTS=all``.)

- ``docker``: ``docker run`` on a private dockerd (Debian's docker.io 20.10 -> containerd -> runc),
  Docker's default capabilities, no other security option; the first admin command is also the
  container's ``--health-cmd``, which must report healthy;
- ``docker-cap-drop``: the same with ``--cap-drop ALL`` plus only the capabilities the server
  needs (``Server.caps``), the profile composed for those (``--cap-drop ALL --cap-add ...``);
- ``podman``: ``podman run`` (crun), Podman's default capabilities; ``podman healthcheck run``;
- ``runc``, ``runc-nnp``: runc run directly on a bundle over the same root filesystem,
  ``noNewPrivileges`` false and true; admin commands through ``runc exec``.

Inside the running container, a static test program must then get EPERM for
``clone(CLONE_NEWUSER|SIGCHLD)`` (x86_64 and, through ``int 0x80``, i386) and for a syscall the
template does not allow; ``test_user_namespaces_work_without_the_filter`` shows the same call
succeeds in the same container set-up without seccomp, so the EPERM is the filter's.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from seccompose.arch import Arch
from seccompose.syscalls import table
from tests._tools import tool

pytestmark = [pytest.mark.integration, pytest.mark.engines]

RECIPES = tool("record_templates")
engines = tool("engines")
images = tool("images")
NAMES = sorted(RECIPES.SERVERS)
VARIANTS: tuple[str, ...] = ("podman", "runc", "runc-nnp")
"""The variants CI runs. ``docker`` and ``docker-cap-drop`` run in ``nox -s images`` instead (tests/images:
the same template, composed the same way, under ``docker run`` with Docker's default capabilities and with
``--cap-drop ALL`` plus what the image needs, on the image built the way the official one starts, with
its whole workload); ``ALL_VARIANTS`` keeps them here for ``SECCOMPOSE_ENGINE_VARIANTS=all``."""
ALL_VARIANTS = ("docker", "docker-cap-drop", "podman", "runc", "runc-nnp")
if os.environ.get("SECCOMPOSE_ENGINE_VARIANTS") == "all":
    VARIANTS = ALL_VARIANTS
CLONE_NEWUSER_SIGCHLD = str(0x10000000 | 17)
# Harmless calls, none with side effects: EPERM can only come from the filter.
OUTSIDE = ("getcpu", "sysinfo", "times", "getitimer", "sched_yield", "getpriority", "getppid", "getpgrp")
TIMINGS: dict[str, float] = {}


def _compose(*args: str) -> None:
    """``seccompose compose ...``: the CLI as users run it."""
    done = subprocess.run([sys.executable, "-m", "seccompose", "compose", *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def _allowed(path: Path) -> set[str]:
    doc = json.loads(path.read_text())
    return {n for r in doc["syscalls"] if r["action"] == "SCMP_ACT_ALLOW" and not r.get("args") for n in r["names"]}


class _Launcher:
    """Starts a recipe's server-side commands in containers of one engine; ``admin`` execs into the server's."""

    def __init__(self, variant: str, name: str, engine: Any, rootfs: Path, work: Path, probes: Path, profile: Path) -> None:
        self.variant = variant
        self.engine = engine
        self.rootfs = rootfs
        self.work = work
        self.probes = probes
        self.profile = profile
        self.server = RECIPES.SERVERS[name]
        self.image = images.image_for(name).tag
        self.names: list[str] = []
        self.current = ""
        self.health_checked = False
        self.runtime = "runc"

    # -- containers of the engines

    def _engine_run(self, argv: list[str], user: str | None, log: Path) -> subprocess.Popen[bytes]:
        name = f"sc-{self.server.name}-{uuid.uuid4().hex[:8]}"
        self.names.append(name)
        flags = ["--rm", "--name", name, "--network", "host", "-v", f"{self.work}:{self.work}",
                 "-v", f"{self.probes}:{self.probes}:ro", "-w", str(self.work)]  # fmt: skip
        if user:
            flags += ["--user", user]
        if self.variant == "docker-cap-drop":
            flags += ["--cap-drop", "ALL", *(f"--cap-add={c}" for c in self.server.caps)]
        if argv[: len(RECIPES.ENTRYPOINT)] == RECIPES.ENTRYPOINT:  # the server itself
            self.current = name
            health = shlex.join(self.server.admin(self.work)[0])
            # Podman runs healthchecks from systemd timers, which this host has not: run by hand (podman healthcheck run).
            interval = ["--health-interval", "disable"] if self.variant == "podman" else ["--health-interval", "1s"]
            flags += ["--health-cmd", health, *interval, "--health-retries", "60"]
        cmd = ["run", *flags, "--security-opt", f"seccomp={self.profile}", self.image, *argv]
        with log.open("wb") as out:
            proc: subprocess.Popen[bytes] = self.engine.popen(*cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        return proc

    def _engine_exec(self, argv: list[str], user: str | None, log: Path) -> subprocess.Popen[bytes]:
        if not self.health_checked:
            self.health_checked = True
            self._healthy()
        with log.open("wb") as out:
            proc: subprocess.Popen[bytes] = self.engine.popen("exec", self.current, *argv, stdout=out, stderr=subprocess.STDOUT)
        return proc

    def _healthy(self) -> None:
        if self.variant == "podman":
            done = self.engine.run("healthcheck", "run", self.current, timeout=120)
            if done.returncode != 0:
                raise RuntimeError(f"podman healthcheck run: {done.returncode} {done.stdout!r} {done.stderr!r}")
            return
        deadline = time.monotonic() + 90
        status = ""
        while time.monotonic() < deadline:
            status = self.engine.run("inspect", "--format", "{{.State.Health.Status}}", self.current, timeout=30).stdout.decode().strip()
            if status == "healthy":
                return
            time.sleep(0.5)
        log = self.engine.run("inspect", "--format", "{{json .State.Health.Log}}", self.current, timeout=30).stdout
        raise RuntimeError(f"the container's healthcheck did not pass ({status}): {log[-1500:]!r}")

    # -- runc on a bundle

    def _ids(self, user: str | None) -> tuple[int, int]:
        if not user:
            return (0, 0)
        ids: tuple[int, int] = images.passwd(self.rootfs)[user]
        return ids

    def _runc_run(self, argv: list[str], user: str | None, log: Path) -> subprocess.Popen[bytes]:
        name = f"sc-{self.server.name}-{uuid.uuid4().hex[:8]}"
        self.names.append(name)
        dest = Path(tempfile.mkdtemp(prefix="bundle-", dir=self.work.parent))
        engines.bundle(dest, self.rootfs, args=argv, seccomp=json.loads(self.profile.read_text()),
                       no_new_privileges=self.variant == "runc-nnp", user=self._ids(user),
                       binds=[self.work, self.probes], cwd=str(self.work))  # fmt: skip
        if argv[: len(RECIPES.ENTRYPOINT)] == RECIPES.ENTRYPOINT:
            self.current = name
        with log.open("wb") as out:
            return subprocess.Popen(engines.bundle_cmd("runc", dest, name), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def _runc_exec(self, argv: list[str], user: str | None, log: Path) -> subprocess.Popen[bytes]:
        uid, gid = self._ids(user)
        with log.open("wb") as out:
            return subprocess.Popen(["runc", "exec", "--user", f"{uid}:{gid}", "--cwd", str(self.work), self.current, *argv],
                                    stdout=out, stderr=subprocess.STDOUT)  # fmt: skip

    @property
    def launch(self) -> Callable[[list[str], str | None, Path], subprocess.Popen[bytes]]:
        return self._runc_run if self.variant.startswith("runc") else self._engine_run

    @property
    def admin(self) -> Callable[[list[str], str | None, Path], subprocess.Popen[bytes]]:
        return self._runc_exec if self.variant.startswith("runc") else self._engine_exec

    def cleanup(self) -> None:
        for name in self.names:
            if self.variant.startswith("runc"):
                engines.delete("runc", name)
            else:
                self.engine.run("rm", "-f", name, timeout=120)


def _with_refusals(server: Any, probes: Path, outside: str, *, full: bool) -> Any:
    """The recipe, with the static test program's refusals after the image's own admin commands.

    ``full``: the whole recorded workload (Docker with its default capabilities); otherwise its
    first step, which keeps the suite within the CI time budget.
    """
    x86_64, x86 = table(Arch.X86_64), table(Arch.X86)
    checks = [
        # clone(CLONE_NEWUSER|SIGCHLD): an unprivileged user namespace, which default withholds without CAP_SYS_ADMIN
        f"{probes}/probe {x86_64.number('clone')} {CLONE_NEWUSER_SIGCHLD}",
        f"{probes}/probe32 {x86.number('clone')} {CLONE_NEWUSER_SIGCHLD}",
        f"{probes}/probe {x86_64.number(outside)}",  # a call outside the template
    ]
    refusals = [["sh", "-c", f"{check}; test $? -eq 1"] for check in checks]  # 1: EPERM
    workload = server.workload if full else (lambda w: server.workload(w)[:1])
    return dataclasses.replace(server, admin=lambda w: [*server.admin(w), *refusals], workload=workload)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", NAMES)
def test_template_serves_its_workload(
    name: str, variant: str, rootfs: Path, probes: tuple[Path, Path], request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    started = time.monotonic()
    server = RECIPES.SERVERS[name]
    engine = None if variant.startswith("runc") else request.getfixturevalue("podman" if variant == "podman" else "docker")
    # Composed as the docs show it: default options; for --cap-drop ALL, for the capabilities the server keeps.
    profile = tmp_path / f"{name}.json"
    if variant == "docker-cap-drop":
        _compose("--base", name, "--cap-drop", "ALL", *(f"--cap-add={c}" for c in server.caps), "--format", "docker", "-o", str(profile))
    elif variant.startswith("runc"):
        _compose("--base", name, "-o", str(profile))  # the OCI linux.seccomp object a bundle holds
    else:
        _compose("--base", name, "--format", "docker", "-o", str(profile))
    outside = next(n for n in OUTSIDE if n not in _allowed(profile))
    base = Path(tempfile.mkdtemp(prefix=f"sc-{name}-", dir="/tmp"))
    base.chmod(0o755)
    work = RECIPES.fresh_workdir(base, name)
    launcher = _Launcher(variant, name, engine, rootfs, work, probes[0].parent, profile)
    try:
        server.prepare(work)
        images.own_like_in(work, rootfs)
        try:
            recipe = _with_refusals(server, probes[0].parent, outside, full=variant == "docker")
            RECIPES.session(recipe, work, launcher.launch, admin=launcher.admin)
        except RuntimeError as exc:
            logs = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-1500:]}" for p in sorted(work.glob("*.log")))
            pytest.fail(f"{name} under {variant}: {exc}\n{logs}")
        for log in sorted(work.rglob("*.log")):
            text = log.read_text(errors="replace")
            assert "Operation not permitted" not in text, f"{name} logged a refused call in {log.name}:\n{text[-1500:]}"
    finally:
        launcher.cleanup()
        shutil.rmtree(base, ignore_errors=True)
        TIMINGS[f"{name}/{variant}"] = time.monotonic() - started


@pytest.mark.parametrize("variant", ["docker", "podman", "runc"])
def test_user_namespaces_work_without_the_filter(variant: str, rootfs: Path, probes: tuple[Path, Path], request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """The control: in the same container set-up, unconfined, clone(CLONE_NEWUSER) succeeds; so the EPERMs are the filter's."""
    folder = probes[0].parent
    call = [str(probes[0]), str(table(Arch.X86_64).number("clone")), CLONE_NEWUSER_SIGCHLD]
    if variant == "runc":
        dest = tmp_path / "bundle"
        engines.bundle(dest, rootfs, args=call, seccomp=None, binds=[folder])
        name = f"sc-control-{uuid.uuid4().hex[:8]}"
        try:
            done = subprocess.run(engines.bundle_cmd("runc", dest, name), capture_output=True, timeout=60, check=False)
        finally:
            engines.delete("runc", name)
        assert done.returncode == 0, done.stderr
        return
    engine = request.getfixturevalue(variant)
    image = images.image_for("redis").tag
    done = engine.run("run", "--rm", "--network", "host", "-v", f"{folder}:{folder}:ro", "--security-opt", "seccomp=unconfined", image, *call, timeout=120)
    assert done.returncode == 0, done.stderr
    # Under the engine's own default profile: Docker's refuses it (EPERM), as every template does; Podman's
    # allows it (why podman-default is exempt from the no-looser-than-default law).
    done = engine.run("run", "--rm", "--network", "host", "-v", f"{folder}:{folder}:ro", image, *call, timeout=120)
    assert done.returncode == (1 if variant == "docker" else 0), done.stderr


def test_report_timings() -> None:
    """Print how long each template took under each engine (the CI log keeps it)."""
    if not TIMINGS:
        pytest.skip("no template ran")
    for key, seconds in sorted(TIMINGS.items()):
        print(f"{key:<32} {seconds:6.1f}s")
    print(f"{'total':<32} {sum(TIMINGS.values()):6.1f}s")

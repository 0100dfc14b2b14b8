"""Every app template starts, restarts and serves its official-style image under real Docker.

Per template (``tools/image_recipes.py``), on a private dockerd (Debian's docker.io 20.10), the
image built from ``images/NAME/`` (Debian's packages, the project's own entrypoint doing what the
official image's does), with the profile composed as the README shows it::

    seccompose compose --base NAME --format docker -o NAME.json

1. **first start** on empty data volumes, ``docker run --security-opt seccomp=NAME.json`` and no
   other security option (Docker's default capabilities): the entrypoint's first run, the
   workload, the image's healthcheck as the container's ``--health-cmd`` (healthy) and its admin
   commands through ``docker exec``; inside the running container, a static test program gets
   EPERM for ``clone(CLONE_NEWUSER|SIGCHLD)`` (x86_64 and, through ``int 0x80``, i386) and for a
   harmless syscall the template does not allow; ``docker stop`` with the image's stop signal,
   a clean exit, no refused call in the server's output;
2. **restart** on the same volumes with **no flag**: plain ``docker run`` through
   ``seccompose proxy`` (a policy binding every template to its images); the decision log names
   the template; the data written before is there; the healthcheck and admin commands; EPERM for
   the call outside the template;
3. where the official image runs that way, **--cap-drop ALL** plus only the capabilities the image
   needs, with the profile composed for them (``--cap-drop ALL --cap-add ...``): first start on new
   volumes, the first workload step, the healthcheck.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from seccompose.arch import Arch
from seccompose.loader import template_names
from seccompose.syscalls import table
from tests.images.conftest import TIMINGS, Setup, recipes, session_tools
from tests.integration._engines import last_decision

pytestmark = [pytest.mark.integration, pytest.mark.images]

NAMES = [n for n in recipes.RECIPES if n in template_names()]
"""Every image whose template is shipped (a recipe is written before its template is recorded)."""
CLONE_NEWUSER_SIGCHLD = str(0x10000000 | 17)
# Harmless calls, none with side effects: EPERM can only come from the filter.
OUTSIDE = ("getcpu", "sysinfo", "times", "getitimer", "sched_yield", "getpriority", "getppid", "getpgrp", "getsid",
           "getpgid", "sched_getscheduler", "sched_get_priority_max", "sched_rr_get_interval", "ioprio_get",
           "get_robust_list", "timer_getoverrun")  # fmt: skip
EPERM = 1  # the probe exits with the errno


def _compose(*args: str) -> Path:
    """``seccompose compose ...``, as users run it; returns the file."""
    out = Path(args[args.index("-o") + 1])
    done = subprocess.run([sys.executable, "-m", "seccompose", "compose", *args], capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out


def _allowed(path: Path) -> set[str]:
    doc = json.loads(path.read_text())
    return {n for r in doc["syscalls"] if r["action"] == "SCMP_ACT_ALLOW" and not r.get("args") for n in r["names"]}


def _refusals(profile: Path) -> tuple[list[tuple[Any, int]], str]:
    """The probe's calls that must get EPERM inside the container, and the call outside the template."""
    outside = next(n for n in OUTSIDE if n not in _allowed(profile))
    x86_64, x86 = table(Arch.X86_64), table(Arch.X86)
    probe = f"{recipes.PROBE_DIR}/probe"
    steps = [
        (recipes.exec_(probe, str(x86_64.number("clone")), CLONE_NEWUSER_SIGCHLD), EPERM),
        (recipes.exec_(f"{probe}32", str(x86.number("clone")), CLONE_NEWUSER_SIGCHLD), EPERM),
        (recipes.exec_(probe, str(x86_64.number(outside))), EPERM),
    ]
    return steps, outside


@pytest.mark.parametrize("name", NAMES)
def test_image_starts_restarts_and_serves_under_its_template(name: str, setup: Setup, tmp_path: Path) -> None:
    recipe = recipes.recipe(name)
    started = time.monotonic()
    profile = _compose("--base", name, "--format", "docker", "-o", str(tmp_path / f"{name}.json"))
    refusals, _outside = _refusals(profile)
    work = setup.root / "work" / name
    with session_tools.Life(setup.engine, recipe, work, probes=setup.probes, proxy=setup.proxy) as life:
        try:
            # 1. first start, the README's flag, Docker's default capabilities
            first = life.leg("first", options=["--security-opt", f"seccomp={profile}"], extra=refusals)
            # 2. restart on the same volumes, no flag: the proxy composes the template for the image
            restart = life.leg("restart", workload=recipe.restart, extra=refusals[2:], through_proxy=True)
            entry = last_decision(setup.proxy_log, restart.id)
            assert entry["decision"]["template"] == name, entry["decision"]
            # 3. --cap-drop ALL plus what the image needs, composed for exactly those
            if recipe.caps is not None:
                adds = [f"--cap-add={c}" for c in recipe.caps]
                dropped = _compose("--base", name, "--cap-drop", "ALL", *adds, "--format", "docker",
                                   "-o", str(tmp_path / f"{name}-capdrop.json"))  # fmt: skip
                options = ["--cap-drop", "ALL", *adds, "--security-opt", f"seccomp={dropped}"]
                life.leg("capdrop", data="b", options=options, workload=recipe.workload[: recipe.first_steps],
                         extra=_refusals(dropped)[0][2:])  # fmt: skip
        except session_tools.LegFailed as exc:
            pytest.fail(str(exc))
    assert first.exit_code is not None
    TIMINGS[name] = time.monotonic() - started


def test_the_refusals_are_the_filters(tmp_path: Path) -> None:
    """The control of the EPERMs above: with no filter in the way, no call of OUTSIDE gets EPERM.

    (``clone(CLONE_NEWUSER)`` unconfined is tests/engines' control, inside containers.)
    """
    from tests._tools import tool

    probe, _ = tool("syscall_probe").build(tmp_path / "probe")
    x86_64 = table(Arch.X86_64)
    for name in OUTSIDE:
        done = subprocess.run([str(probe), str(x86_64.number(name))], capture_output=True, check=False)
        assert done.returncode != EPERM, name

"""The JVM, Erlang and Node.js templates survive five minutes of their workload, side by side.

``nox -s images_soak`` (also run by ``.ci/run``): tomcat, rabbitmq and node, each under its
template composed as the README shows it (``docker run --security-opt seccomp=FILE``, Docker's
default capabilities), run their soak workloads (``Recipe.soak``: 300 seconds each) at the same
time on the two cores: garbage collection under a steady allocation rate, and churn — a thread
started and joined per request plus an executor whose idle threads end (Tomcat), a worker thread
per request and libuv's thread pool (Node.js), connections opened and closed, each with its
Erlang processes (RabbitMQ). Every request and message of the five minutes must succeed, the
healthcheck must pass afterwards, the container must stop cleanly with no refused call in its
output, and the runtimes' own counters must show that collections and thread (or process) churn
happened: each is printed, as measured.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.images.conftest import TIMINGS, Setup, recipes, session_tools

pytestmark = [pytest.mark.integration, pytest.mark.images_soak]


def _compose(name: str, out: Path) -> Path:
    done = subprocess.run([sys.executable, "-m", "seccompose", "compose", "--base", name, "--format", "docker",
                           "-o", str(out)], capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out


def _counters(name: str, text: str) -> dict[str, int]:
    """The runtime's counters from the recipe's ``stats`` output."""
    if name == "rabbitmq":
        gc = re.search(r"\{gc,\{(\d+),(\d+),", text)
        procs = re.search(r"processes,(\d+)", text)
        assert gc and procs, text
        return {"gc": int(gc[1]), "words_reclaimed": int(gc[2]), "processes": int(procs[1])}
    doc: dict[str, Any] = json.loads(text[text.index("{") :])
    if name == "tomcat":
        return {"gc": doc["gc"], "threads_started": doc["threadsStarted"], "threads_live": doc["threadsLive"]}
    return {"gc": doc["gc"], "workers": doc["workers"], "requests": doc["requests"]}


def test_jvm_erlang_and_node_templates_survive_five_minutes_side_by_side(setup: Setup, tmp_path: Path) -> None:
    results: dict[str, Any] = {}

    def soak(name: str) -> None:
        recipe = recipes.recipe(name)
        assert recipe.soak and recipe.stats is not None
        profile = _compose(name, tmp_path / f"{name}.json")
        started = time.monotonic()
        try:
            with session_tools.Life(setup.engine, recipe, setup.root / "soak" / name) as life:
                steps = (recipe.workload[0], recipe.stats, *recipe.soak, recipe.stats)
                leg = life.leg("soak", options=["--security-opt", f"seccomp={profile}"], workload=steps)
            results[name] = leg
        except BaseException as exc:
            results[name] = exc
        TIMINGS[f"soak {name}"] = time.monotonic() - started

    threads = [threading.Thread(target=soak, args=(n,)) for n in recipes.SOAK]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failures = {n: r for n, r in results.items() if isinstance(r, BaseException)}
    assert not failures, "\n\n".join(f"{n}: {e}" for n, e in failures.items())
    for name in recipes.SOAK:
        leg = results[name]
        stats = [o for o in leg.outputs if o.startswith(f"$ {recipes.recipe(name).stats.text()}")]
        before, after = (_counters(name, s.split("\n", 1)[1]) for s in (stats[0], stats[-1]))
        soaked = leg.seconds["workload"]
        print(f"{name}: {soaked:.0f}s of workload; before {before}; after {after}")
        assert soaked >= 300, f"{name} ran its workload for {soaked:.0f}s"
        assert after["gc"] > before["gc"], f"{name}: no garbage collection during the soak"
        if name == "tomcat":
            assert after["threads_started"] - before["threads_started"] >= 1000, "tomcat: no thread churn"
        elif name == "node":
            assert after["workers"] - before["workers"] >= 100, "node: no worker-thread churn"
        else:
            assert after["words_reclaimed"] > before["words_reclaimed"], "rabbitmq: nothing reclaimed"

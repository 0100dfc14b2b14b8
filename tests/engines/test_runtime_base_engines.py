"""The shipped runtime base sets (data/runtime/*.json) as the engines invoke the runtimes.

``tools/measure_runtime_base.py --quick``: for docker run (dockerd -> containerd -> runc),
podman run (crun), and runc and crun directly, in every scenario (noNewPrivileges false and
true, root and a non-root user, default / no / needed / added capabilities), the shipped set
of the runtime starts the container, and each name of it is needed in a scenario where it
was measured (the container does not start without it).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests._tools import TOOLS
from tests.engines.conftest import why_not

pytestmark = [pytest.mark.integration, pytest.mark.engines]


def test_shipped_sets_start_every_scenario_of_every_engine() -> None:
    reason = why_not()
    if reason:
        pytest.skip(reason)
    done = subprocess.run(
        [sys.executable, str(TOOLS / "measure_runtime_base.py"), "--quick", "--repeat", "1"],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr.count(": OK (") == 4, done.stderr[-3000:]  # runc and crun, noNewPrivileges true and false
    assert "verified 64 scenarios" in done.stderr

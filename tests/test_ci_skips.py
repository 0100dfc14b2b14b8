"""The CI skip guard (tests/ci_skips.py): with CI=true an unexpected integration skip fails the run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CONFTEST = "from tests.ci_skips import *  # noqa: F403\n"
TESTS = """
import pytest

pytestmark = pytest.mark.integration

def test_runs():
    pass

def test_needs_runc():
    pytest.skip("runc is not installed")

def test_needs_crun():
    pytest.skip("crun is not installed")
"""
INI = "[pytest]\nmarkers =\n    integration: real parts\n"


def _pytest(tmp_path: Path, *, ci: str | None, allow: str = "") -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_fake.py").write_text(TESTS)
    (tmp_path / "pytest.ini").write_text(INI)
    (tmp_path / "allowed.txt").write_text(allow)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(PYTHONPATH=str(ROOT), SECCOMPOSE_ALLOWED_SKIPS=str(tmp_path / "allowed.txt"))
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


def test_outside_ci_skips_pass_and_are_counted(tmp_path: Path) -> None:
    done = _pytest(tmp_path, ci=None)
    assert done.returncode == 0, done.stdout
    assert "integration tests: 1 ran, 2 skipped (of 3 collected)" in done.stdout


def test_in_ci_an_unexpected_skip_fails_the_run_and_is_named(tmp_path: Path) -> None:
    done = _pytest(tmp_path, ci="true")
    assert done.returncode == 1, done.stdout
    assert "CI=true: 2 integration test(s) skipped without an entry" in done.stdout
    assert "SKIPPED test_fake.py::test_needs_runc: runc is not installed" in done.stdout
    assert "SKIPPED test_fake.py::test_needs_crun: crun is not installed" in done.stdout


def test_in_ci_an_allowed_skip_passes(tmp_path: Path) -> None:
    allow = "test_fake.py::test_needs_* | this fake machine has neither runtime\n"
    done = _pytest(tmp_path, ci="true", allow=allow)
    assert done.returncode == 0, done.stdout
    assert "integration tests: 1 ran, 2 skipped" in done.stdout


def test_an_allow_list_entry_needs_a_reason(tmp_path: Path) -> None:
    done = _pytest(tmp_path, ci="true", allow="test_fake.py::test_needs_runc\n")
    assert done.returncode != 0
    assert "write 'NODEID-GLOB | reason'" in done.stdout + done.stderr


def test_the_allow_list_parses_and_ci_exports_ci() -> None:
    from tests.ci_skips import allowed_skips

    for glob, reason in allowed_skips(ROOT / "tests" / "integration-skips.txt"):
        assert glob and reason
    assert "export CI=true" in (ROOT / ".ci" / "run").read_text()

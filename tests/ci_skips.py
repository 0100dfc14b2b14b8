"""A pytest plugin: in CI (``CI=true``) an integration test that skips fails the run, unless allowed.

``tests/conftest.py`` imports these hooks. Every run prints how many integration tests ran
and how many skipped. With ``CI`` set to ``true`` (or ``1``), a skipped test marked
``integration`` that no line of :data:`ALLOW_LIST` matches makes the run fail, and the summary
names each such test with its skip reason: a CI run cannot go green because runc, crun,
docker or podman were missing from the machine.

The allow-list has one entry per line, ``NODEID-GLOB | reason`` (``#`` starts a comment); the
reason is required, so every tolerated skip says why.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path

import pytest

__all__ = [
    "ALLOW_LIST",
    "pytest_collection_modifyitems",
    "pytest_runtest_logreport",
    "pytest_sessionfinish",
    "pytest_terminal_summary",
]

ALLOW_LIST = Path(os.environ.get("SECCOMPOSE_ALLOWED_SKIPS") or Path(__file__).with_name("integration-skips.txt"))
"""The allow-list (``SECCOMPOSE_ALLOWED_SKIPS`` names another file: for this plugin's own tests only)."""

_integration: set[str] = set()
_ran: set[str] = set()
_skipped: dict[str, str] = {}


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def allowed_skips(path: Path = ALLOW_LIST) -> list[tuple[str, str]]:
    """Return the (glob, reason) pairs of the allow-list; a line without a reason is an error."""
    out: list[tuple[str, str]] = []
    if not path.is_file():
        return out
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        glob, sep, reason = (part.strip() for part in line.partition("|"))
        if not sep or not glob or not reason:
            msg = f"{path.name}:{number}: write 'NODEID-GLOB | reason', not {raw!r}"
            raise pytest.UsageError(msg)
        out.append((glob, reason))
    return out


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Note which collected tests are integration tests."""
    _integration.update(item.nodeid for item in items if item.get_closest_marker("integration") is not None)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count integration tests that ran, and keep the reason of those that skipped."""
    if report.nodeid not in _integration:
        return
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        _skipped[report.nodeid] = str(reason).removeprefix("Skipped: ")
    elif report.when == "call":
        _ran.add(report.nodeid)


def _unexpected() -> dict[str, str]:
    allowed = allowed_skips()
    return {n: r for n, r in _skipped.items() if not any(fnmatch.fnmatchcase(n, g) for g, _ in allowed)}


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In CI, fail the run when an integration test skipped without an allow-list entry."""
    if _in_ci() and _unexpected() and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the integration count, and in CI every skip the allow-list does not excuse."""
    if not _integration:
        return
    write = terminalreporter.write_line
    write(f"integration tests: {len(_ran)} ran, {len(_skipped)} skipped (of {len(_integration)} collected)")
    unexpected = _unexpected()
    if _in_ci() and unexpected:
        write(
            f"CI=true: {len(unexpected)} integration test(s) skipped without an entry in "
            f"tests/{ALLOW_LIST.name}; the run fails:",
            red=True,
        )
        for nodeid, reason in sorted(unexpected.items()):
            write(f"  SKIPPED {nodeid}: {reason}", red=True)

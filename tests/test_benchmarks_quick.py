"""The benchmark suite's quick mode runs and prints its table (it must not rot; timings are never asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_quick_benchmarks_run_and_print_the_table(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--only", "abcdef", "--json", str(out),
         "--cache", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    text = proc.stdout
    assert text.startswith("# seccompose benchmarks")
    for heading in ("- cpu:", "- date:", "- python:", "Commands:", "| | benchmark | result | target | met | notes |"):
        assert heading in text
    table = text.split("\nCommands:")[0]  # the per-profile matrices of (f) follow the notes
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| |")]
    assert {row.split("|")[1].strip() for row in rows} == {"a", "b", "c", "d", "e", "f"}
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert {r["bench"] for r in doc["rows"]} == {"a", "b", "c", "d", "e", "f"}
    # Every measurement is a number, except learn's when its module is missing (reported as n/a), and
    # a syscall a profile kills (reported, not timed).
    assert all(isinstance(r["value"], float) for r in doc["rows"] if r["bench"] not in "df")
    # (f): every shipped profile's row, getppid timed in each, in a table per program layout
    syscost = [r for r in doc["rows"] if r["bench"] == "f"]
    for profile in ("Docker's default", "default", "redis", "2 stacked: Docker's default twice"):
        assert any(r["metric"].endswith(f", {profile}: getppid") and isinstance(r["value"], float) for r in syscost)
    assert sum(s.startswith("## (f)") for s in doc["sections"]) == 2
    # How fast the machine ran around each benchmark, so a reader can tell a slow minute from slow code.
    assert any(note.startswith("machine pace") and "(a) " in note and "(e) " in note for note in doc["notes"])


@pytest.mark.integration
@pytest.mark.engines
def test_quick_engine_benchmarks_run(tmp_path: Path) -> None:
    # The container-start benchmarks (g, h, i) start dockerd and runc: they run with the engine suites.
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--only", "ghi", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    rows = json.loads(out.read_text(encoding="utf-8"))["rows"]
    assert {r["bench"] for r in rows} == {"g", "h", "i"}
    assert all(isinstance(r["value"], float) for r in rows), [r for r in rows if not isinstance(r["value"], float)]

"""The observe how-to's steady-state table is what tools/record_phases.py prints for the shipped templates."""

from __future__ import annotations

import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_phase_table_in_the_docs_is_current() -> None:
    tool = runpy.run_path(str(ROOT / "tools" / "record_phases.py"), run_name="record_phases")
    names = [p.stem for p in sorted((ROOT / "data" / "templates").glob("*.json"))]
    table = tool["steady_state_table"](names)
    page = (ROOT / "docs" / "howto" / "observe.md").read_text(encoding="utf-8")
    rows = table.splitlines()
    assert len(rows) >= 5, "fewer than three templates with startup phases"
    missing = [row for row in rows if row not in page.splitlines()]
    assert not missing, f"docs/howto/observe.md: regenerate with `python tools/record_phases.py --table`: {missing}"

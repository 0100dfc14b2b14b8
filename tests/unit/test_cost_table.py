"""docs/cost.md's table of what the shipped profiles cost is the one tools/cost_table.py writes from the data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pyseccomp", reason="the 'check' extra (pyseccomp + libseccomp.so.2) is not installed")

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import cost_table as tool  # noqa: E402 - after the path setup


def test_the_cost_table_is_up_to_date() -> None:
    # Re-recorded templates change it: run `python tools/cost_table.py` and commit docs/cost.md.
    data = tool.rows()
    text = (ROOT / "docs" / "cost.md").read_text(encoding="utf-8")
    assert tool.page(text, tool.table(data)) == text, "docs/cost.md: run python tools/cost_table.py"
    # the rows are what the command line reports: one template, through `seccompose check NAME --cost`
    out = subprocess.run(
        [sys.executable, "-m", "seccompose", "check", "redis", "--cost", "--layout", "linear", "--format", "json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert json.loads(out.stdout)["cost"] == next(r["linear"] for r in data if r["profile"] == "redis")

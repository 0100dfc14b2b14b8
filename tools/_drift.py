"""Write generated files, or (``--check``) list the ones that differ: shared by the tools/gen_* scripts."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def write_or_check(files: Mapping[Path, str], *, check: bool, command: str) -> int:
    """Write each file's text; with ``check``, write nothing and return 1 if any file differs."""
    drift = []
    for path, text in files.items():
        if check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                drift.append(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if drift:
        shown = [str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p) for p in drift]
        print(f"out of date (run `{command}`):", *shown, sep="\n  ", file=sys.stderr)
        return 1
    return 0

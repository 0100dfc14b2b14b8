"""Write generated files, or (``--check``) list the ones that differ: shared by the tools/gen_* scripts."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
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


def kernel_tables_main(
    argv: Sequence[str] | None,
    *,
    doc: str | None,
    generate: Callable[[Path], Mapping[str, str]],
    default_source: Callable[[], Path],
    out: Path,
    command: str,
) -> int:
    """The command line of a generator from the kernel's tables (``--source``, ``--out``, ``--check``):
    ``generate(source)`` gives each file's name (in ``out``) and text."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=None, help="folder with the kernel tables")
    parser.add_argument("--out", type=Path, default=out)
    parser.add_argument("--check", action="store_true", help="fail if the data differs instead of writing it")
    args = parser.parse_args(argv)
    files = generate(args.source or default_source())
    return write_or_check({args.out / name: text for name, text in files.items()}, check=args.check, command=command)

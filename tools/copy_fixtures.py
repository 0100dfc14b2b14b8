"""Copy the reference files the tests need from ../shared/reference into tests/fixtures/reference.

The project must build and pass its tests from a fresh clone with no ../shared beside it, so
the few upstream files the tests check against are kept in the repository, unchanged, each
folder with the README that says where it came from.

Usage:
  python tools/copy_fixtures.py           copy
  python tools/copy_fixtures.py --check   exit 1 if a copy differs from ../shared (skipped when absent)
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "reference"
DEST = ROOT / "tests" / "fixtures" / "reference"

FILES = {
    "linux": [
        "README.md",
        "syscall_64.tbl",
        "syscall_32.tbl",
        "syscall.tbl",
        "arm64-Makefile.syscalls",
        "x86_64.tsv",
        "x86.tsv",
        "aarch64.tsv",
        "capability.h",
        "capabilities.tsv",
        "capabilities-manpage-syscalls.tsv",
        "capabilities.7",
        "crosscheck.tsv",
        "libseccomp-pr457-syscalls.csv",
    ],
    "oci-runtime-spec": [
        "README.md",
        "config-schema.json",
        "config-linux.json",
        "config-solaris.json",
        "config-windows.json",
        "config-vm.json",
        "config-zos.json",
        "config-freebsd.json",
        "defs.json",
        "defs-linux.json",
        "defs-windows.json",
        "defs-vm.json",
        "defs-zos.json",
        "defs-freebsd.json",
    ],
    "profiles": [
        "README.md",
        "docker-default-moby-profiles-cd3bed8.json",
        "docker-default-20.10.24.json",
        "podman-default-containers-common-f437c58.json",
        "podman-default-0.50.1.json",
    ],
}

NOTE = """# Copied reference files (DO NOT EDIT)

Unchanged copies of files from the shared reference folder (`../shared/reference/<folder>/`),
made by `python tools/copy_fixtures.py` so the tests run from a fresh clone. Each folder keeps
the upstream README that names the source (kernel version, repository and commit).
`python tools/copy_fixtures.py --check` (in `nox -s data`) fails when a copy drifts.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    if not SHARED.is_dir():
        print(f"{SHARED} not found; nothing to copy or check", file=sys.stderr)
        return 0
    drift = []
    for folder, names in FILES.items():
        for name in names:
            src, dst = SHARED / folder / name, DEST / folder / name
            if args.check:
                if not dst.exists() or dst.read_bytes() != src.read_bytes():
                    drift.append(str(dst))
            else:
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst)
    if not args.check:
        (DEST / "SOURCE.md").write_text(NOTE, encoding="utf-8")
    if drift:
        print("fixtures out of date (run `python tools/copy_fixtures.py`):", *drift, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

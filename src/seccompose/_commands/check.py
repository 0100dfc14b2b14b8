"""``seccompose check``: compile a profile with the real libseccomp and, with ``--probe``, ask the kernel."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

__all__ = ["EXAMPLES", "HELP", "configure", "run"]

HELP = "Compile a profile with the real libseccomp as runc/crun read it; --probe asks the kernel for every syscall."
EXAMPLES = """\
examples:
  seccompose check profile.json                 # OCI linux.seccomp, a config.json, or a flat Docker profile
  seccompose check bundle/config.json --probe   # also probe the kernel's verdict for every syscall number
  seccompose check profile.json --format json

exit status: 0 clean, 1 problems found (listed), 2 error (bad input, libseccomp missing)
"""

_MAX_BYTES = 16 * 1024 * 1024


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments."""
    parser.add_argument("profile", metavar="PROFILE", help="profile file (JSON), or - for stdin")
    parser.add_argument(
        "--arch",
        help="host arch for a Docker profile's archMap, and the arch probed (default: this machine's)",
    )
    parser.add_argument(
        "--probe",
        action="store_true",
        help="load a probe copy of the filter in a child and compare the kernel's verdict for every syscall number",
    )
    parser.add_argument(
        "--intent",
        choices=("runtime", "profile"),
        default="runtime",
        help="probe against the runtime's reading (default) or the profile as written",
    )
    parser.add_argument(
        "--accept-unresolved",
        action="store_true",
        help="allowed syscalls this libseccomp cannot resolve (they stay denied) are notes, not problems",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")


def _read(path: str) -> tuple[Any, str]:
    from seccompose.errors import DocumentTooLargeError, FormatError

    if path == "-":
        text, source = sys.stdin.read(_MAX_BYTES + 1), "<stdin>"
    else:
        source = path
        size = Path(path).stat().st_size
        if size > _MAX_BYTES:
            raise DocumentTooLargeError(size, _MAX_BYTES, source=source)
        text = Path(path).read_text(encoding="utf-8")
    if len(text) > _MAX_BYTES:
        raise DocumentTooLargeError(len(text), _MAX_BYTES, source=source)
    try:
        return json.loads(text), source
    except json.JSONDecodeError as exc:
        raise FormatError(f"not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno})", source=source) from None


def run(args: argparse.Namespace) -> int:
    """Check the profile; print the report; return 0 (clean), 1 (problems)."""
    from seccompose.arch import Arch, host_arch
    from seccompose.check import check, extract_seccomp
    from seccompose.errors import ProbeError

    document, source = _read(args.profile)
    arch = Arch.parse(args.arch, location="--arch") if args.arch else host_arch()
    oci = extract_seccomp(document, arch=arch, source=source)
    report = check(oci, source=source, accept_unresolved=args.accept_unresolved)
    result = None
    if args.probe:
        from seccompose._probe import probe

        if arch is not host_arch():
            raise ProbeError(f"--probe runs on this machine's kernel ({host_arch().value}), not {arch.value}")
        result = probe(oci, intent=args.intent)
    ok = report.ok and (result is None or result.ok)
    if args.format == "json":
        out = report.to_json()
        if result is not None:
            out["probe"] = result.to_json()
        out["ok"] = ok
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
    else:
        sys.stdout.write(report.format_text() + "\n")
        if result is not None:
            sys.stdout.write(result.format_table() + "\n")
    return 0 if ok else 1

"""``seccompose check``: compile a profile with the real libseccomp and, with ``--probe``, ask the kernel."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from seccompose.arch import Arch

__all__ = ["EXAMPLES", "HELP", "configure", "run"]

HELP = "Compile a profile with the real libseccomp as runc/crun read it; --probe asks the kernel for every syscall."
EXAMPLES = """\
examples:
  seccompose check profile.json                 # OCI linux.seccomp, a config.json, or a flat Docker profile
  seccompose check default                      # a shipped template, composed for Docker's default container
  seccompose check profile.json --strict        # warnings (names this libseccomp cannot resolve) fail too
  seccompose check bundle/config.json --probe   # also probe the kernel's verdict for every syscall number
  seccompose check profile.json --format json

exit status: 0 clean or only warnings, 1 problems found (or warnings with --strict), 2 error (bad input,
libseccomp missing)
"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments."""
    parser.add_argument(
        "profile", metavar="PROFILE", help="a profile file (JSON), '-' for stdin, or a shipped template name"
    )
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
        help="names this libseccomp cannot resolve whose rules fail closed are notes, not warnings",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    parser.add_argument("--format", choices=("text", "json"), default="text")


def _read(spec: str, arch: Arch) -> tuple[Any, str]:
    from seccompose._reader import read_json, resolve

    if resolve(spec) == "name":  # a shipped template: what a default Docker container gets from it
        from seccompose._inputs import read_profile
        from seccompose.formats.oci import to_dict

        return to_dict(read_profile(spec, arch=arch)), spec
    return read_json(spec, what="profile"), "<stdin>" if spec == "-" else spec


def run(args: argparse.Namespace) -> int:
    """Check the profile; print the report; return 0 (clean), 1 (problems)."""
    from seccompose.arch import Arch, host_arch
    from seccompose.check import check, extract_seccomp
    from seccompose.errors import ProbeError

    arch = Arch.parse(args.arch, location="--arch") if args.arch else host_arch()
    document, source = _read(args.profile, arch)
    oci = extract_seccomp(document, arch=arch, source=source)
    report = check(oci, source=source, accept_unresolved=args.accept_unresolved)
    result = None
    if args.probe:
        from seccompose._probe import probe

        if arch is not host_arch():
            raise ProbeError(f"--probe runs on this machine's kernel ({host_arch().value}), not {arch.value}")
        result = probe(oci, intent=args.intent)
    ok = not report.failed(strict=args.strict) and (result is None or result.ok)
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

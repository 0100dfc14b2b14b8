"""``seccompose check``: compile a profile with the real libseccomp and, with ``--probe``, ask the kernel."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from seccompose.arch import Arch
    from seccompose.cost import Layout

__all__ = ["EXAMPLES", "HELP", "configure", "run"]

HELP = "Compile a profile with the real libseccomp as runc/crun read it; --probe asks the kernel for every syscall."
EXAMPLES = """\
examples:
  seccompose check profile.json                 # OCI linux.seccomp, a config.json, or a flat Docker profile
  seccompose check default                      # a shipped template, composed for Docker's default container
  seccompose check profile.json --strict        # warnings (names this libseccomp cannot resolve) fail too
  seccompose check bundle/config.json --probe   # also probe the kernel's verdict for every syscall number
  seccompose check profile.json --format json
  seccompose check profile.json --cost          # what the filter costs per syscall: cached calls, worst case
  seccompose check default.json --engine docker-20.10   # a Docker profile as Docker 20.10 hands it to runc
  seccompose check profile.json --runtime crun --no-new-privileges true   as podman run --security-opt no-new-privileges

exit status: 0 clean or only warnings, 1 problems found (or warnings with --strict), 2 error (bad input,
libseccomp missing)
"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments."""
    from seccompose._commands.compose import start_check_args

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
    parser.add_argument(
        "--engine",
        metavar="ENGINE",
        action="append",
        help="the engine a Docker/Podman profile is for (docker, docker-20.10, podman, or with a version): it is "
        "checked as the first one hands it to the runtime (Docker's default capabilities, this kernel), and what "
        "each one ignores is a warning (default: the engines installed here, else the newest Docker)",
    )
    parser.add_argument(
        "--cost",
        action="store_true",
        help="report what the filter costs per syscall: its length, per ABI which allowed syscalls the kernel "
        "caches and why the others run the filter, and the most instructions one syscall executes",
    )
    parser.add_argument(
        "--layout",
        choices=("linear", "tree"),
        help="with --cost: how the runtime lays out libseccomp's program: linear (libseccomp's default order: "
        "runc 1.1, crun) or tree (libseccomp's binary tree above 32 rules: runc >= 1.2); "
        "default: what the runc on PATH builds, else tree",
    )
    start_check_args(
        parser,
        runtime_help="the OCI runtime that starts the container: a problem when the profile refuses a syscall it makes "
        "after loading the filter (default: runc, as Docker; none: do not check)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")


def _runc_layout() -> Layout:
    """The layout the runc on PATH builds: linear before 1.2, the binary tree from 1.2 on (and without runc)."""
    import re
    import shutil
    import subprocess

    runc = shutil.which("runc")
    if runc is None:
        return "tree"
    try:
        out = subprocess.run([runc, "--version"], capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "tree"
    found = re.match(r"runc version (\d+)\.(\d+)", out)
    if found and (int(found[1]), int(found[2])) < (1, 2):
        return "linear"
    return "tree"


def _read_document(spec: str, arch: Arch) -> tuple[Any, str]:
    from seccompose._reader import read_json, resolve

    if resolve(spec) == "name":  # a shipped template: what a default Docker container gets from it
        from seccompose._inputs import read_profile
        from seccompose.formats.oci import to_dict

        return to_dict(read_profile(spec, arch=arch)), spec
    return read_json(spec, what="profile"), "<stdin>" if spec == "-" else spec


def _as_the_engine(document: Any, engines: list[str] | None, arch: Arch) -> tuple[Any, list[str]]:  # noqa: ANN401
    """Return a Docker/Podman profile as the target engine hands it to the runtime, and what the targets ignore.

    Rendered for Docker's default capabilities and this kernel; anything else is returned unchanged.
    """
    from collections.abc import Mapping

    from seccompose.engines import (
        has_folded_keys,
        installed,
        kernel_of,
        normalize,
        parse_engine,
        setup,
        target_warnings,
    )
    from seccompose.loader import is_docker_document

    if not isinstance(document, Mapping) or "linux" in document or "ociVersion" in document:
        return document, []
    normal = normalize(document)
    if not isinstance(normal, Mapping) or not is_docker_document(normal):
        # a flat profile: runc reads it with Go's decoder too, so keys in another case are its fields
        return (normal if has_folded_keys(document) else document), []
    from seccompose.caps import DOCKER_DEFAULT_CAPABILITIES
    from seccompose.errors import UnconfinedProfileError

    targets = installed() if engines is None else tuple(parse_engine(e) for e in engines)
    caps = [c.name for c in DOCKER_DEFAULT_CAPABILITIES]
    oci = setup(document, engine=targets[0], arch=arch, caps=caps, kernel=kernel_of(None))
    if oci is None:
        raise UnconfinedProfileError(targets[0])
    return oci, target_warnings(document, targets)


def run(args: argparse.Namespace) -> int:
    """Check the profile; print the report; return 0 (clean), 1 (problems)."""
    from seccompose._commands.compose import runtime_from_args
    from seccompose.arch import Arch, host_arch
    from seccompose.check import check, extract_seccomp
    from seccompose.errors import ProbeError

    arch = Arch.parse(args.arch, location="--arch") if args.arch else host_arch()
    document, source = _read_document(args.profile, arch)
    oci, warnings = _as_the_engine(document, args.engine, arch)
    oci = extract_seccomp(oci, arch=arch, source=source)
    runtime, nnp = runtime_from_args(args)
    report = check(
        oci, source=source, accept_unresolved=args.accept_unresolved, runtime=runtime, no_new_privileges=nnp
    )
    if warnings:
        import dataclasses

        from seccompose.check import Finding

        extra = tuple(Finding("warning", "ignored-by-engine", w) for w in warnings)
        report = dataclasses.replace(report, findings=report.findings + extra)
    result = None
    if args.probe:
        from seccompose._probe import probe

        if arch is not host_arch():
            raise ProbeError(f"--probe runs on this machine's kernel ({host_arch().value}), not {arch.value}")
        result = probe(oci, intent=args.intent)
    costs = None
    if args.cost:
        from seccompose.cost import cost

        layout: Layout = args.layout or _runc_layout()
        costs = cost(oci, layout=layout, source=source)
    ok = not report.failed(strict=args.strict) and (result is None or result.ok)
    if args.format == "json":
        out = report.to_json()
        if result is not None:
            out["probe"] = result.to_json()
        if costs is not None:
            out["cost"] = costs.to_json()
        out["ok"] = ok
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
    else:
        sys.stdout.write(report.format_text() + "\n")
        if result is not None:
            sys.stdout.write(result.format_table() + "\n")
        if costs is not None:
            sys.stdout.write(costs.format_text() + "\n")
    return 0 if ok else 1

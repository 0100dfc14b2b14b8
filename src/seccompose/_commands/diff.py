"""``seccompose diff``: what a container may do differently under profile B than under profile A."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

__all__ = ["EXAMPLES", "HELP", "configure", "run"]

HELP = "compare two profiles semantically, per architecture: syscalls added, removed, or with a changed verdict"
EXAMPLES = """\
examples:
  seccompose diff old.json new.json                  OCI, config.json or Docker/Podman profiles
  seccompose diff default podman-default --arch x86_64
  seccompose diff docker-default.json default --arch aarch64 --format json
  seccompose diff old-docker.json new-docker.json --cap-add SYS_ADMIN   for a container with CAP_SYS_ADMIN
  seccompose compose --base default -o a.json && seccompose compose --base default --cap-add SYS_PTRACE -o b.json
  seccompose diff a.json b.json || echo "the profile changed"
  seccompose diff --no-looser-than default redis.json    does redis.json allow anything default refuses?
  seccompose diff --no-looser-than default nginx --cap-drop ALL --arch aarch64

A and B are profile files ('-' for stdin) or shipped template names; templates and conditional
Docker profiles are composed for the container --caps/--cap-add/--cap-drop describe
(default: Docker's default capabilities), as 'docker run' computes them.

--no-looser-than BASE checks each of A (and B) against BASE instead, per syscall and ABI with
argument conditions (clone's namespace flags, socket families, personality values): it lists
every call the profile lets run and BASE refuses, with an example of its arguments. A shipped
template's declared exceptions (looserThanDefault, each with its reason) are listed apart.
exit status: 0 the profiles load the same way (no looser), 1 they differ (looser), 2 error
"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add diff's arguments."""
    from seccompose._commands.compose import capability_args, runtime_args

    parser.add_argument("a", metavar="A", help="the old profile: a file or a template name")
    parser.add_argument("b", metavar="B", nargs="?", help="the new profile: a file or a template name")
    parser.add_argument(
        "--no-looser-than",
        metavar="BASE",
        help="instead of diffing A and B, fail (exit 1) when A (or B) allows a call BASE (a template name or "
        "a file, e.g. default) refuses for the same container, argument conditions included",
    )
    parser.add_argument("--arch", metavar="ARCH", help="host architecture: compare only its ABIs (default: all)")
    capability_args(
        parser, caps_help="the container's capabilities, for templates and conditional profiles (default: Docker's 14)"
    )
    runtime_args(parser, what="when composing template names, add the syscalls")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")


def run(args: argparse.Namespace) -> int:
    """Print the diff; 0 when equal, 1 when different."""
    from seccompose._commands.compose import caps_from_args, runtime_from_args, write_output
    from seccompose.arch import Arch
    from seccompose.diff import diff_files

    arch = Arch.parse(args.arch, location="--arch") if args.arch else None
    runtime, nnp = runtime_from_args(args)
    if args.no_looser_than:
        return _no_looser_than(args, arch, runtime, nnp)
    if args.b is None:
        from seccompose.errors import ConflictError

        raise ConflictError("diff compares two profiles: give A and B (or --no-looser-than BASE with one profile)")
    result = diff_files(
        args.a, args.b, arch=arch, runtime=runtime, caps=caps_from_args(args), no_new_privileges=nnp
    )
    text = json.dumps(result.to_json(), indent=2) if args.format == "json" else result.format_text()
    write_output(text, args.output)
    return 0 if result.equal else 1


def _no_looser_than(args: argparse.Namespace, arch: object, runtime: str | None, nnp: bool) -> int:
    from seccompose._commands.compose import caps_from_args, write_output
    from seccompose.arch import Arch
    from seccompose.looser import looser_than_files

    reports = [
        looser_than_files(
            spec,
            args.no_looser_than,
            arch=arch if isinstance(arch, Arch) else None,
            caps=caps_from_args(args),
            runtime=runtime,
            no_new_privileges=nnp,
        )
        for spec in (args.a, args.b)
        if spec is not None
    ]
    if args.format == "json":
        doc = reports[0].to_json() if len(reports) == 1 else [r.to_json() for r in reports]
        text = json.dumps(doc, indent=2)
    else:
        text = "\n".join(r.format_text() for r in reports)
    write_output(text, args.output)
    return 0 if all(r.ok for r in reports) else 1

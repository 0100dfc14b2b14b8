"""``seccompose render``: the OCI profile Docker or Podman would give one container."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

__all__ = ["EXAMPLES", "HELP", "configure", "run"]

HELP = "Render a Docker/Podman profile for one container, exactly as the engine does (prints OCI linux.seccomp)."

EXAMPLES = """\
examples:
  # what Docker on an arm64 host with kernel 6.18 gives a default container
  seccompose render default.json --engine docker --arch arm64 --kernel 6.18

  # Podman, a container started with --cap-add SYS_ADMIN, written to a file
  seccompose render seccomp.json --engine podman --arch x86_64 --cap-add SYS_ADMIN -o oci-seccomp.json

  # no capabilities at all (--cap-drop ALL)
  seccompose render default.json --engine docker --arch amd64 --caps none
"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``render``."""
    parser.add_argument("profile", metavar="PROFILE", help="a Docker or Podman seccomp profile (JSON); '-' reads stdin")
    parser.add_argument(
        "--engine",
        required=True,
        metavar="ENGINE",
        help="whose reading to apply: docker (Docker 23+), docker-20.10 (Docker 20.10: no defaultErrnoRet, "
        "flags or listener fields), podman; a version also works (docker-24.0, podman-4.3)",
    )
    parser.add_argument(
        "--arch", required=True, help="the host's architecture: x86_64/amd64, aarch64/arm64, SCMP_ARCH_* ..."
    )
    parser.add_argument(
        "--caps",
        metavar="LIST|none",
        help="the container's bounding capabilities, comma-separated (default: Docker's 14; 'none': no capability)",
    )
    parser.add_argument(
        "--cap-add", metavar="CAP", action="append", default=[], help="add a capability (repeatable; ALL for every one)"
    )
    parser.add_argument(
        "--kernel", metavar="X.Y", help="the host kernel version (default: the running kernel, from uname)"
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write the JSON here instead of stdout")


def run(args: argparse.Namespace) -> int:
    """Render and print; errors are ``SeccomposeError`` (exit 2 via the CLI)."""
    from seccompose._reader import read_bytes
    from seccompose._writer import write_text
    from seccompose.arch import Arch
    from seccompose.caps import container_capabilities
    from seccompose.engines import engine_document, ignored, kernel_of, parse_engine, setup

    engine = parse_engine(args.engine)
    arch = Arch.parse(args.arch, location="--arch")
    caps = container_capabilities(None if args.caps is None else args.caps.split(","), add=args.cap_add)
    kernel = kernel_of(args.kernel, location="--kernel")
    source = "<stdin>" if args.profile == "-" else args.profile
    doc = engine_document(read_bytes(args.profile, what="profile"), engine=engine, source=source)
    out = setup(doc, engine=engine, arch=arch, caps=[c.name for c in caps], kernel=kernel)
    for warning in ignored(doc, engine=engine):
        print(f"seccompose render: warning: {warning}", file=sys.stderr)
    if out is None:
        print(
            f"seccompose render: warning: {source} has no defaultAction and no syscalls, which the engine reads as "
            "'seccomp disabled': the container runs unconfined (linux.seccomp is null)",
            file=sys.stderr,
        )
    write_text(args.output or "-", json.dumps(out, indent=2) + "\n")
    return 0

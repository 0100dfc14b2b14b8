"""``seccompose lint``: the pitfalls that make a profile fail open or break programs."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

__all__ = ["EXAMPLES", "HELP", "configure", "run"]

HELP = "report the pitfalls of a profile (no-op denies, unknown names, io_uring, EPERM on clone3, ...)"
EXAMPLES = """\
examples:
  seccompose lint seccomp.json                     OCI, config.json, Docker/Podman profile or template
  seccompose lint seccomp.json --strict            warnings fail too (for CI), permissive defaults and LOG rules too
  seccompose lint seccomp.json --engine docker-20.10   what Docker 20.10 ignores in it (defaultErrnoRet, flags, ...)
  seccompose lint default --format json            a shipped template
  seccompose lint seccomp.json --caps SYS_ADMIN    the container has CAP_SYS_ADMIN: mount is justified
  seccompose lint seccomp.json --ignore io-uring-allowed
  seccompose lint seccomp.json --runtime crun --no-new-privileges true   for podman run --security-opt no-new-privileges
  seccompose lint --list-rules                     every rule: id, severity, title

exit status: 0 clean, 1 errors found (or warnings with --strict), 2 error reading the profile
"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add lint's arguments."""
    from seccompose._commands.compose import start_check_args

    parser.add_argument("profile", nargs="?", metavar="PROFILE", help="a profile file, '-' for stdin, or a template")
    parser.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    parser.add_argument(
        "--caps",
        metavar="LIST|none",
        action="append",
        help="the container's capabilities (comma-separated; 'none': no capability), so justified dangerous "
        "syscalls pass",
    )
    parser.add_argument(
        "--engine",
        metavar="ENGINE",
        action="append",
        help="the engine the profile is for (docker, docker-20.10, podman; a version works: docker-24.0); "
        "repeatable; what it ignores is a warning (default: the engines installed here, else the newest Docker)",
    )
    parser.add_argument("--ignore", metavar="ID", action="append", default=[], help="do not report this rule")
    start_check_args(
        parser,
        runtime_help="the OCI runtime that starts the container: report the syscalls it makes after loading the "
        "filter that the profile refuses (default: runc, as Docker; none: do not check)",
    )
    parser.add_argument("--list-rules", action="store_true", help="list the rules and exit")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")


def run(args: argparse.Namespace) -> int:
    """Lint and print the findings; 1 when the profile fails."""
    from seccompose._commands.compose import runtime_from_args, split_list, write_output
    from seccompose.caps import container_capabilities
    from seccompose.errors import InvalidProfileError
    from seccompose.lint import RULES, lint_file

    if args.list_rules:
        if args.format == "json":
            rules = [{"id": r.id, "severity": r.severity, "title": r.title, "fix": r.fix} for r in RULES]
            write_output(json.dumps(rules, indent=2), args.output)
        else:
            write_output("\n".join(f"{r.id:<24} {r.severity:<8} {r.title}" for r in RULES), args.output)
        return 0
    if not args.profile:
        raise InvalidProfileError("no PROFILE given: name a profile file, '-' for stdin, or a template")
    # the same syntax as compose --caps: comma-separated names, 'none' for no capability, ALL
    caps = [c.name for c in container_capabilities(split_list(args.caps) or ["none"])] if args.caps else None
    engines = split_list(args.engine) if args.engine else None
    runtime, nnp = runtime_from_args(args)
    report = lint_file(
        args.profile, caps=caps, ignore=split_list(args.ignore), engines=engines, runtime=runtime, no_new_privileges=nnp
    )
    text = json.dumps(report.to_json(), indent=2) if args.format == "json" else report.format_text()
    write_output(text, args.output)
    return 1 if report.failed(strict=args.strict) else 0

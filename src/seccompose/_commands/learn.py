"""``seccompose learn``: turn strace logs and audit SECCOMP records into an app template."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

__all__ = ["EXAMPLES", "HELP", "configure", "run"]

HELP = "learn an app template from strace logs, kernel audit SECCOMP records, or the agent's events"

EXAMPLES = """\
examples:
  strace -f -qq -o redis.trace redis-server --port 7777 &  ...  # run a workload, stop the server
  seccompose learn redis.trace -o redis.json --program redis-server --version 7.0.15 \\
      --workload 'redis-benchmark -q -n 20000' --image 'redis:*'

  strace -ff -qq -o traces/app ./app                          # one file per process
  seccompose learn traces/ -o app.json --program app

  seccompose learn /var/log/audit/audit.log -o app.json --program app   # from SCMP_ACT_LOG records
  dmesg | seccompose learn - --kind audit -o app.json --program app      # compose --log-refusals, no auditd

  seccompose learn --events events.jsonl --image redis:7 --into redis -o redis.json
        # what containers of redis:7 needed under an observed profile (agent in complain or learn mode)
"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of ``seccompose learn``."""
    parser.add_argument("traces", nargs="*", metavar="TRACE", help="strace log, audit log, -ff directory, or -")
    parser.add_argument("-o", "--output", default="-", metavar="TEMPLATE", help="where to write (default: stdout)")
    parser.add_argument("--name", help="template name (default: the program's base name)")
    parser.add_argument(
        "--image", action="append", default=[], metavar="GLOB", help="image glob selecting the template (repeatable)"
    )
    parser.add_argument("--program", help="the program traced (default: the template name)")
    parser.add_argument("--version", dest="program_version", default="", metavar="V", help="the program's version")
    parser.add_argument("--workload", default="", metavar="W", help="what the program did while traced")
    parser.add_argument("--arch", help="the arch the traces were recorded on (default: this machine's)")
    parser.add_argument("--kind", choices=("auto", "strace", "audit"), default="auto", help="trace format")
    parser.add_argument("--trace-command", default="", metavar="CMD", help="the command that made the traces")
    parser.add_argument("--description", help="one line describing the template")
    parser.add_argument(
        "-j",
        "--jobs",
        type=int,
        metavar="N",
        help="processes counting one big plain strace log (default: one per CPU, at most 4; 1: this process only)",
    )
    events = parser.add_argument_group("from the agent's events (seccompose agent)")
    events.add_argument("--events", action="append", default=[], metavar="FILE", help="events file(s) to learn from")
    events.add_argument("--into", metavar="TEMPLATE", help="update this template (name or file) instead of a new one")
    events.add_argument(
        "--enforced", action="store_true", help="also learn from enforce-mode events (refusals the container got)"
    )
    parser.add_argument(
        "--looser-than-default",
        action="append",
        default=[],
        metavar="NAME=REASON",
        help="keep a syscall the default template refuses, with the reason (written to looserThanDefault); "
        "without it such names are left out, so the template is never looser than default",
    )
    parser.add_argument(
        "--no-inherit",
        action="store_true",
        help="keep every traced name as an unconditional allow instead of taking default's argument conditions "
        "(clone, socket, personality) and capability gates; the template may then be looser than default",
    )
    bar = parser.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None, help="always draw progress")
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="never draw progress")


def _summary(rules: list[dict[str, Any]]) -> str:
    """One labelled count per rule: ``68 syscalls allowed on x86_64 (recorded), 6 answered ENOSYS on ...``.

    >>> _summary([{"names": ["read"], "action": "SCMP_ACT_ALLOW", "arches": ["x86_64"], "comment": "learned"},
    ...           {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "arches": ["x86_64"]}])
    '1 syscall allowed on x86_64 (recorded), 1 syscall answered ENOSYS on x86_64 (libc falls back)'
    """
    from seccompose.learn import INHERITED

    parts = []
    inherited: dict[str, set[str]] = {}
    for rule in rules:
        n = len(rule["names"])
        arches = "/".join(rule.get("arches") or ["every arch"])
        noun = "syscall" if n == 1 else "syscalls"
        if str(rule.get("comment", "")).startswith(INHERITED):
            inherited.setdefault(arches, set()).update(rule["names"])
        elif rule.get("action", "SCMP_ACT_ALLOW") == "SCMP_ACT_ALLOW":
            how = "recorded" if str(rule.get("comment", "")).startswith("learned") else "ported"
            parts.append(f"{n} {noun} allowed on {arches} ({how})")
        else:
            parts.append(f"{n} {noun} answered ENOSYS on {arches} (libc falls back)")
    for arches, names in inherited.items():
        noun = "syscall" if len(names) == 1 else "syscalls"
        parts.append(f"{len(names)} {noun} as default has them on {arches} (conditions, capability gates)")
    return ", ".join(parts)


def _from_events(args: argparse.Namespace) -> int:
    from seccompose.errors import ConflictError
    from seccompose.events import read_events
    from seccompose.learn import learn_from_events

    if args.traces:
        raise ConflictError("give traces or --events, not both", location="--events")
    if len(args.image) != 1:
        raise ConflictError(
            "--events needs exactly one --image: the image whose containers to learn from", location="--image"
        )
    into_doc = None
    if args.into:
        from seccompose._inputs import read_document
        from seccompose.templates import Template

        raw, source = read_document(args.into)
        Template.from_dict(raw, source=source)  # a template document, checked
        into_doc = raw
    modes = ("complain", "learn", "enforce") if args.enforced else ("complain", "learn")
    doc, added = learn_from_events(
        read_events(args.events, errors=sys.stderr),
        image=args.image[0],
        into_doc=into_doc,
        name=args.name,
        source=", ".join(args.events),
        modes=modes,
    )
    from seccompose._writer import write_text

    write_text(args.output, json.dumps(doc, indent=2) + "\n")
    summary = ", ".join(f"{name} ({abi}, {n} calls)" for abi, name, n in added)
    sys.stderr.write(f"seccompose learn: {doc['name']}: added {summary}\n")
    return 0


def run(args: argparse.Namespace) -> int:
    """Learn the template and write it."""
    from seccompose.arch import Arch
    from seccompose.errors import FormatError
    from seccompose.learn import learn

    if args.events:
        return _from_events(args)
    if not args.traces:
        raise FormatError("give strace or audit traces, or --events FILE", location="TRACE")
    program = args.program or args.name
    if not program:
        raise FormatError("say what was traced: --program NAME (or --name)", location="--program")
    keep: dict[str, str] = {}
    for i, item in enumerate(args.looser_than_default):
        name, sep, reason = item.partition("=")
        if not sep or not name.strip() or not reason.strip():
            raise FormatError(
                f"{item!r} is not NAME=REASON; say why the template needs more than default allows",
                location=f"--looser-than-default[{i}]",
            )
        keep[name.strip()] = reason.strip()
    doc = learn(
        args.traces,
        program=program,
        version=args.program_version,
        workload=args.workload,
        name=args.name,
        images=args.image,
        description=args.description,
        arch=Arch.parse(args.arch, location="--arch") if args.arch else None,
        kind=args.kind,
        trace_command=args.trace_command,
        progress=args.progress,
        jobs=args.jobs,
        base=None if args.no_inherit else "default",
        looser_than_default=keep,
    )
    from seccompose._writer import write_text

    write_text(args.output, json.dumps(doc, indent=2) + "\n")
    sys.stderr.write(f"seccompose learn: {doc['name']}: {_summary(doc['rules'])}\n")
    if "refusedAsDefault" in doc["provenance"]:
        left = doc["provenance"]["refusedAsDefault"]
        sys.stderr.write(
            f"seccompose learn: left out, as the default template refuses them: {left} "
            "(keep one with --looser-than-default NAME=REASON)\n"
        )
    if "unresolved" in doc["provenance"]:
        left = doc["provenance"]["unresolved"]
        sys.stderr.write(f"seccompose learn: left out (no kernel table knows them): {left}\n")
    return 0

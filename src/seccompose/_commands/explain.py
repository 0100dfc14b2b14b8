"""``seccompose explain``: why a syscall is allowed or denied, or what a profile allows by category."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

    from seccompose.arch import Arch
    from seccompose.profile import Profile
    from seccompose.templates import Template

__all__ = ["EXAMPLES", "HELP", "configure", "run"]

HELP = "explain why a syscall is allowed or denied and which layer decided it, or summarise a profile by category"
EXAMPLES = """\
examples:
  seccompose explain mount --base default                   denied: no layer allows it (default action)
  seccompose explain mount --base default --cap-add SYS_ADMIN
  seccompose explain ptrace --base default --deny ptrace --format json
  seccompose explain clone3 --profile seccomp.json          a profile file (OCI, config.json, Docker/Podman)
  seccompose explain seccomp.json                           what a profile allows, by group and category
  seccompose explain redis --arch aarch64                   the same for a template (with Docker's default caps)
  seccompose explain --base redis --cap-drop ALL            the same for a composed profile

The first argument is a syscall name, or a profile file ('-' for stdin) or template name to summarise.
Without --profile, the profile is composed from the same flags as 'seccompose compose'.
exit status: 0 ok, 2 error (unknown syscall, unreadable profile, bad flag)
"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add explain's arguments: a target, the compose flags, --profile and the output options."""
    from seccompose._commands.compose import container_args

    parser.add_argument(
        "target", nargs="?", metavar="SYSCALL|PROFILE", help="a syscall to explain, or a profile file to summarise"
    )
    parser.add_argument("--profile", metavar="FILE", help="explain the syscall under this profile file instead")
    container_args(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")


def _host(args: argparse.Namespace, profile: Profile | None = None) -> Arch:
    from seccompose.arch import Arch, host_arch

    if args.arch:
        return Arch.parse(args.arch, location="--arch")
    return (profile.arch if profile is not None else None) or host_arch()


def _read_profile(spec: str, args: argparse.Namespace) -> tuple[Profile, object, Template | None]:
    """A profile file (or template) as the runtime gets it, its JSON document and its template."""
    from seccompose._commands.compose import caps_from_args, runtime_from_args
    from seccompose._inputs import kind_of, read_document, read_profile
    from seccompose.arch import host_arch

    doc, _ = read_document(spec)
    arch = _host(args) if args.arch else None
    template = None
    if kind_of(doc) == "template":
        from seccompose.templates import Template

        template = Template.from_dict(doc, source=spec)
    runtime, nnp = runtime_from_args(args)
    profile = read_profile(
        spec, arch=arch or host_arch(), runtime=runtime, caps=caps_from_args(args), no_new_privileges=nnp
    )
    return profile, doc, template


def run(args: argparse.Namespace) -> int:
    """Explain one syscall or summarise one profile; print text or JSON."""
    from seccompose._commands.compose import ContainerArgs, write_output
    from seccompose._inputs import looks_like_file
    from seccompose.errors import UnknownSyscallError
    from seccompose.explain import explain, summarize
    from seccompose.loader import load_template, template_names
    from seccompose.syscalls import all_names

    target = args.target
    is_syscall = target is not None and target in all_names()
    if target is not None and not is_syscall and not looks_like_file(target) and target not in template_names():
        raise UnknownSyscallError(target, location="SYSCALL|PROFILE", choices=all_names())
    document: object = None
    template = None
    caps = None
    kernel = None
    if target is not None and not is_syscall:
        profile, _, _ = _read_profile(target, args)
        source = target
    elif args.profile:
        profile, document, template = _read_profile(args.profile, args)
        source = args.profile
    else:
        container = ContainerArgs.from_namespace(args)
        profile = container.profile(args.command)
        source = " ".join(f"--base {b}" for b in container.bases) or "the composed profile"
        if len(container.bases) == 1:
            template = load_template(container.bases[0])
        caps, kernel = container.caps, container.kernel
    host = _host(args, profile)
    if is_syscall:
        result = explain(
            target,
            profile,
            arch=host,
            template=template,
            caps=caps,
            kernel=kernel,
            document=document if isinstance(document, dict) else None,
        )
        text = json.dumps(result.to_json(), indent=2) if args.format == "json" else result.format_text()
    else:
        summary = summarize(profile, arch=host, source=source)
        text = json.dumps(summary.to_json(), indent=2) if args.format == "json" else summary.format_text()
    write_output(text, args.output)
    return 0

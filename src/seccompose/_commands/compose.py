"""``seccompose compose``: build a container's profile from its layers and print it."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from seccompose.errors import SeccomposeError

if TYPE_CHECKING:
    from collections.abc import Callable

    from seccompose.arch import Arch
    from seccompose.caps import Capability
    from seccompose.compose import ErrnoPolicy
    from seccompose.profile import Profile
    from seccompose.templates import Template

__all__ = [
    "EXAMPLES",
    "HELP",
    "IN_POLICY_MODE",
    "ContainerArgs",
    "capability_args",
    "caps_from_args",
    "configure",
    "container_args",
    "run",
    "run_to_output",
    "runtime_args",
    "runtime_from_args",
    "split_list",
    "start_check_args",
    "write_output",
]

HELP = "compose a container's seccomp profile from a template, its capabilities and allow/deny rules"
EXAMPLES = """examples:
  seccompose compose --base default                      Docker-equivalent default for this host
  seccompose compose --base redis --cap-drop ALL         the redis template, no capabilities
  seccompose compose --base default --allow perf_event_open --deny ptrace -o profile.json
  seccompose compose --base nginx --base redis           an app and the tools beside it: both templates' union
  seccompose compose --base default --arch aarch64 --format docker
  seccompose compose --base nginx --format k8s --profile-name nginx   SeccompProfile for SPO
  seccompose compose --base ./my-profile.json --caps CHOWN,SETUID --errno-policy enosys
  seccompose compose --policy policy.yaml --image redis:7 --label env=prod
  seccompose compose --base default --format docker --conditional --no-new-privileges false -o default.json
                                                         one file for daemon.json "seccomp-profile"
  seccompose compose --base redis --observe /run/seccompose/agent.sock     refusals go to `seccompose agent`
  seccompose compose --base redis --observe /run/sc.sock --observe-mode complain --ready port:6380
  seccompose compose --base default --log-refusals                         refusals leave kernel audit records
"""


def split_list(values: list[str] | None) -> list[str]:
    """Flatten repeated, comma-separated flag values: ``--allow a,b --allow c`` -> ``[a, b, c]``."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def syscall_list(values: list[str] | None, flag: str) -> list[str]:
    """Like :func:`split_list`, for syscall names: an empty one (``--deny ''``, ``--deny read,``) is an error.

    Raises:
        UnknownSyscallError: an empty name, naming the flag.
    """
    from seccompose.errors import UnknownSyscallError

    out = []
    for i, value in enumerate(values or []):
        for part in value.split(","):
            if not part.strip():
                raise UnknownSyscallError(part, location=f"{flag}[{i}]")
            out.append(part.strip())
    return out


def caps_from_args(args: argparse.Namespace) -> frozenset[Capability]:
    """Return the container's capabilities from ``--caps``/``--cap-add``/``--cap-drop``, as ``docker run`` does."""
    from seccompose.caps import container_capabilities

    listed = (split_list(args.caps) or ["none"]) if args.caps else None
    return container_capabilities(listed, add=args.cap_add, drop=args.cap_drop)


def runtime_args(parser: argparse.ArgumentParser, *, what: str = "add the syscalls") -> None:
    """Add ``--runtime`` and ``--no-new-privileges``: which OCI runtime starts the container, and how."""
    parser.add_argument(
        "--runtime",
        default=None,
        metavar="runc|crun|runc,crun|none",
        help=f"{what} these OCI runtimes need to start the container: runc (Docker, containerd), crun "
        "(Podman, CRI-O), several comma-separated, or none (default: runc,crun, so the profile starts "
        "under either)",
    )
    parser.add_argument(
        "--no-new-privileges",
        choices=("true", "false"),
        default="false",
        help="the container's noNewPrivileges, which decides the runtime's base set (default: false, as "
        "docker run, podman run and Kubernetes' allowPrivilegeEscalation: true start containers; true with "
        "--security-opt no-new-privileges or allowPrivilegeEscalation: false)",
    )


def start_check_args(parser: argparse.ArgumentParser, *, runtime_help: str) -> None:
    """Add ``--runtime`` (default runc) and ``--no-new-privileges``: the runtime whose start-up a check reads.

    Not :func:`runtime_args`: that one adds the runtimes' syscalls to a composition (default: runc and crun).
    """
    parser.add_argument("--runtime", default="runc", metavar="runc|crun|runc,crun|none", help=runtime_help)
    parser.add_argument(
        "--no-new-privileges",
        choices=("true", "false"),
        default="false",
        help="the container's noNewPrivileges (default: false, as docker run, podman run and Kubernetes)",
    )


def capability_args(parser: argparse.ArgumentParser, *, caps_help: str) -> None:
    """Add ``--caps``, ``--cap-add`` and ``--cap-drop``, as ``docker run`` takes them (read by caps_from_args)."""
    parser.add_argument("--caps", metavar="LIST|none", action="append", help=caps_help)
    parser.add_argument("--cap-add", metavar="CAP", action="append", default=[], help="add a capability (ALL: all)")
    parser.add_argument("--cap-drop", metavar="CAP", action="append", default=[], help="drop a capability (ALL: all)")


def runtime_from_args(args: argparse.Namespace) -> tuple[str | None, bool]:
    """Return the runtimes (None: no base set) and noNewPrivileges the flags give, checking the names."""
    from seccompose.runtime import parse_runtimes

    if args.runtime in ("none", ""):
        return None, args.no_new_privileges == "true"
    given = "runc,crun" if args.runtime is None else args.runtime
    return ",".join(parse_runtimes(given, location="--runtime")), args.no_new_privileges == "true"


def container_args(parser: argparse.ArgumentParser) -> None:
    """Add the flags that describe a container (shared by compose and explain)."""
    parser.add_argument(
        "--base",
        metavar="NAME|FILE",
        action="append",
        default=[],
        help="template name or profile/template file (default: empty); repeated: their union (an app and the tools "
        "run beside it)",
    )
    parser.add_argument("--arch", metavar="ARCH", help="host architecture: x86_64, aarch64, x86 (default: this host)")
    capability_args(parser, caps_help="the container's whole capability set, comma-separated (default: Docker's 14)")
    parser.add_argument("--allow", metavar="SYSCALL", action="append", default=[], help="allow syscalls")
    parser.add_argument(
        "--deny",
        metavar="SYSCALL",
        action="append",
        default=[],
        help="deny syscalls (wins): each with its family on every ABI of the host (setuid also setuid32) and, on "
        "x86, the socketcall/ipc calls that run it",
    )
    parser.add_argument(
        "--deny-exact",
        metavar="SYSCALL",
        action="append",
        default=[],
        help="deny syscalls as named only: not the rest of their families, not through socketcall/ipc",
    )
    parser.add_argument(
        "--strict-multiplexers",
        action="store_true",
        help="on x86, refuse socketcall (ipc) outright when a socket (IPC) call keeps argument conditions, which "
        "they cannot check (i386 programs then need the direct socket calls, Linux 4.3+)",
    )
    parser.add_argument(
        "--errno-policy",
        choices=("eperm", "enosys"),
        help="errno for unnamed syscalls: eperm (Docker) or enosys (Podman); default: the template's, else eperm",
    )
    runtime_args(parser)
    parser.add_argument(
        "--kernel", metavar="X.Y", help="host kernel, for templates gated on minKernel (default: the running kernel)"
    )
    policy = parser.add_argument_group("policy (the container-start flow)")
    policy.add_argument("--policy", metavar="FILE", help="a policy file (YAML/JSON) binding templates and rules")
    policy.add_argument("--image", metavar="IMAGE", help="the container's image, e.g. redis:7 (with --policy)")
    policy.add_argument("--label", metavar="KEY=VALUE", action="append", default=[], help="a container label")
    policy.add_argument("--name", metavar="NAME", default="", help="the container's name (with --policy)")
    policy.add_argument(
        "--namespace", metavar="NS", default="", help="the Kubernetes namespace of the container's pod (with --policy)"
    )
    policy.add_argument("--privileged", action="store_true", help="the container runs privileged (with --policy)")
    policy.add_argument(
        "--seccomp-request",
        choices=("default", "unconfined", "profile"),
        default="default",
        help="what seccomp the user asked for (with --policy): nothing, unconfined, or a profile of their own",
    )
    policy.add_argument(
        "--decision", metavar="FILE", help="write the decision record (JSON) to FILE, '-' for stdout (with --policy)"
    )


def configure(parser: argparse.ArgumentParser) -> None:
    """Add compose's arguments."""
    container_args(parser)
    parser.add_argument(
        "--format",
        choices=("oci", "docker", "k8s", "localhost"),
        default="oci",
        help="oci (config.json linux.seccomp, default), docker (docker/podman --security-opt), "
        "k8s (Security Profiles Operator SeccompProfile YAML), localhost (kubelet's seccomp directory JSON)",
    )
    parser.add_argument(
        "--profile-name", metavar="NAME", help="metadata.name of the SeccompProfile (--format k8s; default: the base)"
    )
    parser.add_argument(
        "--conditional",
        action="store_true",
        help="with --format docker: one profile for every container, its rules gated on capabilities like Docker's "
        "default.json (for daemon.json seccomp-profile, containers.conf seccomp_profile, CRI-O seccomp_profile)",
    )
    parser.add_argument(
        "--engine",
        metavar="ENGINE",
        action="append",
        help="the engine the profile is for (docker, docker-20.10, podman; a version works: docker-24.0); "
        "repeatable; what it would ignore (defaultErrnoRet before Docker 23, ...) is a warning "
        "(default: the engines installed here, else the newest Docker)",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    seen = parser.add_argument_group("visibility (see docs/howto/observe.md)")
    watch = seen.add_mutually_exclusive_group()
    watch.add_argument(
        "--observe",
        metavar="SOCKET",
        help="hand every refusal to the seccomp agent on SOCKET (listenerPath); it answers as the profile would",
    )
    watch.add_argument(
        "--log-refusals",
        nargs="?",
        const="errno",
        choices=("errno", "allow"),
        help="where no agent runs: refusals leave kernel audit records (errno: still refused, the default; "
        "allow: they run, SCMP_ACT_LOG)",
    )
    seen.add_argument(
        "--observe-mode",
        choices=("enforce", "complain", "learn"),
        help="the agent's answer for this container (default: the agent's --mode)",
    )
    seen.add_argument(
        "--no-phases", dest="phases", action="store_false", help="with --observe: ignore the template's startup phase"
    )
    seen.add_argument(
        "--ready",
        metavar="port:N|file:PATH|seconds:N",
        help="with --observe: when the startup phase ends (default: the template's)",
    )


def write_output(text: str, output: str | None) -> None:
    """Print ``text`` or write it to ``output`` (atomically: see ``seccompose._writer``)."""
    from seccompose._writer import write_text

    write_text(output or "-", text + "\n")


def run_to_output(args: argparse.Namespace, run: Callable[[argparse.Namespace], int]) -> int:
    """Return ``run(args)``; what it prints goes to ``-o FILE`` when given (atomically, as :func:`write_output`)."""
    if not args.output or args.output == "-":
        return run(args)
    import contextlib
    import io

    from seccompose._writer import write_text

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = run(args)
    write_text(args.output, buffer.getvalue())
    return code


Use = Literal["applies", "refused"]

IN_POLICY_MODE: Final[dict[str, Use]] = {
    "bases": "refused",  # the policy picks the template for the image
    "arch": "applies",
    "caps": "applies",
    "allow": "applies",  # a rule of the command line, every container in scope
    "deny": "applies",
    "deny_exact": "applies",
    "strict_multiplexers": "applies",
    "errno_policy": "applies",  # over the policy's errnoPolicy
    "runtime": "applies",  # over the policy's runtime, when given
    "runtime_given": "applies",
    "no_new_privileges": "applies",
    "kernel": "applies",
    "policy": "applies",
    "image": "applies",
    "labels": "applies",
    "name": "applies",
    "namespace": "applies",
    "privileged": "applies",
    "seccomp_request": "applies",
    "decision": "applies",
}
"""What the policy flow does with each field of ``ContainerArgs``: apply it, or refuse it (exit 2).

A field added without its entry here fails the tests: no flag is dropped silently."""


@dataclass(frozen=True, slots=True)
class ContainerArgs:
    """The container the flags describe, parsed and checked once: what compose and explain compose for.

    The plain flow (``--base``) and the policy flow (``--policy --image``) each use every
    field, or refuse it with exit 2 where it cannot apply (``IN_POLICY_MODE``; the
    container-start facts ``--image``, ``--label``, ``--name``, ``--privileged``,
    ``--seccomp-request`` and ``--decision`` mean nothing without a policy).
    """

    bases: tuple[str, ...]
    arch: Arch
    caps: frozenset[Capability]
    allow: tuple[str, ...]
    deny: tuple[str, ...]
    deny_exact: tuple[str, ...]
    strict_multiplexers: bool
    errno_policy: ErrnoPolicy | None
    runtime: str | None
    runtime_given: bool
    """Whether ``--runtime`` was given (in the policy flow it then replaces the policy's)."""
    no_new_privileges: bool
    kernel: tuple[int, int]
    """The host kernel: ``--kernel``, else the running one (as ``render`` does)."""
    policy: str | None
    image: str | None
    labels: tuple[tuple[str, str], ...]
    name: str
    namespace: str
    privileged: bool
    seccomp_request: Literal["default", "unconfined", "profile"]
    decision: str | None

    @classmethod
    def from_namespace(cls, args: argparse.Namespace) -> ContainerArgs:
        """Parse and check the flags of ``container_args``.

        Raises:
            SeccomposeError: a flag's value is invalid (the message names the flag), or flags
                exclude each other.
        """
        from seccompose.arch import Arch, host_arch
        from seccompose.errors import ConflictError
        from seccompose.kernel import kernel_version

        labels = []
        for i, item in enumerate(getattr(args, "label", [])):
            key, sep, value = item.partition("=")
            if not sep or not key:
                raise ConflictError(f"label {item!r} is not KEY=VALUE", location=f"--label[{i}]")
            labels.append((key, value))
        runtime, no_new_privileges = runtime_from_args(args)
        kernel = kernel_version(args.kernel, location="--kernel")  # None: the running kernel; "" or junk: an error
        return cls(
            bases=tuple(args.base),
            arch=Arch.parse(args.arch, location="--arch") if args.arch else host_arch(),
            caps=caps_from_args(args),
            allow=tuple(syscall_list(args.allow, "--allow")),
            deny=tuple(syscall_list(args.deny, "--deny")),
            deny_exact=tuple(syscall_list(args.deny_exact, "--deny-exact")),
            strict_multiplexers=args.strict_multiplexers,
            errno_policy=args.errno_policy,
            runtime=runtime,
            runtime_given=args.runtime is not None,
            no_new_privileges=no_new_privileges,
            kernel=(kernel.major, kernel.minor),
            policy=getattr(args, "policy", None),
            image=getattr(args, "image", None),
            labels=tuple(labels),
            name=getattr(args, "name", ""),
            namespace=getattr(args, "namespace", ""),
            privileged=getattr(args, "privileged", False),
            seccomp_request=getattr(args, "seccomp_request", "default"),
            decision=getattr(args, "decision", None),
        )

    def base(self) -> str | Template | None:
        """The base of the plain flow: the one ``--base``, the union of several, or none."""
        if len(self.bases) <= 1:
            return self.bases[0] if self.bases else None
        from seccompose.compose import union_template

        return union_template(
            self.bases, arch=self.arch, caps=self.caps, errno_policy=self.errno_policy, kernel=self.kernel
        )

    def profile(self, command: str = "compose", *, visibility: bool = False) -> Profile:
        """Compose the profile: the plain flow, or the policy flow with ``--policy``.

        ``visibility``: ``--observe`` or ``--log-refusals`` was given (compose's own flags, applied
        to the profile afterwards); a policy that observes the container refuses them.

        Raises:
            ConflictError: flags that exclude each other (exit 2).
            SeccomposeError: as ``compose`` and ``decide`` raise.
        """
        from seccompose.compose import compose
        from seccompose.errors import ConflictError

        if self.policy or self.image:
            if not (self.policy and self.image):
                raise ConflictError("--policy and --image go together: the policy picks the template for the image")
            if self.bases:
                raise ConflictError("--base and --policy exclude each other: the policy picks the template")
            return self._policy_profile(command, visibility)
        given = [
            flag
            for flag, value in (("--label", self.labels), ("--name", self.name), ("--namespace", self.namespace),
                                ("--privileged", self.privileged),
                                ("--seccomp-request", self.seccomp_request != "default"),
                                ("--decision", self.decision))
            if value
        ]  # fmt: skip
        if given:
            raise ConflictError(f"{', '.join(given)} describe a container at start: they go with --policy and --image")
        return compose(
            self.base(),
            arch=self.arch,
            caps=self.caps,
            allow=self.allow,
            deny=self.deny,
            deny_exact=self.deny_exact,
            strict_multiplexers=self.strict_multiplexers,
            errno_policy=self.errno_policy,
            runtime=self.runtime,
            no_new_privileges=self.no_new_privileges,
            kernel=self.kernel,
        )

    def _policy_profile(self, command: str, visibility: bool) -> Profile:
        import dataclasses
        import json

        from seccompose.decide import Facts, decide
        from seccompose.errors import ConflictError
        from seccompose.policy import PolicyRule, load_policy

        assert self.policy and self.image  # noqa: S101 - checked by profile()
        policy = load_policy(self.policy)
        # The command line's own rules and settings, over the policy's (every container it composes gets them).
        changes: dict[str, object] = {}
        if self.allow or self.deny or self.deny_exact:
            cli = PolicyRule("command-line", self.allow, self.deny, deny_exact=self.deny_exact)
            changes["rules"] = (*policy.rules, cli)
        if self.errno_policy is not None:
            changes["errno_policy"] = self.errno_policy
        if self.runtime_given:
            changes["runtime"] = self.runtime
        if self.strict_multiplexers:
            changes["strict_multiplexers"] = True
        policy = dataclasses.replace(policy, **changes)  # type: ignore[arg-type]
        from seccompose.caps import all_capabilities

        facts = Facts(
            image=self.image,
            arch=self.arch,
            capabilities=all_capabilities() if self.privileged else self.caps,  # as docker run --privileged
            route="compose",
            name=self.name,
            labels=self.labels,
            namespace=self.namespace,
            privileged=self.privileged,
            no_new_privileges=self.no_new_privileges,
            seccomp=self.seccomp_request,
            runtime=self.runtime if self.runtime_given else None,
            kernel=self.kernel,
        )
        decision = decide(policy, facts)
        if self.decision:
            write_output(json.dumps(decision.record(), indent=2, sort_keys=True), self.decision)
        if decision.profile is None:
            raise ConflictError(
                f"the policy gives this container no profile to print ({decision.action}): {decision.reason}"
            )
        rules = ", ".join(r.name for r in decision.rules) or "none"
        observed = f"; mode {decision.mode}: refusals go to the agent at {decision.listener}"
        print(
            f"seccompose {command}: template {decision.template!r}"
            + (f" (image glob {decision.image_glob!r})" if decision.image_glob else " (no image glob matched)")
            + f"; rules applied: {rules}"
            + (observed if decision.observing else ""),
            file=sys.stderr,
        )
        if decision.observing:
            if visibility:
                raise ConflictError(
                    f"the policy observes this container (mode {decision.mode}); --observe and --log-refusals apply "
                    "to containers the policy enforces",
                    location="--observe",
                )
            return decision.observed_profile()
        return decision.profile


def compose_from_args(args: argparse.Namespace) -> Profile:
    """Run compose() (or the policy flow) for the container the flags describe (``ContainerArgs``)."""
    visibility = bool(getattr(args, "observe", None) or getattr(args, "log_refusals", None))
    return ContainerArgs.from_namespace(args).profile(getattr(args, "command", "compose"), visibility=visibility)


def _conditional(args: argparse.Namespace) -> int:
    import json

    from seccompose.errors import ConflictError
    from seccompose.formats.docker_conditional import conditional_dict

    if args.format != "docker":
        raise ConflictError("--conditional writes the Docker profile format: add --format docker")
    c = ContainerArgs.from_namespace(args)
    for flag, given in (("--caps", args.caps), ("--cap-add", args.cap_add), ("--cap-drop", args.cap_drop),
                        ("--policy", c.policy), ("--image", c.image), ("--label", c.labels), ("--name", c.name),
                        ("--namespace", c.namespace), ("--privileged", c.privileged),
                        ("--seccomp-request", c.seccomp_request != "default"),
                        ("--decision", c.decision)):  # fmt: skip
        if given:
            raise ConflictError(
                f"{flag} and --conditional exclude each other: a conditional profile serves every capability set "
                "(the engine picks the rules per container)"
            )
    doc = conditional_dict(
        c.bases or "default",
        arch=c.arch,
        allow=c.allow,
        deny=c.deny,
        deny_exact=c.deny_exact,
        strict_multiplexers=c.strict_multiplexers,
        errno_policy=c.errno_policy,
        runtime=c.runtime,
        no_new_privileges=c.no_new_privileges,
        kernel=c.kernel,
    )
    write_output(json.dumps(doc, indent=2), args.output)
    return 0


def visibility(args: argparse.Namespace, profile: Profile) -> Profile:
    """Apply ``--observe`` (with its phase and mode) or ``--log-refusals``; warnings go to stderr."""
    from seccompose.errors import ConflictError

    observing = getattr(args, "observe", None)
    if not observing and (args.observe_mode or args.ready):
        raise ConflictError("--observe-mode and --ready need --observe SOCKET", location="--observe-mode")
    if getattr(args, "log_refusals", None):
        from seccompose.observe import log_refusals

        runtimes, _ = runtime_from_args(args)
        if args.log_refusals == "errno" and "runc" in (runtimes or "runc").split(","):
            raise ConflictError(
                "--log-refusals errno needs the seccomp flag SECCOMP_FILTER_FLAG_LOG, which runc 1.1 refuses "
                "('seccomp flags are not yet supported by runc'); use --runtime crun (crun and Podman load it), "
                "or --log-refusals allow (refused calls run, logged: SCMP_ACT_LOG works with runc)",
                location="--log-refusals",
            )

        if args.log_refusals == "allow":
            print(
                "seccompose compose: warning: --log-refusals allow lets every refused call run (logged): "
                "use it to learn, not to confine",
                file=sys.stderr,
            )
        return log_refusals(profile, how=args.log_refusals)
    if not observing:
        return profile
    from dataclasses import replace

    from seccompose.observe import observe
    from seccompose.phases import Ready

    startup, base = _startup_of(args)
    if args.ready:
        if startup is None:
            raise ConflictError(
                f"--ready: the template {base or '(none)'!r} has no startup phase to end", location="--ready"
            )
        startup = replace(startup, ready=Ready.parse(args.ready))
    runtime, _ = runtime_from_args(args)
    observed = observe(
        profile,
        listener_path=observing,
        mode=args.observe_mode,
        runtime=runtime,
        startup=startup if args.phases else None,
        base=base,
    )
    for warning in observed.warnings:
        print(f"seccompose compose: warning: {warning}", file=sys.stderr)
    return observed.profile


def _startup_of(args: argparse.Namespace) -> tuple[Any, str]:
    """The startup phase and name of the template the profile was composed from (None, "" if none)."""
    from seccompose.loader import load_template

    name = args.base[0] if len(args.base) == 1 else ""  # a union of several has no one startup phase
    if getattr(args, "policy", None):
        from seccompose.policy import load_policy

        name = load_policy(args.policy).template_for(args.image)[0]
    if not name:
        return None, ""
    try:
        template = load_template(name)
    except SeccomposeError:
        return None, ""
    return template.startup, template.name


def run(args: argparse.Namespace) -> int:
    """Compose and print the profile; warnings go to stderr."""
    from seccompose.formats import dumps

    if getattr(args, "conditional", False):
        if args.observe or args.log_refusals:
            from seccompose.errors import ConflictError

            raise ConflictError(
                "--conditional writes an engine-wide default for every container; --observe and --log-refusals "
                "apply to one composed profile (a policy in observe mode does it per container)",
                location="--conditional",
            )
        return _conditional(args)
    profile = compose_from_args(args)
    for warning in profile.warnings:
        print(f"seccompose compose: warning: {warning}", file=sys.stderr)
    profile = visibility(args, profile)
    if args.format in ("k8s", "localhost"):
        from seccompose.formats import k8s

        if args.format == "localhost":
            text = k8s.localhost_profile(profile).rstrip("\n")
        else:
            stem = "+".join(Path(b).stem for b in args.base) if args.base else "seccompose"
            name = args.profile_name or stem.lower().replace("_", "-").replace(".", "-")
            text = k8s.dumps(profile, name=name).rstrip("\n")
    else:
        text = dumps(profile, format=args.format)
        if profile.default_errno not in (None, 1) or profile.flags or profile.listener_path:
            import json

            from seccompose.engines import target_warnings

            for warning in target_warnings(json.loads(text), args.engine):
                print(f"seccompose compose: warning: {warning}", file=sys.stderr)
    write_output(text, args.output)
    return 0

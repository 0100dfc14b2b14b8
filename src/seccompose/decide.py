"""The one decision at container start: a container's facts and a policy -> the profile it gets, and why.

``decide(policy, facts)`` is pure (it reads seccompose's own data and nothing else). Every
route that starts a container — ``seccompose compose --policy``, the Docker API proxy, the
OCI runtime wrapper, the tests — calls it, so "what would this container get?" has one
answer. The adapters in ``seccompose.integrations`` turn an engine's data into ``Facts`` and
write the ``Decision`` back in the engine's language; they hold no policy logic.

>>> from seccompose.policy import Policy
>>> policy = Policy.from_dict({"templates": [{"template": "redis", "images": ["redis:*"]}],
...                            "rules": [{"name": "no-ptrace", "deny": ["ptrace"]}]})
>>> d = decide(policy, Facts(image="redis:7", arch=Arch.X86_64))
>>> d.action, d.template, d.image_glob, [r.name for r in d.rules]
('apply', 'redis', 'redis:*', ['no-ptrace'])
>>> d.seccomp()["defaultAction"], d.digest.startswith("sha256:")
('SCMP_ACT_ERRNO', True)
>>> decide(policy, Facts(image="redis:7", arch=Arch.X86_64, seccomp="unconfined")).action
'refuse'
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal

from seccompose._version import __version__
from seccompose.arch import Arch
from seccompose.caps import DOCKER_DEFAULT_CAPABILITIES, Capability
from seccompose.errors import InvalidArgumentError

if TYPE_CHECKING:
    from seccompose.policy import Policy, PolicyRule, Scope
    from seccompose.profile import Profile

__all__ = [
    "ACTIONS",
    "RECORD_SCHEMA",
    "SECCOMP_REQUESTS",
    "AppliedRule",
    "Container",
    "Decision",
    "Facts",
    "decide",
    "on_error",
]

_AGENT_MODES: Final = {"observe": "enforce", "complain": "complain", "learn": "learn"}
"""The policy's observing modes, and the answer each asks of the agent."""

RECORD_SCHEMA: Final = 1
"""Version of ``Decision.record()``'s layout (documented in docs/reference/decision-log.md)."""

SeccompRequest = Literal["default", "unconfined", "profile"]
SECCOMP_REQUESTS: Final = ("default", "unconfined", "profile")
"""What the user asked for: nothing (the engine's default), ``unconfined``, or a profile of their own."""

Action = Literal["apply", "keep", "unconfined", "refuse", "engine-default"]
ACTIONS: Final = ("apply", "keep", "unconfined", "refuse", "engine-default")
"""What the adapter does with the container:

- ``apply``: give it ``Decision.seccomp()``;
- ``keep``: leave what the engine gave it (the user's own profile, or a privileged container's);
- ``unconfined``: start it without seccomp, as the user asked and the policy allows;
- ``refuse``: do not start it (``Decision.reason`` says why);
- ``engine-default``: seccompose failed and the policy's ``on_error`` says the engine's default
  profile (never unconfined: an adapter that has no engine profile to keep refuses).
"""


@dataclass(frozen=True, slots=True)
class Container:
    """What the runtime knows about a container when it starts."""

    image: str
    arch: Arch
    capabilities: frozenset[Capability] = DOCKER_DEFAULT_CAPABILITIES
    labels: tuple[tuple[str, str], ...] = ()
    name: str = ""
    no_new_privileges: bool = False
    """The container's ``noNewPrivileges``: False is how Docker, Podman and Kubernetes start containers unless
    told otherwise (``--security-opt no-new-privileges``, ``allowPrivilegeEscalation: false``)."""
    namespace: str = ""
    """The Kubernetes namespace of the container's pod ("": not a Kubernetes container)."""

    @property
    def label_map(self) -> dict[str, str]:
        """The labels as a dict."""
        return dict(self.labels)


@dataclass(frozen=True, slots=True)
class Facts:
    """What the engine knows about a container when it starts (a frozen value; adapters build it).

    Args:
        image: the image reference as the user gave it (``redis:7``); empty when unknown.
        arch: the host architecture.
        capabilities: the capabilities the runtime will really grant (the bounding set).
        engine: ``docker``, ``podman``, ``containerd``, ``cri`` … (for the record).
        route: ``proxy``, ``runtime``, ``compose`` … (for the record).
        container_id: the engine's id of the container.
        name: the container's name (Docker's without the leading ``/``; Kubernetes' container name).
        image_digest: the image's digest or id when known.
        labels: labels and annotations, as sorted (key, value) pairs.
        namespace: the Kubernetes namespace, when known.
        pod: the Kubernetes pod name, when known.
        privileged: the container runs privileged.
        no_new_privileges: the container's ``noNewPrivileges``.
        user: the user the process runs as, as the engine says it.
        seccomp: what the user asked for: ``default`` (nothing), ``unconfined`` or ``profile``.
        seccomp_digest: sha256 of the user's profile when ``seccomp == "profile"``.
        runtime: the OCI runtime that will load the filter (``runc``, ``crun``); None: the policy's.
        kernel: the host kernel (major, minor); None: the newest.
    """

    image: str
    arch: Arch
    capabilities: frozenset[Capability] = DOCKER_DEFAULT_CAPABILITIES
    engine: str = ""
    route: str = ""
    container_id: str = ""
    name: str = ""
    image_digest: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    namespace: str = ""
    pod: str = ""
    privileged: bool = False
    no_new_privileges: bool = False
    user: str = ""
    seccomp: SeccompRequest = "default"
    seccomp_digest: str = ""
    runtime: str | None = None
    kernel: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.arch, Arch):
            object.__setattr__(self, "arch", Arch.parse(self.arch, location="facts.arch"))
        if self.seccomp not in SECCOMP_REQUESTS:
            raise InvalidArgumentError(
                f"seccomp request {self.seccomp!r} is not one of {', '.join(SECCOMP_REQUESTS)}",
                location="facts.seccomp",
            )
        caps = self.capabilities
        if not isinstance(caps, frozenset) or not all(isinstance(c, Capability) for c in caps):
            object.__setattr__(self, "capabilities", frozenset(_capability(c) for c in caps))
        object.__setattr__(self, "labels", tuple(sorted(dict(self.labels).items())))

    @property
    def label_map(self) -> dict[str, str]:
        """The labels as a dict."""
        return dict(self.labels)

    def to_dict(self) -> dict[str, Any]:
        """Return the facts as plain JSON types, keys and capabilities sorted (for the decision record).

        >>> Facts(image="redis:7", arch=Arch.X86_64, capabilities=frozenset()).to_dict()["capabilities"]
        []
        """
        return {
            "engine": self.engine,
            "route": self.route,
            "container_id": self.container_id,
            "name": self.name,
            "image": self.image,
            "image_digest": self.image_digest,
            "labels": dict(self.labels),
            "namespace": self.namespace,
            "pod": self.pod,
            "arch": self.arch.value,
            "capabilities": sorted(c.name for c in self.capabilities),
            "privileged": self.privileged,
            "no_new_privileges": self.no_new_privileges,
            "user": self.user,
            "seccomp": self.seccomp,
            "seccomp_digest": self.seccomp_digest,
            "runtime": self.runtime,
            "kernel": None if self.kernel is None else f"{self.kernel[0]}.{self.kernel[1]}",
        }


def _capability(item: object) -> Capability:
    return item if isinstance(item, Capability) else Capability.parse(str(item), location="facts.capabilities")


@dataclass(frozen=True, slots=True)
class AppliedRule:
    """A policy rule that applied to the container, and the part of its scope that matched."""

    name: str
    scope: str
    """``every container``, or the scope's conditions as written (``images redis:* and labels env=prod``)."""
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    """What a container gets at start, and everything that made it so."""

    facts: Facts
    action: Action
    profile: Profile | None = None
    """The composed profile (``apply``); None otherwise."""
    template: str = ""
    image_glob: str | None = None
    """The binding's image glob that chose the template; None: the policy's default template."""
    rules: tuple[AppliedRule, ...] = ()
    mode: str = "enforce"
    reason: str = ""
    warnings: tuple[str, ...] = ()
    policy: str = ""
    """The policy's source (path) and digest, as ``PATH sha256:…``."""
    version: str = __version__
    listener: str = ""
    """In the observing modes, the seccomp agent's socket (the profile's ``listenerPath``); empty: enforce."""
    phases: bool = True
    """In the observing modes, whether the template's startup phase applies."""
    agent_missing: str = "enforce"
    """In the observing modes, what the adapter does when nothing answers on ``listener``: ``enforce`` or ``refuse``."""
    _json: str | None = field(default=None, init=False, compare=False, repr=False)
    """The finalised object's compact JSON, made once (the proxy and the log use it on every start)."""

    def seccomp_json(self) -> str:
        """Return the OCI ``linux.seccomp`` object as compact JSON: the one place it is finalised.

        Raises:
            InvalidArgumentError: the decision gives no profile (``action`` is not ``apply``).
        """
        if self.profile is None:
            raise InvalidArgumentError(f"a {self.action!r} decision has no profile", location="decision")
        if self._json is None:
            from seccompose.formats import oci

            profile = self._observed() if self.observing else self.profile
            object.__setattr__(self, "_json", json.dumps(oci.to_dict(profile), separators=(",", ":")))
        assert self._json is not None  # noqa: S101 - set above
        return self._json

    @property
    def observing(self) -> bool:
        """Whether the profile hands its refusals to the seccomp agent (a mode other than ``enforce``)."""
        return bool(self.listener) and self.mode in _AGENT_MODES

    def unobserved_json(self) -> str:
        """Return the profile as ``seccomp_json`` would without the agent (same answers, no listener).

        What an adapter applies when the policy says ``agent_missing: enforce`` and nothing answers
        on the agent's socket.

        Raises:
            InvalidArgumentError: the decision gives no profile.
        """
        if self.profile is None:
            raise InvalidArgumentError(f"a {self.action!r} decision has no profile", location="decision")
        from seccompose.formats import oci

        return json.dumps(oci.to_dict(self.profile), separators=(",", ":"))

    def observed_profile(self) -> Profile:
        """Return the profile ``seccomp_json`` finalises: observed in the observing modes, else the profile.

        Raises:
            InvalidArgumentError: the decision gives no profile.
        """
        if self.profile is None:
            raise InvalidArgumentError(f"a {self.action!r} decision has no profile", location="decision")
        return self._observed() if self.observing else self.profile

    def _observed(self) -> Profile:
        from seccompose.loader import load_template
        from seccompose.observe import observe

        assert self.profile is not None  # noqa: S101 - checked by the caller
        startup = None
        if self.phases and self.template:
            try:
                startup = load_template(self.template).startup
            except Exception:  # noqa: BLE001 - it composed a moment ago; without its phase it is only looser
                startup = None
        facts = {"image": self.facts.image} if self.facts.image else {}
        return observe(
            self.profile,
            listener_path=self.listener,
            mode=_AGENT_MODES[self.mode],  # type: ignore[arg-type]  # one of observe's modes
            runtime=self.facts.runtime,
            startup=startup,
            base=self.template,
            container=facts,
        ).profile

    def seccomp(self) -> dict[str, Any]:
        """Return the OCI ``linux.seccomp`` object the runtime is handed (a fresh copy each call).

        Raises:
            InvalidArgumentError: the decision gives no profile (``action`` is not ``apply``).
        """
        doc: dict[str, Any] = json.loads(self.seccomp_json())
        return doc

    @property
    def digest(self) -> str | None:
        """``sha256:<hex>`` of ``seccomp_json()``; None when the decision gives no profile."""
        if self.profile is None:
            return None
        return "sha256:" + hashlib.sha256(self.seccomp_json().encode()).hexdigest()

    @property
    def refused(self) -> bool:
        """Whether the container must not start."""
        return self.action == "refuse"

    def record(self) -> dict[str, Any]:
        """Return the decision record (plain JSON types; layout ``RECORD_SCHEMA``)."""
        return {
            "schema": RECORD_SCHEMA,
            "action": self.action,
            "mode": self.mode,
            "template": self.template or None,
            "binding": self.image_glob,
            "rules": [
                {"name": r.name, "scope": r.scope, "allow": list(r.allow), "deny": list(r.deny)} for r in self.rules
            ],
            "capabilities": sorted(c.name for c in self.facts.capabilities),
            "profile": self.digest,
            "reason": self.reason,
            "warnings": list(self.warnings),
            "policy": self.policy,
            "version": self.version,
            "facts": self.facts.to_dict(),
            **(
                {"observe": {"socket": self.listener, "agent_missing": self.agent_missing}}
                if self.observing
                else {}
            ),
        }


def _scope_text(scope: Scope) -> str:
    parts = []
    if scope.images:
        parts.append("images " + ", ".join(scope.images))
    if scope.labels:
        parts.append("labels " + ", ".join(f"{k}={v}" for k, v in scope.labels))
    if scope.names:
        parts.append("names " + ", ".join(scope.names))
    if scope.namespaces:
        parts.append("namespaces " + ", ".join(scope.namespaces))
    return " and ".join(parts) or "every container"


def _policy_id(policy: Policy) -> str:
    digest = getattr(policy, "digest", "")
    return " ".join(p for p in (policy.source, digest) if p)


def _refuse(policy: Policy, facts: Facts, reason: str) -> Decision:
    return _without_profile(policy, facts, "refuse", reason)


def _without_profile(policy: Policy, facts: Facts, action: Action, reason: str) -> Decision:
    """A decision that composes nothing (refuse, keep, unconfined): its reason, the policy and its mode."""
    return Decision(facts, action, reason=reason, policy=_policy_id(policy), mode=policy.mode)


def decide(policy: Policy, facts: Facts) -> Decision:
    """Decide what a container gets: a composed profile, the engine's own, unconfined, or a refusal.

    The user's explicit request is weighed first (``unconfined``: the policy's ``unconfined``;
    a profile of their own: ``explicit_profile``), then a privileged container (``privileged``);
    otherwise the profile is composed: the template bound to the image (or the policy's
    default), the capabilities the runtime grants, then every rule whose scope matches.

    Raises:
        SeccomposeError: the policy's template or a rule cannot be composed for this container
            (the adapter applies ``on_error``; see :func:`on_error`).

    >>> from seccompose.policy import Policy
    >>> p = Policy.from_dict({"explicit_profile": "refuse"})
    >>> print(decide(p, Facts(image="x", arch=Arch.X86_64, seccomp="profile")).reason)
    the container asks for a seccomp profile of its own and the policy says explicit_profile: refuse; \
run it without one (the policy composes it) or set explicit_profile: respect
    """
    if facts.seccomp == "unconfined":
        if policy.unconfined == "refuse":
            return _refuse(
                policy,
                facts,
                "the container asks for seccomp=unconfined and the policy says unconfined: refuse; "
                "drop the option (the policy composes a profile) or set unconfined: allow",
            )
        return _without_profile(
            policy, facts, "unconfined", "the user asked for seccomp=unconfined and the policy says unconfined: allow"
        )
    if facts.seccomp == "profile":
        if policy.explicit_profile == "refuse":
            return _refuse(
                policy,
                facts,
                "the container asks for a seccomp profile of its own and the policy says explicit_profile: refuse; "
                "run it without one (the policy composes it) or set explicit_profile: respect",
            )
        if policy.explicit_profile == "respect":
            return _without_profile(
                policy, facts, "keep", "the user's own profile, kept: the policy says explicit_profile: respect"
            )
    elif facts.privileged:
        if policy.privileged == "refuse":
            return _refuse(
                policy,
                facts,
                "the container runs privileged and the policy says privileged: refuse; "
                "drop --privileged (add the capabilities it needs) or set privileged: confine",
            )
        if policy.privileged == "allow":
            return _without_profile(
                policy,
                facts,
                "keep",
                "a privileged container keeps what the engine gives it: the policy says privileged: allow",
            )
    return _compose(policy, facts)


def _compose(policy: Policy, facts: Facts) -> Decision:
    from seccompose.compose import Layer, compose
    from seccompose.rules import Rule

    template, glob = policy.template_for(facts.image)
    container = _container(facts)
    applied: list[PolicyRule] = [r for r in policy.rules if r.scope.matches(container)]
    layers = []
    for r in applied:
        allow_rules = ((Rule(r.allow),) if r.allow else ()) + r.rules
        if allow_rules:
            layers.append(Layer(f"rule:{r.name}", allow_rules))
        if r.deny:
            layers.append(Layer(f"rule:{r.name}", (Rule(r.deny),), deny=True))
        if r.deny_exact:
            layers.append(Layer(f"rule:{r.name}", (Rule(r.deny_exact),), deny=True, exact=True))
    runtime = policy.runtime if policy.runtime is None or facts.runtime is None else facts.runtime
    profile = compose(
        template,
        arch=facts.arch,
        caps=facts.capabilities,
        layers=layers,
        errno_policy=policy.errno_policy,  # type: ignore[arg-type]  # validated by the schema
        runtime=runtime,
        no_new_privileges=facts.no_new_privileges,
        kernel=facts.kernel,
        strict_multiplexers=policy.strict_multiplexers,
    )
    why = (
        f"template {template!r} bound to the image by {glob!r}"
        if glob
        else f"no binding names the image: the policy's default template {template!r}"
    )
    if facts.seccomp == "profile":
        why += "; the user's own profile replaced: the policy says explicit_profile: override"
    elif facts.privileged:
        why += "; privileged, confined with every capability it has: the policy says privileged: confine"
    return Decision(
        facts,
        "apply",
        profile=profile,
        template=template,
        image_glob=glob,
        rules=tuple(AppliedRule(r.name, _scope_text(r.scope), r.allow, r.deny) for r in applied),
        mode=policy.mode,
        reason=why,
        warnings=profile.warnings,
        policy=_policy_id(policy),
        listener=policy.observe_socket if policy.mode in _AGENT_MODES else "",
        phases=policy.observe_phases,
        agent_missing=policy.agent_missing,
    )


def _container(facts: Facts) -> Container:
    return Container(
        facts.image, facts.arch, facts.capabilities, facts.labels, facts.name, facts.no_new_privileges, facts.namespace
    )


def on_error(policy_on_error: str, facts: Facts, error: BaseException, *, policy: str = "") -> Decision:
    """Return the decision when ``decide`` could not run: the ``on_error`` behaviour, never unconfined.

    ``engine-default`` keeps the engine's own default profile (an adapter that has none to
    keep, e.g. for a privileged container or one that asked for ``unconfined``, refuses);
    ``refuse`` refuses.

    >>> d = on_error("refuse", Facts(image="x", arch=Arch.X86_64), ValueError("boom"))
    >>> d.action, d.reason
    ('refuse', 'seccompose could not decide (ValueError: boom); the policy says on_error: refuse')
    """
    what = f"{type(error).__name__}: {error}"
    if policy_on_error == "refuse":
        return Decision(
            facts, "refuse", reason=f"seccompose could not decide ({what}); the policy says on_error: refuse",
            policy=policy,
        )  # fmt: skip
    return Decision(
        facts,
        "engine-default",
        reason=f"seccompose could not decide ({what}); the engine's default profile: on_error: engine-default",
        policy=policy,
    )

"""Policies: the flow a runtime integration runs at container start.

A policy binds templates to images (globs on ``repository[:tag]``) and holds
runtime rules with a scope (image globs, labels, container names) that allow or
deny syscalls. ``Policy.profile_for(container)`` picks the app template (or the
generic default), adds the container's capability syscalls, applies every rule
whose scope matches, and says which template and rules applied.

>>> policy = Policy.from_dict({
...     "templates": [{"template": "redis", "images": ["redis:*"]}],
...     "rules": [{"name": "no-ptrace", "deny": ["ptrace"]},
...               {"name": "perf", "allow": ["perf_event_open"], "scope": {"labels": {"team": "perf"}}}],
... })
>>> d = policy.profile_for(Container(image="redis:7", arch=Arch.X86_64))
>>> d.template, d.rules
('redis', ('no-ptrace',))
>>> "ptrace" in d.profile.allowed()
False
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from seccompose.arch import Arch
from seccompose.caps import DOCKER_DEFAULT_CAPABILITIES, Capability
from seccompose.errors import FormatError, InvalidProfileError, SeccomposeError
from seccompose.profile import Profile
from seccompose.rules import Rule

__all__ = ["Container", "Decision", "Policy", "PolicyRule", "Scope", "image_names", "load_policy"]

_DEFAULT_REGISTRY = "docker.io"


def image_names(image: str) -> tuple[str, ...]:
    """Return the forms an image reference is matched under: as given, short and fully qualified.

    A reference without a tag means ``:latest``; a digest is ignored for matching.

    >>> image_names("redis:7")
    ('redis:7', 'docker.io/library/redis:7', 'library/redis:7')
    >>> image_names("ghcr.io/acme/api")
    ('ghcr.io/acme/api:latest',)
    """
    ref = image.strip().split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    if ":" not in last:
        ref += ":latest"
    first, _, rest = ref.partition("/")
    has_registry = bool(rest) and ("." in first or ":" in first or first == "localhost")
    if has_registry:
        if first == _DEFAULT_REGISTRY:
            short = rest.removeprefix("library/")
            return tuple(dict.fromkeys((ref, short, f"library/{short}" if "/" not in short else short)))
        return (ref,)
    full = f"{_DEFAULT_REGISTRY}/{ref}" if "/" in ref else f"{_DEFAULT_REGISTRY}/library/{ref}"
    forms = (ref, full) + (() if "/" in ref else (f"library/{ref}",))
    return tuple(dict.fromkeys(forms))


def _glob_matches(glob: str, image: str) -> bool:
    # A glob without a tag names a repository: it matches every tag of it.
    pattern = glob if ":" in glob.rsplit("/", 1)[-1] else glob + ":*"
    return any(fnmatch.fnmatchcase(form, pattern) for form in image_names(image))


def _specificity(glob: str) -> int:
    return len(glob.replace("*", "").replace("?", ""))


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
class Scope:
    """Which containers a rule applies to: all listed conditions must hold (empty: every container)."""

    images: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    names: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    """Kubernetes namespace globs; a container outside Kubernetes is in none."""

    def matches(self, container: Container) -> bool:
        """Whether the container is in scope."""
        if self.namespaces and not any(fnmatch.fnmatchcase(container.namespace, n) for n in self.namespaces):
            return False
        if self.images and not any(_glob_matches(g, container.image) for g in self.images):
            return False
        have = container.label_map
        if any(not fnmatch.fnmatchcase(have.get(k, "\0"), v) for k, v in self.labels):
            return False
        return not (self.names and not any(fnmatch.fnmatchcase(container.name, n) for n in self.names))


@dataclass(frozen=True, slots=True)
class PolicyRule:
    """A runtime rule: syscalls to allow or deny for the containers in scope."""

    name: str
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    scope: Scope = Scope()
    rules: tuple[Rule, ...] = ()
    """Conditional allows (OCI rules with ``args``)."""


@dataclass(frozen=True, slots=True)
class Binding:
    """A template bound to image globs."""

    template: str
    images: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Decision:
    """The profile for a container, and what made it."""

    profile: Profile
    template: str
    image_glob: str | None
    rules: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Policy:
    """Templates bound to images, and scoped runtime rules."""

    templates: tuple[Binding, ...] = ()
    rules: tuple[PolicyRule, ...] = ()
    default: str = "default"
    errno_policy: str | None = None
    runtime: str | None = "runc,crun"
    explicit_profile: str = "respect"
    """A container that brings its own profile: ``respect`` it, ``override`` it with the composed one, ``refuse``."""
    unconfined: str = "refuse"
    """A container that asks for ``seccomp=unconfined``: ``allow`` or ``refuse``."""
    privileged: str = "confine"
    """A privileged container: ``confine`` (composed, every capability), ``allow`` (the engine's way), ``refuse``."""
    on_error: str = "engine-default"
    """When seccompose fails: ``engine-default`` (the engine's default profile, never unconfined) or ``refuse``."""
    mode: str = "enforce"
    """How refusals are answered: ``enforce`` (the kernel), ``observe`` (the seccomp agent answers as the profile
    would and records), ``complain`` (the agent lets them run and records), ``learn`` (complain, per image)."""
    observe_socket: str = "/run/seccompose/agent.sock"
    """The seccomp agent's socket: the observed profiles' ``listenerPath``."""
    observe_phases: bool = True
    """Apply the templates' startup phases in the observing modes."""
    agent_missing: str = "enforce"
    """Nothing answers on ``observe_socket`` at container start: ``enforce`` (the profile unobserved) or ``refuse``."""
    source: str = field(default="", compare=False)
    digest: str = field(default="", compare=False)
    """``sha256:…`` of the policy file's bytes (set by ``load_policy``)."""

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], *, source: str = "", base_dir: Path | None = None) -> Policy:
        """Build a policy from its YAML/JSON document.

        Raises:
            FormatError: a field is missing or of the wrong type (with its path).
        """
        from pydantic import ValidationError

        from seccompose import _policy_schema as schema

        try:
            model = schema.PolicyDocument.model_validate(doc)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in first["loc"]).replace(".[", "[")
            raise FormatError(f"{first['msg']}", location=loc or "$", source=source or None) from None
        return model.to_policy(source=source, base_dir=base_dir)

    def template_for(self, image: str) -> tuple[str, str | None]:
        """Return (template, matching glob) for an image: the most specific glob wins, then the first listed."""
        best: tuple[int, int, str, str] | None = None
        for order, binding in enumerate(self.templates):
            for glob in binding.images or _shipped_images(binding.template):
                if _glob_matches(glob, image):
                    key = (_specificity(glob), -order, binding.template, glob)
                    if best is None or key[:2] > best[:2]:
                        best = key
        return (best[2], best[3]) if best else (self.default, None)

    def profile_for(self, container: Container, *, cap_add: Iterable[str] = ()) -> Decision:
        """Compose the profile of ``container``: template or default, caps, then every matching rule.

        Raises:
            SeccomposeError: a template or rule is invalid for this container.
        """
        # One answer everywhere: this is seccompose.decide.decide for a container that asks for nothing.
        from seccompose.caps import parse_capabilities
        from seccompose.decide import Facts, decide

        facts = Facts(
            image=container.image,
            arch=container.arch,
            capabilities=container.capabilities | parse_capabilities(cap_add, location="--cap-add"),
            labels=container.labels,
            name=container.name,
            no_new_privileges=container.no_new_privileges,
        )
        decision = decide(self, facts)
        assert decision.profile is not None  # noqa: S101 - a container that asks for nothing gets a profile
        return Decision(decision.profile, decision.template, decision.image_glob, tuple(r.name for r in decision.rules))


def _shipped_images(template: str) -> tuple[str, ...]:
    from seccompose.templates import load_template

    try:
        return load_template(template).images
    except SeccomposeError:
        return ()


def load_policy(path: str | Path) -> Policy:
    """Load a policy from a YAML or JSON file; template paths in it are relative to the file.

    Raises:
        FormatError: unreadable, malformed or invalid file.
    """
    import hashlib

    from seccompose._reader import max_policy_bytes, parse_yaml, read_bytes

    path = Path(path)
    limit = max_policy_bytes()
    raw = read_bytes(path, limit=limit, what="policy")
    doc = parse_yaml(raw, source=str(path), limit=limit)
    if not isinstance(doc, Mapping):
        raise InvalidProfileError("a policy must be a mapping", location="$", source=str(path))
    policy = Policy.from_dict(doc, source=str(path), base_dir=path.parent)
    return replace(policy, digest="sha256:" + hashlib.sha256(raw).hexdigest())

"""Policies: the flow a runtime integration runs at container start.

A policy binds templates to images (globs on ``repository[:tag]``) and holds
runtime rules with a scope (image globs, labels, container names) that allow or
deny syscalls. ``Policy.profile_for(container)`` picks the app template (or the
generic default), adds the container's capability syscalls, applies every rule
whose scope matches, and says which template and rules applied.

>>> from seccompose.arch import Arch
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
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from seccompose.decide import Container
from seccompose.errors import FormatError, InvalidArgumentError, InvalidProfileError, SeccomposeError
from seccompose.profile import Profile
from seccompose.rules import Rule

if TYPE_CHECKING:
    from seccompose._policy_schema import PolicyDocument

__all__ = ["Container", "Decision", "ImageReference", "Policy", "PolicyRule", "Scope", "image_names", "load_policy"]

_DEFAULT_DOMAIN: Final = "docker.io"
_LEGACY_DOMAIN: Final = "index.docker.io"
_OFFICIAL: Final = "library/"
_COMPONENT: Final = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_LABEL: Final = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_DOMAIN: Final = re.compile(rf"{_LABEL}(?:\.{_LABEL})*(?::[0-9]+)?")
_TAG: Final = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST: Final = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")
_IMAGE_ID: Final = re.compile(r"(?:sha256:)?[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class ImageReference:
    """An image reference normalised as Docker and containerd do (``distribution/reference``).

    ``redis:7``, ``library/redis:7``, ``docker.io/library/redis:7`` and
    ``index.docker.io/library/redis:7`` are one image; a reference with neither tag nor
    digest means ``:latest``; a registry is the first component when it has a ``.`` or a
    ``:`` (a port) or is ``localhost``.

    >>> str(ImageReference.parse("redis:7")), str(ImageReference.parse("index.docker.io/library/redis"))
    ('docker.io/library/redis:7', 'docker.io/library/redis:latest')
    >>> ImageReference.parse("localhost:5000/team/api@sha256:" + "ab" * 32).domain
    'localhost:5000'
    >>> ImageReference.parse("Redis:7")
    Traceback (most recent call last):
    ...
    seccompose.errors.InvalidArgumentError: invalid image reference 'Redis:7': repository name must be lowercase \
at image
    """

    domain: str
    path: str
    tag: str = ""
    digest: str = ""

    @classmethod
    def parse(cls, text: str, *, location: str = "image") -> ImageReference:
        """Return the normalised reference of ``text``.

        Raises:
            InvalidArgumentError: not a reference Docker would accept.
        """
        ref = text.strip()
        if _IMAGE_ID.fullmatch(ref):  # an image id, not a name: nothing to normalise
            return cls("", "", "", ref if ref.startswith("sha256:") else "sha256:" + ref)
        name, _, digest = ref.partition("@")
        last = name.rsplit("/", 1)[-1]
        tag = None
        if ":" in last:
            name, tag = name.rsplit(":", 1)
        first, slash, rest = name.partition("/")
        if slash and ("." in first or ":" in first or first == "localhost" or first.lower() != first):
            domain, path = first, rest
        else:
            domain, path = _DEFAULT_DOMAIN, name
        if domain == _LEGACY_DOMAIN:
            domain = _DEFAULT_DOMAIN
        if domain == _DEFAULT_DOMAIN and "/" not in path:
            path = _OFFICIAL + path
        why = None
        if not path or not _DOMAIN.fullmatch(domain) or (slash and not rest) or ("@" in ref and not digest):
            why = "not a name"
        elif any(c.lower() != c for c in path):
            why = "repository name must be lowercase"
        elif not all(_COMPONENT.fullmatch(c) for c in path.split("/")):
            why = "not a repository name"
        elif tag is not None and not _TAG.fullmatch(tag):
            why = f"invalid tag {tag!r}"
        elif digest and not _DIGEST.fullmatch(digest):
            why = f"invalid digest {digest!r}"
        if why:
            raise InvalidArgumentError(f"invalid image reference {text!r}: {why}", location=location)
        return cls(domain, path, tag or ("" if digest else "latest"), digest)

    @property
    def name(self) -> str:
        """The repository with its registry: ``docker.io/library/redis``."""
        return f"{self.domain}/{self.path}" if self.domain else ""

    def forms(self) -> tuple[str, ...]:
        """Return the spellings globs are matched against: the full one first, then the familiar ones.

        With a tag ``name:tag``, with a digest ``name@digest``, and a reference pinned to a
        digest alone also ``name:`` (so ``redis:*`` matches ``redis@sha256:...``).

        >>> ImageReference.parse("redis:7").forms()
        ('docker.io/library/redis:7', 'library/redis:7', 'redis:7')
        """
        if not self.domain:
            return (self.digest,)
        names = [self.name]
        if self.domain == _DEFAULT_DOMAIN:
            names.append(self.path)
            if self.path.startswith(_OFFICIAL):
                names.append(self.path.removeprefix(_OFFICIAL))
        out = [f"{n}:{self.tag}" for n in names]
        if self.digest:
            out += [f"{n}@{self.digest}" for n in names]
        return tuple(dict.fromkeys(out))

    def __str__(self) -> str:
        if not self.domain:
            return self.digest
        return self.name + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")


def image_names(image: str) -> tuple[str, ...]:
    """Return the forms an image reference is matched under, after normalising it (``ImageReference``).

    >>> image_names("redis:7")
    ('docker.io/library/redis:7', 'library/redis:7', 'redis:7')
    >>> image_names("index.docker.io/library/redis")
    ('docker.io/library/redis:latest', 'library/redis:latest', 'redis:latest')
    >>> image_names("ghcr.io/acme/api")
    ('ghcr.io/acme/api:latest',)

    Raises:
        InvalidArgumentError: the reference is not one Docker would accept.
    """
    if not image.strip():
        return ()  # an image the engine did not say: no binding or scope names it
    return ImageReference.parse(image).forms()


def _glob(glob: str) -> str:
    """A glob in the spelling ``image_names`` gives: Docker's legacy domain and implied ``library/`` normalised."""
    text = glob.strip()
    for prefix in (_LEGACY_DOMAIN + "/", _DEFAULT_DOMAIN + "/"):
        if text.startswith(prefix):
            rest = text[len(prefix) :]
            return _DEFAULT_DOMAIN + "/" + (rest if "/" in rest.split(":", 1)[0] else _OFFICIAL + rest)
    return text


def _glob_matches(glob: str, image: str) -> bool:
    # A glob without a tag or digest names a repository: it matches every tag and digest of it.
    pattern = _glob(glob)
    last = pattern.rsplit("/", 1)[-1]
    patterns = (pattern,) if ":" in last or "@" in last else (pattern + ":*", pattern + "@*")
    return any(fnmatch.fnmatchcase(form, p) for form in image_names(image) for p in patterns)


def _specificity(glob: str) -> int:
    return len(glob.replace("*", "").replace("?", ""))


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
    """Each name with its family on every ABI, and the socketcall/ipc calls that run it (``compose``)."""
    scope: Scope = Scope()
    rules: tuple[Rule, ...] = ()
    """Conditional allows (OCI rules with ``args``)."""
    deny_exact: tuple[str, ...] = ()
    """Names denied as named only (``compose(deny_exact=...)``)."""


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
    strict_multiplexers: bool = False
    """Refuse socketcall/ipc outright where a call they run keeps argument conditions (``compose``)."""
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
        return _from_document(model, source=source, base_dir=base_dir)

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


def _from_document(doc: PolicyDocument, *, source: str, base_dir: Path | None) -> Policy:
    """The policy a validated document describes (template paths relative to ``base_dir``)."""
    from seccompose.formats.oci import rule_from_dict

    def where(name: str) -> str:
        looks_like_file = "/" in name or name.endswith(".json")
        return str(base_dir / name) if base_dir and looks_like_file and not Path(name).is_absolute() else name

    return Policy(
        templates=tuple(Binding(where(t.template), t.images) for t in doc.templates),
        rules=tuple(
            PolicyRule(
                r.name,
                r.allow,
                r.deny,
                Scope(r.scope.images, tuple(sorted(r.scope.labels.items())), r.scope.names, r.scope.namespaces),
                tuple(rule_from_dict(raw, f"rules[{i}]") for i, raw in enumerate(r.rules)),
                r.deny_exact,
            )
            for r in doc.rules
        ),
        default=where(doc.default),
        errno_policy=doc.errnoPolicy,
        runtime=None if doc.runtime in (None, "none") else doc.runtime,
        explicit_profile=doc.explicit_profile,
        unconfined=doc.unconfined,
        privileged=doc.privileged,
        on_error=doc.on_error,
        mode=doc.mode,
        observe_socket=doc.observe.socket,
        observe_phases=doc.observe.phases,
        agent_missing=doc.observe.agent_missing,
        strict_multiplexers=doc.strict_multiplexers,
        source=source,
    )


def _shipped_images(template: str) -> tuple[str, ...]:
    from seccompose.loader import load_template

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

    path = Path(path)
    raw, doc = read_policy_document(path)
    policy = Policy.from_dict(doc, source=str(path), base_dir=path.parent)
    return replace(policy, digest="sha256:" + hashlib.sha256(raw).hexdigest())


def read_policy_document(path: str | Path) -> tuple[bytes, Mapping[str, Any]]:
    """Return a policy file's bytes and its parsed mapping, read under the policy size limit.

    Raises:
        FormatError: unreadable, over the limit, malformed, or not a mapping.
    """
    from seccompose._reader import max_policy_bytes, parse_yaml, read_bytes

    limit = max_policy_bytes()
    raw = read_bytes(path, limit=limit, what="policy")
    doc = parse_yaml(raw, source=str(path), limit=limit)
    if not isinstance(doc, Mapping):
        raise InvalidProfileError("a policy must be a mapping", location="$", source=str(path))
    return raw, doc

"""The policy file's schema (pydantic, at the boundary; the library works on frozen dataclasses)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from seccompose.formats.oci import rule_from_dict

__all__ = ["PolicyDocument"]

Glob = Annotated[str, Field(min_length=1, description="a glob (fnmatch: *, ?, [...])")]
ImageGlob = Annotated[
    str,
    Field(
        min_length=1,
        description="a glob on repository[:tag], e.g. 'redis:*'; images and globs are normalised as Docker and "
        "containerd do first (redis:7 = library/redis:7 = docker.io/library/redis:7 = "
        "index.docker.io/library/redis:7), so any spelling matches",
    ),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TemplateBinding(_Model):
    """A template bound to the images it is for; the most specific glob wins, then the first listed."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"template": "redis", "images": ["redis:*"]}, {"template": "./myapp.json"}]}
    )
    template: str = Field(description="a shipped template name or a template/profile file (relative to the policy)")
    images: tuple[ImageGlob, ...] = Field(
        default=(),
        description="image globs (normalised as Docker does: redis:* also matches docker.io/library/redis:7); "
        "empty: the template's own images",
    )


class ScopeModel(_Model):
    """Which containers a rule applies to: every condition given must hold (none given: every container)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"images": ["nginx:*"], "labels": {"env": "prod"}, "names": ["web-*"]},
                {"namespaces": ["prod", "prod-*"]},
            ]
        }
    )
    images: tuple[ImageGlob, ...] = Field(
        default=(),
        description="image globs, one of which must match (normalised as Docker does: redis:* also matches "
        "index.docker.io/library/redis:7)",
    )
    labels: dict[str, str] = Field(default_factory=dict, description="label globs that must all match")
    names: tuple[Glob, ...] = Field(default=(), description="container name globs")
    namespaces: tuple[Glob, ...] = Field(
        default=(), description="Kubernetes namespace globs (a container outside Kubernetes is in none)"
    )


class ObserveModel(_Model):
    """Where the seccomp agent listens and how observed containers start (modes other than enforce)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"socket": "/run/seccompose/agent.sock", "agent_missing": "enforce"}]}
    )
    socket: str = Field(
        default="/run/seccompose/agent.sock",
        description="the agent's socket (`seccompose agent --socket`): the profiles' listenerPath",
    )
    phases: bool = Field(default=True, description="apply the templates' startup phases")
    agent_missing: Literal["enforce", "refuse"] = Field(
        default="enforce",
        description="nothing answers on the socket when a container starts: enforce (start it with the profile "
        "unobserved: the same answers, no events) or refuse (do not start it)",
    )

    @field_validator("socket")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            msg = f"the agent's socket {value!r} must be an absolute path (runc and crun connect to it as given)"
            raise ValueError(msg)
        return value


class RuleModel(_Model):
    """A runtime rule: syscalls allowed or denied (deny wins over every layer) for the containers in scope."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"name": "no-ptrace", "deny": ["ptrace"]},
                {"name": "perf", "allow": ["perf_event_open"], "scope": {"labels": {"team": "perf"}}},
                {
                    "name": "personality-linux32",
                    "rules": [{"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                               "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}],
                },
            ]
        }
    )
    name: str = Field(min_length=1, description="the rule's name, as the decision log and refusals name it")
    allow: tuple[str, ...] = Field(default=(), description="syscalls to allow")
    deny: tuple[str, ...] = Field(
        default=(),
        description="syscalls to deny, whatever else allows them: each with its family on every ABI of the host "
        "(setuid also setuid32) and, on x86, the socketcall/ipc calls that run it",
    )
    deny_exact: tuple[str, ...] = Field(
        default=(),
        description="syscalls to deny as named only: not the rest of their families, not through socketcall/ipc",
    )
    rules: tuple[dict[str, Any], ...] = Field(default=(), description="conditional allows, as OCI rules")
    scope: ScopeModel = Field(default=ScopeModel(), description="the containers it applies to (default: every one)")

    @field_validator("rules")
    @classmethod
    def _oci_rules(cls, value: tuple[dict[str, Any], ...]) -> tuple[dict[str, Any], ...]:
        for i, raw in enumerate(value):
            rule_from_dict(raw, f"rules[{i}]")
        return value


class PolicyDocument(_Model):
    """A policy file: what every container gets when it starts (compose --policy, the wrapper, the proxy)."""

    version: Literal[1] = Field(default=1, description="the file format's version")
    default: str = Field(
        default="default", description="template for images no binding matches", examples=["default", "./base.json"]
    )
    errnoPolicy: Literal["eperm", "enosys"] | None = Field(  # noqa: N815 - the file's key
        default=None,
        description="errno for syscalls the profile does not name: eperm (Docker) or enosys (Podman); "
        "none: the template's",
        examples=["enosys"],
    )
    runtime: str | None = Field(
        default="runc,crun",
        description="OCI runtimes whose base set the profiles get: runc, crun, both comma-separated, or none",
    )
    templates: tuple[TemplateBinding, ...] = Field(default=(), description="templates bound to images")
    rules: tuple[RuleModel, ...] = Field(default=(), description="runtime rules, applied in order")
    explicit_profile: Literal["respect", "override", "refuse"] = Field(
        default="respect",
        description="a container that brings its own seccomp profile: respect it, override it with the "
        "composed one, or refuse to start it",
    )
    unconfined: Literal["allow", "refuse"] = Field(
        default="refuse", description="a container that asks for seccomp=unconfined: allow it, or refuse to start it"
    )
    privileged: Literal["confine", "allow", "refuse"] = Field(
        default="confine",
        description="a privileged container: confine it (the composed profile with every capability), "
        "allow it (what the engine does: Docker and Podman run it without seccomp), or refuse to start it",
    )
    on_error: Literal["engine-default", "refuse"] = Field(
        default="engine-default",
        description="when seccompose fails (a template that cannot be composed, a bug): start the container "
        "with the engine's default profile, or refuse to start it; never unconfined",
    )
    mode: Literal["enforce", "observe", "complain", "learn"] = Field(
        default="enforce",
        description="enforce: the kernel refuses what the profile refuses; observe: every refusal goes to the "
        "seccomp agent (observe.socket), which answers as the profile would and records it; complain: the agent "
        "lets refused calls run and records them; learn: complain, and the agent keeps what each image needed",
    )
    observe: ObserveModel = Field(
        default_factory=ObserveModel, description="the seccomp agent, for the modes other than enforce"
    )
    strict_multiplexers: bool = Field(
        default=False,
        description="on x86, refuse socketcall (ipc) outright when a socket (IPC) call keeps argument conditions, "
        "which they cannot check",
    )

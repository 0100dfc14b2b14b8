"""The policy file's schema (pydantic, at the boundary; the library works on frozen dataclasses)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from seccompose.formats.oci import _rule
from seccompose.policy import Binding, Policy, PolicyRule, Scope

__all__ = ["PolicyDocument"]

Glob = Annotated[str, Field(min_length=1, description="a glob on repository[:tag], e.g. 'redis:*'")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TemplateBinding(_Model):
    template: str = Field(description="a shipped template name or a template/profile file")
    images: tuple[Glob, ...] = Field(default=(), description="image globs; empty: the template's own images")


class ScopeModel(_Model):
    images: tuple[Glob, ...] = ()
    labels: dict[str, str] = Field(default_factory=dict, description="label globs that must all match")
    names: tuple[Glob, ...] = Field(default=(), description="container name globs")


class RuleModel(_Model):
    name: str = Field(min_length=1)
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    rules: tuple[dict[str, Any], ...] = Field(default=(), description="conditional allows, as OCI rules")
    scope: ScopeModel = ScopeModel()

    @field_validator("rules")
    @classmethod
    def _oci_rules(cls, value: tuple[dict[str, Any], ...]) -> tuple[dict[str, Any], ...]:
        for i, raw in enumerate(value):
            _rule(raw, f"rules[{i}]")
        return value


class PolicyDocument(_Model):
    version: Literal[1] = 1
    default: str = Field(default="default", description="template for images no binding matches")
    errnoPolicy: Literal["eperm", "enosys"] | None = None  # noqa: N815 - the file's key
    runtime: str | None = Field(
        default="runc,crun",
        description="OCI runtimes whose base set the profiles get: runc, crun, both comma-separated, or none",
    )
    templates: tuple[TemplateBinding, ...] = ()
    rules: tuple[RuleModel, ...] = ()

    def to_policy(self, *, source: str, base_dir: Path | None) -> Policy:
        def where(name: str) -> str:
            looks_like_file = "/" in name or name.endswith(".json")
            return str(base_dir / name) if base_dir and looks_like_file and not Path(name).is_absolute() else name

        return Policy(
            templates=tuple(Binding(where(t.template), t.images) for t in self.templates),
            rules=tuple(
                PolicyRule(
                    r.name,
                    r.allow,
                    r.deny,
                    Scope(r.scope.images, tuple(sorted(r.scope.labels.items())), r.scope.names),
                    tuple(_rule(raw, f"rules[{i}]") for i, raw in enumerate(r.rules)),
                )
                for r in self.rules
            ),
            default=where(self.default),
            errno_policy=self.errnoPolicy,
            runtime=None if self.runtime in (None, "none") else self.runtime,
            source=source,
        )

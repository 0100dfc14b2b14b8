"""Templates by name or from a file: the shipped templates, and template, Docker/Podman or OCI documents.

The one place a template is read (``templates`` holds the model, the formats their readers):

>>> load_template("nginx").name
'nginx'
>>> "default" in template_names()
True
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from seccompose import _caches
from seccompose.errors import FormatError, TemplateNotFoundError
from seccompose.templates import Template, template_from_profile

__all__ = ["is_docker_document", "load_template", "shipped_path", "template_from_document", "template_names"]

_DATA: Final = Path(__file__).parent / "data" / "templates"


def template_names() -> tuple[str, ...]:
    """Return the names of the templates shipped with seccompose, sorted.

    >>> "default" in template_names()
    True
    """
    return tuple(sorted(p.stem for p in _DATA.glob("*.json")))


def shipped_path(name: str) -> Path:
    """Return the file of the shipped template ``name`` (it may not exist)."""
    return _DATA / f"{name}.json"


@_caches.cache
def _shipped(name: str) -> Template:
    path = _DATA / f"{name}.json"
    return Template.from_dict(_read_json(path), source=str(path))


def _read_json(path: Path) -> Any:  # noqa: ANN401 - JSON is Any
    from seccompose._reader import read_json

    return read_json(path, what="template")


def load_template(name_or_path: str | Path) -> Template:
    """Return a shipped template by name, or load a template file.

    A file may also be a Docker/Podman profile (its ``includes/excludes`` become
    gates) or an OCI profile; both are read as templates that gate capabilities
    themselves.

    Raises:
        TemplateNotFoundError: no such template or file.
        FormatError: the file is not valid.

    >>> load_template("nginx").name
    'nginx'
    """
    from seccompose._reader import not_a_template, resolve

    text = str(name_or_path)
    if isinstance(name_or_path, str) and resolve(text) == "name":
        if (_DATA / f"{text}.json").is_file():
            return _shipped(text)
        raise not_a_template(text, template_names())
    if text != "-" and not Path(name_or_path).exists():
        raise TemplateNotFoundError(text, choices=template_names())
    doc = _read_json(Path(text) if text != "-" else text)  # type: ignore[arg-type]
    return template_from_document(doc, source="<stdin>" if text == "-" else text)


def template_from_document(doc: Any, *, source: str = "") -> Template:  # noqa: ANN401 - JSON is Any
    """Return a template from a template, Docker/Podman or OCI profile document.

    Raises:
        FormatError: the document is none of those.
    """
    if isinstance(doc, Mapping) and "schema" in doc:
        return Template.from_dict(doc, source=source)
    if isinstance(doc, Mapping) and ("defaultAction" in doc or "linux" in doc):
        if is_docker_document(doc):
            from seccompose.formats.docker import template_from_docker

            # Podman's own profiles name their errnos ("errno": "EPERM"); Docker's never do.
            rules = doc.get("syscalls")
            podman = "defaultErrno" in doc or any(
                isinstance(r, Mapping) and "errno" in r for r in (rules if isinstance(rules, list) else [])
            )
            return template_from_docker(doc, source=source, engine="podman" if podman else "docker")
        from seccompose.formats.oci import from_dict

        return template_from_profile(from_dict(doc, source=source or None), name=Path(source).stem or "profile")
    raise FormatError(
        "not a template, Docker/Podman profile or OCI seccomp profile (no 'schema' or 'defaultAction')",
        source=source or None,
    )


def is_docker_document(doc: Mapping[str, Any]) -> bool:
    """Whether a profile document is Docker's or Podman's rather than OCI's (keys only they have)."""
    if "archMap" in doc or "defaultErrno" in doc:
        return True
    rules = doc.get("syscalls")
    return any(
        isinstance(r, Mapping) and ({"name", "includes", "excludes", "comment", "errno"} & set(r))
        for r in (rules if isinstance(rules, list) else [])
    )

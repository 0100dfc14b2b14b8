"""Read the profiles the CLI and the explain/diff/lint functions take: a file, stdin or a template name.

Private: the public faces are :func:`seccompose.lint.lint_file`, :func:`seccompose.diff.diff`
and :func:`seccompose.explain.explain`.

>>> kind_of({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]})
'oci'
>>> kind_of({"schema": 1, "name": "x", "rules": []})
'template'
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from seccompose.errors import FormatError, TemplateNotFoundError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from seccompose.arch import Arch
    from seccompose.caps import Capability
    from seccompose.profile import Profile

__all__ = ["Kind", "kind_of", "looks_like_file", "read_document", "read_profile"]

Kind = Literal["oci", "docker", "template"]


def looks_like_file(spec: str) -> bool:
    """Whether ``spec`` names a file (or stdin) rather than a template or syscall name.

    The rule is :func:`seccompose._reader.resolve`'s, the same in every command: ``-``, a
    ``/`` or a ``.json``/``.yaml``/``.yml`` ending make a path; the current directory is
    never looked at, so ``./nginx`` is how to name a file called nginx.

    >>> looks_like_file("profile.json"), looks_like_file("./x"), looks_like_file("redis"), looks_like_file("-")
    (True, True, False, True)
    """
    from seccompose._reader import resolve

    return resolve(spec) != "name"


def read_document(spec: str) -> tuple[Any, str]:
    """Return the parsed JSON of a file (``-``: stdin) or of a shipped template, and its source name.

    Raises:
        TemplateNotFoundError: ``spec`` is a name but no shipped template.
        FormatError: the file cannot be read, is over the size limit, or is not JSON.
    """
    from seccompose._reader import not_a_template, read_json, resolve
    from seccompose.loader import shipped_path, template_names

    kind = resolve(spec)
    if kind == "name":
        if spec not in template_names():
            raise not_a_template(spec, template_names())
        return read_json(shipped_path(spec)), spec
    if kind == "file" and not Path(spec).exists():
        raise TemplateNotFoundError(spec, choices=template_names())
    source = "<stdin>" if kind == "stdin" else spec
    return read_json(spec, what="profile"), source


def kind_of(doc: object) -> Kind:
    """Return which kind of document ``doc`` is: a template, a Docker/Podman profile or an OCI one.

    Raises:
        FormatError: it is none of those.
    """
    if isinstance(doc, Mapping) and "schema" in doc:
        return "template"
    if isinstance(doc, Mapping) and ("defaultAction" in doc or "linux" in doc):
        from seccompose.loader import is_docker_document

        return "docker" if "linux" not in doc and is_docker_document(doc) else "oci"
    raise FormatError(
        "not a seccomp profile (OCI linux.seccomp, config.json, Docker/Podman) or a template: "
        "no 'defaultAction', 'linux' or 'schema' key"
    )


def read_profile(
    spec: str,
    *,
    arch: Arch,
    runtime: str | None = "runc,crun",
    caps: Iterable[Capability] | None = None,
    no_new_privileges: bool = False,
) -> Profile:
    """Return the profile a container on an ``arch`` host gets from ``spec``.

    ``spec`` is an OCI profile or ``config.json``, a Docker/Podman profile (one with
    capability or arch conditions is rendered for ``caps``), a template file or a shipped
    template name (composed as ``seccompose compose --base`` does, for ``caps`` and with
    the base set of ``runtime`` for ``no_new_privileges``). ``caps`` None: Docker's 14 default
    capabilities.

    Raises:
        TemplateNotFoundError, FormatError: ``spec`` cannot be read.
    """
    from seccompose.caps import DOCKER_DEFAULT_CAPABILITIES
    from seccompose.compose import compose

    doc, source = read_document(spec)
    kind = kind_of(doc)
    capset = DOCKER_DEFAULT_CAPABILITIES if caps is None else frozenset(caps)
    if kind == "template" or not looks_like_file(spec):
        from seccompose.templates import Template

        template = Template.from_dict(doc, source=source)
        return compose(template, arch=arch, caps=capset, runtime=runtime, no_new_privileges=no_new_privileges)
    if kind == "docker":
        import json

        from seccompose.formats import docker

        return docker.loads(json.dumps(doc), source=source, arch=arch, caps=[c.name for c in capset])
    from seccompose.formats import oci

    return oci.from_dict(doc, source=source)

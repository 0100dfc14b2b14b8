"""Wire formats around the one model: each module reads and writes ``Profile``.

``dumps``/``loads`` pick the module by name. Built in: ``oci`` (the runtime's
``linux.seccomp``) and ``docker`` (the profile file of Docker, Podman and kubelet).

>>> from seccompose import Profile, Rule, Arch
>>> p = Profile(architectures=Arch.X86_64.abis, rules=(Rule(("read",)),))
>>> loads(dumps(p, format="docker"), format="docker") == p
True
"""

from __future__ import annotations

import importlib
from typing import Any, Final

from seccompose.errors import FormatError
from seccompose.profile import Profile

__all__ = ["FORMATS", "dumps", "loads"]

FORMATS: Final = ("oci", "docker")


_LOADED: dict[str, Any] = {}


def _module(format: str) -> Any:  # noqa: A002, ANN401 - `format` mirrors the CLI flag; modules are duck-typed
    module = _LOADED.get(format)
    if module is None:
        if format not in FORMATS:
            raise FormatError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
        module = _LOADED[format] = importlib.import_module(f"seccompose.formats.{format}")
    return module


def dumps(profile: Profile, format: str = "oci", **options: Any) -> str:  # noqa: A002, ANN401
    """Return ``profile`` as text in ``format`` (deterministic: equal profiles give identical bytes).

    Raises:
        FormatError: unknown format.
    """
    module = _LOADED.get(format) or _module(format)
    text: str = module.dumps(profile, **options) if options else module.dumps(profile)
    return text


def loads(text: str | bytes, format: str = "oci", **options: Any) -> Profile:  # noqa: A002, ANN401
    """Return the profile in ``text``, read as ``format``.

    Raises:
        FormatError: unknown format, malformed or invalid document (with its JSON path).
    """
    profile: Profile = _module(format).loads(text, **options)
    return profile

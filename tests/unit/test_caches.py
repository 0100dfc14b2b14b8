"""One ``clear_caches()`` empties every cache seccompose keeps."""

from __future__ import annotations

import sys

import seccompose
from seccompose import Arch, compose, dumps, template_names
from seccompose.check import check
from seccompose.explain import explain
from seccompose.formats import oci


def _workload() -> None:
    for base in template_names():
        profile = compose(base, arch=Arch.X86_64, caps=["CAP_SYS_ADMIN"], allow=["ptrace"], deny=["socket"])
        dumps(profile)
    profile = compose("default", arch=Arch.AARCH64, caps=[], runtime="crun", errno_policy="enosys")
    explain("clone", profile)
    check(oci.to_dict(profile))


_COMPOSE = ("seccompose.compose", "seccompose._compose_fast", "seccompose._compose_parts")
"""compose's algebra, its fast path and what both share: their module-level tables are caches or constants."""


def _filled() -> dict[str, int]:
    """Every module-level container and ``functools`` cache of seccompose's modules that holds something."""
    out: dict[str, int] = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith("seccompose") or module is None:
            continue
        if name == "seccompose.integrations.notify":
            continue  # the kernel's notification sizes, asked once per process (no input reaches them)
        for attr, value in vars(module).items():
            if attr.startswith("__") or not str(getattr(value, "__module__", name) or "").startswith("seccompose"):
                continue  # a function imported from the standard library keeps its own cache
            info = getattr(value, "cache_info", None)
            if callable(info) and info().currsize:
                out[f"{name}.{attr}"] = info().currsize
            elif name in _COMPOSE and isinstance(value, dict | list | set) and value:
                out[f"{name}.{attr}"] = len(value)
    return out


def test_clear_caches_empties_every_cache() -> None:
    seccompose.clear_caches()
    constants = _filled()  # compose's tables (operator symbols...): what clear_caches leaves is left as it was
    _workload()
    before = _filled()
    assert "seccompose._compose_fast._FAMILIES" in before  # the workload filled the fast path's caches
    assert "seccompose.compose._NAMED" in before  # and the algebra's shipped templates
    assert "seccompose.syscalls.table" in before
    seccompose.clear_caches()
    assert _filled() == constants
    assert all(name.rpartition(".")[0] in _COMPOSE for name in constants)
    _workload()  # and everything works from cold again
    assert _filled().keys() == before.keys() | constants.keys()

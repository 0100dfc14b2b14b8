r"""seccompose: compose least-privilege Linux seccomp profiles for containers.

>>> from seccompose import compose, dumps, Arch
>>> profile = compose(arch=Arch.X86_64, allow=["read", "write", "exit_group"], runtime=None)
>>> sorted(profile.allowed())
['exit_group', 'read', 'write']
>>> dumps(profile).startswith('{\n  "defaultAction": "SCMP_ACT_ERRNO"')
True
"""

from seccompose._version import __version__

TYPE_CHECKING = False  # not typing's: importing typing costs the runtime wrapper ~9 ms per container start

if TYPE_CHECKING:
    from seccompose._caches import clear_caches
    from seccompose.actions import Action
    from seccompose.arch import Arch
    from seccompose.caps import Capability
    from seccompose.compose import Layer, compose
    from seccompose.errors import (
        ArchMismatchError,
        ConflictError,
        FormatError,
        InvalidActionError,
        InvalidArchError,
        InvalidArgumentError,
        InvalidCapabilityError,
        InvalidProfileError,
        SeccomposeError,
        TemplateNotFoundError,
        UnknownSyscallError,
    )
    from seccompose.formats import dumps, loads
    from seccompose.loader import load_template, template_names
    from seccompose.profile import Flag, Profile, Provenance
    from seccompose.rules import Arg, Operator, Rule
    from seccompose.syscallset import SyscallSet
    from seccompose.templates import Template

# Exports load on first use (PEP 562): `import seccompose.integrations.runtime`, the OCI runtime
# wrapper every container start runs, must not pay for the composition machinery it may not need.
_WHERE = {
    "Action": "actions",
    "Arch": "arch",
    "Capability": "caps",
    "clear_caches": "_caches",
    "Layer": "compose",
    "compose": "compose",
    "ArchMismatchError": "errors",
    "ConflictError": "errors",
    "FormatError": "errors",
    "InvalidActionError": "errors",
    "InvalidArchError": "errors",
    "InvalidArgumentError": "errors",
    "InvalidCapabilityError": "errors",
    "InvalidProfileError": "errors",
    "SeccomposeError": "errors",
    "TemplateNotFoundError": "errors",
    "UnknownSyscallError": "errors",
    "dumps": "formats",
    "loads": "formats",
    "Flag": "profile",
    "Profile": "profile",
    "Provenance": "profile",
    "Arg": "rules",
    "Operator": "rules",
    "Rule": "rules",
    "SyscallSet": "syscallset",
    "Template": "templates",
    "load_template": "loader",
    "template_names": "loader",
}


class _Package(type(__import__("sys"))):  # type: ignore[misc]  # types.ModuleType, without importing types
    """The package's module class: ``seccompose.compose`` stays the function.

    Importing the submodule ``seccompose.compose`` makes the import system set the package's
    attribute ``compose`` to that module; with exports loaded on first use nothing would set it
    back to the function, as the eager ``from seccompose.compose import compose`` used to.
    """

    @property
    def compose(self) -> object:
        from seccompose.compose import compose

        return compose

    @compose.setter
    def compose(self, _module: object) -> None:
        pass  # the submodule stays reachable as sys.modules["seccompose.compose"]


__import__("sys").modules[__name__].__class__ = _Package


def __getattr__(name: str) -> object:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'seccompose' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"seccompose.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "Action",
    "Arch",
    "ArchMismatchError",
    "Arg",
    "Capability",
    "ConflictError",
    "Flag",
    "FormatError",
    "InvalidActionError",
    "InvalidArchError",
    "InvalidArgumentError",
    "InvalidCapabilityError",
    "InvalidProfileError",
    "Layer",
    "Operator",
    "Profile",
    "Provenance",
    "Rule",
    "SeccomposeError",
    "SyscallSet",
    "Template",
    "TemplateNotFoundError",
    "UnknownSyscallError",
    "__version__",
    "clear_caches",
    "compose",
    "dumps",
    "load_template",
    "loads",
    "template_names",
]

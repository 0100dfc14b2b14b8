r"""seccompose: compose least-privilege Linux seccomp profiles for containers.

>>> from seccompose import compose, dumps, Arch
>>> profile = compose(arch=Arch.X86_64, allow=["read", "write", "exit_group"], runtime=None)
>>> sorted(profile.allowed())
['exit_group', 'read', 'write']
>>> dumps(profile).startswith('{\n  "defaultAction": "SCMP_ACT_ERRNO"')
True
"""

from seccompose._version import __version__
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
from seccompose.profile import Flag, Profile, Provenance
from seccompose.rules import Arg, Operator, Rule
from seccompose.syscallset import SyscallSet
from seccompose.templates import Template, load_template, template_names

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
    "compose",
    "dumps",
    "load_template",
    "loads",
    "template_names",
]

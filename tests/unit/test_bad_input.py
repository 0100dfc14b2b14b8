"""Bad input gives a typed SeccomposeError naming the input, where it was, and the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from seccompose import (
    Arch,
    FormatError,
    InvalidActionError,
    InvalidArchError,
    InvalidArgumentError,
    InvalidCapabilityError,
    InvalidProfileError,
    SeccomposeError,
    TemplateNotFoundError,
    UnknownSyscallError,
    compose,
    loads,
)
from seccompose.errors import DocumentTooLargeError

BAD = Path(__file__).resolve().parents[1] / "fixtures" / "bad" / "oci"

# file -> (error class, fragments the message must contain)
CASES: dict[str, tuple[type[SeccomposeError], list[str]]] = {
    "unknown-action.json": (InvalidActionError, ["'SCMP_ACT_ALOW'", "syscalls[0].action", "did you mean 'SCMP_ACT_ALLOW'"]),
    "arg-index-6.json": (InvalidArgumentError, ["index 6", "0 to 5", "syscalls[0].args[0]"]),
    "unknown-operator.json": (InvalidArgumentError, ["'SCMP_CMP_EQUALS'", "syscalls[0].args[0].op", "SCMP_CMP_EQ"]),
    "unknown-arch.json": (InvalidArchError, ["'SCMP_ARCH_X86_65'", "architectures[0]"]),
    "names-not-array.json": (InvalidProfileError, ["names must be an array", "syscalls[0].names"]),
    "malformed.json": (FormatError, ["malformed JSON", "line 1"]),
    "errno-on-allow.json": (InvalidActionError, ["errnoRet 1", "SCMP_ACT_ALLOW", "syscalls[0]"]),
    "negative-value.json": (InvalidArgumentError, ["-1", "unsigned 64-bit"]),
    "notify-without-listener.json": (InvalidProfileError, ["listenerPath"]),
    "docker-field-in-oci.json": (InvalidProfileError, ["'includes'", "Docker-format"]),
    "not-an-object.json": (InvalidProfileError, ["must be an object"]),
}


def test_every_bad_fixture_is_mapped() -> None:
    assert sorted(p.name for p in BAD.glob("*.json")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_oci_fixture(name: str) -> None:
    cls, fragments = CASES[name]
    with pytest.raises(cls) as info:
        loads((BAD / name).read_text(), source=name)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_huge_document_is_refused_before_parsing() -> None:
    huge = '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [' + ",".join(['{"names": ["read"], "action": "SCMP_ACT_ALLOW"}'] * 400_000) + "]}"
    assert len(huge) > 16 * 2**20
    with pytest.raises(DocumentTooLargeError, match="4,194,304-byte limit"):
        loads(huge)


@pytest.mark.parametrize(
    ("kwargs", "cls", "fragment"),
    [
        ({"allow": ["opnat"]}, UnknownSyscallError, "unknown syscall 'opnat' at allow[0]; did you mean 'openat'?"),
        ({"deny": ["read", "ptrac"]}, UnknownSyscallError, "at deny[1]; did you mean 'ptrace'?"),
        ({"caps": ["CAP_SYS_ADMN"]}, InvalidCapabilityError, "did you mean 'CAP_SYS_ADMIN'?"),
        ({"errno_policy": "enoent"}, InvalidActionError, "use 'eperm' or 'enosys'"),
    ],
)
def test_bad_compose_input(kwargs: dict[str, Any], cls: type[SeccomposeError], fragment: str) -> None:
    with pytest.raises(cls) as info:
        compose(arch=Arch.X86_64, runtime=None, **kwargs)
    assert fragment in str(info.value)


def test_unknown_template() -> None:
    with pytest.raises(TemplateNotFoundError, match="no template or profile file named 'ngnix'"):
        compose("ngnix", arch=Arch.X86_64, runtime=None)


def test_unknown_arch_name() -> None:
    with pytest.raises(InvalidArchError, match="did you mean 'aarch64'"):
        Arch.parse("aarch46")


def test_errors_refine_builtins() -> None:
    assert issubclass(UnknownSyscallError, LookupError)
    assert issubclass(InvalidArgumentError, ValueError)
    assert issubclass(FormatError, ValueError)

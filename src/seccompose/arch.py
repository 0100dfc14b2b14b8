"""CPU architectures as seccomp sees them.

A seccomp filter checks the architecture of every syscall before its number,
because one host serves several ABIs: an x86_64 kernel also runs i386 (``x86``)
and x32 programs, an aarch64 kernel also runs 32-bit ``arm`` ones. A profile for
a host therefore lists the host's arch and its *sub-architectures*.

>>> Arch.parse("amd64")
<Arch.X86_64: 'x86_64'>
>>> Arch.X86_64.oci
'SCMP_ARCH_X86_64'
>>> [a.value for a in Arch.X86_64.abis]
['x86_64', 'x86', 'x32']
"""

from __future__ import annotations

import enum
import os
from typing import Final

from seccompose.errors import InvalidArchError

__all__ = ["Arch", "host_arch"]


class Arch(enum.Enum):
    """A seccomp architecture; the value is libseccomp's name for it."""

    # Members are singletons compared by identity: hash them so too, in C (Enum's hash runs Python code).
    __hash__ = object.__hash__

    X86 = "x86"
    X86_64 = "x86_64"
    X32 = "x32"
    ARM = "arm"
    AARCH64 = "aarch64"
    LOONGARCH64 = "loongarch64"
    M68K = "m68k"
    MIPS = "mips"
    MIPS64 = "mips64"
    MIPS64N32 = "mips64n32"
    MIPSEL = "mipsel"
    MIPSEL64 = "mipsel64"
    MIPSEL64N32 = "mipsel64n32"
    PPC = "ppc"
    PPC64 = "ppc64"
    PPC64LE = "ppc64le"
    S390 = "s390"
    S390X = "s390x"
    SH = "sh"
    SHEB = "sheb"
    PARISC = "parisc"
    PARISC64 = "parisc64"
    RISCV64 = "riscv64"

    @property
    def oci(self) -> str:
        """The OCI runtime-spec name, e.g. ``SCMP_ARCH_AARCH64``."""
        return "SCMP_ARCH_" + self.name

    @property
    def engine(self) -> str:
        """The name Docker and Podman use in ``includes/excludes.arches`` (Go's GOARCH)."""
        return _ENGINE_NAMES.get(self, self.value)

    @property
    def sub_arches(self) -> tuple[Arch, ...]:
        """The other ABIs a host of this arch runs (x86_64: x86 and x32)."""
        return _SUB_ARCHES.get(self, ())

    @property
    def abis(self) -> tuple[Arch, ...]:
        """This arch followed by its sub-architectures: what a profile for the host lists."""
        return (self, *self.sub_arches)

    @property
    def audit(self) -> int | None:
        """The ``AUDIT_ARCH_*`` value the kernel logs as ``arch=`` in audit records."""
        return _AUDIT.get(self)

    @classmethod
    def parse(cls, text: str, *, location: str | None = None) -> Arch:
        """Return the arch named by an OCI, libseccomp, Go or ``uname -m`` name.

        Raises:
            InvalidArchError: the name is not an architecture seccomp knows.

        >>> Arch.parse("SCMP_ARCH_AARCH64"), Arch.parse("arm64"), Arch.parse("i386")
        (<Arch.AARCH64: 'aarch64'>, <Arch.AARCH64: 'aarch64'>, <Arch.X86: 'x86'>)
        """
        found = _BY_NAME.get(text.strip().lower()) if isinstance(text, str) else None
        if found is None:
            raise InvalidArchError(str(text), location=location, choices=[a.value for a in _TABLED])
        return found

    @classmethod
    def from_audit(cls, value: int) -> Arch | None:
        """Return the arch of an audit ``arch=`` value, or None if unknown.

        >>> Arch.from_audit(0xC000003E)
        <Arch.X86_64: 'x86_64'>
        """
        return _BY_AUDIT.get(value)


def host_arch() -> Arch:
    """Return the arch of the machine this runs on.

    Raises:
        InvalidArchError: the machine's arch is not one seccomp knows.
    """
    return Arch.parse(os.uname().machine)  # platform.machine() is the same, and platform costs ~1 ms to import


_SUB_ARCHES: Final = {
    Arch.X86_64: (Arch.X86, Arch.X32),
    Arch.AARCH64: (Arch.ARM,),
    Arch.MIPS64: (Arch.MIPS, Arch.MIPS64N32),
    Arch.MIPS64N32: (Arch.MIPS, Arch.MIPS64),
    Arch.MIPSEL64: (Arch.MIPSEL, Arch.MIPSEL64N32),
    Arch.MIPSEL64N32: (Arch.MIPSEL, Arch.MIPSEL64),
    Arch.S390X: (Arch.S390,),
    Arch.RISCV64: (),
}

# Go's GOARCH names, as the engines write them inside includes/excludes.arches.
_ENGINE_NAMES: Final = {
    Arch.X86: "x86",
    Arch.X86_64: "amd64",
    Arch.AARCH64: "arm64",
    Arch.LOONGARCH64: "loong64",
    Arch.MIPSEL: "mipsle",
    Arch.MIPSEL64: "mips64le",
    Arch.MIPSEL64N32: "mips64len32",
}

_AUDIT: Final = {
    Arch.X86_64: 0xC000003E,
    Arch.X86: 0x40000003,
    Arch.X32: 0xC000003E,  # x32 shares x86_64's audit arch; numbers carry bit 30
    Arch.AARCH64: 0xC00000B7,
    Arch.ARM: 0x40000028,
}
_BY_AUDIT: Final = {v: a for a, v in _AUDIT.items() if a is not Arch.X32}

_TABLED: Final = (Arch.X86_64, Arch.AARCH64, Arch.X86, Arch.X32, Arch.ARM)

_BY_NAME: Final[dict[str, Arch]] = {}
for _a in Arch:
    _BY_NAME[_a.value] = _a
    _BY_NAME[_a.oci.lower()] = _a
_BY_NAME.update(
    {
        "amd64": Arch.X86_64,
        "x86-64": Arch.X86_64,
        "arm64": Arch.AARCH64,
        "i386": Arch.X86,
        "i686": Arch.X86,
        "386": Arch.X86,
        "armhf": Arch.ARM,
        "armv7l": Arch.ARM,
        "loong64": Arch.LOONGARCH64,
        "mipsle": Arch.MIPSEL,
        "mips64le": Arch.MIPSEL64,
        "mips64len32": Arch.MIPSEL64N32,
    }
)

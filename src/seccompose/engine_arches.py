"""What each engine calls the host's arch: Docker's and Podman's lookup tables, kept once.

Docker maps ``runtime.GOARCH`` through its ``goToNative`` table: the name ``includes/excludes.arches``
are compared with (so loong64 becomes ``loongarch64``, mips64p32le ``mips3l64n32``); an arch Go does
not build for has no name (``""``) and matches no list. Its ``nativeToSeccomp`` says which ``archMap``
entry is expanded. Docker 20.10's tables have no loong64 and riscv64. Podman asks libseccomp-golang
for the native name, and containers/common's ``nativeToSeccomp`` knows fewer hosts.

>>> engine_arch_name("docker", Arch.X86_64), engine_arch_name("podman", Arch.LOONGARCH64)
('amd64', 'loong64')
>>> archmap_key("docker", Arch.AARCH64), archmap_key("podman", Arch.PPC64LE)
(<Arch.AARCH64: 'aarch64'>, None)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from seccompose.arch import Arch

if TYPE_CHECKING:
    from seccompose.engines import Engine

__all__ = ["archmap_key", "engine_arch_name"]

_DOCKER_NATIVE: Final[dict[Arch, str]] = {
    Arch.X86: "x86", Arch.X86_64: "amd64", Arch.ARM: "arm", Arch.AARCH64: "arm64", Arch.LOONGARCH64: "loongarch64",
    Arch.MIPS64: "mips64", Arch.MIPS64N32: "mips64n32", Arch.MIPSEL64: "mipsel64", Arch.MIPSEL64N32: "mips3l64n32",
    Arch.MIPSEL: "mipsel", Arch.PPC: "ppc", Arch.PPC64: "ppc64", Arch.PPC64LE: "ppc64le", Arch.RISCV64: "riscv64",
    Arch.S390: "s390", Arch.S390X: "s390x",
}  # fmt: skip
# "loongarch64" and "mipsel" are no keys of nativeToSeccomp (moby spells them "loong64", "mipsle").
_DOCKER_ARCHMAP: Final = frozenset(a for a in _DOCKER_NATIVE if a not in (Arch.LOONGARCH64, Arch.MIPSEL))
_DOCKER_20_NATIVE: Final[dict[Arch, str]] = {
    a: n for a, n in _DOCKER_NATIVE.items() if a not in (Arch.LOONGARCH64, Arch.RISCV64)
}
_DOCKER_20_ARCHMAP: Final = frozenset(a for a in _DOCKER_20_NATIVE if a is not Arch.MIPSEL)
_PODMAN_RENAMED: Final = {Arch.X86_64: "amd64", Arch.AARCH64: "arm64", Arch.LOONGARCH64: "loong64"}
_PODMAN_NATIVE: Final[dict[Arch, str]] = {a: _PODMAN_RENAMED.get(a, a.value) for a in Arch}
_PODMAN_ARCHMAP: Final = frozenset(
    {Arch.X86_64, Arch.AARCH64, Arch.MIPS64, Arch.MIPS64N32, Arch.MIPSEL64, Arch.MIPSEL64N32, Arch.S390X}
)
_NATIVE: Final[dict[str, dict[Arch, str]]] = {
    "docker": _DOCKER_NATIVE, "docker-20.10": _DOCKER_20_NATIVE, "podman": _PODMAN_NATIVE,
}  # fmt: skip
_ARCHMAP: Final[dict[str, frozenset[Arch]]] = {
    "docker": _DOCKER_ARCHMAP, "docker-20.10": _DOCKER_20_ARCHMAP, "podman": _PODMAN_ARCHMAP,
}  # fmt: skip


def engine_arch_name(engine: Engine, arch: Arch) -> str:
    """Return the name ``engine`` compares ``includes/excludes.arches`` with on an ``arch`` host ("": none).

    >>> engine_arch_name("docker", Arch.X86_64), engine_arch_name("docker-20.10", Arch.RISCV64)
    ('amd64', '')
    """
    return _NATIVE[engine].get(arch, "")


def archmap_key(engine: Engine, arch: Arch) -> Arch | None:
    """Return the ``archMap`` entry ``engine`` expands on an ``arch`` host (None: no architectures)."""
    return arch if arch in _ARCHMAP[engine] else None

"""Render a Docker or Podman profile for one container, exactly as the engine does.

Given the container's host arch, bounding capability set and host kernel, Docker
(moby/profiles ``seccomp/seccomp_linux.go``, ``setupSeccomp``) and Podman
(containers/common ``pkg/seccomp/seccomp_linux.go``) turn a conditional profile into
the OCI ``linux.seccomp`` object they hand to runc or crun. :func:`render` returns that
object as a dict whose keys, key order, rule order, name order, and field presence are
the engine's (Go's ``encoding/json`` of ``specs.LinuxSeccomp``):

- ``architectures`` from the document, or from the ``archMap`` entry of the host's arch
  (``[architecture] + subArchitectures``; no entry: no ``architectures`` at all);
- each rule in order, dropped when the host arch is in ``excludes.arches``, **any** of
  ``excludes.caps`` is in the bounding set, (Docker) the kernel is at least
  ``excludes.minKernel``, the host arch is not in a non-empty ``includes.arches``, **any**
  of ``includes.caps`` is missing, or (Docker) the kernel is below ``includes.minKernel``;
  kernels compare by major.minor;
- survivors keep ``names`` (``name`` becomes a one-item list) unsorted and with duplicates,
  ``action``, ``errnoRet`` when given, ``args`` when non-empty (``valueTwo`` when non-zero);
- Podman reads ``errno`` / ``defaultErrno`` names and ignores ``minKernel``.

>>> doc = {"defaultAction": "SCMP_ACT_ERRNO", "archMap": [
...     {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
...     "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
...                  {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}},
...                  {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}}]}
>>> render(doc, arch=Arch.X86_64, caps=[], kernel="4.4")
{'defaultAction': 'SCMP_ACT_ERRNO', 'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
 'syscalls': [{'names': ['read', 'write'], 'action': 'SCMP_ACT_ALLOW'}]}
>>> out = render(doc, engine="podman", arch=Arch.X86_64, caps=["CAP_SYS_ADMIN"], kernel="4.4")
>>> [r["names"] for r in out["syscalls"]]
[['read', 'write'], ['ptrace'], ['mount']]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from seccompose.arch import Arch, host_arch
from seccompose.caps import DOCKER_DEFAULT_CAPABILITIES, Capability, parse_capabilities
from seccompose.engine_arches import archmap_key, engine_arch_name
from seccompose.engines import engine_document, parse_engine, setup
from seccompose.errors import UnconfinedProfileError
from seccompose.formats.docker_profile import (
    DockerProfile,
    Engine,
    Syscall,
    check_engine,
)
from seccompose.kernel import KernelVersion, kernel_version

__all__ = ["archmap_key", "engine_arch_name", "engine_document", "kept", "kernel_version", "render"]


@dataclass(frozen=True, slots=True)
class _Host:
    engine: Engine
    native: str
    bounding: frozenset[str]
    kernel: KernelVersion

    def drops(self, rule: Syscall) -> bool:
        # The order of the engines' checks; only the verdict matters since the document is valid.
        docker = self.engine != "podman"
        exc, inc = rule.excludes, rule.includes
        if exc is not None and (
            (exc.arches and self.native in exc.arches)
            or any(c in self.bounding for c in exc.caps)
            or (docker and exc.min_kernel is not None and exc.min_kernel <= self.kernel)
        ):
            return True
        return inc is not None and bool(
            (inc.arches and self.native not in inc.arches)
            or any(c not in self.bounding for c in inc.caps)
            or (docker and inc.min_kernel is not None and self.kernel < inc.min_kernel)
        )


def kept(
    profile: DockerProfile,
    *,
    engine: Engine = "docker",
    arch: Arch,
    caps: Iterable[Capability | str],
    kernel: str | KernelVersion,
) -> tuple[int, ...]:
    """Return the indexes of the document's rules that the engine keeps for this container.

    >>> from seccompose.formats.docker_profile import parse_docker_profile
    >>> doc = parse_docker_profile({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
    ...     {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
    ...     {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}}]})
    >>> kept(doc, arch=Arch.AARCH64, caps=["CAP_SYS_ADMIN"], kernel="6.1")
    (1,)
    """
    engine = check_engine(engine)
    host = _Host(engine, engine_arch_name(engine, arch), frozenset(_cap_names(caps)), kernel_version(kernel))
    return tuple(i for i, rule in enumerate(profile.syscalls) if not host.drops(rule))


def _cap_names(caps: Iterable[Capability | str]) -> list[str]:
    names = []
    strings = []
    for cap in caps:
        if isinstance(cap, Capability):
            names.append(cap.name)
        else:
            strings.append(cap)
    names.extend(c.name for c in parse_capabilities(strings))
    return names


def render(
    profile: DockerProfile | Mapping[str, Any] | str | bytes,
    *,
    engine: str = "docker",
    arch: Arch | None = None,
    caps: Iterable[Capability | str] | None = None,
    kernel: str | KernelVersion | None = None,
) -> dict[str, Any]:
    """Return the OCI ``linux.seccomp`` object ``engine`` gives the runtime for this container.

    Whatever the engine accepts is accepted, and turned into exactly what it writes
    (:mod:`seccompose.engines`): keys in another case, ``null``, a rule without names, an
    unknown action passed on, and so on; what it refuses is refused with its reason.

    Args:
        profile: a parsed :class:`DockerProfile`, or its JSON text / decoded dict.
        engine: ``"docker"`` (Docker 23+), ``"docker-20.10"``, ``"podman"``, or a name with a
            version (``docker-24.0``, ``podman-4.3``).
        arch: the host's arch (default: this machine's).
        caps: the container's bounding capabilities (default: Docker's 14).
        kernel: the host kernel, ``"X.Y"`` or a release string (default: the running one).

    Raises:
        EngineRefusedError: the engine refuses the profile (or crashes on it).
        UnconfinedProfileError: the engine reads it as "seccomp disabled" (no defaultAction, no
            syscalls): the container would run without a filter.
        SeccomposeError: the text is not JSON (see ``docs/reference/inputs.md``), or the engine
            name or kernel is unknown.

    >>> out = render('{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrno": "ENOSYS", "syscalls": ['
    ...              '{"names": ["acct"], "action": "SCMP_ACT_ERRNO", "errno": "EPERM"}]}',
    ...              engine="podman", arch=Arch.AARCH64, kernel="6.18")
    >>> out
    {'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 38,
     'syscalls': [{'names': ['acct'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1}]}
    """
    reading = parse_engine(engine, location="engine")
    out = setup(
        engine_document(profile, engine=reading),
        engine=reading,
        arch=host_arch() if arch is None else arch,
        caps=_cap_names(DOCKER_DEFAULT_CAPABILITIES if caps is None else caps),
        kernel=_major_minor(kernel_version(kernel)),
    )
    if out is None:
        raise UnconfinedProfileError(reading)
    return out


def _major_minor(version: KernelVersion) -> tuple[int, int]:
    return (version.major, version.minor)

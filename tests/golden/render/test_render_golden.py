"""Golden tests: the four engine profiles, rendered as Docker and as Podman would.

The expectations are worked out by hand from the engines' code (moby/profiles
``seccomp/seccomp_linux.go`` ``setupSeccomp``; containers/common
``pkg/seccomp/seccomp_linux.go``), not from seccompose's output: for each source file,
every rule index gets a hand-written decision (with the reason) for the axes that can
change it — host arch (x86_64 → Docker/Podman name "amd64", aarch64 → "arm64"), whether
CAP_SYS_ADMIN is added to Docker's 14 default capabilities, the kernel (4.4 or 6.18), and
the engine (Podman ignores minKernel). The expected output is then the source rules at the
kept indexes, converted the way the engines' Go structs marshal them (``_oci_rule`` below,
written from the ``specs.LinuxSyscall`` / ``specs.LinuxSeccompArg`` JSON tags), with the
architectures written out literally. Every rendered object is also checked against the
OCI runtime-spec JSON Schema.
"""

from __future__ import annotations

import errno
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from seccompose.arch import Arch
from seccompose.caps import DOCKER_DEFAULT_CAPABILITIES, Capability
from seccompose.formats.docker_profile import load_docker_profile
from seccompose.render import render

PROFILES = Path(__file__).parents[2] / "fixtures" / "reference" / "profiles"
MOBY = "docker-default-moby-profiles-cd3bed8.json"
DOCKER_20 = "docker-default-20.10.24.json"
PODMAN_050 = "podman-default-0.50.1.json"
PODMAN_F437 = "podman-default-containers-common-f437c58.json"


class Case(NamedTuple):
    engine: str
    arch: Arch
    sys_admin: bool
    kernel: str


Decision = Callable[[Case], bool]


def always(_: Case) -> bool:
    return True


def never(_: Case) -> bool:
    return False


def on_x86_64(c: Case) -> bool:
    return c.arch is Arch.X86_64


def on_aarch64(c: Case) -> bool:
    return c.arch is Arch.AARCH64


def with_sys_admin(c: Case) -> bool:
    return c.sys_admin


def without_sys_admin(c: Case) -> bool:
    return not c.sys_admin


def min_kernel_4_8(c: Case) -> bool:
    # includes.minKernel "4.8": Docker keeps the rule when the kernel is >= 4.8 (6.18 yes, 4.4 no);
    # Podman's Filter has no minKernel field, so it always keeps it.
    return c.engine == "podman" or c.kernel == "6.18"


# Default capabilities: CHOWN DAC_OVERRIDE FSETID FOWNER MKNOD NET_RAW SETGID SETUID SETFCAP SETPCAP
# NET_BIND_SERVICE SYS_CHROOT KILL AUDIT_WRITE. Note SYS_CHROOT and AUDIT_WRITE are among them.
DECISIONS: dict[str, dict[int, Decision]] = {
    MOBY: {
        0: always,  # the big allow list: no conditions
        1: min_kernel_4_8,  # process_vm_readv/writev, ptrace: includes.minKernel 4.8
        2: always,  # socket args: no conditions
        3: always,
        4: always,
        5: always,  # personality(0), (8), (0x20000), (0x20008), (0xffffffff): no conditions
        6: always,
        7: always,
        8: always,
        9: always,
        10: never,  # includes.arches [ppc64le]: neither amd64 nor arm64
        11: on_aarch64,  # includes.arches [arm, arm64]: arm64 host only
        12: on_x86_64,  # includes.arches [amd64, x32]: amd64 host only
        13: on_x86_64,  # includes.arches [amd64, x32, x86]
        14: never,  # includes.arches [s390, s390x]
        15: never,  # includes.arches [riscv64]
        16: never,  # includes.caps [CAP_DAC_READ_SEARCH]: not in the set, even with SYS_ADMIN
        17: with_sys_admin,  # includes.caps [CAP_SYS_ADMIN]
        18: without_sys_admin,  # clone masked: excludes.caps [CAP_SYS_ADMIN]; excludes.arches s390 not us
        19: never,  # s390 clone: includes.arches [s390, s390x]
        20: without_sys_admin,  # clone3 ENOSYS: excludes.caps [CAP_SYS_ADMIN]
        21: never,  # CAP_SYS_BOOT
        22: always,  # includes.caps [CAP_SYS_CHROOT]: one of the 14 defaults
        23: never,  # CAP_SYS_MODULE
        24: never,  # CAP_SYS_PACCT
        25: never,  # CAP_SYS_PTRACE
        26: never,  # CAP_SYS_RAWIO
        27: never,  # CAP_SYS_TIME
        28: never,  # CAP_SYS_TTY_CONFIG
        29: never,  # CAP_SYS_NICE
        30: never,  # CAP_SYSLOG
        31: never,  # CAP_BPF
        32: never,  # CAP_PERFMON
    },
    DOCKER_20: {
        0: always,  # the allow list
        1: min_kernel_4_8,  # ptrace: includes.minKernel 4.8
        2: always,  # personality x5: no conditions
        3: always,
        4: always,
        5: always,
        6: always,
        7: never,  # [ppc64le]
        8: on_aarch64,  # [arm, arm64]
        9: on_x86_64,  # [amd64, x32]
        10: on_x86_64,  # [amd64, x32, x86]
        11: never,  # [s390, s390x]
        12: never,  # CAP_DAC_READ_SEARCH
        13: with_sys_admin,  # CAP_SYS_ADMIN
        14: without_sys_admin,  # clone masked: excludes.caps SYS_ADMIN (excludes.arches s390 not us)
        15: never,  # s390 clone: includes.arches s390
        16: without_sys_admin,  # clone3 ENOSYS: excludes.caps SYS_ADMIN; excluded arches are mips ones only
        17: never,  # clone3 errno 89: includes.arches mips only
        18: never,  # CAP_SYS_BOOT
        19: always,  # CAP_SYS_CHROOT: a default
        20: never,  # CAP_SYS_MODULE
        21: never,  # CAP_SYS_PACCT
        22: never,  # CAP_SYS_PTRACE
        23: never,  # CAP_SYS_RAWIO
        24: never,  # CAP_SYS_TIME
        25: never,  # CAP_SYS_TTY_CONFIG
        26: never,  # CAP_SYS_NICE
        27: never,  # CAP_SYSLOG
    },
    PODMAN_050: {
        0: always,  # EPERM list: no conditions
        1: always,  # the allow list
        2: always,  # personality x5
        3: always,
        4: always,
        5: always,
        6: always,
        7: never,  # [ppc64le]
        8: on_aarch64,  # [arm, arm64]
        9: on_x86_64,  # [amd64, x32]
        10: on_x86_64,  # [amd64, x32, x86]
        11: never,  # [s390, s390x]
        12: never,  # includes CAP_DAC_READ_SEARCH: not held
        13: always,  # excludes CAP_DAC_READ_SEARCH: not held, so kept
        14: with_sys_admin,  # includes CAP_SYS_ADMIN
        15: without_sys_admin,  # excludes CAP_SYS_ADMIN
        16: always,  # includes CAP_SYS_CHROOT: a default
        17: never,  # excludes CAP_SYS_CHROOT: held, so dropped
        18: never,  # includes CAP_SYS_MODULE
        19: always,  # excludes CAP_SYS_MODULE
        20: never,  # includes CAP_SYS_PACCT
        21: always,  # excludes CAP_SYS_PACCT
        22: never,  # includes CAP_SYS_PTRACE
        23: always,  # excludes CAP_SYS_PTRACE
        24: never,  # includes CAP_SYS_RAWIO
        25: always,  # excludes CAP_SYS_RAWIO
        26: never,  # includes CAP_SYS_TIME
        27: always,  # excludes CAP_SYS_TIME
        28: never,  # includes CAP_SYS_TTY_CONFIG
        29: always,  # excludes CAP_SYS_TTY_CONFIG
        30: never,  # socket EINVAL: excludes CAP_AUDIT_WRITE, a default, so dropped
        31: never,  # socket args: excludes CAP_AUDIT_WRITE
        32: never,
        33: never,
        34: always,  # socket: includes CAP_AUDIT_WRITE
    },
    PODMAN_F437: {
        0: always,  # EPERM list
        1: always,  # allow list
        2: always,  # personality x5
        3: always,
        4: always,
        5: always,
        6: always,
        7: never,  # [ppc64le]
        8: on_aarch64,  # [arm, arm64]
        9: on_x86_64,  # [amd64, x32]
        10: on_x86_64,  # [amd64, x32, x86]
        11: never,  # [s390, s390x]
        12: never,  # [riscv64]
        13: never,  # includes CAP_DAC_READ_SEARCH
        14: always,  # excludes CAP_DAC_READ_SEARCH
        15: with_sys_admin,  # includes CAP_SYS_ADMIN
        16: without_sys_admin,  # excludes CAP_SYS_ADMIN
        17: always,  # includes CAP_SYS_CHROOT
        18: never,  # excludes CAP_SYS_CHROOT
        19: never,  # includes CAP_SYS_MODULE
        20: always,  # excludes CAP_SYS_MODULE
        21: never,  # includes CAP_SYS_PACCT
        22: always,  # excludes CAP_SYS_PACCT
        23: never,  # includes CAP_SYS_PTRACE
        24: always,  # excludes CAP_SYS_PTRACE
        25: never,  # includes CAP_SYS_RAWIO
        26: always,  # excludes CAP_SYS_RAWIO
        27: never,  # includes CAP_SYS_TIME
        28: always,  # excludes CAP_SYS_TIME
        29: never,  # includes CAP_SYS_TTY_CONFIG
        30: always,  # excludes CAP_SYS_TTY_CONFIG
        31: never,  # socket EINVAL: excludes CAP_AUDIT_WRITE (a default)
        32: never,  # excludes CAP_AUDIT_WRITE
        33: never,
        34: never,
        35: always,  # includes CAP_AUDIT_WRITE
        36: without_sys_admin,  # bpf EPERM: excludes [CAP_SYS_ADMIN, CAP_BPF], any held drops; BPF never held
        37: never,  # includes CAP_BPF
        38: without_sys_admin,  # perf_event_open EPERM: excludes [CAP_SYS_ADMIN, CAP_BPF]
        39: never,  # includes CAP_PERFMON
    },
}

# Four corners written out in full, as a cross-check of the decision tables above.
SPOT_CHECKS: dict[tuple[str, Case], list[int]] = {
    (MOBY, Case("docker", Arch.X86_64, sys_admin=False, kernel="6.18")): [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 18, 20, 22],
    (MOBY, Case("docker", Arch.AARCH64, sys_admin=True, kernel="4.4")): [0, 2, 3, 4, 5, 6, 7, 8, 9, 11, 17, 22],
    (DOCKER_20, Case("podman", Arch.AARCH64, sys_admin=False, kernel="4.4")): [0, 1, 2, 3, 4, 5, 6, 8, 14, 16, 19],
    (PODMAN_F437, Case("podman", Arch.X86_64, sys_admin=True, kernel="6.18")): [
        0, 1, 2, 3, 4, 5, 6, 9, 10, 14, 15, 17, 20, 22, 24, 26, 28, 30, 35,
    ],
}  # fmt: skip

ARCHITECTURES = {
    # archMap entry of the host: [architecture] + subArchitectures, in the file's order.
    Arch.X86_64: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    Arch.AARCH64: ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
}
DEFAULT_ERRNO = {MOBY: 1, DOCKER_20: None, PODMAN_050: 38, PODMAN_F437: 38}  # from each file's top


def _oci_rule(src: dict[str, Any], engine: str) -> dict[str, Any]:
    """A source rule as specs.LinuxSyscall marshals: names, action, errnoRet?, args? (valueTwo?)."""
    out: dict[str, Any] = {"names": src["names"] if src.get("names") else [src["name"]], "action": src["action"]}
    errno_ret = src.get("errnoRet")
    if engine == "podman" and src.get("errno"):
        errno_ret = getattr(errno, src["errno"])  # Podman resolves the name and it wins
    if errno_ret is not None:
        out["errnoRet"] = errno_ret
    if src.get("args"):
        out["args"] = [
            {"index": a["index"], "value": a["value"], **({"valueTwo": a["valueTwo"]} if a.get("valueTwo") else {}),
             "op": a["op"]}
            for a in src["args"]
        ]  # fmt: skip
    return out


CASES = [
    (name, Case(engine, arch, sys_admin, kernel))
    for name in DECISIONS
    for engine, arch, sys_admin, kernel in itertools.product(
        ("docker", "podman"), (Arch.X86_64, Arch.AARCH64), (False, True), ("4.4", "6.18")
    )
]


def _expected_indexes(name: str, case: Case) -> list[int]:
    return [i for i, decide in sorted(DECISIONS[name].items()) if decide(case)]


def test_decision_tables_cover_every_rule() -> None:
    for name, table in DECISIONS.items():
        source = json.loads((PROFILES / name).read_text(encoding="utf-8"))
        assert sorted(table) == list(range(len(source["syscalls"]))), name


@pytest.mark.parametrize(("name", "case"), list(SPOT_CHECKS))
def test_spot_checks_agree_with_tables(name: str, case: Case) -> None:
    assert _expected_indexes(name, case) == SPOT_CHECKS[name, case]


@pytest.mark.parametrize(("name", "case"), CASES, ids=lambda v: v if isinstance(v, str) else "-".join(map(str, v)))
def test_render_matches_hand_derivation(name: str, case: Case, validate_oci: Any) -> None:
    source = json.loads((PROFILES / name).read_text(encoding="utf-8"))
    caps = set(DOCKER_DEFAULT_CAPABILITIES) | ({Capability("CAP_SYS_ADMIN")} if case.sys_admin else set())
    doc = load_docker_profile(PROFILES / name, engine=case.engine)  # type: ignore[arg-type]
    got = render(doc, engine=case.engine, arch=case.arch, caps=caps, kernel=case.kernel)

    expected: dict[str, Any] = {"defaultAction": "SCMP_ACT_ERRNO"}
    if DEFAULT_ERRNO[name] is not None:
        expected["defaultErrnoRet"] = DEFAULT_ERRNO[name]
    expected["architectures"] = ARCHITECTURES[case.arch]
    expected["syscalls"] = [_oci_rule(source["syscalls"][i], case.engine) for i in _expected_indexes(name, case)]
    # json.dumps compares key order too: the engines' Go structs fix it.
    assert json.dumps(got) == json.dumps(expected)
    validate_oci(got)

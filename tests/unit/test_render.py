"""render(): each rule of the engines' setupSeccomp, one small document at a time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from seccompose.arch import Arch
from seccompose.caps import DOCKER_DEFAULT_CAPABILITIES
from seccompose.cli import main
from seccompose.errors import FormatError, InvalidEngineError
from seccompose.formats.docker_profile import KernelVersion, parse_docker_profile
from seccompose.render import archmap_key, engine_arch_name, kept, kernel_version, render

PROFILES = Path(__file__).parents[1] / "fixtures" / "reference" / "profiles"
ALLOW = "SCMP_ACT_ALLOW"


def _doc(*rules: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"defaultAction": "SCMP_ACT_ERRNO", **top, "syscalls": list(rules)}


def _rule(name: str, **extra: Any) -> dict[str, Any]:
    return {"names": [name], "action": ALLOW, **extra}


def _names(out: dict[str, Any]) -> list[str]:
    return [n for r in out.get("syscalls", []) for n in r["names"]]


def _render(doc: dict[str, Any], **kw: Any) -> dict[str, Any]:
    kw.setdefault("arch", Arch.X86_64)
    kw.setdefault("caps", DOCKER_DEFAULT_CAPABILITIES)
    kw.setdefault("kernel", "6.18")
    return render(doc, **kw)


# --- capabilities ---------------------------------------------------------------------------------

CAPS_DOC = _doc(
    _rule("both", includes={"caps": ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"]}),
    _rule("not_either", excludes={"caps": ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"]}),
)


@pytest.mark.parametrize("engine", ["docker", "podman"])
@pytest.mark.parametrize(
    ("caps", "names"),
    [
        ([], ["not_either"]),
        (["CAP_SYS_ADMIN"], []),  # includes needs all: one is not enough; excludes drops on any one
        (["CAP_NET_ADMIN"], []),
        (["CAP_SYS_ADMIN", "CAP_NET_ADMIN"], ["both"]),
    ],
)
def test_includes_caps_needs_all_excludes_caps_any(engine: str, caps: list[str], names: list[str]) -> None:
    assert _names(_render(CAPS_DOC, engine=engine, caps=caps)) == names


def test_caps_accept_short_names() -> None:
    assert _names(_render(CAPS_DOC, caps=["sys_admin", "net_admin"])) == ["both"]


# --- architectures --------------------------------------------------------------------------------

ARCH_MAP = [
    {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
    {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]},  # a second entry: never used
    {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": None},
    {"architecture": "SCMP_ARCH_PPC64LE", "subArchitectures": ["SCMP_ARCH_PPC64"]},
    {"architecture": "SCMP_ARCH_LOONGARCH64"},
]


@pytest.mark.parametrize(
    ("engine", "arch", "architectures"),
    [
        ("docker", Arch.X86_64, ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]),  # the first entry only
        ("docker", Arch.AARCH64, ["SCMP_ARCH_AARCH64"]),
        ("docker", Arch.PPC64LE, ["SCMP_ARCH_PPC64LE", "SCMP_ARCH_PPC64"]),
        ("docker", Arch.LOONGARCH64, None),  # moby maps loong64 to "loongarch64", not a nativeToSeccomp key
        ("docker", Arch.S390X, None),  # no entry for the host: no architectures at all
        ("podman", Arch.X86_64, ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]),
        ("podman", Arch.PPC64LE, None),  # containers/common's nativeToSeccomp has no ppc64le
        ("podman", Arch.LOONGARCH64, None),
    ],
)
def test_arch_map_expands_only_the_host_entry(engine: str, arch: Arch, architectures: list[str] | None) -> None:
    out = _render(_doc(_rule("read"), archMap=ARCH_MAP), engine=engine, arch=arch)
    assert out.get("architectures") == architectures


def test_architectures_pass_through_unchanged() -> None:
    arches = ["SCMP_ARCH_AARCH64", "SCMP_ARCH_X86", "SCMP_ARCH_AARCH64"]
    for engine in ("docker", "podman"):
        assert _render(_doc(architectures=arches), engine=engine)["architectures"] == arches


@pytest.mark.parametrize(
    ("engine", "arch", "name"),
    [
        ("docker", Arch.X86_64, "amd64"),
        ("docker", Arch.AARCH64, "arm64"),
        ("docker", Arch.X86, "x86"),
        ("docker", Arch.LOONGARCH64, "loongarch64"),
        ("docker", Arch.MIPSEL64N32, "mips3l64n32"),
        ("docker", Arch.X32, ""),  # Go has no x32 port: the name is empty and matches nothing
        ("podman", Arch.LOONGARCH64, "loong64"),
        ("podman", Arch.X32, "x32"),
        ("podman", Arch.MIPSEL64N32, "mipsel64n32"),
    ],
)
def test_engine_arch_names(engine: str, arch: Arch, name: str) -> None:
    assert engine_arch_name(engine, arch) == name  # type: ignore[arg-type]


def test_includes_and_excludes_arches_use_engine_names() -> None:
    doc = _doc(
        _rule("on_amd64", includes={"arches": ["amd64", "x32"]}),
        _rule("not_on_arm64", excludes={"arches": ["arm64"]}),
        _rule("on_loong", includes={"arches": ["loong64"]}),
    )
    assert _names(_render(doc, arch=Arch.X86_64)) == ["on_amd64", "not_on_arm64"]
    assert _names(_render(doc, arch=Arch.AARCH64)) == []
    assert _names(_render(doc, arch=Arch.LOONGARCH64, engine="podman")) == ["not_on_arm64", "on_loong"]
    # Docker calls that host "loongarch64", so the rule written for "loong64" is not kept.
    assert _names(_render(doc, arch=Arch.LOONGARCH64, engine="docker")) == ["not_on_arm64"]


def test_archmap_key() -> None:
    assert archmap_key("docker", Arch.X86_64) is Arch.X86_64
    assert archmap_key("podman", Arch.RISCV64) is None


# --- kernel ------------------------------------------------------------------------------------

KERNEL_DOC = _doc(_rule("new", includes={"minKernel": "4.10"}), _rule("old", excludes={"minKernel": "4.10"}))


@pytest.mark.parametrize(
    ("kernel", "names"),
    [
        ("4.9", ["old"]),
        ("4.10", ["new"]),  # includes keeps at >=, excludes drops at >=
        ("4.10.0-rc1", ["new"]),
        ("4.8", ["old"]),  # numbers, not strings: 4.8 < 4.10
        ("5.0", ["new"]),
        ("6.18.44-1-cloud-amd64", ["new"]),
    ],
)
def test_docker_min_kernel_compares_major_minor(kernel: str, names: list[str]) -> None:
    assert _names(_render(KERNEL_DOC, kernel=kernel)) == names


def test_podman_ignores_min_kernel() -> None:
    for kernel in ("3.10", "6.18"):
        assert _names(_render(KERNEL_DOC, engine="podman", kernel=kernel)) == ["new", "old"]


def test_empty_min_kernel_is_always_satisfied() -> None:
    # moby leaves a zero KernelVersion for "", so every kernel is >= it.
    doc = _doc(_rule("kept", includes={"minKernel": ""}), _rule("dropped", excludes={"minKernel": ""}))
    assert _names(_render(doc, kernel="2.6")) == ["kept"]


def test_parse_kernel() -> None:
    assert kernel_version("6.18") == KernelVersion(major=6, minor=18)
    assert kernel_version(None).major >= 2  # the running kernel
    with pytest.raises(FormatError, match="at --kernel"):
        kernel_version("six", location="--kernel")


# --- what a kept rule looks like -------------------------------------------------------------------


def test_rule_fields_as_go_marshals_them() -> None:
    doc = _doc(
        {"names": ["write", "read", "write"], "action": ALLOW, "comment": "unsorted, duplicated", "args": []},
        {
            "name": "clone",
            "action": ALLOW,
            "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
        },
        {
            "names": ["mmap"],
            "action": ALLOW,
            "args": [{"op": "SCMP_CMP_MASKED_EQ", "valueTwo": 4, "value": 6, "index": 2}],
        },
        {"names": ["acct"], "action": "SCMP_ACT_ERRNO", "errnoRet": 0},
        {"names": ["kill"], "action": "SCMP_ACT_ERRNO"},
    )
    assert json.dumps(_render(doc)["syscalls"]) == json.dumps(
        [
            {"names": ["write", "read", "write"], "action": ALLOW},
            {
                "names": ["clone"],
                "action": ALLOW,
                "args": [{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}],
            },
            {
                "names": ["mmap"],
                "action": ALLOW,
                "args": [{"index": 2, "value": 6, "valueTwo": 4, "op": "SCMP_CMP_MASKED_EQ"}],
            },
            {"names": ["acct"], "action": "SCMP_ACT_ERRNO", "errnoRet": 0},  # a pointer: 0 is kept
            {"names": ["kill"], "action": "SCMP_ACT_ERRNO"},
        ]
    )


def test_top_level_fields_and_order() -> None:
    doc = {
        "syscalls": [_rule("read", action="SCMP_ACT_NOTIFY")],
        "listenerMetadata": "meta",
        "listenerPath": "/run/agent.sock",
        "flags": ["SECCOMP_FILTER_FLAG_LOG"],
        "architectures": ["SCMP_ARCH_X86_64"],
        "defaultErrnoRet": 38,
        "defaultAction": "SCMP_ACT_ERRNO",
        "comment": "ignored",
    }
    for engine in ("docker", "podman"):
        out = _render(doc, engine=engine)
        assert list(out) == [
            "defaultAction",
            "defaultErrnoRet",
            "architectures",
            "flags",
            "listenerPath",
            "listenerMetadata",
            "syscalls",
        ]


def test_nothing_kept_means_no_syscalls_key() -> None:
    out = _render(_doc(_rule("mount", includes={"caps": ["CAP_SYS_ADMIN"]})))
    assert out == {"defaultAction": "SCMP_ACT_ERRNO"}


def test_errno_names_by_engine() -> None:
    doc = _doc(
        {"names": ["acct"], "action": "SCMP_ACT_ERRNO", "errno": "EPERM", "errnoRet": 1},
        defaultErrno="ENOSYS",
        defaultErrnoRet=38,
    )
    assert _render(doc, engine="docker") == _render(doc, engine="podman")
    podman_only = _doc({"names": ["acct"], "action": "SCMP_ACT_ERRNO", "errno": "EACCES"}, defaultErrno="ENOSYS")
    out = _render(podman_only, engine="podman")
    assert out["defaultErrnoRet"] == 38
    assert out["syscalls"][0]["errnoRet"] == 13


def test_parsed_profile_for_another_engine_is_read_again() -> None:
    doc = parse_docker_profile(KERNEL_DOC, engine="docker")
    assert _names(_render(doc, engine="podman", kernel="3.10")) == ["new", "old"]  # type: ignore[arg-type]


def test_kept_indexes() -> None:
    doc = parse_docker_profile(json.loads((PROFILES / "docker-default-moby-profiles-cd3bed8.json").read_text()))
    assert kept(doc, arch=Arch.AARCH64, caps=["CAP_SYS_ADMIN", "CAP_BPF"], kernel="4.4") == (
        0,
        2,
        3,
        4,
        5,
        6,
        7,
        8,
        9,
        11,
        17,
        31,
    )


def test_unknown_engine() -> None:
    with pytest.raises(InvalidEngineError):
        _render(_doc(), engine="rkt")


# --- CLI ---------------------------------------------------------------------------------------


def test_cli_prints_the_rendered_profile(capsys: pytest.CaptureFixture[str]) -> None:
    path = PROFILES / "docker-default-moby-profiles-cd3bed8.json"
    rc = main(["render", str(path), "--engine", "docker", "--arch", "arm64", "--kernel", "6.18"])
    assert rc == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == render(parse_docker_profile(path.read_text()), arch=Arch.AARCH64, kernel="6.18")
    assert printed["architectures"] == ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]


def test_cli_caps_none_and_cap_add(tmp_path: Path) -> None:
    path = PROFILES / "podman-default-containers-common-f437c58.json"
    out = tmp_path / "out.json"
    rc = main(
        [
            "render",
            str(path),
            "--engine",
            "podman",
            "--arch",
            "x86_64",
            "--caps",
            "none",
            "--cap-add",
            "SYS_ADMIN",
            "-o",
            str(out),
        ]
    )
    assert rc == 0
    got = json.loads(out.read_text())
    expected = render(
        parse_docker_profile(path.read_text(), engine="podman"),
        engine="podman",
        arch=Arch.X86_64,
        caps=["CAP_SYS_ADMIN"],
    )
    assert got == expected
    # no CAP_SYS_CHROOT: the EPERM rule for chroot is there
    assert {"names": ["chroot"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1} in got["syscalls"]


def test_cli_errors_exit_2_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    # an unknown action is passed on by the engines (issue 15): a string for names is what they refuse
    bad.write_text('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": "x", "action": "ALLOW"}]}')
    proc = subprocess.run(
        [sys.executable, "-m", "seccompose.cli", "render", str(bad), "--engine", "docker", "--arch", "x86_64"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Docker refuses the profile: json: cannot unmarshal string" in proc.stderr
    assert "at syscalls[0].names" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_requires_engine_and_arch(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        rc = main(["render", "x.json"])
    except SystemExit as exc:  # argparse's own exit, if the CLI lets it through
        rc = int(exc.code or 0)
    assert rc == 2
    assert "--engine" in capsys.readouterr().err


# --- the runtime's reading that the property tests assume ------------------------------------------


def _getppid_under(steps: list[tuple[str, bool]], arg: int) -> int:
    """Load a filter built in ``steps`` order (action, conditional on arg0 == 0) in a child; return getppid's errno."""
    import ctypes
    import os

    pyseccomp = pytest.importorskip("pyseccomp", reason="pyseccomp (the 'check' extra) is not installed")
    if Arch.parse(os.uname().machine) is not Arch.X86_64:
        pytest.skip("the syscall number below is x86_64's getppid")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 255
        try:
            flt = pyseccomp.SyscallFilter(pyseccomp.ERRNO(38))
            for name in ("exit_group", "exit", "write", "rt_sigreturn", "brk", "mmap", "munmap", "futex"):
                flt.add_rule(pyseccomp.ALLOW, name)
            for action, conditional in steps:
                act = pyseccomp.ALLOW if action == "allow" else pyseccomp.ERRNO(1)
                if conditional:
                    flt.add_rule(act, "getppid", pyseccomp.Arg(0, pyseccomp.EQ, 0))
                else:
                    flt.add_rule(act, "getppid")
            flt.load()
            libc = ctypes.CDLL(None, use_errno=True)
            ok = libc.syscall(110, arg) > 0
            code = 0 if ok else ctypes.get_errno()
        finally:
            os.write(write_end, bytes([code]))
            os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    result = os.read(read_end, 1)
    os.close(read_end)
    return result[0]


@pytest.mark.integration
@pytest.mark.parametrize(
    ("steps", "arg", "errno"),
    [
        ([("errno", False), ("allow", False)], 0, 1),  # two unconditional rules: the first wins, silently
        ([("allow", False), ("errno", False)], 0, 0),
        ([("allow", True), ("errno", False)], 0, 1),  # an unconditional rule overrides a conditional one...
        ([("errno", False), ("allow", True)], 0, 1),  # ...in either order
        ([("errno", True), ("allow", False)], 0, 0),
        ([("allow", False), ("errno", True)], 0, 0),
    ],
)
def test_libseccomp_reading_of_rule_order(steps: list[tuple[str, bool]], arg: int, errno: int) -> None:
    assert _getppid_under(steps, arg) == errno


# --- Docker 20.10 -----------------------------------------------------------------------------------


def test_docker_20_10_drops_default_errno_one() -> None:
    doc = _doc(_rule("read"), defaultErrnoRet=1, architectures=["SCMP_ARCH_X86_64"])
    assert _render(doc, engine="docker-20.10") == {
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["read"], "action": ALLOW}],
    }
    assert _render(doc, engine="docker")["defaultErrnoRet"] == 1


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"defaultErrnoRet": 38}, "defaultErrnoRet"),
        ({"flags": ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"]}, "flags"),
        ({"listenerPath": "/run/agent.sock"}, "listenerPath"),
        ({"listenerMetadata": "x"}, "listenerMetadata"),
    ],
)
def test_docker_20_10_drops_what_its_profile_type_lacks_and_says_so(extra: dict[str, Any], field: str) -> None:
    # issue 15: render gives exactly what the engine gives (Docker 20.10 drops the field), with a warning
    from seccompose.engines import ignored

    doc = _doc(_rule("read"), **extra)
    assert field not in _render(doc, engine="docker-20.10")
    assert _render(doc, engine="docker")[field] == next(iter(extra.values()))
    warnings = ignored(doc, engine="docker-20.10")
    assert len(warnings) == 1
    assert f"Docker 20.10 ignores {field}" in warnings[0]
    assert ignored(doc, engine="docker") == ()


def test_docker_20_10_keeps_rule_errno_and_min_kernel() -> None:
    doc = _doc(
        {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
        _rule("ptrace", includes={"minKernel": "4.8"}),
    )
    assert _render(doc, engine="docker-20.10", kernel="4.4") == {
        "defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [{"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}],
    }

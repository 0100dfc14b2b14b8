"""Capabilities as data: the list, `since`, the docker and kernel capability maps, the `caps` CLI."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from seccompose.arch import Arch
from seccompose.caps import (
    Capability,
    all_capabilities,
    load_capability_map,
    parse_capabilities,
)
from seccompose.cli import main
from seccompose.errors import CapabilityMapNotFoundError, InvalidCapabilityError, UnknownSyscallError

if TYPE_CHECKING:
    from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
REF = ROOT / "tests" / "fixtures" / "reference"
DOCKER = REF / "profiles" / "docker-default-moby-profiles-cd3bed8.json"


def _tool(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- the list ---------------------------------------------------------------------------------


def test_the_41_capabilities_match_capability_h() -> None:
    text = (REF / "linux" / "capability.h").read_text(encoding="utf-8")
    defined = {m[1]: int(m[2]) for m in re.finditer(r"^#define\s+(CAP_[A-Z_]+)\s+(\d+)\s*$", text, re.MULTILINE)}
    assert len(defined) == 41
    assert {c.name: c.number for c in all_capabilities()} == defined


@pytest.mark.parametrize(
    ("name", "since"),
    [
        # capabilities(7) (man-pages 6.03) entry headings "CAP_X (since Linux N)"
        ("CAP_BPF", "5.8"),
        ("CAP_PERFMON", "5.8"),
        ("CAP_CHECKPOINT_RESTORE", "5.9"),
        ("CAP_AUDIT_READ", "3.16"),
        ("CAP_BLOCK_SUSPEND", "3.5"),
        ("CAP_WAKE_ALARM", "3.0"),
        ("CAP_SYSLOG", "2.6.37"),
        ("CAP_SETFCAP", "2.6.24"),
        ("CAP_MAC_ADMIN", "2.6.25"),
        ("CAP_LEASE", "2.4"),
        ("CAP_MKNOD", "2.4"),
        # no note: from the first capability implementation, Linux 2.2
        ("CAP_CHOWN", "2.2"),
        ("CAP_SYS_ADMIN", "2.2"),
    ],
)
def test_since(name: str, since: str) -> None:
    assert Capability(name).since == since


def test_every_capability_has_a_since_no_newer_than_the_tables() -> None:
    for cap in all_capabilities():
        major, minor = (int(x) for x in cap.since.split(".")[:2])
        assert (2, 2) <= (major, minor) <= (7, 2), cap


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("CAP_SYS_ADMN", "did you mean 'CAP_SYS_ADMIN'"),
        ("sys_admn", "did you mean 'CAP_SYS_ADMIN'"),
        ("NET_ADMN", "did you mean 'CAP_NET_ADMIN'"),
        ("CAP_FOO_BAR_BAZ", "unknown capability 'CAP_FOO_BAR_BAZ'"),
    ],
)
def test_misspelled_capabilities_get_a_did_you_mean(text: str, fragment: str) -> None:
    with pytest.raises(InvalidCapabilityError, match=re.escape(fragment)):
        Capability.parse(text)


def test_parse_capabilities_names_the_location_of_a_bad_item() -> None:
    with pytest.raises(InvalidCapabilityError, match=r"at caps\[1\]"):
        parse_capabilities(["chown", "sys_admn"])


# -- the docker map ---------------------------------------------------------------------------


def _docker_gates_read_independently() -> set[tuple[str, str]]:
    """Every (capability, syscall) an ALLOW rule of Docker's profile gates on one capability alone."""
    profile = json.loads(DOCKER.read_text(encoding="utf-8"))
    found = set()
    for rule in profile["syscalls"]:
        caps = (rule.get("includes") or {}).get("caps") or []
        if caps and rule["action"] == "SCMP_ACT_ALLOW" and not rule.get("args"):
            found |= {(caps[0], n) for n in rule["names"]}
    return found


def test_docker_map_is_exactly_the_gates_of_dockers_default() -> None:
    ours = {(g.capability.name, g.syscall) for g in load_capability_map("docker")}
    assert ours == _docker_gates_read_independently()


@pytest.mark.parametrize(
    ("cap", "expected"),
    [
        (
            "CAP_SYS_PTRACE",
            {"kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"},
        ),
        ("CAP_SYS_NICE", {"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"}),
        ("CAP_SYS_BOOT", {"reboot"}),
        ("CAP_SYS_MODULE", {"delete_module", "finit_module", "init_module"}),
        ("CAP_CHOWN", set()),  # the kernel checks it; Docker's profile gates no syscall on it
    ],
)
def test_docker_map_entries(cap: str, expected: set[str]) -> None:
    assert set(load_capability_map("docker").syscalls(cap)) == expected


def test_docker_sys_admin_unlocks_the_mount_and_namespace_calls() -> None:
    names = set(load_capability_map("docker").syscalls("CAP_SYS_ADMIN"))
    assert {"mount", "umount2", "unshare", "setns", "bpf", "fsopen", "clone", "clone3"} <= names
    assert len(names) == 26


def test_docker_map_entries_carry_their_source() -> None:
    (source,) = load_capability_map("docker").sources("CAP_SYS_ADMIN", "mount")
    assert source == "moby/profiles@cd3bed8 seccomp/default.json syscalls[17]"


# -- the kernel map ---------------------------------------------------------------------------


def _manpage_rows() -> list[dict[str, str]]:
    text = (REF / "linux" / "capabilities-manpage-syscalls.tsv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))


def test_kernel_map_is_the_whole_syscall_rows_of_capabilities_7() -> None:
    rows = _manpage_rows()
    whole = {(r["capability"], r["syscall"]) for r in rows if r["permits"] == "whole_syscall"}
    ours = {(g.capability.name, g.syscall) for g in load_capability_map("kernel")}
    assert ours == whole
    assert len(ours) == 23
    # privileged_mode rows only unlock a flag or a limit: they gate nothing
    for r in rows:
        if r["permits"] == "privileged_mode" and (r["capability"], r["syscall"]) not in whole:
            assert (r["capability"], r["syscall"]) not in ours


def test_kernel_map_does_not_gate_privileged_modes() -> None:
    kernel = load_capability_map("kernel")
    assert kernel.capabilities_for("kill") == frozenset()  # CAP_KILL: only other users' processes
    assert kernel.capabilities_for("ptrace") == frozenset()  # CAP_SYS_PTRACE: only others' processes
    assert kernel.capabilities_for("mount") == {Capability("CAP_SYS_ADMIN")}
    assert "capabilities(7)" in kernel.sources("CAP_SYS_CHROOT", "chroot")[0]


# -- per arch, per syscall --------------------------------------------------------------------


def test_per_arch_only_names_the_hosts_abis_have() -> None:
    kernel = load_capability_map("kernel")
    assert "umount" in kernel.syscalls("CAP_SYS_ADMIN", Arch.X86_64)  # i386 call; x86_64 hosts run i386
    assert "umount" not in kernel.syscalls("CAP_SYS_ADMIN", Arch.AARCH64)
    assert kernel.syscalls("CAP_SYS_RAWIO", Arch.X86_64) == ("ioperm", "iopl")
    assert kernel.syscalls("CAP_SYS_RAWIO", Arch.AARCH64) == ()
    docker = load_capability_map("docker")
    assert "stime" in docker.syscalls("CAP_SYS_TIME", Arch.X86_64)
    assert "stime" not in docker.syscalls("CAP_SYS_TIME", Arch.AARCH64)


def test_which_capability_a_syscall_needs() -> None:
    docker = load_capability_map("docker")
    assert docker.capabilities_for("bpf") == {Capability("CAP_SYS_ADMIN"), Capability("CAP_BPF")}
    assert docker.capabilities_for("syslog") == {Capability("CAP_SYS_ADMIN"), Capability("CAP_SYSLOG")}
    assert docker.capabilities_for("read") == frozenset()
    with pytest.raises(UnknownSyscallError, match="did you mean 'openat'"):
        docker.capabilities_for("opnat")


def test_unlocked_is_the_union_over_capabilities() -> None:
    docker = load_capability_map("docker")
    caps = [Capability("CAP_SYS_BOOT"), Capability("CAP_SYS_CHROOT")]
    assert docker.unlocked(caps, Arch.AARCH64) == ("chroot", "reboot")


def test_unknown_map_gets_a_did_you_mean() -> None:
    with pytest.raises(CapabilityMapNotFoundError, match="did you mean 'kernel'"):
        load_capability_map("kernal")
    with pytest.raises(LookupError, match="use one of docker, kernel"):
        load_capability_map("x")


def test_maps_are_cached_and_import_reads_no_data() -> None:
    assert load_capability_map("docker") is load_capability_map("docker")
    # the capability list (46 lines) is read for DOCKER_DEFAULT_CAPABILITIES; the maps wait for first use
    code = "import seccompose.caps as c\nassert c.load_capability_map.cache_info().currsize == 0\n"
    subprocess.run([sys.executable, "-c", code], check=True)


# -- generated data does not drift ------------------------------------------------------------


def test_maps_match_their_generator() -> None:
    gen = _tool("gen_capabilities")
    data = ROOT / "data" / "capabilities"
    assert (data / "docker.tsv").read_text(encoding="utf-8") == gen.gen_docker(REF / "profiles")
    assert (data / "kernel.tsv").read_text(encoding="utf-8") == gen.gen_kernel(REF / "linux")
    assert (data / "docker.tsv").read_text(encoding="utf-8").startswith("# DO NOT EDIT.")


def test_capability_list_matches_its_generator() -> None:
    gen = _tool("gen_capabilities")
    assert (ROOT / "data" / "capabilities" / "capabilities.tsv").read_text(encoding="utf-8") == gen.gen_list(
        REF / "linux"
    )


def test_generator_without_the_man_page_keeps_the_recorded_since(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gen = _tool("gen_capabilities")
    for name in ("capability.h", "capabilities-manpage-syscalls.tsv"):  # everything but capabilities.7
        (tmp_path / name).write_bytes((REF / "linux" / name).read_bytes())
    assert gen.main(["--check", "--source", str(tmp_path), "--profiles", str(REF / "profiles")]) == 0
    assert "not re-derived" in capsys.readouterr().err


# -- the CLI ----------------------------------------------------------------------------------


def test_cli_caps_lists_what_a_capability_unlocks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["caps", "sys_ptrace", "--arch", "x86_64", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["capability"] == "CAP_SYS_PTRACE"
    assert [s["name"] for s in doc["syscalls"]] == sorted(
        ["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"]
    )


def test_cli_caps_kernel_map_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["caps", "CAP_SYS_BOOT", "--map", "kernel", "--arch", "aarch64"]) == 0
    out = capsys.readouterr().out
    assert "kexec_load" in out
    assert "reboot" in out


def test_cli_caps_syscall_shows_both_maps(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["caps", "--syscall", "mount", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [c["capability"] for c in doc["maps"]["docker"]] == ["CAP_SYS_ADMIN"]
    assert [c["capability"] for c in doc["maps"]["kernel"]] == ["CAP_SYS_ADMIN"]


def test_cli_caps_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["caps", "--arch", "x86_64"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 + 41


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["caps", "CAP_SYS_ADMN"], "did you mean 'CAP_SYS_ADMIN'?"),
        (["caps", "--syscall", "mout"], "did you mean 'mount'?"),
        (["caps", "chown", "--arch", "sparc"], "unknown architecture 'sparc'"),
    ],
)
def test_cli_caps_errors_exit_2(argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert "Traceback" not in err

"""seccompose compose: formats, flags as docker run spells them, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from seccompose import Arch, compose, loads
from seccompose.caps import DOCKER_DEFAULT_CAPABILITIES
from seccompose.cli import main
from seccompose.formats.k8s import load_documents, resolve


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(["compose", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_default_matches_the_library(capsys: pytest.CaptureFixture[str], validate_oci: Any) -> None:
    rc, out, _ = _run(capsys, "--base", "default", "--arch", "x86_64")
    assert rc == 0
    doc = json.loads(out)
    validate_oci(doc)
    expected = compose("default", arch=Arch.X86_64, caps=DOCKER_DEFAULT_CAPABILITIES)
    assert loads(out) == expected


@pytest.mark.parametrize(
    "caps_flags",
    [["--caps", "CHOWN,net_admin"], ["--caps", "cap_chown", "--caps", "NET_ADMIN"], ["--caps", "none", "--cap-add", "chown", "--cap-add", "CAP_NET_ADMIN"]],
)
def test_capability_spellings(capsys: pytest.CaptureFixture[str], caps_flags: list[str]) -> None:
    rc, out, _ = _run(capsys, "--arch", "x86_64", "--runtime", "none", *caps_flags)
    assert rc == 0
    assert loads(out) == compose(arch=Arch.X86_64, caps=["CHOWN", "NET_ADMIN"], runtime=None)


def test_cap_drop_all_then_add(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(capsys, "--base", "default", "--arch", "x86_64", "--cap-drop", "ALL", "--cap-add", "SYS_PTRACE")
    assert rc == 0
    assert "ptrace" in loads(out).allowed()
    assert loads(out) == compose("default", arch=Arch.X86_64, caps=["SYS_PTRACE"])


def test_allow_deny_lists_and_output_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "p.json"
    # Docker's 14 default capabilities would add chroot (CAP_SYS_CHROOT): none here.
    rc, out, _ = _run(capsys, "--arch", "aarch64", "--runtime", "none", "--caps", "none", "--allow", "read,write", "--allow", "openat",
                      "--deny", "write", "--format", "docker", "-o", str(target))
    assert rc == 0
    assert out == ""
    doc = json.loads(target.read_text())
    assert doc["architectures"] == ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]
    assert doc["syscalls"] == [{"names": ["openat", "read"], "action": "SCMP_ACT_ALLOW"}]


def test_k8s_and_localhost_formats(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(capsys, "--base", "redis", "--arch", "x86_64", "--format", "k8s")
    assert rc == 0
    assert yaml.safe_load(out)["metadata"]["name"] == "redis"
    seccomp = resolve(load_documents(out), "redis")
    rc, local, _ = _run(capsys, "--base", "redis", "--arch", "x86_64", "--format", "localhost")
    assert rc == 0
    oci_profile = compose("redis", arch=Arch.X86_64, caps=DOCKER_DEFAULT_CAPABILITIES)
    assert loads(local) == oci_profile
    assert loads(json.dumps(seccomp)).rules == oci_profile.rules


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--allow", "opnat"], "unknown syscall 'opnat' at allow[0]; did you mean 'openat'?"),
        (["--cap-add", "SYS_ADMN"], "did you mean 'CAP_SYS_ADMIN'?"),
        (["--arch", "arm65"], "unknown architecture 'arm65'"),
        (["--base", "ngnix"], "did you mean 'nginx'?"),
        (["--kernel", "x.y"], "kernel release 'x.y' does not start with '<major>.<minor>'"),
        (["--kernel=-1"], "kernel release '-1' does not start with"),  # before: accepted, as 'newest'
        (["--kernel="], "kernel release '' does not start with"),  # before: ignored
    ],
)
def test_errors_exit_2_without_traceback(capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str) -> None:
    rc, out, err = _run(capsys, *argv)
    assert rc == 2
    assert out == ""
    assert fragment in err
    assert "Traceback" not in err


def test_warnings_go_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = _run(capsys, "--arch", "aarch64", "--allow", "arch_prctl,openat")
    assert rc == 0
    assert "'arch_prctl' does not exist on aarch64" in err
    assert "openat" in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [(["caps", "SYS_PTRACE", "--arch", "x86_64"], "ptrace"), (["syscalls", "openat", "--arch", "x86_64"], "257")],
)
def test_lookup_commands_write_to_a_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], expected: str
) -> None:
    target = tmp_path / "out.txt"
    assert main([*argv, "-o", str(target)]) == 0
    assert capsys.readouterr().out == ""
    assert expected in target.read_text()


def test_defaults_are_how_engines_start_containers(capsys: pytest.CaptureFixture[str]) -> None:
    """Without flags: noNewPrivileges false (docker run, podman run, Kubernetes) and every runtime's base set.

    With noNewPrivileges false runc and crun load the filter before they drop capabilities and switch
    user: a profile without setgroups/setuid (runc) or setresuid (crun) cannot start the container.
    """
    from seccompose.runtime import runtime_base

    rc, out, _ = _run(capsys, "--base", "redis", "--cap-drop", "ALL", "--arch", "x86_64", "--format", "docker")
    assert rc == 0
    allowed = loads(out).allowed()
    assert runtime_base("runc", no_new_privileges=False) <= allowed
    assert runtime_base("crun", no_new_privileges=False) <= allowed
    assert loads(out) == compose("redis", arch=Arch.X86_64, caps=[], runtime=("runc", "crun"), no_new_privileges=False)
    rc, out, _ = _run(capsys, "--base", "redis", "--cap-drop", "ALL", "--arch", "x86_64", "--no-new-privileges", "true",
                      "--runtime", "runc")
    assert rc == 0
    assert loads(out) == compose("redis", arch=Arch.X86_64, caps=[], runtime="runc", no_new_privileges=True)


def test_an_unknown_runtime_flag_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compose", "--base", "redis", "--runtime", "runx"]) == 2
    assert "no runtime base set for 'runx' at --runtime; did you mean 'runc'?" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["", " ", "ptrace,", ",ptrace", "ptrace,,mount"])
def test_an_empty_syscall_name_is_an_error(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    # issue 15: --deny '' was accepted (and silently denied nothing)
    assert main(["compose", "--base", "default", "--deny", value]) == 2
    assert "unknown syscall '' at --deny[0]" in capsys.readouterr().err.replace("' '", "''")
    assert main(["explain", "read", "--base", "default", "--allow", value]) == 2

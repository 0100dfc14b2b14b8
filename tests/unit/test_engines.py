"""seccompose.engines: the engines' names and versions, Go's key folding, what a target engine ignores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seccompose.cli import main
from seccompose.engines import fold, ignored, installed, parse_engine, target_warnings
from seccompose.errors import InvalidEngineError

PROFILES = Path(__file__).parents[1] / "fixtures" / "reference" / "profiles"


@pytest.mark.parametrize(
    ("text", "reading"),
    [("docker", "docker"), ("docker-20.10", "docker-20.10"), ("docker-20.10.24", "docker-20.10"),
     ("docker-19.03", "docker-20.10"), ("docker-23.0", "docker"), ("Docker-28.2.2", "docker"),
     ("podman", "podman"), ("podman-4.3.1", "podman"), ("podman-5", "podman")],
)
def test_parse_engine(text: str, reading: str) -> None:
    assert parse_engine(text) == reading


@pytest.mark.parametrize("text", ["dockr", "docker-x", "podman-3.4", "containerd", "", "docker-"])
def test_parse_engine_refuses(text: str) -> None:
    with pytest.raises(InvalidEngineError, match="unknown engine"):
        parse_engine(text)


def test_fold_is_gos() -> None:
    assert fold("nAmEs") == fold("names")
    assert fold("\u017fyscalls") == "SYSCALLS"  # long s
    assert fold("min\u212aernel") == "MINKERNEL"  # Kelvin sign
    assert fold("\u0131ndex") == "INDEX"  # dotless i: Go 1.21 folds it
    assert fold("\u0131ndex", go121=False) != "INDEX"  # Go 1.19 does not
    assert fold("stra\xdfe") != fold("strasse")  # no full case folding (ß is not ss)


def test_installed_can_be_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECCOMPOSE_ENGINES", "docker-20.10.24,podman-4.3")
    assert installed() == ("docker-20.10", "podman")
    monkeypatch.setenv("SECCOMPOSE_ENGINES", "rkt")
    with pytest.raises(InvalidEngineError, match="at SECCOMPOSE_ENGINES"):
        installed()


def test_installed_finds_the_engines_here(monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from seccompose import engines

    monkeypatch.delenv("SECCOMPOSE_ENGINES", raising=False)
    monkeypatch.setattr(engines, "_INSTALLED", [])
    found = installed()
    if shutil.which("dockerd") or Path("/usr/sbin/dockerd").exists():
        assert any(e.startswith("docker") for e in found)
    if shutil.which("podman"):
        assert "podman" in found
    assert found


@pytest.mark.parametrize(
    ("doc", "engine", "fragment"),
    [
        ({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38}, "docker-20.10", "ignores defaultErrnoRet (38)"),
        ({"defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_LOG"]}, "docker-20.10", "ignores flags"),
        ({"defaultAction": "SCMP_ACT_ERRNO", "listenerPath": "/a"}, "docker-20.10", "ignores listenerPath"),
        ({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrno": "ENOSYS"}, "docker", "gets 1, not 38"),
        ({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_ERRNO",
          "errno": "ENOSYS"}]}, "docker", "returns 1, not 38"),
        ({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["ptrace"], "action": "SCMP_ACT_ALLOW",
          "includes": {"minKernel": "4.8"}}]}, "podman", "keeps the rule on every kernel"),
    ],
)
def test_what_an_engine_ignores(doc: dict[str, object], engine: str, fragment: str) -> None:
    (warning,) = ignored(doc, engine=engine)  # type: ignore[arg-type]
    assert fragment in warning


def test_a_name_and_the_same_number_is_no_warning() -> None:
    # Podman's own profile writes both: Docker reads the number, Podman the name, and they agree
    doc = json.loads((PROFILES / "podman-default-0.50.1.json").read_text())
    assert [w for w in ignored(doc, engine="docker") if "errno" in w.split(" (")[0]] == []


def test_target_warnings_do_not_look_up_engines_when_nothing_could_be_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    from seccompose import engines

    def boom() -> tuple[str, ...]:
        raise AssertionError("installed() was asked")

    monkeypatch.setattr(engines, "installed", boom)
    assert target_warnings({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1}, None) == []


def test_compose_warns_what_the_target_ignores(capsys: pytest.CaptureFixture[str]) -> None:
    # issue 15: --errno-policy enosys writes defaultErrnoRet 38, which Docker 20.10 ignores (the container gets EPERM)
    assert main(["compose", "--base", "default", "--errno-policy", "enosys", "--engine", "docker-20.10"]) == 0
    assert "warning: Docker 20.10 ignores defaultErrnoRet (38)" in capsys.readouterr().err
    assert main(["compose", "--base", "default", "--errno-policy", "enosys", "--engine", "docker-24.0"]) == 0
    assert "ignores" not in capsys.readouterr().err  # (the default's own socketcall warning stays: issue 14)


def test_check_reads_a_docker_profile_as_the_target_engine(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(PROFILES / "podman-default-0.50.1.json")
    main(["check", path, "--engine", "podman", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert not [f for f in out["findings"] if f["kind"] in ("default-action-rule", "ignored-by-engine")]
    # the same file under Docker 20.10: defaultErrnoRet dropped, so Podman's EPERM denies equal the default
    assert main(["check", path, "--engine", "docker-20.10", "--format", "json"]) == 1
    out = json.loads(capsys.readouterr().out)
    kinds = {f["kind"] for f in out["findings"]}
    assert {"default-action-rule", "ignored-by-engine"} <= kinds

"""The CLI: every command's help has an example; success and error paths with their exit codes."""

from __future__ import annotations

import importlib
import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from seccompose import __version__
from seccompose.cli import COMMANDS, build_parser, main

REFERENCE = Path(__file__).parents[1] / "fixtures" / "reference" / "profiles"


def available() -> list[str]:
    out = []
    for name in COMMANDS:
        try:
            importlib.import_module(f"seccompose._commands.{name}")
        except ModuleNotFoundError:
            continue
        out.append(name)
    return out


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def oci(*names: str, **extra: Any) -> str:
    doc = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [{"names": list(names), "action": "SCMP_ACT_ALLOW"}],
        **extra,
    }
    return json.dumps(doc)


# --------------------------------------------------------------------------- every command


def test_the_issues_commands_are_all_there() -> None:
    assert {"explain", "diff", "lint", "completion"} <= set(available())


@pytest.mark.parametrize("name", available())
def test_help_has_a_real_example(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, name, "--help")
    assert code == 0
    assert "examples:" in out
    # an example line runs this very command
    assert any(
        line.strip().startswith(("seccompose " + name, "source <(seccompose " + name)) for line in out.splitlines()
    )


@pytest.mark.parametrize("name", available())
def test_examples_parse(name: str) -> None:
    # Every example line of the command's own help is valid for the parser (files need not exist).
    module = importlib.import_module(f"seccompose._commands.{name}")
    parser = build_parser()
    parsed = 0
    for line in re.sub(r"\\\n\s*", " ", module.EXAMPLES).splitlines():
        # an example is the command, then two or more spaces (or '#') and what it does
        command = re.split(r"\s{2,}|\s#", line.strip())[0]
        for segment in re.split(r"&&|\|\||\|", command):
            if not segment.strip().removeprefix("source <(").startswith(f"seccompose {name}"):
                continue
            words = shlex.split(segment.split(">")[0].replace("<(", " "))
            if words[:2] == ["seccompose", name]:
                parser.parse_args(words[1:])
                parsed += 1
    assert parsed, f"no example of 'seccompose {name}' found in its EXAMPLES"


@pytest.mark.parametrize("name", available())
def test_bad_option_exits_2_with_usage(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, name, "--no-such-option")
    assert code == 2 and out == ""
    # a usage error (the command's, or the top level's; missing required arguments are named first)
    assert err.startswith("usage: seccompose") and ": error: " in err and "Traceback" not in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert (code, out.strip()) == (0, f"seccompose {__version__}")


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys)
    assert code == 2 and out == "" and "COMMAND" in err


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "lint", "--no-such-flag")
    assert code == 2 and "unrecognized arguments" in err


def test_unknown_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "frobnicate")
    assert code == 2 and "invalid choice" in err


def test_internal_errors_have_no_traceback(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import seccompose.lint

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.delenv("SECCOMPOSE_DEBUG", raising=False)
    monkeypatch.setattr(seccompose.lint, "lint_file", boom)
    code, _, err = run(capsys, "lint", "default")
    assert code == 2
    assert "internal error: RuntimeError: boom" in err and "Traceback" not in err


def test_console_script_runs(work: Path) -> None:
    exe = shutil.which("seccompose")
    if exe is None:
        pytest.skip("the seccompose console script is not installed in this environment")
    done = subprocess.run([exe, "lint", "nope.json"], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr.startswith("seccompose lint: error: ") and "Traceback" not in done.stderr


# --------------------------------------------------------------------------- lint


def test_lint_clean_exits_0(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # (a toy profile: no runtime could start a container with it, so --runtime none)
    (work / "p.json").write_text(oci("read", "write"))
    code, out, _ = run(capsys, "lint", "--runtime", "none", "p.json")
    assert (code, out) == (0, "p.json: no problems found\n")


def test_lint_errors_exit_1(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "p.json").write_text(oci("read", "opnat"))
    code, out, _ = run(capsys, "lint", "p.json")
    assert code == 1
    assert "p.json:syscalls[0].names[1]: error [unknown-syscall]" in out


def test_lint_warnings_exit_0_unless_strict(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "p.json").write_text(oci("read", "io_uring_setup"))
    assert run(capsys, "lint", "--runtime", "none", "p.json")[0] == 0
    assert run(capsys, "lint", "--runtime", "none", "p.json", "--strict")[0] == 1
    assert run(capsys, "lint", "--runtime", "none", "p.json", "--strict", "--ignore", "io-uring-allowed")[0] == 0


def test_lint_caps_and_json(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "p.json").write_text(oci("read", "mount"))
    code, out, _ = run(capsys, "lint", "--runtime", "none", "p.json", "--format", "json", "--strict")
    assert code == 1 and json.loads(out)["findings"][0]["id"] == "dangerous-allowed"
    code, out, _ = run(capsys, "lint", "--runtime", "none", "p.json", "--strict", "--caps", "SYS_ADMIN")
    assert code == 0


def test_lint_stdin_and_output_file(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import sys

    fake = io.TextIOWrapper(io.BytesIO(oci("read").encode()))
    monkeypatch.setattr(sys, "stdin", fake)
    code, out, _ = run(capsys, "lint", "--runtime", "none", "-", "-o", "report.txt")
    assert (code, out) == (0, "")
    assert (work / "report.txt").read_text() == "<stdin>: no problems found\n"


def test_lint_knows_the_runtime(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A profile without the runtime's start-up set: the container never starts, as Docker runs it (runc, nnp false)."""
    from seccompose import Arch, compose, dumps

    (work / "bare.json").write_text(dumps(compose("redis", arch=Arch.X86_64, runtime=None), format="docker"))
    code, out, _ = run(capsys, "lint", "bare.json")
    assert code == 1
    # runc's calls after it loads the filter that redis never makes (its entrypoint's chown and gosu make the
    # others: fstatfs, getdents64, setgid, setgroups, setuid are in the template recorded from the image)
    assert "error [runtime-cannot-start] capget, capset, faccessat2, fstat refused" in out
    assert "runc 1.1.5+ds1 with noNewPrivileges false" in out
    # crun (as podman runs it) needs capset, pselect6, setresuid, setresgid besides what redis uses itself
    code, out, _ = run(capsys, "lint", "bare.json", "--runtime", "crun")
    assert code == 1 and "capset, pselect6, setresgid, setresuid refused: crun 1.8.1 with noNewPrivileges false" in out
    # with --security-opt no-new-privileges runc loads the filter just before exec: fewer calls after it
    # (redis's entrypoint makes fstatfs and getdents64, all runc makes then: without them, lint says so)
    assert run(capsys, "lint", "bare.json", "--no-new-privileges", "true")[0] == 0
    doc = json.loads((work / "bare.json").read_text())
    for rule in doc["syscalls"]:
        rule["names"] = [n for n in rule["names"] if n not in ("fstatfs", "getdents64")]
    (work / "bare-nnp.json").write_text(json.dumps(doc))
    code, out, _ = run(capsys, "lint", "bare-nnp.json", "--no-new-privileges", "true")
    assert code == 1 and "fstatfs, getdents64 refused: runc 1.1.5+ds1 with noNewPrivileges true" in out
    assert run(capsys, "lint", "bare.json", "--no-new-privileges", "true", "--runtime", "crun")[0] == 0
    assert run(capsys, "lint", "bare.json", "--runtime", "none")[0] == 0
    # composed with the defaults, it starts under either runtime
    (work / "ok.json").write_text(dumps(compose("redis", arch=Arch.X86_64), format="docker"))
    code, out, _ = run(capsys, "lint", "ok.json", "--runtime", "runc,crun")
    assert code == 0 and "runtime-cannot-start" not in out


def test_lint_list_rules(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "lint", "--list-rules")
    assert code == 0 and out.splitlines()[0].split()[:2] == ["runtime-cannot-start", "error"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["lint", "missing.json"], "no template or profile file named 'missing.json'"),
        (["lint"], "no PROFILE given"),
        (["lint", "bad.json"], "malformed JSON"),
        (["lint", "p.json", "--ignore", "nope"], "unknown lint rule 'nope'"),
        (["lint", "p.json", "--caps", "SYS_ADMN"], "unknown capability"),
    ],
)
def test_lint_errors_exit_2(argv: list[str], message: str, work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "bad.json").write_text("{")
    (work / "p.json").write_text(oci("read"))
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("seccompose lint: error: ") and message in err


# --------------------------------------------------------------------------- diff


def test_diff_equal_exits_0(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "a.json").write_text(oci("read", "write"))
    (work / "b.json").write_text(oci("write", "read"))
    code, out, _ = run(capsys, "diff", "a.json", "b.json")
    assert (code, out) == (0, "a.json and b.json load the same way\n")


def test_diff_different_exits_1(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "a.json").write_text(oci("read"))
    (work / "b.json").write_text(oci("read", "mount"))
    code, out, _ = run(capsys, "diff", "a.json", "b.json")
    assert code == 1
    assert out.splitlines()[:4] == [
        "--- a.json",
        "+++ b.json",
        "x86_64, x86, x32:",
        "  + mount                    allowed  (was SCMP_ACT_ERRNO(EPERM) (default))",
    ]
    code, out, _ = run(capsys, "diff", "a.json", "b.json", "--format", "json", "--arch", "x86_64")
    assert code == 1 and json.loads(out)["arches"]["x86"][0]["name"] == "mount"


def test_diff_templates(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "diff",
        str(REFERENCE / "docker-default-moby-profiles-cd3bed8.json"),
        "default",
        "--arch",
        "x86_64",
        "--runtime",
        "none",
    )
    assert code == 0, out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["diff", "a.json", "missing.json"], "missing.json"),
        (["diff", "a.json", "bad.json"], "malformed JSON"),
        (["diff", "a.json", "a.json", "--arch", "sparc"], "unknown architecture 'sparc'"),
        (["diff", "a.json"], "diff compares two profiles: give A and B (or --no-looser-than BASE with one profile)"),
    ],
)
def test_diff_errors_exit_2(argv: list[str], message: str, work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "a.json").write_text(oci("read"))
    (work / "bad.json").write_text("[1,")
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and message in err


# --------------------------------------------------------------------------- explain


def test_explain_syscall_from_compose_flags(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "mount", "--base", "default", "--arch", "x86_64", "--runtime", "none")
    assert code == 0
    assert out.splitlines()[:3] == [
        "mount: denied with SCMP_ACT_ERRNO(EPERM) (x86_64 host; exists on x86_64, x86, x32)",
        "decided by:",
        "  default action: SCMP_ACT_ERRNO(EPERM)",
    ]
    code, out, _ = run(
        capsys,
        "explain",
        "mount",
        "--base",
        "default",
        "--arch",
        "x86_64",
        "--runtime",
        "none",
        "--cap-add",
        "SYS_ADMIN",
        "--format",
        "json",
    )
    data = json.loads(out)
    assert (data["verdict"], data["layers"][0]["label"]) == ("allowed", "template:default")


def test_explain_with_profile_and_summary(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "p.json").write_text(oci("read", "socket"))
    code, out, _ = run(capsys, "explain", "socket", "--profile", "p.json")
    assert code == 0 and out.startswith("socket: allowed (x86_64 host")
    assert "  profile: syscalls[0] SCMP_ACT_ALLOW" in out
    code, out, _ = run(capsys, "explain", "p.json")
    assert code == 0 and out.startswith("p.json, x86_64 host: 2 of ")
    code, out, _ = run(capsys, "explain", "p.json", "--format", "json", "-o", "s.json")
    assert (code, out) == (0, "")
    assert json.loads((work / "s.json").read_text())["source"] == "p.json"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["explain", "mout", "--arch", "x86_64"], "did you mean 'mount'"),
        (["explain", "read", "--profile", "missing.json"], "missing.json"),
        (["explain", "read", "--base", "nosuchtemplate"], "no template or profile file named 'nosuchtemplate'"),
        (["explain", "read", "--arch", "vax"], "unknown architecture 'vax'"),
    ],
)
def test_explain_errors_exit_2(argv: list[str], message: str, work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and message in err


# --------------------------------------------------------------------------- completion


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_lists_every_command_and_option(shell: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "completion", shell)
    assert code == 0
    for name in available():
        assert name in out
    for option in ("--cap-add", "--strict", "--format", "--version"):
        assert option.lstrip("-") in out


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_script_is_valid_syntax(shell: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exe = shutil.which(shell)
    if exe is None:
        pytest.skip(f"{shell} is not installed")
    main(["completion", shell])
    script = tmp_path / f"c.{shell}"
    script.write_text(capsys.readouterr().out)
    done = subprocess.run([exe, "-n", str(script)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_bash_completion_completes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    main(["completion", "bash"])
    script = tmp_path / "c.bash"
    script.write_text(capsys.readouterr().out)
    probe = (
        f"source {script}; "
        'COMP_WORDS=(seccompose li); COMP_CWORD=1; _seccompose; echo "${COMPREPLY[*]}"; '
        'COMP_WORDS=(seccompose compose --arch ""); COMP_CWORD=3; _seccompose; echo "${COMPREPLY[*]}"; '
        'COMP_WORDS=(seccompose lint --str); COMP_CWORD=2; _seccompose; echo "${COMPREPLY[*]}"'
    )
    done = subprocess.run([bash, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == ["lint", "x86_64 aarch64 x86 x32", "--strict"]


def test_completion_unknown_shell_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "completion", "tcsh")
    assert code == 2 and "invalid choice" in err


def test_explain_summarises_a_template(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", "redis", "--arch", "aarch64", "--runtime", "none")
    assert code == 0 and out.startswith("redis, aarch64 host: ")


def test_explain_conditional_docker_profile_for_the_containers_caps(capsys: pytest.CaptureFixture[str]) -> None:
    profile = str(REFERENCE / "docker-default-moby-profiles-cd3bed8.json")
    code, out, _ = run(capsys, "explain", "mount", "--profile", profile, "--arch", "x86_64")
    assert code == 0 and out.startswith("mount: denied")
    code, out, _ = run(capsys, "explain", "mount", "--profile", profile, "--arch", "x86_64", "--cap-add", "SYS_ADMIN")
    assert code == 0 and out.startswith("mount: allowed")
    assert 'syscalls[17] SCMP_ACT_ALLOW includes {"caps":["CAP_SYS_ADMIN"]}' in out


def test_zsh_completion_registers_through_bashcompinit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    zsh = shutil.which("zsh")
    if zsh is None:
        pytest.skip("zsh is not installed")
    main(["completion", "zsh"])
    script = tmp_path / "c.zsh"
    script.write_text(capsys.readouterr().out)
    # _bash_complete runs the function with ksharrays (0-based arrays, as in bash); zsh filters by prefix itself
    probe = (
        f'source {script}; echo "${{_comps[seccompose]}}"; setopt ksharrays; '
        'COMP_WORDS=(seccompose compose --arch ""); COMP_CWORD=3; _seccompose; echo "${COMPREPLY[@]}"'
    )
    done = subprocess.run(
        [zsh, "-f", "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert done.stdout.splitlines() == ["_bash_complete -o filenames -F _seccompose", "x86_64 aarch64 x86 x32"]


def test_fish_completion_completes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fish = shutil.which("fish")
    if fish is None:
        pytest.skip("fish is not installed")
    main(["completion", "fish"])
    script = tmp_path / "c.fish"
    script.write_text(capsys.readouterr().out)
    probe = f'source {script}; complete -C "seccompose li"; complete -C "seccompose lint --str"'
    done = subprocess.run(
        [fish, "--no-config", "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert [line.split("\t")[0] for line in done.stdout.splitlines()] == ["lint", "--strict"]


def test_explain_names_the_policy_rule(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "policy.yaml").write_text(
        "templates:\n  - template: redis\n    images: ['redis:*']\n"
        "rules:\n  - name: no-ptrace\n    deny: [ptrace]\n"
        "  - name: perf\n    allow: [perf_event_open]\n    scope:\n      labels: {team: perf}\n"
    )
    base = ["explain", "--policy", "policy.yaml", "--image", "redis:7", "--arch", "x86_64"]
    code, out, _ = run(capsys, "explain", "perf_event_open", *base[1:], "--label", "team=perf")
    assert code == 0 and out.splitlines()[:3] == [
        "perf_event_open: allowed (x86_64 host; exists on x86_64, x86, x32)",
        "decided by:",
        "  rule:perf",
    ]
    code, out, _ = run(capsys, "explain", "perf_event_open", *base[1:])
    assert code == 0 and out.startswith("perf_event_open: denied")
    code, out, _ = run(capsys, "explain", "ptrace", *base[1:], "--cap-add", "SYS_PTRACE")
    assert code == 0 and out.splitlines()[2] == "  rule:no-ptrace"


def test_diff_for_the_containers_caps(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    docker = str(REFERENCE / "docker-default-moby-profiles-cd3bed8.json")
    code, _, _ = run(capsys, "compose", "--base", docker, "--arch", "x86_64", "--runtime", "none", "-o", "a.json")
    assert code == 0
    # a.json is Docker's default rendered for Docker's default capabilities: equal to the same rendering ...
    assert run(capsys, "diff", "a.json", docker, "--arch", "x86_64")[0] == 0
    # ... and not to the rendering for a container that also has CAP_SYS_ADMIN
    code, out, _ = run(capsys, "diff", "a.json", docker, "--arch", "x86_64", "--cap-add", "SYS_ADMIN")
    assert code == 1
    assert "  + mount                    allowed  (was SCMP_ACT_ERRNO(EPERM) (default))" in out.splitlines()

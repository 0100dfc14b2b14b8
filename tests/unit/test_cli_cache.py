"""compose keeps its output (seccompose._cli_cache): the same command again prints it, anything else composes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from seccompose import _cli_cache


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("SECCOMPOSE_CACHE", "1")
    return tmp_path / "cache" / "seccompose" / "compose-v2"


def _cli(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seccompose", *argv], capture_output=True, text=True, env=env, check=False, timeout=120
    )


def test_the_same_command_prints_the_kept_output(cache: Path) -> None:
    first = _cli("compose", "--base", "default", "--arch", "x86_64", env=dict(os.environ))
    assert first.returncode == 0
    (entry,) = list(cache.iterdir())
    assert entry.read_text() == f"{len(first.stderr)}\n{first.stderr}{first.stdout}"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    entry.write_text("5\nwarn\nplanted\n")  # the next run prints the kept text: it does not compose
    entry.chmod(0o600)
    again = _cli("compose", "--base", "default", "--arch", "x86_64", env=dict(os.environ))
    assert (again.stdout, again.stderr) == ("planted\n", "warn\n")


def test_the_key_covers_what_the_output_depends_on(cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    base = _cli_cache.key(["compose", "--base", "default"])
    assert base is not None
    assert _cli_cache.key(["compose", "--base", "default"]) == base
    assert _cli_cache.key(["compose", "--base", "redis"]) != base
    monkeypatch.setenv("SECCOMPOSE_ENGINES", "docker-20.10")
    assert _cli_cache.key(["compose", "--base", "default"]) != base
    template = tmp_path / "t.json"
    template.write_text('{"schema": 1, "name": "t", "rules": []}')
    before = _cli_cache.key(["compose", "--base", str(template)])
    template.write_text('{"schema": 1, "name": "t", "rules": [{"names": ["read"]}]}')
    os.utime(template, ns=(1, 1))  # even with an old mtime: the size (and inode data) changed
    assert _cli_cache.key(["compose", "--base", str(template)]) != before


@pytest.mark.parametrize(
    "argv",
    [["compose", "--base", "default", "-o", "x.json"], ["compose", "--policy", "p.yaml", "--image", "redis"],
     ["compose", "--base", "-"], ["compose", "--help"], ["lint", "default"], []],
)
def test_not_kept(argv: list[str]) -> None:
    assert _cli_cache.key(argv) is None


def test_failures_are_not_kept(cache: Path) -> None:
    assert _cli("compose", "--base", "nosuchtemplate", env=dict(os.environ)).returncode == 2
    assert not cache.exists() or list(cache.iterdir()) == []


def test_warnings_are_kept_and_printed_again(cache: Path) -> None:
    # issue 14: on x86 the default warns (socket's conditions, which socketcall cannot check): kept all the same
    argv = ("compose", "--base", "default", "--errno-policy", "enosys", "--engine", "docker-20.10", "--arch", "x86_64")
    first = _cli(*argv, env=dict(os.environ))
    assert first.returncode == 0 and "socketcall" in first.stderr and "Docker 20.10" in first.stderr
    assert len(list(cache.iterdir())) == 1
    again = _cli(*argv, env=dict(os.environ))
    assert (again.returncode, again.stdout, again.stderr) == (0, first.stdout, first.stderr)


def test_an_entry_of_another_shape_is_ignored(cache: Path) -> None:
    argv = ["compose", "--base", "default"]
    for junk in ("no length line", "9\nshort", "-1\nx", ""):
        _cli_cache.store(argv, "")
        (entry,) = list(cache.iterdir())
        entry.write_text(junk)
        assert _cli_cache.lookup(argv) is None


def test_an_entry_others_could_write_is_ignored(cache: Path) -> None:
    argv = ["compose", "--base", "default"]
    _cli_cache.store(argv, "kept\n")
    assert _cli_cache.lookup(argv) == ("kept\n", "")
    (entry,) = list(cache.iterdir())
    entry.chmod(0o622)
    assert _cli_cache.lookup(argv) is None
    entry.chmod(0o600)
    cache.chmod(0o770)
    assert _cli_cache.lookup(argv) is None


def test_it_can_be_turned_off(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECCOMPOSE_CACHE", "0")
    _cli_cache.store(["compose", "--base", "default"], "kept\n")
    assert not cache.exists()
    assert _cli_cache.lookup(["compose", "--base", "default"]) is None


def test_at_most_256_entries(cache: Path) -> None:
    for i in range(260):
        _cli_cache.store(["compose", "--base", "default", "--allow", f"x{i}"], f"{i}\n")
    assert len(list(cache.iterdir())) == 256


PROFILE = str(Path(__file__).parents[1] / "fixtures" / "reference" / "profiles" / "docker-default-20.10.24.json")


@pytest.mark.parametrize(
    "argv",
    [["--version"], ["render", PROFILE, "--engine", "docker", "--arch", "x86_64"], ["syscalls", "read"],
     ["caps", "CAP_SYS_ADMIN"], ["lint", PROFILE, "--engine", "docker"], ["lint", "--list-rules"]],
    ids=lambda a: " ".join(a[:1]),
)
def test_commands_that_do_not_compose_do_not_load_it(argv: list[str]) -> None:
    # issue 15: `import seccompose` loaded compose for every command, and every command built every parser
    code = (
        "import io, contextlib, sys\nfrom seccompose.cli import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()):\n    main({argv!r})\n"
        "print(sorted(m for m in ('seccompose.compose', 'pydantic', 'seccompose._commands.learn') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stdout

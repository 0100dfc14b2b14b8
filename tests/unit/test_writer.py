"""``-o FILE`` is atomic: a failed write leaves the old file byte for byte, no symlink is written through."""

from __future__ import annotations

import os
import resource
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from seccompose._writer import write_text
from seccompose.cli import main
from seccompose.errors import OutputError

OLD = b'{"defaultAction": "SCMP_ACT_ALLOW"}\n'  # a small, valid profile someone relies on

COMMANDS = [
    ["compose", "--base", "default"],
    ["render", "{profile}", "--engine", "docker", "--arch", "x86_64"],
    ["lint", "default", "--format", "json"],
    ["explain", "default", "--format", "json"],
    ["diff", "default", "podman-default", "--format", "json"],
    ["syscalls", "--format", "json"],
    ["caps", "--format", "json"],
    ["templates", "list", "--format", "json"],
    ["learn", "{trace}", "--program", "x"],
]
TRACE = "".join(f'{i} openat(AT_FDCWD, "/etc/f{i}", O_RDONLY) = 3\n{i} read(3, "", 4096) = 0\n' for i in range(2000))


def _args(argv: list[str], tmp_path: Path) -> list[str]:
    profile = tmp_path / "docker.json"
    profile.write_text(Path(__file__).parents[1].joinpath("fixtures/reference/profiles/docker-default-20.10.24.json")
                       .read_text())  # fmt: skip
    trace = tmp_path / "trace.txt"
    trace.write_text(TRACE)
    return [a.format(profile=profile, trace=trace) for a in argv]


def _fsize_limit(size: int) -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: a[0])
def test_a_failed_write_leaves_the_old_file(tmp_path: Path, argv: list[str]) -> None:
    # Path.write_text truncated the file first and then hit the limit: a half profile was left behind
    out = tmp_path / "out.json"
    out.write_bytes(OLD)
    out.chmod(0o640)
    done = subprocess.run(
        [sys.executable, "-m", "seccompose", *_args(argv, tmp_path), "-o", str(out)],
        capture_output=True,
        text=True,
        preexec_fn=lambda: _fsize_limit(64),
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert f"cannot write {out}: File too large; {out} is unchanged" in done.stderr
    assert "internal error" not in done.stderr
    assert out.read_bytes() == OLD
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out.json", "docker.json", "trace.txt"])


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: a[0])
def test_a_write_keeps_the_old_permissions(tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.json"
    out.write_bytes(OLD)
    out.chmod(0o604)
    assert main([*_args(argv, tmp_path), "-o", str(out)]) in (0, 1), capsys.readouterr().err
    assert out.read_bytes() != OLD
    assert stat.S_IMODE(out.stat().st_mode) == 0o604


def test_a_new_file_gets_the_umask_mode(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_text(str(tmp_path / "new.json"), "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o640


def test_symlinks_are_not_written_through_unless_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "target.json"
    target.write_bytes(OLD)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    assert main(["compose", "--base", "default", "-o", str(link)]) == 2
    assert "it is a symlink" in capsys.readouterr().err
    assert target.read_bytes() == OLD
    assert link.is_symlink()
    assert main(["compose", "--base", "default", "-o", str(link), "--follow-symlinks"]) == 0
    assert link.is_symlink()
    assert target.read_bytes().startswith(b'{\n  "defaultAction": "SCMP_ACT_ERRNO"')
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "nowhere.json")
    with pytest.raises(OutputError, match="it is a symlink"):
        write_text(str(dangling), "{}")


def test_streams_are_written_in_place(tmp_path: Path) -> None:
    write_text("/dev/null", "{}")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    write_text(str(fifo), "through a pipe\n")
    out, _ = reader.communicate(timeout=10)
    assert out == b"through a pipe\n"


def test_directories_and_missing_directories(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="it is a directory"):
        write_text(str(tmp_path), "{}")
    with pytest.raises(OutputError, match="No such file or directory"):
        write_text(str(tmp_path / "missing" / "x.json"), "{}")

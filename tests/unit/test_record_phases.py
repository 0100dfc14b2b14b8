"""tools/record_phases.py: where a recording splits into startup and steady state."""

from __future__ import annotations

from pathlib import Path

from tests._tools import tool

phases = tool("record_phases")

SERVER = """\
100 1700000000.000100 execve("/usr/bin/redis-server", ["redis-server"], 0x7ffd /* 3 vars */) = 0
100 1700000000.000200 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 6
100 1700000000.000300 bind(6, {sa_family=AF_INET, sin_port=htons(28102)}, 16) = 0
100 1700000000.000400 listen(6, 511) = 0
101 1700000000.000450 set_robust_list(0x7f, 24 <unfinished ...>
100 1700000000.000500 epoll_wait(5, [], 128, 100) = 0
101 1700000000.000550 <... set_robust_list resumed>) = 0
100 1700000000.000600 accept4(6, NULL, NULL, SOCK_CLOEXEC) = 7
100 1700000000.000700 socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 8
"""
FIRST = '200 1699999999.000000 mkdir("/data", 0700) = 0\n'


def test_split_at_the_first_listen(tmp_path: Path) -> None:
    server = tmp_path / "server.trace"
    server.write_text(SERVER)
    first = tmp_path / "first.trace"
    first.write_text(FIRST)
    ready, before, after = phases.split([first], [server])
    assert ready == 1700000000.0004
    # first-start steps are all startup; listen itself counts as steady; a resumed half is not a call
    assert before == {"execve", "socket", "bind", "mkdir"}
    assert after == {"listen", "set_robust_list", "epoll_wait", "accept4", "socket"}
    assert before - after == {"execve", "bind", "mkdir"}  # socket came back after ready: not startup-only


def test_a_server_that_never_listens_has_no_split(tmp_path: Path) -> None:
    import pytest

    server = tmp_path / "server.trace"
    server.write_text('100 1.0 read(0, "", 1) = 0\n')
    with pytest.raises(RuntimeError, match="listen"):
        phases.split([], [server])

"""The flags several commands share are defined once (seccompose._commands.compose) and read the same everywhere."""

from __future__ import annotations

import argparse
import contextlib
import io
from pathlib import Path

import pytest

from seccompose.cli import build_parser, main


def _options(command: str) -> dict[str, argparse.Action]:
    parser = build_parser(only=command)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {s: a for a in sub.choices[command]._actions for s in a.option_strings}


def _shape(action: argparse.Action) -> tuple[object, ...]:
    return (action.dest, type(action).__name__, action.default, action.metavar, action.choices)


def test_the_capability_flags_of_compose_and_diff() -> None:
    compose, diff = _options("compose"), _options("diff")
    for flag in ("--caps", "--cap-add", "--cap-drop"):
        assert _shape(compose[flag]) == _shape(diff[flag])
    assert _shape(compose["--caps"]) == ("caps", "_AppendAction", None, "LIST|none", None)
    assert _shape(compose["--cap-add"]) == ("cap_add", "_AppendAction", [], "CAP", None)
    assert compose["--cap-drop"].help == diff["--cap-drop"].help == "drop a capability (ALL: all)"
    assert "whole capability set" in str(compose["--caps"].help)
    assert "for templates and conditional profiles" in str(diff["--caps"].help)


def test_the_start_up_flags_of_check_and_lint() -> None:
    check, lint = _options("check"), _options("lint")
    for flag in ("--runtime", "--no-new-privileges"):
        assert _shape(check[flag]) == _shape(lint[flag])
    assert _shape(check["--runtime"]) == ("runtime", "_StoreAction", "runc", "runc|crun|runc,crun|none", None)
    assert _shape(check["--no-new-privileges"]) == ("no_new_privileges", "_StoreAction", "false", None,
                                                    ("true", "false"))  # fmt: skip
    assert "a problem when the profile refuses" in str(check["--runtime"].help)
    assert "report the syscalls it makes" in str(lint["--runtime"].help)
    # compose's --runtime is another flag: the runtimes whose syscalls a composition adds (default: both).
    assert _options("compose")["--runtime"].default is None


@pytest.mark.parametrize("argv", [["caps", "CAP_SYS_ADMIN"], ["caps", "--format", "json"], ["syscalls", "openat"],
                                  ["syscalls", "--category", "network", "--format", "json"]])  # fmt: skip
def test_o_file_holds_what_stdout_gets(argv: list[str], tmp_path: Path) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0
    target = tmp_path / "out.txt"
    quiet = io.StringIO()
    with contextlib.redirect_stdout(quiet):
        assert main([*argv, "-o", str(target)]) == 0
    assert quiet.getvalue() == ""
    assert target.read_text() == out.getvalue() != ""

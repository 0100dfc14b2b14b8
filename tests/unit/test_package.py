"""The package's exports load on first use, and stay what they were when eagerly imported."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import seccompose


def test_compose_is_the_function_even_after_its_module_was_imported() -> None:
    import seccompose.compose as module_or_function  # noqa: F401 - the import itself is the point
    from seccompose import compose

    assert callable(compose) and compose.__module__ == "seccompose.compose"
    assert seccompose.compose is compose
    assert sys.modules["seccompose.compose"].compose is compose


def test_every_export_resolves() -> None:
    for name in seccompose.__all__:
        assert getattr(seccompose, name) is not None, name
    assert sorted(dir(seccompose)) == sorted(seccompose.__all__)


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        getattr(seccompose, "no_such_thing")  # noqa: B009 - a name the type checker does not know


def test_importing_the_package_loads_nothing_else() -> None:
    code = "import sys, seccompose; print(sorted(m for m in sys.modules if m.startswith('seccompose')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['seccompose', 'seccompose._version']"


@pytest.mark.parametrize(
    "argv",
    [
        ["compose", "--base", "default"],
        ["compose", "--base", "nginx", "--caps", "docker-default", "--deny", "ptrace"],
        ["compose", "--base", "default", "--format", "docker"],
    ],
)
def test_composing_does_not_load_the_profile_decoders(argv: list[str]) -> None:
    # Start-up (issue 15, item 9): pydantic and the Docker profile decoder take ~60 % of a cold
    # `compose` run; a command that reads no profile document must not import them.
    code = (
        "import sys, io, contextlib\n"
        "from seccompose.cli import main\n"
        f"sys.argv = ['seccompose', *{argv!r}]\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        "    try:\n        main()\n    except SystemExit as exc:\n        assert not exc.code, exc.code\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pydantic_core')"
        " or m == 'seccompose.formats.docker_profile'))"
    )
    env = {**os.environ, "SECCOMPOSE_CACHE": "0"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.strip() == "[]"

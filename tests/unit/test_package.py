"""The package's exports load on first use, and stay what they were when eagerly imported."""

from __future__ import annotations

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

"""The templates recorded from their images (tools/record_images.py) say where they come from.

Each names its image, the entrypoint's steps, the capabilities the image needs and the Debian
package versions it was recorded against; ``seccompose templates show`` prints them, and the
recipe that re-records the template (``nox -s record -- NAME``) is the one the image suite runs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from seccompose.cli import main
from seccompose.loader import load_template, template_names
from tests._tools import tool

recipes = tool("image_recipes")
record_images = tool("record_images")

RECORDED = [n for n in template_names() if dict(load_template(n).provenance).get("tool", "").startswith("tools/record_images.py")]
VERSION = re.compile(r"^[0-9][A-Za-z0-9.+~:-]*$")  # a Debian version: [epoch:]upstream[-revision]


def test_the_ten_server_templates_are_recorded_from_their_images() -> None:
    shipped = {"redis", "nginx", "postgres", "mariadb", "memcached", "httpd", "haproxy", "lighttpd", "squid", "gunicorn"}
    assert shipped <= set(RECORDED)


@pytest.mark.parametrize("name", RECORDED)
def test_a_recorded_template_names_its_image_packages_and_entrypoint(name: str) -> None:
    prov = dict(load_template(name).provenance)
    recipe = recipes.recipe(name)
    assert prov["image"] == recipe.tag
    assert prov["entrypoint"] == recipe.entrypoint
    assert prov["tool"] == f"tools/record_images.py {name}"
    versions = record_images.package_versions({"provenance": prov})
    assert set(versions) == set(recipe.packages), "every package the server comes from, with its version"
    assert all(VERSION.match(v) for v in versions.values()), versions
    caps = prov["capabilities"]
    if recipe.caps is None:
        assert caps.startswith("Docker's default capabilities")
    else:
        assert caps.split() == ["--cap-drop", "ALL", *(f"--cap-add={c}" for c in sorted(recipe.caps))]


@pytest.mark.parametrize("name", RECORDED[:1])
def test_templates_show_prints_the_package_versions(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["templates", "show", name]) == 0
    shown = json.loads(capsys.readouterr().out)
    packages = record_images.package_versions(shown)
    assert packages
    assert packages == record_images.package_versions({"provenance": dict(load_template(name).provenance)})


def test_package_versions_reads_what_the_recorder_writes() -> None:
    doc = {"provenance": {"packages": "redis-server 5:7.0.15-1~deb12u10, redis-tools 5:7.0.15-1~deb12u10"}}
    assert record_images.package_versions(doc) == {"redis-server": "5:7.0.15-1~deb12u10", "redis-tools": "5:7.0.15-1~deb12u10"}
    assert record_images.package_versions({"provenance": {}}) == {}


def test_startup_only_leaves_out_what_aarch64_calls_after_readiness(tmp_path: Path) -> None:
    """epoll_pwait before listen() and epoll_wait after it on x86_64: aarch64 calls epoll_pwait for both."""
    trace = tmp_path / "first-server-001.trace"
    trace.write_text(
        '1 1.000 execve("/x", ["x"], 0x0 /* 0 vars */) = 0\n'
        "1 1.100 epoll_pwait(3, [], 1, 0, NULL, 8) = 0\n"
        "1 1.150 setgroups(0, []) = 0\n"
        "1 1.200 listen(3, 511) = 0\n"
        "1 1.300 epoll_wait(3, [], 1, 0) = 0\n"
    )
    assert record_images.startup_only([trace]) == ["execve", "setgroups"]

"""The README's and the docs' template examples are exactly what the real-engine suite runs.

``tests/engines/test_templates_engines.py`` composes each app template in one of three ways and
runs it: ``--base NAME --format docker -o FILE`` with ``docker run``/``podman run
--security-opt seccomp=FILE IMAGE`` (Docker's default capabilities, no other security option);
``--base NAME --cap-drop ALL --cap-add=CAP... --format docker -o FILE`` (the capabilities the
server needs, ``Server.caps``) with ``docker run --cap-drop ALL --cap-add=CAP...``; and
``--base NAME -o FILE`` (OCI, in a runc bundle). Every example that runs an app template with
``docker run``/``podman run`` must have composed it in one of those forms and run it as the
suite does, with the image the suite runs (``tools/images.py``).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests._tools import tool

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "docs" / "howto" / "runtimes.md"]


SERVERS = tool("record_templates").SERVERS
IMAGES = tool("images")


def _commands(page: Path) -> list[list[str]]:
    """The commands of the page's ``sh`` and ``console`` blocks, in order."""
    out = []
    text = page.read_text(encoding="utf-8")
    for block in re.finditer(r"^```(sh|console)\n(.*?)^```", text, re.MULTILINE | re.DOTALL):
        for line in block.group(2).splitlines():
            command = line.strip().removeprefix("$ ")
            if re.match(r"(seccompose|docker|podman) ", command):
                out.append(shlex.split(command, comments=True))
    return out


def _compose_form(argv: list[str]) -> tuple[str, str, str] | None:
    """(template, output file, form) of an app template's compose command; None for other commands."""
    if argv[:2] != ["seccompose", "compose"] or "--base" not in argv:
        return None
    name = argv[argv.index("--base") + 1]
    if name not in SERVERS:
        return None
    rest = argv[2:]
    output = rest[rest.index("-o") + 1] if "-o" in rest else ""
    flags = [a for a in rest if a not in ("--base", name, "-o", output)]
    caps = [f"--cap-add={c}" for c in SERVERS[name].caps]
    forms = {
        "docker": ["--format", "docker"],
        "docker-cap-drop": ["--cap-drop", "ALL", *caps, "--format", "docker"],
        "oci": [],
    }
    for form, expected in forms.items():
        if flags == expected:
            return name, output, form
    return name, output, f"other: not a form the engine suite runs ({forms})"


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_template_examples_are_what_the_engine_suite_runs(page: Path) -> None:
    composed: dict[str, tuple[str, str]] = {}
    runs = 0
    for argv in _commands(page):
        form = _compose_form(argv)
        if form:
            name, output, how = form
            assert output, f"`{shlex.join(argv)}`: write the profile to a file (-o)"
            composed[output] = (name, how)
            continue
        if argv[0] in ("docker", "podman") and argv[1] == "run":
            seccomp = [a for a in argv if a.startswith("seccomp=")]
            assert len(seccomp) == 1, f"`{shlex.join(argv)}`: one --security-opt seccomp=FILE"
            path = seccomp[0].removeprefix("seccomp=")
            if path not in composed:
                continue  # a profile that is not an app template's (extend-docker-default, ...)
            name, how = composed[path]
            assert not how.startswith("other"), f"{path} is run by `{shlex.join(argv)}` but composed in a form {how[7:]}"
            security = [argv[i + 1] for i, a in enumerate(argv) if a == "--security-opt"]
            assert security == [f"seccomp={path}"], f"`{shlex.join(argv)}`: no other security option"
            caps = [a for a in argv if a.startswith(("--cap-add", "--cap-drop"))]
            caps += [argv[i + 1] for i, a in enumerate(argv) if a in ("--cap-add", "--cap-drop")]
            if how == "docker-cap-drop":
                assert "ALL" in caps and {f"--cap-add={c}" for c in SERVERS[name].caps} <= set(caps), shlex.join(argv)
            else:
                assert how == "docker" and not caps, f"`{shlex.join(argv)}`: composed for Docker's default capabilities"
            assert IMAGES.image_for(name).tag in argv, f"`{shlex.join(argv)}`: run {IMAGES.image_for(name).tag}"
            runs += 1
    assert composed, f"{page.name} shows no app template example"
    assert runs, f"{page.name} runs no app template"

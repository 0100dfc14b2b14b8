"""Every example in the Markdown docs runs, and its shown output is what seccompose prints.

Conventions the pages follow (each page runs in a fresh temporary directory, blocks in order):

- a block with ``title="NAME"`` is written to the file NAME first (a trace, a config.json);
- ``console`` blocks: ``$ seccompose ...`` lines run through ``seccompose.cli.main``; the lines
  after a command are its expected stdout (``...`` on a line of its own matches any lines,
  inside a line any text); a trailing ``# exit N`` sets the expected exit code (default 0);
  other commands (``docker``, ``kubectl``) are not run;
- ``sh`` blocks: lines starting with ``seccompose`` run and must exit 0; the rest is not run;
- ``python`` blocks run with ``exec`` in one namespace per page; a ``text`` block right after a
  paragraph ending in "prints" is the expected stdout of the python block before it;
- ``json`` blocks must be valid profiles or templates; ``yaml`` blocks must parse.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from seccompose.cli import main

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))

_FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


@dataclass
class Block:
    lang: str
    title: str | None
    body: str
    before: str  # the text between the previous block and this one
    line: int


def blocks(text: str) -> list[Block]:
    out = []
    last = 0
    for m in _FENCE.finditer(text):
        info = m.group("info").strip()
        lang = info.split()[0] if info else ""
        title = re.search(r'title="([^"]+)"', info)
        out.append(
            Block(
                lang,
                title.group(1) if title else None,
                m.group("body"),
                text[last : m.start()],
                text.count("\n", 0, m.start()) + 1,
            )
        )
        last = m.end()
    return out


def expected_regex(expected: str) -> re.Pattern[str]:
    parts = []
    for line in expected.rstrip("\n").splitlines():
        if line.strip() == "...":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(".*?".join(re.escape(p) for p in line.rstrip().split("...")) + r"[ \t]*\n")
    return re.compile("".join(parts), re.DOTALL)


def assert_output(expected: str, actual: str, where: str) -> None:
    if not expected.strip():
        return
    normal = "".join(line.rstrip() + "\n" for line in actual.splitlines())
    assert expected_regex(expected).fullmatch(normal), (
        f"{where}: output differs\n--- expected\n{expected}\n--- got\n{actual}"
    )


def run_cli(command: str) -> tuple[int, str, str]:
    argv = shlex.split(command, comments=True)
    assert argv[0] == "seccompose", command
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv[1:])
    return code, out.getvalue(), err.getvalue()


def run_console(block: Block, where: str) -> None:
    commands: list[tuple[str, list[str]]] = []
    for line in block.body.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif commands:
            commands[-1][1].append(line)
    assert commands, f"{where}: a console block without a '$ ' command"
    for command, expected in commands:
        if not command.startswith("seccompose "):
            continue
        exit_code = re.search(r"#\s*exit\s+(\d+)\s*$", command)
        code, out, err = run_cli(command)
        want = int(exit_code.group(1)) if exit_code else 0
        assert code == want, f"{where}: `{command}` exited {code}, not {want}; stderr: {err}"
        assert_output("\n".join(expected), out, f"{where}: `{command}`")


def check_json(block: Block, where: str) -> None:
    from seccompose._inputs import kind_of
    from seccompose.formats import docker, oci
    from seccompose.templates import Template

    doc: Any = json.loads(block.body)
    kind = kind_of(doc)
    if kind == "template":
        Template.from_dict(doc, source=where)
    elif kind == "docker":
        docker.template_from_docker(doc, source=where)
    elif "linux" in doc and not isinstance(doc["linux"].get("seccomp"), dict):
        return  # a config.json before its profile is added (the runtimes how-to)
    else:
        oci.from_dict(doc, source=where)


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_page_examples(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "100")
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    last_output: str | None = None
    for block in blocks(page.read_text(encoding="utf-8")):
        where = f"{page.relative_to(ROOT)}:{block.line}"
        if block.title:
            Path(block.title).write_text(block.body, encoding="utf-8")
        if block.lang == "console":
            run_console(block, where)
        elif block.lang == "sh":
            for line in block.body.splitlines():
                if line.startswith("seccompose "):
                    code, _, err = run_cli(line)
                    assert code == 0, f"{where}: `{line}` exited {code}: {err}"
        elif block.lang == "python":
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(block.body, where, "exec"), namespace)  # noqa: S102 - the docs' own examples
            last_output = out.getvalue()
        elif block.lang == "text" and block.before.strip().endswith("prints"):
            assert last_output is not None, f"{where}: 'prints' without a python block before it"
            assert_output(block.body, last_output, where)
        elif block.lang == "json":
            check_json(block, where)
        elif block.lang == "yaml":
            yaml.safe_load(block.body)


def test_pages_have_runnable_examples() -> None:
    # The hand-written pages each show at least one example that runs.
    for name in (
        "index.md",
        "model.md",
        "howto/extend-docker-default.md",
        "howto/profile-from-trace.md",
        "howto/runtimes.md",
    ):
        langs = {b.lang for b in blocks((DOCS / name).read_text(encoding="utf-8"))}
        assert langs & {"console", "python"}, name


def test_expected_output_matcher() -> None:
    # The matcher itself must be able to fail.
    assert expected_regex("a ... c\n...\nz\n").fullmatch("a b c\nx\ny\nz\n")
    assert not expected_regex("a ... c\n").fullmatch("a b d\n")
    assert not expected_regex("one\n").fullmatch("one\ntwo\n")


def test_generated_pages_are_up_to_date() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_docs.py"), "--check"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_lint_rules_page_lists_every_rule() -> None:
    from seccompose.lint import RULES

    text = (DOCS / "generated" / "lint-rules.md").read_text(encoding="utf-8")
    for r in RULES:
        assert f"## `{r.id}` {{#{r.id}}}" in text


@pytest.mark.slow
def test_mkdocs_build_strict(tmp_path: Path) -> None:
    mkdocs = shutil.which("mkdocs")
    if mkdocs is None:
        pytest.skip("mkdocs is not installed (dependency group 'docs')")
    done = subprocess.run(
        [mkdocs, "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": str(Path(mkdocs).parent)},
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_every_policy_reference_example_is_a_valid_policy() -> None:
    from seccompose.policy import Policy

    page = DOCS / "generated" / "policy.md"
    examples = [b for b in blocks(page.read_text(encoding="utf-8")) if b.lang == "yaml"]
    assert len(examples) >= 10
    for block in examples:
        doc = yaml.safe_load(block.body)
        Policy.from_dict(doc, source=f"{page.name}:{block.line}", base_dir=DOCS / "examples")


def test_a_policy_reference_example_can_fail() -> None:
    # The check above would catch a bad example: the validator refuses one.
    from seccompose.errors import FormatError
    from seccompose.policy import Policy

    with pytest.raises(FormatError, match="unconfined"):
        Policy.from_dict({"unconfined": "sometimes"})


# Each engine's how-to shows the config files the engine tests run, as they are.
HOWTO_FILES = [
    ("howto/docker.md", "policy.yaml", "examples/policy.yaml"),
    ("howto/docker.md", "daemon.json", "examples/docker/daemon.json"),
    ("howto/podman.md", "containers.conf", "examples/podman/containers.conf"),
    ("howto/containerd.md", "config.toml", "examples/containerd/config.toml"),
    ("howto/kubernetes.md", "runtimeclass.yaml", "examples/kubernetes/runtimeclass.yaml"),
    ("howto/kubernetes.md", "pod.yaml", "examples/kubernetes/pod.yaml"),
]


@pytest.mark.parametrize(("page", "title", "example"), HOWTO_FILES)
def test_howto_config_is_the_tested_file(page: str, title: str, example: str) -> None:
    shown = [b.body for b in blocks((DOCS / page).read_text(encoding="utf-8")) if b.title == title]
    assert shown == [(DOCS / example).read_text(encoding="utf-8")], f"{page}: {title} differs from docs/{example}"

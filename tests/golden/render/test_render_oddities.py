"""Profiles the engines accept although they are odd: rendered exactly as each engine renders them.

``oddities/*.json`` are hand-made profiles, each exercising one corner of the engines'
decoders or ``setupSeccomp`` (keys in another case, ``null``, a rule without names, an
unknown action, a duplicate archMap entry, errno names, ...). ``oddities/expected.json``
holds, per profile and engine, what the engine writes into the container's ``linux.seccomp``
(or that it runs the container unconfined, refuses the profile, or crashes), worked out by
hand from the engines' source (the file's ``_host`` entry says for which container). The same
profiles run through the real Docker 20.10 and Podman 4.3 in ``test_render_oddities_real.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from seccompose.arch import Arch
from seccompose.caps import DOCKER_DEFAULT_CAPABILITIES
from seccompose.cli import main
from seccompose.engines import ENGINES, engine_document, setup
from seccompose.errors import EngineRefusedError

ODDITIES = Path(__file__).parent / "oddities"
EXPECTED: dict[str, Any] = json.loads((ODDITIES / "expected.json").read_text(encoding="utf-8"))
NAMES = sorted(k for k in EXPECTED if not k.startswith("_"))
CAPS = sorted(c.name for c in DOCKER_DEFAULT_CAPABILITIES)


def test_every_profile_has_its_golden() -> None:
    assert sorted(p.stem for p in ODDITIES.glob("*.json") if p.name != "expected.json") == NAMES


def test_at_least_thirty_are_accepted_by_an_engine() -> None:
    accepted = [n for n in NAMES if any(not _refused(EXPECTED[n][e]) for e in ENGINES)]
    assert len(accepted) >= 30, accepted


def _refused(want: object) -> bool:
    return isinstance(want, dict) and ("refuses" in want or "panics" in want)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", NAMES)
def test_render_as_the_engine(name: str, engine: str) -> None:
    want = EXPECTED[name][engine]
    data = (ODDITIES / f"{name}.json").read_bytes()

    def run() -> dict[str, Any] | None:
        doc = engine_document(data, engine=engine, source=name)  # type: ignore[arg-type]
        return setup(doc, engine=engine, arch=Arch.X86_64, caps=CAPS, kernel=(6, 1))  # type: ignore[arg-type]

    if _refused(want):
        with pytest.raises(EngineRefusedError) as info:
            run()
        fragment = want.get("refuses") or want["panics"]
        assert fragment in str(info.value)
        assert info.value.panic == ("panics" in want)
        return
    assert json.dumps(run()) == json.dumps(want)  # key order and null vs [] included


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", NAMES)
def test_cli_render(name: str, engine: str, capsys: pytest.CaptureFixture[str]) -> None:
    want = EXPECTED[name][engine]
    code = main(["render", str(ODDITIES / f"{name}.json"), "--engine", engine, "--arch", "x86_64", "--kernel", "6.1"])
    out, err = capsys.readouterr()
    if _refused(want):
        assert code == 2
        assert "internal error" not in err
        return
    assert code == 0, err
    assert json.loads(out) == want
    if want is None:
        assert "runs unconfined" in err


@pytest.mark.parametrize("name", NAMES)
def test_lint_reports_each_oddity(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    # issue 15: lint reports each oddity with its own rule id and exits 1; exit 2 only for what is no profile
    want = EXPECTED[name]["lint"]
    path = str(ODDITIES / f"{name}.json")
    argv = ["lint", path, "--format", "json", "--engine", "docker", "--engine", "docker-20.10", "--engine", "podman"]
    argv += ["--runtime", "none"]  # (small samples: none holds what runc needs to start a container)
    if want == "ignored-by-engine":  # what one engine ignores is a warning: --strict fails on it
        argv.append("--strict")
    code = main(argv)
    out, err = capsys.readouterr()
    if want is None:
        doc = json.loads((ODDITIES / f"{name}.json").read_text(encoding="utf-8-sig"))
        assert code == (2 if not isinstance(doc, dict) else 0), (out, err)
        return
    assert code == 1, (out, err)
    assert want in {f["id"] for f in json.loads(out)["findings"]}


def test_lint_ids_of_the_oddities() -> None:
    lint_ids = {EXPECTED[n]["lint"] for n in NAMES} - {None}
    assert len(lint_ids) >= 25
    linted = [n for n in NAMES if EXPECTED[n]["lint"] is not None]
    accepted = [n for n in linted if any(not _refused(EXPECTED[n][e]) for e in ENGINES)]
    assert len(accepted) >= 30, accepted

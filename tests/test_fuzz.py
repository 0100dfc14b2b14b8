"""A short round of the mutation fuzzer (``nox -s fuzz`` runs 100,000 inputs): no internal error, no hang."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests import fuzz


def test_a_short_fuzz_round(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert fuzz.main(["--count", "300", "--jobs", "1", "--seed", "1", "--out", str(tmp_path)]) == 0
    assert "fuzz: 300 inputs" in capsys.readouterr().out


def test_the_mutations_change_the_fixtures() -> None:
    rnd = random.Random(2)
    data = fuzz.PROFILES[0].read_bytes()
    changed = sum(fuzz._mutated(data, "profile", rnd) != data for _ in range(50))
    assert changed >= 35


def test_an_internal_error_fails_the_round(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the fuzzer must be able to fail: plant a crash in one reader and run one chunk in this process
    from seccompose import lint

    def crash(*args: object, **kwargs: object) -> object:
        raise KeyError("planted")

    monkeypatch.setattr(lint, "lint_file", crash)
    count, failures, _ = fuzz._worker((3, 0, 20, str(tmp_path), 10.0, False))
    assert count == 20
    assert failures
    assert all(name == "lint" and "planted" in why for name, _, why in failures)

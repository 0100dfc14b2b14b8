"""Shared test fixtures: reference files and the OCI JSON Schema validator."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tests.ci_skips import (  # noqa: F401 - pytest hooks, found here by name
    pytest_collection_modifyitems,
    pytest_runtest_logreport,
    pytest_sessionfinish,
    pytest_terminal_summary,
)

FIXTURES = Path(__file__).parent / "fixtures"
REFERENCE = FIXTURES / "reference"

# What lint/check/compose warn about depends on the target engines, by default those installed; the
# tests pin the newest readings so that their results do not depend on the machine.
os.environ.setdefault("SECCOMPOSE_ENGINES", "docker,podman")
# compose keeps its output between runs (seccompose._cli_cache); the tests compose afresh, and
# tests/unit/test_cli_cache.py turns it on in a directory of its own.
os.environ.setdefault("SECCOMPOSE_CACHE", "0")

settings.register_profile(
    # CI explores a fixed sequence (a red build must be reproducible); HYPOTHESIS_PROFILE=dev explores anew.
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _oci_validator() -> Any:
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    folder = REFERENCE / "oci-runtime-spec"
    resources = []
    for path in folder.glob("*.json"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        resources.append((path.name, Resource.from_contents(doc, default_specification=DRAFT4)))
    registry = Registry().with_resources(resources)
    # A wrapper schema that checks one linux.seccomp object through the spec's own definition.
    schema = {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "type": "object",
        "properties": {"linux": {"$ref": "config-linux.json#/linux"}},
        "required": ["linux"],
    }
    return jsonschema.Draft4Validator(schema, registry=registry)


@pytest.fixture(scope="session")
def oci_validator() -> Any:
    return _oci_validator()


@pytest.fixture(scope="session")
def validate_oci(oci_validator: Any) -> Any:
    """Validate a linux.seccomp object against the OCI runtime-spec JSON Schema."""

    def check(seccomp: dict[str, Any]) -> None:
        errors = sorted(oci_validator.iter_errors({"linux": {"seccomp": seccomp}}), key=str)
        assert not errors, [e.message for e in errors[:5]]

    return check

"""compose --format docker --conditional: the engine's rendering for any capability set is the composition for it."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seccompose import Arch, compose, template_names
from seccompose.caps import Capability, all_capabilities
from seccompose.cli import main
from seccompose.formats import oci
from seccompose.formats.docker_conditional import conditional_dict
from seccompose.render import render

ALL = sorted(all_capabilities(), key=lambda c: c.number)
any_caps = st.frozensets(st.sampled_from(ALL), max_size=len(ALL))


@functools.cache
def _doc(base: str, arch: Arch, deny: tuple[str, ...]) -> dict[str, Any]:
    return conditional_dict(base, arch=arch, deny=deny, no_new_privileges=False)


@settings(max_examples=40, deadline=None)
@given(
    base=st.sampled_from(sorted(template_names())),
    arch=st.sampled_from([Arch.X86_64, Arch.AARCH64]),
    caps=any_caps,
    deny=st.sampled_from([(), ("ptrace",), ("mount", "unshare")]),
)
def test_the_engines_rendering_is_the_composition(base: str, arch: Arch, caps: frozenset[Capability], deny: tuple[str, ...]) -> None:
    engine: Literal["docker", "podman"] = "podman" if base == "podman-default" else "docker"
    rendered = render(_doc(base, arch, deny), engine=engine, arch=arch, caps=[c.name for c in caps], kernel="7.0")
    assert oci.from_dict(rendered) == compose(base, arch=arch, caps=caps, deny=deny, no_new_privileges=False)


def test_sys_admin_unlocks_what_dockers_default_unlocks() -> None:
    doc = _doc("default", Arch.X86_64, ())
    reference = json.loads((Path(__file__).parents[1] / "fixtures" / "reference" / "profiles" / "docker-default-moby-profiles-cd3bed8.json").read_text())
    caps = [c.name for c in all_capabilities() if c.name in {
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"}]  # fmt: skip

    def unlocked(profile: dict[str, Any]) -> set[str]:
        def allowed(extra: list[str]) -> frozenset[str]:
            return oci.from_dict(render(profile, engine="docker", arch=Arch.X86_64, caps=caps + extra, kernel="7.0")).allowed()

        return set(allowed(["CAP_SYS_ADMIN"]) - allowed([]))

    assert unlocked(doc) == unlocked(reference)


def test_the_cli_writes_it_and_refuses_capability_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "default.json"
    argv = ["compose", "--base", "default", "--format", "docker", "--conditional", "--arch", "x86_64",
            "--no-new-privileges", "false"]  # fmt: skip
    assert main([*argv, "-o", str(out)]) == 0
    assert json.loads(out.read_text()) == _doc("default", Arch.X86_64, ())
    assert main([*argv, "--cap-add", "SYS_ADMIN"]) == 2
    assert "--cap-add and --conditional exclude each other" in capsys.readouterr().err
    assert main(["compose", "--conditional"]) == 2
    assert "add --format docker" in capsys.readouterr().err

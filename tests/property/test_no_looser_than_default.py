"""The law: no app template is looser than ``default`` for the same container, arguments included.

For every app template, random capability sets and both host arches, each syscall's allowed
argument space under the composed template is a subset of its space under ``default``
composed for the same container (``seccompose.looser``), unless the template declares the
syscall in ``looserThanDefault`` with a reason. ``podman-default`` is exempt: it is what
Podman ships, and Podman allows the ``clone`` namespace flags Docker withholds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seccompose import Arch, compose, template_names
from seccompose.caps import DOCKER_DEFAULT_CAPABILITIES, Capability, all_capabilities
from seccompose.cli import main
from seccompose.loader import load_template
from seccompose.looser import looser_than

EXEMPT = {"default": "the base itself", "podman-default": "what Podman ships: it allows clone's namespace flags"}
APPS = [t for t in template_names() if t not in EXEMPT]
SYS_ADMIN = Capability("CAP_SYS_ADMIN")
ALL_CAPS = sorted(all_capabilities(), key=lambda c: c.number)
capsets: st.SearchStrategy[frozenset[Capability]] = st.one_of(
    st.just(frozenset()),
    st.just(DOCKER_DEFAULT_CAPABILITIES),
    st.just(frozenset(ALL_CAPS)),
    st.frozensets(st.sampled_from(ALL_CAPS), max_size=12),
)
runtimes = st.sampled_from([("runc,crun", False), ("runc", True), ("crun", False), (None, False)])


def _check(name: str, arch: Arch, caps: frozenset[Capability], runtime: str | None, *, nnp: bool) -> None:
    template = load_template(name)
    mine = compose(name, arch=arch, caps=caps, runtime=runtime, no_new_privileges=nnp)
    base = compose("default", arch=arch, caps=caps, runtime=runtime, no_new_privileges=nnp)
    report = looser_than(mine, base, exceptions=dict(template.looser_than_default), profile_name=name, base_name="default")
    assert report.ok, f"{name} on {arch.value} with {sorted(c.name for c in caps)}:\n{report.format_text()}"


@pytest.mark.parametrize("name", APPS)
@settings(max_examples=25)
@given(arch=st.sampled_from([Arch.X86_64, Arch.AARCH64]), caps=capsets, runtime=runtimes)
def test_no_app_template_is_looser_than_default(
    name: str, arch: Arch, caps: frozenset[Capability], runtime: tuple[str | None, bool]
) -> None:
    _check(name, arch, caps, runtime[0], nnp=runtime[1])


@pytest.mark.parametrize("name", APPS)
@pytest.mark.parametrize("arch", [Arch.X86_64, Arch.AARCH64])
def test_no_app_template_is_looser_than_default_with_the_usual_capabilities(name: str, arch: Arch) -> None:
    """The containers people run: Docker's defaults, --cap-drop ALL, and CAP_SYS_ADMIN (clone outright)."""
    for caps in (DOCKER_DEFAULT_CAPABILITIES, frozenset(), frozenset({SYS_ADMIN})):
        _check(name, arch, caps, "runc,crun", nnp=False)


@pytest.mark.parametrize("name", APPS)
def test_declared_exceptions_have_reasons(name: str) -> None:
    for syscall, reason in load_template(name).looser_than_default:
        assert len(reason.split()) >= 4, f"{name}: the reason for {syscall} says too little: {reason!r}"


def test_podman_default_is_exempt_because_it_is_looser() -> None:
    """Why podman-default is exempt: what Podman ships allows clone's namespace flags without CAP_SYS_ADMIN."""
    report = looser_than(compose("podman-default", arch=Arch.X86_64, caps=[]), compose("default", arch=Arch.X86_64, caps=[]))
    assert "clone" in report.names()


def test_the_cli_passes_every_app_template(capsys: pytest.CaptureFixture[str]) -> None:
    for name in APPS:
        assert main(["diff", "--no-looser-than", "default", name, "--arch", "x86_64", "--cap-drop", "ALL"]) == 0, name
        assert "is no looser than default" in capsys.readouterr().out


def test_the_cli_fails_a_hand_made_looser_profile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Docker's default for a container without capabilities, except that clone and socket lost their conditions.
    assert main(["compose", "--base", "default", "--cap-drop", "ALL", "--arch", "x86_64", "--format", "docker",
                 "-o", str(tmp_path / "tight.json")]) == 0  # fmt: skip
    assert main(["diff", "--no-looser-than", "default", str(tmp_path / "tight.json"), "--cap-drop", "ALL",
                 "--arch", "x86_64"]) == 0  # fmt: skip
    capsys.readouterr()
    import json

    doc = json.loads((tmp_path / "tight.json").read_text())
    for rule in doc["syscalls"]:
        if rule["names"] in (["clone"], ["socket"]):
            rule.pop("args")
    (tmp_path / "loose.json").write_text(json.dumps(doc))
    rc = main(["diff", "--no-looser-than", "default", str(tmp_path / "loose.json"), "--cap-drop", "ALL", "--arch", "x86_64"])
    out = capsys.readouterr().out
    assert rc == 1
    assert "loose.json allows what default refuses:" in out
    assert "clone(0x20000, 0, 0, 0, 0, 0)" in out  # CLONE_NEWNS: the lowest namespace flag
    assert "socket(0x26, 0, 0, 0, 0, 0)" in out  # AF_ALG
    assert "[x86_64, x86, x32]" in out
    rc = main(["diff", "--no-looser-than", "default", str(tmp_path / "loose.json"), "--cap-drop", "ALL",
               "--arch", "x86_64", "--format", "json"])  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    assert rc == 1
    assert report["ok"] is False
    assert {(e["name"], e["abi"]) for e in report["looser"]} >= {("clone", "x86"), ("socket", "x86_64")}
    # With CAP_SYS_ADMIN default allows clone outright: only socket is left.
    rc = main(["diff", "--no-looser-than", "default", str(tmp_path / "loose.json"), "--cap-drop", "ALL",
               "--cap-add", "SYS_ADMIN", "--arch", "x86_64"])  # fmt: skip
    out = capsys.readouterr().out
    assert rc == 1
    assert "socket(" in out
    assert "clone(" not in out

"""diff: semantic, per-ABI comparison; equal despite textual differences, and each kind of change."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from seccompose import Action, Arch, Arg, Operator, Profile, Rule
from seccompose.diff import diff, diff_files, verdict_of
from seccompose.errors import FormatError, TemplateNotFoundError

REFERENCE = Path(__file__).parents[1] / "fixtures" / "reference" / "profiles"
ABIS = Arch.X86_64.abis


def prof(
    *rules: Rule, default: Action = Action.ERRNO, errno: int | None = None, arches: tuple[Arch, ...] = ABIS
) -> Profile:
    return Profile(default, errno, arches, rules)


def kinds(d: Any, arch: Arch = Arch.X86_64) -> list[tuple[str, str, str]]:
    (ad,) = [x for x in d.arches if x.arch is arch]
    return [(c.name, c.kind, c.what) for c in ad.changes]


def test_equal_despite_rule_layout() -> None:
    # Split vs merged rules, and a deny equal to the default (runtimes drop it): the same filter.
    a = prof(Rule(("read", "write")))
    b = prof(Rule(("write",)), Rule(("read",)), Rule(("kill",), Action.ERRNO, 1))
    d = diff(a, b)
    assert d.equal
    assert d.format_text() == "A and B load the same way"


def test_added_removed_and_changed() -> None:
    a = prof(Rule(("read", "write", "ptrace")), Rule(("kill",), Action.ERRNO, 38))
    b = prof(Rule(("read", "mount")), Rule(("kill",), Action.KILL_PROCESS), Rule(("ptrace",), Action.ERRNO, 38))
    assert kinds(diff(a, b)) == [
        ("mount", "added", "added"),
        ("kill", "changed", "action"),
        ("ptrace", "removed", "removed"),
        ("write", "removed", "removed"),
    ]


def test_errno_change() -> None:
    a = prof(Rule(("read",)), Rule(("clone3",), Action.ERRNO, 1), errno=38)
    b = prof(Rule(("read",)), Rule(("clone3",), Action.ERRNO, 13), errno=38)
    assert kinds(diff(a, b)) == [("clone3", "changed", "errno")]


def test_conditions_change() -> None:
    cond = (Arg(0, Operator.MASKED_EQ, 0x7E020000, 0),)
    a = prof(Rule(("read",)), Rule(("clone",), args=cond))
    b = prof(Rule(("read", "clone")))
    d = diff(a, b)
    assert kinds(d) == [("clone", "changed", "conditions")]
    assert "~ clone" in d.format_text()
    assert "arg0 & 0x7e020000 == 0x0" in d.format_text()


def test_default_change_only_shows_as_a_field_and_on_named_syscalls() -> None:
    a = prof(Rule(("read",)), errno=1)
    b = prof(Rule(("read",)), errno=38)
    d = diff(a, b)
    assert d.fields == (("default", "SCMP_ACT_ERRNO(EPERM)", "SCMP_ACT_ERRNO(ENOSYS)"),)
    assert kinds(d) == []
    assert not d.equal


def test_per_abi_names() -> None:
    # _llseek exists on x86 only; removing it changes nothing on x86_64 or x32.
    a = prof(Rule(("read", "_llseek")))
    b = prof(Rule(("read",)))
    d = diff(a, b)
    assert kinds(d, Arch.X86) == [("_llseek", "removed", "removed")]
    assert kinds(d, Arch.X86_64) == [] and kinds(d, Arch.X32) == []
    assert "x86:\n  - _llseek" in d.format_text()


def test_equal_abis_are_grouped_in_text() -> None:
    d = diff(prof(Rule(("read",))), prof(Rule(("read", "mount"))))
    assert "x86_64, x86, x32:\n  + mount" in d.format_text()


def test_architectures_only_on_one_side() -> None:
    d = diff(prof(Rule(("read",)), arches=(Arch.X86_64,)), prof(Rule(("read",))))
    assert d.arches_only_b == (Arch.X86, Arch.X32)
    assert "architectures only in B: x86, x32" in d.format_text()


def test_arch_restricts_to_the_hosts_abis() -> None:
    a = prof(Rule(("read",)), arches=(*ABIS, Arch.AARCH64))
    b = prof(Rule(("read", "mount")), arches=(*ABIS, Arch.AARCH64))
    assert [x.arch for x in diff(a, b, arch=Arch.AARCH64).arches] == [Arch.AARCH64]
    assert [x.arch for x in diff(a, b).arches] == [*ABIS, Arch.AARCH64]


def test_verdict_of() -> None:
    p = prof(Rule(("read",)), Rule(("kill",), Action.ERRNO, 1), Rule(("clone3",), Action.ERRNO, 38))
    assert verdict_of(p, "read").describe() == "allowed"
    assert verdict_of(p, "kill").default  # dropped by the runtime
    assert verdict_of(p, "clone3").describe() == "SCMP_ACT_ERRNO(ENOSYS)"
    assert verdict_of(p, "mount").describe() == "SCMP_ACT_ERRNO(EPERM) (default)"


def test_json_shape() -> None:
    d = diff(prof(Rule(("read",))), prof(Rule(("read", "mount"))), a_name="a.json", b_name="b.json")
    data = d.to_json()
    assert data["equal"] is False and data["a"] == "a.json"
    assert data["arches"]["x86_64"] == [
        {
            "name": "mount",
            "kind": "added",
            "what": "added",
            "a": {"default": True, "rules": [{"action": "SCMP_ACT_ERRNO", "errnoRet": 1}]},
            "b": {"default": False, "rules": [{"action": "SCMP_ACT_ALLOW"}]},
        }
    ]


def write(tmp_path: Path, name: str, doc: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def test_files_in_different_formats_compare_equal(tmp_path: Path) -> None:
    # The same profile as OCI, as a whole config.json and as an unconditional Docker profile.
    seccomp = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}],
    }
    a = write(tmp_path, "a.json", seccomp)
    b = write(tmp_path, "config.json", {"ociVersion": "1.0.2", "linux": {"seccomp": seccomp}})
    docker = dict(
        seccomp,
        syscalls=[
            {"names": ["write"], "action": "SCMP_ACT_ALLOW", "comment": "out"},
            {"name": "read", "action": "SCMP_ACT_ALLOW"},
        ],
    )
    c = write(tmp_path, "docker.json", docker)
    assert diff_files(a, b, arch=Arch.X86_64).equal
    assert diff_files(a, c, arch=Arch.X86_64).equal


def test_docker_default_equals_the_default_template_on_x86_64() -> None:
    # The default template is built to load what Docker's current default loads (issue 4).
    d = diff_files(
        str(REFERENCE / "docker-default-moby-profiles-cd3bed8.json"), "default", arch=Arch.X86_64, runtime=None
    )
    assert d.equal, d.format_text()


def test_docker_20_10_to_current() -> None:
    d = diff_files(
        str(REFERENCE / "docker-default-20.10.24.json"),
        str(REFERENCE / "docker-default-moby-profiles-cd3bed8.json"),
        arch=Arch.X86_64,
    )
    changes = {(c.name, c.kind, c.what) for c in d.arches[0].changes}
    # moby removed io_uring, added the 6.x syscalls and stopped AF_ALG/AF_VSOCK sockets
    assert {
        ("io_uring_setup", "removed", "removed"),
        ("io_uring_enter", "removed", "removed"),
        ("fchmodat2", "added", "added"),
        ("socket", "changed", "conditions"),
    } <= changes
    assert not d.equal


@pytest.mark.parametrize(
    ("spec", "error"),
    [("no-such-template", TemplateNotFoundError), ("missing.json", TemplateNotFoundError)],
)
def test_unreadable_inputs(spec: str, error: type[Exception], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error):
        diff_files(spec, "default", arch=Arch.X86_64)


def test_malformed_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(FormatError, match="malformed JSON"):
        diff_files(str(bad), "default", arch=Arch.X86_64)

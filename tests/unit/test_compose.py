"""compose() semantics, case by case (the laws are in tests/property)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from seccompose import (
    Action,
    Arch,
    Arg,
    ConflictError,
    InvalidArchError,
    InvalidArgumentError,
    Layer,
    Operator,
    Rule,
    Template,
    compose,
    dumps,
    loads,
)
from seccompose.caps import Capability
from seccompose.templates import Gate, TemplateRule

SYS_ADMIN = Capability("CAP_SYS_ADMIN")
CLONE_NS = Arg(0, Operator.MASKED_EQ, 0x7E020000, 0)


def _c(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
    kwargs.setdefault("runtime", None)
    return compose(*args, **kwargs)  # type: ignore[arg-type]


def test_empty_base_default_eperm_and_host_abis() -> None:
    p = _c(arch=Arch.X86_64)
    assert p.default_action is Action.ERRNO and p.default_errno == 1
    assert p.architectures == (Arch.X86_64, Arch.X86, Arch.X32)
    assert p.rules == ()
    assert _c(arch=Arch.AARCH64).architectures == (Arch.AARCH64, Arch.ARM)


def test_conditional_allow_stays_conditional_and_unconditional_absorbs_it() -> None:
    conditional = Rule(("clone",), args=(CLONE_NS,))
    p = _c(arch=Arch.X86_64, rules=[conditional])
    assert p.explain("clone").verdict == "conditional"
    assert p.explain("clone").conditions == ((CLONE_NS,),)
    q = _c(arch=Arch.X86_64, rules=[conditional], allow=["clone"])
    assert [r.args for r in q.rules] == [()]
    assert q.explain("clone").verdict == "allowed"
    assert q.explain("clone").layers == ("allow",)


def test_deny_removes_a_conditional_allow_whatever_its_conditions() -> None:
    p = _c(arch=Arch.X86_64, rules=[Rule(("clone",), args=(CLONE_NS,))], allow=["clone"], deny=["clone"])
    assert p.rules == ()  # denied with the default's EPERM: no rule needed, the default does it
    assert p.explain("clone").verdict == "denied"


def test_gates_follow_capabilities_like_docker() -> None:
    t = Template(
        name="t",
        rules=(
            TemplateRule(Rule(("mount", "clone")), Gate(includes_caps=frozenset({SYS_ADMIN}))),
            TemplateRule(Rule(("clone",), args=(CLONE_NS,)), Gate(excludes_caps=frozenset({SYS_ADMIN}))),
            TemplateRule(Rule(("clone3",), Action.ERRNO, 38), Gate(excludes_caps=frozenset({SYS_ADMIN}))),
        ),
        capability_map=None,
    )
    without = _c(t, arch=Arch.X86_64)
    # Unconditional rules first; then conditional ones, refusals before allows (libseccomp is order-sensitive).
    assert [(r.names, r.action, r.errno, r.args) for r in without.rules] == [
        (("clone3",), Action.ERRNO, 38, ()),
        (("clone",), Action.ALLOW, None, (CLONE_NS,)),
    ]
    with_admin = _c(t, arch=Arch.X86_64, caps=["SYS_ADMIN"])
    assert [(r.names, r.action) for r in with_admin.rules] == [(("clone", "mount"), Action.ALLOW)]
    assert with_admin.explain("mount").layers == ("template:t",)


def test_capability_layer_uses_the_capability_map_with_provenance() -> None:
    p = _c(arch=Arch.X86_64, caps=["SYS_PTRACE"])
    assert {"ptrace", "process_vm_readv", "kcmp"} <= p.allowed()
    assert p.explain("ptrace").layers == ("capability:CAP_SYS_PTRACE",)
    assert _c(arch=Arch.X86_64, caps=["SYS_PTRACE"], capability_map="kernel").allowed() != p.allowed()


def test_arch_specific_names_skip_with_a_warning() -> None:
    # open is not an aarch64 call, but the host's 32-bit arm ABI has it; arch_prctl and
    # modify_ldt are x86 only
    p = _c(arch=Arch.AARCH64, allow=["open", "openat", "arch_prctl", "modify_ldt"])
    assert p.allowed() == {"open", "openat"}
    assert any("'modify_ldt' does not exist on aarch64" in w for w in p.warnings)
    assert any("'arch_prctl' does not exist on aarch64" in w for w in p.warnings)


def test_x86_64_host_allows_i386_only_names() -> None:
    assert "_llseek" in _c(arch=Arch.X86_64, allow=["_llseek"]).allowed()


def test_errno_policy() -> None:
    eperm = _c(arch=Arch.X86_64, allow=["read"], deny=["kill"])
    assert (eperm.default_action, eperm.default_errno) == (Action.ERRNO, 1)
    assert [r.action for r in eperm.rules] == [Action.ALLOW]
    enosys = _c(arch=Arch.X86_64, allow=["read"], deny=["kill"], errno_policy="enosys")
    assert (enosys.default_action, enosys.default_errno) == (Action.ERRNO, 38)
    # The deliberate deny must differ from the default or runc would skip it; here EPERM vs ENOSYS.
    assert [(r.names, r.errno) for r in enosys.rules if r.action is Action.ERRNO] == [(("kill",), 1)]


def test_deny_list_profile_emits_denies() -> None:
    p = _c(arch=Arch.X86_64, default_action=Action.ALLOW, deny=["ptrace", "mount"])
    assert [(r.names, r.action, r.errno) for r in p.rules] == [(("mount", "ptrace"), Action.ERRNO, 1)]


def test_conflicting_hard_decisions_are_an_error() -> None:
    layers = [
        Layer("a", (Rule(("kill",), Action.ERRNO, 38),)),
        Layer("b", (Rule(("kill",), Action.KILL_PROCESS),)),
    ]
    with pytest.raises(ConflictError, match="'kill' gets SCMP_ACT_ERRNO"):
        _c(arch=Arch.X86_64, layers=layers)


def test_conditional_deny_is_refused() -> None:
    with pytest.raises(ConflictError, match="deny rules cannot have argument conditions"):
        _c(arch=Arch.X86_64, layers=[Layer("d", (Rule(("kill",), Action.ERRNO, args=(Arg(0, Operator.EQ, 1),)),), deny=True)])


def test_provenance_lists_every_layer_that_allowed() -> None:
    p = _c(arch=Arch.X86_64, caps=["SYS_PTRACE"], allow=["ptrace", "read"])
    assert p.explain("ptrace").layers == ("capability:CAP_SYS_PTRACE", "allow")
    assert p.explain("write").verdict == "default"


def test_profile_base_round_trip() -> None:
    p = _c(arch=Arch.X86_64, allow=["read", "write"], rules=[Rule(("clone",), args=(CLONE_NS,))])
    assert loads(dumps(p)) == p
    assert _c(loads(dumps(p)), arch=Arch.X86_64) == p


def test_output_is_identical_across_hash_seeds() -> None:
    code = (
        "from seccompose import compose, dumps, Arch;"
        "print(dumps(compose(arch=Arch.X86_64, caps=['SYS_ADMIN','NET_ADMIN','CHOWN'],"
        " allow=['read','write','io_uring_setup'], deny=['mount'], runtime=None)))"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("0", "1", "12345")
    }
    assert len(outs) == 1
    doc = json.loads(outs.pop())
    names = doc["syscalls"][0]["names"]
    assert names == sorted(names)


def test_runtime_base_set_is_added_and_ported_per_arch() -> None:
    from seccompose.runtime import runtime_base

    for arch in (Arch.X86_64, Arch.AARCH64):
        # By default: every runtime's set, for noNewPrivileges false (how Docker, Podman and Kubernetes run).
        p = compose(arch=arch)
        assert p.allowed() == runtime_base("runc", arch=arch, no_new_privileges=False) | runtime_base(
            "crun", arch=arch, no_new_privileges=False
        )
        assert {"setuid", "setresuid", "capset", "setgroups"} <= p.allowed()
        assert p.explain("execve").layers == ("runtime:runc,crun",)
        assert p.warnings == ()
        runc = compose(arch=arch, runtime="runc", no_new_privileges=True)
        assert runc.allowed() == runtime_base("runc", arch=arch, no_new_privileges=True)
        assert runc.explain("execve").layers == ("runtime:runc",)
    assert compose(arch=Arch.X86_64, runtime="crun", no_new_privileges=True).allowed() == {"execve"}
    assert compose(arch=Arch.X86_64, runtime=("crun", "runc")) == compose(arch=Arch.X86_64, runtime="runc,crun")
    assert compose(arch=Arch.X86_64, runtime=None).allowed() == frozenset()


@pytest.mark.parametrize("bad", ["runx", "runc,", ["runc"], 7, ""])
def test_an_unknown_runtime_is_a_typed_error(bad: object) -> None:
    from seccompose.errors import InvalidRuntimeError

    if bad == "runc,":  # a trailing comma is harmless: the one runtime named
        assert compose(arch=Arch.X86_64, runtime="runc,").allowed() == compose(arch=Arch.X86_64, runtime="runc").allowed()
        return
    with pytest.raises(InvalidRuntimeError, match="no runtime base set for"):
        compose(arch=Arch.X86_64, runtime=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [[["read"]], [3], ["read", None]])
@pytest.mark.parametrize("where", ["allow", "deny"])
def test_names_that_are_not_strings_are_a_typed_error(bad: list[object], where: str) -> None:
    with pytest.raises(InvalidArgumentError, match=rf"is not a syscall name.* at {where}\[\d\]"):
        compose("default", arch=Arch.X86_64, **{where: bad})  # type: ignore[arg-type]


def test_capabilities_and_names_are_read_the_same_whatever_the_container() -> None:
    # A generator is read once; repeats and both spellings of a capability count once.
    caps = ["CAP_SYS_ADMIN", "SYS_PTRACE", "CAP_NET_ADMIN"]
    expected = compose("default", arch=Arch.X86_64, caps=caps, allow=["bpf"], deny=["mount"], runtime=None)
    for given in (tuple(caps), frozenset(caps), set(caps), iter(caps), (c for c in caps), [*caps, "CAP_SYS_PTRACE"]):
        sys.modules["seccompose._compose_fast"]._CAP_BITS.clear()  # each capability parsed anew, mid-iterator
        got = compose("default", arch=Arch.X86_64, caps=given, allow=("bpf", "bpf"), deny=iter(["mount"]), runtime=None)
        assert got == expected
        assert dumps(got) == dumps(expected)


@pytest.mark.parametrize(("name", "arch"), [("x86_64", Arch.X86_64), ("amd64", Arch.X86_64), ("arm64", Arch.AARCH64)])
def test_arch_by_name_composes_what_the_arch_does(name: str, arch: Arch) -> None:
    for _ in range(2):  # the second call finds the family kept under the name
        got = compose("default", arch=name, caps=["CAP_SYS_ADMIN"], allow=["read"], deny=["mount"])
        want = compose("default", arch=arch, caps=["CAP_SYS_ADMIN"], allow=["read"], deny=["mount"])
        assert got == want
        assert dumps(got) == dumps(want)


@pytest.mark.parametrize("bad", ["sparc", None, 3, ["x86_64"]])
def test_an_arch_that_is_not_one_is_a_typed_error(bad: object) -> None:
    # Not an AttributeError or TypeError from deep inside: the argument is named, with the choices.
    with pytest.raises(InvalidArchError, match=r"unknown architecture .* at arch.*x86_64"):
        compose("default", arch=bad)  # type: ignore[arg-type]

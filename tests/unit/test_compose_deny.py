"""A deny is a deny: families, multiplexers, the exact opt-out, and what explain, diff and check say.

Where a test asks what the runtime does, it compiles the profile with the real libseccomp and
runs the BPF (tests/filters.py), not the profile's own rules.
"""

from __future__ import annotations

import errno

import pytest

from seccompose import Action, Arch, Arg, Layer, Operator, Profile, Rule, compose
from seccompose.diff import diff, verdict_of
from seccompose.explain import explain
from seccompose.profile import loaded_rules
from seccompose.syscalls import table

pytest.importorskip("pyseccomp", reason="the 'check' extra (pyseccomp + libseccomp.so.2) is not installed")

from tests.filters import Call, compile_profile

SOCKETCALL, IPC = 102, 117


def run(profile: Profile, abi: Arch, name: str, *args: int) -> tuple[Action, int | None]:
    out = Call(abi, table(abi).number(name), name, (*args, 0, 0, 0, 0, 0, 0)[:6]).run(compile_profile(profile))
    return out.action, out.errno


def refused(profile: Profile, abi: Arch, name: str, *args: int, errno_: int = errno.EPERM) -> bool:
    return run(profile, abi, name, *args) == (Action.ERRNO, errno_)


def allowed(profile: Profile, abi: Arch, name: str, *args: int) -> bool:
    return run(profile, abi, name, *args)[0] is Action.ALLOW


@pytest.mark.parametrize("policy", ["eperm", "enosys"])
def test_a_deny_takes_the_family_on_every_abi(policy: str) -> None:
    p = compose("default", arch=Arch.X86_64, deny=["setuid", "mmap", "umount2"], errno_policy=policy)  # type: ignore[arg-type]
    for abi, name in [
        (Arch.X86_64, "setuid"), (Arch.X86, "setuid"), (Arch.X86, "setuid32"), (Arch.X32, "setuid"),
        (Arch.X86_64, "mmap"), (Arch.X86, "mmap"), (Arch.X86, "mmap2"), (Arch.X86, "umount"),
    ]:  # fmt: skip
        assert refused(p, abi, name), (abi, name)
    assert p.explain("setuid32").verdict == "denied" and p.explain("setuid32").layers == ("deny",)
    assert allowed(p, Arch.X86, "setgid32")  # the neighbours stay


def test_a_deny_of_the_i386_name_takes_the_x86_64_one() -> None:
    p = compose("default", arch=Arch.X86_64, deny=["_llseek", "fstatat64"])
    assert refused(p, Arch.X86_64, "lseek") and refused(p, Arch.X86_64, "newfstatat")


def test_aarch64_hosts_deny_the_arm_names() -> None:
    p = compose("default", arch=Arch.AARCH64, deny=["sendto", "newfstatat"])
    assert refused(p, Arch.ARM, "send") and refused(p, Arch.ARM, "fstatat64") and refused(p, Arch.AARCH64, "sendto")


def test_deny_exact_keeps_the_old_reading() -> None:
    p = compose("default", arch=Arch.X86_64, deny_exact=["setuid", "socket"])
    assert refused(p, Arch.X86_64, "setuid") and allowed(p, Arch.X86, "setuid32")
    assert allowed(p, Arch.X86, "socketcall", 1)  # nor through the multiplexer
    assert p.explain("setuid").layers == ("deny-exact",)
    layered = compose("default", arch=Arch.X86_64, layers=[Layer("rule:x", (Rule(("setuid",)),), deny=True, exact=True)])
    assert allowed(layered, Arch.X86, "setuid32")


@pytest.mark.parametrize("policy", ["eperm", "enosys"])
def test_a_denied_socket_or_ipc_call_is_refused_through_its_multiplexer(policy: str) -> None:
    p = compose("default", arch=Arch.X86_64, deny=["socket", "semget", "sendto"], errno_policy=policy)  # type: ignore[arg-type]
    assert refused(p, Arch.X86, "socketcall", 1)  # SYS_SOCKET
    assert refused(p, Arch.X86, "socketcall", 9) and refused(p, Arch.X86, "socketcall", 11)  # SYS_SEND is sendto's
    assert refused(p, Arch.X86, "ipc", 2) and refused(p, Arch.X86, "ipc", 2 | 1 << 16)  # SEMGET, any version
    assert allowed(p, Arch.X86, "socketcall", 2) and allowed(p, Arch.X86, "ipc", 3)  # SYS_BIND, SEMCTL
    assert allowed(p, Arch.X86, "ipc", 3 | 1 << 16)  # socketcall's other calls keep every version they had
    assert p.explain("socketcall").verdict == "conditional"


@pytest.mark.parametrize(("policy", "errno_"), [("eperm", errno.ENOSYS), ("enosys", errno.EPERM)])
def test_a_denied_multiplexer_is_refused_outright_in_every_policy(policy: str, errno_: int) -> None:
    p = compose("default", arch=Arch.X86_64, deny=["socketcall", "ipc"], errno_policy=policy)  # type: ignore[arg-type]
    for call in (1, 2, 9, 11, 20):
        assert refused(p, Arch.X86, "socketcall", call, errno_=errno_)
    for call in (1, 2, 3, 11, 21, 24):
        assert refused(p, Arch.X86, "ipc", call, errno_=errno_)
    assert allowed(p, Arch.X86, "bind")  # the direct calls stay
    assert p.explain("socketcall").verdict == "denied"
    # EPERM is the default's: runc would drop that rule, so the refusal says ENOSYS, and compose says why
    assert any("refused with ENOSYS, not EPERM" in w for w in p.warnings) is (policy == "eperm")


def test_strict_multiplexers_refuse_socketcall_when_socket_has_conditions() -> None:
    plain = compose("default", arch=Arch.X86_64)
    assert any("socketcall(SYS_SOCKET) with any arguments" in w for w in plain.warnings)
    assert allowed(plain, Arch.X86, "socketcall", 1) and allowed(plain, Arch.X86, "socket", 40) is False
    strict = compose("default", arch=Arch.X86_64, strict_multiplexers=True)
    assert refused(strict, Arch.X86, "socketcall", 1, errno_=errno.ENOSYS)
    assert allowed(strict, Arch.X86, "socket", 2) and refused(strict, Arch.X86, "socket", 40)
    assert not any("any arguments" in w for w in strict.warnings)


def test_podman_socket_rules_leave_socketcall_all_or_nothing() -> None:
    # Podman's socket rules allow and refuse under conditions: libseccomp adds both to socketcall and
    # refuses a per-call allow beside them. So a deny of bind refuses socketcall outright, and says so.
    p = compose("podman-default", arch=Arch.X86_64, deny=["bind"])
    from seccompose.check import check
    from seccompose.formats.oci import to_dict

    assert not [f for f in check(to_dict(p)).problems if f.kind == "rejected"]
    assert refused(p, Arch.X86, "socketcall", 2) and refused(p, Arch.X86, "socketcall", 1)
    assert any("socketcall is refused outright" in w for w in p.warnings)


def test_a_denied_call_only_the_multiplexer_runs() -> None:
    # an i386 host has no accept: socketcall(SYS_ACCEPT) is the only way, and the deny refuses it
    p = compose("default", arch=Arch.X86, deny=["accept"])
    assert refused(p, Arch.X86, "socketcall", 5) and allowed(p, Arch.X86, "socketcall", 18)


def test_no_x86_no_multiplexer_rules() -> None:
    p = compose("default", arch=Arch.AARCH64, deny=["socket"])
    assert not any("socketcall" in r.names or "ipc" in r.names for r in p.rules)


def test_loaded_rules_are_the_runtimes() -> None:
    twice = Rule(("personality",), args=(Arg(0, Operator.EQ, 0), Arg(0, Operator.EQ, 8)))
    socket = Rule(("socket",), args=(Arg(0, Operator.LT, 38), Arg(1, Operator.EQ, 1)))
    p = Profile(architectures=Arch.X86_64.abis, rules=(twice, socket, Rule(("kill",), Action.ERRNO, 1)))
    assert [r.args for r in loaded_rules(p, "personality")] == [(Arg(0, Operator.EQ, 0),), (Arg(0, Operator.EQ, 8),)]
    # socketcall gets socket's rule with its call number for the first argument, the rest kept
    assert [r.args for r in loaded_rules(p, "socketcall")] == [(Arg(0, Operator.EQ, 1), Arg(1, Operator.EQ, 1))]
    assert loaded_rules(p, "socketcall", abi=Arch.X86_64) == ()
    assert loaded_rules(p, "kill") == ()  # equal to the default: dropped
    e = explain("personality", p)
    assert e.verdict == "conditional" and len(e.conditions) == 2
    assert "  if arg0 == 0x0\n  or if arg0 == 0x8" in e.format_text()


def test_diff_prints_conditions_as_the_runtime_ors_them() -> None:
    twice = Rule(("personality",), args=(Arg(0, Operator.EQ, 0), Arg(0, Operator.EQ, 8)))
    a = Profile(architectures=(Arch.X86_64,), rules=(Rule(("read",)),))
    b = Profile(architectures=(Arch.X86_64,), rules=(Rule(("read",)), twice))
    text = diff(a, b).format_text()
    assert "allowed if arg0 == 0x0 | allowed if arg0 == 0x8" in text and " and " not in text
    assert verdict_of(b, "personality").allows


def test_explain_takes_its_verdict_from_the_rules() -> None:
    # A deny layer names read, but a later rule bug would leave it allowed: explain must say allowed.
    p = compose("default", arch=Arch.X86_64, deny=["read"])
    leaky = Profile(p.default_action, p.default_errno, p.architectures, (*p.rules, Rule(("read",))), p.flags)
    object.__setattr__(leaky, "_explain", p._explain)  # the same layers, other rules
    assert p.explain("read").verdict == "denied"
    assert leaky.explain("read").verdict == "allowed" and leaky.explain("read").layers == ("deny",)

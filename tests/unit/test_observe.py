"""Observed profiles: what becomes NOTIFY, what stays with the kernel, and what the metadata answers."""

from __future__ import annotations

import errno
import json
from typing import Any

import pytest

from seccompose import Action, Arch, Profile, Rule, compose
from seccompose.caps import DOCKER_DEFAULT_CAPABILITIES
from seccompose.errors import FormatError, InvalidArgumentError
from seccompose.formats.oci import dumps
from seccompose.observe import (
    Metadata,
    Refusal,
    _complement,
    filter_matches,
    log_refusals,
    observe,
    profile_digest,
)
from seccompose.phases import Ready, Startup
from seccompose.rules import Arg, Operator
from seccompose.syscalls import host_names

SOCK = "/run/seccompose/agent.sock"
U64 = (1 << 64) - 1


def notified(profile: Profile) -> set[str]:
    return {n for r in profile.rules if r.action is Action.NOTIFY and not r.args for n in r.names}


def conditional_notify(profile: Profile, name: str) -> list[tuple[Arg, ...]]:
    return [r.args for r in profile.rules if r.action is Action.NOTIFY and r.args and name in r.names]


def default_with(**kw: Any) -> Profile:
    return compose(
        "default", arch=Arch.X86_64, caps=DOCKER_DEFAULT_CAPABILITIES, runtime="runc", no_new_privileges=False, **kw
    )


# --------------------------------------------------------------------------- what is notified


def test_every_refused_known_name_is_notified_and_nothing_allowed_is() -> None:
    p = default_with(deny=["mkdir"])
    o = observe(p, listener_path=SOCK, runtime="runc")
    allowed = p.allowed()
    notify = notified(o.profile)
    conditional = {n for r in p.rules if r.action.allows and r.args for n in r.names}
    left = {n for n, _ in o.unobserved}
    universe = set(host_names(Arch.X86_64))
    # every name of every ABI the host runs is allowed, notified, or left to the kernel with a reason
    assert universe == allowed | notify | left | conditional
    assert not notify & allowed
    assert {"mkdir", "unshare", "mount", "vm86", "oldstat"} <= notify  # x86-only names too
    assert o.profile.allowed() == allowed  # not one allowed syscall changes


def test_default_action_architectures_and_flags_stay() -> None:
    p = default_with()
    o = observe(p, listener_path=SOCK)
    assert (o.profile.default_action, o.profile.default_errno) == (p.default_action, p.default_errno)
    assert o.profile.architectures == p.architectures == (Arch.X86_64, Arch.X86, Arch.X32)
    assert o.profile.listener_path == SOCK
    assert Metadata.from_json(o.profile.listener_metadata or "") == o.metadata


def test_runc_write_is_never_notified() -> None:
    # runc 1.1.5 refuses to start such a container; a profile that refuses write keeps the errno
    p = compose(arch=Arch.X86_64, allow=["read", "exit_group"], runtime=None)
    for runtime in ("runc", None):
        o = observe(p, listener_path=SOCK, runtime=runtime)
        assert "write" not in notified(o.profile)
        assert ("write", "runc refuses SCMP_ACT_NOTIFY for write") in o.unobserved
    assert "write" in notified(observe(p, listener_path=SOCK, runtime="crun").profile)


def test_non_errno_refusals_stay_with_the_kernel() -> None:
    p = Profile(
        architectures=(Arch.X86_64,),
        rules=(Rule(("read",)), Rule(("ptrace",), Action.KILL_PROCESS), Rule(("mount",), Action.TRAP)),
    )
    o = observe(p, listener_path=SOCK)
    assert {"ptrace", "mount"}.isdisjoint(notified(o.profile))
    assert [r.action for r in o.profile.rules if "ptrace" in r.names] == [Action.KILL_PROCESS]
    assert dict(o.unobserved)["mount"].startswith("refused with SCMP_ACT_TRAP")


def test_a_default_that_is_not_an_errno_observes_only_errno_rules() -> None:
    p = Profile(
        default_action=Action.KILL_PROCESS,
        architectures=(Arch.X86_64,),
        rules=(Rule(("read",)), Rule(("mkdir",), Action.ERRNO, errno.EACCES)),
    )
    o = observe(p, listener_path=SOCK)
    assert notified(o.profile) == {"mkdir"}
    assert o.metadata.answer("mkdir", (0,) * 6) == errno.EACCES


def test_an_allowing_default_notifies_only_the_explicit_refusals() -> None:
    p = Profile(
        default_action=Action.ALLOW,
        architectures=(Arch.X86_64,),
        rules=(
            Rule(("mkdir",), Action.ERRNO, errno.EACCES),
            Rule(("kill",), Action.ERRNO, 1, (Arg(1, Operator.EQ, 9),)),
            Rule(("socket",), Action.ALLOW, None, (Arg(0, Operator.EQ, 2),)),
        ),
    )
    o = observe(p, listener_path=SOCK)
    assert notified(o.profile) == {"mkdir"}
    assert conditional_notify(o.profile, "kill") == [(Arg(1, Operator.EQ, 9),)]  # the other calls stay allowed
    assert o.unobserved == ()
    assert o.metadata.answer("kill", (1, 9, 0, 0, 0, 0)) == 1


def test_conditional_errno_rules_with_another_action_are_left_alone() -> None:
    p = Profile(
        architectures=(Arch.X86_64,),
        rules=(Rule(("read",)), Rule(("kill",), Action.KILL_PROCESS, None, (Arg(1, Operator.EQ, 9),))),
    )
    o = observe(p, listener_path=SOCK)
    assert "kill" not in notified(o.profile)
    assert any(r.action is Action.KILL_PROCESS for r in o.profile.rules)


# --------------------------------------------------------------------------- the answers


def test_errno_policy_enosys_answers_both_errnos() -> None:
    # Podman's way: unnamed syscalls ENOSYS, deliberate denies EPERM
    p = compose("default", arch=Arch.X86_64, deny=["mkdir"], errno_policy="enosys", runtime="runc")
    o = observe(p, listener_path=SOCK)
    assert o.metadata.errno == errno.ENOSYS
    assert o.metadata.answer("mkdir", (0,) * 6) == errno.EPERM
    assert o.metadata.answer("unshare", (0,) * 6) == errno.ENOSYS
    assert o.metadata.layers("mkdir") == ("deny",)
    assert o.metadata.layers("unshare") == ("default action",)


def test_template_errno_rules_keep_their_errno_and_layer() -> None:
    # Docker's default answers clone3 with ENOSYS (so glibc falls back to clone) without CAP_SYS_ADMIN
    o = observe(default_with(), listener_path=SOCK)
    assert o.metadata.answer("clone3", (0,) * 6) == errno.ENOSYS
    assert o.metadata.layers("clone3") == ("template:default",)
    assert "clone3" in notified(o.profile)


def test_policy_rule_deny_names_its_rule() -> None:
    from seccompose.compose import Layer

    p = compose(
        "default", arch=Arch.X86_64, layers=[Layer("rule:no-ptrace", (Rule(("ptrace",)),), deny=True)], runtime="runc"
    )
    assert observe(p, listener_path=SOCK).metadata.layers("ptrace") == ("rule:no-ptrace",)


def test_conditional_refusals_are_evaluated_by_the_agent() -> None:
    m = Metadata(
        errno=1,
        refused=(Refusal(("socketcall",), errno.EACCES, ("deny",), (Arg(0, Operator.EQ, 1),)),),
    )
    assert m.answer("socketcall", (1, 0, 0, 0, 0, 0)) == errno.EACCES
    assert m.answer("socketcall", (2, 0, 0, 0, 0, 0)) == 1


def test_smallest_allow_rule_pins_the_arguments_the_base_checks() -> None:
    o = observe(default_with(), listener_path=SOCK)
    assert dict(o.metadata.conditional) == {"clone": (0,), "socket": (0,)}
    vsock = o.metadata.allow_rule("socket", (40, 1, 0, 0, 0, 0))
    assert vsock == Rule(("socket",), Action.ALLOW, None, (Arg(0, Operator.EQ, 40),))
    assert o.metadata.allow_rule("unshare", (0x10000000, 0, 0, 0, 0, 0)) == Rule(("unshare",))


# --------------------------------------------------------------------------- conditions


@pytest.mark.parametrize(
    ("allow", "refused_rules"),
    [
        # Docker's socket rules: families below 38, 39, above 40 -> 38 (AF_ALG) and 40 (AF_VSOCK) refused
        (
            [(Arg(0, Operator.LT, 38),), (Arg(0, Operator.EQ, 39),), (Arg(0, Operator.GT, 40),)],
            [(Arg(0, Operator.EQ, 38),), (Arg(0, Operator.EQ, 40),)],
        ),
        ([(Arg(1, Operator.EQ, 5),)], [(Arg(1, Operator.NE, 5),)]),
        ([(Arg(1, Operator.GE, 5),)], [(Arg(1, Operator.LT, 5),)]),
        ([(Arg(2, Operator.LE, 5),)], [(Arg(2, Operator.GT, 5),)]),
        ([(Arg(0, Operator.LT, 0),)], [()]),  # nothing is below 0: every call is refused
        # clone without namespace flags: one rule per flag bit
        (
            [(Arg(0, Operator.MASKED_EQ, 0x30, 0),)],
            [(Arg(0, Operator.MASKED_EQ, 0x10, 0x10),), (Arg(0, Operator.MASKED_EQ, 0x20, 0x20),)],
        ),
        ([(Arg(0, Operator.MASKED_EQ, 0x1, 0x1),)], [(Arg(0, Operator.MASKED_EQ, 0x1, 0),)]),
        # libseccomp masks the datum: 0x2 & 0x1 is 0, so this allows every even value
        ([(Arg(0, Operator.MASKED_EQ, 0x1, 0x2),)], [(Arg(0, Operator.MASKED_EQ, 0x1, 0x1),)]),
        # runc ORs two conditions on one argument: this "range" allows every value, nothing is refused
        ([(Arg(0, Operator.GE, 5), Arg(0, Operator.LE, 9))], []),
        ([(Arg(0, Operator.LE, U64),)], []),
    ],
)
def test_complement(allow: list[tuple[Arg, ...]], refused_rules: list[tuple[Arg, ...]]) -> None:
    assert _complement(allow) == refused_rules


@pytest.mark.parametrize(
    "allow",
    [
        # Docker's personality values: the gaps between them are ranges, which runc cannot load as one rule
        [(Arg(0, Operator.EQ, 0),), (Arg(0, Operator.EQ, 8),), (Arg(0, Operator.EQ, 0xFFFFFFFF),)],
        [(Arg(0, Operator.EQ, 1),), (Arg(1, Operator.EQ, 1),)],  # two arguments, OR-ed
        [(Arg(0, Operator.MASKED_EQ, 1, 0),), (Arg(0, Operator.EQ, 8),)],
        # two arguments of one rule (AND): the complement overlaps the allow, which libseccomp 2.5.4
        # builds wrong on i386 and x32 (the allow never matches there)
        [(Arg(0, Operator.NE, 1), Arg(1, Operator.NE, 0))],
    ],
)
def test_complement_not_expressible(allow: list[tuple[Arg, ...]]) -> None:
    assert _complement(allow) is None


def brute(allow: list[tuple[Arg, ...]], values: range) -> set[int]:
    return {v for v in values if not any(all(filter_matches(a, v) for a in g) for g in allow)}


@pytest.mark.parametrize(
    "allow",
    [
        [(Arg(0, Operator.LT, 38),), (Arg(0, Operator.EQ, 39),), (Arg(0, Operator.GT, 40),)],
        [(Arg(0, Operator.MASKED_EQ, 0x2C, 0x4),)],
        [(Arg(0, Operator.NE, 7),)],
        [(Arg(0, Operator.LE, 3),), (Arg(0, Operator.EQ, 5),)],
    ],
)
def test_complement_matches_exactly_what_no_allow_matches(allow: list[tuple[Arg, ...]]) -> None:
    refused = _complement(allow)
    assert refused is not None
    values = range(64)
    hit = {v for v in values if any(all(filter_matches(a, v) for a in g) for g in refused)}
    assert hit == brute(allow, values)


def test_observed_default_notifies_socket_families_and_clone_namespaces() -> None:
    o = observe(default_with(), listener_path=SOCK)
    assert conditional_notify(o.profile, "socket") == [(Arg(0, Operator.EQ, 38),), (Arg(0, Operator.EQ, 40),)]
    clone = conditional_notify(o.profile, "clone")
    assert len(clone) == 0x7E020000.bit_count()
    assert ("personality", "allowed under argument conditions whose complement runc cannot load as rules") in (
        o.unobserved
    )


# --------------------------------------------------------------------------- phases


def test_startup_names_only_the_template_allows_are_notified_with_the_phase() -> None:
    p = compose("redis", arch=Arch.X86_64, caps=DOCKER_DEFAULT_CAPABILITIES, runtime="runc", no_new_privileges=False)
    startup = Startup(("bind", "listen", "execve", "setuid"), Ready(port=6379))
    o = observe(p, listener_path=SOCK, startup=startup)
    # execve: runc needs it (runtime base set); setuid: Docker's default caps allow it (capability layer)
    assert o.metadata.startup is not None
    assert o.metadata.startup.names == ("bind", "listen")
    assert {"bind", "listen"} <= notified(o.profile)
    assert {"bind", "listen"}.isdisjoint(o.profile.allowed())
    assert {"execve", "setuid"} <= o.profile.allowed()
    assert o.metadata.layers("bind") == ("phase:startup",)
    assert o.metadata.answer("bind", (0,) * 6) == errno.EPERM


def test_no_phase_without_startup() -> None:
    p = compose("redis", arch=Arch.X86_64, runtime="runc")
    o = observe(p, listener_path=SOCK)
    assert o.metadata.startup is None
    assert o.profile.allowed() == p.allowed()


# --------------------------------------------------------------------------- input checks


@pytest.mark.parametrize("path", ["agent.sock", "", "./a.sock"])
def test_listener_path_must_be_absolute(path: str) -> None:
    with pytest.raises(InvalidArgumentError, match="absolute"):
        observe(default_with(), listener_path=path)


def test_unknown_mode() -> None:
    with pytest.raises(InvalidArgumentError, match="mode"):
        observe(default_with(), listener_path=SOCK, mode="permissive")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("not json", "not JSON"),
        ('{"errno": 1}', "not seccompose metadata"),
        ('{"seccompose": 2}', "not seccompose metadata"),
        ('{"seccompose": 1, "mode": "lax"}', "mode 'lax'"),
        ('{"seccompose": 1, "errno": 5000}', "malformed"),
        ('{"seccompose": 1, "refused": [{"names": ["x"]}]}', "malformed"),
        ('{"seccompose": 1, "startup": {"names": ["bind"]}}', "ready is required"),
        ("[" * 10 + "]" * 10, "not seccompose"),
    ],
)
def test_bad_metadata(text: str, fragment: str) -> None:
    with pytest.raises(FormatError, match=fragment):
        Metadata.from_json(text)


def test_metadata_round_trip_and_is_deterministic() -> None:
    o = observe(default_with(deny=["mkdir"]), listener_path=SOCK, mode="complain", container={"name": "web"})
    text = o.metadata.to_json()
    assert Metadata.from_json(text) == o.metadata
    assert text == observe(default_with(deny=["mkdir"]), listener_path=SOCK, mode="complain", container={"name": "web"}).metadata.to_json()
    assert json.loads(text)["container"] == {"name": "web"}


def test_digest_names_the_unobserved_profile() -> None:
    p = default_with()
    o = observe(p, listener_path=SOCK)
    assert o.metadata.digest == profile_digest(p) != profile_digest(o.profile)


def test_observed_profile_is_valid_oci(validate_oci: object) -> None:
    o = observe(default_with(deny=["mkdir"]), listener_path=SOCK)
    validate_oci(json.loads(dumps(o.profile)))  # type: ignore[operator]


# --------------------------------------------------------------------------- log refusals


def test_log_refusals_errno_keeps_every_verdict_and_adds_the_flag() -> None:
    p = default_with(deny=["mkdir"])
    logged = log_refusals(p)
    assert logged.rules == p.rules and logged.default_action is p.default_action
    assert [f.value for f in logged.flags] == ["SECCOMP_FILTER_FLAG_LOG"]


def test_log_refusals_allow_turns_refusals_into_log() -> None:
    p = compose("default", arch=Arch.X86_64, runtime="runc")
    logged = log_refusals(p, how="allow")
    assert logged.default_action is Action.LOG and logged.default_errno is None
    assert not [r for r in logged.rules if r.action is Action.ERRNO]
    assert [r for r in logged.rules if r.action is Action.LOG and "clone3" in r.names]


# --------------------------------------------------------------------------- shipped phases


@pytest.mark.parametrize("name", ["redis", "nginx", "postgres", "memcached", "mariadb", "httpd", "lighttpd", "gunicorn"])
def test_shipped_startup_phases_are_allowed_names_and_mostly_phased(name: str) -> None:
    from seccompose.loader import load_template

    template = load_template(name)
    assert template.startup is not None and template.startup.ready.port
    assert set(template.startup.names) <= template.names()  # without an agent they stay allowed
    p = compose(name, arch=Arch.X86_64, caps=DOCKER_DEFAULT_CAPABILITIES, no_new_privileges=False)
    o = observe(p, listener_path=SOCK, startup=template.startup)
    assert o.metadata.startup is not None
    phased = set(o.metadata.startup.names)
    assert phased and phased.isdisjoint(o.profile.allowed())
    # what another layer needs (the runtimes' base sets: docker exec at any time) is never phased
    from seccompose.runtime import runtime_base

    base = runtime_base("runc", no_new_privileges=False, arch=Arch.X86_64)
    assert phased.isdisjoint(base)

"""The law of observed profiles, checked in the kernel: the container sees exactly the unobserved profile's answers.

Both profiles are compiled by libseccomp as runc compiles them and loaded into the kernel
(the probe's sentinel copy: a NOTIFY verdict comes back as its sentinel errno, nothing
runs). For every syscall number of every ABI the host runs (x86_64, i386 through
``int 0x80``, x32) and the argument values that hit and miss each condition of either
profile, the observed filter must give the unobserved verdict, or NOTIFY where the
unobserved verdict is an errno and the agent's answer (from the metadata alone) is that
errno.
"""

from __future__ import annotations

import json
import platform
from typing import Any

import pytest

from seccompose import Action, Arch, Profile, Rule, compose
from seccompose.caps import DOCKER_DEFAULT_CAPABILITIES
from seccompose.compose import Layer
from seccompose.formats.oci import dumps
from seccompose.observe import Observed, observe
from seccompose.rules import Arg, Operator
from seccompose.syscalls import table

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(platform.machine() != "x86_64", reason="the probe's machine code is x86_64"),
]
pytest.importorskip("pyseccomp", reason="the 'check' extra (pyseccomp + libseccomp.so.2) is not installed")

SOCK = "/run/seccompose/agent.sock"


def _kernel(oci: dict[str, Any], entries: list[tuple[Arch, Any]]) -> list[Any]:
    from seccompose._probe import _Code, _decode, _run
    from seccompose.check import read_as_runtime

    return [_decode(r) for r in _run(_Code(), read_as_runtime(oci), entries, 120)]


def _entries(*ocis: dict[str, Any]) -> list[tuple[Arch, Any]]:
    """Every (ABI, number, argument vector) either profile's probe plan has."""
    from seccompose._probe import _plan
    from seccompose.check import read_as_runtime

    seen: dict[tuple[Arch, int, tuple[int, ...]], tuple[Arch, Any]] = {}
    for oci in ocis:
        reading = read_as_runtime(oci)
        for abi in (Arch.X86_64, Arch.X86, Arch.X32):
            for number, name, args, _intended, note in _plan(reading, abi, True, [], "runtime"):  # noqa: FBT003
                seen.setdefault((abi, number, args), (abi, (number, name, args, None, note)))
    return list(seen.values())


def check_law(unobserved: Profile, observed: Observed) -> dict[str, int]:
    u_oci = json.loads(dumps(unobserved))
    o_oci = json.loads(dumps(observed.profile))
    entries = _entries(u_oci, o_oci)
    before = _kernel(u_oci, entries)
    after = _kernel(o_oci, entries)
    tally = {"same": 0, "notified": 0}
    wrong = []
    for (abi, (number, _name, args, _i, _n)), u, o in zip(entries, before, after, strict=True):
        if o.kind == Action.NOTIFY.value:
            name = table(abi).name(number)
            answer = observed.metadata.answer(name, args)
            if u.kind != Action.ERRNO.value or u.errno != answer:
                wrong.append(f"{abi.value} {name}{args}: unobserved {u}, agent would answer errno {answer}")
            tally["notified"] += 1
        elif o != u:
            wrong.append(f"{abi.value} #{number}{args}: unobserved {u}, observed {o}")
        else:
            tally["same"] += 1
    assert not wrong, wrong[:20]
    return tally


def _default(**kw: Any) -> Profile:
    kw.setdefault("caps", DOCKER_DEFAULT_CAPABILITIES)
    return compose("default", arch=Arch.X86_64, runtime="runc", no_new_privileges=False, **kw)


@pytest.mark.parametrize(
    "profile",
    [
        pytest.param(_default(deny=["mkdir"]), id="default-deny-mkdir"),
        pytest.param(_default(deny=["mkdir"], errno_policy="enosys"), id="default-enosys"),
        pytest.param(_default(caps=[*DOCKER_DEFAULT_CAPABILITIES, "SYS_ADMIN"]), id="default-sys-admin"),
        pytest.param(
            _default(layers=[Layer("rule:no-ptrace", (Rule(("ptrace",)),), deny=True)]), id="default-policy-rule"
        ),
        pytest.param(compose("redis", arch=Arch.X86_64, runtime="runc", no_new_privileges=False), id="redis"),
        pytest.param(compose("nginx", arch=Arch.X86_64, caps=[], runtime="crun"), id="nginx-no-caps-crun"),
    ],
)
def test_observed_profile_answers_exactly_as_the_unobserved_one(profile: Profile) -> None:
    tally = check_law(profile, observe(profile, listener_path=SOCK, runtime="runc"))
    assert tally["notified"] > 100  # most refusals do reach the agent


def test_an_allowing_default_notifies_only_what_it_refuses() -> None:
    profile = Profile(
        default_action=Action.ALLOW,
        architectures=(Arch.X86_64, Arch.X86, Arch.X32),
        rules=(
            Rule(("mkdir", "mkdirat"), Action.ERRNO, 13),
            Rule(("kill",), Action.ERRNO, 1, (Arg(1, Operator.EQ, 9),)),
        ),
    )
    tally = check_law(profile, observe(profile, listener_path=SOCK, runtime="runc"))
    assert tally["notified"] >= 5  # mkdir and mkdirat on each ABI, kill(_, 9)


def test_conditional_refusals_and_odd_errnos_reach_the_agent() -> None:
    profile = Profile(
        default_action=Action.ERRNO,
        default_errno=38,
        architectures=(Arch.X86_64, Arch.X86, Arch.X32),
        rules=(
            Rule(("read", "write", "exit_group", "close")),
            Rule(("mkdir",), Action.ERRNO, 13),
            Rule(("kill",), Action.ERRNO, 1, (Arg(1, Operator.EQ, 9),)),
            Rule(("socket",), Action.ALLOW, None, (Arg(0, Operator.LT, 38),)),
            Rule(("socket",), Action.ALLOW, None, (Arg(0, Operator.GT, 40),)),
            Rule(("clone",), Action.ALLOW, None, (Arg(0, Operator.MASKED_EQ, 0x7E020000, 0),)),
        ),
    )
    observed = observe(profile, listener_path=SOCK, runtime="runc")
    tally = check_law(profile, observed)
    assert tally["notified"] > 100
    assert observed.metadata.answer("kill", (1, 9, 0, 0, 0, 0)) == 1
    assert observed.metadata.answer("kill", (1, 15, 0, 0, 0, 0)) == 38

"""parse(emit(p)) == p for both formats, and emitted OCI profiles satisfy the OCI JSON Schema."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from seccompose import Action, Arch, Profile, Rule, dumps, loads
from tests.property.strategies import arches, rules


@st.composite
def profiles(draw: st.DrawFn) -> Profile:
    arch = draw(arches)
    action = draw(st.sampled_from([Action.ERRNO, Action.KILL_PROCESS, Action.ALLOW, Action.LOG, Action.TRAP]))
    return Profile(
        default_action=action,
        default_errno=draw(st.integers(1, 133)) if action.takes_errno else None,
        architectures=arch.abis if draw(st.booleans()) else (arch,),
        rules=tuple(draw(st.lists(rules(arch), max_size=6))),
    )


@given(profiles())
def test_oci_roundtrip(p: Profile) -> None:
    assert loads(dumps(p)) == p
    assert loads(dumps(p, indent=None)) == p


# Found by Hypothesis: an ALLOW rule equal to an ALLOW default is skipped by runc, so the LOG rule
# after it is the one that counts; reading the Docker file back must not let the skipped rule win.
_SKIPPED_FIRST = Profile(
    default_action=Action.ALLOW,
    architectures=(Arch.X86_64,),
    rules=(Rule(("_llseek",)), Rule(("_llseek",), Action.LOG)),
)


@example(p=_SKIPPED_FIRST, arch_map=True)
@example(p=_SKIPPED_FIRST, arch_map=False)
@given(profiles(), st.booleans())
def test_docker_roundtrip(p: Profile, arch_map: bool) -> None:
    text = dumps(p, format="docker", arch_map=arch_map and bool(p.architectures))
    if arch_map and p.architectures:
        back = loads(text, format="docker", arch=p.architectures[0])
        assert back.rules == p.rules and back.architectures == p.architectures
    else:
        assert loads(text, format="docker") == p


@given(p=profiles())
def test_emitted_oci_validates_against_the_spec_schema(validate_oci: Any, p: Profile) -> None:
    validate_oci(json.loads(dumps(p)))

"""The laws of compose(): deny wins, unions only add, order and duplicates change nothing."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from seccompose import Action, Arch, Arg, Layer, Operator, Profile, Rule, Template, compose, dumps, template_names
from seccompose.caps import Capability
from seccompose.templates import Gate, TemplateRule
from tests.property.strategies import arches, capabilities, names, rules

Inputs = dict[str, Any]
SYS_ADMIN = Capability("CAP_SYS_ADMIN")
# A small template written for these tests: gated on capabilities like Docker's default, with a
# conditional allow, an explicit errno rule and an arch-only rule.
GATED = Template(
    name="gated",
    rules=(
        TemplateRule(Rule(("read", "write", "close", "futex"))),
        TemplateRule(Rule(("mount", "umount2", "clone3")), Gate(includes_caps=frozenset({SYS_ADMIN}))),
        TemplateRule(
            Rule(("clone",), args=(Arg(0, Operator.MASKED_EQ, 0x7E020000, 0),)),
            Gate(excludes_caps=frozenset({SYS_ADMIN})),
        ),
        TemplateRule(Rule(("clone3",), Action.ERRNO, 38), Gate(excludes_caps=frozenset({SYS_ADMIN}))),
        TemplateRule(Rule(("arch_prctl",)), Gate(arches=frozenset({Arch.X86_64}))),
        TemplateRule(Rule(("personality",), args=(Arg(0, Operator.EQ, 8),))),
    ),
    capability_map="docker",
)
BASES = [None, GATED, *(["default"] if "default" in template_names() else [])]


@st.composite
def inputs(draw: st.DrawFn) -> Inputs:
    arch = draw(arches)
    return {
        "arch": arch,
        "allow": draw(names(arch)),
        "deny": draw(names(arch, max_size=10)),
        "rules": draw(st.lists(rules(arch), max_size=4)),
        "layers": [
            Layer(f"extra{i}", (Rule(tuple(n)),)) for i, n in enumerate(draw(st.lists(names(arch, max_size=10), max_size=3))) if n
        ],
        "caps": draw(capabilities),
        "base": draw(st.sampled_from(BASES)),
    }


def _compose(i: Inputs, **over: object) -> Profile:
    kw = {**i, **over}
    return compose(
        kw["base"], arch=kw["arch"], caps=kw["caps"], allow=kw["allow"], deny=kw["deny"], rules=kw["rules"],
        layers=kw["layers"], runtime=None,
    )


def _permitted(profile: Profile) -> set[str]:
    """Names the profile lets run in some case: unconditional or conditional allow."""
    return {n for r in profile.rules if r.action.allows for n in r.names}


@given(inputs())
def test_deny_always_wins(i: Inputs) -> None:
    p = _compose(i)
    assert _permitted(p).isdisjoint(i["deny"])
    for name in set(i["deny"]):
        assert p.explain(name).verdict == "denied"


@given(inputs(), names(Arch.X86_64))
def test_adding_an_allow_layer_never_removes_what_no_deny_names(i: Inputs, extra: list[str]) -> None:
    arch = i["arch"]
    from seccompose.syscalls import host_names

    extra = [n for n in extra if n in host_names(arch)]
    before = _compose(i)
    after = compose(
        i["base"], arch=arch, caps=i["caps"], allow=i["allow"], deny=i["deny"], rules=i["rules"],
        layers=[*i["layers"], Layer("more", (Rule(tuple(extra)),))] if extra else i["layers"], runtime=None,
    )
    assert before.allowed() - set(i["deny"]) <= after.allowed()
    assert _permitted(before) <= _permitted(after)


@given(inputs(), st.randoms(use_true_random=False))
def test_shuffling_and_duplicating_layers_gives_identical_bytes(i: Inputs, rnd: random.Random) -> None:
    reference = dumps(_compose(i))
    allow = i["allow"] + i["allow"]
    deny = list(i["deny"])
    layers = i["layers"] + i["layers"]
    extra = i["rules"] + i["rules"]
    for seq in (allow, deny, layers, extra):
        rnd.shuffle(seq)
    again = _compose(i, allow=allow, deny=deny, layers=layers, rules=extra)
    assert dumps(again) == reference
    assert dumps(again, format="docker") == dumps(_compose(i), format="docker")


@given(inputs())
def test_idempotence_composing_the_result_again_changes_nothing(i: Inputs) -> None:
    p = _compose(i)
    again = compose(p, arch=i["arch"], runtime=None)
    assert again == p


@given(inputs())
def test_unconditional_allow_absorbs_conditions(i: Inputs) -> None:
    p = _compose(i)
    unconditional = p.allowed()
    for r in p.rules:
        if r.args and r.action.allows:
            assert unconditional.isdisjoint(r.names)


@given(capabilities, arches)
def test_capabilities_only_add(caps: frozenset[Capability], arch: Arch) -> None:
    none = compose(GATED, arch=arch, caps=(), runtime=None)
    some = compose(GATED, arch=arch, caps=caps, runtime=None)
    assert none.allowed() <= some.allowed()


def test_no_rule_equals_the_default_action() -> None:
    p = compose(arch=Arch.X86_64, allow=["read"], deny=["write"], runtime=None)
    assert all(not (r.action is p.default_action and r.errno == p.default_errno) for r in p.rules)
    enosys = compose(arch=Arch.X86_64, allow=["read"], deny=["write"], errno_policy="enosys", runtime=None)
    assert [(r.names, r.action, r.errno) for r in enosys.rules if not r.action.allows] == [
        (("write",), Action.ERRNO, 1)
    ]

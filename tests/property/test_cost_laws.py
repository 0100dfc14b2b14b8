"""Laws of cheap output: dropping a condition that tests nothing changes no verdict the runtime loads.

Checked on the filter itself: libseccomp compiles the profile the way runc reads it, and
``seccompose.bpf`` (itself checked against the kernel, tests/integration/test_bpf_kernel.py)
runs it on every ABI of an x86_64 host, for argument values on both sides of every condition
and of the 32-bit boundary.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seccompose import Action, Arch, Arg, Operator, Rule
from seccompose.bpf import Program, SeccompData

pytest.importorskip("pyseccomp", reason="the 'check' extra (pyseccomp + libseccomp.so.2) is not installed")

from seccompose.check import compile_bpf
from seccompose.formats.oci import to_dict
from seccompose.profile import Profile

U64 = (1 << 64) - 1
ABIS = {Arch.X86_64: (0xC000003E, 135), Arch.X86: (0x40000003, 136), Arch.X32: (0xC000003E, 0x40000000 | 135)}
# personality: one argument that matters to nobody's test program; its number on each ABI
EDGES = (0, 1, 2, 0xFF, 0x100, 0xFFFF_FFFF, 0x1_0000_0000, 0x1_0000_0001, U64 - 1, U64)

values = st.one_of(st.sampled_from(EDGES), st.integers(0, U64))
args = st.builds(Arg, index=st.integers(0, 2), op=st.sampled_from(list(Operator)), value=values, value_two=values)
constant_args = st.one_of(
    st.builds(Arg, index=st.integers(0, 2), op=st.just(Operator.GE), value=st.just(0)),
    st.builds(Arg, index=st.integers(0, 2), op=st.just(Operator.LE), value=st.just(U64)),
    st.builds(Arg, index=st.integers(0, 2), op=st.just(Operator.LT), value=st.just(0)),
    st.builds(Arg, index=st.integers(0, 2), op=st.just(Operator.GT), value=st.just(U64)),
    # a mask of 0 keeps no bit: every value, whatever the datum (libseccomp masks the datum too)
    st.builds(Arg, index=st.integers(0, 2), op=st.just(Operator.MASKED_EQ), value=st.just(0), value_two=values),
    # datum bits the mask clears: ignored by libseccomp, so not "no value" as the text reads
    st.builds(
        Arg, index=st.integers(0, 2), op=st.just(Operator.MASKED_EQ), value=values.map(lambda v: v & ~0xF0),
        value_two=st.integers(1, 15).map(lambda b: b << 4),
    ),
)  # fmt: skip


def _program(rule: Rule | None) -> Program:
    rules = (Rule(("read",)),) + ((rule,) if rule is not None else ())
    profile = Profile(Action.ERRNO, 1, (Arch.X86_64, Arch.X86, Arch.X32), rules)
    doc: dict[str, Any] = to_dict(profile)
    return Program.from_bytes(compile_bpf(doc))


def _probes(conditions: tuple[Arg, ...]) -> list[tuple[int, ...]]:
    """Argument vectors around every condition's values, and the 32-bit edges."""
    near = set(EDGES)
    for c in conditions:
        for v in (c.value, c.value_two, c.value & c.value_two):
            near.update({v, (v + 1) & U64, (v - 1) & U64, v & 0xFFFF_FFFF, v | 0x1_0000_0000})
    vectors = []
    for v in sorted(near):
        vector = [0, 0, 0]
        for c in conditions:
            vector[c.index] = v
        vectors.append(tuple(vector))
    return vectors


def _verdicts(program: Program, vectors: list[tuple[int, ...]]) -> list[int]:
    return [program.run(SeccompData(nr, audit, args=v)).value for audit, nr in ABIS.values() for v in vectors]


@given(arg=st.one_of(args, constant_args))
def test_a_constant_condition_is_constant_in_the_compiled_filter(arg: Arg) -> None:
    const = arg.constant
    program = _program(Rule(("personality",), args=(arg,)))
    got = set(_verdicts(program, _probes((arg,))))
    if const is True:
        assert got == set(_verdicts(_program(Rule(("personality",))), _probes((arg,))))
    elif const is False:
        assert got == set(_verdicts(_program(None), _probes((arg,))))


@given(conditions=st.lists(st.one_of(args, constant_args), min_size=1, max_size=3, unique_by=lambda a: a.index))
def test_simplified_rules_load_the_same_verdicts(conditions: list[Arg]) -> None:
    rule = Rule(("personality",), args=tuple(conditions))
    simpler = rule.simplified()
    vectors = _probes(rule.args)
    assert _verdicts(_program(simpler), vectors) == _verdicts(_program(rule), vectors)
    if simpler is not None:
        assert all(a.constant is None for a in simpler.args)
        assert set(simpler.args) <= set(rule.args)


def test_libseccomp_masks_the_datum() -> None:
    # the fact Arg.constant relies on: datum bits outside the mask are ignored, on every ABI
    masked = _program(Rule(("personality",), args=(Arg(0, Operator.MASKED_EQ, 0xFF, 0x1FF),)))
    exact = _program(Rule(("personality",), args=(Arg(0, Operator.MASKED_EQ, 0xFF, 0xFF),)))
    vectors: list[tuple[int, ...]] = [(v,) for v in (0, 0xFF, 0x1FF, 0x2FF, 0x100)]
    assert _verdicts(masked, vectors) == _verdicts(exact, vectors)
    assert Arg(0, Operator.MASKED_EQ, 0, 0x10).constant is True


def test_simplified_leaves_a_repeated_index_alone() -> None:
    # runc ORs two conditions on one argument: dropping the "every value" one would narrow the rule
    rule = Rule(("personality",), args=(Arg(0, Operator.GE, 0), Arg(0, Operator.EQ, 8)))
    assert rule.simplified() is rule


def test_the_laws_can_fail() -> None:
    # a wrong simplification (dropping a condition that does test something) changes verdicts
    rule = Rule(("personality",), args=(Arg(0, Operator.EQ, 8),))
    vectors = _probes(rule.args)
    assert _verdicts(_program(Rule(("personality",))), vectors) != _verdicts(_program(rule), vectors)

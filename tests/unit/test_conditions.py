"""The one argument-condition type (``rules.Arg``) and the one way to write a condition for people.

Issue 15 (code health): the runtime's reading (``reading.Condition``), lint's reading of a
document and the Docker document's wire model all hand on ``rules.Arg``, and compose, ``check
--cost``, lint and diff write conditions with ``describe_condition``. These tests pin each former
type and writer: the semantics and texts they had (spelled out here from their definitions
before the change, not from the code under test) are what the shared pieces give.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from seccompose import lint as lint_module
from seccompose._argspace import Spaces
from seccompose.actions import Action
from seccompose.errors import InvalidActionError, InvalidArgumentError
from seccompose.formats import docker_profile
from seccompose.reading import OPERATORS, Condition, read_as_runtime
from seccompose.rules import Arg, Operator, describe_condition, runtime_groups

_U64 = 2**64 - 1
_SYMBOL = {"SCMP_CMP_NE": "!=", "SCMP_CMP_LT": "<", "SCMP_CMP_LE": "<=", "SCMP_CMP_EQ": "==", "SCMP_CMP_GE": ">=",
           "SCMP_CMP_GT": ">"}  # fmt: skip

values = st.one_of(
    st.sampled_from([0, 1, 2, 8, 38, 0xFFFF, 0x10000, 0x10001, 0x7E020000, 0xFFFFFFFF, 2**32, _U64 - 1, _U64]),
    st.integers(0, _U64),
)
arguments = st.one_of(values, st.integers(-(2**64), 2**65))  # what a call may pass, before the 64-bit mask
conditions = st.builds(Arg, index=st.integers(0, 5), op=st.sampled_from(list(Operator)), value=values, value_two=values)


def _runtime_semantics(op: str, arg: int, value: int, value_two: int) -> bool:
    """How ``reading.Condition.matches`` compared (the runtime's reading before it became ``rules.Arg``)."""
    arg &= _U64
    return {
        "SCMP_CMP_NE": arg != value,
        "SCMP_CMP_LT": arg < value,
        "SCMP_CMP_LE": arg <= value,
        "SCMP_CMP_EQ": arg == value,
        "SCMP_CMP_GE": arg >= value,
        "SCMP_CMP_GT": arg > value,
        "SCMP_CMP_MASKED_EQ": (arg & value) == value_two,
    }[op]


def _old_text(index: int, op: str, value: int, value_two: int) -> str:
    """compose's ``_condition_text``, cost's ``_condition`` and lint's ``_cond_text`` (one format, three copies)."""
    if op == "SCMP_CMP_MASKED_EQ":
        return f"arg{index} & {value:#x} == {value_two:#x}"
    return f"arg{index} {_SYMBOL.get(op, op)} {value if value < 0x10000 else hex(value)}"


def _old_diff_text(index: int, op: str, value: int, value_two: int) -> str:
    """diff's ``_arg_text``: every compared value in hex."""
    if op == "SCMP_CMP_MASKED_EQ":
        return f"arg{index} & {value:#x} == {value_two:#x}"
    return f"arg{index} {_SYMBOL[op]} {value:#x}"


# --------------------------------------------------------------------------- one type


@given(conditions, st.lists(arguments, min_size=1, max_size=8))
@example(Arg(0, Operator.MASKED_EQ, 0x7E020000, 0), [0x11, 0x10000000])
@example(Arg(0, Operator.EQ, _U64), [-1, _U64, 0])
def test_the_runtime_reading_matches_as_its_own_condition_did(cond: Arg, args: list[int]) -> None:
    doc = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [
                {"index": cond.index, "op": cond.op.value, "value": cond.value, "valueTwo": cond.value_two}]},
        ],
    }  # fmt: skip
    (loaded,) = read_as_runtime(doc).rules
    (read,) = loaded.conditions
    assert type(read) is Arg
    assert read == cond
    assert hash(read) == hash(cond)
    for a in args:
        expected = _runtime_semantics(cond.op.value, a, cond.value, cond.value_two)
        assert read.matches(a) is expected
        vector = [0] * 6
        vector[cond.index] = a
        assert loaded.matches(vector) is expected


def test_condition_is_the_one_type_and_takes_the_runtime_names() -> None:
    assert Condition is Arg
    assert tuple(op.value for op in Operator) == OPERATORS  # libseccomp's numbering order, SCMP_CMP_NE first
    assert OPERATORS[0] == "SCMP_CMP_NE"
    assert OPERATORS[-1] == "SCMP_CMP_MASKED_EQ"
    assert Condition(2, "SCMP_CMP_GT", 7) == Arg(2, Operator.GT, 7, 0)


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ({"index": 6, "op": "SCMP_CMP_EQ", "value": 1}, "argument index 6 is invalid; use 0 to 5"),
        ({"index": 0, "op": "EQ", "value": 1}, "unknown operator 'EQ'"),  # the type would parse it: runc does not
        ({"index": 0, "op": "SCMP_CMP_EQ", "value": -1}, "'value' -1 is not an unsigned 64-bit number"),
        ({"index": 0, "op": "SCMP_CMP_EQ", "value": 1, "valueTwo": 2**64}, "'valueTwo' 18446744073709551616 is not"),
    ],
)
def test_the_runtime_reading_refuses_what_runc_refuses_before_building_the_type(
    arg: dict[str, object], message: str
) -> None:
    doc = {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [arg]}]}
    with pytest.raises(InvalidArgumentError, match=message) as caught:
        read_as_runtime(doc)
    assert caught.value.location is not None
    assert caught.value.location.startswith("syscalls[0].args[0].")


@given(st.lists(conditions, max_size=4))
def test_runtime_groups_are_what_the_runtime_reading_and_looser_made(conds: list[Arg]) -> None:
    groups = runtime_groups(conds)
    indexes = [c.index for c in conds]
    if len(set(indexes)) == len(indexes):
        assert groups == [tuple(conds)]  # one rule: the conditions ANDed
    else:
        assert groups == [(c,) for c in conds]  # runc and crun: each condition a rule of its own (ORed)
    doc = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [
            {"index": c.index, "op": c.op.value, "value": c.value, "valueTwo": c.value_two} for c in conds]}],
    }  # fmt: skip
    assert [r.conditions for r in read_as_runtime(doc).rules] == groups


@given(st.lists(conditions, max_size=3))
def test_a_space_of_conditions_is_the_space_of_their_keys(conds: list[Arg]) -> None:
    s = Spaces()  # the spaces themselves are pinned to Arg.matches by tests/property/test_argspace_laws.py
    assert s.of_conditions(conds) == s.all_of(tuple((c.index, c.op.value, c.value, c.value_two) for c in conds))


def test_the_docker_wire_model_converts_to_the_one_type() -> None:
    doc = docker_profile.parse_docker_profile(
        '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["clone"], "action": "SCMP_ACT_ALLOW", '
        '"args": [{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}]}]}'
    )
    (wire,) = doc.syscalls[0].args
    assert wire.condition() == Arg(0, Operator.MASKED_EQ, 0x7E020000, 0)
    template = docker_profile.to_template(doc)
    assert template.rules[0].rule.args == (Arg(0, Operator.MASKED_EQ, 0x7E020000, 0),)


# --------------------------------------------------------------------------- lint's reading


written_ops = st.one_of(
    st.sampled_from(OPERATORS), st.sampled_from(["EQ", "ge", "masked_eq", " SCMP_CMP_LT", "", "SCMP_CMP_XX", "=="])
)
written_values = st.one_of(values, st.integers(-(2**65), -1), st.integers(2**64, 2**66), st.booleans())


def _old_lint_always(index: int, op: str, value: int, value_two: int) -> bool | None:
    """lint's ``_always`` before lint's reading held ``rules.Arg``."""
    try:
        return Arg(index, Operator.parse(op), value & _U64, value_two & _U64).constant
    except (ValueError, LookupError):
        return None


@given(st.integers(-2, 8), written_ops, written_values.filter(lambda v: not isinstance(v, bool)), written_values)
@example(0, "SCMP_CMP_GE", 0, 0)
@example(7, "EQ", -1, 0)
@example(index=0, op="SCMP_CMP_MASKED_EQ", value=-2, value_two=True)
def test_lint_reads_a_condition_as_the_one_type_exactly_when_runc_reads_it(
    index: int, op: str, value: int, value_two: int
) -> None:
    cond = lint_module._condition(index, op, value, value_two)
    runc_reads = (
        op in OPERATORS
        and 0 <= index <= 5
        and all(not isinstance(v, bool) and 0 <= v <= _U64 for v in (value, value_two))
    )
    assert isinstance(cond, Arg) is runc_reads
    assert (cond.index, cond.value, cond.value_two) == (index, value, value_two)
    assert lint_module._op_name(cond) == op
    # the findings quote and judge the condition as before
    assert lint_module._always(cond) == _old_lint_always(index, op, value, value_two)
    assert lint_module._cond_text(cond) == _old_text(index, op, value, value_two)


def test_lint_keeps_its_findings_on_conditions_runc_refuses() -> None:
    doc = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "op": "ge", "value": 0}]},
            {"names": ["close"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "op": "SCMP_CMP_MASKED_EQ", "value": -2, "valueTwo": 1}]},
            {"names": ["write"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 7, "op": "SCMP_CMP_EQ", "value": 1}, {"index": 7, "op": "SCMP_CMP_EQ", "value": 2}]},
        ],
    }  # fmt: skip
    messages = {f.rule.id: f.message for f in lint_module.lint(doc, engines=["docker"]).findings}
    assert messages["useless-condition"] == (
        "read: arg0 ge 0 holds for every value; the rule allows read whatever the arguments, but the filter still "
        "tests them, so the kernel cannot cache read"
    )
    assert messages["masked-datum"] == (
        "close: valueTwo 0x1 has bits outside the mask -0x2; the runtime loads arg0 & -0x2 == 0x0"
    )
    assert messages["repeated-arg-index"] == "args[0] and args[1] both test argument 7 of write; runtimes OR them"
    assert {"unknown-operator", "arg-index", "engine-refuses"} <= set(messages)  # each reported on its own


# --------------------------------------------------------------------------- one describe


@given(conditions)
@example(Arg(1, Operator.GE, 0xFFFF))
@example(Arg(1, Operator.GE, 0x10000))
@example(Arg(0, Operator.MASKED_EQ, 0, 0))
def test_describe_gives_each_former_writer_its_text(cond: Arg) -> None:
    fields = (cond.index, cond.op.value, cond.value, cond.value_two)
    assert cond.describe() == _old_text(*fields)  # compose's warnings, check --cost, lint
    assert describe_condition(*fields) == _old_text(*fields)  # lint's reading of a document: the op as written
    assert cond.describe(hex_from=0) == _old_diff_text(*fields)  # diff


def test_describe_examples() -> None:
    assert Arg(0, Operator.EQ, 8).describe() == "arg0 == 8"
    assert Arg(3, Operator.NE, 0x10000).describe() == "arg3 != 0x10000"
    assert Arg(0, Operator.MASKED_EQ, 0x7E020000, 0).describe() == "arg0 & 0x7e020000 == 0x0"
    assert Arg(2, Operator.LE, 5).describe(hex_from=0) == "arg2 <= 0x5"
    assert describe_condition(0, "EQ", 1) == "arg0 EQ 1"  # not runc's spelling: quoted as the document writes it
    assert describe_condition(0, "SCMP_CMP_EQ", -5) == "arg0 == -5"


# --------------------------------------------------------------------------- one way to parse SCMP_* names


@pytest.mark.parametrize(
    ("parse", "text", "error", "message"),
    [
        (Action.parse, "SCMP_ACT_ALOW", InvalidActionError,
         "unknown action 'SCMP_ACT_ALOW' at x; did you mean 'SCMP_ACT_ALLOW'?"),
        (Action.parse, "nope", InvalidActionError, "unknown action 'nope' at x; use one of SCMP_ACT_KILL, "),
        (Operator.parse, "SCMP_CMP_EQQ", InvalidArgumentError,
         "unknown operator 'SCMP_CMP_EQQ' at x; did you mean 'SCMP_CMP_EQ'?"),
        (Operator.parse, "nope", InvalidArgumentError, "unknown operator 'nope' at x; use one of SCMP_CMP_NE, "),
    ],
)  # fmt: skip
def test_actions_and_operators_are_parsed_one_way(parse: object, text: str, error: type, message: str) -> None:
    with pytest.raises(error) as caught:
        parse(text, location="x")  # type: ignore[operator]
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize("text", ["eq", " EQ ", "SCMP_CMP_EQ", "scmp_cmp_eq"])
def test_operator_names_with_or_without_the_prefix(text: str) -> None:
    assert Operator.parse(text) is Operator.EQ


@pytest.mark.parametrize("text", ["log", " LOG ", "SCMP_ACT_LOG", "scmp_act_log"])
def test_action_names_with_or_without_the_prefix(text: str) -> None:
    assert Action.parse(text) is Action.LOG

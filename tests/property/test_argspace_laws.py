"""The argument-space algebra (seccompose._argspace) against plain evaluation of the conditions.

A space built from conditions must hold exactly the argument vectors the conditions accept,
evaluated one by one with ``Arg.matches`` (the rule model's own reading); the set operations
must obey the Boolean laws; a witness must be in its space.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from seccompose._argspace import FALSE, TRUE, Spaces
from seccompose.rules import Arg, Operator

_U64 = 2**64 - 1

# Values near the edges and the constants seccomp rules use, plus any 64-bit value.
values = st.one_of(
    st.sampled_from([0, 1, 2, 7, 8, 17, 38, 39, 40, 0x20000, 0x7E020000, 0x10000000, 0xFFFFFFFF, 2**32, _U64, _U64 - 1]),
    st.integers(0, _U64),
)
conditions = st.builds(Arg, index=st.integers(0, 2), op=st.sampled_from(list(Operator)), value=values, value_two=values)
vectors = st.lists(st.lists(values, min_size=6, max_size=6).map(tuple), min_size=1, max_size=12)


def _key(a: Arg) -> tuple[int, str, int, int]:
    return (a.index, a.op.value, a.value, a.value_two)


def _accepts(conds: list[Arg], args: tuple[int, ...], width: int) -> bool:
    mask = (1 << width) - 1  # a 32-bit ABI: the low halves of the arguments and constants are compared
    # libseccomp masks MASKED_EQ's datum too: arg & mask == datum & mask
    return all(
        Arg(c.index, c.op, c.value & mask, c.value_two & c.value & mask if c.op is Operator.MASKED_EQ else
            c.value_two & mask).matches(args[c.index] & mask)
        for c in conds
    )  # fmt: skip


@given(st.lists(conditions, max_size=3), vectors, st.sampled_from([64, 32]))
def test_a_space_holds_exactly_what_its_conditions_accept(conds: list[Arg], args: list[tuple[int, ...]], width: int) -> None:
    s = Spaces(width)
    space = s.all_of(tuple(_key(c) for c in conds))
    for vector in args:
        assert s.contains(space, vector) == _accepts(conds, vector, width), (conds, vector)
    if space != FALSE:
        witness = s.witness(space)
        assert _accepts(conds, witness, width)


@given(st.lists(conditions, min_size=1, max_size=2), st.lists(conditions, min_size=1, max_size=2), vectors)
def test_union_intersection_complement_and_subset(a: list[Arg], b: list[Arg], args: list[tuple[int, ...]]) -> None:
    s = Spaces()
    x = s.all_of(tuple(_key(c) for c in a))
    y = s.all_of(tuple(_key(c) for c in b))
    for vector in args:
        in_x, in_y = s.contains(x, vector), s.contains(y, vector)
        assert s.contains(s.join(x, y), vector) == (in_x or in_y)
        assert s.contains(s.conjoin(x, y), vector) == (in_x and in_y)
        assert s.contains(s.minus(x, y), vector) == (in_x and not in_y)
        assert s.contains(s.negate(x), vector) == (not in_x)
    # canonical: equal functions are equal nodes
    assert s.join(x, y) == s.join(y, x)
    assert s.negate(s.negate(x)) == x
    assert s.negate(s.conjoin(x, y)) == s.join(s.negate(x), s.negate(y))
    assert s.subset(s.conjoin(x, y), x)
    assert s.subset(x, s.join(x, y))
    assert s.subset(x, y) == (s.minus(x, y) == FALSE)


def test_the_edges() -> None:
    s = Spaces()
    assert s.condition(0, "SCMP_CMP_LT", 0) == FALSE
    assert s.condition(0, "SCMP_CMP_GE", 0) == TRUE
    assert s.condition(0, "SCMP_CMP_LE", _U64) == TRUE
    assert s.condition(0, "SCMP_CMP_GT", _U64) == FALSE
    assert s.condition(0, "SCMP_CMP_MASKED_EQ", 0, 0) == TRUE
    # libseccomp masks the datum too: bits the mask clears count for nothing (measured by issue 19's laws)
    assert s.condition(0, "SCMP_CMP_MASKED_EQ", 0xF0, 0x01) == s.condition(0, "SCMP_CMP_MASKED_EQ", 0xF0, 0)
    # Docker's socket families: every family but AF_ALG (38) and AF_VSOCK (40)
    families = s.join(
        s.join(s.condition(0, "SCMP_CMP_LT", 38), s.condition(0, "SCMP_CMP_EQ", 39)), s.condition(0, "SCMP_CMP_GT", 40)
    )
    assert s.minus(s.everything(), families) == s.join(s.condition(0, "SCMP_CMP_EQ", 38), s.condition(0, "SCMP_CMP_EQ", 40))
    assert s.witness(s.minus(s.everything(), families)) == (38, 0, 0, 0, 0, 0)
    narrow = Spaces(32)  # only the low halves count
    assert narrow.condition(0, "SCMP_CMP_EQ", 0xFFFFFFFF) == narrow.condition(0, "SCMP_CMP_EQ", _U64)
    assert narrow.condition(0, "SCMP_CMP_GE", 2**32) == TRUE

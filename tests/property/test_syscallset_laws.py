"""Set algebra laws of SyscallSet, within one arch's universe."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seccompose import Arch, ArchMismatchError, SyscallSet
from tests.property.strategies import arches, names


@st.composite
def three_sets(draw: st.DrawFn) -> tuple[SyscallSet, SyscallSet, SyscallSet]:
    arch = draw(arches)
    return tuple(SyscallSet(arch, draw(names(arch))) for _ in range(3))  # type: ignore[return-value]


@given(three_sets())
def test_identity_and_idempotence(sets: tuple[SyscallSet, SyscallSet, SyscallSet]) -> None:
    a, _, _ = sets
    empty = SyscallSet(a.arch)
    full = SyscallSet.all(a.arch)
    assert a | empty == a
    assert a & full == a
    assert a - empty == a
    assert a | a == a
    assert a & a == a
    assert (a - a).is_empty()


@given(three_sets())
def test_commutativity_and_associativity(sets: tuple[SyscallSet, SyscallSet, SyscallSet]) -> None:
    a, b, c = sets
    assert a | b == b | a
    assert a & b == b & a
    assert (a | b) | c == a | (b | c)
    assert (a & b) & c == a & (b & c)
    assert a & (b | c) == (a & b) | (a & c)


@given(three_sets())
def test_de_morgan_within_the_universe(sets: tuple[SyscallSet, SyscallSet, SyscallSet]) -> None:
    a, b, _ = sets
    assert ~(a | b) == ~a & ~b
    assert ~(a & b) == ~a | ~b
    assert ~~a == a
    assert a - b == a & ~b


@given(three_sets())
def test_order_and_membership_agree_with_python_sets(sets: tuple[SyscallSet, SyscallSet, SyscallSet]) -> None:
    a, b, _ = sets
    pa, pb = set(a), set(b)
    assert set(a | b) == pa | pb
    assert set(a & b) == pa & pb
    assert set(a - b) == pa - pb
    assert set(a ^ b) == pa ^ pb
    assert (a <= b) == (pa <= pb)
    assert (a < b) == (pa < pb)
    assert len(a) == len(pa)
    assert list(a) == sorted(pa)
    assert all(n in a for n in pa)
    assert hash(SyscallSet(a.arch, list(pa))) == hash(a)


def test_mixing_arches_is_an_error() -> None:
    with pytest.raises(ArchMismatchError, match="x86_64 with one for aarch64"):
        _ = SyscallSet(Arch.X86_64, ["read"]) | SyscallSet(Arch.AARCH64, ["read"])


def test_foreign_operands_return_not_implemented() -> None:
    s = SyscallSet(Arch.X86_64, ["read"])
    assert s.__or__({"read"}) is NotImplemented
    with pytest.raises(TypeError):
        _ = s | {"read"}

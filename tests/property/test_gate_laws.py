"""The gate algebra: ``Gate.meet`` passes where both gates pass, ``Gate.negation`` where the gate does not."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from seccompose.arch import Arch
from seccompose.caps import Capability
from seccompose.templates import Gate

# A few values of each kind, so that drawn gates and containers meet often.
_ARCHES = st.frozensets(st.sampled_from([Arch.X86_64, Arch.X86, Arch.AARCH64]), max_size=2)
_CAPS = st.frozensets(st.sampled_from([Capability(n) for n in ("CAP_SYS_ADMIN", "CAP_BPF", "CAP_NET_ADMIN")]), max_size=2)
_KERNELS = st.sampled_from([(4, 14), (5, 8), (6, 1)])
gates = st.builds(Gate, _ARCHES, _ARCHES, _CAPS, _CAPS, st.none() | _KERNELS, st.none() | _KERNELS)
containers = st.tuples(st.sampled_from([Arch.X86_64, Arch.X86, Arch.AARCH64]), _CAPS, st.none() | _KERNELS)


@settings(max_examples=500)
@given(gates, gates, containers)
def test_meet_passes_where_both_pass(a: Gate, b: Gate, container: tuple[Arch, frozenset[Capability], tuple[int, int] | None]) -> None:
    both = a.meet(b)
    expected = a.passes(*container) and b.passes(*container)
    assert (both is not None and both.passes(*container)) == expected


@settings(max_examples=300)
@given(gates, containers)
def test_negation_passes_where_the_gate_does_not(
    gate: Gate, container: tuple[Arch, frozenset[Capability], tuple[int, int] | None]
) -> None:
    assert any(n.passes(*container) for n in gate.negation()) == (not gate.passes(*container))

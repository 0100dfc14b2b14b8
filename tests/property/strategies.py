"""Hypothesis strategies that draw real syscall names from the kernel tables."""

from __future__ import annotations

from hypothesis import strategies as st

from seccompose import Action, Arch, Arg, Operator, Rule
from seccompose.caps import all_capabilities
from seccompose.syscalls import host_names

ARCHES = (Arch.X86_64, Arch.AARCH64, Arch.X86)

arches = st.sampled_from(ARCHES)


def names(arch: Arch, *, max_size: int = 40) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(host_names(arch)), max_size=max_size)


capabilities = st.frozensets(st.sampled_from(sorted(all_capabilities(), key=lambda c: c.number)), max_size=8)

args = st.builds(
    Arg,
    index=st.integers(0, 5),
    op=st.sampled_from(list(Operator)),
    value=st.integers(0, 2**64 - 1),
    value_two=st.integers(0, 2**64 - 1),
)


def rules(arch: Arch) -> st.SearchStrategy[Rule]:
    allowing = st.builds(
        Rule,
        names=st.lists(st.sampled_from(host_names(arch)), min_size=1, max_size=8).map(tuple),
        action=st.sampled_from([Action.ALLOW, Action.LOG]),
        errno=st.none(),
        args=st.lists(args, max_size=2).map(tuple),
    )
    erroring = st.builds(
        Rule,
        names=st.lists(st.sampled_from(host_names(arch)), min_size=1, max_size=8).map(tuple),
        action=st.just(Action.ERRNO),
        errno=st.integers(1, 133),
        args=st.lists(args, min_size=1, max_size=2).map(tuple),
    )
    return st.one_of(allowing, erroring)

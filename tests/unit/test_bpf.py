"""The classic BPF evaluator: the kernel's load checks, every instruction, its cache emulation, the longest path."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seccompose import Action, Arch
from seccompose.bpf import (
    SECCOMP_RET_ALLOW,
    SECCOMP_RET_ERRNO,
    SECCOMP_RET_KILL_PROCESS,
    SECCOMP_RET_LOG,
    SECCOMP_RET_TRACE,
    Instruction,
    Program,
    SeccompData,
)
from seccompose.errors import InvalidProgramError

REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "reference" / "profiles"
X86_64 = 0xC000003E
I386 = 0x40000003


def prog(*insns: tuple[int, int, int, int]) -> Program:
    return Program(tuple(Instruction(*i) for i in insns))


RET_ALLOW = (0x06, 0, 0, SECCOMP_RET_ALLOW)


# --------------------------------------------------------------------------- the kernel's load checks


@pytest.mark.parametrize(
    ("insns", "fragment", "pc"),
    [
        ([], "1 to 4096 instructions", None),
        ([RET_ALLOW] * 4097, "1 to 4096 instructions", None),
        ([(0x20, 0, 0, 64), RET_ALLOW], "outside struct seccomp_data", 0),  # past the 64 bytes
        ([(0x20, 0, 0, 6), RET_ALLOW], "unaligned", 0),
        ([(0x30, 0, 0, 0), RET_ALLOW], "not allowed in seccomp", 0),  # BPF_LD|BPF_B|BPF_ABS: bytes are not
        ([(0x94, 0, 0, 3), RET_ALLOW], "not allowed in seccomp", 0),  # BPF_MOD: classic BPF has it, seccomp not
        ([(0x05, 0, 0, 1), RET_ALLOW], "jumps past the end", 0),
        ([(0x15, 1, 0, 0), RET_ALLOW], "lands past the end", 0),
        ([(0x20, 0, 0, 0)], "not a ret", 0),
        ([(0x34, 0, 0, 0), RET_ALLOW], "division by the constant 0", 0),
        ([(0x64, 0, 0, 32), RET_ALLOW], "a shift by 32", 0),
        ([(0x60, 0, 0, 16), RET_ALLOW], "scratch memory has 16 words", 0),
        ([(0x60, 0, 0, 3), RET_ALLOW], "M[3] is read before it is written", 0),
        # written on one path only: still refused (every path must write it)
        ([(0x20, 0, 0, 0), (0x15, 0, 1, 1), (0x02, 0, 0, 3), (0x60, 0, 0, 3), RET_ALLOW], "M[3] is read", 3),
    ],
)
def test_programs_the_kernel_refuses(insns: list[tuple[int, int, int, int]], fragment: str, pc: int | None) -> None:
    with pytest.raises(InvalidProgramError, match=re.escape(fragment)) as err:
        prog(*insns)
    assert err.value.pc == pc
    assert "EINVAL" in str(err.value)


def test_bytes_round_trip_and_a_partial_record_is_refused() -> None:
    p = prog((0x20, 0, 0, 4), (0x15, 0, 1, X86_64), RET_ALLOW, (0x06, 0, 0, 0))
    assert Program.from_bytes(p.to_bytes()) == p
    assert len(p.to_bytes()) == 8 * len(p)
    with pytest.raises(InvalidProgramError, match="whole number"):
        Program.from_bytes(p.to_bytes()[:-1])


def test_listing_names_the_fields_it_loads() -> None:
    p = Program.assemble([("ld", "arch"), ("ld", "nr"), ("ld", 16), ("ld", 44), ("ld", 8), ("ret", 0)])
    assert p.listing().splitlines() == [
        "0: ld arch", "1: ld nr", "2: ld arg0[lo]", "3: ld arg3[hi]", "4: ld ip[lo]", "5: ret #0x0",
    ]  # fmt: skip


# --------------------------------------------------------------------------- run


def test_seccomp_data_is_read_in_host_order() -> None:
    data = SeccompData(nr=-1, arch=X86_64, instruction_pointer=0x1122334455667788, args=(0xAABBCCDD_00112233,))
    words = data.words()
    assert words[0] == 0xFFFFFFFF  # nr is a signed int: -1 is all ones
    assert words[1] == X86_64
    assert (words[2], words[3]) == (0x55667788, 0x11223344)
    assert (words[4], words[5]) == (0x00112233, 0xAABBCCDD)


@pytest.mark.parametrize(
    ("alu", "a", "k", "want"),
    [
        (0x04, 0xFFFFFFFF, 2, 1),  # add wraps at 32 bits
        (0x14, 1, 2, 0xFFFFFFFF),  # sub wraps
        (0x24, 0x10000, 0x10000, 0),  # mul keeps the low 32 bits
        (0x34, 7, 2, 3),  # div
        (0x44, 0x0F, 0xF0, 0xFF),  # or
        (0x54, 0xFF, 0x0F, 0x0F),  # and
        (0xA4, 0xFF, 0x0F, 0xF0),  # xor
        (0x64, 1, 31, 0x80000000),  # lsh
        (0x74, 0x80000000, 31, 1),  # rsh
    ],
)
def test_alu_with_a_constant(alu: int, a: int, k: int, want: int) -> None:
    p = prog((0x00, 0, 0, a), (alu, 0, 0, k), (0x16, 0, 0, 0))  # ld #a; op #k; ret a
    assert p.run(SeccompData(0, 0)).value == want


def test_x_register_scratch_memory_neg_and_len() -> None:
    p = prog(
        (0x01, 0, 0, 5),  # ldx #5
        (0x80, 0, 0, 0),  # ld len -> 64
        (0x0C, 0, 0, 0),  # add x -> 69
        (0x02, 0, 0, 2),  # st M[2]
        (0x84, 0, 0, 0),  # neg
        (0x07, 0, 0, 0),  # tax
        (0x61, 0, 0, 2),  # ldx M[2] -> 69
        (0x87, 0, 0, 0),  # txa
        (0x16, 0, 0, 0),  # ret a
    )
    out = p.run(SeccompData(0, 0))
    assert (out.value, out.executed) == (69, 9)


def test_division_by_a_zero_x_ends_the_program_with_zero() -> None:
    p = prog((0x01, 0, 0, 0), (0x00, 0, 0, 9), (0x3C, 0, 0, 0), RET_ALLOW)  # ldx #0; ld #9; div x
    out = p.run(SeccompData(0, 0))
    assert (out.value, out.action, out.executed) == (0, Action.KILL_THREAD, 3)


@pytest.mark.parametrize(
    ("value", "action", "errno"),
    [
        (SECCOMP_RET_ALLOW, Action.ALLOW, None),
        (SECCOMP_RET_LOG, Action.LOG, None),
        (SECCOMP_RET_ERRNO | 38, Action.ERRNO, 38),
        (SECCOMP_RET_TRACE | 7, Action.TRACE, 7),
        (SECCOMP_RET_KILL_PROCESS, Action.KILL_PROCESS, None),
        (0x7FFE0000, Action.KILL_PROCESS, None),  # an action the kernel does not know kills the process
    ],
)
def test_return_values_decode_to_actions(value: int, action: Action, errno: int | None) -> None:
    out = prog((0x06, 0, 0, value)).run(SeccompData(0, 0))
    assert (out.action, out.errno) == (action, errno)


@pytest.mark.parametrize(
    ("op", "arg", "hit"),
    [(0x15, 5, True), (0x15, 6, False), (0x25, 6, True), (0x25, 5, False), (0x35, 5, True), (0x35, 4, False),
     (0x45, 4, True), (0x45, 2, False)],
)  # fmt: skip
def test_conditional_jumps_on_an_argument(op: int, arg: int, hit: bool) -> None:
    # jeq/jgt/jge/jset #5 on arg0's low word (jset: 5 = 0b101 shares a bit with 4, not with 2)
    p = prog((0x20, 0, 0, 16), (op, 0, 1, 5), RET_ALLOW, (0x06, 0, 0, SECCOMP_RET_ERRNO | 1))
    assert (p.run(SeccompData(0, 0, args=(arg,))).action is Action.ALLOW) is hit


# --------------------------------------------------------------------------- the kernel's cache emulation


def test_a_long_constant_path_is_cached_however_long() -> None:
    chain = [("jeq", 9999, 0, 0)] * 3000
    p = Program.assemble([("ld", "nr"), *chain, ("ret", SECCOMP_RET_ALLOW)])
    assert p.const(39, X86_64).allows
    assert p.longest(39, X86_64) == 3002


@pytest.mark.parametrize(
    ("insn", "reason"),
    [
        ((0x00, 0, 0, 39), "ld"),  # ld #39: a constant, but outside the kernel's small set
        ((0x07, 0, 0, 0), "tax"),
        ((0x80, 0, 0, 0), "ld"),  # ld len
        ((0x20, 0, 0, 8), "loads ip[lo]"),  # the instruction pointer is not constant
    ],
)
def test_the_emulation_gives_up_outside_its_instruction_set(insn: tuple[int, int, int, int], reason: str) -> None:
    p = prog((0x20, 0, 0, 0), insn, RET_ALLOW)
    got = p.const(39, X86_64)
    assert (got.value, got.stop, got.reason) == (None, 1, reason)
    assert not got.allows


def test_and_ja_and_jset_are_emulated() -> None:
    # ld nr; and #0x40000000; jset #0x40000000 -> ret errno else ja +1 (skipping a kill) -> allow
    p = Program.assemble(
        [("ld", "nr"), ("and", 0x40000000), ("jset", 0x40000000, 0, 1), ("ret", SECCOMP_RET_ERRNO | 1),
         ("ja", 1), ("ret", 0), ("ret", SECCOMP_RET_ALLOW)]
    )  # fmt: skip
    assert p.const(39, X86_64).allows
    assert p.const(39 | 0x40000000, X86_64).value == SECCOMP_RET_ERRNO | 1


def test_a_constant_refusal_is_not_cached() -> None:
    p = Program.assemble([("ld", "nr"), ("ret", SECCOMP_RET_ERRNO | 1)])
    got = p.const(1, X86_64)
    assert got.value == SECCOMP_RET_ERRNO | 1
    assert not got.allows


# --------------------------------------------------------------------------- longest path


def test_longest_skips_outcomes_the_path_already_ruled_out() -> None:
    # arg0 == 1 is tested twice; "equal, then not equal" is impossible, so the long tail is unreachable
    tail = [("jeq", 9999, 0, 0)] * 10
    p = Program.assemble(
        [("ld", 16), ("jeq", 1, 0, 12), ("ld", 16), ("jeq", 1, 11, 0), *tail, ("ret", 0), ("ret", SECCOMP_RET_ALLOW)]
    )
    assert p.longest(0, 0) == 5  # ld, jeq(true), ld, jeq(true), ret allow
    assert p.run(SeccompData(0, 0, args=(1,))).executed == 5
    assert p.run(SeccompData(0, 0, args=(2,))).executed == 3


def test_returns_lists_what_some_argument_value_reaches() -> None:
    # personality-like: allowed for arg0 in {0, 8}, refused otherwise; a contradictory path is left out
    p = Program.assemble(
        [("ld", 16), ("jeq", 0, 0, 1), ("ret", SECCOMP_RET_ALLOW), ("jeq", 8, 0, 1), ("ret", SECCOMP_RET_ALLOW),
         ("jeq", 0, 0, 1), ("ret", 7), ("ret", SECCOMP_RET_ERRNO | 1)]
    )  # fmt: skip
    assert p.returns(0, 0) == {SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | 1}  # "ret 7" needs arg0 == 0 twice over


def test_longest_follows_a_masked_word_as_its_own_value() -> None:
    # (arg0 & 0xff) == 3 then arg0 == 3: different words, both outcomes possible
    p = Program.assemble(
        [("ld", 16), ("and", 0xFF), ("jeq", 3, 0, 3), ("ld", 16), ("jeq", 3, 0, 1), ("ret", 1), ("ret", 2)]
    )
    assert p.longest(0, 0) == 6


# --------------------------------------------------------------------------- libseccomp's programs


def _docker_default() -> dict[str, Any]:
    from seccompose.render import render

    doc = json.loads((REFERENCE / "docker-default-moby-profiles-cd3bed8.json").read_text(encoding="utf-8"))
    return render(doc, engine="docker", arch=Arch.X86_64, kernel="6.18")


@pytest.fixture(scope="module", params=[False, True], ids=["linear", "tree"])
def docker_program(request: pytest.FixtureRequest) -> Program:
    pytest.importorskip("pyseccomp", reason="the 'check' extra (pyseccomp + libseccomp.so.2) is not installed")
    from seccompose.libseccomp import build_filter
    from seccompose.reading import read_as_runtime

    bpf, _, _ = build_filter(read_as_runtime(_docker_default()), binary_tree=request.param)
    return Program.from_bytes(bpf)


def test_libseccomp_program_verdicts(docker_program: Program) -> None:
    def run(nr: int, arch: int = X86_64, *args: int) -> tuple[Action, int | None]:
        out = docker_program.run(SeccompData(nr, arch, args=args))
        return out.action, out.errno

    assert run(110) == (Action.ALLOW, None)  # getppid
    assert run(435) == (Action.ERRNO, 38)  # clone3: ENOSYS
    assert run(169) == (Action.ERRNO, 1)  # reboot: the default action
    assert run(135, X86_64, 0xFFFFFFFF) == (Action.ALLOW, None)  # personality(query)
    assert run(135, X86_64, 0x10) == (Action.ERRNO, 1)
    assert run(56, X86_64, 0x10000000) == (Action.ERRNO, 1)  # clone(CLONE_NEWUSER)
    assert run(56, X86_64, 0x800) == (Action.ALLOW, None)
    assert run(64, I386) == (Action.ALLOW, None)  # i386 getppid
    assert run(110, 0xC00000B7) == (Action.KILL_THREAD, None)  # aarch64: not in the filter, libseccomp's badarch


@given(nr=st.integers(0, 600), abi=st.sampled_from([X86_64, I386]), args=st.lists(st.integers(0, 2**64 - 1), max_size=6))
def test_a_constant_verdict_holds_for_every_argument(nr: int, abi: int, args: list[int]) -> None:
    from seccompose.libseccomp import build_filter
    from seccompose.reading import read_as_runtime

    pytest.importorskip("pyseccomp")
    for binary_tree in (False, True):
        bpf, _, _ = build_filter(read_as_runtime(_docker_default()), binary_tree=binary_tree)
        p = Program.from_bytes(bpf)
        const = p.const(nr, abi)
        out = p.run(SeccompData(nr, abi, args=tuple(args)))
        if const.value is not None:
            assert out.value == const.value
        assert out.executed <= p.longest(nr, abi)
        assert out.value in p.returns(nr, abi)


def test_every_libseccomp_opcode_is_in_the_kernels_emulation_set(docker_program: Program) -> None:
    # libseccomp emits only what the kernel's cache emulation understands, so only argument
    # loads can make a call uncacheable.
    codes = {insn.code for insn in docker_program}
    assert codes <= {0x20, 0x54, 0x05, 0x15, 0x25, 0x35, 0x45, 0x06}, sorted(hex(c) for c in codes)
    reasons = {docker_program.const(nr, abi).reason for nr in range(470) for abi in (X86_64, I386)}
    assert reasons <= {"", "loads arg0[lo]", "loads arg0[hi]"}


def test_sock_filter_layout_matches_the_kernel_struct() -> None:
    assert struct.calcsize("=HBBI") == 8


def test_longest_computes_known_values_through_alu_x_and_memory() -> None:
    # ld nr; add #1; tax; txa; jeq #40 -> long tail, else ret: the sum decides the branch, no guessing
    tail = [(0x15, 0, 0, 9999)] * 5
    p = prog((0x20, 0, 0, 0), (0x04, 0, 0, 1), (0x07, 0, 0, 0), (0x87, 0, 0, 0), (0x15, 0, 6, 40), *tail,
             RET_ALLOW, (0x06, 0, 0, 0))  # fmt: skip
    assert p.longest(39, 0) == 11  # 39 + 1 == 40: through the tail
    assert p.longest(38, 0) == 6
    assert p.longest(39, 0) == p.run(SeccompData(39, 0)).executed
    # an argument word through the scratch memory is opaque: both ways
    q = prog((0x20, 0, 0, 16), (0x02, 0, 0, 0), (0x60, 0, 0, 0), (0x15, 0, 6, 40), *tail, RET_ALLOW, (0x06, 0, 0, 0))
    assert q.longest(0, 0) == 10

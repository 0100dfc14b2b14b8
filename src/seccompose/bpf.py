"""Classic BPF as the kernel runs a seccomp filter: decode, run, and emulate with arguments unknown.

A seccomp filter is a classic BPF program over ``struct seccomp_data`` (the syscall number,
the audit arch, the instruction pointer and six 64-bit arguments, in host byte order). This
module reads the programs libseccomp exports (``struct sock_filter`` records of 8 bytes),
checks them as the kernel does when they are loaded, and answers three questions:

- :meth:`Program.run`: what does the filter return for this call, after how many instructions?
- :meth:`Program.const`: what does it return when only the number and the arch are known? This is
  the kernel's own emulation (``seccomp_is_const_allow`` in ``kernel/seccomp.c``, Linux 5.11+):
  it follows the program from the start, knowing only those two words, and gives up at the first
  load of anything else or at any instruction outside its small set (loads of the number and the
  arch, ``and`` with a constant, ``ja``, ``jeq``/``jge``/``jgt``/``jset`` against a constant,
  ``ret`` of a constant).
- :meth:`Program.longest`: how many instructions can one call with that number and arch execute,
  over every argument value?

>>> prog = Program.assemble([
...     ("ld", "arch"), ("jeq", 0xC000003E, 0, 3),
...     ("ld", "nr"), ("jeq", 39, 0, 1),
...     ("ret", SECCOMP_RET_ALLOW), ("ret", SECCOMP_RET_ERRNO | 1)])
>>> prog.run(SeccompData(nr=39, arch=0xC000003E)).action, prog.run(SeccompData(nr=40, arch=0xC000003E)).errno
(<Action.ALLOW: 'SCMP_ACT_ALLOW'>, 1)
>>> prog.const(39, 0xC000003E).value == SECCOMP_RET_ALLOW, prog.longest(40, 0xC000003E)
(True, 5)
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Final

from seccompose.actions import Action
from seccompose.errors import InvalidProgramError

__all__ = [
    "MAX_INSTRUCTIONS",
    "SECCOMP_DATA_SIZE",
    "SECCOMP_RET_ALLOW",
    "SECCOMP_RET_ERRNO",
    "SECCOMP_RET_KILL_PROCESS",
    "SECCOMP_RET_KILL_THREAD",
    "SECCOMP_RET_LOG",
    "SECCOMP_RET_TRACE",
    "SECCOMP_RET_TRAP",
    "SECCOMP_RET_USER_NOTIF",
    "ConstResult",
    "Instruction",
    "Outcome",
    "Program",
    "SeccompData",
]

MAX_INSTRUCTIONS: Final = 4096  # BPF_MAXINSNS
SECCOMP_DATA_SIZE: Final = 64
SECCOMP_RET_KILL_PROCESS: Final = 0x80000000
SECCOMP_RET_KILL_THREAD: Final = 0x00000000
SECCOMP_RET_TRAP: Final = 0x00030000
SECCOMP_RET_ERRNO: Final = 0x00050000
SECCOMP_RET_USER_NOTIF: Final = 0x7FC00000
SECCOMP_RET_TRACE: Final = 0x7FF00000
SECCOMP_RET_LOG: Final = 0x7FFC0000
SECCOMP_RET_ALLOW: Final = 0x7FFF0000
_ACTION_FULL: Final = 0xFFFF0000
_DATA: Final = 0x0000FFFF
_U32: Final = 0xFFFFFFFF
_OFF_NR: Final = 0
_OFF_ARCH: Final = 4
_OFF_IP: Final = 8
_OFF_ARGS: Final = 16

_ACTIONS: Final = {
    SECCOMP_RET_KILL_PROCESS: Action.KILL_PROCESS,
    SECCOMP_RET_KILL_THREAD: Action.KILL_THREAD,
    SECCOMP_RET_TRAP: Action.TRAP,
    SECCOMP_RET_ERRNO: Action.ERRNO,
    SECCOMP_RET_USER_NOTIF: Action.NOTIFY,
    SECCOMP_RET_TRACE: Action.TRACE,
    SECCOMP_RET_LOG: Action.LOG,
    SECCOMP_RET_ALLOW: Action.ALLOW,
}

# Opcodes (linux/bpf_common.h, linux/filter.h): class | size | mode, class | op | source.
_LD, _LDX, _ST, _STX, _ALU, _JMP, _RET, _MISC = 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07
_W, _ABS, _IMM, _MEM, _LEN = 0x00, 0x20, 0x00, 0x60, 0x80
_K, _X, _A = 0x00, 0x08, 0x10
_ADD, _SUB, _MUL, _DIV, _OR, _AND, _LSH, _RSH, _NEG, _XOR = 0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0xA0
_JA, _JEQ, _JGT, _JGE, _JSET = 0x00, 0x10, 0x20, 0x30, 0x40
_TAX, _TXA = 0x00, 0x80

LD_ABS: Final = _LD | _W | _ABS
RET_K: Final = _RET | _K

_ALU_OPS: Final = {_ADD: "add", _SUB: "sub", _MUL: "mul", _DIV: "div", _OR: "or", _AND: "and", _LSH: "lsh",
                   _RSH: "rsh", _XOR: "xor"}  # fmt: skip
_JMP_OPS: Final = {_JEQ: "jeq", _JGT: "jgt", _JGE: "jge", _JSET: "jset"}
# What seccomp accepts (kernel/seccomp.c, seccomp_check_filter): loads of seccomp_data words,
# immediates and scratch memory, 32-bit ALU (no MOD), TAX/TXA, jumps, returns.
_ALLOWED: Final = frozenset(
    {
        _LD | _W | _ABS, _LD | _W | _LEN, _LDX | _W | _LEN, _LD | _IMM, _LDX | _IMM, _LD | _MEM, _LDX | _MEM,
        _ST, _STX, _MISC | _TAX, _MISC | _TXA, _RET | _K, _RET | _A, _ALU | _NEG, _JMP | _JA,
        *(_ALU | op | src for op in _ALU_OPS for src in (_K, _X)),
        *(_JMP | op | src for op in _JMP_OPS for src in (_K, _X)),
    }
)  # fmt: skip
_MEMWORDS: Final = 16
_FIELDS: Final = {_OFF_NR: "nr", _OFF_ARCH: "arch", _OFF_IP: "ip[lo]", _OFF_IP + 4: "ip[hi]"}


def _field(offset: int) -> str:
    if offset in _FIELDS:
        return _FIELDS[offset]
    index, half = divmod(offset - _OFF_ARGS, 8)
    return f"arg{index}[{'hi' if half else 'lo'}]"


@dataclass(frozen=True, slots=True)
class Instruction:
    """One ``struct sock_filter``: opcode, jump-if-true, jump-if-false, constant.

    >>> str(Instruction(0x20, 0, 0, 4)), str(Instruction(0x15, 2, 0, 0xC000003E))
    ('ld arch', 'jeq #0xc000003e, +2, +0')
    """

    code: int
    jt: int
    jf: int
    k: int

    def __str__(self) -> str:
        code, k = self.code, self.k
        cls = code & 0x07
        text = f"op {code:#06x} #{k:#x}"
        if code == LD_ABS:
            text = f"ld {_field(k)}"
        elif code in (_LD | _W | _LEN, _LDX | _W | _LEN):
            text = f"ld{'x' if cls == _LDX else ''} len"
        elif code in (_LD | _IMM, _LDX | _IMM):
            text = f"ld{'x' if cls == _LDX else ''} #{k:#x}"
        elif code in (_LD | _MEM, _LDX | _MEM):
            text = f"ld{'x' if cls == _LDX else ''} M[{k}]"
        elif code in (_ST, _STX):
            text = f"st{'x' if cls == _STX else ''} M[{k}]"
        elif code == _MISC | _TAX:
            text = "tax"
        elif code == _MISC | _TXA:
            text = "txa"
        elif cls == _RET:
            text = "ret a" if code & 0x18 == _A else f"ret #{k:#x}"
        elif code == _ALU | _NEG:
            text = "neg"
        elif cls == _ALU and code & 0xF0 in _ALU_OPS:
            text = f"{_ALU_OPS[code & 0xF0]} {'x' if code & _X else f'#{k:#x}'}"
        elif code == _JMP | _JA:
            text = f"ja +{k}"
        elif cls == _JMP and code & 0xF0 in _JMP_OPS:
            text = f"{_JMP_OPS[code & 0xF0]} {'x' if code & _X else f'#{k:#x}'}, +{self.jt}, +{self.jf}"
        return text


@dataclass(frozen=True, slots=True)
class SeccompData:
    """The ``struct seccomp_data`` a filter reads: number, audit arch, instruction pointer, arguments.

    ``nr`` is a signed 32-bit int in the kernel; the other fields are unsigned.
    """

    nr: int
    arch: int
    instruction_pointer: int = 0
    args: tuple[int, ...] = (0, 0, 0, 0, 0, 0)

    def words(self) -> tuple[int, ...]:
        """Return the 16 32-bit words a ``ld [k]`` reads, in host (little-endian) order."""
        args = tuple(self.args) + (0,) * (6 - len(self.args))
        raw = struct.pack(
            "<iIQ6Q",
            self.nr,
            self.arch & _U32,
            self.instruction_pointer & 0xFFFFFFFFFFFFFFFF,
            *(a & 0xFFFFFFFFFFFFFFFF for a in args[:6]),
        )
        return struct.unpack("<16I", raw)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a filter returned for one call, and how many instructions it executed."""

    value: int
    executed: int

    @property
    def action(self) -> Action:
        """The action of the return value (an unknown action kills the process, as in the kernel)."""
        return _ACTIONS.get(self.value & _ACTION_FULL, Action.KILL_PROCESS)

    @property
    def errno(self) -> int | None:
        """The errno of an ERRNO (or the data of a TRACE) return, else None."""
        return self.value & _DATA if self.action in (Action.ERRNO, Action.TRACE) else None


@dataclass(frozen=True, slots=True)
class ConstResult:
    """The kernel's emulation for one (number, arch): the constant it reached, or where it stopped.

    ``value`` is the return value when the path to a ``ret`` depended on the number and the
    arch only; otherwise None, with ``stop`` the instruction where the emulation gave up and
    ``reason`` why (``"loads arg0[lo]"``, ``"tax"``, ...).
    """

    value: int | None
    stop: int | None = None
    reason: str = ""

    @property
    def allows(self) -> bool:
        """Whether the kernel caches this call as allowed (the constant is exactly ``SECCOMP_RET_ALLOW``)."""
        return self.value == SECCOMP_RET_ALLOW


_Op = tuple[str, int | str] | tuple[str, int, int, int]


@dataclass(frozen=True, slots=True)
class Program:
    """A seccomp BPF program, checked as the kernel checks it on load.

    Build it from libseccomp's export with :meth:`from_bytes`, or from a listing with
    :meth:`assemble`. Immutable; ``len(program)`` is its instruction count.
    """

    instructions: tuple[Instruction, ...]
    _codes: tuple[tuple[int, int, int, int], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _validate(self.instructions)
        object.__setattr__(self, "_codes", tuple((i.code, i.jt, i.jf, i.k) for i in self.instructions))

    @classmethod
    def from_bytes(cls, data: bytes) -> Program:
        """Return the program held by ``struct sock_filter`` records in host byte order.

        Raises:
            InvalidProgramError: the length is not a whole number of records, or the kernel
                would refuse the program (unknown opcode, jump out of range, no final ``ret``...).
        """
        if len(data) % 8:
            raise InvalidProgramError(f"{len(data)} bytes is not a whole number of 8-byte instructions")
        return cls(tuple(Instruction(*insn) for insn in struct.iter_unpack("=HBBI", data)))

    @classmethod
    def assemble(cls, listing: Iterable[_Op]) -> Program:
        """Return a program from a small listing (for tests and examples).

        Items: ``("ld", "nr" | "arch" | offset)`` (``("ld", 16)`` is arg0's low word, ``("ld", 20)``
        its high word), ``("and", k)``, ``("ja", k)``, ``("jeq" | "jgt" | "jge" | "jset", k, jt, jf)``,
        ``("ret", k)``.

        Raises:
            InvalidProgramError: the kernel would refuse the program.
        """
        out = []
        simple = {"and": _ALU | _AND | _K, "ja": _JMP | _JA, "ret": RET_K}
        jumps = {"jeq": _JEQ, "jgt": _JGT, "jge": _JGE, "jset": _JSET}
        for item in listing:
            op, *rest = item
            if op == "ld" and len(rest) == 1:
                where = rest[0]
                offset = {"nr": _OFF_NR, "arch": _OFF_ARCH}.get(where) if isinstance(where, str) else where
                if offset is None:
                    raise InvalidProgramError(f"unknown load {where!r}")
                out.append(Instruction(LD_ABS, 0, 0, offset))
            elif op in simple and len(rest) == 1 and isinstance(rest[0], int):
                out.append(Instruction(simple[op], 0, 0, rest[0]))
            elif op in jumps and len(rest) == 3:
                k, jt, jf = (int(v) for v in rest)
                out.append(Instruction(_JMP | jumps[op] | _K, jt, jf, k))
            else:
                raise InvalidProgramError(f"unknown listing item {item!r}")
        return cls(tuple(out))

    def to_bytes(self) -> bytes:
        """Return the program as ``struct sock_filter`` records (host byte order)."""
        return b"".join(struct.pack("=HBBI", *c) for c in self._codes)

    def __len__(self) -> int:
        return len(self.instructions)

    def __iter__(self) -> Iterator[Instruction]:
        return iter(self.instructions)

    def listing(self) -> str:
        """Return a disassembly, one numbered instruction per line."""
        width = len(str(len(self)))
        return "\n".join(f"{pc:>{width}}: {insn}" for pc, insn in enumerate(self.instructions))

    # ------------------------------------------------------------------ run

    def run(self, data: SeccompData) -> Outcome:
        """Return what the filter returns for one call, with the number of instructions executed.

        >>> prog = Program.assemble([("ld", 16), ("jeq", 7, 0, 1), ("ret", SECCOMP_RET_ALLOW), ("ret", 0)])
        >>> prog.run(SeccompData(0, 0, args=(7,))).action, prog.run(SeccompData(0, 0)).executed
        (<Action.ALLOW: 'SCMP_ACT_ALLOW'>, 3)
        """
        words = data.words()
        codes = self._codes
        a = x = 0
        mem = [0] * _MEMWORDS
        pc = executed = 0
        while True:
            code, jt, jf, k = codes[pc]
            executed += 1
            pc += 1
            cls = code & 0x07
            if cls == _LD:
                mode = code & 0xE0
                a = words[k >> 2] if mode == _ABS else k if mode == _IMM else mem[k] if mode == _MEM else 64
            elif cls == _JMP:
                if code == _JMP | _JA:
                    pc += k
                    continue
                b = x if code & _X else k
                op = code & 0xF0
                hit = a == b if op == _JEQ else a > b if op == _JGT else a >= b if op == _JGE else bool(a & b)
                pc += jt if hit else jf
            elif cls == _RET:
                return Outcome(a if code & 0x18 == _A else k, executed)
            elif cls == _ALU:
                op = code & 0xF0
                if op == _NEG:
                    a = -a & _U32
                    continue
                b = x if code & _X else k
                if op == _DIV:
                    if b == 0:
                        return Outcome(0, executed)  # classic BPF: division by zero ends with 0
                    a //= b
                else:
                    a = _alu(op, a, b)
            elif cls == _LDX:
                mode = code & 0xE0
                x = k if mode == _IMM else mem[k] if mode == _MEM else 64
            elif cls == _ST:
                mem[k] = a
            elif cls == _STX:
                mem[k] = x
            elif code == _MISC | _TAX:
                x = a
            else:
                a = x

    # ------------------------------------------------------------------ the kernel's emulation

    def const(self, nr: int, arch: int) -> ConstResult:
        """Emulate the filter as the kernel does to fill its cache (``seccomp_is_const_allow``).

        Only the number and the arch are known. The kernel caches the call as allowed when the
        result's ``value`` is exactly ``SECCOMP_RET_ALLOW`` (:attr:`ConstResult.allows`); any other
        constant, or a path that needs anything else, leaves the call to the filter every time.

        >>> prog = Program.assemble([("ld", "nr"), ("jeq", 1, 0, 2), ("ld", 16), ("ret", 0),
        ...                          ("ret", SECCOMP_RET_ALLOW)])
        >>> prog.const(0, 0).allows, prog.const(1, 0)
        (True, ConstResult(value=None, stop=2, reason='loads arg0[lo]'))
        """
        codes = self._codes
        reg = 0
        nr &= _U32
        arch &= _U32
        pc = 0
        while pc < len(codes):
            code, jt, jf, k = codes[pc]
            if code == LD_ABS:
                if k == _OFF_NR:
                    reg = nr
                elif k == _OFF_ARCH:
                    reg = arch
                else:
                    return ConstResult(None, pc, f"loads {_field(k)}")
            elif code == RET_K:
                return ConstResult(k)
            elif code == _JMP | _JA:
                pc += k
            elif code in (_JMP | _JEQ | _K, _JMP | _JGE | _K, _JMP | _JGT | _K, _JMP | _JSET | _K):
                op = code & 0xF0
                hit = reg == k if op == _JEQ else reg >= k if op == _JGE else reg > k if op == _JGT else bool(reg & k)
                pc += jt if hit else jf
            elif code == _ALU | _AND | _K:
                reg &= k
            else:
                return ConstResult(None, pc, str(self.instructions[pc]).split(" ")[0])
            pc += 1
        return ConstResult(None, None, "runs off the end")  # unreachable for a validated program

    # ------------------------------------------------------------------ worst case

    def longest(self, nr: int, arch: int) -> int:
        """Return the most instructions one call with this number and arch can execute.

        Every branch on a value the filter cannot know in advance (an argument, the
        instruction pointer) is followed both ways, unless an earlier comparison of the same
        word on the path already decides it; the bound is exact for programs that compare
        each argument word against constants, as libseccomp's do.

        >>> prog = Program.assemble([("ld", "nr"), ("jeq", 1, 0, 3), ("ld", 16), ("jeq", 5, 0, 1),
        ...                          ("ret", 0), ("ret", SECCOMP_RET_ALLOW)])
        >>> prog.longest(1, 0), prog.longest(2, 0)
        (5, 3)
        """
        return _paths(self._codes, nr & _U32, arch & _U32).longest

    def returns(self, nr: int, arch: int) -> frozenset[int | None]:
        """Return every value the filter can return for this number and arch, over every argument value.

        None stands for a ``ret a`` whose value the walk does not know. Outcomes an earlier
        comparison of the same word rules out are left out, as in :meth:`longest`.

        >>> prog = Program.assemble([("ld", "nr"), ("jeq", 1, 0, 3), ("ld", 16), ("jeq", 5, 0, 1),
        ...                          ("ret", 0), ("ret", SECCOMP_RET_ALLOW)])
        >>> sorted(prog.returns(1, 0)), sorted(prog.returns(2, 0)) == [SECCOMP_RET_ALLOW]
        ([0, 2147418112], True)
        """
        return _paths(self._codes, nr & _U32, arch & _U32).returns


def _alu(op: int, a: int, b: int) -> int:
    if op == _ADD:
        return (a + b) & _U32
    if op == _SUB:
        return (a - b) & _U32
    if op == _MUL:
        return (a * b) & _U32
    if op == _OR:
        return a | b
    if op == _AND:
        return a & b
    if op == _XOR:
        return a ^ b
    if op == _LSH:
        return (a << (b & 31)) & _U32
    return a >> (b & 31)  # RSH


def _validate(program: Sequence[Instruction]) -> None:
    """Check a program as bpf_check_classic and seccomp_check_filter do."""
    n = len(program)
    if not 1 <= n <= MAX_INSTRUCTIONS:
        raise InvalidProgramError(f"a filter has 1 to {MAX_INSTRUCTIONS} instructions, not {n}")
    for pc, insn in enumerate(program):
        code, k = insn.code, insn.k
        if not (0 <= code <= 0xFFFF and 0 <= insn.jt <= 0xFF and 0 <= insn.jf <= 0xFF and 0 <= k <= _U32):
            raise InvalidProgramError("a field is out of range", pc=pc)
        if code not in _ALLOWED:
            raise InvalidProgramError(f"opcode {code:#06x} is not allowed in seccomp", pc=pc)
        cls = code & 0x07
        if code == LD_ABS and (k >= SECCOMP_DATA_SIZE or k % 4):
            raise InvalidProgramError(f"a load at offset {k} is outside struct seccomp_data or unaligned", pc=pc)
        if code in (_LD | _MEM, _LDX | _MEM, _ST, _STX) and k >= _MEMWORDS:
            raise InvalidProgramError(f"scratch memory has {_MEMWORDS} words, not M[{k}]", pc=pc)
        if code == _ALU | _DIV | _K and k == 0:
            raise InvalidProgramError("division by the constant 0", pc=pc)
        if code in (_ALU | _LSH | _K, _ALU | _RSH | _K) and k >= 32:
            raise InvalidProgramError(f"a shift by {k} (at most 31)", pc=pc)
        if code == _JMP | _JA:
            if k >= n - pc - 1:
                raise InvalidProgramError(f"ja +{k} jumps past the end", pc=pc)
        elif cls == _JMP and (pc + insn.jt + 1 >= n or pc + insn.jf + 1 >= n):
            raise InvalidProgramError("a conditional jump lands past the end", pc=pc)
    if program[-1].code & 0x07 != _RET:
        raise InvalidProgramError("the last instruction is not a ret", pc=n - 1)
    _check_memory(program)


def _check_memory(program: Sequence[Instruction]) -> None:
    """Every scratch word must be written on every path before it is read (check_load_and_stores)."""
    full = (1 << _MEMWORDS) - 1
    valid = [full] * len(program)
    valid[0] = 0
    for pc, insn in enumerate(program):
        code, k = insn.code, insn.k
        mask = valid[pc]
        if code in (_ST, _STX):
            mask |= 1 << k
        elif code in (_LD | _MEM, _LDX | _MEM) and not mask & (1 << k):
            raise InvalidProgramError(f"M[{k}] is read before it is written", pc=pc)
        if code == _JMP | _JA:
            valid[pc + 1 + k] &= mask
        elif code & 0x07 == _JMP:
            valid[pc + 1 + insn.jt] &= mask
            valid[pc + 1 + insn.jf] &= mask
        elif code & 0x07 != _RET and pc + 1 < len(program):
            valid[pc + 1] &= mask


# A register's abstract value: (_KNOWN, value, 0), (_WORD, offset, mask) for an unknown data word
# ANDed with a mask, or (_OPAQUE, 0, 0) when unknown in another way.
_Val = tuple[int, int, int]
_KNOWN, _WORD = 0, 1
_OPAQUE: Final[_Val] = (2, 0, 0)


def _branch(fact: tuple[int | None, frozenset[int], int, int], op: int, k: int, hit: bool) -> (
    tuple[int | None, frozenset[int], int, int] | None
):
    """Return the fact after a comparison outcome, or None when that outcome is impossible."""
    eq, ne, lo, hi = fact
    if op == _JEQ:
        if hit:
            if (eq is not None and eq != k) or k in ne or not lo <= k <= hi:
                return None
            return (k, ne, k, k)
        if eq == k or lo == hi == k:
            return None
        return (eq, ne | {k}, lo, hi)
    if op in (_JGT, _JGE):
        bound = k + 1 if op == _JGT else k
        if hit:
            lo = max(lo, bound)
        else:
            hi = min(hi, bound - 1)
        if lo > hi or (eq is not None and not lo <= eq <= hi):
            return None
        return (eq, ne, lo, hi)
    # JSET: only an exact value decides it
    if eq is not None and bool(eq & k) != hit:
        return None
    if not hit and lo > 0 and k == _U32:
        return None
    return fact


@dataclass(frozen=True, slots=True)
class _Paths:
    longest: int
    returns: frozenset[int | None]


def _ret_value(code: int, k: int, a: _Val) -> int | None:
    if code & 0x18 != _A:
        return k
    return a[1] if a[0] == _KNOWN else None


def _paths(codes: tuple[tuple[int, int, int, int], ...], nr: int, arch: int) -> _Paths:
    """Longest path and reachable return values for one (nr, arch).

    The prefix that depends on the number and the arch only is followed as the kernel's
    emulation does; from the first unknown value on, the instructions are visited in order
    (every jump goes forward, so that is a topological order of the paths), each with the
    abstract states that reach it and the most instructions executed on the way.
    """
    a: _Val = (_KNOWN, 0, 0)
    x: _Val = (_KNOWN, 0, 0)
    pc = executed = 0
    while True:  # the determined prefix
        code, jt, jf, k = codes[pc]
        if code & 0x07 == _RET:
            return _Paths(executed + 1, frozenset({_ret_value(code, k, a)}))
        if code == _JMP | _JA:
            executed += 1
            pc += 1 + k
            continue
        if code & 0x07 == _JMP:
            decided = _decide(a, x if code & _X else (_KNOWN, k, 0), code & 0xF0)
            if decided is None:
                break
            executed += 1
            pc += 1 + (jt if decided else jf)
            continue
        a, x = _step(code, k, a, x, nr, arch)
        executed += 1
        pc += 1
    for use_facts in (True, False):
        found = _walk(codes, pc, (a, x, ()), executed, nr, arch, use_facts=use_facts)
        if found is not None:
            return found
    raise AssertionError("unreachable: the walk without path facts has no budget")  # pragma: no cover


_State = tuple[_Val, _Val, tuple[tuple[tuple[int, int], tuple[int | None, frozenset[int], int, int]], ...]]
_BUDGET: Final = 200_000  # (instruction, state) pairs before the walk drops path facts


def _walk(
    codes: tuple[tuple[int, int, int, int], ...],
    start: int,
    state: _State,
    executed: int,
    nr: int,
    arch: int,
    *,
    use_facts: bool,
) -> _Paths | None:
    reach: dict[int, dict[_State, int]] = {start: {state: executed}}
    best = 0
    returns: set[int | None] = set()
    visited = 0
    for pc in range(start, len(codes)):
        here = reach.pop(pc, None)
        if not here:
            continue
        code, jt, jf, k = codes[pc]
        cls = code & 0x07
        for (a, x, facts), before in here.items():
            visited += 1
            if use_facts and visited > _BUDGET:
                return None
            count = before + 1
            if cls == _RET:
                best = max(best, count)
                returns.add(_ret_value(code, k, a))
                continue
            if code == _JMP | _JA:
                _push(reach, pc + 1 + k, (a, x, facts), count)
                continue
            if cls == _JMP:
                decided = _decide(a, x if code & _X else (_KNOWN, k, 0), code & 0xF0)
                outcomes = (True, False) if decided is None else (decided,)
                for hit in outcomes:
                    learned = facts
                    if decided is None and use_facts and a[0] == _WORD and not code & _X:
                        after = _learn(facts, (a[1], a[2]), code & 0xF0, k, hit)
                        if after is None:
                            continue  # this outcome contradicts what the path already compared
                        learned = after
                    _push(reach, pc + 1 + (jt if hit else jf), (a, x, learned), count)
                continue
            a2, x2 = _step(code, k, a, x, nr, arch)
            _push(reach, pc + 1, (a2, x2, facts), count)
    return _Paths(best, frozenset(returns))


def _push(reach: dict[int, dict[_State, int]], pc: int, state: _State, count: int) -> None:
    states = reach.setdefault(pc, {})
    if states.get(state, -1) < count:
        states[state] = count


def _step(code: int, k: int, a: _Val, x: _Val, nr: int, arch: int) -> tuple[_Val, _Val]:
    """Return the abstract (A, X) after a non-jump, non-ret instruction."""
    cls = code & 0x07
    if code == LD_ABS:
        if k == _OFF_NR:
            return (_KNOWN, nr, 0), x
        if k == _OFF_ARCH:
            return (_KNOWN, arch, 0), x
        return (_WORD, k, _U32), x
    if code in (_LD | _IMM, _LD | _W | _LEN):
        return (_KNOWN, k if code == _LD | _IMM else SECCOMP_DATA_SIZE, 0), x
    if code in (_LDX | _IMM, _LDX | _W | _LEN):
        return a, (_KNOWN, k if code == _LDX | _IMM else SECCOMP_DATA_SIZE, 0)
    if cls == _LD:  # scratch memory is not tracked
        return _OPAQUE, x
    if cls == _LDX:
        return a, _OPAQUE
    if cls in (_ST, _STX):
        return a, x
    if code == _MISC | _TAX:
        return a, a
    if code == _MISC | _TXA:
        return x, x
    op = code & 0xF0
    b: _Val = x if code & _X else (_KNOWN, k, 0)
    if a[0] == _KNOWN and (op == _NEG or b[0] == _KNOWN):
        av, bv = a[1], b[1]
        if op == _NEG:
            return (_KNOWN, -av & _U32, 0), x
        if op == _DIV:
            return ((_KNOWN, av // bv, 0) if bv else _OPAQUE), x
        return (_KNOWN, _alu(op, av, bv), 0), x
    if op == _AND and a[0] == _WORD and b[0] == _KNOWN:
        return (_WORD, a[1], a[2] & b[1]), x
    return _OPAQUE, x


def _decide(a: _Val, b: _Val, op: int) -> bool | None:
    if a[0] != _KNOWN or b[0] != _KNOWN:
        return None
    av, bv = a[1], b[1]
    return av == bv if op == _JEQ else av > bv if op == _JGT else av >= bv if op == _JGE else bool(av & bv)


def _learn(
    facts: tuple[tuple[tuple[int, int], tuple[int | None, frozenset[int], int, int]], ...],
    key: tuple[int, int],
    op: int,
    k: int,
    hit: bool,
) -> tuple[tuple[tuple[int, int], tuple[int | None, frozenset[int], int, int]], ...] | None:
    current = next((v for kk, v in facts if kk == key), (None, frozenset(), 0, _U32))
    after = _branch(current, op, k, hit)
    if after is None:
        return None
    return tuple(sorted([*(kv for kv in facts if kv[0] != key), (key, after)], key=lambda kv: kv[0]))

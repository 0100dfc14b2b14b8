"""Seccomp rules: a set of syscall names, an action, and argument conditions.

A ``Rule`` is the unit of an OCI profile's ``syscalls`` list. Its conditions
(``Arg``) compare one of the six syscall arguments with a value; all conditions of
one rule must hold (AND). ``SCMP_CMP_MASKED_EQ`` masks the argument with
``value`` and compares the result with ``value_two``.

>>> Arg(0, Operator.MASKED_EQ, 0x7E020000, 0).matches(0x11)
True
>>> r = Rule(("write", "read", "read"), Action.ALLOW)
>>> r.names
('read', 'write')
>>> Rule(("kill",), Action.ERRNO).errno   # runtimes use EPERM when errnoRet is absent
1
>>> Arg(1, Operator.GE, 0x10000).describe()
'arg1 >= 0x10000'
>>> Arg(6, Operator.EQ, 1)
Traceback (most recent call last):
...
seccompose.errors.InvalidArgumentError: argument index 6 is out of range; syscalls have arguments 0 to 5
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from seccompose.actions import EPERM, Action, parse_errno, parse_scmp_name
from seccompose.errors import InvalidActionError, InvalidArgumentError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from seccompose.syscallset import Universe

__all__ = ["HEX_FROM", "MAX_ARG_INDEX", "Arg", "Operator", "Rule", "describe_condition", "runtime_groups"]

MAX_ARG_INDEX: Final = 5
_U64: Final = (1 << 64) - 1
_U32: Final = (1 << 32) - 1
HEX_FROM: Final = 0x10000
"""By default values from here on are written in hex (flags and masks), smaller ones in decimal (counts, fds)."""


class Operator(enum.Enum):
    """The seven comparison operators of the OCI runtime spec."""

    # Members are singletons compared by identity: hash them so too, in C (Enum's hash runs Python code).
    __hash__ = object.__hash__

    NE = "SCMP_CMP_NE"
    LT = "SCMP_CMP_LT"
    LE = "SCMP_CMP_LE"
    EQ = "SCMP_CMP_EQ"
    GE = "SCMP_CMP_GE"
    GT = "SCMP_CMP_GT"
    MASKED_EQ = "SCMP_CMP_MASKED_EQ"

    @classmethod
    def parse(cls, text: str, *, location: str | None = None) -> Operator:
        """Return the operator named ``SCMP_CMP_EQ``, ``EQ`` or ``eq``.

        Raises:
            InvalidArgumentError: not one of the seven operators.

        >>> Operator.parse("masked_eq")
        <Operator.MASKED_EQ: 'SCMP_CMP_MASKED_EQ'>
        """
        return parse_scmp_name(cls, text, "SCMP_CMP_", "operator", InvalidArgumentError, location)


_OP_ORDER: Final = {op: i for i, op in enumerate(Operator)}


def _u64(value: object, what: str, location: str | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _U64:
        raise InvalidArgumentError(f"{what} {value!r} is not an unsigned 64-bit integer", location=location)
    return value


@dataclass(frozen=True, slots=True, order=False)
class Arg:
    """One argument condition: ``arg[index] <op> value`` (MASKED_EQ: ``arg & value == value_two``)."""

    index: int
    op: Operator
    value: int
    value_two: int = 0
    location: str | None = field(default=None, compare=False, repr=False)
    _hash: int = field(default=0, init=False, compare=False, repr=False)
    """Kept: rules' keys hold conditions, and the caches hash those keys (the generated hash runs Python code)."""

    if TYPE_CHECKING:  # the generated __init__, as it is called: the operator may be given by name (parsed below)

        def __init__(
            self, index: int, op: Operator | str, value: int, value_two: int = 0, location: str | None = None
        ) -> None: ...

    def __post_init__(self) -> None:
        if isinstance(self.index, bool) or not isinstance(self.index, int) or not 0 <= self.index <= MAX_ARG_INDEX:
            raise InvalidArgumentError(
                f"argument index {self.index!r} is out of range; syscalls have arguments 0 to {MAX_ARG_INDEX}",
                location=self.location,
            )
        if not isinstance(self.op, Operator):
            object.__setattr__(self, "op", Operator.parse(self.op, location=self.location))
        _u64(self.value, "value", self.location)
        _u64(self.value_two, "valueTwo", self.location)
        object.__setattr__(self, "_hash", hash((self.index, self.op, self.value, self.value_two)))

    def __hash__(self) -> int:
        return self._hash

    def matches(self, argument: int) -> bool:
        """Whether a (64-bit) argument value satisfies this condition.

        >>> Arg(0, Operator.EQ, 8).matches(8), Arg(0, Operator.LT, 38).matches(38)
        (True, False)
        """
        a = argument & _U64
        match self.op:
            case Operator.NE:
                return a != self.value
            case Operator.LT:
                return a < self.value
            case Operator.LE:
                return a <= self.value
            case Operator.EQ:
                return a == self.value
            case Operator.GE:
                return a >= self.value
            case Operator.GT:
                return a > self.value
            case Operator.MASKED_EQ:
                return a & self.value == self.value_two
        return False  # pragma: no cover - the match is exhaustive

    def describe(self, *, hex_from: int = HEX_FROM) -> str:
        """The condition as reports write it for people (see ``describe_condition``).

        >>> Arg(0, Operator.EQ, 8).describe(), Arg(0, Operator.MASKED_EQ, 0x7E020000).describe()
        ('arg0 == 8', 'arg0 & 0x7e020000 == 0x0')
        >>> Arg(0, Operator.EQ, 8).describe(hex_from=0)
        'arg0 == 0x8'
        """
        return describe_condition(self.index, self.op, self.value, self.value_two, hex_from=hex_from)

    def sort_key(self) -> tuple[int, int, int, int]:
        """A total order used to make rules canonical."""
        return (self.index, _OP_ORDER[self.op], self.value, self.value_two)

    @property
    def constant(self) -> bool | None:
        """True when the condition holds for every argument value, False for none, None when it depends.

        Judged as libseccomp 2.5 compiles it on every ABI: all 64 bits on x86_64 and aarch64, the
        low 32 bits of the argument and of the values on x86, x32 and arm; ``MASKED_EQ`` compares
        ``arg & value`` with ``value_two & value`` (libseccomp masks the datum too, so a mask of 0
        matches every value). A condition is constant only when it is so on both.

        >>> Arg(0, Operator.GE, 0).constant, Arg(1, Operator.MASKED_EQ, 0, 0x100).constant
        (True, True)
        >>> Arg(0, Operator.LT, 0).constant, Arg(1, Operator.MASKED_EQ, 0xFF, 0x100).constant
        (False, None)
        >>> Arg(0, Operator.LE, 0xFFFFFFFF).constant is None  # every value only where 32 bits are compared
        True
        """
        wide = _constant(self.op, self.value, _U64)
        narrow = _constant(self.op, self.value & _U32, _U32)
        return wide if wide == narrow else None


_SYMBOLS: Final = {
    Operator.NE: "!=", Operator.LT: "<", Operator.LE: "<=", Operator.EQ: "==", Operator.GE: ">=", Operator.GT: ">",
}  # fmt: skip
_WRITTEN_SYMBOLS: Final = {op.value: symbol for op, symbol in _SYMBOLS.items()}


def describe_condition(
    index: int, op: Operator | str, value: int, value_two: int = 0, *, hex_from: int = HEX_FROM
) -> str:
    """Write one argument condition for people: ``arg1 >= 0x10000``, ``arg0 & 0xff == 0x1``.

    The one writing every report uses (compose's warnings, ``check --cost``, ``lint``, ``diff``).
    ``op`` is an ``Operator`` or, for a condition as a document writes it (lint reports what
    runc would refuse too), its text: an ``SCMP_CMP_*`` name is written as its symbol, any
    other text as it is. A compared value from ``hex_from`` on is written in hex (``diff``
    writes every value so: ``hex_from=0``); a mask and its datum always are.

    >>> describe_condition(2, Operator.LT, 38), describe_condition(0, "SCMP_CMP_MASKED_EQ", 0xFF, 1)
    ('arg2 < 38', 'arg0 & 0xff == 0x1')
    >>> describe_condition(0, "ge", 0)   # not a name runc reads: written as the document spells it
    'arg0 ge 0'
    """
    if op is Operator.MASKED_EQ or op == "SCMP_CMP_MASKED_EQ":
        return f"arg{index} & {value:#x} == {value_two:#x}"
    symbol = _SYMBOLS[op] if isinstance(op, Operator) else _WRITTEN_SYMBOLS.get(op, op)
    return f"arg{index} {symbol} {value if value < hex_from else hex(value)}"


def runtime_groups(args: Sequence[Arg]) -> list[tuple[Arg, ...]]:
    """A rule's conditions as runc and crun add them to libseccomp: one group (AND), or one rule per condition.

    When two conditions test the same argument, runc and crun add each condition as a rule of
    its own, so they are ORed (libseccomp refuses two on one argument in one rule).

    >>> a, b, c = Arg(0, Operator.EQ, 1), Arg(0, Operator.EQ, 2), Arg(1, Operator.EQ, 3)
    >>> runtime_groups((a, c)) == [(a, c)], runtime_groups((a, b, c)) == [(a,), (b,), (c,)], runtime_groups(())
    (True, True, [()])
    """
    if len({a.index for a in args}) == len(args):
        return [tuple(args)]
    return [(a,) for a in args]


def _constant(op: Operator, value: int, top: int) -> bool | None:
    if (op, value) in ((Operator.GE, 0), (Operator.LE, top)):
        return True
    if (op, value) in ((Operator.LT, 0), (Operator.GT, top)):
        return False
    if op is Operator.MASKED_EQ and value == 0:
        return True  # libseccomp masks the datum too: 0 == 0 for every value
    return None


@dataclass(frozen=True, slots=True)
class Rule:
    """Syscall names with one action (and errno), allowed or denied under argument conditions.

    Names are kept sorted and unique; conditions sorted (their order does not
    matter: they are ANDed). ERRNO and TRACE without an errno get EPERM, as runc
    and crun do; other actions must not carry one.
    """

    names: tuple[str, ...]
    action: Action = Action.ALLOW
    errno: int | None = None
    args: tuple[Arg, ...] = ()
    comment: str = field(default="", compare=False)
    _bits: tuple[Universe, int] | None = field(default=None, init=False, compare=False, repr=False)
    """The universe and bitset the names are exactly, when they were built from one (emitters then skip a step
    per name); None otherwise."""
    _near: int = field(default=0, init=False, compare=False, repr=False)
    """With ``_bits``: the bits of a set whose names differ from these in a few (a container's allow list and its
    base's), so an emitter can patch that set's text instead of writing every name; 0: none."""
    _texts: dict[str, str] | None = field(default=None, init=False, compare=False, repr=False)
    """Emitters' text of this rule, by format and layout (the rule is immutable, so is its text)."""
    _runs: dict[str, tuple[tuple[Rule, ...], str]] | None = field(default=None, init=False, compare=False, repr=False)
    """Emitters' text of this rule and the rules that followed it last time (those, and the text), by layout."""

    def __post_init__(self) -> None:
        if isinstance(self.names, str):
            raise InvalidArgumentError(f"names must be a list of syscall names, not the string {self.names!r}")
        object.__setattr__(self, "names", tuple(sorted(set(self.names))))
        if not isinstance(self.action, Action):
            object.__setattr__(self, "action", Action.parse(self.action))
        if self.action.takes_errno:
            errno = EPERM if self.errno is None else parse_errno(self.errno)
            object.__setattr__(self, "errno", errno)
        elif self.errno is not None:
            raise InvalidActionError(
                f"errnoRet {self.errno!r} given with {self.action.value}; only SCMP_ACT_ERRNO and "
                "SCMP_ACT_TRACE take one: remove it or change the action"
            )
        object.__setattr__(self, "args", tuple(sorted(self.args, key=Arg.sort_key)))

    @classmethod
    def _trusted(
        cls,
        names: tuple[str, ...],
        action: Action,
        errno: int | None,
        args: tuple[Arg, ...],
        bits: tuple[Universe, int] | None = None,
    ) -> Rule:
        """Build a rule from parts already canonical (names sorted and unique, args sorted, errno checked).

        The composition's fast path: it derives names from a bitset in sorted order, so
        ``__post_init__`` would only redo the work. ``bits``: the universe and bitset
        ``names`` is exactly (``Universe.names_of``).
        """
        parts = _RuleParts()
        parts.names = names
        parts.action = action
        parts.errno = errno
        parts.args = args
        parts.comment = ""
        parts._bits = bits  # noqa: SLF001 - the builder fills the Rule's own slots
        parts._near = 0  # noqa: SLF001 - the builder fills the Rule's own slots
        parts._texts = None  # noqa: SLF001 - the builder fills the Rule's own slots
        parts._runs = None  # noqa: SLF001 - the builder fills the Rule's own slots
        parts.__class__ = cls  # type: ignore[assignment] # same slots: the filled object becomes the frozen one
        return parts  # type: ignore[return-value]

    @classmethod
    def _from_bits(
        cls, u: Universe, bits: int, action: Action, errno: int | None, args: tuple[Arg, ...], near: int = 0
    ) -> Rule:
        """Build a rule whose names are exactly ``u.names_of(bits)``, spelled out only when first read.

        The composition's hot path: an emitter writes the names from the bitset
        (``_bits``, and ``near``: see ``_near``), so a profile that is only emitted
        never builds the tuple. The other parts must be canonical, as for ``_trusted``.
        """
        parts = _RuleParts()
        parts.action = action
        parts.errno = errno
        parts.args = args
        parts.comment = ""
        parts._bits = (u, bits)  # noqa: SLF001 - the builder fills the Rule's own slots
        parts._near = near  # noqa: SLF001 - the builder fills the Rule's own slots
        parts._texts = None  # noqa: SLF001 - the builder fills the Rule's own slots
        parts._runs = None  # noqa: SLF001 - the builder fills the Rule's own slots
        parts.__class__ = cls  # type: ignore[assignment] # same slots: the filled object becomes the frozen one
        return parts  # type: ignore[return-value]

    if not TYPE_CHECKING:  # (mypy would otherwise accept any attribute name on a Rule)

        def __getattr__(self, attr: str) -> object:
            # Only reached for a slot never set: the names of a rule built by _from_bits.
            hint = object.__getattribute__(self, "_bits")
            if attr != "names" or hint is None:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {attr!r}")
            names = hint[0].names_of(hint[1])
            object.__setattr__(self, "names", names)
            return names

    @property
    def conditional(self) -> bool:
        """Whether the rule only applies under argument conditions."""
        return bool(self.args)

    def simplified(self) -> Rule | None:
        """Return the rule without the conditions that hold for every value; None when one holds for none.

        The runtime loads the same verdicts either way, but a condition the filter tests makes
        the kernel run the filter on every call of those syscalls instead of caching them. A
        rule with two conditions on one argument is returned as it is: runc and crun OR those.

        >>> Rule(("clone",), args=(Arg(0, Operator.GE, 0),)).simplified() == Rule(("clone",))
        True
        >>> Rule(("socket",), args=(Arg(0, Operator.LT, 0), Arg(1, Operator.EQ, 1))).simplified() is None
        True
        """
        if not self.args or len({a.index for a in self.args}) < len(self.args):
            return self
        constants = [a.constant for a in self.args]
        if False in constants:
            return None
        if True not in constants:
            return self
        kept = tuple(a for a, c in zip(self.args, constants, strict=True) if c is None)
        return Rule(self.names, self.action, self.errno, kept, self.comment)

    def key(self) -> tuple[Action, int | None, tuple[Arg, ...]]:
        """What makes two rules mergeable: same action, errno and conditions."""
        return (self.action, self.errno, self.args)

    def sort_key(self) -> tuple[int, int, int, tuple[tuple[int, int, int, int], ...], tuple[str, ...]]:
        """A total order used to make profiles canonical.

        Unconditional rules come first. Among conditional ones, those that refuse
        (ERRNO, KILL, …) come before those that allow: libseccomp builds a different
        filter for overlapping conditions depending on the order rules are added,
        and the engines' own profiles (Podman's socket rules) add the refusal first.
        """
        rank = _ACTION_ORDER[self.action]
        return (
            1 if self.args else 0,
            -rank if self.args else rank,
            -1 if self.errno is None else self.errno,
            tuple(a.sort_key() for a in self.args),
            self.names,
        )


class _RuleParts:
    """A ``Rule``'s slots without its frozen ``__setattr__``.

    ``Rule._trusted`` and ``Rule._from_bits`` fill one at the speed of plain attribute
    stores, then turn it into the Rule (same slots, so the same memory layout).
    """

    __slots__ = Rule.__slots__
    names: tuple[str, ...]
    action: Action
    errno: int | None
    args: tuple[Arg, ...]
    comment: str
    _bits: tuple[Universe, int] | None
    _near: int
    _texts: dict[str, str] | None
    _runs: dict[str, tuple[tuple[Rule, ...], str]] | None


_ACTION_ORDER: Final = {a: i for i, a in enumerate((
    Action.ALLOW,
    Action.LOG,
    Action.NOTIFY,
    Action.TRACE,
    Action.ERRNO,
    Action.TRAP,
    Action.KILL_THREAD,
    Action.KILL,
    Action.KILL_PROCESS,
))}

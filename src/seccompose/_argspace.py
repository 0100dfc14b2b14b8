"""Argument spaces: the exact set of argument vectors a syscall may run with, as a binary decision diagram.

A seccomp rule's conditions compare the six syscall arguments with constants (``==``,
``!=``, ``<``, ``<=``, ``>``, ``>=``, ``arg & mask == datum``). Every such comparison, and
every AND, OR and NOT of them, is a Boolean function of the arguments' bits, which a reduced
ordered binary decision diagram (ROBDD) holds exactly and canonically: two spaces are equal
when their nodes are, and ``a ⊆ b`` is ``a ∧ ¬b = ∅``. Variables are the argument bits,
argument 0 first, most significant bit first, so a comparison on one argument is a chain of
at most a few hundred nodes.

This module is private: :mod:`seccompose.looser` reads profiles into spaces and compares them.

>>> bdd = Spaces()
>>> clone_ok = bdd.condition(0, "SCMP_CMP_MASKED_EQ", 0x7E020000, 0)   # no CLONE_NEW* flag
>>> newuser = bdd.condition(0, "SCMP_CMP_EQ", 0x10000000 | 17)         # CLONE_NEWUSER|SIGCHLD
>>> bdd.subset(newuser, clone_ok), bdd.subset(bdd.condition(0, "SCMP_CMP_EQ", 17), clone_ok)
(False, True)
>>> hex(bdd.witness(bdd.minus(bdd.everything(), clone_ok))[0])
'0x20000'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Iterable

    from seccompose.rules import Arg

__all__ = ["FALSE", "TRUE", "Spaces"]

FALSE: Final = 0
TRUE: Final = 1
_ARGS: Final = 6
_BITS: Final = 64
_LEAF: Final = _ARGS * _BITS
"""The variable number the two leaves carry: below every real variable in the order."""


class Spaces:
    """A manager of argument spaces: each space is a node number, valid within its manager.

    ``width`` is how many bits of each argument the filter compares: 64 (x86_64, aarch64) or 32
    (x86 and arm, whose arguments are 32-bit registers, and x32: libseccomp compares the low 32
    bits of each argument and constant on all three). With 32, spaces only look at those bits.
    """

    def __init__(self, width: int = 64) -> None:
        if width not in (32, 64):
            raise ValueError(f"argument width {width!r}; use 32 or 64")
        self.width = width
        self._mask = (1 << width) - 1
        self._nodes: list[tuple[int, int, int]] = [(_LEAF, FALSE, FALSE), (_LEAF, TRUE, TRUE)]
        self._unique: dict[tuple[int, int, int], int] = {}
        self._and: dict[tuple[int, int], int] = {}
        self._not: dict[int, int] = {FALSE: TRUE, TRUE: FALSE}

    # ----------------------------------------------------------------------------- construction

    def _var(self, arg: int, bit: int) -> int:
        """The variable of bit ``bit`` (0: least significant) of argument ``arg``: MSB first."""
        return arg * _BITS + (_BITS - 1 - bit)

    def _node(self, var: int, low: int, high: int) -> int:
        if low == high:
            return low
        key = (var, low, high)
        found = self._unique.get(key)
        if found is None:
            found = self._unique[key] = len(self._nodes)
            self._nodes.append(key)
        return found

    def everything(self) -> int:
        """Return the space of every argument vector."""
        return TRUE

    def nothing(self) -> int:
        """Return the empty space."""
        return FALSE

    def condition(self, arg: int, op: str, value: int, value_two: int = 0) -> int:
        """Return the space where argument ``arg`` satisfies one OCI comparison (``SCMP_CMP_*``).

        For ``SCMP_CMP_MASKED_EQ``, ``value`` is the mask and ``value_two`` the datum; libseccomp
        masks the datum too (``arg & mask == datum & mask``), so datum bits the mask clears count
        for nothing.
        """
        value &= self._mask
        value_two &= self._mask
        op = op.removeprefix("SCMP_CMP_")
        if op == "EQ":
            return self._masked(arg, self._mask, value)
        if op == "NE":
            return self.negate(self._masked(arg, self._mask, value))
        if op == "MASKED_EQ":
            return self._masked(arg, value, value_two & value)
        if op == "LT":
            return self._below(arg, value, strict=True)
        if op == "LE":
            return self._below(arg, value, strict=False)
        if op == "GT":
            return self.negate(self._below(arg, value, strict=False))
        if op == "GE":
            return self.negate(self._below(arg, value, strict=True))
        raise ValueError(f"unknown comparison {op!r}")

    def _masked(self, arg: int, mask: int, datum: int) -> int:
        """``arg & mask == datum`` (``datum`` within ``mask``): a chain over the mask's bits."""
        node = TRUE
        for bit in range(self.width):  # least significant first: each node goes above the ones built
            if mask >> bit & 1:
                var = self._var(arg, bit)
                node = self._node(var, FALSE, node) if datum >> bit & 1 else self._node(var, node, FALSE)
        return node

    def _below(self, arg: int, value: int, *, strict: bool) -> int:
        """``arg < value`` (``strict``) or ``arg <= value``, unsigned: built from the least significant bit up."""
        node = FALSE if strict else TRUE  # all bits equal: < is false, <= is true
        for bit in range(self.width):
            var = self._var(arg, bit)
            # a 1 in value: this bit 0 is below, whatever follows; a 0: this bit 1 is above
            node = self._node(var, TRUE, node) if value >> bit & 1 else self._node(var, node, FALSE)
        return node

    # ----------------------------------------------------------------------------- algebra

    def conjoin(self, a: int, b: int) -> int:
        """Return ``a ∩ b``."""
        if FALSE in (a, b):
            return FALSE
        if a == TRUE:
            return b
        if b in (TRUE, a):
            return a
        key = (a, b) if a < b else (b, a)
        found = self._and.get(key)
        if found is not None:
            return found
        va, la, ha = self._nodes[a]
        vb, lb, hb = self._nodes[b]
        var = min(va, vb)
        a0, a1 = (la, ha) if va == var else (a, a)
        b0, b1 = (lb, hb) if vb == var else (b, b)
        found = self._node(var, self.conjoin(a0, b0), self.conjoin(a1, b1))
        self._and[key] = found
        return found

    def negate(self, a: int) -> int:
        """Return the complement of ``a``."""
        found = self._not.get(a)
        if found is None:
            var, low, high = self._nodes[a]
            found = self._node(var, self.negate(low), self.negate(high))
            self._not[a] = found
            self._not[found] = a
        return found

    def join(self, a: int, b: int) -> int:
        """Return ``a ∪ b``."""
        return self.negate(self.conjoin(self.negate(a), self.negate(b)))

    def minus(self, a: int, b: int) -> int:
        """Return ``a − b``."""
        return self.conjoin(a, self.negate(b))

    def subset(self, a: int, b: int) -> bool:
        """Whether every vector of ``a`` is in ``b``."""
        return self.minus(a, b) == FALSE

    def all_of(self, conditions: tuple[tuple[int, str, int, int], ...]) -> int:
        """Return the space where every (arg, op, value, value_two) holds (a rule's conditions: AND)."""
        node = TRUE
        for arg, op, value, value_two in conditions:
            node = self.conjoin(node, self.condition(arg, op, value, value_two))
        return node

    def of_conditions(self, conditions: Iterable[Arg]) -> int:
        """Return the space where every condition of a rule holds (AND), as ``all_of`` reads them.

        >>> from seccompose.rules import Arg, Operator
        >>> s = Spaces()
        >>> s.of_conditions((Arg(0, Operator.EQ, 17),)) == s.all_of(((0, "SCMP_CMP_EQ", 17, 0),))
        True
        """
        return self.all_of(tuple((c.index, c.op.value, c.value, c.value_two) for c in conditions))

    def contains(self, a: int, args: tuple[int, ...]) -> bool:
        """Whether the argument vector ``args`` (up to six values, the rest 0) is in ``a``."""
        values = (*args, *(0,) * (_ARGS - len(args)))
        node = a
        while node > TRUE:
            var, low, high = self._nodes[node]
            arg, position = divmod(var, _BITS)
            node = high if values[arg] >> (_BITS - 1 - position) & 1 else low
        return node == TRUE

    def witness(self, a: int) -> tuple[int, ...]:
        """Return the smallest argument vector in ``a`` (bits set only where the space needs them).

        Raises:
            ValueError: ``a`` is empty.
        """
        if a == FALSE:
            raise ValueError("an empty space has no witness")
        values = [0] * _ARGS
        node = a
        while node != TRUE:
            var, low, high = self._nodes[node]
            if low != FALSE:
                node = low
                continue
            arg, position = divmod(var, _BITS)
            values[arg] |= 1 << (_BITS - 1 - position)
            node = high
        return tuple(values)

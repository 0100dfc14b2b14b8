"""Fewer conditional rules for the same verdicts: the step ``compose`` takes after its algebra.

A syscall allowed (or refused) under several one-condition rules on the same argument gets
the union of what they match. libseccomp compiles every rule it is given: a rule inside
another (``personality == 8`` beside ``personality <= 0x20008``) costs instructions and
changes nothing, and rules that together match every value (``socket < 38`` beside
``socket >= 38``) make the kernel run the filter on every call of a syscall it could cache.
:func:`merge_conditions` rewrites such a group as fewer rules that match exactly the same
values (one rule without conditions, where they match every value) when libseccomp's filter
gets shorter, and leaves every other rule as it is.

The same values on every ABI: libseccomp 2.5 compares all 64 bits of the argument and of the
value on 64-bit ABIs (x86_64, aarch64) and only the low 32 bits on the others (x86, x32,
arm), so a rewrite is taken only when it matches the same set both ways
(``tests/property/test_cost_laws.py`` compiles both with libseccomp and compares verdicts).

>>> from seccompose.rules import Arg, Operator, Rule
>>> rules = (Rule(("socket",), args=(Arg(0, Operator.LT, 38),)), Rule(("socket",), args=(Arg(0, Operator.GE, 38),)))
>>> merge_conditions(rules, {"socket"})
(Rule(names=('socket',), action=<Action.ALLOW: 'SCMP_ACT_ALLOW'>, errno=None, args=(), comment=''),)
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Final

from seccompose.actions import Action
from seccompose.rules import Arg, Operator, Rule

__all__ = ["merge_conditions"]

_U64: Final = (1 << 64) - 1
_U32: Final = (1 << 32) - 1
_Intervals = tuple[tuple[int, int], ...]
_Loaded = tuple[int, str, int, int]
_Key = tuple[Action, int | None, tuple[_Loaded, ...]]


def _interval(op: Operator, value: int, top: int) -> _Intervals | None:
    """The argument values (0..top) one condition matches, as closed intervals; None: not an interval."""
    v = value & top
    match op:
        case Operator.EQ:
            return ((v, v),)
        case Operator.NE:
            return tuple(i for i in ((0, v - 1), (v + 1, top)) if i[0] <= i[1])
        case Operator.LT:
            return ((0, v - 1),) if v else ()
        case Operator.LE:
            return ((0, v),)
        case Operator.GE:
            return ((v, top),)
        case Operator.GT:
            return ((v + 1, top),) if v < top else ()
        case _:
            return None  # MASKED_EQ: a set of bit patterns, left as written


def _union(parts: Sequence[_Intervals]) -> _Intervals:
    """The union of intervals, as sorted disjoint intervals, adjacent ones joined."""
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(i for part in parts for i in part):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return tuple(out)


def _matching(union: _Intervals, index: int) -> list[tuple[Arg, ...]] | None:
    """The fewest one-condition rules (as their conditions) that match ``union`` of 64-bit values; None: none can.

    ``[()]`` is a rule without conditions (every value). An interval inside the range needs
    two conditions on one argument, which runc and crun OR instead of AND: not expressible.
    """
    if union == ((0, _U64),):
        return [()]
    missing = _missing_one(union)
    if missing is not None:
        return [(Arg(index, Operator.NE, missing),)]  # every value but one: != is cheaper than a range
    out: list[tuple[Arg, ...]] = []
    for lo, hi in union:
        if lo == hi:
            out.append((Arg(index, Operator.EQ, lo),))
        elif lo == 0:
            out.append((Arg(index, Operator.LE, hi),))
        elif hi == _U64:
            out.append((Arg(index, Operator.GE, lo),))
        else:
            return None
    return out


def _missing_one(union: _Intervals) -> int | None:
    """The one value ``union`` lacks when it has every other 64-bit value; else None."""
    if union == ((1, _U64),):
        return 0
    if union == ((0, _U64 - 1),):
        return _U64
    if len(union) == 2 and union[0][0] == 0 and union[1][1] == _U64 and union[1][0] == union[0][1] + 2:
        return union[0][1] + 1
    return None


def _narrow(conditions: Sequence[tuple[Arg, ...]]) -> _Intervals | None:
    """What rules match where libseccomp compares the low 32 bits (x86, x32, arm); None: not intervals."""
    parts: list[_Intervals] = []
    for args in conditions:
        if not args:
            parts.append(((0, _U32),))
            continue
        found = _interval(args[0].op, args[0].value, _U32)
        if found is None:
            return None
        parts.append(found)
    return _union(parts)


def _loaded(arg: Arg) -> _Loaded:
    """A condition as libseccomp gets it: the datum only for ``MASKED_EQ``."""
    return (arg.index, arg.op.value, arg.value, arg.value_two if arg.op is Operator.MASKED_EQ else 0)


def _merged(conditions: Sequence[Arg]) -> list[tuple[Arg, ...]] | None:
    """Fewer conditions that match what ``conditions`` (ORed) match on 64- and 32-bit ABIs; None: keep them."""
    index = conditions[0].index
    wide = []
    for arg in conditions:
        found = _interval(arg.op, arg.value, _U64)
        if found is None:
            return None
        wide.append(found)
    fewer = _matching(_union(wide), index)
    if not fewer or (len(fewer) >= len(conditions) and fewer != [()]):
        return None  # no rule can (or none need: they match no value, which Rule.simplified is about)
    # Only where the filter gets shorter: no condition at all, one !=, or some of the conditions given
    # (libseccomp checks a run of == on one argument one jump each, so a new range is rarely shorter).
    given = {_loaded(a) for a in conditions}
    if fewer != [()] and fewer[0][0].op is not Operator.NE and not {_loaded(c) for (c,) in fewer} <= given:
        return None
    if _narrow(fewer) != _narrow([(a,) for a in conditions]):
        return None  # the same 64-bit values, other low words (a value past 32 bits): keep what was written
    return fewer


def _always(rule: Rule) -> bool:
    """Whether every condition of ``rule`` holds for every value (one per argument: runc ORs repeated ones)."""
    return len({a.index for a in rule.args}) == len(rule.args) and all(a.constant is True for a in rule.args)


def _same(group: Sequence[Rule], key: _Key) -> bool:
    """Whether a name's rules are exactly the one-condition rules ``key`` stands for."""
    action, errno, conditions = key
    return (
        all(len(r.args) == 1 and r.action is action and r.errno == errno for r in group)
        and tuple(sorted({_loaded(r.args[0]) for r in group})) == conditions
    )


def merge_conditions(rules: Sequence[Rule], names: Collection[str]) -> tuple[Rule, ...] | None:
    """Return ``rules`` with each of ``names`` under the fewest rules that give it the same verdicts; None: no change.

    A name whose rules all have conditions and one action, one of them with conditions that
    hold for every value (``arg1 <= 2**64-1``), gets one rule without conditions. Otherwise a
    name is rewritten only when every rule that names it has the same action and errno and
    exactly one condition, on the same argument, other than ``MASKED_EQ``, and the filter gets
    shorter: the union of those conditions becomes one rule without conditions (every value),
    one ``!=`` (every value but one), or the conditions given minus those inside others
    (``== 8`` beside ``<= 0x20008``), matching the same values on 64- and 32-bit ABIs. A new
    range is not made from runs of ``==`` (libseccomp checks a run of ``==`` on one argument one
    jump each), and a name whose conditions other syscalls' rules share is left as it is
    (libseccomp shares those checks between syscalls; names with exactly the same rules are
    rewritten alike). The name leaves its old rules (which keep their other names) and gets
    the new ones; the caller makes the profile canonical.

    >>> from seccompose.rules import Arg, Operator, Rule
    >>> le = Rule(("personality",), args=(Arg(0, Operator.LE, 0x20008),))
    >>> eq = Rule(("personality",), args=(Arg(0, Operator.EQ, 8),))
    >>> [(r.names, r.args[0].op.name) for r in merge_conditions((le, eq), {"personality"})]
    [(('personality',), 'LE')]
    """
    groups: dict[str, list[Rule]] = {}  # the conditional rules of each name they name
    for rule in rules:
        if rule.args:
            for name in rule.names:
                groups.setdefault(name, []).append(rule)
    plain = [rule for rule in rules if not rule.args]
    merged: dict[_Key, list[tuple[Arg, ...]] | None] = {}
    new: dict[str, list[tuple[Arg, ...]]] = {}
    for name in sorted(names):
        group = groups.get(name, ())
        if not group or name in new:
            continue
        first = group[0]
        if any(name in r.names for r in plain) or any(
            r.action is not first.action or r.errno != first.errno for r in group
        ):
            continue
        if any(_always(r) for r in group):  # one rule lets every call through: the others add nothing
            new[name] = [()]
            continue
        if any(
            len(r.args) != 1 or r.args[0].index != first.args[0].index or r.action is not first.action
            or r.errno != first.errno
            for r in group
        ) or any(name in r.names for r in plain):  # fmt: skip
            continue
        conditions = {_loaded(r.args[0]): r.args[0] for r in group}
        key = (first.action, first.errno, tuple(sorted(conditions)))
        if key not in merged:
            merged[key] = _merged(list(conditions.values()))
        fewer = merged[key]
        if fewer is None:
            continue
        alike = {other for other, g in groups.items() if _same(g, key)}
        shared = {_loaded(a) for other, g in groups.items() if other not in alike for r in g for a in r.args}
        if shared.isdisjoint(key[2]) and not any(other in r.names for other in alike for r in plain):
            new.update(dict.fromkeys(sorted(alike), fewer))
    if not new:
        return None
    out: list[Rule] = []
    for rule in rules:
        keep = tuple(n for n in rule.names if n not in new)
        if len(keep) == len(rule.names):
            out.append(rule)
        elif keep:
            out.append(Rule(keep, rule.action, rule.errno, rule.args, rule.comment))
    for name, written in new.items():
        action, errno = groups[name][0].action, groups[name][0].errno
        out += [Rule((name,), action, errno, args) for args in written]
    return tuple(out)

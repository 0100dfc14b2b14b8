"""Seccomp actions (``SCMP_ACT_*``) and the errno values some of them carry.

>>> Action.parse("errno")
<Action.ERRNO: 'SCMP_ACT_ERRNO'>
>>> Action.ERRNO.takes_errno, Action.ALLOW.allows
(True, True)
>>> parse_errno("ENOSYS"), errno_name(1)
(38, 'EPERM')
"""

from __future__ import annotations

import enum
import errno as _errno
from typing import TYPE_CHECKING, Final, TypeVar

from seccompose.errors import InvalidActionError

if TYPE_CHECKING:
    from seccompose.errors import InvalidArgumentError

__all__ = ["ENOSYS", "EPERM", "Action", "describe", "errno_name", "parse_errno", "parse_scmp_name"]

EPERM: Final = _errno.EPERM
ENOSYS: Final = _errno.ENOSYS
_MAX_ERRNO: Final = 4095  # the kernel's MAX_ERRNO; SECCOMP_RET_DATA is wider but libc sees -4095..-1


class Action(enum.Enum):
    """The nine actions of the OCI runtime spec; the value is the OCI string."""

    # Members are singletons compared by identity: hash them so too, in C (Enum's hash runs Python code).
    __hash__ = object.__hash__

    KILL = "SCMP_ACT_KILL"
    KILL_PROCESS = "SCMP_ACT_KILL_PROCESS"
    KILL_THREAD = "SCMP_ACT_KILL_THREAD"
    TRAP = "SCMP_ACT_TRAP"
    ERRNO = "SCMP_ACT_ERRNO"
    TRACE = "SCMP_ACT_TRACE"
    ALLOW = "SCMP_ACT_ALLOW"
    LOG = "SCMP_ACT_LOG"
    NOTIFY = "SCMP_ACT_NOTIFY"

    @property
    def takes_errno(self) -> bool:
        """Whether the action carries an errno (``errnoRet``): ERRNO and TRACE."""
        return self in (Action.ERRNO, Action.TRACE)

    @property
    def allows(self) -> bool:
        """Whether the syscall runs: ALLOW, and LOG (allow and log)."""
        return self in (Action.ALLOW, Action.LOG)

    @classmethod
    def parse(cls, text: str, *, location: str | None = None) -> Action:
        """Return the action named ``SCMP_ACT_ERRNO``, ``ERRNO`` or ``errno``.

        Raises:
            InvalidActionError: the name is not one of the nine actions.

        >>> Action.parse("SCMP_ACT_KILL_PROCESS")
        <Action.KILL_PROCESS: 'SCMP_ACT_KILL_PROCESS'>
        """
        return parse_scmp_name(cls, text, "SCMP_ACT_", "action", InvalidActionError, location)


_E = TypeVar("_E", bound=enum.Enum)


def parse_scmp_name(
    members: type[_E],
    text: str,
    prefix: str,
    what: str,
    error: type[InvalidActionError | InvalidArgumentError],
    location: str | None,
) -> _E:
    """Return the member of an enum of libseccomp names (``SCMP_ACT_*``, ``SCMP_CMP_*``) that ``text`` names.

    The prefix may be left out and the case does not matter (``errno``, ``ERRNO`` and
    ``SCMP_ACT_ERRNO`` name one action). ``Action.parse`` and ``Operator.parse`` read their names so.

    Raises:
        InvalidActionError: (or ``error``) ``text`` names no member; the message gives the nearest names.

    >>> parse_scmp_name(Action, " log ", "SCMP_ACT_", "action", InvalidActionError, None)
    <Action.LOG: 'SCMP_ACT_LOG'>
    >>> parse_scmp_name(Action, "scmp_act_alow", "SCMP_ACT_", "action", InvalidActionError, "a.b")
    Traceback (most recent call last):
    ...
    seccompose.errors.InvalidActionError: unknown action 'scmp_act_alow' at a.b; did you mean 'SCMP_ACT_ALLOW'?
    """
    if isinstance(text, str):
        key = text.strip().upper()
        key = key if key.startswith(prefix) else prefix + key
        try:
            return members(key)
        except ValueError:
            pass
    from seccompose.errors import did_you_mean

    names = [m.value for m in members]
    hint = did_you_mean(str(text).upper(), names) or f"; use one of {', '.join(names)}"
    raise error(f"unknown {what} {text!r}", location=location, hint=hint)


def parse_errno(value: int | str, *, location: str | None = None) -> int:
    """Return an errno number from a number or a name such as ``"EPERM"``.

    Raises:
        InvalidActionError: unknown errno name, or a number outside 0..4095.

    >>> parse_errno("eperm"), parse_errno(38)
    (1, 38)
    """
    if isinstance(value, bool):
        raise InvalidActionError(f"errno must be a number or a name like 'EPERM', not {value!r}", location=location)
    if isinstance(value, str):
        number = getattr(_errno, value.strip().upper(), None)
        if not isinstance(number, int):
            from seccompose.errors import did_you_mean

            hint = did_you_mean(value.upper(), _errno.errorcode.values())
            raise InvalidActionError(f"unknown errno name {value!r}", location=location, hint=hint)
        return number
    if isinstance(value, int) and 0 <= value <= _MAX_ERRNO:
        return value
    raise InvalidActionError(
        f"errno {value!r} is out of range; use a number from 0 to {_MAX_ERRNO} or a name like 'EPERM'",
        location=location,
    )


def errno_name(number: int) -> str:
    """Return the symbolic name of an errno number, or the number as text.

    >>> errno_name(38), errno_name(4000)
    ('ENOSYS', '4000')
    """
    return _errno.errorcode.get(number, str(number))


def describe(action: Action, errno: int | None) -> str:
    """Return an action and its errno as reports write them.

    >>> describe(Action.ERRNO, 38), describe(Action.ALLOW, None)
    ('SCMP_ACT_ERRNO(ENOSYS)', 'SCMP_ACT_ALLOW')
    """
    return f"{action.value}({errno_name(errno)})" if errno is not None else action.value

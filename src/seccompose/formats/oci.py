"""The OCI runtime-spec ``linux.seccomp`` object: what runc and crun read in ``config.json``.

Output is deterministic: keys in a fixed order, names sorted, one rule per
(action, errno, conditions). ``loads`` accepts the object itself or a whole
``config.json`` and checks every field, naming its JSON path on error.

>>> from seccompose import Profile, Rule, Arch
>>> p = Profile(architectures=(Arch.X86_64,), rules=(Rule(("read", "write")),))
>>> print(dumps(p, indent=None))  # doctest: +NORMALIZE_WHITESPACE
{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "architectures": ["SCMP_ARCH_X86_64"],
 "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}]}
>>> loads(dumps(p)) == p
True
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Final

from seccompose.actions import Action
from seccompose.arch import Arch
from seccompose.errors import (
    FormatError,
    InvalidActionError,
    InvalidArchError,
    InvalidProfileError,
    SeccomposeError,
)
from seccompose.profile import Flag, Profile
from seccompose.rules import Arg, Operator, Rule

__all__ = ["dumps", "from_dict", "loads", "rule_from_dict", "rule_to_dict", "to_dict"]

_OCI_ARCH = {a.oci: a for a in Arch}
_FLAGS = {f.value: f for f in Flag}


def rule_to_dict(rule: Rule) -> dict[str, Any]:
    """Return one rule as an OCI ``syscalls[]`` entry."""
    out: dict[str, Any] = {"names": list(rule.names), "action": rule.action.value}
    if rule.errno is not None:
        out["errnoRet"] = rule.errno
    if rule.args:
        out["args"] = [
            {"index": a.index, "value": a.value, "valueTwo": a.value_two, "op": a.op.value} for a in rule.args
        ]
    return out


def to_dict(profile: Profile) -> dict[str, Any]:
    """Return the OCI ``linux.seccomp`` object of a profile (plain JSON types).

    >>> to_dict(Profile(default_action=Action.ALLOW))
    {'defaultAction': 'SCMP_ACT_ALLOW'}
    """
    out: dict[str, Any] = {"defaultAction": profile.default_action.value}
    if profile.default_errno is not None:
        out["defaultErrnoRet"] = profile.default_errno
    if profile.architectures:
        out["architectures"] = [a.oci for a in profile.architectures]
    if profile.flags:
        out["flags"] = [f.value for f in profile.flags]
    if profile.listener_path is not None:
        out["listenerPath"] = profile.listener_path
    if profile.listener_metadata is not None:
        out["listenerMetadata"] = profile.listener_metadata
    if profile.rules:
        out["syscalls"] = [rule_to_dict(r) for r in profile.rules]
    return out


def dumps(profile: Profile, *, indent: int | None = 2) -> str:
    """Return the OCI ``linux.seccomp`` JSON text of a profile (byte-identical for equal profiles).

    The text is exactly ``json.dumps(to_dict(profile), indent=indent)``; for the two
    layouts used in practice (``indent=2`` and ``None``) it is written from pieces
    instead: name lists from per-byte tables of the syscall universe, each rule's text
    kept while the rule is alive, so emitting a profile costs microseconds.

    >>> p = Profile(architectures=(Arch.X86_64,), rules=(Rule(("read", "write")),))
    >>> dumps(p, indent=None) == json.dumps(to_dict(p))
    True
    """
    layout = _LAYOUTS.get(indent)
    if layout is None:
        return json.dumps(to_dict(profile), indent=indent, ensure_ascii=True)
    return layout.profile(profile)


_quote: Final[Callable[[str], str]] = json.encoder.encode_basestring_ascii
_BIG: Final = 16
"""Name lists longer than this are written from the universe's per-byte tables when the rule has its bits."""
_CACHE_SIZE: Final = 256


class _Layout:
    """The text ``json.dumps`` writes for one ``indent``, in pieces: newline+indent and separator per level.

    A profile is ``{`` head ``"syscalls": [`` rule, rule… ``]}``; the head is kept per
    (default, arches, flags, listener), each small rule's text on the rule itself, and the
    names of a big rule are joined from the universe's per-byte tables.
    """

    def __init__(self, indent: int | None) -> None:
        self.nl = [("\n" + " " * (indent * level)) if indent is not None else "" for level in range(8)]
        self.sep = ["," + nl if indent is not None else ", " for nl in self.nl]
        self.style = f"oci-json-{indent}"
        self.heads: dict[tuple[object, ...], tuple[tuple[Arch, ...], tuple[Flag, ...], str]] = {}
        self.allow_tail = self.tail(Rule(("read",)))
        self.names_head = "{" + self.nl[3] + '"names": [' + self.nl[4]
        self.names_tail = self.nl[3] + "]"
        self.rules_head = self.sep[1] + '"syscalls": [' + self.nl[2]
        self.rules_tail = self.nl[1] + "]" + self.nl[0] + "}"
        name_sep = self.sep[4]
        self.render = lambda name: name_sep + _quote(name)
        """A name of a big list, with the separator before it (the first one's is skipped)."""
        self.skip = len(name_sep)

    def seq(self, items: list[str], level: int) -> str:
        """A JSON array whose items (already text) sit at ``level + 1``."""
        if not items:
            return "[]"
        return "[" + self.nl[level + 1] + self.sep[level + 1].join(items) + self.nl[level] + "]"

    def obj(self, members: list[str], level: int) -> str:
        """A JSON object whose ``"key": value`` members (already text) sit at ``level + 1``."""
        return "{" + self.nl[level + 1] + self.sep[level + 1].join(members) + self.nl[level] + "}"

    def tail(self, rule: Rule) -> str:
        """What follows a rule's names: its action, errno and conditions, and the closing brace."""
        members = ['"action": ' + _quote(rule.action.value)]
        if rule.errno is not None:
            members.append(f'"errnoRet": {rule.errno}')
        if rule.args:
            args = [
                self.obj(
                    [f'"index": {a.index}', f'"value": {a.value}', f'"valueTwo": {a.value_two}',
                     '"op": ' + _quote(a.op.value)],
                    4,
                )
                for a in rule.args
            ]
            members.append('"args": ' + self.seq(args, 3))
        return self.sep[3] + self.sep[3].join(members) + self.nl[2] + "}"

    def rule(self, rule: Rule, out: list[str]) -> None:
        """Append the text of one ``syscalls[]`` entry to ``out``."""
        hint = rule._bits  # noqa: SLF001 - set by Rule._trusted from the bits the names came from
        if hint is not None and hint[1].bit_count() > _BIG:
            # A big list, new with each container: joined from per-byte tables, never kept.
            out.append(self.names_head)
            hint[0].write(out, hint[1], self.style, self.render, near=rule._near, skip=self.skip)  # noqa: SLF001
            out.append(self.names_tail)
            if rule.action is _ALLOW and rule.errno is None and not rule.args:
                out.append(self.allow_tail)
            else:
                out.append(self.tail(rule))
            return
        texts = rule._texts  # noqa: SLF001 - the rule's cache of its own text, kept as long as the rule
        text = texts.get(self.style) if texts is not None else None
        if text is None:
            text = "{" + self.nl[3] + '"names": ' + self.seq([_quote(n) for n in rule.names], 3) + self.tail(rule)
            if texts is None:
                object.__setattr__(rule, "_texts", {self.style: text})
            else:
                texts[self.style] = text
        out.append(text)

    def run(self, first: Rule, rest: tuple[Rule, ...]) -> str:
        """The text of ``first`` and ``rest``, each after a separator; kept on ``first`` for the same ``rest``.

        Profiles composed on one base end with the base's own rules (after the container's
        allow list): their text is joined once, and lives as long as those rules.
        """
        runs = first._runs  # noqa: SLF001 - the rule's own cache
        seen = runs.get(self.style) if runs is not None else None
        if seen is not None and seen[0] == rest:  # equal rules write equal text
            return seen[1]
        out = [self.sep[2]]
        self.rule(first, out)
        for rule in rest:
            out.append(self.sep[2])
            self.rule(rule, out)
        text = "".join(out)
        if runs is None:
            object.__setattr__(first, "_runs", {self.style: (rest, text)})
        else:
            runs[self.style] = (rest, text)
        return text

    def head(self, profile: Profile) -> str:
        """The text before the rules: default, arches, flags, listener, and ``"syscalls": [``."""
        # By identity: compose hands out the same arches and flags tuples for every profile of a base.
        key = (id(profile.default_action), profile.default_errno, id(profile.architectures), id(profile.flags),
               profile.listener_path, profile.listener_metadata)
        cached = self.heads.get(key)
        if cached is not None and cached[0] is profile.architectures and cached[1] is profile.flags:
            return cached[2]
        members = ['"defaultAction": ' + _quote(profile.default_action.value)]
        if profile.default_errno is not None:
            members.append(f'"defaultErrnoRet": {profile.default_errno}')
        if profile.architectures:
            members.append('"architectures": ' + self.seq([_quote(a.oci) for a in profile.architectures], 1))
        if profile.flags:
            members.append('"flags": ' + self.seq([_quote(f.value) for f in profile.flags], 1))
        if profile.listener_path is not None:
            members.append('"listenerPath": ' + _quote(profile.listener_path))
        if profile.listener_metadata is not None:
            members.append('"listenerMetadata": ' + _quote(profile.listener_metadata))
        text = "{" + self.nl[1] + self.sep[1].join(members)
        if len(self.heads) >= _CACHE_SIZE:
            self.heads.clear()
        self.heads[key] = (profile.architectures, profile.flags, text)
        return text

    def around(self, profile: Profile, second: int) -> tuple[str, ...]:
        """The text before, between and after the names of a profile's first rule and its ``second`` rule (if set)."""
        texts = [self.head(profile) + self.rules_head + self.names_head]
        after = [self.names_tail, self.allow_tail]
        for k, rule in enumerate(profile.rules[1:], 1):  # written here, not kept as a run as well: the shape keeps it
            after.append(self.sep[2])
            if k == second:
                after.append(self.names_head)
                texts.append("".join(after))
                after = [self.names_tail, self.tail(rule)]
            else:
                self.rule(rule, after)
        after.append(self.rules_tail)
        texts.append("".join(after))
        return tuple(texts)

    def profile(self, profile: Profile) -> str:
        """The whole document, joined once."""
        rules = profile.rules
        shape = profile._shape  # noqa: SLF001 - compose's promise: only these rules' names differ
        if shape is not None:
            texts = shape.texts.get(self.style)
            if texts is None:
                texts = shape.texts[self.style] = self.around(profile, shape.second)
            first = rules[0]
            u, bits = first._bits  # type: ignore[misc]  # noqa: SLF001 - a shape's first rule has its bits
            out = [texts[0]]
            u.write(out, bits, self.style, self.render, near=first._near, skip=self.skip)  # noqa: SLF001
            if shape.second:
                out.append(texts[1])
                second = rules[shape.second]
                u, bits = second._bits  # type: ignore[misc]  # noqa: SLF001 - so has its second rule
                u.write(out, bits, self.style, self.render, near=second._near, skip=self.skip)  # noqa: SLF001
            out.append(texts[-1])
            return "".join(out)
        if not rules:
            return self.head(profile) + self.nl[0] + "}"
        out = [self.head(profile), self.rules_head]
        self.rule(rules[0], out)
        if len(rules) > 1:
            out.append(self.run(rules[1], rules[2:]))
        out.append(self.rules_tail)
        return "".join(out)


_ALLOW: Final = Action.ALLOW
_LAYOUTS: Final = {2: _Layout(2), None: _Layout(None)}


def _type(value: object, expected: type | tuple[type, ...], what: str, location: str) -> None:
    if isinstance(value, bool) and bool not in (expected if isinstance(expected, tuple) else (expected,)):
        ok = False
    else:
        ok = isinstance(value, expected)
    if not ok:
        names = {dict: "an object", list: "an array", str: "a string", int: "an integer"}
        want = names.get(expected, str(expected)) if isinstance(expected, type) else "a value of the right type"
        raise InvalidProfileError(f"{what} must be {want}, not {json.dumps(value)[:60]}", location=location)


def _args(raw: object, location: str) -> tuple[Arg, ...]:
    if raw is None:
        return ()
    _type(raw, list, "args", location)
    assert isinstance(raw, list)  # noqa: S101 - narrowed for mypy; _type raised otherwise
    out = []
    item: Any
    for i, item in enumerate(raw):
        loc = f"{location}[{i}]"
        _type(item, dict, "an argument condition", loc)
        unknown = set(item) - {"index", "value", "valueTwo", "op"}
        if unknown:
            raise InvalidProfileError(
                f"unknown field {min(unknown)!r}; argument conditions have index, value, valueTwo, op",
                location=loc,
            )
        for key in ("index", "value", "op"):
            if key not in item:
                raise InvalidProfileError(f"missing {key!r}", location=loc)
        _type(item["index"], int, "index", f"{loc}.index")
        _type(item["value"], int, "value", f"{loc}.value")
        _type(item.get("valueTwo", 0), int, "valueTwo", f"{loc}.valueTwo")
        _type(item["op"], str, "op", f"{loc}.op")
        op = Operator.parse(item["op"], location=f"{loc}.op")
        out.append(Arg(item["index"], op, item["value"], item.get("valueTwo", 0), location=f"{loc}.index"))
    return tuple(out)


def rule_from_dict(raw: object, location: str) -> Rule:
    """Return the rule an OCI ``syscalls[]`` entry holds (the inverse of :func:`rule_to_dict`).

    Raises:
        InvalidProfileError: not an OCI rule; the message names ``location``.

    >>> rule = rule_from_dict({"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}, "syscalls[0]")
    >>> rule_to_dict(rule)
    {'names': ['read'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1}
    """
    _type(raw, dict, "a syscall rule", location)
    assert isinstance(raw, dict)  # noqa: S101 - narrowed for mypy; _type raised otherwise
    unknown = set(raw) - {"names", "action", "errnoRet", "args"}
    if unknown:
        raise InvalidProfileError(
            f"unknown field {min(unknown)!r} in an OCI rule (OCI rules have names, action, errnoRet, args; "
            "Docker's includes/excludes/comment belong in a Docker-format profile)",
            location=location,
        )
    if "names" not in raw:
        raise InvalidProfileError("missing 'names'", location=location)
    names = raw["names"]
    _type(names, list, "names", f"{location}.names")
    if not names:
        raise InvalidProfileError("names is empty; list at least one syscall", location=f"{location}.names")
    for j, name in enumerate(names):
        _type(name, str, "a syscall name", f"{location}.names[{j}]")
    if "action" not in raw:
        raise InvalidProfileError("missing 'action'", location=location)
    _type(raw["action"], str, "action", f"{location}.action")
    action = Action.parse(raw["action"], location=f"{location}.action")
    errno = raw.get("errnoRet")
    if errno is not None:
        _type(errno, int, "errnoRet", f"{location}.errnoRet")
        if not action.takes_errno:
            raise InvalidActionError(
                f"errnoRet {errno} given with {action.value}; only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one: "
                "remove it or change the action",
                location=f"{location}.errnoRet",
            )
    try:
        return Rule(tuple(names), action, errno, _args(raw.get("args"), f"{location}.args"))
    except SeccomposeError as exc:
        if getattr(exc, "location", None):
            raise
        raise InvalidProfileError(str(exc), location=location) from exc


def from_dict(doc: Mapping[str, Any], *, source: str | None = None) -> Profile:
    """Return the profile of an OCI ``linux.seccomp`` object, or of a whole ``config.json``.

    Raises:
        InvalidProfileError: a field is missing, unknown or of the wrong type (with its JSON path).
        InvalidActionError, InvalidArchError, InvalidArgumentError: a bad value.

    >>> p = from_dict({"defaultAction": "SCMP_ACT_ALLOW",
    ...                "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_KILL"}]})
    >>> p.default_action, p.rules[0].names, p.rules[0].action
    (<Action.ALLOW: 'SCMP_ACT_ALLOW'>, ('kill',), <Action.KILL: 'SCMP_ACT_KILL'>)
    """
    prefix = ""
    if isinstance(doc, Mapping) and "linux" in doc and "defaultAction" not in doc:
        linux = doc["linux"]
        if not isinstance(linux, Mapping) or "seccomp" not in linux:
            raise InvalidProfileError("config.json has no linux.seccomp object", location="linux", source=source)
        doc, prefix = linux["seccomp"], "linux.seccomp."
    try:
        return _from_dict(doc, prefix)
    except (InvalidProfileError, InvalidArchError) as exc:
        if source and isinstance(exc, FormatError) and not exc.source:
            raise type(exc)(str(exc.args[0]).split(" at ")[0], location=exc.location, source=source) from None
        raise


def _from_dict(doc: object, prefix: str) -> Profile:
    _type(doc, dict, "the seccomp profile", prefix.rstrip(".") or "$")
    assert isinstance(doc, dict)  # noqa: S101 - narrowed for mypy
    allowed = {
        "defaultAction",
        "defaultErrnoRet",
        "architectures",
        "flags",
        "listenerPath",
        "listenerMetadata",
        "syscalls",
    }
    unknown = set(doc) - allowed
    if unknown:
        raise InvalidProfileError(
            f"unknown field {min(unknown)!r} in an OCI seccomp object (did you mean a Docker-format profile? "
            "use format='docker')",
            location=prefix.rstrip(".") or "$",
        )
    if "defaultAction" not in doc:
        raise InvalidProfileError("missing 'defaultAction'", location=prefix.rstrip(".") or "$")
    _type(doc["defaultAction"], str, "defaultAction", f"{prefix}defaultAction")
    action = Action.parse(doc["defaultAction"], location=f"{prefix}defaultAction")
    errno = doc.get("defaultErrnoRet")
    if errno is not None:
        _type(errno, int, "defaultErrnoRet", f"{prefix}defaultErrnoRet")
    arches = []
    raw_arches = doc.get("architectures") or []
    _type(raw_arches, list, "architectures", f"{prefix}architectures")
    for i, name in enumerate(raw_arches):
        loc = f"{prefix}architectures[{i}]"
        _type(name, str, "an architecture", loc)
        if name not in _OCI_ARCH:
            raise InvalidArchError(name, location=loc, choices=_OCI_ARCH)
        arches.append(_OCI_ARCH[name])
    flags = []
    raw_flags = doc.get("flags") or []
    _type(raw_flags, list, "flags", f"{prefix}flags")
    for i, name in enumerate(raw_flags):
        loc = f"{prefix}flags[{i}]"
        if not isinstance(name, str) or name not in _FLAGS:
            raise InvalidProfileError(f"unknown flag {name!r}; use one of {', '.join(_FLAGS)}", location=loc)
        flags.append(_FLAGS[name])
    for key in ("listenerPath", "listenerMetadata"):
        if doc.get(key) is not None:
            _type(doc[key], str, key, f"{prefix}{key}")
    raw_rules = doc.get("syscalls") or []
    _type(raw_rules, list, "syscalls", f"{prefix}syscalls")
    rules = tuple(rule_from_dict(r, f"{prefix}syscalls[{i}]") for i, r in enumerate(raw_rules))
    return Profile(
        action,
        errno,
        tuple(arches),
        rules,
        tuple(flags),
        doc.get("listenerPath"),
        doc.get("listenerMetadata"),
    )


def loads(text: str | bytes, *, source: str | None = None) -> Profile:
    """Return the profile in OCI ``linux.seccomp`` (or ``config.json``) JSON text.

    Raises:
        FormatError: malformed JSON or an oversized document.
        InvalidProfileError: the JSON is not a valid OCI seccomp object.

    >>> loads('{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALOW"}]}')
    Traceback (most recent call last):
    ...
    seccompose.errors.InvalidActionError: unknown action 'SCMP_ACT_ALOW' at syscalls[0].action;
    did you mean 'SCMP_ACT_ALLOW'?
    """
    from seccompose._reader import parse_json

    return from_dict(parse_json(text, source=source), source=source)

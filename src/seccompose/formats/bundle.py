r"""Set or replace ``linux.seccomp`` in an OCI bundle's ``config.json``, touching nothing else.

The new profile is spliced into the original text: every byte outside the
``linux.seccomp`` value (key order, unknown fields, formatting, other runtimes'
extensions) stays as it was. A missing ``seccomp`` (or ``linux``) member is added as the
last member of its object, indented like its siblings.

>>> config = '{"ociVersion": "1.2.0",\n "linux": {"namespaces": [], "x-vendor": 1}\n}'
>>> print(set_seccomp(config, {"defaultAction": "SCMP_ACT_ERRNO"}))
{"ociVersion": "1.2.0",
 "linux": {"namespaces": [], "x-vendor": 1, "seccomp": {"defaultAction": "SCMP_ACT_ERRNO"}}
}
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from seccompose.errors import FormatError

if TYPE_CHECKING:
    from seccompose.profile import Profile

__all__ = ["MAX_CONFIG_BYTES", "get_seccomp", "set_seccomp", "update_bundle"]

MAX_CONFIG_BYTES: Final = 4 * 1024 * 1024
"""Largest config.json read by default (4 MiB, the reader's limit; ``SECCOMPOSE_MAX_INPUT_BYTES``
changes it); real ones are a few KB."""

_WS: Final = " \t\n\r"
_DECODER: Final = json.JSONDecoder()


@dataclass(frozen=True, slots=True)
class _Member:
    key: str
    key_start: int  # index of the key's opening quote
    value_start: int
    value_end: int  # one past the value


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def _members(text: str, start: int, where: str, source: str | None) -> tuple[list[_Member], int]:
    """Scan the object at ``text[start]``; return its members and the index of its closing brace."""
    if text[start] != "{":
        raise FormatError("expected a JSON object", location=where or "$", source=source)
    out: list[_Member] = []
    i = _skip(text, start + 1)
    if text[i] == "}":
        return out, i
    while True:
        if text[i] != '"':
            raise FormatError("expected a key", location=f"{where or '$'} (offset {i})", source=source)
        key_start = i
        key, i = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
        i = _skip(text, i)
        if text[i] != ":":
            raise FormatError("expected ':'", location=f"{where or '$'} (offset {i})", source=source)
        value_start = _skip(text, i + 1)
        _, value_end = _DECODER.raw_decode(text, value_start)
        if any(m.key == key for m in out):
            # Readers disagree on which copy wins; refuse rather than guess.
            raise FormatError(f"key {key!r} is given twice; keep one", location=_join(where, key), source=source)
        out.append(_Member(key, key_start, value_start, value_end))
        i = _skip(text, value_end)
        if text[i] == "}":
            return out, i
        if text[i] != ",":
            raise FormatError("expected ',' or '}'", location=f"{where or '$'} (offset {i})", source=source)
        i = _skip(text, i + 1)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _dump(value: Mapping[str, Any], *, indent: str | None, base: str) -> str:
    if indent is None:
        return json.dumps(value)
    text = json.dumps(value, indent=indent)
    return text.replace("\n", "\n" + base)


def _style(text: str, members: list[_Member]) -> tuple[str | None, str, str]:
    """Return (indent unit or None for one-line JSON, separator before a new member, the member's indent)."""
    if not members:
        return None, "", ""
    last = members[-1]
    # The whitespace in front of the last key tells how members are laid out.
    j = last.key_start
    while j > 0 and text[j - 1] in " \t":
        j -= 1
    lead = text[j : last.key_start]
    newline = j > 0 and text[j - 1] == "\n"
    if not newline:
        return None, ", ", ""
    unit = _unit(text)
    return unit, ",\n" + lead, lead


def _unit(text: str) -> str:
    # The indentation of the first indented line is the document's unit.
    for line in text.splitlines()[1:]:
        stripped = line.lstrip(" \t")
        if stripped and len(stripped) < len(line):
            return line[: len(line) - len(stripped)]
    return "  "


def _profile_dict(seccomp: Mapping[str, Any] | Profile) -> Mapping[str, Any]:
    if isinstance(seccomp, Mapping):
        return seccomp
    from seccompose.formats.oci import to_dict

    return to_dict(seccomp)


def _decode(config: str | bytes, source: str | None) -> str:
    from seccompose._reader import decode, parse_json

    text = decode(config, source=source)
    parse_json(text, source=source)  # the whole document must be valid before any splicing
    return text


def get_seccomp(config: str | bytes, *, source: str | None = None) -> dict[str, Any] | None:
    """Return ``linux.seccomp`` of a config.json (None when absent).

    Raises:
        FormatError: not a JSON object, or ``linux`` is not an object.

    >>> get_seccomp('{"linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW"}}}')
    {'defaultAction': 'SCMP_ACT_ALLOW'}
    """
    from seccompose._reader import parse_json

    doc = parse_json(config, source=source)
    if not isinstance(doc, dict):
        raise FormatError("config.json must be a JSON object", location="$", source=source)
    linux = doc.get("linux")
    if linux is None:
        return None
    if not isinstance(linux, dict):
        raise FormatError("linux must be a JSON object", location="linux", source=source)
    seccomp = linux.get("seccomp")
    if seccomp is not None and not isinstance(seccomp, dict):
        raise FormatError("linux.seccomp must be a JSON object", location="linux.seccomp", source=source)
    return seccomp


def set_seccomp(config: str | bytes, seccomp: Mapping[str, Any] | Profile, *, source: str | None = None) -> str:
    """Return ``config`` with ``linux.seccomp`` set to ``seccomp`` (a dict, or a ``Profile``); all else kept.

    Raises:
        FormatError: the config is not valid JSON, not an object, or ``linux`` is not an object.
        DocumentTooLargeError: the config is over the size limit (4 MiB by default).

    >>> set_seccomp('{"linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW"}}, "x": 1}',
    ...             {"defaultAction": "SCMP_ACT_LOG"})
    '{"linux": {"seccomp": {"defaultAction": "SCMP_ACT_LOG"}}, "x": 1}'
    """
    text = _decode(config, source)
    value = _profile_dict(seccomp)
    start = _skip(text, 0)
    top, _ = _members(text, start, "", source)
    linux = next((m for m in top if m.key == "linux"), None)
    if linux is None:
        unit, sep, lead = _style(text, top)
        member = f'"linux": {_dump({"seccomp": dict(value)}, indent=unit, base=lead)}'
        return _insert(text, top, sep, member, start)
    if text[linux.value_start] != "{":
        raise FormatError("linux must be a JSON object", location="linux", source=source)
    inner, _ = _members(text, linux.value_start, "linux", source)
    current = next((m for m in inner if m.key == "seccomp"), None)
    if current is not None:
        unit, _, lead = _style(text, inner)
        line_start = text.rfind("\n", 0, current.key_start) + 1
        base = text[line_start : current.key_start] if unit is not None else lead
        new = _dump(value, indent=unit, base=base)
        return text[: current.value_start] + new + text[current.value_end :]
    unit, sep, lead = _style(text, inner)
    member = f'"seccomp": {_dump(value, indent=unit, base=lead)}'
    return _insert(text, inner, sep, member, linux.value_start)


def _insert(text: str, members: list[_Member], sep: str, member: str, open_at: int) -> str:
    if members:
        end = members[-1].value_end
        return text[:end] + sep + member + text[end:]
    return text[: open_at + 1] + member + text[open_at + 1 :]


def update_bundle(bundle: str | os.PathLike[str], seccomp: Mapping[str, Any] | Profile) -> Path:
    """Set ``linux.seccomp`` in ``BUNDLE/config.json`` (or in the file ``bundle`` names), atomically.

    The file keeps its permissions; it is replaced in one rename, so a runtime never
    reads half a file.

    Raises:
        FormatError: as :func:`set_seccomp`.
        OSError: the file cannot be read or written.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as bundle:
    ...     _ = (Path(bundle) / "config.json").write_text('{"ociVersion": "1.2.0"}')
    ...     print(update_bundle(bundle, {"defaultAction": "SCMP_ACT_LOG"}).read_text())
    {"ociVersion": "1.2.0", "linux": {"seccomp": {"defaultAction": "SCMP_ACT_LOG"}}}
    """
    path = Path(bundle)
    if path.is_dir():
        path = path / "config.json"
    from seccompose._reader import read_bytes

    new = set_seccomp(read_bytes(path, what="config.json"), seccomp, source=str(path))
    mode = path.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(prefix=".config.json.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(new)
        Path(tmp).chmod(mode)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path

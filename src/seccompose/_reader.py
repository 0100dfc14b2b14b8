r"""The one bounded reader: every file, stdin and document text seccompose takes goes through here.

Private; the rules are documented for users in ``docs/reference/inputs.md``. Each input is
checked before it is parsed, so no input can make seccompose use unbounded memory or time:

- **size**: at most :func:`max_input_bytes` bytes (4 MiB; a policy file 256 kB), read with a
  bounded ``read()`` so ``/dev/zero`` or an endless pipe stop at the limit + 1 byte;
  ``SECCOMPOSE_MAX_INPUT_BYTES`` / ``SECCOMPOSE_MAX_POLICY_BYTES`` (or ``seccompose
  --max-input-bytes``) raise or lower the limits;
- **encoding**: UTF-8, with or without a byte-order mark; UTF-16/32 (by their BOM or their
  NUL bytes), other non-UTF-8 bytes and NUL characters are errors that say so;
- **nesting**: at most :data:`MAX_DEPTH` levels of arrays/objects (real documents use 6);
- **numbers**: integer literals of at most :data:`MAX_INT_DIGITS` digits; no NaN or Infinity;
- **duplicate keys**: an object (JSON) or mapping (YAML) naming a key twice is an error that
  names both places, because the engines (Go's ``encoding/json``) and PyYAML silently keep the
  last one and a dropped ``deny`` is a silent hole;
- **YAML**: safe tags only, and aliases may not expand a document past :data:`MAX_YAML_NODES` nodes.

The integrations read through here too, each with its own size limit: the proxy's create bodies
and the engine's answers (32 MiB: a body carries a ``--security-opt`` profile as a string), the
agent's container state (1 MiB), ``listenerMetadata`` (1 MiB) and events lines (1 MiB). The
runtime wrapper, which may not import ``json``, reads ``config.json`` (64 MiB), the engines'
records (16 MiB), its own cache and the decision log through this layer's fast path,
``seccompose.integrations._fastjson.parse``: ``json``'s C scanner, falling back here for the
typed error, and pinned to :func:`parse_json` by tests/unit/test_fastjson.py.

>>> parse_json(b'\xef\xbb\xbf{"a": [1, 2]}')
{'a': [1, 2]}
>>> parse_json('{"a": 1, "b": {"a": 2, "a": 3}}', source="p.json")
Traceback (most recent call last):
...
seccompose.errors.FormatError: key 'a' is given twice in b: at line 1 column 16 and line 1 column 24; keep one ...
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from seccompose.errors import DocumentTooLargeError, FormatError, TemplateNotFoundError

if TYPE_CHECKING:

    import yaml

__all__ = [
    "MAX_DEPTH",
    "MAX_INT_DIGITS",
    "MAX_YAML_NODES",
    "Spec",
    "decode",
    "max_input_bytes",
    "max_policy_bytes",
    "override_max_bytes",
    "parse_json",
    "parse_size",
    "parse_yaml",
    "read_bytes",
    "read_json",
    "resolve",
]

DEFAULT_MAX_INPUT_BYTES: Final = 4 * 1024 * 1024
"""Profiles, templates, config.json, Kubernetes YAML: real ones are 10-100 kB."""
DEFAULT_MAX_POLICY_BYTES: Final = 256 * 1024
"""Policy files: a few kB in practice (256 kB holds about 4,000 rules); each rule is checked per container."""
MAX_DEPTH: Final = 64
MAX_INT_DIGITS: Final = 40
"""Longest integer literal: 2**64 has 20 digits, so 40 leaves room for any wrong-but-honest number."""
MAX_YAML_NODES: Final = 1_000_000
"""Most nodes a YAML document may have once its aliases are expanded."""

_ENV_INPUT: Final = "SECCOMPOSE_MAX_INPUT_BYTES"
_ENV_POLICY: Final = "SECCOMPOSE_MAX_POLICY_BYTES"
_override: dict[str, int] = {}


def parse_size(text: str, *, location: str = _ENV_INPUT) -> int:
    """Return a byte count written as ``N``, ``Nk``/``NK``/``NKiB``, ``NM``/``NMiB`` or ``NG``/``NGiB``.

    Raises:
        FormatError: anything else, or zero.

    >>> parse_size("64M"), parse_size("512k"), parse_size("1000")
    (67108864, 524288, 1000)
    """
    found = re.fullmatch(r"\s*(\d{1,15})\s*(?:([kKmMgG])(?:i?B)?|B)?\s*", text)
    if not found or int(found.group(1)) == 0:
        raise FormatError(f"{text!r} is not a size; write a positive number of bytes such as 16M or 4096",
                          location=location)  # fmt: skip
    unit = (found.group(2) or "").lower()
    return int(found.group(1)) * {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[unit]


def _limit(env: str, default: int) -> int:
    if env in _override:
        return _override[env]
    text = os.environ.get(env)
    return parse_size(text, location=env) if text else default


def max_input_bytes() -> int:
    """The size limit of a profile, template or config.json (``SECCOMPOSE_MAX_INPUT_BYTES``, default 4 MiB).

    >>> max_input_bytes() >= 1024
    True
    """
    return _limit(_ENV_INPUT, DEFAULT_MAX_INPUT_BYTES)


def max_policy_bytes() -> int:
    """The size limit of a policy file (``SECCOMPOSE_MAX_POLICY_BYTES``, default 256 kB)."""
    return _limit(_ENV_POLICY, DEFAULT_MAX_POLICY_BYTES)


@contextlib.contextmanager
def override_max_bytes(size: int) -> Iterator[None]:
    """Within the block, both limits are ``size`` bytes (what ``seccompose --max-input-bytes`` does).

    >>> with override_max_bytes(100):
    ...     max_input_bytes(), max_policy_bytes()
    (100, 100)
    """
    saved = dict(_override)
    _override[_ENV_INPUT] = _override[_ENV_POLICY] = size
    try:
        yield
    finally:
        _override.clear()
        _override.update(saved)


# --------------------------------------------------------------------------- names and paths

Spec = Literal["stdin", "file", "name"]


def resolve(spec: str) -> Spec:
    """Tell what a PROFILE/TEMPLATE argument names, the same way in every command.

    ``-`` is stdin; anything with a ``/`` or ending in ``.json``, ``.yaml`` or ``.yml`` is a
    file; anything else is a name (a shipped template, or for ``explain`` a syscall). The
    current directory is never consulted: ``./nginx`` reads a file called nginx.

    >>> resolve("-"), resolve("./nginx"), resolve("p.json"), resolve("nginx")
    ('stdin', 'file', 'file', 'name')
    """
    if spec == "-":
        return "stdin"
    if "/" in spec or spec.endswith((".json", ".yaml", ".yml")):
        return "file"
    return "name"


def not_a_template(name: str, choices: tuple[str, ...]) -> TemplateNotFoundError:
    """The error for a bare name that is no shipped template, with a hint when a file of that name exists."""
    error = TemplateNotFoundError(name, choices=choices)
    if name and Path(name).exists():
        error.args = (f"{error.args[0]}; to read the file {name!r} in this directory, write './{name}'",)
    return error


# --------------------------------------------------------------------------- bytes


def read_bytes(path: str | os.PathLike[str], *, limit: int | None = None, what: str = "document") -> bytes:
    """Return the bytes of a file (``-``: stdin), refusing one over ``limit`` before and while reading it.

    Raises:
        DocumentTooLargeError: over the limit (a regular file by its size, before reading;
            anything else once limit + 1 bytes have arrived).
        FormatError: the file cannot be read (missing, a directory, no permission).

    >>> read_bytes("/dev/zero", limit=10)
    Traceback (most recent call last):
    ...
    seccompose.errors.DocumentTooLargeError: document is over 10 bytes, the limit for a document; ...
    """
    cap = max_input_bytes() if limit is None else limit
    name = "<stdin>" if str(path) == "-" else str(path)
    try:
        if str(path) == "-":
            return _bounded(sys.stdin.buffer, cap, name, what)
        with Path(path).open("rb") as handle:
            info = os.fstat(handle.fileno())
            if stat.S_ISDIR(info.st_mode):
                raise FormatError(f"is a directory, not a {what} file", source=name)
            if stat.S_ISREG(info.st_mode) and info.st_size > cap:
                raise DocumentTooLargeError(info.st_size, cap, source=name, what=what)
            return _bounded(handle, cap, name, what)
    except IsADirectoryError:
        raise FormatError(f"is a directory, not a {what} file", source=name) from None
    except OSError as exc:
        raise FormatError(f"cannot read: {exc.strerror or exc}", source=name) from None


def _bounded(handle: Any, cap: int, name: str, what: str) -> bytes:  # noqa: ANN401 - a binary stream
    chunks = []
    size = 0
    while size <= cap:
        chunk = handle.read(min(cap + 1 - size, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > cap:
        raise DocumentTooLargeError(None, cap, source=name, what=what)
    return b"".join(chunks)


_BOMS: Final = (
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\xfe\xff", "UTF-16"),
    (b"\xff\xfe", "UTF-16"),
)


def decode(data: bytes | str, *, source: str | None = None, limit: int | None = None) -> str:
    r"""Return the text of a document: UTF-8 with or without a byte-order mark, within the size limit.

    Raises:
        DocumentTooLargeError: over the limit.
        FormatError: UTF-16/32, other non-UTF-8 bytes, or NUL characters.

    >>> decode(b"\xef\xbb\xbf{}"), decode("\ufeff[]")
    ('{}', '[]')
    >>> decode("{}".encode("utf-16"))
    Traceback (most recent call last):
    ...
    seccompose.errors.FormatError: the text is UTF-16, not UTF-8; convert it (iconv -f UTF-16 -t UTF-8)
    """
    cap = max_input_bytes() if limit is None else limit
    if isinstance(data, str):
        size = len(data) if len(data) > cap or len(data) * 4 <= cap else len(data.encode("utf-8", "surrogatepass"))
        if size > cap:
            raise DocumentTooLargeError(size, cap, source=source)
        text = data.removeprefix("\ufeff")
    else:
        if len(data) > cap:
            raise DocumentTooLargeError(len(data), cap, source=source)
        for bom, encoding in _BOMS:
            if data.startswith(bom):
                raise FormatError(
                    f"the text is {encoding}, not UTF-8; convert it (iconv -f {encoding} -t UTF-8)", source=source
                )
        try:
            text = data.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise FormatError(
                f"not UTF-8 text ({exc.reason} at byte {exc.start}, line {line}); save the file as UTF-8",
                source=source,
            ) from None
    nul = text.find("\0")
    if nul >= 0:
        utf16 = nul <= 3 and text[:8].count("\0") >= 2
        hint = "UTF-16/32 text without a byte-order mark" if utf16 else "binary data, not a text document"
        raise FormatError(f"NUL character at offset {nul}: {hint}; save the file as UTF-8", source=source)
    return text


# --------------------------------------------------------------------------- JSON


class _Duplicate(Exception):  # noqa: N818 - internal signal, never escapes
    pass


class _LongNumber(Exception):  # noqa: N818 - internal signal, never escapes
    def __init__(self, digits: int) -> None:
        self.digits = digits


def _pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(items)
    if len(obj) != len(items):
        raise _Duplicate
    return obj


def _json_int(literal: str) -> int | float:
    if len(literal) > MAX_INT_DIGITS:
        raise _LongNumber(len(literal.lstrip("-")))
    if literal == "-0":
        # Go's decoder refuses "-0" for the unsigned fields the engines and runtimes read; a float
        # carries that through to the type checks (Python would make it a plain 0).
        return -0.0
    return int(literal)


def _constant(name: str) -> Any:  # noqa: ANN401 - json hook signature
    raise ValueError(name)


_SURROGATE = re.compile(r"\\u[dD][89abcdefABCDEF]")
_JSON = json.JSONDecoder(object_pairs_hook=_pairs, parse_int=_json_int, parse_constant=_constant)


def parse_json(data: bytes | str, *, source: str | None = None, limit: int | None = None) -> Any:  # noqa: ANN401
    r"""Parse a JSON document under the reader's limits; errors name the line and column.

    Raises:
        DocumentTooLargeError: over the size limit.
        FormatError: not UTF-8, malformed, nested deeper than :data:`MAX_DEPTH`, an integer
            longer than :data:`MAX_INT_DIGITS` digits, NaN/Infinity, or a key given twice.

    >>> parse_json("[" * 100 + "]" * 100)
    Traceback (most recent call last):
    ...
    seccompose.errors.FormatError: nested deeper than 64 levels at line 1 column 65; real documents nest about 6 deep
    >>> parse_json('{"value": ' + "9" * 50 + "}")
    Traceback (most recent call last):
    ...
    seccompose.errors.FormatError: a 50-digit integer at line 1 column 11; numbers here have at most 40 digits
    """
    text = decode(data, source=source, limit=limit)
    try:
        value = _JSON.decode(text)
    except json.JSONDecodeError as exc:
        raise FormatError(
            f"malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", source=source
        ) from None
    except RecursionError:
        raise _depth_error(text, source) from None
    except _Duplicate:
        raise _duplicate_error(text, source) from None
    except _LongNumber as exc:
        found = re.search(r"-?\d{%d,}" % (MAX_INT_DIGITS + 1), text)  # noqa: UP031 - a regex quantifier
        where = _line_col(text, found.start()) if found else ""
        raise FormatError(
            f"a {exc.digits}-digit integer{where}; numbers here have at most {MAX_INT_DIGITS} digits", source=source
        ) from None
    except ValueError as exc:  # parse_constant
        raise FormatError(f"malformed JSON: {exc} is not a JSON number; write a number or a string",
                          source=source) from None  # fmt: skip
    if isinstance(value, (dict, list)) and _too_deep(value):
        raise _depth_error(text, source)
    if _SURROGATE.search(text):
        value = _fix_surrogates(value)
    return value


def read_json(spec: str | os.PathLike[str], *, limit: int | None = None, what: str = "document") -> Any:  # noqa: ANN401
    """Read and parse a JSON file (``-``: stdin) under the reader's limits.

    Raises:
        DocumentTooLargeError, FormatError: as :func:`read_bytes` and :func:`parse_json`.
    """
    source = "<stdin>" if str(spec) == "-" else str(spec)
    return parse_json(read_bytes(spec, limit=limit, what=what), source=source, limit=limit)


def _line_col(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    return f" at line {line} column {offset - (text.rfind(chr(10), 0, offset) + 1) + 1}"


def _too_deep(value: object) -> bool:
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False


_TOKENS: Final = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def _depth_error(text: str, source: str | None) -> FormatError:
    depth = 0
    for match in _TOKENS.finditer(text):
        found = match.group()
        if found in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return FormatError(
                    f"nested deeper than {MAX_DEPTH} levels{_line_col(text, match.start())}; "
                    "real documents nest about 6 deep",
                    source=source,
                )
        elif found in "]}":
            depth -= 1
    return FormatError(f"nested deeper than {MAX_DEPTH} levels; real documents nest about 6 deep", source=source)


def _duplicate_error(text: str, source: str | None) -> FormatError:
    """Walk the text again, keeping positions, to name both places of the first repeated key."""
    number = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")
    # Open containers: [path, keys seen (an object) or None (an array), pending key or index].
    frames: list[list[Any]] = []

    def child() -> str:
        if not frames:
            return ""
        path, keys, pending = frames[-1]
        if keys is None:
            return f"{path}[{pending}]"
        return f"{path}.{pending}" if path else str(pending)

    def done() -> None:
        if frames and frames[-1][1] is not None:
            frames[-1][2] = None

    at = 0
    while True:
        while at < len(text) and text[at] in " \t\n\r":
            at += 1
        if at >= len(text):
            break
        char = text[at]
        if char in "{[":
            frames.append([child(), {} if char == "{" else None, None if char == "{" else 0])
            at += 1
        elif char in "}]":
            frames.pop()
            done()
            at += 1
        elif char == ",":
            if frames and frames[-1][1] is None:
                frames[-1][2] += 1
            at += 1
        elif char == ":":
            at += 1
        elif char == '"':
            value, end = json.decoder.scanstring(text, at + 1)  # type: ignore[attr-defined]
            if frames and frames[-1][1] is not None and frames[-1][2] is None:
                path, keys, _ = frames[-1]
                if value in keys:
                    where = f" in {path}" if path else " at the top level"
                    first, second = _line_col(text, keys[value])[4:], _line_col(text, at)[4:]
                    return FormatError(
                        f"key {value!r} is given twice{where}: at {first} and {second}; keep one "
                        "(the engines would silently use the last)",
                        source=source,
                    )
                keys[value] = at
                frames[-1][2] = value
            else:
                done()
            at = end
        else:
            found = number.match(text, at)
            at = found.end() if found else at + 1
            done()
    return FormatError("a key is given twice in an object; keep one", source=source)


def _fix_surrogates(value: Any) -> Any:  # noqa: ANN401 - JSON
    # Go's decoder turns an unpaired \uD800-\uDFFF escape into U+FFFD; do the same, so the
    # strings can be printed and written as UTF-8.
    if isinstance(value, str):
        return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in value) if _has_surrogate(value) else value
    if isinstance(value, list):
        return [_fix_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_fix_surrogates(k): _fix_surrogates(v) for k, v in value.items()}
    return value


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= c <= "\udfff" for c in text)


# --------------------------------------------------------------------------- YAML


def parse_yaml(
    data: bytes | str, *, source: str | None = None, limit: int | None = None, multi: bool = False
) -> Any:  # noqa: ANN401 - YAML is Any
    r"""Parse a YAML (or JSON) document under the reader's limits; ``multi``: every document of a stream.

    Raises:
        DocumentTooLargeError: over the size limit.
        FormatError: not UTF-8, malformed, nested deeper than :data:`MAX_DEPTH`, a key given
            twice, an integer over :data:`MAX_INT_DIGITS` digits, aliases that expand past
            :data:`MAX_YAML_NODES` nodes, or an unsafe tag.

    >>> parse_yaml("rules:\n  - deny: [ptrace]\n    deny: [mount]\n", source="policy.yaml")
    Traceback (most recent call last):
    ...
    seccompose.errors.FormatError: key 'deny' is given twice in a mapping: at line 2 column 5 and line 3 column 5; ...
    """
    import yaml

    text = decode(data, source=source, limit=limit)
    loader = None
    try:
        loader = _loader_class(fast=_depth_bound(text) <= MAX_DEPTH)(text)  # checks the characters: may raise
        if multi:
            docs = []
            while loader.check_node():
                docs.append(loader.construct_document(loader.get_node()))
            return docs
        return loader.get_single_data()
    except _YamlLimitError as exc:
        raise FormatError(str(exc), source=source) from None
    except RecursionError:
        raise FormatError(f"nested deeper than {MAX_DEPTH} levels", source=source) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise FormatError(f"malformed YAML: {problem}{where}", source=source) from None
    finally:
        if loader is not None:
            loader.dispose()


class _YamlLimitError(Exception):
    pass


_LOADERS: dict[bool, type[Any]] = {}


def _depth_bound(text: str) -> int:
    """Return an upper bound of a YAML text's nesting.

    The widest indentation, plus the most '- '/': ' on one line, plus the deepest brackets
    (quotes not excluded, which only raises the bound).
    """
    indent = items = 0
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        indent = max(indent, len(line) - len(stripped))
        items = max(items, stripped.count("- ") + stripped.count(": ") + 2)
    flow = depth = 0
    for char in text:
        if char in "[{":
            depth += 1
            flow = max(flow, depth)
        elif char in "]}":
            depth -= 1
    return indent + items + flow


def _loader_class(*, fast: bool) -> type[Any]:
    """PyYAML's safe loader with the reader's limits (depth, duplicates, integers, alias expansion).

    ``fast``: libyaml's parser and composer (C), for a text whose nesting is known to be within
    the limit (its composer recurses in C, with no limit of its own); else PyYAML's Python
    composer, whose every level is counted.
    """
    if fast in _LOADERS:
        return _LOADERS[fast]
    import yaml

    base: type[Any] = yaml.CSafeLoader if fast and hasattr(yaml, "CSafeLoader") else yaml.SafeLoader

    class Loader(base):  # type: ignore[misc]
        """PyYAML's safe loader with the reader's limits."""

        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self._depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: ANN401 - PyYAML's signature
            self._depth += 1
            try:
                if self._depth > MAX_DEPTH:
                    mark = self.peek_event().start_mark
                    msg = f"nested deeper than {MAX_DEPTH} levels (line {mark.line + 1}, column {mark.column + 1})"
                    raise _YamlLimitError(msg)
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

        def construct_document(self, node: yaml.Node) -> Any:  # noqa: ANN401 - PyYAML's signature
            _check_expansion(node)
            return super().construct_document(node)

        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
            if isinstance(node, yaml.MappingNode):
                self.flatten_mapping(node)
                seen: dict[object, yaml.Node] = {}
                for key_node, _ in node.value:
                    if not isinstance(key_node, yaml.ScalarNode):
                        continue
                    key = (key_node.tag, key_node.value)
                    if key in seen:
                        first, second = seen[key].start_mark, key_node.start_mark
                        raise _YamlLimitError(
                            f"key {key_node.value!r} is given twice in a mapping: at line {first.line + 1} column "
                            f"{first.column + 1} and line {second.line + 1} column {second.column + 1}; keep one "
                            "(YAML readers silently use the last)"
                        )
                    seen[key] = key_node
            mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
            return mapping

        def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
            digits = len(str(node.value).replace("_", "").replace(":", "").lstrip("+-"))
            if digits > MAX_INT_DIGITS:
                mark = node.start_mark
                raise _YamlLimitError(
                    f"a {digits}-digit integer (line {mark.line + 1}, column {mark.column + 1}); numbers here "
                    f"have at most {MAX_INT_DIGITS} digits"
                )
            value: int = super().construct_yaml_int(node)
            return value

    Loader.add_constructor("tag:yaml.org,2002:int", Loader.construct_yaml_int)
    if base is not yaml.SafeLoader:
        del Loader.compose_node  # libyaml composes; the bound above stands for the count
    _LOADERS[fast] = Loader
    return Loader


def _check_expansion(root: yaml.Node) -> None:
    """Refuse a document whose aliases expand it past MAX_YAML_NODES nodes ("billion laughs")."""
    sizes: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:  # post-order without recursion: a node's size once its children's are known
        node, ready = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if ready or not children:
            sizes[id(node)] = size = 1 + sum(sizes.get(id(c), 0) for c in children)
            if size > MAX_YAML_NODES:
                raise _YamlLimitError(
                    f"aliases expand this document past {MAX_YAML_NODES:,} nodes; write it out without "
                    "anchors and aliases"
                )
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)


def _children(node: Any) -> list[Any]:  # noqa: ANN401 - a yaml.Node
    value = node.value
    if isinstance(value, list):
        out: list[Any] = []
        for item in value:
            if isinstance(item, tuple):
                out.extend(item)
            else:
                out.append(item)
        return out
    return []

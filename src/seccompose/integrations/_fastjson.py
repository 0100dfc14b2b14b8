"""JSON for the OCI runtime wrapper's path, without importing ``json`` (and ``re``, ``enum`` with it).

``import json`` costs about 10 ms of a fresh interpreter here, a third of the wrapper's whole
added time on each container start. The work is done by the same C code ``json`` uses
(``_json``: its scanner and encoder), called directly; the results are identical to
``json.loads`` and ``json.dumps(..., separators=(",", ":"))`` (pinned by
tests/unit/test_fastjson.py). Where ``_json`` is missing, ``json`` itself is used.

:func:`parse` is the fast path of the one reader layer (:func:`seccompose._reader.parse_json`)
for what the wrapper reads: the same size limit, and anything the C scanner refuses (invalid
UTF-8, a byte-order mark, NaN/Infinity, nesting past the interpreter's recursion limit, an
integer past Python's 4,300 digits, malformed JSON) is handed to the layer, which raises its
typed error (or, for a UTF-8 byte-order mark, returns its value). What it accepts that the layer
refuses is listed and pinned by tests/unit/test_fastjson.py: nesting of 65 levels up to the
recursion limit, integers of 41 to 4,300 digits, a key given twice (the last kept, as runc's and
the engines' Go decoders keep it), unpaired surrogate escapes (kept as they are).

>>> dumps({"b": [1, 2.5, None, True], "a": "x"}, sort_keys=True)
'{"a":"x","b":[1,2.5,null,true]}'
>>> loads(b' {"x": [1, {"y": "z"}]} ')
{'x': [1, {'y': 'z'}]}
"""

from __future__ import annotations

__all__ = ["dumps", "loads", "parse"]

TYPE_CHECKING = False  # not typing's: this module exists to keep the wrapper's imports small
if TYPE_CHECKING:
    from typing import Any

try:
    import _json
except ImportError:  # pragma: no cover - every CPython has it
    _json = None  # type: ignore[assignment]

_SPACE = " \t\n\r"


class _Context:
    """What ``_json.make_scanner`` reads from a decoder: the defaults of ``json.JSONDecoder``."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo: dict[str, str]

    def __init__(self) -> None:
        self.memo = {}

    @staticmethod
    def parse_constant(name: str) -> float:
        return {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}[name]


class _StrictContext(_Context):
    """As ``_Context``, without NaN and Infinity (the reader layer refuses them, as Go's decoder does)."""

    @staticmethod
    def parse_constant(name: str) -> float:
        raise ValueError(name)


def _no_default(o: object) -> object:
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def loads(data: bytes | str) -> Any:  # noqa: ANN401 - JSON is Any
    """Return the value of a JSON document (UTF-8 bytes or text), as ``json.loads`` does.

    Raises:
        ValueError: not a JSON document (``json.JSONDecodeError`` where ``json`` is used).
    """
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    if _json is None:  # pragma: no cover
        import json

        return json.loads(text)
    start = len(text) - len(text.lstrip(_SPACE))
    try:
        value, end = _json.make_scanner(_Context())(text, start)  # type: ignore[arg-type]  # duck-typed decoder
    except StopIteration as exc:
        raise ValueError(f"not JSON at character {exc.value}") from None
    if text[end:].strip(_SPACE):
        raise ValueError(f"extra data after the JSON value at character {end}")
    return value


def parse(data: bytes | str, *, limit: int, source: str | None = None) -> Any:  # noqa: ANN401 - JSON is Any
    """Return the value of a JSON document under the reader layer's rules, at ``json.loads``' speed.

    Raises:
        seccompose.errors.DocumentTooLargeError: over ``limit`` bytes.
        seccompose.errors.FormatError: anything the layer refuses that the C scanner refuses too.

    >>> parse(b'{"a": [1, 2]}', limit=100)
    {'a': [1, 2]}
    >>> parse(b"[" * 100_000, limit=1 << 20)
    Traceback (most recent call last):
    ...
    seccompose.errors.FormatError: nested deeper than 64 levels at line 1 column 65; real documents nest about 6 deep
    """
    if isinstance(data, bytes) or len(data) * 4 <= limit:
        size = len(data)
    else:
        size = len(data.encode("utf-8", "surrogatepass"))
    if size <= limit and _json is not None:
        try:
            text = data.decode("utf-8") if isinstance(data, bytes) else data
            start = len(text) - len(text.lstrip(_SPACE))
            value, end = _json.make_scanner(_StrictContext())(text, start)  # type: ignore[arg-type]  # duck-typed
            if not text[end:].strip(_SPACE):
                return value
        except (ValueError, StopIteration, RecursionError):
            pass
    from seccompose._reader import parse_json  # the error path: the layer says what is wrong

    return parse_json(data, source=source, limit=limit)


def dumps(value: object, *, sort_keys: bool = False) -> str:
    """Return compact JSON (``separators=(",", ":")``, ASCII), as ``json.dumps`` writes it.

    Raises:
        TypeError: a value JSON cannot hold.
    """
    if _json is None:  # pragma: no cover
        import json

        return json.dumps(value, separators=(",", ":"), sort_keys=sort_keys)
    skip_keys, allow_nan = False, True  # json.dumps' defaults; the C encoder takes them by position
    encode = _json.make_encoder(
        {}, _no_default, _json.encode_basestring_ascii, None, ":", ",", sort_keys, skip_keys, allow_nan
    )
    return "".join(encode(value, 0))

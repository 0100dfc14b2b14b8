"""The wrapper's JSON (json's own C code, called directly) reads and writes exactly what ``json`` does."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seccompose.integrations import _fastjson

values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(value=values, sort_keys=st.booleans())
def test_dumps_is_json_dumps(value: object, sort_keys: bool) -> None:
    assert _fastjson.dumps(value, sort_keys=sort_keys) == json.dumps(value, separators=(",", ":"), sort_keys=sort_keys)


@settings(max_examples=200, deadline=None)
@given(value=values, indent=st.sampled_from([None, 2]), pad=st.sampled_from(["", " ", "\n\t "]))
def test_loads_is_json_loads(value: object, indent: int | None, pad: str) -> None:
    text = pad + json.dumps(value, indent=indent, ensure_ascii=False) + pad
    assert _fastjson.loads(text) == json.loads(text)
    assert _fastjson.loads(text.encode()) == json.loads(text)


@pytest.mark.parametrize("text", ["", "  ", "{", "[1,]", "[1] 2", '{"a" 1}', "tru", "\ufeff{}"])
def test_what_json_refuses_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        json.loads(text)
    with pytest.raises(ValueError):
        _fastjson.loads(text)


def test_constants_and_refused_types() -> None:
    assert math.isinf(_fastjson.loads("[Infinity]")[0])
    with pytest.raises(TypeError, match="set"):
        _fastjson.dumps({1, 2})


# --- parse: the reader layer's fast path (seccompose._reader.parse_json), pinned to it

LIMIT = 1 << 20
finite = st.recursive(  # what the layer takes: no NaN or Infinity
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=30,
)


def _layer(data: bytes | str, limit: int = LIMIT) -> object:
    from seccompose._reader import parse_json

    return parse_json(data, source="x.json", limit=limit)


@settings(max_examples=200, deadline=None)
@given(value=finite, indent=st.sampled_from([None, 2]), pad=st.sampled_from(["", " ", "\n\t "]))
def test_parse_is_the_layers_value(value: object, indent: int | None, pad: str) -> None:
    text = pad + json.dumps(value, indent=indent, ensure_ascii=False) + pad
    for data in (text, text.encode()):
        assert _fastjson.parse(data, source="x.json", limit=LIMIT) == _layer(data)


HOSTILE = [
    pytest.param(b"[" * 100_000 + b"]" * 100_000, LIMIT, id="deep-nesting"),
    pytest.param(b'{"a": ' + b"9" * 100_000 + b"}", LIMIT, id="100000-digit-integer"),
    pytest.param(b'{"a": "\xff"}', LIMIT, id="invalid-utf8"),
    pytest.param(b'{"a": "' + b"x" * 2000 + b'"}', 1000, id="huge"),
    pytest.param("{}".encode("utf-16"), LIMIT, id="utf16"),
    pytest.param(b"[NaN]", LIMIT, id="nan"),
    pytest.param(b"[-Infinity]", LIMIT, id="infinity"),
    pytest.param(b'{"a": 1} x', LIMIT, id="trailing-data"),
    pytest.param(b'{"a": 1', LIMIT, id="cut"),
    pytest.param(b"", LIMIT, id="empty"),
    pytest.param(b'["a\x00"]', LIMIT, id="nul"),
]


@pytest.mark.parametrize(("data", "limit"), HOSTILE)
def test_parse_refuses_what_the_layer_refuses_with_its_error(data: bytes, limit: int) -> None:
    from seccompose.errors import FormatError

    with pytest.raises(FormatError) as layer:
        _layer(data, limit)
    with pytest.raises(FormatError) as fast:
        _fastjson.parse(data, source="x.json", limit=limit)
    assert (type(fast.value), str(fast.value)) == (type(layer.value), str(layer.value))
    assert "x.json" in str(fast.value)


def test_parse_takes_a_utf8_byte_order_mark_as_the_layer_does() -> None:
    assert _fastjson.parse(b'\xef\xbb\xbf{"a": 1}', limit=LIMIT) == _layer(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}


@pytest.mark.parametrize(
    ("text", "fast"),
    [
        ("[" * 65 + "]" * 65, eval("[" * 65 + "]" * 65)),  # noqa: S307 - a literal
        ('{"a": ' + "9" * 41 + "}", {"a": int("9" * 41)}),
        ('{"a": 1, "a": 2}', {"a": 2}),  # the last kept, as runc's and the engines' Go decoders keep it
    ],
    ids=["depth-65", "41-digit-integer", "duplicate-key"],
)
def test_parse_accepts_only_the_listed_differences(text: str, fast: object) -> None:
    from seccompose.errors import FormatError

    assert _fastjson.parse(text, limit=LIMIT) == fast
    with pytest.raises(FormatError):
        _layer(text)


def test_parse_keeps_an_unpaired_surrogate_where_the_layer_replaces_it() -> None:
    assert _fastjson.parse('["\\ud800"]', limit=LIMIT) == ["\ud800"]
    assert _layer('["\\ud800"]') == ["\ufffd"]


def test_parse_refuses_a_text_over_the_limit_by_its_utf8_size() -> None:
    from seccompose.errors import DocumentTooLargeError

    text = '["' + "\u00e9" * 300 + '"]'  # 304 characters, 604 bytes
    with pytest.raises(DocumentTooLargeError):
        _fastjson.parse(text, limit=500)
    with pytest.raises(DocumentTooLargeError):
        _layer(text, 500)

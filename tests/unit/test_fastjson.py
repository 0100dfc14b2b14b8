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

"""Every cache of seccompose in one registry: bounded where its keys come from input, cleared by one call.

Three kinds, all registered so that :func:`clear_caches` empties each of them (a module whose
caches hang together, such as compose's, registers one function that clears them with :func:`on_clear`):

- :func:`cache` — ``functools.cache`` for a function of a small, fixed domain (an arch, a
  shipped table's name): it holds at most that domain;
- :func:`bounded_cache` — ``functools.lru_cache(maxsize)`` for a function whose arguments come
  from input (rules, conditions);
- :func:`dict_cache` — a plain dict a hot path reads directly (``d.get(key)`` costs less than a
  call); it is filled through :func:`remember`, which empties it when it holds ``limit``
  entries (the working set of a long-running service refills it at once; memory stays flat).

>>> squares = dict_cache()
>>> remember(squares, 3, 9, limit=2), remember(squares, 4, 16, limit=2), len(squares)
(9, 16, 2)
>>> remember(squares, 5, 25, limit=2), sorted(squares)
(25, [5])
>>> clear_caches(); squares
{}
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Final, TypeVar

__all__ = ["LIMIT", "bounded_cache", "cache", "clear_caches", "dict_cache", "on_clear", "remember"]

LIMIT: Final = 512
"""Entries a cache of input-derived keys holds before it is emptied."""

_F = TypeVar("_F", bound=Callable[..., Any])
_K = TypeVar("_K")
_V = TypeVar("_V")

_TABLES: list[dict[Any, Any]] = []
_FUNCTIONS: list[Any] = []
_HOOKS: list[Callable[[], None]] = []


def cache(fn: _F) -> _F:
    """``functools.cache``, registered: for functions of a small, fixed domain."""
    cached = functools.cache(fn)
    _FUNCTIONS.append(cached)
    return cached  # type: ignore[return-value]


def bounded_cache(maxsize: int = LIMIT) -> Callable[[_F], _F]:
    """``functools.lru_cache(maxsize)``, registered: for functions whose arguments come from input."""

    def wrap(fn: _F) -> _F:
        cached = functools.lru_cache(maxsize=maxsize)(fn)
        _FUNCTIONS.append(cached)
        return cached  # type: ignore[return-value]

    return wrap


def dict_cache() -> dict[Any, Any]:
    """Return a new registered dict for a hot path to read; fill it with :func:`remember`."""
    out: dict[Any, Any] = {}
    _TABLES.append(out)
    return out


def remember(cache: dict[_K, _V], key: _K, value: _V, *, limit: int = LIMIT) -> _V:
    """Store ``value`` under ``key`` (emptying ``cache`` first when it holds ``limit`` entries); return it."""
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value
    return value


def on_clear(fn: Callable[[], None]) -> Callable[[], None]:
    """Register ``fn`` to run on :func:`clear_caches` (it empties caches that must be cleared together)."""
    _HOOKS.append(fn)
    return fn


def clear_caches() -> None:
    """Empty every cache seccompose keeps (the next call of anything computes afresh)."""
    for t in _TABLES:
        t.clear()
    for fn in _FUNCTIONS:
        fn.cache_clear()
    for hook in _HOOKS:
        hook()

"""Conversions shared by the metrics of one ``compute_metrics`` call: each input is checked, scaled
and split into planes once, not once per metric; and the sources' own quantities (their Sobel edges,
window statistics, histogram levels, ...), shared by every fused image scored against them in one
:func:`shared_inputs` block (``defusion bench`` opens one per pair), computed once, not once per method."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Callable, Hashable, Iterator, TypeVar

import numpy as np

#: Conversions already done inside one ``compute_metrics`` call, keyed by function and the
#: identities of the (live, unmodified) input arrays; ``None`` outside such a call.
_CACHE: ContextVar[dict | None] = ContextVar("defusion_metrics_cache", default=None)

Fn = TypeVar("Fn", bound=Callable)


@contextmanager
def shared_inputs() -> Iterator[None]:
    """Within this block, repeated input conversions of the same array objects are reused
    (nested blocks share the outermost block's conversions): for scoring one image with many metrics.

    Example:
        >>> import numpy as np
        >>> from defusion.metrics import compute_metrics
        >>> x = np.random.default_rng(0).integers(0, 256, (32, 32), dtype=np.uint8)
        >>> with shared_inputs():  # the three images converted once for both calls
        ...     first, second = compute_metrics(x, x, x, names=["EN"]), compute_metrics(x, x, x, names=["SD"])
        >>> sorted({**first, **second})
        ['EN', 'SD']
    """
    if _CACHE.get() is not None:
        yield
        return
    token = _CACHE.set({})
    try:
        yield
    finally:
        _CACHE.reset(token)


#: Arguments keyed by value rather than identity: a window size or channel count is the same number
#: whichever object holds it.
_BY_VALUE = (str, int, float, bool, type(None))


def _key_part(arg: object) -> tuple:
    """An argument as part of a cache key: its value where it is a plain scalar (:data:`_BY_VALUE`), else
    its identity (an array is one object for as long as the block keeps it alive)."""
    return ("value", type(arg).__name__, arg) if isinstance(arg, _BY_VALUE) else ("id", id(arg))


def _read_only(out: object, args: tuple) -> object:
    """``out`` with every array in it (in nested tuples too) made read-only, so that no metric can
    alter what another one reads; an array that is one of ``args`` is given as a read-only view, never
    made read-only itself (that would change the caller's array)."""
    if isinstance(out, tuple):
        return type(out)(*(_read_only(x, args) for x in out)) if hasattr(out, "_fields") else tuple(
            _read_only(x, args) for x in out)
    if isinstance(out, np.ndarray) and out.flags.writeable:
        if any(out is arg for arg in args):
            out = out.view()
        out.flags.writeable = False
    return out


def cached(fn: Fn) -> Fn:
    """Memoise ``fn(*args)`` while :func:`shared_inputs` is active, by the identity of its array
    arguments and the value of its plain ones (numbers, strings): the caller's (live, unmodified)
    arrays, so a source's quantities are computed once for every fused image scored against it in the
    block. Outside a block it is ``fn`` itself: a metric called alone caches nothing.

    Results are made read-only so that no metric can alter what another one reads.

    Example:
        >>> calls = []
        >>> @cached
        ... def doubled(x):
        ...     calls.append(1)
        ...     return x * 2
        >>> x = np.arange(3)
        >>> with shared_inputs():
        ...     same = doubled(x) is doubled(x)
        >>> same, len(calls), doubled(x).tolist(), len(calls)  # outside the block: computed again
        (True, 1, [0, 2, 4], 2)
    """
    name = f"{fn.__module__}.{fn.__qualname__}"  # two modules' helpers of one name are two functions

    @wraps(fn)
    def wrapper(*args: object) -> object:
        cache = _CACHE.get()
        if cache is None:
            return fn(*args)
        key = (name,) + tuple(_key_part(x) for x in args)
        if key not in cache:
            cache[key] = (_read_only(fn(*args), args), args)  # keep the inputs alive so that their ids stay unique
        return cache[key][0]

    return wrapper  # type: ignore[return-value]


def first_time(what: Hashable, obj: object) -> bool:
    """Whether ``what`` about object ``obj`` happens for the first time in this :func:`shared_inputs`
    block (always True outside one): a warning about an input is then given once per call, not per metric.

    Example:
        >>> with shared_inputs():
        ...     x = object()
        ...     first_time("warned", x), first_time("warned", x)
        (True, False)
    """
    cache = _CACHE.get()
    if cache is None:
        return True
    key = (what, id(obj))
    if key in cache:
        return False
    cache[key] = (None, (obj,))  # keep the object alive so that its id stays unique
    return True

"""Conversions shared by the metrics of one ``compute_metrics`` call: each input is checked, scaled
and split into planes once, not once per metric."""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Callable, Hashable, Iterator, TypeVar

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


def cached(fn: Fn) -> Fn:
    """Memoise ``fn(*arrays)`` by argument identity while :func:`shared_inputs` is active.

    Results are made read-only so that no metric can alter what another one reads."""

    @wraps(fn)
    def wrapper(*args: object) -> object:
        cache = _CACHE.get()
        if cache is None:
            return fn(*args)
        key = (fn.__name__,) + tuple(x if isinstance(x, str) else id(x) for x in args)
        if key not in cache:
            out = fn(*args)
            for arr in out if isinstance(out, tuple) else (out,):
                arr.flags.writeable = False
            cache[key] = (out, args)  # keep the inputs alive so that their ids stay unique
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

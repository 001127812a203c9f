"""Conversions shared by the metrics of one ``compute_metrics`` call: each input is checked, scaled
and split into planes once, not once per metric; and the sources' own quantities (their Sobel edges,
window statistics, histogram levels, ...), computed once per call and, in a ``shared_inputs(sources=True)``
block (``defusion bench`` opens one per pair), once for every fused image scored against them.

Two stores, because they are keyed alike (by the identity of the arrays) but live differently: a
conversion (:func:`cached`) of the very same input objects is shared by a whole :func:`shared_inputs`
block, as before such blocks shared anything else; a source's own quantities (:func:`source_cached`)
only within one metrics call, unless the block says that its sources stay as they are
(``sources=True``): a loop that refills one source buffer in place per frame inside a plain block would
otherwise get the first frame's quantities."""

from __future__ import annotations

import inspect
from contextlib import contextmanager
from contextvars import ContextVar, Token
from functools import wraps
from typing import Any, Callable, Hashable, Iterator, TypeVar

import numpy as np

#: Conversions already done inside one ``compute_metrics`` call or :func:`shared_inputs` block, keyed by
#: function and the identities of the (live, unmodified) input arrays; ``None`` outside such a call.
_CACHE: ContextVar[dict | None] = ContextVar("defusion_metrics_cache", default=None)
#: The sources' own quantities (:func:`source_cached`): one metrics call's (:func:`one_call`), or a
#: ``shared_inputs(sources=True)`` block's; ``None`` elsewhere (nothing of a source is kept).
_SOURCES: ContextVar[dict | None] = ContextVar("defusion_metrics_sources", default=None)
#: Whether :data:`_SOURCES` is a ``shared_inputs(sources=True)`` block's, shared by every call in it.
_SHARING_SOURCES: ContextVar[bool] = ContextVar("defusion_metrics_sharing_sources", default=False)

Fn = TypeVar("Fn", bound=Callable)


@contextmanager
def _setting(*values: tuple[ContextVar, Any]) -> Iterator[None]:
    """Each ``(variable, value)`` set for the block, then reset (in reverse order)."""
    tokens: list[tuple[ContextVar, Token]] = [(var, var.set(value)) for var, value in values]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


@contextmanager
def shared_inputs(sources: bool = False) -> Iterator[None]:
    """Within this block, repeated input conversions of the same array objects are reused
    (nested blocks share the outermost block's conversions): for scoring one image with many metrics,
    or calling ``compute_metrics`` several times on the same arrays.

    Arrays are known by identity, not by value. A plain block reuses a conversion only for a call given
    the very same objects (fused image and sources alike), and computes the sources' own quantities once
    per call: a loop that refills its source buffers in place and scores a new fused array per frame gets
    each frame's scores as a call alone does. A fused buffer refilled in place is not: its conversions
    would be reused, so score such frames in one block each.

    ``sources=True`` also shares the sources' own quantities (their Sobel edges, window statistics,
    histogram levels, ...) between calls: computed once for every fused image scored against the same
    source objects, as ``defusion bench`` does per pair. Inside such a block **no array may be changed in
    place** (a source buffer refilled per frame would be scored by the first frame's quantities): pass
    new arrays, or open one block per frame.

    Example:
        >>> import numpy as np
        >>> from defusion.metrics import compute_metrics
        >>> x = np.random.default_rng(0).integers(0, 256, (32, 32), dtype=np.uint8)
        >>> with shared_inputs():  # the three images converted once for both calls
        ...     first, second = compute_metrics(x, x, x, names=["EN"]), compute_metrics(x, x, x, names=["SD"])
        >>> sorted({**first, **second})
        ['EN', 'SD']
        >>> fused = [x // 2, x // 3]
        >>> with shared_inputs(sources=True):  # x's Sobel edges computed once for both fused images
        ...     scores = [compute_metrics(f, x, x, names=["Qabf"]) for f in fused]
        >>> len(scores)
        2
    """
    settings: list[tuple[ContextVar, Any]] = []
    if _CACHE.get() is None:
        settings.append((_CACHE, {}))
    if sources and not _SHARING_SOURCES.get():
        settings += [(_SOURCES, {}), (_SHARING_SOURCES, True)]
    with _setting(*settings):
        yield


@contextmanager
def one_call() -> Iterator[None]:
    """One metrics call (``compute_metrics``, ``compute_each``): a :func:`shared_inputs` block whose
    sources' own quantities are computed once for all its metrics, and dropped at its end unless an
    enclosing ``shared_inputs(sources=True)`` block shares them between calls.

    Example:
        >>> with one_call():
        ...     _SOURCES.get() is not None
        True
        >>> _SOURCES.get() is None
        True
    """
    with shared_inputs():
        if _SHARING_SOURCES.get():
            yield
            return
        with _setting((_SOURCES, {})):
            yield


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


def _bound_values(signature: inspect.Signature, args: tuple, kwargs: dict) -> list[tuple[object, object]]:
    """The arguments of one call as ``signature`` binds them, defaults applied, in the order of its
    parameters, each labelled by its parameter (``*args`` by place, ``**kwargs`` by name): ``f(x)``,
    ``f(x, default)`` and ``f(x, to_grey=default)`` are one call. Wrong arguments raise ``TypeError``
    as the function would.

    Example:
        >>> def f(x, n=2, *more, **named): ...
        >>> _bound_values(inspect.signature(f), (1,), {"k": 3}) == [("x", 1), ("n", 2), (("named", "k"), 3)]
        True
    """
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    values: list[tuple[object, object]] = []
    for name, value in bound.arguments.items():
        kind = signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            values += [((name, place), each) for place, each in enumerate(value)]
        elif kind is inspect.Parameter.VAR_KEYWORD:
            values += [((name, key), value[key]) for key in sorted(value)]
        else:
            values.append((name, value))
    return values


def _memoised(fn: Fn, store: ContextVar[dict | None]) -> Fn:
    """``fn`` memoised in the dict ``store`` holds (nothing kept where it holds none), by its bound
    arguments (:func:`_bound_values`): the identity of arrays, the value of plain scalars."""
    name = f"{fn.__module__}.{fn.__qualname__}"  # two modules' helpers of one name are two functions
    signature = inspect.signature(fn)  # once, not per call

    @wraps(fn)
    def wrapper(*args: object, **kwargs: object) -> object:
        cache = store.get()
        if cache is None:
            return fn(*args, **kwargs)
        bound = _bound_values(signature, args, kwargs)
        key = (name,) + tuple((label, _key_part(value)) for label, value in bound)
        if key not in cache:  # the inputs kept alive with the result, so that their ids stay unique
            inputs = tuple(value for _, value in bound)
            cache[key] = (_read_only(fn(*args, **kwargs), inputs), inputs)
        return cache[key][0]

    return wrapper  # type: ignore[return-value]


def cached(fn: Fn) -> Fn:
    """Memoise ``fn(*args, **kwargs)`` while :func:`shared_inputs` is active, by the identity of its array
    arguments and the value of its plain ones (numbers, strings), bound to its parameters (defaults
    applied: ``f(x)`` and ``f(x, default)`` are one entry): a conversion of the caller's (live,
    unmodified) input arrays, shared by the whole block. Outside a block it is ``fn`` itself: a metric
    called alone caches nothing. A source's own quantities are :func:`source_cached` instead.

    Results are made read-only so that no metric can alter what another one reads.

    Example:
        >>> calls = []
        >>> @cached
        ... def doubled(x, times=2):
        ...     calls.append(1)
        ...     return x * times
        >>> x = np.arange(3)
        >>> with shared_inputs():
        ...     same = doubled(x) is doubled(x, 2) is doubled(x, times=2)
        >>> same, len(calls), doubled(x).tolist(), len(calls)  # outside the block: computed again
        (True, 1, [0, 2, 4], 2)
    """
    return _memoised(fn, _CACHE)


def source_cached(fn: Fn) -> Fn:
    """Memoise ``fn`` as :func:`cached` does, for a quantity of a source alone (its edges, window
    statistics, levels): kept for one metrics call (:func:`one_call`), or for a whole
    ``shared_inputs(sources=True)`` block, whose sources stay as they are; computed afresh elsewhere (a
    metric called alone, or inside a plain block but outside a call), so that a source buffer refilled in
    place between calls is never scored by its earlier values.

    Example:
        >>> calls = []
        >>> @source_cached
        ... def edges(x):
        ...     calls.append(1)
        ...     return x + 1
        >>> x = np.arange(3)
        >>> with shared_inputs():  # a plain block: once per call
        ...     with one_call():
        ...         _ = edges(x), edges(x)
        ...     with one_call():
        ...         _ = edges(x)
        >>> len(calls)
        2
        >>> with shared_inputs(sources=True):  # the sources stay as they are: once for every call
        ...     for _ in range(3):
        ...         with one_call():
        ...             _ = edges(x)
        >>> len(calls)
        3
    """
    return _memoised(fn, _SOURCES)


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

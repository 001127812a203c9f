"""Classical image-fusion baselines, the benchmark's anchors (docs/benchmarks.md lists them).

Each is a pure function ``fuse(a, b) -> fused`` on two registered images of one layout (HxW or
HxWx3; uint8, uint16 or float in [0, 1]), returning the same shape in the inputs' type, as the Fuser
does (:mod:`defusion.baselines._common` keeps that contract). ``BASELINES`` maps every name to its
function, those that need the ``enfuse`` program too: :func:`is_available` and
:func:`available_baselines` say which can run here; an unavailable one raises
:class:`BaselineRunError` (a ``RuntimeError``), an unknown name :class:`UnknownBaselineError` (a ``KeyError``).

Example:
    >>> import numpy as np
    >>> from defusion.baselines import BASELINES, available_baselines
    >>> "gff" in available_baselines()
    True
    >>> x = np.zeros((8, 8), np.float32)
    >>> BASELINES["average"](x, x).shape
    (8, 8)
    >>> dark, bright = np.zeros((8, 8), np.uint8), np.full((8, 8), 255, np.uint8)
    >>> fused = BASELINES["average"](dark, bright)
    >>> fused.dtype, int(fused[0, 0])
    (dtype('uint8'), 128)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from defusion.baselines._common import BaselineError, BaselineRunError, BaselineTypeError, UnknownBaselineError
from defusion.baselines.dwt import fuse_dwt
from defusion.baselines.enfuse import enfuse_available, fuse_enfuse, fuse_enfuse_focus
from defusion.baselines.gff import fuse_gff
from defusion.baselines.laplacian import fuse_laplacian
from defusion.baselines.mertens import fuse_mertens
from defusion.baselines.simple import fuse_average, fuse_max

BaselineFn = Callable[[np.ndarray, np.ndarray], np.ndarray]

#: Every baseline by name (in a stable, documented order).
BASELINES: dict[str, BaselineFn] = {
    "average": fuse_average,
    "max": fuse_max,
    "laplacian": fuse_laplacian,
    "dwt": fuse_dwt,
    "gff": fuse_gff,
    "mertens": fuse_mertens,
    "enfuse": fuse_enfuse,
    "enfuse_focus": fuse_enfuse_focus,
}

#: Availability checks for baselines that depend on something outside Python.
_REQUIREMENTS: dict[str, Callable[[], bool]] = {
    "enfuse": enfuse_available,
    "enfuse_focus": enfuse_available,
}


def is_available(name: str) -> bool:
    """Whether baseline ``name`` can run on this machine (:class:`UnknownBaselineError`, a ``KeyError``,
    if unknown).

    Example:
        >>> try:
        ...     is_available("gf")
        ... except KeyError as exc:  # said as it is, unquoted
        ...     print(str(exc).split(";")[0])
        unknown baseline 'gf'
    """
    if name not in BASELINES:
        raise UnknownBaselineError(f"unknown baseline {name!r}; known: {', '.join(BASELINES)}")
    check = _REQUIREMENTS.get(name)
    return check is None or check()


def available_baselines() -> list[str]:
    """Names of the baselines that can run here, in ``BASELINES`` order.

    Example:
        >>> available_baselines()[:3]  # enfuse's two only where its program is installed
        ['average', 'max', 'laplacian']
    """
    return [name for name in BASELINES if is_available(name)]


def get_baseline(name: str) -> BaselineFn:
    """The baseline called ``name``; :class:`UnknownBaselineError` (a ``KeyError``) if unknown,
    :class:`BaselineRunError` (a ``RuntimeError``) if unavailable.

    Example:
        >>> import numpy as np
        >>> get_baseline("average")(np.zeros((2, 2), np.uint8), np.full((2, 2), 200, np.uint8)).tolist()
        [[100, 100], [100, 100]]
        >>> get_baseline("avg")
        Traceback (most recent call last):
        ...
        defusion.baselines._common.UnknownBaselineError: unknown baseline 'avg'; known: average, max, ...
    """
    if not is_available(name):
        raise BaselineRunError(f"baseline {name!r} is not available here (the program it runs is not on PATH)")
    return BASELINES[name]


__all__ = [
    "BASELINES",
    "BaselineError",
    "BaselineFn",
    "BaselineRunError",
    "BaselineTypeError",
    "UnknownBaselineError",
    "available_baselines",
    "fuse_average",
    "fuse_dwt",
    "fuse_enfuse",
    "fuse_enfuse_focus",
    "fuse_gff",
    "fuse_laplacian",
    "fuse_max",
    "fuse_mertens",
    "get_baseline",
    "is_available",
]

"""Pixel-statistics metrics: SD, PSNR, RMSE (VIFB and standard forms), CC and SCD.

SD/PSNR/RMSE follow VIFB's MATLAB code (``metricsVariance.m``, ``metricsPsnr.m``,
``metricsRmse.m``); note VIFB's non-standard "mse" (below). The textbook forms are offered as
``PSNR-standard`` and ``RMSE-standard``. All are per colour channel of the fused image, averaged.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from defusion.metrics._cache import source_cached
from defusion.metrics._channels import collapse_repeated_planes, planes, triplet
from defusion.metrics._matlab import Float

__all__ = [
    "standard_deviation",
    "psnr",
    "rmse",
    "psnr_standard",
    "rmse_standard",
    "correlation_coefficient",
    "scd",
]

PEAK = 255.0


def standard_deviation(fused: ArrayLike, a: ArrayLike | None = None, b: ArrayLike | None = None) -> float:
    """SD: population standard deviation of the fused image (contrast); sources unused.

    VIFB files this under the name "Variance" but returns the standard deviation (divisor N).
    RGB: mean over channels.

    >>> import numpy as np
    >>> standard_deviation(np.array([[0, 0], [255, 255]], np.uint8))
    127.5
    """
    return float(planes(fused).std(axis=(-2, -1)).mean())


def _vifb_mse(s: Float, f: Float) -> np.ndarray:
    """VIFB's "mse" per plane: ``sqrt(sum((s - f)^2)) / (H * W)`` (not a mean squared error)."""
    h, w = f.shape[-2:]
    return np.sqrt(((s - f) ** 2).sum(axis=(-2, -1))) / (h * w)


def psnr(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> float:
    """PSNR (VIFB): ``20 log10(255 / sqrt(m))``, m = mean over A, B of VIFB's "mse" (dB).

    VIFB's "mse" is ``sqrt(sum of squared differences) / (H*W)``, which is why its PSNR values
    sit around 53..62 dB. Use ``PSNR-standard`` for the textbook value. Symmetric in A and B.

    >>> import numpy as np
    >>> x = np.zeros((10, 10)); y = np.full((10, 10), 10.0)
    >>> round(psnr(x, y, y), 4)  # VIFB 'mse' = sqrt(100 * 10^2) / 100 = 1
    48.1308
    """
    F, A, B = triplet(fused, a, b)
    m = (_vifb_mse(A, F) + _vifb_mse(B, F)) / 2.0
    with np.errstate(divide="ignore"):
        return float((20.0 * np.log10(PEAK / np.sqrt(m))).mean())


def rmse(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> float:
    """RMSE (VIFB): mean over A, B of VIFB's "mse" ``sqrt(sum((S - F)^2)) / (H*W)``; lower is better.

    Despite the name this is neither a root *mean* square error nor scale-free in the image
    size (VIFB's values are below 0.3). Use ``RMSE-standard`` for the textbook value.

    >>> import numpy as np
    >>> x = np.zeros((10, 10)); y = np.full((10, 10), 10.0)
    >>> rmse(x, y, y)
    1.0
    """
    F, A, B = triplet(fused, a, b)
    return float(((_vifb_mse(A, F) + _vifb_mse(B, F)) / 2.0).mean())


def _mse(s: Float, f: Float) -> np.ndarray:
    return ((s - f) ** 2).mean(axis=(-2, -1))


def psnr_standard(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> float:
    """PSNR-standard: ``10 log10(255^2 / MSE)`` with MSE = mean of MSE(A, F) and MSE(B, F) (dB).

    The usual definition (e.g. in Python fusion evaluators); per channel, averaged.

    >>> import numpy as np
    >>> x = np.zeros((10, 10)); y = np.full((10, 10), 10.0)
    >>> round(psnr_standard(x, y, y), 4)
    28.1308
    """
    F, A, B = triplet(fused, a, b)
    m = (_mse(A, F) + _mse(B, F)) / 2.0
    with np.errstate(divide="ignore"):
        return float((10.0 * np.log10(PEAK**2 / m)).mean())


def rmse_standard(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> float:
    """RMSE-standard: mean of the root mean squared errors RMSE(A, F) and RMSE(B, F).

    >>> import numpy as np
    >>> x = np.zeros((10, 10)); y = np.full((10, 10), 10.0)
    >>> rmse_standard(x, y, y)
    10.0
    """
    F, A, B = triplet(fused, a, b)
    return float(((np.sqrt(_mse(A, F)) + np.sqrt(_mse(B, F))) / 2.0).mean())


def _centred(x: Float) -> tuple[Float, Float]:
    """A stack less each plane's mean, and each plane's sum of squares of that: :func:`_corr`'s pieces."""
    xc = x - x.mean(axis=(-2, -1), keepdims=True)
    return xc, (xc * xc).sum(axis=(-2, -1))


@source_cached
def _source_centred(S: Float) -> tuple[Float, Float]:
    """:func:`_centred` of a source stack (a repeated plane once: broadcasting restores the channels):
    the same whatever fused image it is compared with, so computed once per source in a call
    (or ``shared_inputs(sources=True)``) block."""
    return _centred(collapse_repeated_planes(S))


def _corr(x: Float, y: Float, y_centred: tuple[Float, Float] | None = None) -> np.ndarray:
    """Pearson correlation per plane (MATLAB ``corr2``); ``y_centred``: :func:`_centred` of ``y``, where known."""
    xc, xx = _centred(x)
    yc, yy = y_centred if y_centred is not None else _centred(y)
    num = (xc * yc).sum(axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return num / np.sqrt(xx * yy)


def correlation_coefficient(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> float:
    """CC: mean of the Pearson correlations ``r(A, F)`` and ``r(B, F)``.

    The textbook form (Ma et al. 2019 survey). Note: a widely copied MATLAB ``CC_evaluation.m``
    subtracts mean(A) from B in ``r(B, F)``; this implementation does not copy that typo.
    RGB: mean over channels.

    >>> import numpy as np
    >>> x = np.arange(16.0).reshape(4, 4)
    >>> correlation_coefficient(x, x, 2 * x + 1)
    1.0
    """
    F, A, B = triplet(fused, a, b)
    return float(((_corr(F, A, _source_centred(A)) + _corr(F, B, _source_centred(B))) / 2.0).mean())


def scd(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> float:
    """SCD: sum of the correlations of differences, ``r(F - B, A) + r(F - A, B)`` (Aslantas 2015).

    Why: F - B should carry what A contributes (and vice versa). In [-2, 2], higher is better.
    RGB: mean over channels.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a = rng.random((32, 32)) * 127; b = rng.random((32, 32)) * 127
    >>> round(scd(a + b, a, b), 6)
    2.0
    """
    F, A, B = triplet(fused, a, b)
    return float((_corr(F - B, A, _source_centred(A)) + _corr(F - A, B, _source_centred(B))).mean())

"""MATLAB's rounding, ``rgb2gray`` and 256-level histograms, as the benchmarks' MATLAB code computes
them (numpy rounds half to even and has no ``rgb2gray``)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: A float64 array: what every metric computes in.
Float = NDArray[np.float64]

#: MATLAB ``rgb2gray`` weights (from the inverse of the NTSC YIQ transform).
RGB2GRAY = (0.298936021293775, 0.587043074451121, 0.114020904255103)
#: Grey levels of an 8-bit image: the bins of :func:`hist256`.
GREY_LEVELS = 256


def matlab_round(x: ArrayLike) -> Float:
    """Round half away from zero, as MATLAB's ``round`` (numpy rounds half to even).

    Example:
        >>> matlab_round([0.5, 1.5, 2.5, -0.5]).tolist()
        [1.0, 2.0, 3.0, -1.0]
    """
    x = np.asarray(x, dtype=np.float64)
    r = np.floor(np.abs(x) + 0.5)
    return np.copysign(r, x, out=r)


def rgb2gray(img: NDArray) -> Float:
    """MATLAB ``rgb2gray``: luma with the weights above, rounded when the input holds 8-bit levels: an
    integer image (MATLAB's rule for the uint8 images VIFB reads), or a float copy of one (whole levels
    after :func:`~defusion.metrics._inputs.as_image`'s scaling and
    :func:`~defusion.metrics._scale.snap_levels`), so that such a copy scores as its image.

    Example:
        >>> rgb = np.array([[[200, 10, 30]]], np.uint8)
        >>> rgb2gray(rgb).item(), rgb2gray(rgb.astype(np.float64)).item(), round(rgb2gray(rgb + 0.25).item(), 3)
        (69.0, 69.0, 69.328)
    """
    grey = unrounded_gray(img)
    if np.issubdtype(img.dtype, np.integer) or np.array_equal(img, np.round(img)):
        grey = matlab_round(grey)
    return grey


def unrounded_gray(img: NDArray) -> Float:
    """MATLAB ``rgb2gray(double(img))``: the luma, never rounded (what ``metricsQp.m`` and VIFB's
    ``metricsQabf.m`` compute).

    Example:
        >>> round(unrounded_gray(np.array([[[200, 10, 30]]], np.uint8)).item(), 3)
        69.078
    """
    return np.tensordot(img.astype(np.float64), np.asarray(RGB2GRAY), axes=([2], [0]))


def hist256(x: Float) -> NDArray[np.int64]:
    """Histograms of 256 grey levels (values floored and clipped to 0..255), one per leading index.

    Example:
        >>> hist256(np.array([[[0.0, 0.7, 255.0, 300.0]]]))[0, [0, 255]].tolist()
        [2, 2]
    """
    idx = np.clip(np.floor(x), 0, GREY_LEVELS - 1).astype(np.int64).reshape(x.shape[0], -1)
    offs = (np.arange(x.shape[0]) * GREY_LEVELS)[:, None]
    return np.bincount((idx + offs).ravel(), minlength=GREY_LEVELS * x.shape[0]).reshape(x.shape[0], GREY_LEVELS)

"""The 0..255 scale the metrics are defined on, as VIFB's MATLAB code (0..255 doubles): which scale a
float image is on, 16-bit images rounded to the 8-bit image they stand for, and float copies of
8-bit images snapped back to whole levels (see ``docs/metrics.md``). The float scales
(:mod:`defusion.io.float_scales`) and the 16-to-8-bit rounding (:mod:`defusion.io.eight_bits`) are io's,
exported here too."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from defusion.io.arrays import MAX_8BIT
# the float scales and the 16-to-8-bit rounding are io's (the file readers and display use them too),
# still importable from here
from defusion.io.eight_bits import LEVEL_16BIT, uint16_to_uint8
from defusion.io.float_scales import FLOAT_SLACK, LEVEL_SLACK, float_range_problem, float_scale
from defusion.metrics._matlab import Float

#: One 8-bit grey level in 16-bit units (65535 / 255): a uint16 value x stands for level x / 257.
UINT16_PER_LEVEL = LEVEL_16BIT

#: Slack on :func:`snap_levels`' half-ulp test: the float64 product x * 255 adds its own rounding.
_SNAP_SLACK = 1e-9


def eight_bit_levels(image: NDArray) -> NDArray[np.uint8]:
    """A ``uint16`` image (or array-like) as the 8-bit image it stands for: x / 257 rounded to the
    nearest level, by :func:`defusion.io.eight_bits.uint16_to_uint8` (exact integer arithmetic; no
    x / 257 lies half-way between two levels). The one conversion
    of 16-bit data to the 0..255 scale: :func:`~defusion.metrics._inputs.as_image` applies it to
    arrays, ``defusion metrics`` and ``defusion bench`` to 16-bit files
    (:func:`defusion.benchmark.runner.read_scored`), so a 16-bit image scores exactly as its 8-bit
    rounding everywhere.

    Example:
        >>> eight_bit_levels(np.array([0, 128, 129, 257, 65535], np.uint16)).tolist()
        [0, 0, 1, 1, 255]
    """
    return uint16_to_uint8(np.asarray(image))  # an array-like (a list, a tensor) as its array


def snap_levels(levels: Float, eps: float) -> Float:
    """``levels`` (a [0, 1] float image scaled to 0..255, in float64) set to whole grey levels, in
    place, where it is a low-precision copy of an 8-bit image: every value lies within half a unit in
    the last place of its input dtype (machine epsilon ``eps``) of a level, which is how k / 255 is
    stored. Such a copy would otherwise floor levels a bin low in the histogram metrics (131 of 256
    for float16) and break Qabf's exact ``g_S == g_F`` test. An image with any value further from a
    level (real in-between values: a blend, a network's output) is left exactly as it is.

    Example:
        >>> k = np.arange(256.0)
        >>> x = (k / 255).astype(np.float16).astype(np.float64) * 255
        >>> int((np.floor(x) != k).sum()), int((snap_levels(x, 2.0**-10) != k).sum())
        (131, 0)
        >>> y = ((k + 0.2) / 255).astype(np.float16).astype(np.float64) * 255  # between levels
        >>> bool(np.array_equal(snap_levels(y.copy(), 2.0**-10), y))
        True
    """
    whole = np.round(levels)
    values = np.maximum(np.abs(levels) / MAX_8BIT, np.finfo(np.float64).tiny)
    half_ulp = MAX_8BIT * eps * np.exp2(np.floor(np.log2(values))) / 2  # of the input dtype, at each value
    if np.all(np.abs(levels - whole) <= half_ulp + _SNAP_SLACK):
        np.copyto(levels, whole)
    return levels


__all__ = ["FLOAT_SLACK", "LEVEL_SLACK", "UINT16_PER_LEVEL", "eight_bit_levels", "float_range_problem", "float_scale",
           "snap_levels"]

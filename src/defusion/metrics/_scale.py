"""The 0..255 scale the metrics are defined on, as VIFB's MATLAB code (0..255 doubles): which scale a
float image is on, 16-bit images rounded to the 8-bit image they stand for, and float copies of
8-bit images snapped back to whole levels (see ``docs/metrics.md``)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from defusion.io.arrays import MAX_8BIT
from defusion.metrics._matlab import Float

#: How far a float image may stray outside [0, 1] (an unclamped network output) and still be read
#: as a [0, 1] image (clipped): on the 0..255 scale such an image would be black.
FLOAT_SLACK = 0.5
#: How far (in grey levels) a float image on 0..255 may stray outside it and still be taken as
#: it is: half a grey level, i.e. values that round into 0..255. Anything further is on another
#: scale, or needs clipping by the caller.
LEVEL_SLACK = 0.5
#: One 8-bit grey level in 16-bit units (65535 / 255): a uint16 value x stands for level x / 257.
UINT16_PER_LEVEL = 257

#: Slack on :func:`snap_levels`' half-ulp test: the float64 product x * 255 adds its own rounding.
_SNAP_SLACK = 1e-9


def eight_bit_levels(image: NDArray) -> NDArray[np.uint8]:
    """A ``uint16`` image as the 8-bit image it stands for: x / 257 rounded to the nearest level
    (in exact integer arithmetic; no x / 257 lies half-way between two levels). The one conversion
    of 16-bit data to the 0..255 scale: :func:`~defusion.metrics._inputs.as_image` applies it to
    arrays, ``defusion metrics`` and ``defusion bench`` to 16-bit files
    (:func:`defusion.benchmark.runner.read_scored`), so a 16-bit image scores exactly as its 8-bit
    rounding everywhere.

    Example:
        >>> eight_bit_levels(np.array([0, 128, 129, 257, 65535], np.uint16)).tolist()
        [0, 0, 1, 1, 255]
    """
    wide = np.asarray(image).astype(np.uint32)
    return ((wide + UINT16_PER_LEVEL // 2) // UINT16_PER_LEVEL).astype(np.uint8)


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


def float_scale(lo: float, hi: float) -> float | None:
    """What float values from ``lo`` to ``hi`` are multiplied by to be on the 0..255 scale: 255
    where they lie in [0, 1] (give or take ``FLOAT_SLACK``: then clipped to it), 1 where they lie on
    0..255 (give or take ``LEVEL_SLACK``); None for any other range, which no one reading suits.
    The rule :func:`~defusion.metrics._inputs.as_image` applies, and
    :func:`defusion.io.images.read_image` for files read to be scored, so that a float file scores
    as its array does.

    Example:
        >>> float_scale(0.0, 1.0), float_scale(60.0, 187.0), float_scale(-5.0, 40.0)
        (255.0, 1.0, None)
    """
    if lo >= -FLOAT_SLACK and hi <= 1 + FLOAT_SLACK:
        return float(MAX_8BIT)
    if lo >= -LEVEL_SLACK and hi <= MAX_8BIT + LEVEL_SLACK:
        return 1.0
    return None


def float_range_problem(lo: float, hi: float) -> str:
    """Why float values from ``lo`` to ``hi`` (:func:`float_scale` None) cannot be scored, for an error line.

    Example:
        >>> float_range_problem(-5.0, 40.0).split(";")[0]
        'float values span -5..40, neither 0..1 nor 0..255 (the two float scales the metrics take)'
    """
    return (f"float values span {lo:.6g}..{hi:.6g}, neither 0..1 nor 0..255 (the two float scales the metrics "
            "take); rescale or clip the image to one of them")

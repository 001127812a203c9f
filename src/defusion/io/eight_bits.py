"""Pixels in 8 bits by one rounding rule, for what takes only 8 bits: JPEG, BMP and WebP files, video
frames, and display. uint16 ``x`` becomes level ``x / 257`` and a float ``v`` in [0, 1] level ``v * 255``,
each rounded to the nearest level (65535 and 1.0 -> 255).

NumPy only: :func:`~defusion.io.writing.write_image`, the video sinks and fusion's
:func:`~defusion.fusion.color.to_uint8` (which first refuses floats outside [0, 1]) all use it.
"""

from __future__ import annotations

import numpy as np

from defusion.io.arrays import MAX_8BIT, MAX_16BIT, is_uint16
from defusion.io.errors import PixelTypeError

#: One 8-bit level in 16-bit units (65535 / 255): uint16 ``x`` stands for level ``x / 257``.
LEVEL_16BIT = MAX_16BIT // MAX_8BIT


def uint16_to_uint8(image: np.ndarray) -> np.ndarray:
    """uint16 pixels (either byte order) as uint8: ``x / 257`` rounded, in exact integer arithmetic
    (no ``x / 257`` lies half-way between two levels).

    Example:
        >>> uint16_to_uint8(np.array([0, 128, 129, 257, 65535], np.uint16)).tolist()
        [0, 0, 1, 1, 255]
    """
    wide = image.astype(np.uint32)
    return ((wide + LEVEL_16BIT // 2) // LEVEL_16BIT).astype(np.uint8)


def float_to_uint8(image: np.ndarray) -> np.ndarray:
    """Float pixels in [0, 1] as uint8: clipped to [0, 1], then ``v * 255`` rounded half up (in the
    float's own precision: float32 stays float32).

    Example:
        >>> float_to_uint8(np.array([-0.1, 0.5, 0.998, 1.2], np.float32)).tolist()
        [0, 128, 254, 255]
    """
    return (np.clip(image, 0.0, 1.0) * float(MAX_8BIT) + 0.5).astype(np.uint8)


def as_uint8(image: np.ndarray) -> np.ndarray:
    """uint8 pixels as they are (the same array), uint16 and floats in [0, 1] by :func:`uint16_to_uint8`
    and :func:`float_to_uint8`. Other types raise TypeError. Checks nothing else: callers given a
    user's array check it first (:func:`defusion.fusion.color.to_uint8` refuses NaN and floats outside
    [0, 1]).

    Example:
        >>> as_uint8(np.array([0, 257, 65535], ">u2")).tolist(), as_uint8(np.array([0.0, 1.0])).tolist()
        ([0, 1, 255], [0, 255])
    """
    if image.dtype == np.uint8:
        return image
    if is_uint16(image):
        return uint16_to_uint8(image)
    if image.dtype.kind == "f":
        return float_to_uint8(image)
    raise PixelTypeError(f"pixels must be uint8, uint16 or float in [0, 1]; got {image.dtype}")


__all__ = ["LEVEL_16BIT", "as_uint8", "float_to_uint8", "uint16_to_uint8"]

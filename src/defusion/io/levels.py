"""Decoded pixels of any numeric type as the levels :func:`~defusion.io.images.read_image` gives: uint8 or
uint16 (float pixels as their reading says, :mod:`defusion.io.float_pixels`); integers beyond 16 bits
scaled onto them, with a warning; and the alpha value that is opaque."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from defusion.io.arrays import MAX_8BIT, MAX_16BIT
from defusion.io.errors import ImageReadError
from defusion.io.float_pixels import FloatReading, float_levels
from defusion.io.front_end import reading_words
from defusion.io.notes import warn

#: Bits of a 16-bit integer pixel: those are 16-bit data whatever their values (:func:`integer_levels`).
_SIXTEEN = 16


def levels(path: Path, values: np.ndarray, floats: FloatReading = "stretch") -> np.ndarray:
    """Pixels of any numeric type as uint8 or uint16, by :func:`~defusion.io.images.read_image`'s rules.

    Example:
        >>> levels(Path("a.tif"), np.array([[0, 255]], np.int32)).dtype.name  # 8-bit values in 32 bits
        'uint8'
    """
    if values.dtype in (np.uint8, np.uint16):
        return values
    if values.dtype.kind == "f":
        return float_levels(path, values.astype(np.float32), floats)
    if values.dtype.kind in "iu":
        return integer_levels(path, values, values.dtype.itemsize * 8)
    raise ImageReadError(f"pixels of type {values.dtype}")


def integer_levels(path: Path, values: np.ndarray, stored_bits: int) -> np.ndarray:
    """Integer pixels as uint8/uint16: 8-bit data if not stored in 16 bits and none is over 255 (an
    8-bit image saved as 32-bit integers would be near black as 16-bit), 16-bit if all fit 0..65535;
    else scaled to 16 bits by the maximum (0 stays black), or by the range where some are negative,
    with a warning: clipped, a 32-bit frame's values over 65535 would all be white.

    Example:
        >>> integer_levels(Path("a.tif"), np.array([[0, 255]], np.int32), 16).dtype.name  # 16 bits: 16-bit data
        'uint16'
    """
    lo, hi = int(values.min()), int(values.max())
    if lo < 0 or hi > MAX_16BIT:
        base = min(lo, 0)
        span = hi - base
        scaled = (values.astype(np.float64) - base) * (MAX_16BIT / span) if span else np.zeros(values.shape)
        how = "range" if lo < 0 else "maximum"
        warn(f"{path} holds integer values {lo} to {hi}, beyond 16 bits' 0-{MAX_16BIT}: scaled to 16 bits by its "
             f"{how} (save it as 16-bit to {reading_words().verb} its own levels)")
        return np.round(scaled).astype(np.uint16)
    if stored_bits != _SIXTEEN and hi <= MAX_8BIT:
        return values.astype(np.uint8)
    return values.astype(np.uint16)


def opaque_alpha(dtype: np.dtype) -> float:
    """The alpha value of an opaque pixel, and so the value of white, in pixels of ``dtype``: the
    integer type's maximum, 1 for floats.

    Example:
        >>> opaque_alpha(np.dtype(np.uint16)), opaque_alpha(np.dtype(np.float32))
        (65535.0, 1.0)
    """
    return float(np.iinfo(dtype).max) if np.issubdtype(dtype, np.integer) else 1.0


__all__ = ["integer_levels", "levels", "opaque_alpha"]

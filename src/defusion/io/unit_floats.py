"""Float pixels in [0, 1], as fusion takes them (:func:`~defusion.fusion.color.to_float`) and
:func:`~defusion.io.writing.write_image` writes them: how far outside [0, 1] rounding may stray, the
one line that refuses other floats and other pixel types, and their one rounding to 16 bits (to 8
bits: :func:`defusion.io.eight_bits.float_to_uint8`).

Here in io, below fusion: :func:`~defusion.io.display.in_eight_bits` takes pixels as fusion does.
"""

from __future__ import annotations

import numpy as np

from defusion.io.arrays import MAX_16BIT

#: How far outside [0, 1] a float input may stray (rounding of a conversion) before it is refused.
FLOAT_RANGE_TOLERANCE = 1e-3


def unit_float_problem(image: np.ndarray) -> str | None:
    """Why float pixels ``image`` are not an image in [0, 1], for an error line: values that are not
    finite, or outside [0, 1] by more than :data:`FLOAT_RANGE_TOLERANCE`; None where they are one.

    Example:
        >>> unit_float_problem(np.array([0.0, 1.0005])) is None
        True
        >>> unit_float_problem(np.array([0.0, 255.0])).split(";")[0]
        'float images must be in [0, 1], got values from 0 to 255'
    """
    if not np.isfinite(image).all():
        return "float images must be finite: this one holds NaN or infinite values"
    lo, hi = (image.min(), image.max()) if image.size else (0.0, 0.0)
    if hi > 1.0 + FLOAT_RANGE_TOLERANCE or lo < -FLOAT_RANGE_TOLERANCE:
        return (f"float images must be in [0, 1], got values from {lo:.4g} to {hi:.4g}; "
                "divide 8-bit data by 255 (or pass the uint8 array itself)")
    return None


def pixel_type_problem(dtype: np.dtype) -> str:
    """The line refusing pixels of ``dtype``, a type other than uint8, uint16 or float.

    Example:
        >>> pixel_type_problem(np.dtype(np.int64))
        'images must be uint8, uint16 or float in [0, 1]; got int64'
    """
    return f"images must be uint8, uint16 or float in [0, 1]; got {dtype}"


def unit_float_to_uint16(image: np.ndarray) -> np.ndarray:
    """Float pixels in [0, 1] as uint16: clipped to [0, 1], then ``v * 65535`` rounded half up (in the
    float's own precision), as :func:`~defusion.io.eight_bits.float_to_uint8` makes 8 bits. (Reading a
    float file, :func:`~defusion.io.float_pixels.float_to_uint16`, also stretches other ranges.)

    Example:
        >>> unit_float_to_uint16(np.array([-0.1, 0.5, 1.2], np.float32)).tolist()
        [0, 32768, 65535]
    """
    return (np.clip(image, 0.0, 1.0) * float(MAX_16BIT) + 0.5).astype(np.uint16)


__all__ = ["FLOAT_RANGE_TOLERANCE", "pixel_type_problem", "unit_float_problem", "unit_float_to_uint16"]

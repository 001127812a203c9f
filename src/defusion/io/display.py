"""Pixels in 8 bits to be shown: the one rule by which ``defusion bench``'s comparison grids and
``defusion fuse --compare``'s contact sheets (:mod:`defusion.io.sheets`) show 16-bit and float images.

Here, below both, so that drawing a sheet does not reach up into :mod:`defusion.benchmark`, which
imports these names from here (:mod:`defusion.benchmark.scored_images` still exports them). It
follows io's rules alone: the float scales the metrics read (:mod:`defusion.io.float_scales`), the one
rounding to 8 bits (:mod:`defusion.io.eight_bits`) and [0, 1] floats as fusion takes them
(:mod:`defusion.io.unit_floats`).
"""

from __future__ import annotations

import numpy as np

from defusion.io.arrays import MAX_8BIT, is_uint16
from defusion.io.eight_bits import as_uint8
from defusion.io.errors import PixelTypeError, PixelValueError
from defusion.io.float_scales import float_scale
from defusion.io.unit_floats import pixel_type_problem, unit_float_problem


def viewable(scored: np.ndarray) -> np.ndarray:
    """An image as :func:`~defusion.benchmark.scored_images.read_scored` gives it, as uint8 to be shown
    (a comparison grid): float values by the scale the metrics read them on
    (:func:`~defusion.io.float_scales.float_scale`).

    Example:
        >>> viewable(np.array([[0.0, 0.5, 1.0]], np.float32)).tolist()  # [0, 1]
        [[0, 128, 255]]
        >>> viewable(np.array([[0.0, 60.4, 255.0]])).tolist()  # 0..255
        [[0, 60, 255]]
    """
    if scored.dtype.kind != "f":
        return in_eight_bits(scored)
    scale = float_scale(float(scored.min()), float(scored.max())) or 1.0
    return np.round(np.clip(scored.astype(np.float64) * scale, 0, MAX_8BIT)).astype(np.uint8)


def in_eight_bits(image: np.ndarray) -> np.ndarray:
    """A uint8, uint16 or [0, 1] float image (a decoded file, a method's output) in 8 bits: uint16
    (either byte order) as the metrics score a uint16 array, by the one rounding of 16 bits to 8 they
    all use; floats as fusion's :func:`~defusion.fusion.color.to_uint8` takes them (as float32, each
    refused as it refuses them: PixelValueError); other types refused (PixelTypeError: an int64 0..255
    result is not read as 16-bit data, near black).

    Example:
        >>> in_eight_bits(np.array([0, 128, 129, 65535], np.uint16)).tolist()
        [0, 0, 1, 255]
        >>> in_eight_bits(np.array([0.0, 0.5, 1.0005])).tolist()
        [0, 128, 255]
    """
    if image.dtype == np.uint8 or is_uint16(image):
        return as_uint8(image)
    if not np.issubdtype(image.dtype, np.floating):
        raise PixelTypeError(pixel_type_problem(image.dtype))
    problem = unit_float_problem(image)
    if problem is not None:
        raise PixelValueError(problem)
    return as_uint8(np.clip(image, 0.0, 1.0).astype(np.float32))


__all__ = ["in_eight_bits", "viewable"]

"""Pixels in 8 bits to be shown: the one rule by which ``defusion bench``'s comparison grids and
``defusion fuse --compare``'s contact sheets (:mod:`defusion.io.sheets`) show 16-bit and float images.

Here, below both, so that drawing a sheet does not reach up into :mod:`defusion.benchmark`, which
imports these names from here (:mod:`defusion.benchmark.scored_images` still exports them).
"""

from __future__ import annotations

import numpy as np

from defusion.io.arrays import MAX_8BIT, is_uint16


def viewable(scored: np.ndarray) -> np.ndarray:
    """An image as :func:`~defusion.benchmark.scored_images.read_scored` gives it, as uint8 to be shown
    (a comparison grid): float values by the scale the metrics read them on
    (:func:`~defusion.metrics._utils.float_scale`).

    Example:
        >>> viewable(np.array([[0.0, 0.5, 1.0]], np.float32)).tolist()  # [0, 1]
        [[0, 128, 255]]
        >>> viewable(np.array([[0.0, 60.4, 255.0]])).tolist()  # 0..255
        [[0, 60, 255]]
    """
    if scored.dtype.kind != "f":
        return in_eight_bits(scored)
    from defusion.metrics._utils import float_scale  # here: the metrics' float rule (tests/test_layering.py)

    scale = float_scale(float(scored.min()), float(scored.max())) or 1.0
    return np.round(np.clip(scored.astype(np.float64) * scale, 0, MAX_8BIT)).astype(np.uint8)


def in_eight_bits(image: np.ndarray) -> np.ndarray:
    """A uint8, uint16 or [0, 1] float image (a decoded file, a method's output) in 8 bits: uint16
    (either byte order) as the metrics score a uint16 array, by the one rounding of 16 bits to 8 they
    all use; anything else as :func:`~defusion.fusion.color.to_uint8` takes it, which refuses other
    types (TypeError: an int64 0..255 result is not read as 16-bit data, near black).

    Example:
        >>> in_eight_bits(np.array([0, 128, 129, 65535], np.uint16)).tolist()
        [0, 0, 1, 255]
    """
    # here: the metrics' 16-to-8-bit rounding and fusion's type rule (tests/test_layering.py)
    from defusion.fusion.color import to_uint8
    from defusion.metrics._utils import eight_bit_levels

    return eight_bit_levels(image) if is_uint16(image) else to_uint8(image)


__all__ = ["in_eight_bits", "viewable"]

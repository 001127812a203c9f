"""The standalone ONNX script judges grey as the core does: a dim 16-bit colour image stays colour
(the core's fix of 2026-12-07), a lossy codec's near-grey 8-bit frame is grey."""

from __future__ import annotations

import numpy as np

from defusion.fusion import color
from defusion.serving.fuse_with_onnx import FULL_16, grey_if_close


def _dim_colour() -> tuple[np.ndarray, np.ndarray]:
    """A dim linear 16-bit colour image (values up to 1000 of 65535), as [0, 1] floats."""
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 1000, (16, 24, 3)).astype(np.uint16)
    return counts, counts.astype(np.float32) / FULL_16


def test_dim_16_bit_colour_stays_colour_as_the_core_judges_it():
    counts, rgb = _dim_colour()
    assert not color.is_grey(counts)
    assert grey_if_close(rgb).shape == (16, 24, 3)


def test_a_lossy_near_grey_8_bit_frame_is_grey_whether_bright_or_dim():
    rng = np.random.default_rng(1)
    for top in (255, 60):
        base = rng.integers(0, top - 3, (16, 24, 1))
        levels = np.concatenate([base, base + 3, base + 1], axis=2).astype(np.float32)  # a 3-level codec spread
        assert grey_if_close(levels / 255.0).shape == (16, 24)

"""resize_to keeps an image within the values it holds: the resize the library's size error suggests
made a float image in [0, 1] overshoot to -0.16..1.21 (bicubic), which fusion then refused."""

from __future__ import annotations

import numpy as np
import pytest

from defusion.fusion.inputs import checked_images
from defusion.io.resize import resize_to, resize_to_first


def _edges(rng, height: int, width: int, channels: int = 0) -> np.ndarray:
    """Hard black and white blocks: the sharp edges bicubic enlarging overshoots at."""
    shape = (height, width, channels) if channels else (height, width)
    return (rng.random(shape) > 0.5).astype(np.float32)


@pytest.mark.parametrize("channels", [0, 3])
def test_an_enlarged_float_image_stays_in_0_to_1_and_fuses(rng, channels):
    small = _edges(rng, 20, 30, channels)
    up = resize_to(small, 45, 61)
    assert up.dtype == np.float32 and up.shape[:2] == (45, 61)
    assert float(up.min()) >= 0.0 and float(up.max()) <= 1.0
    assert 0.0 < float(up.mean()) < 1.0  # resampled, not flattened
    first = _edges(rng, 45, 61, channels)
    assert [im.shape for im in checked_images((first, up))] == [first.shape, up.shape]  # fusion takes it


def test_a_float_image_keeps_its_own_range_not_0_to_1(rng):
    small = 0.2 + 0.5 * _edges(rng, 16, 16).astype(np.float64)  # 0.2 and 0.7 only
    up = resize_to(small, 40, 40)
    assert up.dtype == np.float64 and float(up.min()) >= 0.2 and float(up.max()) <= 0.7
    shrunk = resize_to(small, 7, 9)  # area averaging: within already, and kept so
    assert float(shrunk.min()) >= 0.2 and float(shrunk.max()) <= 0.7
    small[0, 0] = np.nan  # no range to keep: resized as it is, for fusion to refuse naming the image
    assert np.isnan(resize_to(small, 40, 40)).any()


def test_every_pixel_type_stays_within_its_values(rng):
    """Floats clipped to their range here; OpenCV saturates integer pixels itself (checked, not assumed)."""
    for dtype, top in ((np.float32, 1.0), (np.uint8, 255), (np.uint16, 65535)):
        small = (_edges(rng, 12, 12) * top).astype(dtype)
        up = resize_to(small, 40, 40)
        assert up.dtype == dtype and up.min() == 0 and up.max() == top, dtype


def test_resize_to_first_brings_floats_within_range_too(rng):
    first, second = _edges(rng, 50, 70), _edges(rng, 20, 28)
    _, resized = resize_to_first([first, second])
    assert resized.shape == (50, 70) and 0.0 <= float(resized.min()) and float(resized.max()) <= 1.0

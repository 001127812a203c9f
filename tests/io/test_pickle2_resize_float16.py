"""resize_to and resize_to_first take float16, which Fuser.fuse takes and its size error sends Python users
to resize_to_first for: OpenCV's resize refuses it ("Unsupported depth of input image"), so it failed with
a raw OpenCV assertion."""

from __future__ import annotations

import numpy as np
import pytest

from defusion.fusion.inputs import checked_images
from defusion.io.resize import resize_to, resize_to_first


@pytest.mark.parametrize("channels", [0, 3])
@pytest.mark.parametrize("size", [(45, 61), (7, 9)], ids=["enlarged", "shrunk"])
def test_a_float16_image_resizes_within_its_range_as_float16(rng, channels, size):
    shape = (20, 30, channels) if channels else (20, 30)
    image = (0.1 + 0.8 * (rng.random(shape) > 0.5)).astype(np.float16)  # hard edges: bicubic overshoots
    out = resize_to(image, *size)
    assert out.dtype == np.float16 and out.shape == (*size, *image.shape[2:])
    assert float(out.min()) >= float(image.min()) and float(out.max()) <= float(image.max())
    assert float(image.min()) < float(out.mean()) < float(image.max())  # resampled, not flattened


def test_resize_to_first_brings_a_float16_image_to_fuse(rng):
    first = rng.random((40, 56)).astype(np.float16)
    second = rng.random((20, 28)).astype(np.float16)
    resized = resize_to_first([first, second])
    assert [im.shape for im in resized] == [(40, 56)] * 2 and resized[1].dtype == np.float16
    assert [im.shape for im in checked_images(tuple(resized))] == [(40, 56)] * 2  # fusion takes them

"""defusion.fusion.inputs: an array's alpha, dropped, is warned of as a file's is.

Audit: fuse(rgba_array, b) with alpha 0 or 128 gave the RGB result and no warning, while a file
with alpha warns ("a_rgba.png has transparent pixels (alpha); alpha is ignored ...").
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from defusion.errors import DefusionWarning
from defusion.fusion.inputs import checked_images


def _said(*images) -> list[str]:
    """The warnings checked_images gives ``images``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        checked_images(images)
    return [str(w.message) for w in caught if issubclass(w.category, DefusionWarning)]


@pytest.mark.parametrize("alpha", [0, 128, 254])
def test_an_rgba_array_with_transparent_pixels_is_warned_of(alpha):
    rgba = np.dstack([np.full((6, 8, 3), 90, np.uint8), np.full((6, 8), 255, np.uint8)])
    rgba[2, 3, 3] = alpha
    said = _said(np.zeros((6, 8), np.uint8), rgba)
    assert len(said) == 1 and said[0].startswith("image 2 has transparent pixels (alpha); alpha is ignored")
    assert "\n" not in said[0]


def test_grey_alpha_uint16_and_float_alpha_are_warned_of_too():
    grey_alpha = np.zeros((6, 8, 2), np.uint16)  # alpha 0 everywhere
    floats = np.full((6, 8, 4), 0.5, np.float32)
    said = _said(grey_alpha, floats)
    assert [s.split(" has")[0] for s in said] == ["image 1", "image 2"]


def test_an_opaque_alpha_says_nothing():
    opaque = [np.dstack([np.zeros((6, 8, 3), dtype), np.full((6, 8), full, dtype)])
              for dtype, full in ((np.uint8, 255), (np.uint16, 65535), (np.float32, 1.0), (np.float64, 1.0))]
    assert _said(*opaque, np.full((6, 8, 2), 255, np.uint8)) == []


def test_a_pillow_rgba_image_is_warned_of_once():
    from PIL import Image

    rgba = np.zeros((6, 8, 4), np.uint8)
    said = _said(Image.fromarray(rgba, "RGBA"), np.zeros((6, 8), np.uint8))
    assert len(said) == 1 and said[0].startswith("image 1 has transparent pixels")


def test_the_fuser_warns_and_fuses_the_colour(fuser):
    rng = np.random.default_rng(0)
    rgb = (rng.random((24, 32, 3)) * 255).astype(np.uint8)
    other = (rng.random((24, 32)) * 255).astype(np.uint8)
    with pytest.warns(DefusionWarning, match="image 1 has transparent pixels"):
        fused = fuser.fuse(np.dstack([rgb, np.full((24, 32), 128, np.uint8)]), other)
    np.testing.assert_array_equal(fused, fuser.fuse(rgb, other))


def test_an_opaque_alpha_of_8_bit_values_in_16_bits_says_nothing_of_transparency():
    """A review: a uint16 array of 8-bit values (alpha 255, opaque in its own terms) was said to have
    transparent pixels."""
    eight_in_sixteen = np.full((6, 8, 4), 255, np.uint16)
    assert not any("transparent" in s for s in _said(eight_in_sixteen, np.zeros((6, 8), np.uint16)))
    eight_in_sixteen[0, 0, 3] = 10
    assert any("transparent" in s for s in _said(eight_in_sixteen, np.zeros((6, 8), np.uint16)))

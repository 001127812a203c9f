"""The medical audit: a palette over a PET already in jet colours re-mapped its luminance, the hottest red cyan."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from defusion.errors import DefusionWarning
from defusion.fusion.color import PALETTE_OF_COLOUR, thermal_colours
from defusion.io.notes import collecting


def _jet_ramp() -> np.ndarray:
    import cv2

    ramp = np.tile(np.arange(256, dtype=np.uint8), (4, 1))
    return cv2.applyColorMap(ramp, cv2.COLORMAP_JET)[..., ::-1].astype(np.float32) / 255


def test_a_palette_over_a_colour_image_warns_that_its_colours_are_dropped(tiny_weights):
    from defusion import Fuser

    fuser = Fuser.from_pretrained(tiny_weights, device="cpu", runtime="torch", palette="jet", infrared=1, scale=1)
    mri = np.tile(np.linspace(0, 1, 256, dtype=np.float32), (4, 1))
    with pytest.warns(DefusionWarning, match="image 2: the image the palette colours is in colour, not grey"):
        fuser.fuse(mri, _jet_ramp())
    with collecting() as said:  # a server's request gathers it
        fuser.fuse(mri, _jet_ramp())
    assert said == [f"warning: image 2: {PALETTE_OF_COLOUR}"]


def test_a_palette_over_a_warped_grey_image_says_nothing(tiny_weights, rng):
    """A review: --align's resampling put a grey thermal frame stored as RGB off the 8-bit grid, and it
    was warned of as a colour image; the check is on the source as given."""
    from defusion import Fuser
    from tests.conftest import smooth_image

    vis = smooth_image(rng, 64, 80)
    ir = np.dstack([smooth_image(rng, 64, 80, 1)] * 3)  # grey, stored as RGB
    fuser = Fuser.from_pretrained(tiny_weights, device="cpu", runtime="torch", palette="inferno", align="translation",
                                  scale=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DefusionWarning)
        fuser.fuse(vis, np.roll(ir, 2, axis=1))


def test_a_palette_over_a_grey_image_says_nothing():
    grey = np.tile(np.linspace(0, 1, 64, dtype=np.float32), (4, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        thermal_colours(grey, "jet")
        thermal_colours(np.dstack([grey] * 3), "jet")  # grey in three channels

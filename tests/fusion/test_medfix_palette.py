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


def test_a_palette_over_a_colour_image_warns_that_its_colours_are_dropped():
    with pytest.warns(DefusionWarning, match="the image the palette colours is in colour, not grey"):
        thermal_colours(_jet_ramp(), "jet")
    with collecting() as said:  # a server's request gathers it
        thermal_colours(_jet_ramp(), "jet")
    assert said == [f"warning: {PALETTE_OF_COLOUR}"]


def test_a_palette_over_a_grey_image_says_nothing():
    grey = np.tile(np.linspace(0, 1, 64, dtype=np.float32), (4, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        thermal_colours(grey, "jet")
        thermal_colours(np.dstack([grey] * 3), "jet")  # grey in three channels

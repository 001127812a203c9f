"""defusion.fusion.stretch: raw 16-bit grey frames (thermal counts) stretched before fusing."""

from __future__ import annotations

import numpy as np
import pytest

from defusion.fusion.fuser import Fuser, FuseOptions
from defusion.fusion.stretch import is_narrow, stretch_sources, value_range
from tests.conftest import smooth_image


def _raw(image8: np.ndarray, base: int = 7000, gain: int = 8) -> np.ndarray:
    """An 8-bit grey image as a raw thermal frame: counts in a narrow band of the 16-bit range."""
    return (base + gain * image8.astype(np.int64)).astype(np.uint16)


def test_only_narrow_grey_16_bit_sources_are_raw_frames(rng):
    grey = smooth_image(rng, 40, 50, 1)
    assert is_narrow(_raw(grey))
    assert not is_narrow(grey)  # 8-bit: a display image
    assert not is_narrow(grey.astype(np.uint16) * 257)  # 16-bit over the full range
    assert is_narrow(np.dstack([_raw(grey)] * 3)) and is_narrow(_raw(grey)[..., None])  # grey in any layout
    colour = np.dstack([_raw(grey), _raw(grey, 7100), _raw(grey, 7200)])
    assert not is_narrow(colour)  # colour: never touched
    assert not is_narrow(np.full((8, 8), 7000, np.uint16))  # flat: nothing to stretch


def test_stretch_maps_the_band_onto_the_full_range_with_one_mapping_for_all(rng):
    grey = smooth_image(rng, 40, 50, 1)
    dark, bright = _raw(grey, 7000), _raw(grey, 9000)  # one sensor, two exposures
    visible = smooth_image(rng, 40, 50)
    images = [dark, bright, visible]
    floats = [dark / 65535.0, bright / 65535.0, visible / 255.0]
    out, stretched = stretch_sources(images, floats)
    assert stretched == [0, 1] and out[2] is floats[2]
    assert out[0].min() == 0.0 and out[1].max() == 1.0 and out[0].mean() < out[1].mean()  # their relation kept
    lo, hi = value_range(np.concatenate([dark.ravel(), bright.ravel()]) / 65535.0)
    assert hi > lo
    same, none = stretch_sources(images, floats, "none")
    assert none == [] and all(a is b for a, b in zip(same, floats))
    with pytest.raises(ValueError, match="unknown stretch"):
        FuseOptions(stretch="always")


def test_a_raw_thermal_frame_fuses_like_its_8_bit_rendering(rng):
    ir8, visible = smooth_image(rng, 48, 64, 1), smooth_image(rng, 48, 64)
    auto = Fuser.from_pretrained(device="cpu", scale=1, task="ivf")  # the shipped weights
    plain = Fuser(auto.model, options=FuseOptions(scale=1, unique_gain=1.5, stretch="none"))
    reference = auto.fuse(ir8, visible).astype(float)  # 8-bit in, 8-bit out
    scaled = lambda fused: fused.astype(float) / 257.0  # noqa: E731 - 16-bit out
    off = {name: np.abs(scaled(f.fuse(_raw(ir8), visible)) - reference).mean() for name, f in
           (("auto", auto), ("none", plain))}
    assert off["auto"] < 2.0 and off["none"] > 4 * off["auto"], off

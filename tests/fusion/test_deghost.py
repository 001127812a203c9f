"""defusion.fusion.deghost: what moved between exposures replaced by the reference's view of it."""

from __future__ import annotations

import numpy as np
import pytest

from defusion.fusion.deghost import deghost, ghost_mask, intensity_mapping, reference_index
from defusion.fusion.fuser import Fuser, FuseOptions
from tests.conftest import smooth_image


def _bracket(rng, moved: bool):
    """A scene at two exposures (0.5x and 1.5x, clipped), and in the bright one a block shifted."""
    scene = smooth_image(rng, 96, 128).astype(np.float32) / 255.0 * 0.8 + 0.1
    dark, bright = np.clip(scene * 0.5, 0, 1), np.clip(scene * 1.5, 0, 1)
    if moved:
        bright = bright.copy()
        bright[30:60, 60:90] = bright[30:60, 20:50]  # something walked 40 px to the right
    return dark, bright


def test_reference_and_mapping():
    assert reference_index([np.full((4, 4), v, np.float32) for v in (0.05, 0.6, 0.95)]) == 1
    x = np.linspace(0, 1, 5000, dtype=np.float32)
    lut = intensity_mapping(x, np.sqrt(x))
    assert np.all(np.diff(lut) >= 0) and abs(float(lut[64]) - 0.5) < 0.02  # monotonic; 0.25 -> 0.5


def test_what_moved_is_replaced_and_the_rest_is_left():
    dark, bright = _bracket(np.random.default_rng(0), moved=True)
    reference = reference_index([dark, bright])
    cleaned = deghost([dark, bright])
    assert cleaned[reference] is [dark, bright][reference]  # the reference is kept as it is
    other = 1 - reference
    mask = ghost_mask([dark, bright][reference], [dark, bright][other])
    assert mask[35:55, 65:85].mean() > 0.9 and mask[85:, :].max() < 0.01  # the block, grown and feathered
    # the other exposure now shows the scene as the reference does, at its own exposure
    consistent = _bracket(np.random.default_rng(0), moved=False)[other].copy()
    if reference == 1:  # the bright exposure, with the block moved, is the reference
        consistent[30:60, 60:90] = consistent[30:60, 20:50]
    assert np.abs(cleaned[other] - consistent)[35:55, 65:85].mean() < 0.03
    assert np.abs(cleaned[other] - [dark, bright][other])[85:, :].max() < 1e-3  # untouched elsewhere


def test_a_static_bracket_is_left_as_it_is(rng):
    dark, bright = _bracket(rng, moved=False)
    for before, after in zip((dark, bright), deghost([dark, bright])):
        assert np.abs(after - before).max() < 0.02


def test_fuser_deghost_option(rng):
    dark, bright = (np.rint(x * 255).astype(np.uint8) for x in _bracket(rng, moved=True))
    plain = Fuser.from_pretrained(device="cpu", task="mef", scale=1)
    cleaning = Fuser(plain.model, options=FuseOptions.for_task("mef", scale=1, deghost=True))
    ghost_free = cleaning.fuse(dark, bright).astype(float)
    assert np.abs(ghost_free - plain.fuse(dark, bright))[35:55, 65:85].mean() > 2  # the block changed
    assert np.abs(ghost_free - plain.fuse(dark, bright))[85:, :].mean() < 0.5    # the rest did not
    with pytest.raises(ValueError, match="deghost must be True or False"):
        FuseOptions(deghost="yes")

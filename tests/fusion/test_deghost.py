"""defusion.fusion.deghost: what moved between exposures replaced by the reference's view of it."""

from __future__ import annotations

import cv2
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


#: A bracket over a dark grey ground (160 px square): its exposures, and where a square stands in
#: every shot but the darkest, where it has walked to.
_SIZE, _GAINS, _STAYS, _WALKED = 160, (0.3, 1.0, 2.0), (24, 30), (90, 84)
#: Added to the grey ground, a dark red of the ground's own luminance (BT.601 weights: 0.3 R - 0.12 G - 0.17 B ~ 0).
_SAME_LUMINANCE_RED = np.array([0.3, -0.12, -0.17], np.float32)
_NEAR_BLACK = 0.004


def _red_square_bracket(side: int, core: int = 0) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """The bracket (dark to bright; the square walked in the darkest shot), and boolean masks of where
    the square is in the darkest shot and in the others. ``core``: a near-black middle that many
    pixels in from its edges (a dark-red thing with a black part)."""
    texture = smooth_image(np.random.default_rng(0), _SIZE, _SIZE, channels=1).astype(np.float32) / 255.0
    ground = np.repeat((0.18 + 0.08 * (texture - 0.5))[..., None], 3, axis=2)

    def with_square(at: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        (y, x), scene, where = at, ground.copy(), np.zeros((_SIZE, _SIZE), bool)
        where[y:y + side, x:x + side] = True
        scene[where] += _SAME_LUMINANCE_RED
        if core:
            scene[y + core:y + side - core, x + core:x + side - core] = _NEAR_BLACK
        return np.clip(scene, 0, 1), where

    (walked, there), (stayed, here) = with_square(_WALKED), with_square(_STAYS)
    shots = [np.clip(walked * _GAINS[0], 0, 1)] + [np.clip(stayed * gain, 0, 1) for gain in _GAINS[1:]]
    return shots, there, here


def _static(*objects: np.ndarray) -> np.ndarray:
    """What is further than the mask's growth from every ``objects`` mask: static scene."""
    from defusion.fusion.deghost import MASK_GROW

    near = np.logical_or.reduce(objects).astype(np.uint8)
    return cv2.dilate(near, np.ones((2 * MASK_GROW + 1,) * 2, np.uint8)) == 0


@pytest.mark.parametrize("core", [0, 7], ids=["plain", "near-black-middle"])
def test_a_moving_thing_as_light_as_its_ground_is_found_whole_by_its_colour(core):
    """Compared on luminance alone a dark-red square on a dark grey ground of the same luminance was
    not found at all; a near-black middle (clipped, saying nothing) left a hole the ground showed through."""
    shots, there, here = _red_square_bracket(side=56, core=core)
    reference = reference_index(shots)
    assert reference == 2  # the brightest is the best exposed here
    mask = ghost_mask(shots[reference], shots[0]) > 0.5
    assert mask[there].mean() >= 0.9  # the square where it walked to, all of it
    assert mask[_static(there, here)].mean() < 0.01
    assert (ghost_mask(shots[reference], shots[1]) > 0.5).mean() < 0.01  # a shot where nothing moved
    # deghosted, the darkest shot shows the ground where the square walked to, as the reference does
    cleaned = deghost(shots)
    ground, _, _ = _red_square_bracket(side=0)
    assert np.abs(cleaned[0] - ground[0])[there].mean() < 0.02
    assert np.abs(cleaned[0] - shots[0])[_static(there, here)].max() < 1e-3  # the rest untouched


def test_a_large_masks_closing_is_an_octagon_as_wide_as_the_ellipse_and_fills_as_it_does():
    """A 12 MP mask's elliptical closing took 1.8 s (up to 3 per source); above MAX_ELLIPSE_CLOSE it
    runs as an octagon of the same width, which must close the same gaps and leave the rest."""
    from defusion.fusion.deghost import MAX_ELLIPSE_CLOSE, _closed, _whole

    side = 1100  # a closing of round(0.03 * 1100) | 1 = 33 pixels: the octagon's
    mask = np.zeros((side, side), np.uint8)
    mask[300:700, 300:700] = 1
    mask[400:600, 400:600] = 0  # a near-black middle, not found
    mask[300:700, 480:505] = 0  # and a 25-pixel gap across the thing, where it matched the reference
    mask[820:900, 820:900] = 1  # another moving thing, apart
    whole = _whole(mask)
    assert 33 > MAX_ELLIPSE_CLOSE
    assert whole[310:690, 310:690].min() == 1 and whole[820:900, 820:900].min() == 1  # filled, gap and hole
    assert whole[:280].max() == 0 and whole[720:800].max() == 0 and whole[:, 920:].max() == 0  # nothing else
    ellipse = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (61, 61)))
    octagon = _closed(mask, 61)
    assert np.count_nonzero(octagon != ellipse) < 0.01 * np.count_nonzero(ellipse)  # corners of a disk only


def test_on_replaced_tells_the_share_of_each_image_replaced(rng):
    """How much deghosting replaced, for a note to the user: the moved block's share, nothing in a static bracket."""
    shares = {}
    deghost(list(_bracket(rng, moved=True)), reference=0, on_replaced=shares.__setitem__)
    block = 30 * 30 / (96 * 128)  # where it stood and where it went: twice that, grown
    assert list(shares) == [1] and block < shares[1] < 5 * block
    shares.clear()
    deghost(list(_bracket(rng, moved=False)), reference=0, on_replaced=shares.__setitem__)
    assert shares[1] < 0.005

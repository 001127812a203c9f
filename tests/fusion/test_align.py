"""defusion.fusion.align: sources registered onto the first (ECC, blind to exposure)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from defusion.fusion.align import (MOTIONS, AlignmentError, align_images, estimate_motion, warp_extent,
                                   warp_onto)
from defusion.fusion.color import to_float
from defusion.io.images import read_image
from tests.conftest import REPO

EXAMPLES = REPO / "src" / "defusion" / "examples"
MARGIN = 24  # pixels at the border that the warp had to invent


def _example(name: str) -> np.ndarray:
    return to_float(read_image(EXAMPLES / f"{name}.png")).astype(np.float32)


def _handheld(image: np.ndarray, angle: float = 1.5, zoom: float = 1.02, shift=(9, -6)) -> np.ndarray:
    """``image`` as a second shot by hand: rotated, zoomed (focus breathing) and shifted."""
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, zoom)
    matrix[:, 2] += shift
    return cv2.warpAffine(image, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)


def _error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b)[MARGIN:-MARGIN, MARGIN:-MARGIN].mean())


@pytest.mark.parametrize("pair", [("mef_under", "mef_over"), ("mff_near", "mff_far")])
def test_affine_registration_undoes_a_handheld_shot_across_exposure_and_focus(pair):
    reference, other = (_example(name) for name in pair)
    moved = _handheld(other)
    aligned = align_images([reference, moved], "affine")
    assert aligned[0] is reference  # the first source is the frame
    assert _error(aligned[1], other) < 0.2 * _error(moved, other)
    assert aligned[1].shape == other.shape and 0.0 <= aligned[1].min() and aligned[1].max() <= 1.0


def test_simpler_motions_recover_what_they_model():
    shift = lambda image: _handheld(image, angle=0.0, zoom=1.0, shift=(-7, 4))  # noqa: E731
    exposure = estimate_motion(_example("mef_under"), shift(_example("mef_over")), "translation")
    np.testing.assert_allclose(exposure[:, 2], [-7, 4], atol=0.05)  # sub-pixel across exposures
    focus = estimate_motion(_example("mff_near"), shift(_example("mff_far")), "translation")
    np.testing.assert_allclose(focus[:, 2], [-7, 4], atol=0.5)  # defocus blurs the edges it locks on
    reference = _example("mff_near")
    euclidean = estimate_motion(reference, _handheld(reference, angle=2.0, zoom=1.0, shift=(3, 2)), "euclidean")
    assert abs(np.degrees(np.arctan2(euclidean[1, 0], euclidean[0, 0]))) == pytest.approx(2.0, abs=0.1)
    homography = estimate_motion(reference, _handheld(reference), "homography")
    assert homography.shape == (3, 3)


def test_grey_and_colour_sources_align_together():
    reference = _example("mef_under").mean(axis=2)  # grey first, colour second
    moved = _handheld(_example("mef_over"))
    aligned = align_images([reference, moved], "affine")
    assert aligned[0].ndim == 2 and aligned[1].shape == moved.shape


def test_none_keeps_the_sources_and_a_warp_keeps_borders_filled():
    images = [_example("mef_under"), _example("mef_over")]
    assert all(a is b for a, b in zip(align_images(images, "none"), images))
    shifted = warp_onto(images[1], np.array([[1, 0, 30], [0, 1, 0]], np.float32))
    assert shifted[:, -30:].min() > 0.0 or images[1][:, -1].min() == 0.0  # the edge repeated, not black


def test_unrelated_images_are_refused_with_the_image_named(rng):
    reference = _example("mef_under")
    noise = rng.random(reference.shape).astype(np.float32)
    with pytest.raises(AlignmentError, match="cannot register image 3 to image 1"):
        align_images([reference, reference, noise], "affine")
    with pytest.raises(AlignmentError, match="too little structure"):
        estimate_motion(reference, np.zeros_like(reference), "affine")
    with pytest.raises(ValueError, match="unknown alignment motion"):
        align_images([reference, reference], "rigid")
    assert MOTIONS[0] == "none"


def test_a_reference_other_than_the_first_keeps_its_frame_and_is_named_in_errors(rng):
    """A bracket is registered onto its best-exposed shot, whatever the files' order."""
    shift = lambda image, dx: _handheld(image, angle=0.0, zoom=1.0, shift=(dx, 0))  # noqa: E731
    under, over = _example("mef_under"), _example("mef_over")
    moved_under, moved_over = shift(under, 5), shift(over, -4)
    aligned = align_images([moved_under, over, moved_over], "translation", reference=1)
    assert aligned[1] is over  # the reference's frame
    assert _error(aligned[0], under) < 0.2 * _error(moved_under, under)
    assert _error(aligned[2], over) < 0.2 * _error(moved_over, over)
    noise = rng.random(over.shape).astype(np.float32)
    with pytest.raises(AlignmentError, match="cannot register image 1 to image 2"):
        align_images([noise, over], "translation", reference=1)
    with pytest.raises(ValueError, match="reference image 3 was asked for, but 2 images were given"):
        align_images([under, over], "translation", reference=2)


def test_on_warp_is_told_each_warp_and_warp_extent_reads_shift_and_rotation_from_it():
    """What registration found, for a note to the user: the centre's shift, the turn, a homography's corners."""
    reference = _example("mff_near")
    h, w = reference.shape[:2]
    shifted = _handheld(reference, angle=0.0, zoom=1.0, shift=(3, 0))
    turned = _handheld(reference, angle=0.5, zoom=1.0, shift=(0, 0))  # about the centre: no shift
    warps = {}
    aligned = align_images([shifted, reference, turned], "euclidean", reference=1, on_warp=warps.__setitem__)
    assert sorted(warps) == [0, 2] and aligned[1] is reference  # the reference has no warp
    assert warp_extent(warps[0], h, w).shift == pytest.approx(3.0, abs=0.3)
    assert abs(warp_extent(warps[0], h, w).rotation) < 0.05
    turn = warp_extent(warps[2], h, w)
    assert abs(turn.rotation) == pytest.approx(0.5, abs=0.05) and turn.shift < 0.3
    corners = warp_extent(np.array([[1, 0, 2], [0, 1, 0], [0.0, 0.0, 1]]), h, w)
    assert corners.shift == pytest.approx(2.0) and corners.rotation is None
    seen = []
    align_images([reference, shifted], "none", on_warp=lambda *told: seen.append(told))
    assert not seen  # "none": nothing registered, nothing to tell


def test_warp_extent_reads_focus_breathing_as_zoom_and_corners_not_as_a_turn():
    """A focus stack breathing 3.6% once read 'shifts up to 0.3 px, rotation up to 0.5°' while its
    corners moved ~6 px: the extent had no scale, and read shear as rotation."""
    reference = _example("mff_near")
    h, w = reference.shape[:2]
    zoom = 1.036
    warps = {}
    align_images([reference, _handheld(reference, angle=0.0, zoom=zoom, shift=(0, 0))], "affine",
                 on_warp=warps.__setitem__)
    extent = warp_extent(warps[1], h, w)
    half_diagonal = np.hypot(w, h) / 2
    assert extent.scale == pytest.approx(zoom, abs=0.005)
    assert extent.corners == pytest.approx((zoom - 1) * half_diagonal, rel=0.15)
    assert abs(extent.rotation) < 0.05 and extent.shift < 0.5
    shear = np.array([[1.0, 0.02, 0.0], [0.02, 1.0, 0.0]])  # symmetric: no turn at all
    assert warp_extent(shear, h, w).rotation == pytest.approx(0.0)

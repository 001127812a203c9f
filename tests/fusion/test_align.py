"""defusion.fusion.align: sources registered onto the first (ECC, blind to exposure)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from defusion.fusion.align import (MAX_CORNER_FRACTION, MAX_TURN_DEGREES, MAX_ZOOM, MOTIONS, AlignmentError,
                                   align_images, check_handheld, estimate_motion, warp_extent, warp_onto)
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


# A different photo registered as a turn, zoom or perspective no handheld shot has: a user's audit fused a
# bracket with another scene's photo, told only "corners moved up to 146.3 px (shifts up to 41.4 px, rotation
# up to 13.8°, zoom up to -12.7%)". Only a centre moved by over a quarter of the image was refused.

def _centre_crop(name: str) -> np.ndarray:
    """The centre half of a shipped example, 180x120: a photo of its own."""
    image = _example(name)
    h, w = image.shape[:2]
    return cv2.resize(image[h // 4:h // 4 + h // 2, w // 4:w // 4 + w // 2], (180, 120), interpolation=cv2.INTER_AREA)


def test_a_photo_of_another_scene_is_refused_not_registered_as_a_large_turn():
    """ECC registered these two (a bracket's and a focus stack's) as a turn of 13.8 degrees (euclidean); the
    other motions found no fit, or moved the centre by over a quarter of the image."""
    bracket, stack = _centre_crop("mef_over"), _centre_crop("mff_near")
    for motion in ("euclidean", "affine", "homography"):
        with pytest.raises(AlignmentError, match=rf"cannot register image 2 to image 1 \({motion}\)"):
            align_images([bracket, stack], motion)


@pytest.mark.parametrize("pair", [("mef_under", "mef_over"), ("mff_near", "mff_far")])
def test_a_turn_no_handheld_shot_has_is_refused_and_a_handheld_one_registers(pair):
    """A 3 degree turn with 5% breathing and 12 px of shift registers with every motion that models it; 14
    degrees is refused, saying what was found and what to do, for every motion that can turn."""
    reference, other = (_example(name) for name in pair)
    handheld = _handheld(other, angle=3.0, zoom=1.05, shift=(12, -8))
    for motion in ("affine", "homography"):
        assert _error(align_images([reference, handheld], motion)[1], other) < 0.2 * _error(handheld, other)
    align_images([reference, _handheld(other, angle=-3.0, zoom=1.0, shift=(-12, 8))], "euclidean")
    turned = _handheld(other, angle=14.0, zoom=1.0, shift=(0, 0))
    for motion in ("euclidean", "affine", "homography"):
        with pytest.raises(AlignmentError) as refused:
            align_images([reference, turned], motion)
        said = str(refused.value)
        assert said.startswith(f"cannot register image 2 to image 1 ({motion}): the registration found a turn "
                               "(or skew) of 14."), said
        assert "do not seem to show one scene" in said and "fuse them without alignment" in said and "\n" not in said


def test_a_zoom_beyond_focus_breathing_is_refused_and_breathing_registers():
    reference = _example("mff_near")
    breathed = _handheld(_example("mff_far"), angle=0.0, zoom=1.08, shift=(0, 0))  # twice the tested 4%
    assert warp_extent(estimate_motion(reference, breathed, "affine"), *reference.shape[:2]).scale == pytest.approx(
        1.08, abs=0.005)
    zoomed = _handheld(_example("mff_far"), angle=0.0, zoom=1.25, shift=(0, 0))
    for motion in ("affine", "homography"):
        with pytest.raises(AlignmentError, match=r"found a zoom of \+25\.\d% \(focus breathing and a handheld shot "
                                                 r"zoom 15% at most\)"):
            estimate_motion(reference, zoomed, motion)


def test_a_perspective_no_handheld_shot_has_is_refused():
    reference = _example("mef_under")
    h, w = reference.shape[:2]
    frame = np.float32([[0, 0], [w, 0], [0, h], [w, h]])
    keystone = cv2.getPerspectiveTransform(frame, frame + np.float32([[0.2 * w, 0], [-0.2 * w, 0], [0, 0], [0, 0]]))
    tilted = cv2.warpPerspective(_example("mef_over"), keystone, (w, h), borderMode=cv2.BORDER_REPLICATE)
    with pytest.raises(AlignmentError, match=r"move its corners [\d.]+ px besides the shift \(a handheld shot moves "
                                             r"them [\d.]+ px at most here\)"):
        estimate_motion(reference, tilted, "homography")


def test_check_handheld_takes_the_documented_shots_and_refuses_the_audits():
    h, w = 240, 360
    half_diagonal = np.hypot(w, h) / 2

    def motion(angle: float, zoom: float, shift=(0.0, 0.0)) -> np.ndarray:
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, zoom)
        matrix[:, 2] += shift
        return matrix

    for handheld in (motion(2.0, 1.03, (12, -12)), motion(-4.0, 0.92, (30, 20)), motion(0.0, 1.04)):
        check_handheld(handheld, h, w)  # benchmarks/alignment.py's, beyond, and the CLI test's breathing
        check_handheld(np.vstack([handheld, [0, 0, 1]]), h, w)  # the same as a homography
    with pytest.raises(AlignmentError, match=r"^the registration found a turn \(or skew\) of 13\.8° \(a handheld shot turns 5° "
                                             r"at most\): the images do not seem to show one scene"):
        check_handheld(motion(13.8, 0.873, (41, 0)), h, w)  # the audit's other scene
    with pytest.raises(AlignmentError, match="turn \\(or skew\\) of 13.8°"):
        check_handheld(np.vstack([motion(13.8, 1.0), [0, 0, 1]]), h, w)  # a homography: its nearest affine's turn
    with pytest.raises(AlignmentError, match="zoom of -20.0%"):
        check_handheld(motion(0.0, 0.8), h, w)
    skew = np.array([[1.0, 0.3], [0.3, 1.0]])  # no turn, a zoom of -4.6%: the corners move 64.9 px
    centre = np.array([w / 2, h / 2])
    limit = MAX_CORNER_FRACTION * half_diagonal
    with pytest.raises(AlignmentError, match=rf"corners 64\.9 px besides the shift .* {limit:.1f} px at most here"):
        check_handheld(np.c_[skew, centre - skew @ centre], h, w)
    mirrored = np.array([[-1.0, 0.0, w], [0.0, 1.0, 0.0]])  # the centre stays, the corners swap
    with pytest.raises(AlignmentError, match="corners"):
        check_handheld(mirrored, h, w)
    horizon = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [-0.01, 0.0, 1.0]])  # the right edge behind the camera
    with pytest.raises(AlignmentError, match="behind the camera"):
        check_handheld(horizon, h, w)
    assert (MAX_TURN_DEGREES, MAX_ZOOM) == (5.0, 0.15)

"""Aligned focus stacks: kept sharp, deep rail stacks registered, frame edges filled, not smeared."""

import cv2
import numpy as np
import pytest

from defusion.fusion.align import AlignmentError, align_images, coverage, describe_fill, warp_onto

#: A deep rail stack of the macro audit: 20 shots, each 1% more magnified than the one before.
SHOTS, STEP = 20, 0.01


def _scene(height=160, width=240, seed=0):
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.random((height, width)).astype(np.float32), (0, 0), 2.0)


def _magnified(image, zoom):
    """``image`` as a shot ``zoom`` times as magnified about its centre (its edges reflected)."""
    h, w = image.shape[:2]
    m = np.array([[zoom, 0, (1 - zoom) * (w - 1) / 2], [0, zoom, (1 - zoom) * (h - 1) / 2]], np.float32)
    return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)


def test_warp_onto_keeps_fine_detail():
    # fine stripes (0.3 cycles a pixel) moved half a pixel and warped back: bilinear halves their contrast
    x = np.arange(64, dtype=np.float32)
    stripes = lambda shift: np.tile(0.5 + 0.4 * np.sin(2 * np.pi * 0.3 * (x + shift)), (16, 1)).astype(np.float32)
    back = warp_onto(stripes(0.5), np.array([[1.0, 0.0, -0.5], [0.0, 1.0, 0.0]], np.float32))
    error = np.abs(back - stripes(0.0))[:, 8:-8].mean()
    assert error < 0.03  # bilinear: 0.12


def test_warp_onto_clips_overshoot_to_the_input_range():
    step = np.zeros((8, 32), np.float32); step[:, 16:] = 0.8
    out = warp_onto(step, np.array([[1.0, 0.0, 0.3], [0.0, 1.0, 0.0]], np.float32))
    assert out.min() >= 0.0 and out.max() <= 0.8


def test_a_deep_rail_stack_registers():
    scene = _scene()
    stack = [_magnified(scene, 1 + STEP * i) for i in range(SHOTS)]
    warps = {}
    align_images(stack, "affine", on_warp=warps.__setitem__)
    zoom = np.sqrt(np.linalg.det(warps[SHOTS - 1][:, :2]))
    assert zoom == pytest.approx(1 + STEP * (SHOTS - 1), abs=0.005)


def test_another_scene_in_a_deep_stack_is_still_refused():
    """A guard (the old code refused it too): registering outward must not let another scene through."""
    scene = _scene()
    stack = [_magnified(scene, 1 + STEP * i) for i in range(SHOTS)]
    stack[12] = _scene(seed=7)
    with pytest.raises(AlignmentError, match=r"^cannot register image 13 to image 1 \(affine\)") as caught:
        align_images(stack, "affine")
    assert "\n" not in str(caught.value)


def test_a_more_magnified_shot_has_its_edges_filled_from_the_reference_not_smeared():
    scene = _scene()
    near, far = scene, _magnified(scene, 1.06)
    aligned = align_images([near, far], "affine")
    band = aligned[1][:, :4]  # the 7 px the far shot does not cover once warped
    assert np.abs(band - near[:, :4]).mean() < 0.01
    assert band.std(axis=1).mean() > 0.5 * near[:, :4].std(axis=1).mean()  # not one value repeated


def test_coverage_and_the_fill_note():
    warp = np.array([[1.06, 0.0, -0.03 * 239], [0.0, 1.06, -0.03 * 159]], np.float32)
    covered = coverage(warp, 160, 240)
    assert covered[80, 120] == 1.0 and covered[0, 0] == 0.0
    assert describe_fill(["a.jpg", "b.jpg"], (None, warp), (160, 240)) == (
        "the frame edges b.jpg does not cover (up to 7 px) were filled from the shots that cover them")
    assert describe_fill(["a.jpg", "b.jpg"], (None, np.eye(2, 3, dtype=np.float32)), (160, 240)) is None


def test_a_brackets_uncovered_edge_keeps_its_own_exposure():
    """A review: the bright shot's edge was filled with the dark reference's pixels as they were, a dark
    band along the fused frame's edge (0.25 where the rest was 0.69)."""
    scene = _scene()
    dark = scene * 0.5
    bright = np.clip(np.roll(scene, -6, axis=1) * 1.6, 0, 1)  # framed 6 px to the side, 1.6x brighter
    aligned = align_images([dark, bright], "translation")
    inside = aligned[1][:, 20:-20].mean()
    for edge in (aligned[1][:, :4].mean(), aligned[1][:, -4:].mean()):  # the uncovered band is on one side
        assert abs(edge - inside) < 0.1 * inside, (edge, inside)

"""defusion.fusion.selection: a decision map from two unique projections, and the weighed sum."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from defusion.fusion.selection import (PIXEL_SOURCES, activity, check_pixel_source, decision_map, source_map,
                                      weighted_sum)


def _texture(h: int = 96, w: int = 128, seed: int = 0) -> np.ndarray:
    """Fine detail everywhere: what an in-focus region shows."""
    x = np.random.default_rng(seed).random((h, w)).astype(np.float32)
    return cv2.GaussianBlur(x, (0, 0), 0.8)


def _defocus(image: np.ndarray, where: slice) -> np.ndarray:
    out = image.copy()
    out[:, where] = cv2.GaussianBlur(image, (0, 0), 3.0)[:, where]
    return out


def test_each_source_owns_the_half_it_has_in_focus():
    scene = _texture()
    left_sharp, right_sharp = _defocus(scene, slice(64, None)), _defocus(scene, slice(None, 64))
    w = decision_map(left_sharp, right_sharp, (left_sharp + right_sharp) / 2)
    assert w.shape == scene.shape and 0.0 <= w.min() and w.max() <= 1.0
    assert w[:, :52].min() > 0.95 and w[:, 76:].max() < 0.05  # away from the boundary: a clean choice
    fused = weighted_sum([w, 1 - w], [left_sharp, right_sharp])
    assert np.abs(fused - scene)[:, 8:-8].mean() < 0.25 * np.abs(left_sharp - scene)[:, 8:-8].mean()


def test_islands_of_the_other_source_are_voted_away():
    scene = _texture()
    blurred = cv2.GaussianBlur(scene, (0, 0), 3.0)
    speck = blurred.copy()
    speck[40:44, 60:64] = scene[40:44, 60:64]  # a few sharp pixels inside the other's region
    w = decision_map(blurred, scene, scene)  # the second source is sharp everywhere
    assert w.max() < 0.05
    w_speck = decision_map(speck, scene, scene)
    assert w_speck[40:44, 60:64].max() < 0.5


def test_images_smaller_than_the_vote_and_flat_images_work():
    tiny = _texture(9, 7)
    assert decision_map(tiny, tiny * 0.5, tiny).shape == (9, 7)
    flat = np.full((20, 20), 0.5, np.float32)
    w = decision_map(flat, flat, flat)  # no detail anywhere: the second source, no NaN
    assert np.isfinite(w).all()


def test_activity_is_higher_on_detail():
    scene = _texture()
    assert activity(scene).mean() > 10 * activity(cv2.GaussianBlur(scene, (0, 0), 3.0)).mean()


def test_weighted_sum_of_colour_and_grey_and_bad_calls():
    w = np.array([[0.25, 1.0]], np.float32)
    colour = np.ones((1, 2, 3), np.float32)
    assert weighted_sum([w, 1 - w], [colour, np.zeros_like(colour)])[..., 0].tolist() == [[0.25, 1.0]]
    with pytest.raises(ValueError, match="one weight map per image"):
        weighted_sum([w], [colour, colour])
    with pytest.raises(ValueError, match="HxW arrays of one size"):
        decision_map(np.zeros((4, 4)), np.zeros((4, 5)), np.zeros((4, 4)))


def test_pixel_sources_are_checked():
    for pixels in PIXEL_SOURCES:
        check_pixel_source(pixels)
    with pytest.raises(ValueError, match="unknown pixel source 'best'; use one of network, sources"):
        check_pixel_source("best")


def test_source_map_is_each_pixels_source_index_from_black_to_white():
    one_hot = [np.zeros((2, 4), np.float32) for _ in range(5)]
    for i in range(4):
        one_hot[i][:, i] = 1.0  # column i from source i
    one_hot[4][:, 3], one_hot[0][:, 3] = 0.5, 0.0  # ... except the last column: half from 3, half from 4
    one_hot[3][:, 3] = 0.5
    np.testing.assert_allclose(source_map(one_hot), [[0.0, 0.25, 0.5, 0.875]] * 2)
    w = np.random.default_rng(1).random((8, 8)).astype(np.float32)
    np.testing.assert_allclose(source_map([w, 1 - w]), 1 - w, atol=1e-6)  # a pair: 1 - weight_a
    with pytest.raises(ValueError, match="two or more"):
        source_map([w])

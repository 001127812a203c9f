"""The laplacian and dwt baselines make no pixel more colourful than both sources: a background neutral in
both stays neutral (no colour tint), also with the sources' noise."""

from __future__ import annotations

import numpy as np
import pytest

from defusion.baselines import get_baseline
from defusion.baselines._common import cap_chroma, choose_max_abs, luma
from defusion.baselines.laplacian import auto_levels, collapse_pyramid, fuse_laplacian, laplacian_pyramid

#: Exposure pair: the blue square's level in the dark and the bright shot, and the background's.
DARK_BLUE, BRIGHT_BLUE = (0, 0, 80), (0, 0, 255)
DARK_BACKGROUND, BRIGHT_BACKGROUND = 0, 20
SIZE, SQUARE = 64, slice(16, 48)


def _blue_on_black(dtype: type = np.uint8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A blue square on a black background, exposed dark and bright; and the background's mask."""
    a = np.full((SIZE, SIZE, 3), DARK_BACKGROUND, np.uint8)
    b = np.full((SIZE, SIZE, 3), BRIGHT_BACKGROUND, np.uint8)
    a[SQUARE, SQUARE], b[SQUARE, SQUARE] = DARK_BLUE, BRIGHT_BLUE
    background = np.ones((SIZE, SIZE), bool)
    background[SQUARE, SQUARE] = False
    if dtype is np.uint16:
        return a.astype(np.uint16) * 257, b.astype(np.uint16) * 257, background
    if dtype is np.float32:
        return a.astype(np.float32) / 255, b.astype(np.float32) / 255, background
    return a, b, background


def _unfixed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The float laplacian fusion of a float pair as collapsed, before any pixel is made grey."""
    levels = auto_levels(a.shape[0], a.shape[1])
    pa, pb = laplacian_pyramid(a, levels), laplacian_pyramid(b, levels)
    mixed = [choose_max_abs(da, db) for da, db in zip(pa[:-1], pb[:-1])] + [0.5 * (pa[-1] + pb[-1])]
    return collapse_pyramid(mixed)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_black_background_stays_grey(dtype):
    a, b, background = _blue_on_black(dtype)
    fused = fuse_laplacian(a, b)[background].astype(np.float64)
    assert np.ptp(fused, axis=1).max() == 0  # it was up to 41 levels (of 255) bluer than red
    mean = fused.mean(axis=0)
    assert mean[0] == mean[1] == mean[2]


def test_only_the_tint_goes():
    a, b, background = _blue_on_black(np.float32)
    unfixed, fused = _unfixed(a, b), fuse_laplacian(a, b)
    assert np.ptp(fused[background], axis=1).max() == 0
    # the grey pixels keep the fused luma, the blue square its colour, to the float32 rounding
    assert np.allclose(luma(fused)[background], np.clip(luma(unfixed), 0, 1)[background], atol=1e-6)
    assert np.array_equal(fused[~background], np.clip(unfixed, 0, 1)[~background])


def test_registry_laplacian_is_the_fixed_one():
    a, b, background = _blue_on_black()
    assert np.ptp(get_baseline("laplacian")(a, b)[background], axis=1).max() == 0


def test_cap_chroma_leaves_colour_within_the_sources_and_grey_images_alone():
    rng = np.random.default_rng(0)
    a, b = (rng.random((4, 5, 3)).astype(np.float32) for _ in range(2))
    within = 0.5 * (a + b)  # no more colourful than the more colourful source
    assert np.allclose(cap_chroma(within, a, b), within, atol=1e-6)
    grey = rng.random((4, 5)).astype(np.float32)
    assert cap_chroma(grey, grey, grey) is grey


def test_cap_chroma_keeps_luma_and_hue_and_takes_the_stronger_sources_colour_as_the_bound():
    a = np.zeros((1, 2, 3), np.float32)
    b = a.copy()
    b[0, 1] = (0.0, 0.0, 0.5)  # pixel 1 is coloured in b
    fused = np.full((1, 2, 3), (0.1, 0.2, 0.3), np.float32)
    out = cap_chroma(fused, a, b)
    assert np.ptp(out[0, 0]) < 1e-6  # neutral in both: neutral
    assert np.array_equal(out[0, 1], fused[0, 1])  # b is the more colourful: kept
    assert np.allclose(luma(out), luma(fused), atol=1e-6)


@pytest.mark.parametrize("method", ["laplacian", "dwt"])
def test_a_noisy_black_background_is_not_tinted(method, rng):
    """A review: a rule for exactly grey pixels missed sources with a level of noise (the tint stayed, 54
    levels with laplacian and 98 with dwt, with grey holes where the noise happened to be grey)."""
    a, b, background = _blue_on_black()
    noisy = [np.clip(x.astype(np.int16) + rng.integers(-1, 2, x.shape), 0, 255).astype(np.uint8) for x in (a, b)]
    spread = np.ptp(get_baseline(method)(*noisy)[background].astype(np.int16), axis=1)
    assert spread.max() <= 3  # the sources' own noise spreads up to 2 levels


def test_dwt_keeps_the_black_background_grey_too():
    """The same mix of two sources' detail coefficients tinted the DWT baseline's black (49 levels bluer)."""
    from defusion.baselines.dwt import fuse_dwt

    a, b, background = _blue_on_black()
    assert np.ptp(fuse_dwt(a, b)[background].astype(np.int16), axis=1).max() == 0
    assert np.ptp(get_baseline("dwt")(a, b)[background].astype(np.int16), axis=1).max() == 0

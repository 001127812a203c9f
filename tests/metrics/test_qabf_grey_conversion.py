"""Qabf of a grey fused image against RGB sources: VIFB's ``metricsQabf.m`` converts the sources as
``rgb2gray(double(img))``, which MATLAB does not round, while the package rounded them (MATLAB's
rule for ``rgb2gray`` of a uint8 image, right for SSIM and MI but not for Qabf): the grey fused
walking image scored 0.34327 where VIFB's path gives 0.34304. Colour fused images (all of VIFB's own
set) never convert, so they are untouched."""

from __future__ import annotations

import numpy as np
import pytest

from defusion.metrics import compute_metrics, qabf, ssim

#: MATLAB ``rgb2gray``'s weights (the first row of the inverse of the NTSC YIQ transform).
WEIGHTS = np.array([0.298936021293775, 0.587043074451121, 0.114020904255103])
SIDE = 40


def _scene(rng: np.random.Generator, colour: bool) -> np.ndarray:
    y, x = np.mgrid[0:SIDE, 0:SIDE]
    base = 128 + 70 * np.sin(x / 4.0 + rng.random()) * np.cos(y / 6.0)
    planes = [base + rng.normal(0, 12, base.shape) for _ in range(3 if colour else 1)]
    image = np.clip(np.dstack(planes), 0, 255).astype(np.uint8)
    return image if colour else image[..., 0]


def test_qabf_converts_rgb_sources_unrounded_as_metricsqabf_the_others_rounded(rng):
    fused, a, b = _scene(rng, False), _scene(rng, True), _scene(rng, True)
    luma = [s.astype(np.float64) @ WEIGHTS for s in (a, b)]  # rgb2gray(double(img)): not rounded
    rounded = [np.floor(x + 0.5).astype(np.uint8) for x in luma]  # rgb2gray(img) of a uint8 image
    assert qabf(fused, a, b) == pytest.approx(qabf(fused, *luma), rel=1e-12)
    assert qabf(fused, a, b) != pytest.approx(qabf(fused, *rounded), rel=1e-6)
    # a float copy of the sources (whole levels) scores as they do; the other metrics still round
    assert qabf(fused, a / 255.0, b / 255.0) == pytest.approx(qabf(fused, a, b), rel=1e-12)
    assert ssim(fused, a, b) == pytest.approx(ssim(fused, *rounded), rel=1e-12)
    values = compute_metrics(fused, a, b, names=["Qabf", "SSIM"])
    assert values == pytest.approx({"Qabf": qabf(fused, *luma), "SSIM": ssim(fused, *rounded)}, rel=1e-12)


def test_a_grey_source_stored_as_rgb_is_its_plane_exactly(rng):
    """An R = G = B source is its one plane, as its 1-channel file: converted, its luma is off in the last
    bit (the weights sum to just under 1) and misses Qabf's exact ``g_S == g_F`` test where the fused
    image copies it (here, a fusion's float output stored as RGB)."""
    a = _scene(rng, True)
    b = np.clip(_scene(rng, False) + rng.random((SIDE, SIDE)) * 0.8, 0, 255)  # between levels: a float fusion output
    fused = b.copy()
    b_rgb = np.dstack([b] * 3)
    assert qabf(fused, a, b_rgb) == qabf(fused, a, b)
    # a colour fused image compares channel by channel, never converting: as before
    fused_rgb = np.dstack([fused] * 3)
    assert qabf(fused_rgb, a, b_rgb) == pytest.approx(
        np.mean([qabf(fused_rgb[..., k], a[..., k], b) for k in range(3)]), rel=1e-12)

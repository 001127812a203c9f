"""Classical fusion baselines: contract (shape, dtype, range), identity, and sanity on
synthetic multi-focus and multi-exposure pairs."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from defusion import baselines
from defusion.baselines import BASELINES, available_baselines, get_baseline, is_available
from defusion.baselines.laplacian import collapse_pyramid, laplacian_pyramid

HAS_ENFUSE = shutil.which("enfuse") is not None
needs_enfuse = pytest.mark.skipif(not HAS_ENFUSE, reason="enfuse executable not on PATH")
RUNNABLE = available_baselines()


def textured(h: int, w: int, channels: int = 0, seed: int = 0) -> np.ndarray:
    """A sharp, textured float32 image in [0, 1] (grey when channels == 0)."""
    rng = np.random.default_rng(seed)
    x = rng.random((h, w, channels) if channels else (h, w))
    x = gaussian_filter(x, (1, 1, 0) if channels else 1)
    return ((x - x.min()) / (x.max() - x.min())).astype(np.float32)


def multi_focus_pair(sharp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A blurred on its left half, B on its right half."""
    blurred = cv2.GaussianBlur(sharp, (0, 0), 3)
    half = sharp.shape[1] // 2
    a, b = sharp.copy(), sharp.copy()
    a[:, :half] = blurred[:, :half]
    b[:, half:] = blurred[:, half:]
    return a, b


#: The baselines shipped from the start, in their documented order. More may be registered, anywhere
#: (docs and README must then name them: tests/test_registries_documented.py).
SHIPPED = ["average", "max", "laplacian", "dwt", "gff", "mertens", "enfuse", "enfuse_focus"]


def test_registry_names_and_availability():
    assert [name for name in BASELINES if name in SHIPPED] == SHIPPED
    assert set(RUNNABLE) <= set(BASELINES)
    assert {"average", "max", "laplacian", "dwt", "gff", "mertens"} <= set(RUNNABLE)
    assert ("enfuse" in RUNNABLE) == HAS_ENFUSE
    assert get_baseline("gff") is baselines.fuse_gff
    with pytest.raises(KeyError):
        is_available("nope")
    with pytest.raises(KeyError):
        get_baseline("nope")


def test_enfuse_missing_is_reported(monkeypatch):
    monkeypatch.setattr(baselines.enfuse.shutil, "which", lambda name: None)
    assert "enfuse" not in available_baselines() and "enfuse_focus" not in available_baselines()
    with pytest.raises(RuntimeError, match="enfuse"):
        get_baseline("enfuse")
    x = np.zeros((8, 8), np.float32)
    with pytest.raises(RuntimeError, match="not on PATH"):
        baselines.fuse_enfuse(x, x)


@pytest.mark.parametrize("name", list(BASELINES))
def test_rejects_bad_layouts(name):
    fn = BASELINES[name]
    with pytest.raises(ValueError):
        fn(np.zeros((8, 8), np.float32), np.zeros((8, 9), np.float32))
    with pytest.raises(ValueError):  # RGBA is taken, alpha dropped, as the Fuser takes it: five channels are not
        fn(np.zeros((8, 8, 5), np.float32), np.zeros((8, 8, 5), np.float32))


@pytest.mark.parametrize("shape", [(48, 64), (48, 64, 3), (37, 51), (37, 51, 3)], ids=str)
@pytest.mark.parametrize("name", RUNNABLE)
def test_shape_dtype_range(name, shape):
    channels = shape[2] if len(shape) == 3 else 0
    a = textured(shape[0], shape[1], channels, seed=1)
    b = textured(shape[0], shape[1], channels, seed=2) ** 2
    a_copy, b_copy = a.copy(), b.copy()
    out = BASELINES[name](a, b)
    assert out.shape == shape and out.dtype == np.float32
    assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0
    np.testing.assert_array_equal(a, a_copy)  # inputs untouched
    np.testing.assert_array_equal(b, b_copy)


@pytest.mark.parametrize("shape", [(5, 7), (5, 7, 3), (1, 1), (2, 3, 3)], ids=str)
@pytest.mark.parametrize("name", [n for n in RUNNABLE if n != "enfuse_focus"])
def test_tiny_images(name, shape):
    x = np.random.default_rng(0).random(shape).astype(np.float32)
    assert BASELINES[name](x, 1.0 - x).shape == shape


@pytest.mark.parametrize("channels", [0, 3])
@pytest.mark.parametrize("name", RUNNABLE)
def test_fusing_an_image_with_itself_returns_it(name, channels):
    x = textured(37, 51, channels)
    out = BASELINES[name](x, x)
    # enfuse goes through 16-bit files; everything else is float32 arithmetic.
    np.testing.assert_allclose(out, x, atol=1e-4)
    assert np.corrcoef(out.ravel(), x.ravel())[0, 1] > 0.999


@pytest.mark.parametrize("shape", [(37, 51), (64, 80, 3)], ids=str)
@pytest.mark.parametrize("levels", [0, 1, 3])
def test_laplacian_pyramid_round_trip_on_odd_sizes(shape, levels):
    x = np.random.default_rng(0).random(shape).astype(np.float32)
    pyramid = laplacian_pyramid(x, levels)
    assert len(pyramid) == levels + 1
    np.testing.assert_allclose(collapse_pyramid(pyramid), x, atol=1e-5)


@pytest.mark.parametrize("channels", [0, 3])
def test_multi_focus_methods_beat_the_average(channels):
    sharp = textured(64, 96, channels)
    a, b = multi_focus_pair(sharp)
    mae_avg = np.abs(BASELINES["average"](a, b) - sharp).mean()
    methods = ["laplacian", "dwt", "gff"] + (["enfuse_focus"] if HAS_ENFUSE else [])
    for name in methods:
        mae = np.abs(BASELINES[name](a, b) - sharp).mean()
        assert mae < 0.5 * mae_avg, (name, mae, mae_avg)


def test_multi_exposure_fusion_is_better_exposed():
    scene = textured(64, 96, 3)
    scene = 0.15 + 0.7 * scene  # a well-exposed reference in [0.15, 0.85]
    under = np.clip(scene * 0.35, 0, 1).astype(np.float32)
    over = np.clip(scene * 2.2, 0, 1).astype(np.float32)
    methods = ["mertens"] + (["enfuse"] if HAS_ENFUSE else [])
    for name in methods:
        fused = BASELINES[name](under, over)
        clipped = lambda img: float(np.mean((img < 0.02) | (img > 0.98)))  # noqa: E731
        assert abs(fused.mean() - 0.5) < min(abs(under.mean() - 0.5), abs(over.mean() - 0.5)), name
        assert clipped(fused) < clipped(over), name
        # And it keeps the scene's structure.
        assert np.corrcoef(fused.ravel(), scene.ravel())[0, 1] > 0.8, name


def test_mertens_grey_matches_replicated_rgb():
    dark, bright = textured(32, 40, 0, seed=3) * 0.3, np.clip(textured(32, 40, 0, seed=3) * 2, 0, 1)
    grey = baselines.fuse_mertens(dark, bright)
    dark3, bright3 = (np.repeat(x[..., None], 3, axis=2) for x in (dark, bright))
    rgb = baselines.fuse_mertens(dark3, bright3, saturation_weight=0.0)
    np.testing.assert_allclose(grey, rgb.mean(axis=2), atol=1e-5)


def test_gff_weights_follow_the_sharper_source():
    sharp = textured(64, 96, 0)
    a, b = multi_focus_pair(sharp)
    out = baselines.fuse_gff(a, b)
    # Away from the seam, the output is close to the in-focus half of each source.
    assert np.abs(out[:, 8:36] - b[:, 8:36]).mean() < 0.01
    assert np.abs(out[:, 60:88] - a[:, 60:88]).mean() < 0.01


def test_gff_smooths_its_saliency_with_the_papers_gaussian():
    """Li, Kang & Hu 2013 set r_g = sigma_g = 5: an 11x11 Gaussian of sigma 5."""
    from defusion.baselines import gff

    assert (gff.SALIENCY_WINDOW, gff.SALIENCY_SIGMA) == ((11, 11), 5.0)


def test_max_is_per_channel():
    a = np.zeros((2, 2, 3), np.float32)
    b = np.zeros((2, 2, 3), np.float32)
    a[..., 0], b[..., 2] = 0.8, 0.6
    np.testing.assert_allclose(baselines.fuse_max(a, b)[0, 0], [0.8, 0.0, 0.6])


def test_enfuse_rejects_unknown_mode():
    x = np.zeros((8, 8), np.float32)
    with pytest.raises(ValueError, match="mode"):
        baselines.fuse_enfuse(x, x, mode="hdr")


@needs_enfuse
@pytest.mark.parametrize("mode", ["exposure", "focus"])
def test_enfuse_modes_keep_layout_and_16_bit_precision(mode):
    for channels in (0, 3):
        x = textured(24, 30, channels)
        out = baselines.fuse_enfuse(x, x, mode=mode)
        assert out.shape == x.shape and out.dtype == np.float32
        assert np.abs(out - x).max() < 2 / 65535  # 16-bit round trip, not 8-bit


@needs_enfuse
def test_enfuse_failure_is_a_runtime_error():
    x = np.random.default_rng(0).random((4, 4)).astype(np.float32)
    with pytest.raises(RuntimeError, match="enfuse failed"):
        baselines.fuse_enfuse_focus(x, 1 - x)  # smaller than enfuse's 5x5 contrast window

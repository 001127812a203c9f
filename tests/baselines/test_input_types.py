"""Baselines take uint8, uint16 and float images in [0, 1] as the Fuser does, and return the fused
image in the inputs' type and range (the audit found uint8 input fused to an all-white image)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from defusion.baselines import BASELINES, available_baselines

RUNNABLE = available_baselines()
#: 8-bit values scale to 16 bits exactly by this factor (65535 = 255 * 257).
UINT8_TO_UINT16 = 257
#: Largest difference, in [0, 1] units, between fusing the 8-bit, 16-bit and float copies of one
#: picture: one step of the output type (rounding; enfuse also rounds its own 16-bit output).
STEP = {np.uint8: 1 / 255, np.uint16: 2 / 65535}


def picture_u8(h: int, w: int, channels: int, seed: int) -> np.ndarray:
    """A textured 8-bit picture spanning 0..255 (grey when channels == 0)."""
    rng = np.random.default_rng(seed)
    x = gaussian_filter(rng.random((h, w, channels) if channels else (h, w)), (1, 1, 0) if channels else 1)
    return np.round(255 * (x - x.min()) / (x.max() - x.min())).astype(np.uint8)


def source_pair(channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Two different 8-bit sources, the second darker (as a multi-exposure pair would be)."""
    a = picture_u8(40, 52, channels, seed=1)
    b = (picture_u8(40, 52, channels, seed=2) // 2).astype(np.uint8)
    return a, b


@pytest.mark.parametrize("channels", [0, 3])
@pytest.mark.parametrize("name", RUNNABLE)
def test_uint8_uint16_and_float_give_the_same_picture_in_their_own_type(name, channels):
    a8, b8 = source_pair(channels)
    a16, b16 = (x.astype(np.uint16) * UINT8_TO_UINT16 for x in (a8, b8))
    af, bf = (x.astype(np.float32) / np.float32(255) for x in (a8, b8))
    fn = BASELINES[name]
    out_f = fn(af, bf)
    assert out_f.dtype == np.float32 and out_f.shape == a8.shape
    assert 0.0 <= out_f.min() and out_f.max() <= 1.0
    for a, b, dtype, scale in ((a8, b8, np.uint8, 255.0), (a16, b16, np.uint16, 65535.0)):
        out = fn(a, b)
        assert out.dtype == dtype and out.shape == a.shape, (name, dtype)
        assert np.abs(out / scale - out_f).max() <= STEP[dtype] + 1e-6, (name, dtype)
    # Not the audit's blown-out picture: the fused image is as bright as its sources, give or take.
    assert 0.25 * min(a8.mean(), b8.mean()) < fn(a8, b8).mean() < 255 - 0.25 * (255 - max(a8.mean(), b8.mean()))


@pytest.mark.parametrize("name", ["average", "max"])
def test_pixelwise_baselines_on_uint8_are_exact(name):
    a8, b8 = source_pair(3)
    wide_a, wide_b = a8.astype(np.int32), b8.astype(np.int32)
    expected = (wide_a + wide_b + 1) // 2 if name == "average" else np.maximum(wide_a, wide_b)
    np.testing.assert_array_equal(BASELINES[name](a8, b8), expected)


def test_inputs_are_left_untouched():
    a8, b8 = source_pair(0)
    a_copy, b_copy = a8.copy(), b8.copy()
    for name in RUNNABLE:
        BASELINES[name](a8, b8)
    np.testing.assert_array_equal(a8, a_copy)
    np.testing.assert_array_equal(b8, b_copy)


def test_mixed_types_return_the_deepest_as_the_fuser_does():
    a8, b8 = source_pair(0)
    b16 = b8.astype(np.uint16) * UINT8_TO_UINT16
    bf = b8.astype(np.float64) / 255
    assert BASELINES["gff"](a8, b16).dtype == np.uint16
    assert BASELINES["gff"](a8, bf).dtype == np.float32
    np.testing.assert_allclose(BASELINES["average"](a8, b16) / 65535, BASELINES["average"](a8, bf), atol=1 / 65535)


@pytest.mark.parametrize("name", list(BASELINES))
def test_refuses_types_and_ranges_it_cannot_read(name):
    fn = BASELINES[name]
    x = np.full((8, 8), 0.5, np.float32)
    with pytest.raises(ValueError, match=r"\[0, 1\].*255"):
        fn(x * 255, x)  # 8-bit values in a float array
    with pytest.raises(ValueError, match="finite"):
        fn(np.full_like(x, np.nan), x)
    with pytest.raises(TypeError, match="uint8, uint16 or float"):
        fn(np.zeros((8, 8), np.int64), np.zeros((8, 8), np.int64))


@pytest.mark.parametrize("name", ["average", "gff", "mertens"])
def test_benchmark_wrapper_agrees_with_the_baseline_on_8_bit_files(name):
    """The benchmark converts decoded files to float itself: no double scaling on the way back."""
    from defusion.benchmark.runner import builtin_method

    a8, b8 = source_pair(3)
    through_bench = builtin_method(name)(a8, b8)
    assert through_bench.dtype == np.uint8  # the sources' type, as DeFusion's methods return
    direct = BASELINES[name](a8, b8)
    assert builtin_method(name)(a8.astype(np.uint16) * 257, b8.astype(np.uint16) * 257).dtype == np.uint16
    assert np.abs(through_bench.astype(np.int16) - direct).max() <= 1

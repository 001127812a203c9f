import numpy as np
import pytest

from defusion.fusion import color


def test_grey_detection():
    rgb = np.random.rand(4, 4, 3)
    assert color.is_grey(rgb[..., 0]) and color.is_grey(np.repeat(rgb[..., :1], 3, axis=2))
    assert not color.is_grey(rgb)


def test_plan_mode_follows_the_colour_rules():
    grey, rgb = np.random.rand(4, 4), np.random.rand(4, 4, 3)
    assert color.plan_mode([grey, grey]) == "grey"
    assert color.plan_mode([grey, rgb]) == "luma"
    assert color.plan_mode([rgb, rgb]) == "luma"  # the benchmarks' choice (docs/benchmarks.md)
    assert color.plan_mode([rgb, rgb], "rgb") == "rgb"
    assert color.plan_mode([grey, rgb], "rgb") == "luma"
    assert color.plan_mode([rgb, rgb], "ycbcr") == "luma"
    with pytest.raises(ValueError):
        color.plan_mode([rgb, rgb], "hsv")


def test_chroma_comes_from_the_colour_source_and_saturation_wins():
    grey = np.full((2, 2), 0.5, np.float32)
    red = np.zeros((2, 2, 3), np.float32)
    red[..., 0] = 1.0
    chroma = color.blend_chroma([grey, red])
    assert np.allclose(chroma, color.rgb_to_ycbcr(red)[..., 1:])
    washed = np.full((2, 2, 3), 0.9, np.float32)
    mix = color.blend_chroma([washed, red])
    assert np.abs(mix - 0.5).sum() > 0.9 * np.abs(color.rgb_to_ycbcr(red)[..., 1:] - 0.5).sum()


def test_dtype_conversions():
    assert color.output_dtype(np.zeros(1, np.uint8), np.zeros(1, np.uint16)) == np.uint16
    assert color.output_dtype(np.zeros(1, np.uint8), np.zeros(1, np.float64)) == np.float32
    x = np.array([0, 1000, 65535], np.uint16)
    assert np.array_equal(color.from_float(color.to_float(x), np.uint16), x)
    with pytest.raises(TypeError):
        color.to_float(np.zeros(2, np.int32))


def test_float_images_outside_zero_one_are_refused():
    """Float data in 0..255 (OpenCV after astype(float)) would otherwise clip to white."""
    with pytest.raises(ValueError, match="divide 8-bit data by 255"):
        color.to_float(np.array([0.0, 128.0, 255.0]))
    with pytest.raises(ValueError, match="must be in"):
        color.to_float(np.array([-0.5, 0.5]))
    assert color.to_float(np.array([0.0, 1.0 + 1e-6])).max() == 1.0  # rounding is tolerated

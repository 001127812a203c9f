"""One rule for pixels in 8 bits (defusion.io.eight_bits), and the same pixels from each place that used
to write it out: write_image's 8-bit files, the video sinks' frames and fusion's to_uint8."""

from __future__ import annotations

import numpy as np
import pytest

from defusion.io.eight_bits import LEVEL_16BIT, as_uint8, float_to_uint8, uint16_to_uint8

#: Every 16-bit value, in the order of an image's rows.
ALL_UINT16 = np.arange(65536, dtype=np.uint16).reshape(256, 256)


def _floats(seed: int = 0) -> np.ndarray:
    """Random float32 pixels in [0, 1], with every level's exact value and the values on either
    side of each half-level (where float32 rounding decides), as a 3-channel image."""
    half_levels = ((np.arange(256) + 0.5) / 255).astype(np.float32)
    chosen = np.concatenate([(np.arange(256) / 255).astype(np.float32), np.nextafter(half_levels, np.float32(0)),
                             half_levels, np.nextafter(half_levels, np.float32(1))])
    random = np.random.default_rng(seed).random(64 * 64 * 3 - chosen.size, dtype=np.float32)
    return np.clip(np.concatenate([chosen, random]), 0, 1).reshape(64, 64, 3)


def _old_float_rule(image: np.ndarray) -> np.ndarray:
    """The float rule as write_image, the video sinks and fusion.color each wrote it before: in the
    float's own precision. A reference is needed: float32 rounding near half-levels differs from exact
    arithmetic (156 of 2 million random values)."""
    return (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _expected_from_uint16(image: np.ndarray) -> np.ndarray:
    """x / 257 to the nearest level, worked in float64 (exact here: no x / 257 is half-way)."""
    return np.floor(image.astype(np.float64) / 257 + 0.5).astype(np.uint8)


def test_every_uint16_value_is_rounded_to_the_nearest_level():
    assert LEVEL_16BIT == 257
    np.testing.assert_array_equal(uint16_to_uint8(ALL_UINT16), _expected_from_uint16(ALL_UINT16))
    np.testing.assert_array_equal(as_uint8(ALL_UINT16.astype(">u2")), _expected_from_uint16(ALL_UINT16))


def test_floats_keep_the_float32_rounding_they_had():
    floats = _floats()
    np.testing.assert_array_equal(float_to_uint8(floats), _old_float_rule(floats))
    assert float_to_uint8(np.array([-0.5, 0.0, 0.5, 1.0, 3.0], np.float32)).tolist() == [0, 0, 128, 255, 255]
    wide = np.random.default_rng(1).random(4096)  # float64 stays float64
    np.testing.assert_array_equal(as_uint8(wide), _old_float_rule(wide))


def test_uint8_is_passed_through_and_other_types_refused():
    image = np.arange(6, dtype=np.uint8).reshape(2, 3)
    assert as_uint8(image) is image
    with pytest.raises(TypeError, match="got int32"):
        as_uint8(np.zeros(3, np.int32))


def test_write_image_writes_8_bits_by_the_rule(tmp_path):
    from defusion.io.images import read_image
    from defusion.io.writing import encode_image, write_image

    for suffix in (".bmp", ".png"):  # 16-bit data reduced (BMP), and asked for in 8 bits (PNG)
        path = write_image(tmp_path / f"deep{suffix}", ALL_UINT16, bits=8 if suffix == ".png" else None)
        np.testing.assert_array_equal(read_image(path), _expected_from_uint16(ALL_UINT16))
    floats = _floats(2)
    np.testing.assert_array_equal(read_image(write_image(tmp_path / "floats.png", floats)), _old_float_rule(floats))
    assert encode_image(floats, ".png") == encode_image(_old_float_rule(floats), ".png")


def test_video_frames_are_reduced_by_the_rule():
    import cv2

    from defusion.fusion.video.sinks import _to_bgr8

    np.testing.assert_array_equal(_to_bgr8(ALL_UINT16), cv2.cvtColor(_expected_from_uint16(ALL_UINT16),
                                                                     cv2.COLOR_GRAY2BGR))
    floats = _floats(3)
    np.testing.assert_array_equal(_to_bgr8(floats), _old_float_rule(floats)[..., ::-1])


def test_fusions_to_uint8_is_the_rule_with_its_checks():
    from defusion.fusion.color import from_float, to_uint8
    from defusion.fusion.errors import FusionInputError, FusionTypeError

    np.testing.assert_array_equal(to_uint8(ALL_UINT16), _expected_from_uint16(ALL_UINT16))
    np.testing.assert_array_equal(to_uint8(ALL_UINT16.astype(">u2")), _expected_from_uint16(ALL_UINT16))
    floats = _floats(4)
    np.testing.assert_array_equal(to_uint8(floats), _old_float_rule(floats))
    np.testing.assert_array_equal(to_uint8(floats.astype(np.float64)), _old_float_rule(floats))  # read as float32
    np.testing.assert_array_equal(from_float(floats, np.dtype(np.uint8)), _old_float_rule(floats))
    with pytest.raises(FusionInputError):
        to_uint8(np.array([0.0, np.nan], np.float32))
    with pytest.raises(FusionInputError):
        to_uint8(np.array([0.0, 1.5], np.float32))
    with pytest.raises(FusionTypeError):
        to_uint8(np.zeros(3, np.int32))

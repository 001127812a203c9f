"""[0, 1] float pixels by io's rules (defusion.io.unit_floats): one tolerance, one line refusing other
floats and other types, and one rounding to 16 bits, which write_image and fusion's from_float each
wrote out before, and which io.display follows without reaching up into fusion."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from defusion.errors import DefusionError
from defusion.fusion import color
from defusion.fusion.errors import FusionInputError, FusionTypeError
from defusion.io.display import in_eight_bits
from defusion.io.errors import PixelTypeError, PixelValueError
from defusion.io.unit_floats import FLOAT_RANGE_TOLERANCE, pixel_type_problem, unit_float_problem, unit_float_to_uint16
from defusion.io.writing import encode_image


def _old_16_bit_rule(image: np.ndarray) -> np.ndarray:
    """The rule as write_image (``* 65535.0``) and from_float (``* MAX_16BIT``) each wrote it before."""
    return (np.clip(image, 0.0, 1.0) * 65535 + 0.5).astype(np.uint16)


def _floats(dtype: type) -> np.ndarray:
    """Every 16-bit level's value, the values either side of each half-level, and values outside [0, 1]."""
    levels = np.arange(65536, dtype=np.float64) / 65535
    half = (np.arange(65535) + 0.5) / 65535
    values = np.concatenate([levels, half, [-0.0005, 1.0005, 2.0, -1.0]]).astype(dtype)
    return np.concatenate([values, np.nextafter(values, dtype(0)), np.nextafter(values, dtype(1))])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_16_bit_rounding_is_the_one_write_image_and_from_float_used(dtype):
    values = _floats(dtype)
    assert np.array_equal(unit_float_to_uint16(values), _old_16_bit_rule(values))
    assert np.array_equal(color.from_float(values, np.dtype(np.uint16)), unit_float_to_uint16(values))


def test_every_16_bit_level_comes_back_as_itself():
    levels = np.arange(65536, dtype=np.uint16)
    assert np.array_equal(unit_float_to_uint16(levels.astype(np.float32) / 65535), levels)


def test_a_16_bit_file_of_floats_holds_what_from_float_gives():
    image = np.clip(_floats(np.float32)[:64 * 64 * 3], 0, 1).reshape(64, 64, 3)
    png = encode_image(image, ".png", bits=16)
    written = cv2.cvtColor(cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED), cv2.COLOR_BGR2RGB)
    assert np.array_equal(written, color.from_float(image, np.dtype(np.uint16)))


def test_floats_within_the_tolerance_pass_and_others_are_refused_in_one_line():
    assert color.FLOAT_RANGE_TOLERANCE == FLOAT_RANGE_TOLERANCE  # the old import path
    assert unit_float_problem(np.array([-FLOAT_RANGE_TOLERANCE, 1 + FLOAT_RANGE_TOLERANCE])) is None
    assert unit_float_problem(np.zeros((0, 3))) is None
    assert unit_float_problem(np.array([0.0, 1.01])) == ("float images must be in [0, 1], got values from 0 to 1.01; "
                                                         "divide 8-bit data by 255 (or pass the uint8 array itself)")
    assert unit_float_problem(np.array([0.5, np.nan])) == \
        "float images must be finite: this one holds NaN or infinite values"
    with pytest.raises(ValueError, match="write_image takes float pixels in"):
        encode_image(np.array([[0.0, 1 + 2 * FLOAT_RANGE_TOLERANCE]]), ".png")
    encode_image(np.array([[0.0, 1 + FLOAT_RANGE_TOLERANCE]]), ".png")


@pytest.mark.parametrize("image", [np.array([[0.2, np.inf]], np.float32), np.array([[-0.5, 2.0]]),
                                   np.array([[0.0, 255.0]], ">f4")])
def test_display_refuses_the_floats_fusion_refuses_in_the_same_words(image):
    with pytest.raises(FusionInputError) as fused:
        color.to_uint8(image)
    with pytest.raises(PixelValueError) as shown:
        in_eight_bits(image)
    assert str(shown.value) == str(fused.value) == unit_float_problem(image)
    assert isinstance(shown.value, ValueError) and isinstance(shown.value, DefusionError)


@pytest.mark.parametrize("dtype", [np.int64, np.int16, np.bool_, np.uint32])
def test_display_refuses_the_types_fusion_refuses_in_the_same_words(dtype):
    image = np.zeros((2, 2), dtype)
    with pytest.raises(FusionTypeError) as fused:
        color.to_uint8(image)
    with pytest.raises(PixelTypeError) as shown:
        in_eight_bits(image)
    assert str(shown.value) == str(fused.value) == pixel_type_problem(image.dtype)
    assert isinstance(shown.value, TypeError) and isinstance(shown.value, DefusionError)


@pytest.mark.parametrize("image", [
    np.arange(256, dtype=np.uint8).reshape(16, 16), np.arange(65536, dtype=np.uint16).reshape(256, 256),
    np.arange(65536, dtype=np.uint16).reshape(256, 256).astype(">u2"), _floats(np.float32)[None],
    np.clip(_floats(np.float64), -FLOAT_RANGE_TOLERANCE, 1 + FLOAT_RANGE_TOLERANCE)[None],
    np.linspace(0, 1, 4096).astype(np.float16).reshape(64, 64), np.linspace(0, 1, 100).astype(">f4"),
])
def test_display_shows_what_fusion_converts_pixel_for_pixel(image):
    if image.dtype.kind == "f":
        image = np.clip(image, -FLOAT_RANGE_TOLERANCE, 1 + FLOAT_RANGE_TOLERANCE)
    shown = in_eight_bits(image)
    assert shown.dtype == np.uint8 and np.array_equal(shown, color.to_uint8(image))

"""write_image takes what fusion gives (floats in [0, 1]) and refuses other pixels with one line."""

from __future__ import annotations

import numpy as np
import pytest

from defusion.errors import DefusionError
from defusion.io.errors import ImageWriteError, ImageWriteTypeError
from defusion.io.images import read_image, write_image


def _floats(shape=(6, 8, 3)) -> np.ndarray:
    return np.random.default_rng(0).random(shape).astype(np.float32)


def test_float_pixels_are_written_as_8_bits_rounded(tmp_path):
    image = _floats()
    out = write_image(tmp_path / "fused.png", image)
    assert read_image(out).dtype == np.uint8
    np.testing.assert_array_equal(read_image(out), (image * 255 + 0.5).astype(np.uint8))


def test_float_pixels_with_bits_16_are_written_as_16_bits_where_the_format_keeps_them(tmp_path):
    image = _floats((6, 8))
    np.testing.assert_array_equal(read_image(write_image(tmp_path / "f.png", image, bits=16)),
                                  (image * 65535 + 0.5).astype(np.uint16))
    assert read_image(write_image(tmp_path / "f.jpg", image, bits=16)).dtype == np.uint8  # JPEG has 8 bits


def test_fuser_float_output_writes(tmp_path):
    from defusion.fusion.fuser import Fuser
    from defusion.model.registry import create_model

    a, b = np.zeros((16, 16), np.float32), np.full((16, 16), 0.8, np.float32)
    fused = Fuser(create_model("defusion-tiny")).fuse(a, b)
    assert fused.dtype == np.float32
    assert read_image(write_image(tmp_path / "fused.png", fused)).shape == (16, 16)


@pytest.mark.parametrize("image, match", [
    (np.full((4, 4), 255.0, np.float32), r"span 255 to 255 \(divide 0-255 values by 255"),
    (np.full((4, 4), -0.5), r"span -0.5 to -0.5"),
    (np.full((4, 4), np.nan, np.float32), "NaN or infinite"),
])
def test_floats_outside_0_1_are_refused(tmp_path, image, match):
    with pytest.raises(ImageWriteError, match=match):
        write_image(tmp_path / "x.png", image)
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("dtype", [np.int64, np.bool_, np.int16])
def test_other_types_are_a_library_type_error_saying_what_to_pass(tmp_path, dtype):
    with pytest.raises(ImageWriteTypeError, match=f"uint8 or uint16 pixels, or floats in \\[0, 1\\]; got "
                       f"{np.dtype(dtype)}: convert first") as caught:
        write_image(tmp_path / "x.png", np.zeros((4, 4), dtype))
    assert isinstance(caught.value, DefusionError) and isinstance(caught.value, TypeError)


def test_channels_first_is_refused_with_a_hint(tmp_path):
    with pytest.raises(ImageWriteError, match=r"got shape \(3, 20, 30\), which looks channels-first \(CxHxW\): "
                       r"pass np.moveaxis\(x, 0, -1\)") as caught:
        write_image(tmp_path / "x.png", np.zeros((3, 20, 30), np.uint8))
    assert isinstance(caught.value, ValueError)
    with pytest.raises(ImageWriteError, match=r"batch of one channels-first image"):
        write_image(tmp_path / "x.png", np.zeros((1, 3, 20, 30), np.uint8))


def test_float_overshoot_of_float_arithmetic_is_clipped_and_a_real_excess_named(tmp_path):
    """Floats a hair above 1 (1 + 1e-7 from arithmetic) are written as 1, as fusion takes them; a real
    excess is refused with digits that show it (":g" once printed "span 1 to 1")."""
    from defusion.io.images import read_image

    write_image(tmp_path / "x.png", np.full((4, 4), 1 + 1e-7))
    assert (read_image(tmp_path / "x.png") == 255).all()
    with pytest.raises(ImageWriteError, match=r"span 0 to 1.01 "):
        write_image(tmp_path / "y.png", np.array([[0.0, 1.01]]))


@pytest.mark.parametrize("shape", [(4, 4, 2), (4, 4, 5), (2, 4, 4, 3), (8,)])
def test_other_shapes_are_refused_before_opencv(tmp_path, shape):
    with pytest.raises(ImageWriteError, match="HxW or HxWxC pixels with C 1, 3 or 4"):
        write_image(tmp_path / "x.png", np.zeros(shape, np.uint8))


def test_hxwx1_is_written_grey_and_rgba_keeps_alpha(tmp_path):
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4, 1)
    np.testing.assert_array_equal(read_image(write_image(tmp_path / "g.png", grey)), grey[..., 0])
    import cv2

    rgba = np.zeros((3, 4, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 100
    bgra = cv2.imread(str(write_image(tmp_path / "a.png", rgba)), cv2.IMREAD_UNCHANGED)
    assert bgra.shape == (3, 4, 4) and bgra[0, 0].tolist() == [0, 0, 200, 100]


@pytest.mark.parametrize("quality", [0, 101, 95.5, "95", True])
def test_quality_is_checked_before_the_pixels(tmp_path, quality):
    with pytest.raises(ImageWriteError, match="JPEG or WebP quality must be a whole number from 1 to 100"):
        write_image(tmp_path / "x.jpg", np.zeros((3, 20, 30), np.int64), quality=quality)  # pixels bad too


@pytest.mark.parametrize("bits", [12, True, "16"])
def test_bits_other_than_8_or_16_are_refused(tmp_path, bits):
    with pytest.raises(ImageWriteError, match="bits must be 8 or 16"):
        write_image(tmp_path / "x.png", _floats(), bits=bits)


def test_bits_converts_integer_data(tmp_path):
    data = np.array([[0, 1, 255]], np.uint8)
    assert read_image(write_image(tmp_path / "x.png", data, bits=16)).tolist() == [[0, 257, 65535]]
    deep = np.array([[0, 257, 65535]], np.uint16)
    assert read_image(write_image(tmp_path / "y.png", deep, bits=8)).tolist() == [[0, 1, 255]]

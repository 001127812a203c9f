"""defusion.io.jpeg: a JPEG file's quality from its tables, and the round trip bench scores through."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from defusion.io.jpeg import ijg_luminance_table, jpeg_quality, jpeg_round_trip
from tests.conftest import smooth_image


@pytest.mark.parametrize("quality", [10, 49, 50, 75, 90, 100])
def test_quality_is_read_back_from_the_tables_pillow_writes(tmp_path, rng, quality):
    path = tmp_path / f"q{quality}.jpg"
    Image.fromarray(smooth_image(rng, 24, 32)).save(path, quality=quality)
    assert jpeg_quality(path) == (quality, True)


def test_other_tables_get_the_nearest_quality_and_other_files_none(tmp_path, rng):
    table = ijg_luminance_table(80).copy()
    table[0] += 3  # another encoder's table, close to the IJG one of 80
    path = tmp_path / "custom.jpg"
    Image.fromarray(smooth_image(rng, 24, 32)).save(path, qtables=[table.tolist()])
    assert jpeg_quality(path) == (80, False)
    Image.fromarray(smooth_image(rng, 24, 32)).save(tmp_path / "x.png")
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    assert jpeg_quality(tmp_path / "x.png") is None and jpeg_quality(tmp_path / "broken.jpg") is None


@pytest.mark.parametrize("channels", [1, 3])
def test_round_trip_is_what_a_file_of_that_quality_holds(rng, channels):
    image = smooth_image(rng, 40, 48, channels)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=75, subsampling="4:2:0")
    stored = np.asarray(Image.open(io.BytesIO(buffer.getvalue())))
    assert np.array_equal(jpeg_round_trip(image, 75), stored) and not np.array_equal(stored, image)
    assert jpeg_round_trip(image, 75).shape == image.shape


def test_round_trip_refuses_what_a_jpeg_cannot_hold(rng):
    with pytest.raises(ValueError, match="8-bit"):
        jpeg_round_trip(np.zeros((8, 8), np.uint16), 75)
    with pytest.raises(ValueError, match="1 to 100"):
        jpeg_round_trip(np.zeros((8, 8), np.uint8), 0)

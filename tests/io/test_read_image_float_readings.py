"""read_image's float readings: stretched for fusion input (as before), as the values they are for scoring.

An audit found a fused image saved as float32 on the 0..255 scale scored by the CLI with twice its
contrast (SD 36.47 instead of the 18.03 of the same pixels as uint8): reading stretched it, as it
stretches a radiometric thermal frame to be fused. A second review found the scoring reading
quantised to 8 bits, where the Python metrics take the float array as it is.
"""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from defusion.io.errors import ImageReadError
from defusion.io.float_pixels import FloatRangeError
from defusion.io.images import read_image, write_image
from defusion.io.probes import stores_floats


def _levels_image() -> np.ndarray:
    """A grey 0..255 image using only part of the range (60..187), as a fused image may."""
    return np.linspace(60, 187, 24 * 32).reshape(24, 32).round()


def test_floats_on_0_255_are_read_as_they_are_for_scoring(tmp_path):
    levels = _levels_image() + 0.25  # fractional levels: kept, not rounded to 8 bits
    tifffile.imwrite(tmp_path / "f.tif", levels.astype(np.float32))
    scored = read_image(tmp_path / "f.tif", floats="levels")
    assert scored.dtype == np.float32
    np.testing.assert_array_equal(scored, levels.astype(np.float32))
    fusion = read_image(tmp_path / "f.tif")  # fusion input keeps today's stretch
    assert fusion.dtype == np.uint16 and fusion.min() == 0 and fusion.max() == 65535


def test_floats_in_0_1_are_read_as_they_are_for_scoring_unclipped(tmp_path):
    ramp = np.linspace(0, 1, 20 * 30, dtype=np.float32).reshape(20, 30)
    tifffile.imwrite(tmp_path / "unit.tif", ramp)
    np.testing.assert_array_equal(read_image(tmp_path / "unit.tif", floats="levels"), ramp)
    # an unclamped network output within the slack: as stored (the metrics clip it, as they clip the array)
    tifffile.imwrite(tmp_path / "loose.tif", ramp * 1.002 - 0.001)
    np.testing.assert_array_equal(read_image(tmp_path / "loose.tif", floats="levels"), ramp * 1.002 - 0.001)


def test_rgb_float_tiff_on_0_255_for_scoring(tmp_path):
    rgb = np.dstack([_levels_image(), 255 - _levels_image(), np.full((24, 32), 100.5)]).astype(np.float32)
    tifffile.imwrite(tmp_path / "rgb.tif", rgb, photometric="rgb")
    scored = read_image(tmp_path / "rgb.tif", floats="levels")
    assert scored.shape == (24, 32, 3)
    np.testing.assert_array_equal(scored, rgb)


@pytest.mark.parametrize("low, high", [(-10.0, 45.0), (290.0, 320.0)], ids=["celsius", "kelvin"])
def test_floats_on_neither_scale_are_one_clear_error_for_scoring(tmp_path, low, high):
    values = np.linspace(low, high, 16 * 16, dtype=np.float32).reshape(16, 16)  # radiometric frames
    tifffile.imwrite(tmp_path / "odd.tif", values)
    with pytest.raises(FloatRangeError) as err:
        read_image(tmp_path / "odd.tif", floats="levels")
    assert isinstance(err.value, ImageReadError) and (err.value.low, err.value.high) == (low, high)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{tmp_path / 'odd.tif'}: float values span ")
    assert "neither 0..1 nor 0..255" in message
    assert read_image(tmp_path / "odd.tif").max() == 65535  # fused, still stretched


def test_a_float_tiff_pillow_decodes_reads_on_its_own_scale_too(tmp_path):
    """Pillow's 'F' mode (a TIFF tifffile leaves to it) takes the same reading."""
    from defusion.io import pillow_decoding

    levels = _levels_image().astype(np.float32)
    Image.fromarray(levels, mode="F").save(tmp_path / "p.tif")
    with Image.open(tmp_path / "p.tif") as im:
        im.load()
        got = pillow_decoding.from_pillow(im, tmp_path / "p.tif", 32, "levels")
    np.testing.assert_array_equal(got, levels)


def test_integer_files_read_alike_either_way(tmp_path):
    grey8 = _levels_image().astype(np.uint8)
    wide = (np.arange(24 * 32).reshape(24, 32) * 80).astype(np.uint16)
    for name, image in (("g.png", grey8), ("w.png", wide)):
        write_image(tmp_path / name, image)
        np.testing.assert_array_equal(read_image(tmp_path / name, floats="levels"), read_image(tmp_path / name))


def test_stores_floats_from_the_header(tmp_path):
    tifffile.imwrite(tmp_path / "f.tif", _levels_image().astype(np.float32))
    tifffile.imwrite(tmp_path / "i.tif", _levels_image().astype(np.uint16))
    write_image(tmp_path / "g.png", _levels_image().astype(np.uint8))
    (tmp_path / "junk.tif").write_bytes(b"II*\x00junk")
    assert stores_floats(tmp_path / "f.tif")
    assert not any(stores_floats(tmp_path / n) for n in ("i.tif", "g.png", "junk.tif", "missing.tif"))


def test_an_unknown_float_reading_is_refused():
    with pytest.raises(ValueError, match="unknown float reading 'raw'; use one of stretch, levels"):
        read_image("any.png", floats="raw")

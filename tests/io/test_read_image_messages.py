"""What reading says of odd files, in the terms of whoever reads them: an empty file, a float image
holding NaN, an EXIF block Pillow reads no tag from, and how to raise the pixel bound (``max_pixels=``
in Python, ``--max-pixels`` on the command line)."""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest
import tifffile
from PIL import Image

from defusion.errors import DefusionWarning
from defusion.io.errors import ImageReadError
from defusion.io.images import read_image, write_image
from defusion.io.orientation import EXIF_ORIENTATION
from defusion.io.pixel_bound import PYTHON_LIMIT_HINT, RAISE_LIMIT_HINT, ImageTooLargeError, limit_hint


def test_an_empty_file_is_said_to_be_empty_not_an_unreadable_format(tmp_path):
    """As the server says an empty upload; it said "not an image, or a format that cannot be read"."""
    path = tmp_path / "zero.png"
    path.write_bytes(b"")
    with pytest.raises(ImageReadError) as caught:
        read_image(path)
    assert str(caught.value) == f"{path}: empty file (0 bytes)"


@pytest.mark.parametrize("floats", ["stretch", "values", "levels"])
def test_a_float_image_holding_nan_is_not_asked_about_as_a_truncated_file(tmp_path, floats):
    """The file decoded whole: the values are the problem, so no "is the file truncated or corrupt?"."""
    path = tmp_path / "nan.tif"
    tifffile.imwrite(path, np.array([[0.5, np.nan], [0.25, 1.0]], np.float32))
    with pytest.raises(ImageReadError) as caught:
        read_image(path, floats=floats)
    assert str(caught.value) == f"{path}: a float image holding NaN or infinite values"


def test_a_truncated_file_is_still_asked_about(tmp_path, rng):
    path = tmp_path / "cut.jpg"
    Image.fromarray((rng.random((64, 64, 3)) * 255).astype(np.uint8)).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match=r"cannot decode \(.*\); is the file truncated or corrupt\?$"):
        read_image(path)


def _jpeg_with_exif(exif: bytes) -> bytes:
    """An 8x6 JPEG whose APP1 block holds ``exif`` (its ``Exif\\0\\0`` prefix and TIFF data)."""
    out = io.BytesIO()
    Image.new("RGB", (8, 6), (90, 120, 150)).save(out, "JPEG", exif=exif)
    return out.getvalue()


def _exif(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = orientation
    exif[0x010F] = "Cam"  # Make
    return exif.tobytes()


def test_a_jpeg_whose_exif_tiff_header_is_garbled_is_warned_about(tmp_path, recwarn):
    """Pillow gives an empty EXIF for it, no error: it was read as stored and nothing said, though the
    block asked for a quarter turn (docs/features.md: a broken EXIF block is said)."""
    data = bytearray(_jpeg_with_exif(_exif(6)))
    at = data.find(b"Exif\x00\x00") + len(b"Exif\x00\x00")
    data[at:at + 8] = b"\xff" * 8  # the TIFF header overwritten
    path = tmp_path / "badexif.jpg"
    path.write_bytes(bytes(data))
    assert read_image(path).shape == (6, 8, 3)  # as stored: the orientation cannot be read
    # one warning, though the orientation is asked for twice in reading
    assert [(w.category, str(w.message)) for w in recwarn] == [
        (DefusionWarning, f"{path}: its EXIF block cannot be read (not a TIFF header); orientation ignored, the pixels "
                          "taken as stored")]


def test_an_exif_whose_first_directory_lies_outside_it_is_warned_about(tmp_path):
    data = bytearray(_jpeg_with_exif(_exif(6)))
    at = data.find(b"Exif\x00\x00") + len(b"Exif\x00\x00")
    data[at + 4:at + 8] = (0xFFFF).to_bytes(4, "big" if data[at:at + 2] == b"MM" else "little")
    path = tmp_path / "offset.jpg"
    path.write_bytes(bytes(data))
    with pytest.warns(DefusionWarning, match=r"its EXIF block cannot be read \(its first directory lies outside it\)"):
        read_image(path)


@pytest.mark.parametrize("exif, shape", [(_exif(6), (8, 6, 3)), (_exif(1), (6, 8, 3)),
                                         (Image.Exif().tobytes(), (6, 8, 3))],  # the last: no tag, as written
                         ids=["turned", "upright", "empty"])
def test_a_readable_or_empty_exif_block_is_not_warned_about(tmp_path, capsys, recwarn, exif, shape):
    path = tmp_path / "ok.jpg"
    path.write_bytes(_jpeg_with_exif(exif))
    assert read_image(path).shape == shape
    assert "EXIF" not in capsys.readouterr().err and not any("EXIF" in str(w.message) for w in recwarn)


def test_a_python_caller_is_told_the_argument_that_raises_the_bound(tmp_path, rng):
    """``read_image`` takes ``max_pixels=``: the hint named a --max-pixels no Python caller has."""
    write_image(tmp_path / "a.png", (rng.random((30, 40)) * 255).astype(np.uint8))
    with pytest.raises(ImageTooLargeError) as caught:
        read_image(tmp_path / "a.png", max_pixels=1000)
    assert caught.value.hint == PYTHON_LIMIT_HINT == "raise it with max_pixels="
    assert str(caught.value).endswith("over the limit of 1,000 pixels (raise it with max_pixels=)")
    assert pickle.loads(pickle.dumps(caught.value)).hint == PYTHON_LIMIT_HINT  # a worker's error, told as raised


def test_pillows_own_guard_tells_a_python_caller_its_argument_too(tmp_path, rng, monkeypatch):
    write_image(tmp_path / "a.png", (rng.random((30, 40)) * 255).astype(np.uint8))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(ImageTooLargeError, match=r"over the limit of 500 pixels \(raise it with max_pixels=\)$"):
        read_image(tmp_path / "a.png", max_pixels=500)  # over twice the bound: Pillow refuses first


def test_under_a_defusion_command_the_hint_names_its_option(tmp_path, rng):
    """Read for the command line (io.front_end.reading_for, set by defusion's main): its --max-pixels."""
    from defusion.io.front_end import reading_for

    write_image(tmp_path / "a.png", (rng.random((30, 40)) * 255).astype(np.uint8))
    with reading_for("cli"):
        assert limit_hint() == RAISE_LIMIT_HINT == "raise it with --max-pixels"
        with pytest.raises(ImageTooLargeError, match=r"\(raise it with --max-pixels\)$"):
            read_image(tmp_path / "a.png", max_pixels=1000)
    assert limit_hint() == PYTHON_LIMIT_HINT


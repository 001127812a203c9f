"""Pillow images fuse as read_image reads their files: upright by their EXIF orientation, 16-bit colour
kept, transparency warned of. Before, ``fuse(Image.open(p), ...)`` took Pillow's pixels as stored: a
turned photo fused sideways (a square one silently, any other refused as of another size), 16-bit colour
fused as 8-bit, and alpha was dropped unsaid."""

from __future__ import annotations

import io
import warnings

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from defusion.fusion.errors import FusionInputError
from defusion.io.images import read_image
from defusion.io.orientation import EXIF_ORIENTATION
from tests.conftest import smooth_image

#: Sides of the test images (stored landscape; EXIF orientation 6 shows them portrait): small, one pass.
HEIGHT, WIDTH = 16, 24
#: EXIF orientation of a camera held upright: the stored pixels are turned a quarter clockwise to show.
QUARTER_CLOCKWISE = 6


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """One intra-op thread: the machine's few cores are shared (see tests/conftest.py)."""


def _turned_jpeg(path, pixels: np.ndarray):
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = QUARTER_CLOCKWISE
    Image.fromarray(pixels).save(path, "JPEG", quality=95, exif=exif)
    return path


def _user_warnings(call) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def test_a_photo_turned_by_exif_fuses_upright_as_its_file_reads(fuser, rng, tmp_path):
    photo = _turned_jpeg(tmp_path / "turned.jpg", smooth_image(rng, HEIGHT, WIDTH))
    upright = read_image(photo)
    assert upright.shape[:2] == (WIDTH, HEIGHT)
    other = smooth_image(rng, WIDTH, HEIGHT)  # upright, as the photo shows: was refused as of another size
    expected = fuser.fuse(upright, other)
    np.testing.assert_array_equal(fuser.fuse(Image.open(photo), other), expected)
    # exif_transpose turns it and clears the tag: not turned twice
    np.testing.assert_array_equal(fuser.fuse(ImageOps.exif_transpose(Image.open(photo)), other), expected)


def test_a_square_photo_turned_by_exif_is_not_fused_sideways(fuser, rng, tmp_path):
    """Square, the sizes agree either way: it fused sideways without a word."""
    photo = _turned_jpeg(tmp_path / "square.jpg", smooth_image(rng, WIDTH, WIDTH))
    other = smooth_image(rng, WIDTH, WIDTH)
    np.testing.assert_array_equal(fuser.fuse(Image.open(photo), other), fuser.fuse(read_image(photo), other))


def test_16_bit_colour_opened_by_pillow_fuses_as_16_bit(fuser, rng, tmp_path):
    deep = smooth_image(rng, HEIGHT, WIDTH).astype(np.uint16) * 257 + 3  # low bits Pillow's 8 would lose
    path = tmp_path / "rgb16.png"
    cv2.imwrite(str(path), deep[:, :, ::-1])
    assert Image.open(path).mode == "RGB"  # Pillow's 8 bits
    other = smooth_image(rng, HEIGHT, WIDTH)
    assert _user_warnings(lambda: fuser.fuse(Image.open(path), other)) == []
    fused = fuser.fuse(Image.open(path), other)
    assert fused.dtype == np.uint16
    np.testing.assert_array_equal(fused, fuser.fuse(read_image(path), other))


def test_16_bit_colour_fuse_cannot_decode_from_its_file_is_warned_of(fuser, rng, tmp_path):
    path = tmp_path / "rgb16.png"
    cv2.imwrite(str(path), smooth_image(rng, HEIGHT, WIDTH).astype(np.uint16) * 257)
    other = smooth_image(rng, HEIGHT, WIDTH)
    loaded = Image.open(path)
    loaded.load()  # its pixels already Pillow's 8 bits (and maybe edited): not read again from the file
    said = _user_warnings(lambda: fuser.fuse(loaded, other))
    assert said == [f"image 1 ({path}): a 16-bit colour image that Pillow decoded to 8 bits, fused as 8-bit; read "
                    "its file with defusion.io.images.read_image, which keeps 16 bits"]
    in_memory = Image.open(io.BytesIO(path.read_bytes()))  # no file to decode from
    said = _user_warnings(lambda: fuser.fuse(other, in_memory))
    assert said == ["image 2: a 16-bit colour image that Pillow decoded to 8 bits, fused as 8-bit; read its file "
                    "with defusion.io.images.read_image, which keeps 16 bits"]


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_transparency_of_a_pillow_image_is_warned_of_as_read_image_does(fuser, rng, mode):
    pixels = smooth_image(rng, HEIGHT, WIDTH)
    alpha = np.full((HEIGHT, WIDTH), 255, np.uint8)
    opaque = Image.fromarray(np.dstack([pixels, alpha])).convert(mode)
    alpha[0, 0] = 0
    see_through = Image.fromarray(np.dstack([pixels, alpha])).convert(mode)
    if mode == "P":  # a palette with a transparent index, as a GIF or an indexed PNG has
        see_through = Image.fromarray(pixels).quantize(16)
        see_through.info["transparency"] = int(np.asarray(see_through)[0, 0])
        opaque = Image.fromarray(pixels).quantize(16)
    other = smooth_image(rng, HEIGHT, WIDTH)
    assert _user_warnings(lambda: fuser.fuse(opaque, other)) == []
    said = _user_warnings(lambda: fuser.fuse(other, see_through))
    assert said == ["image 2 has transparent pixels (alpha); alpha is ignored: they fuse as their colour values "
                    "(flatten it onto a background first to fuse what it shows)"]


def test_a_pillow_image_of_a_file_names_it_when_transparent(fuser, rng, tmp_path):
    pixels = np.dstack([smooth_image(rng, HEIGHT, WIDTH), np.full((HEIGHT, WIDTH), 128, np.uint8)])
    Image.fromarray(pixels).save(tmp_path / "rgba.png")
    said = _user_warnings(lambda: fuser.fuse(Image.open(tmp_path / "rgba.png"), pixels[:, :, :3]))
    assert len(said) == 1 and said[0].startswith(f"image 1 ({tmp_path / 'rgba.png'}) has transparent pixels")


def test_a_truncated_file_opened_by_pillow_is_one_library_error(fuser, rng, tmp_path):
    path = tmp_path / "whole.png"
    Image.fromarray(smooth_image(rng, HEIGHT, WIDTH)).save(path)
    (tmp_path / "cut.png").write_bytes(path.read_bytes()[:200])
    with pytest.raises(FusionInputError, match=r"^image 1: cannot decode .*cut\.png \(.*\); is the file truncated"):
        fuser.fuse(Image.open(tmp_path / "cut.png"), smooth_image(rng, HEIGHT, WIDTH))


def test_an_image_turned_by_hand_is_not_turned_again(tmp_path):
    """Pillow copies the EXIF tag through transpose/convert: only a file's own image is turned by it
    (a review found an orientation-6 image turned by hand came out turned twice)."""
    from PIL import Image

    from defusion.fusion.inputs import checked_images
    from defusion.io.orientation import EXIF_ORIENTATION

    stored = Image.new("RGB", (40, 20), (10, 120, 200))
    exif = stored.getexif()
    exif[EXIF_ORIENTATION] = 6
    stored.save(tmp_path / "turned.jpg", exif=exif)
    with Image.open(tmp_path / "turned.jpg") as opened:
        by_hand = opened.transpose(Image.Transpose.ROTATE_270)  # what exif_transpose would do
        assert by_hand.getexif().get(EXIF_ORIENTATION) == 6  # the tag came along
        as_file, turned = checked_images([opened, by_hand])
    assert as_file.shape == turned.shape == (40, 20, 3)  # each upright once

"""Pixels as Pillow decodes them, upright, and whether some are transparent; OpenCV's decoding instead where
Pillow would reduce 16-bit colour to 8 bits. The formats Pillow opens for :func:`~defusion.io.images.read_image`
(all but the TIFFs :mod:`defusion.io.tiff` decodes and camera raw files) are read here; a JPEG of more scans than
any encoder writes is refused before it is decoded (:func:`~defusion.io.jpeg.check_jpeg_scans`)."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from defusion.io.arrays import MAX_8BIT
from defusion.io.float_pixels import FloatReading, float_levels
from defusion.io.jpeg import JPEG_FORMATS, check_jpeg_scans
from defusion.io.levels import integer_levels, opaque_alpha
from defusion.io.orientation import UPRIGHT, image_orientation, upright_array, upright_image

#: Bits an integer pixel is stored in where Pillow's raw mode does not say ('I' is 32-bit).
INT_BITS = 32
#: Pillow modes of colour that Pillow reduces to 8 bits when the file holds 16 (OpenCV reads those).
_DEEP_MODES = ("RGB", "RGBA")
#: Pillow modes with an alpha band, and those whose "transparency" key colour or index makes pixels transparent.
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_KEYED_MODES = ("1", "L", "P", "RGB")


def stored_rawmode(im: Image.Image) -> str | None:
    """How the file stores the pixels Pillow will decode ('RGB;16B', 'I;32S', ...): only known before loading."""
    if not im.tile:
        return None
    args = im.tile[0][3]
    rawmode = args[0] if isinstance(args, tuple) else args
    return rawmode if isinstance(rawmode, str) else None


def from_pillow_or_opencv(path: Path, im: Image.Image, rawmode: str | None, orientation: int,
                          floats: FloatReading = "stretch") -> tuple[np.ndarray, bool]:
    """Pixels (upright by ``orientation``, the EXIF one read before loading: UPRIGHT turns nothing) and
    whether some are transparent: Pillow's decoding, OpenCV's where Pillow would reduce 16-bit colour to
    8 bits (``rawmode``, :func:`stored_rawmode` before loading, says). A JPEG (or MPO) of more scans than any
    encoder writes is an ImageReadError naming ``path``, before anything decodes it: each scan costs a pass over
    the whole image (:func:`~defusion.io.jpeg.check_jpeg_scans`)."""
    deep_colour = _is_16bit_colour(im.mode, rawmode)
    if im.format in JPEG_FORMATS and im.tile:  # not loaded yet
        check_jpeg_scans(_stream(im), path)
    im.load()  # decodes everything: truncated files fail here
    decoded = _from_opencv(path, grey=(rawmode or "").startswith("L")) if deep_colour else None
    if decoded is not None:
        array, transparent = decoded
        if im.format == "PNG":  # OpenCV's TIFF reader orients by itself
            array = upright_array(array, orientation)
        return array, transparent
    transparent = _pillow_transparent(im)
    # read again once loaded: libtiff turns a compressed TIFF upright as it decodes and drops the tag; none
    # where ``orientation`` says upright (a caller taking an image as it is: one already turned by hand)
    if orientation != UPRIGHT:
        orientation = image_orientation(path, im)
    return from_pillow(upright_image(im, orientation), path, _stored_bits(rawmode), floats), transparent


def from_pillow(im: Image.Image, path: Path, stored_bits: int, floats: FloatReading = "stretch") -> np.ndarray:
    """A loaded Pillow image's pixels as :func:`~defusion.io.images.read_image` gives them: 16-bit grey as
    uint16, integers and floats as their levels (``stored_bits``: how many bits the file stored an
    integer in), palette and CMYK as RGB, alpha dropped.

    Example:
        >>> from_pillow(Image.new("LA", (3, 2)), Path("a.png"), INT_BITS).shape
        (2, 3)
    """
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return np.asarray(im, dtype=np.uint16)
    if im.mode == "F":
        return float_levels(path, np.asarray(im, dtype=np.float32), floats)
    if im.mode == "I":
        return integer_levels(path, np.asarray(im), stored_bits)
    if im.mode in ("1", "L", "LA"):
        return np.asarray(im.convert("L"))
    if im.mode in ("P", "PA"):  # by RGBA: Pillow warns when a palette's transparency is dropped straight to RGB
        return np.ascontiguousarray(np.asarray(im.convert("RGBA"))[:, :, :3])
    return np.asarray(im.convert("RGB"))


def _stream(im: Image.Image) -> bytes:
    """The bytes an unloaded image's decoder would read: its file from its first tile's offset (an MPO's later
    frame starts past the first), read through the image's own file object, whose place is kept. Empty where
    it cannot be read (no file object, a closed one): loading then says what is wrong."""
    fp = getattr(im, "fp", None)
    try:
        place = fp.tell()
        fp.seek(im.tile[0][2])
        data = fp.read()
        fp.seek(place)
    except (AttributeError, OSError, ValueError):  # no file object, or a closed one
        return b""
    return data if isinstance(data, bytes) else b""


def _is_16bit_colour(mode: str, rawmode: str | None) -> bool:
    """True when Pillow would reduce 16-bit colour (16-bit RGB or RGBA PNG/TIFF, grey + alpha PNG) to 8 bits."""
    return mode in _DEEP_MODES and ";16" in (rawmode or "")


def _stored_bits(rawmode: str | None) -> int:
    """The bits an integer ('I' mode) pixel is stored in: 'I;16S' 16, 'I;32S' or 'I' 32."""
    found = re.search(r";(\d+)", rawmode or "")
    return int(found.group(1)) if found else INT_BITS


def _pillow_transparent(im: Image.Image) -> bool:
    """Whether some pixel of a loaded image is less than opaque (an alpha band, a palette's or a key
    colour's transparency)."""
    if im.mode in _ALPHA_MODES:
        alpha = im.getchannel("A")
    elif im.mode in _KEYED_MODES and "transparency" in im.info:
        alpha = im.convert("RGBA").getchannel("A")
    else:
        return False
    return alpha.getextrema()[0] < MAX_8BIT


def _from_opencv(path: Path, grey: bool = False) -> tuple[np.ndarray, bool] | None:
    """OpenCV's decoding (16-bit colour kept) and whether some pixel is transparent; ``grey``: the file
    stores grey, which OpenCV expands to three equal channels when it has alpha. None if OpenCV cannot."""
    data = np.fromfile(str(path), dtype=np.uint8)
    array = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if array is None or array.dtype not in (np.uint8, np.uint16):
        return None
    transparent = False
    if array.ndim == 3:
        channels = array.shape[2]
        if channels in (2, 4):  # the last is alpha
            transparent = bool(array[:, :, -1].min() < opaque_alpha(array.dtype))
        if channels <= 2 or grey:
            array = array[:, :, 0]
        else:
            array = cv2.cvtColor(array[:, :, :3], cv2.COLOR_BGR2RGB)
    return np.ascontiguousarray(array), transparent


__all__ = ["INT_BITS", "from_pillow", "from_pillow_or_opencv", "stored_rawmode"]

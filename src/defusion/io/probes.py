"""What an image file holds, asked without reading it as :func:`~defusion.io.images.read_image` does: its
upright size from the header, whether it opens as an image, whether its pixels are floats, and the span of
those floats (for the note that reading stretches them). Each answers None or False where it cannot tell,
leaving reading the file to say what is wrong."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from defusion.io.formats import DEFAULT_MAX_PIXELS, open_image
from defusion.io.heif import is_heif, register_heif
from defusion.io.orientation import QUARTER_TURNS, header_orientation
from defusion.io.raw import is_raw, raw_opens
from defusion.io.tiff import TIFF_FLOAT, TIFF_SIGNATURES, is_tiff, tiff_floats


def header_size(source: str | Path | bytes) -> tuple[int, int] | None:
    """(width, height) of the image :func:`~defusion.io.images.read_image` would return (EXIF-upright),
    from its header alone, nothing decoded: to refuse sources of different sizes before the work. None
    where the header cannot tell: not an image of a format defusion reads
    (:func:`~defusion.io.formats.open_image`), a damaged header (reading says what is wrong), a camera
    raw file (its developed size is LibRaw's; for bytes, the caller knows the name).

    A PNG's EXIF may follow its pixels, and Pillow decodes them all to find it, so a PNG without
    EXIF before its pixels is taken as upright: compare sizes whatever their order where that matters.

    Example:
        >>> import cv2
        >>> ok, png = cv2.imencode(".png", np.zeros((4, 6), np.uint8))
        >>> header_size(png.tobytes()), header_size(b"plain text")
        ((6, 4), None)
    """
    if not source or (not isinstance(source, bytes) and is_raw(source)):
        return None
    register_heif()
    try:
        with open_image(io.BytesIO(source) if isinstance(source, bytes) else source) as im:
            width, height = im.size
            orientation = header_orientation(im)
    except Exception:  # noqa: BLE001 - anything Pillow cannot make out from the header: reading reports it
        return None
    return (height, width) if orientation in QUARTER_TURNS else (width, height)


def opens_as_image(path: str | Path) -> bool:
    """Whether ``path`` opens as an image, from its header only (cheap, for listing a folder): False
    for junk and zero-byte files; True for a truncated image (reading it says so) and where the extra
    that reads it is missing (rawpy, pillow-heif), so that reading it says what to install."""
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            return False
    except OSError:
        return False
    if is_raw(path):
        return raw_opens(path)
    if is_heif(path) and not register_heif():
        return True
    try:
        with open_image(path):
            return True
    except Image.DecompressionBombError:  # an image, only too large: reading it says so
        return True
    except Exception:  # Pillow's errors on a file it cannot open; tifffile reads some TIFFs Pillow does not
        return is_tiff(path)


def stores_floats(path: str | Path) -> bool:
    """Whether ``path``'s pixels are floating-point numbers (a 32-bit float TIFF), from its header
    alone: :func:`~defusion.io.images.read_image` reads those one way for fusion and another for scoring
    (``floats``), so a reader that needs both decodes such a file twice, and any other once. False where
    the header cannot tell (reading says what is wrong).

    Example:
        >>> stores_floats("no-such-file.tif")
        False
    """
    path = Path(path)
    if not path.is_file() or is_raw(path):
        return False
    if is_tiff(path):
        import tifffile

        try:
            with tifffile.TiffFile(path) as tif:
                return tif.pages.first.sampleformat == TIFF_FLOAT
        except Exception:  # tifffile's errors on an odd file
            return False
    try:
        with open_image(path) as im:
            return im.mode == "F"
    except Exception:  # noqa: BLE001 - Pillow's errors on a file it cannot open
        return False


def float_span(source: str | Path | bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[float, float] | None:
    """The lowest and highest value of a float image's pixels (a 32-bit float TIFF's first page), from
    its path or its bytes: what :func:`~defusion.io.float_pixels.float_stretched` asks, for a note on how
    reading took them. None for integer pixels, a file over ``max_pixels``, values not all finite, and a
    file that neither tifffile nor Pillow reads (reading it says what is wrong). It decodes the pixels
    again: ask it of float files only where that matters (a note), not on every read.

    Example:
        >>> import cv2
        >>> ok, png = cv2.imencode(".png", np.zeros((4, 6), np.uint8))
        >>> float_span(png.tobytes()), float_span(b"plain text")
        (None, None)
    """
    if not isinstance(source, bytes):
        source = Path(source)
        if not source.is_file() or is_raw(source):
            return None
    tiff = source.startswith(TIFF_SIGNATURES) if isinstance(source, bytes) else is_tiff(source)
    try:
        values = tiff_floats(source, max_pixels) if tiff else _pillow_floats(source, max_pixels)
    except Exception:  # noqa: BLE001 - a TIFF tifffile cannot decode: Pillow reads LZW without imagecodecs
        values = _pillow_floats(source, max_pixels)
    if values is None or not values.size or not np.isfinite(values).all():
        return None
    return float(values.min()), float(values.max())


def _pillow_floats(source: Path | bytes, max_pixels: int) -> np.ndarray | None:
    """An image Pillow opens as float pixels (mode ``F``), decoded; None for any other, over
    ``max_pixels``, or that Pillow cannot read (reading says what is wrong, and warns of what it must)."""
    try:  # no catch_warnings() around it: not thread-safe (the server probes uploads in a thread pool);
        # Pillow's warnings on a damaged EXIF block or a large image are filtered already (io.metadata, open_image)
        with open_image(io.BytesIO(source) if isinstance(source, bytes) else source) as im:
            if im.mode != "F" or im.width * im.height > max_pixels:
                return None
            return np.asarray(im, dtype=np.float32)
    except Exception:  # noqa: BLE001 - Pillow's errors on a file it cannot open: reading says what is wrong
        return None


__all__ = ["float_span", "header_size", "opens_as_image", "stores_floats"]

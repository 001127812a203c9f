"""Reading images the way fusion users have them: 8/16-bit, grey or colour (writing them:
:mod:`defusion.io.writing`).

Every failure a user can cause (missing file, not an image, truncated file, too many pixels) raises
:class:`~defusion.io.errors.ImageReadError` with a one-line message naming the file. Pillow opens only the
formats defusion reads (:func:`defusion.io.formats.open_image`): a file of any other, whatever its name
(an EPS named ``.png``, which Pillow would hand to Ghostscript), is an :class:`ImageFormatError`. What is read with
something left behind (transparency, later frames, levels beyond 16 bits) is said once as a
``defusion: warning`` (:mod:`defusion.io.notes`).

:func:`read_image` is the entry point; its steps live in modules of their own, whose names are imported
from there (of them only :func:`~defusion.io.writing.write_image`, the README's import, is importable from
here too): the pixel bound (:mod:`defusion.io.pixel_bound`), frames counted (:mod:`defusion.io.frames`),
EXIF orientation (:mod:`defusion.io.orientation`), TIFFs decoded by tifffile (:mod:`defusion.io.tiff`),
Pillow's and OpenCV's decoding (:mod:`defusion.io.pillow_decoding`), levels (:mod:`defusion.io.levels`,
float pixels :mod:`defusion.io.float_pixels`) and the questions asked of a file without reading it
(:mod:`defusion.io.probes`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from defusion.errors import DefusionError
from defusion.io.errors import ImageReadError, PixelValueError  # defined there: the CLI names it without OpenCV
from defusion.io.float_pixels import FLOAT_READINGS, FloatReading
from defusion.io.formats import DEFAULT_MAX_PIXELS, held_format, open_image, pillow_formats
from defusion.io.frames import count_frames, tiff_pages, warn_frames
from defusion.io.front_end import transparent_warning
from defusion.io.heif import HEIF_EXTRA, HEIF_SUFFIXES, is_heif, register_heif
from defusion.io.jpeg import JPEG_FORMATS, corrupt_jpeg_data, corrupt_jpeg_warning
from defusion.io.notes import warn
from defusion.io.orientation import image_orientation
from defusion.io.pillow_decoding import from_pillow_or_opencv, stored_rawmode
from defusion.io.pixel_bound import allow_pixels, bomb_error, check_pixels
from defusion.io.raw import RAW_SUFFIXES, RawReadError, is_raw, raw_size, read_raw
from defusion.io.tiff import from_tifffile, is_tiff
# Writing is defusion.io.writing's; write_image stays importable from here, beside read_image (the README's import).
from defusion.io.writing import write_image

#: Suffixes of the files :func:`read_image` reads: the formats cameras, phones (with the ``heif``
#: extra), raw converters (with ``raw``), benchmarks and image editors write. Folders are searched for these.
READ_SUFFIXES = (".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".tif", ".tiff", ".bmp", ".dib", ".webp", ".gif", ".ppm",
                 ".pgm", ".pbm", ".pnm", ".tga", *HEIF_SUFFIXES, *RAW_SUFFIXES)
#: The same formats by name, for messages.
READ_FORMATS = "PNG, JPEG, TIFF, BMP, WebP, GIF, PNM, TGA, HEIC/HEIF and camera raw files"


class ReadOptionError(DefusionError, ValueError):
    """An argument :func:`read_image` cannot take: an unknown ``floats`` reading (a ValueError, as
    before this class existed)."""


class ImageFormatError(ImageReadError):
    """A file holding an image format defusion does not read (EPS, PSD, FITS, ...), whatever its name:
    refused from its first bytes, never handed to the Pillow plugin for it (EPS's starts Ghostscript)."""


def read_image(path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS, floats: FloatReading = "stretch"
               ) -> np.ndarray:
    """Decode ``path`` to HxW (grey) or HxWx3 (RGB), uint8 or uint16 (float32 for a float file read
    with ``floats="levels"`` or ``"values"``), EXIF-upright.

    Alpha is dropped: transparent pixels fuse as their colour values (a warning says so where some
    pixel is less than opaque). Palette and CMYK images become RGB; 16-bit data stays 16-bit, with
    alpha too, and grey + alpha stays HxW. Of an animated image or a multi-page TIFF the first frame
    is read (a warning says so). Integer pixels stored in other than 16 bits (a 32-bit TIFF) are
    8-bit data when none is over 255; integers are 16-bit data when all are in 0..65535, and beyond
    that scaled to 16 bits by their maximum (by their range where some are negative), with a warning.
    Float pixels are read as ``floats`` says (:data:`FloatReading`): for fusion (``stretch``, the
    default) as 16-bit, those outside [0, 1] stretched; for scoring (``levels``) as the float32 values
    they are, where they lie in [0, 1] or on 0..255, and any other range is an ImageReadError; as the
    float32 values whatever their range (``values``), for a caller that maps them itself. Grey and
    RGB TIFFs are decoded by tifffile where it can (:func:`~defusion.io.tiff.from_tifffile`), the rest
    by Pillow. The pixel bound is checked from the header, before anything is decoded. Camera raw
    files (DNG, CR2, NEF, ...) are developed to 16-bit sRGB with the ``raw`` extra (:mod:`defusion.io.raw`).
    A file holding any other format Pillow knows (EPS, PSD, ...) is an :class:`ImageFormatError`, never
    handed to Pillow's plugin for it. A JPEG whose data libjpeg finds corrupt (flipped bytes: a garbled
    picture, which Pillow decodes without a word) is read with a warning
    (:func:`~defusion.io.jpeg.corrupt_jpeg_data`); a truncated one is an ImageReadError, and so is one
    of more scans than any encoder writes, refused before it is decoded (each scan costs a pass over the
    whole image: :func:`~defusion.io.jpeg.check_jpeg_scans`, in the decoding step).
    The array is the caller's own: writable, sharing memory with nothing.

    Example:
        >>> import tempfile
        >>> image = read_image(write_image(Path(tempfile.mkdtemp()) / "grey.png", np.zeros((2, 3), np.uint8)))
        >>> image.shape, image.dtype, image.flags.writeable
        ((2, 3), dtype('uint8'), True)
    """
    if floats not in FLOAT_READINGS:
        raise ReadOptionError(f"unknown float reading {floats!r}; use one of {', '.join(FLOAT_READINGS)}")
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(f"{path}: no such file" if not path.exists() else f"{path}: is not a file")
    if path.stat().st_size == 0:  # as the server says an empty upload: not "a format that cannot be read"
        raise ImageReadError(f"{path}: empty file (0 bytes)")
    if is_raw(path):
        return _writable(_read_raw(path, max_pixels))
    register_heif()
    allow_pixels(max_pixels)
    corrupt = None  # libjpeg's words for a JPEG's corrupt data
    try:
        with open_image(path) as im:
            check_pixels(path, *im.size, max_pixels)
            rawmode = stored_rawmode(im)  # before anything loads the pixels (a PNG's EXIF may follow them)
            warn_frames(path, im.format, count_frames(path, im))
            orientation = image_orientation(path, im)
            decoded = from_tifffile(path, max_pixels, floats) if im.format == "TIFF" else None
            if decoded is None:
                decoded = from_pillow_or_opencv(path, im, rawmode, orientation, floats)
                if im.format in JPEG_FORMATS:
                    corrupt = corrupt_jpeg_data(path)
    except Image.DecompressionBombError as exc:  # Pillow's own guard, before the header is ours
        raise bomb_error(path, exc, max_pixels) from None
    except UnidentifiedImageError:
        decoded = from_tifffile(path, max_pixels, floats) if is_tiff(path) else None  # e.g. 16-bit grey + alpha
        if decoded is not None:
            warn_frames(path, "TIFF", tiff_pages(path))
        else:
            if is_heif(path) and not register_heif():
                raise ImageReadError(f"{path}: a HEIC/HEIF image; reading it needs pillow-heif: {HEIF_EXTRA}") from None
            _refuse_other_format(path)
            raise ImageReadError(f"{path}: not an image, or a format that cannot be read") from None
    except (OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, ImageReadError):
            raise
        if isinstance(exc, PixelValueError):  # decoded, but holding what no reading takes (NaN floats): not a damaged file
            raise ImageReadError(f"{path}: {exc}") from None
        raise ImageReadError(f"{path}: cannot decode ({exc}); is the file truncated or corrupt?") from None
    array, transparent = decoded
    if corrupt is not None:
        warn(corrupt_jpeg_warning(str(path), corrupt))
    if transparent:
        warn(transparent_warning(str(path)))
    return _writable(array)


def _writable(array: np.ndarray) -> np.ndarray:
    """``array``, copied where it is read-only: ``np.asarray`` of a Pillow image wraps the image's
    bytes, which nothing may write (``a[0, 0] = 0`` fails, ``torch.from_numpy`` warns). An array
    decoding or a conversion made afresh (tifffile's, OpenCV's, a stretch's) is returned as it is.

    Example:
        >>> frozen = np.frombuffer(bytes(4), np.uint8)
        >>> _writable(frozen).flags.writeable, _writable(frozen.copy()).base is None
        (True, True)
    """
    return array if array.flags.writeable else array.copy()


def _read_raw(path: Path, max_pixels: int) -> np.ndarray:
    """A camera raw file developed to 16-bit sRGB (:mod:`defusion.io.raw`), the pixel bound checked
    from its header first."""
    try:
        check_pixels(path, *raw_size(path), max_pixels)
        return read_raw(path)
    except RawReadError as exc:
        raise ImageReadError(str(exc)) from None


def _refuse_other_format(path: Path) -> None:
    """ImageFormatError where ``path`` holds an image format that defusion does not read (its first
    bytes say which), rather than "not an image"."""
    held = held_format(path)
    if held is not None and held not in pillow_formats():
        raise ImageFormatError(f"{path}: not an image defusion reads (it holds {held} data?); defusion reads "
                               f"{READ_FORMATS}") from None


# Only what is defined here, and write_image (defined in defusion.io.writing), which the README imports from here
# beside read_image; every other name is imported from its own module (its errors from defusion.io.errors and
# defusion.io.pixel_bound, float readings from defusion.io.float_pixels, probes from defusion.io.probes).
__all__ = ["READ_SUFFIXES", "READ_FORMATS", "ImageFormatError", "ReadOptionError", "read_image", "write_image"]

"""Reading and writing images the way fusion users have them: 8/16-bit, grey or colour.

Every failure a user can cause (missing file, not an image, truncated file, too many
pixels) raises :class:`ImageReadError` with a one-line message naming the file.
"""

from __future__ import annotations

import os
import re
import warnings
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from defusion.io.heif import HEIF_EXTRA, is_heif, register_heif
from defusion.io.metadata import ImageMetadata, embed_metadata, tiff_with_metadata, webp_with_metadata
from defusion.io.raw import RawReadError, is_raw, raw_size, read_raw

#: Default bound on width x height of an input (decompression-bomb guard): 100 MP.
DEFAULT_MAX_PIXELS = 100_000_000
#: Suffixes that :func:`write_image` can produce.
WRITABLE_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp", ".webp")
#: Suffixes that keep 16-bit data (the others are written with 8 bits).
SIXTEEN_BIT_SUFFIXES = (".png", ".tif", ".tiff")
#: JPEG quality (``write_image``'s default) and the one from which colour is kept at full resolution.
DEFAULT_JPEG_QUALITY = 95
FULL_CHROMA_QUALITY = 90
#: OpenCV's WebP quality above 100 selects lossless coding.
_WEBP_LOSSLESS = 101
_EXIF_ORIENTATION = 0x0112


class ImageReadError(ValueError):
    """An input image that cannot be used; the message says which file and why."""


class ImageTooLargeError(ImageReadError):
    """An input over the pixel bound."""


def _allow_pixels(max_pixels: int) -> None:
    """Let Pillow open what ``max_pixels`` allows: its own bomb guard (89.5 MP, refusing over twice
    that) would otherwise refuse a larger bound the user set; never lowered, so other code's
    setting keeps its meaning."""
    if Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < max_pixels:
        Image.MAX_IMAGE_PIXELS = max_pixels


@contextmanager
def _no_bomb_warning() -> Iterator[None]:
    """Pillow's DecompressionBombWarning unshown: the pixel bound says the same in one line."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield


def _pixels(count: int) -> str:
    """A pixel count a person can read: '12.0 MP', or the exact count under 0.1 MP."""
    return f"{count / 1e6:.1f} MP" if count >= 100_000 else f"{count:,} pixels"


def read_image(path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode ``path`` to HxW (grey) or HxWx3 (RGB), uint8 or uint16, EXIF-upright.

    Alpha is dropped; palette and CMYK images become RGB. The pixel bound is checked
    from the header, before anything is decoded. Camera raw files (DNG, CR2, NEF, ...) are
    developed to 16-bit sRGB with the ``raw`` extra (:mod:`defusion.io.raw`).
    """
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(f"{path}: no such file" if not path.exists() else f"{path}: is not a file")
    if is_raw(path):
        return _read_raw(path, max_pixels)
    register_heif()
    _allow_pixels(max_pixels)
    try:
        with _no_bomb_warning(), Image.open(path) as im:
            width, height = im.size
            if width * height > max_pixels:
                raise ImageTooLargeError(
                    f"{path}: {width}x{height} is {_pixels(width * height)}, over the limit of "
                    f"{_pixels(max_pixels)} (raise it with --max-pixels)")
            deep_colour = im.mode == "RGB" and _is_16bit_tile(im)
            orientation = im.getexif().get(_EXIF_ORIENTATION, 1)
            im.load()  # decodes everything: truncated files fail here
            array = _from_opencv(path) if deep_colour else None
            if array is None:
                array = _from_pillow(ImageOps.exif_transpose(im))
            elif im.format == "PNG":  # OpenCV's TIFF reader orients by itself
                array = _apply_orientation(array, orientation)
    except Image.DecompressionBombError as exc:  # Pillow's own guard, before the header is ours
        found = re.search(r"\((\d+) pixels\)", str(exc))
        count = int(found.group(1)) if found else None
        if count is None or count > max_pixels:
            raise ImageTooLargeError(f"{path}: {_pixels(count) + ', ' if count else ''}over the limit of "
                                     f"{_pixels(max_pixels)} (raise it with --max-pixels)") from None
        raise ImageTooLargeError(  # Pillow's bound, lowered by other code below ours
            f"{path}: {_pixels(count)} is too many pixels for Pillow to open safely (its decompression-bomb "
            "guard, Image.MAX_IMAGE_PIXELS)") from None
    except UnidentifiedImageError:
        if is_heif(path) and not register_heif():
            raise ImageReadError(f"{path}: a HEIC/HEIF image; reading it needs pillow-heif: {HEIF_EXTRA}") from None
        raise ImageReadError(f"{path}: not an image, or a format that cannot be read") from None
    except (OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, ImageReadError):
            raise
        raise ImageReadError(f"{path}: cannot decode ({exc}); is the file truncated or corrupt?") from None
    return array


def _read_raw(path: Path, max_pixels: int) -> np.ndarray:
    """A camera raw file developed to 16-bit sRGB (:mod:`defusion.io.raw`), the pixel bound checked
    from its header first."""
    try:
        width, height = raw_size(path)
        if width * height > max_pixels:
            raise ImageTooLargeError(f"{path}: {width}x{height} is {_pixels(width * height)}, over the limit of "
                                     f"{_pixels(max_pixels)} (raise it with --max-pixels)")
        return read_raw(path)
    except RawReadError as exc:
        raise ImageReadError(str(exc)) from None


def _is_16bit_tile(im: Image.Image) -> bool:
    """True when Pillow would reduce 16-bit colour to 8 bits (16-bit RGB PNG/TIFF)."""
    if not im.tile:
        return False
    args = im.tile[0][3]
    rawmode = args[0] if isinstance(args, tuple) else args
    return isinstance(rawmode, str) and ";16" in rawmode


def _from_pillow(im: Image.Image) -> np.ndarray:
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return np.asarray(im, dtype=np.uint16)
    if im.mode == "F":
        return _float_to_uint16(np.asarray(im, dtype=np.float32))
    if im.mode == "I":
        return np.clip(np.asarray(im), 0, 65535).astype(np.uint16)
    if im.mode in ("1", "L", "LA"):
        return np.asarray(im.convert("L"))
    return np.asarray(im.convert("RGB"))


def _float_to_uint16(values: np.ndarray) -> np.ndarray:
    """A float image (a 32-bit TIFF) as 16-bit: values in [0, 1] as they are; any other range (a
    radiometric thermal frame in degrees, a 0..255 float image) stretched from its minimum to its
    maximum, as a display of it would."""
    if not np.isfinite(values).all():
        raise ValueError("a float image holding NaN or infinite values")
    lo, hi = float(values.min()), float(values.max())
    if not (lo >= 0 and hi <= 1):
        values = (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)
    return np.round(values * 65535).astype(np.uint16)


def _from_opencv(path: Path) -> np.ndarray | None:
    data = np.fromfile(str(path), dtype=np.uint8)
    array = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if array is None or array.dtype not in (np.uint8, np.uint16):
        return None
    if array.ndim == 3:
        if array.shape[2] == 1:
            return array[:, :, 0]
        if array.shape[2] == 2:  # grey + alpha
            return array[:, :, 0]
        array = cv2.cvtColor(array[:, :, :3], cv2.COLOR_BGR2RGB)
    return np.ascontiguousarray(array)


def _apply_orientation(array: np.ndarray, orientation: int) -> np.ndarray:
    """Rotate/flip as EXIF orientation 1-8 asks (what ImageOps.exif_transpose does)."""
    ops = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: np.swapaxes(a, 0, 1),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: np.swapaxes(a, 0, 1)[::-1, ::-1],
        8: lambda a: np.rot90(a, 1),
    }
    op = ops.get(orientation)
    return np.ascontiguousarray(op(array)) if op else array


def write_image(path: str | Path, image: np.ndarray, quality: int = DEFAULT_JPEG_QUALITY,
                metadata: ImageMetadata | None = None) -> Path:
    """Write HxW or HxWx3 uint8/uint16 to ``path`` atomically; returns the path.

    16-bit data is kept in PNG and TIFF and reduced to 8 bits for JPEG, BMP and WebP. JPEG is
    written at ``quality`` (1-100), with full-resolution colour (4:4:4) from
    :data:`FULL_CHROMA_QUALITY` up, as photo editors save high-quality JPEGs (4:2:0 halves the colour
    resolution and smears coloured edges); WebP lossless (a compact file with no loss, as a measured
    image needs).
    ``metadata`` (an ICC profile and EXIF, :mod:`defusion.io.metadata`) goes into PNG, JPEG, WebP
    and TIFF (there the EXIF's camera, date and rights tags).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITABLE_SUFFIXES:
        raise ValueError(f"{path}: cannot write '{suffix or 'no suffix'}'; use one of {', '.join(WRITABLE_SUFFIXES)}")
    if image.dtype == np.uint16 and suffix not in SIXTEEN_BIT_SUFFIXES:
        image = (image.astype(np.float32) / 257.0 + 0.5).astype(np.uint8)
    if image.dtype not in (np.uint8, np.uint16):
        raise TypeError(f"write_image needs uint8 or uint16 data, got {image.dtype}")
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    if not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality must be from 1 to 100, got {quality}")
    jpeg = [cv2.IMWRITE_JPEG_QUALITY, quality]
    if quality >= FULL_CHROMA_QUALITY:
        jpeg += [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
    params = {".jpg": jpeg, ".jpeg": jpeg, ".webp": [cv2.IMWRITE_WEBP_QUALITY, _WEBP_LOSSLESS]}.get(suffix, [])
    ok, encoded = cv2.imencode(suffix, bgr, params)
    if not ok:
        raise OSError(f"{path}: encoding failed")
    if metadata is None or not (metadata.icc_profile or metadata.exif):
        data = encoded.tobytes()
    elif suffix in (".tif", ".tiff"):
        data = tiff_with_metadata(image, metadata)
    elif suffix == ".webp":
        data = webp_with_metadata(image, metadata)
    else:
        data = embed_metadata(encoded.tobytes(), suffix, metadata)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:  # named after the file asked for, not the hidden temporary
        with suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise OSError(f"{path}: cannot write ({exc.strerror or exc})") from None
    return path

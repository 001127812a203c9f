"""Writing images and other output files: :func:`write_image` (8/16-bit, with metadata), atomic writes
(:func:`write_bytes_atomically`), and checks that an output path or folder can be written before the work."""

from __future__ import annotations

import errno
import numbers
import os
import uuid
from contextlib import suppress
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import ArrayLike

from defusion.errors import DefusionError, channels_first_hint
from defusion.io.atomic import atomic_path
from defusion.io.eight_bits import LEVEL_16BIT, float_to_uint8, uint16_to_uint8
from defusion.io.errors import ImageWriteError, ImageWriteTypeError
# What write_image can produce and JPEG qualities: defined there, for the CLI's fast --help.
from defusion.io.formats import (DEFAULT_JPEG_QUALITY, FULL_CHROMA_QUALITY, QUALITY_SUFFIXES, SIXTEEN_BIT_SUFFIXES,
                                 WRITABLE_SUFFIXES, one_of, suffixes_holding, too_large)
from defusion.io.metadata import ImageMetadata, embed_metadata, tiff_with_metadata, webp_with_metadata
from defusion.io.unit_floats import FLOAT_RANGE_TOLERANCE, unit_float_to_uint16

#: OpenCV's WebP quality above 100 selects lossless coding.
_WEBP_LOSSLESS = 101


def write_image(path: str | Path, image: np.ndarray, quality: int | None = None,
                metadata: ImageMetadata | None = None, bits: int | None = None) -> Path:
    """Write HxW, HxWx1, HxWx3 (RGB) or HxWx4 (RGBA) pixels to ``path`` atomically; returns the path.

    Pixels are uint8, uint16, or float in [0, 1] (what :meth:`defusion.Fuser.fuse` returns for float
    sources), written with ``bits`` per sample: 8 or 16, None for the data's own (8 for floats,
    rounded). 16-bit data is kept in PNG and TIFF and reduced to 8 bits for JPEG, BMP and WebP.
    RGBA keeps its alpha where the format holds one (not JPEG). JPEG is
    written at ``quality`` (1-100; None: :data:`DEFAULT_JPEG_QUALITY`), with full-resolution colour
    (4:4:4) from :data:`FULL_CHROMA_QUALITY` up, as photo editors save high-quality JPEGs (4:2:0 halves
    the colour resolution and smears coloured edges); WebP lossless where ``quality`` is None (a compact
    file with no loss, as a measured image needs), lossy at ``quality`` where one is given (a smaller file
    to share). The other formats are lossless and take no quality.
    ``metadata`` (an ICC profile and EXIF, :mod:`defusion.io.metadata`) goes into PNG, JPEG, WebP
    and TIFF (there the EXIF's camera, date and rights tags).

    Refused pixels and settings raise :class:`~defusion.io.errors.ImageWriteError` (a ValueError),
    pixels of another type :class:`~defusion.io.errors.ImageWriteTypeError` (a TypeError), before
    anything is written.

    Example:
        >>> write_image("out.png", np.zeros((3, 20, 30), np.uint8))
        Traceback (most recent call last):
        ...
        defusion.io.errors.ImageWriteError: write_image takes HxW or HxWxC pixels with C 1, 3 or 4 (grey, RGB, RGBA); got shape (3, 20, 30), which looks channels-first (CxHxW): pass np.moveaxis(x, 0, -1), or x.permute(1, 2, 0) for a tensor
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITABLE_SUFFIXES:
        raise ImageWriteError(f"{path}: cannot write '{suffix or 'no suffix'}'; use one of "
                              f"{', '.join(WRITABLE_SUFFIXES)}")
    try:
        data = encode_image(image, suffix, quality, metadata, bits)
    except ImageTooLargeError as exc:  # said, with what to write instead, before any encoder ran
        raise OSError(f"{path}: {exc}") from None
    except _EncodingFailed:
        raise OSError(f"{path}: encoding failed") from None
    write_bytes_atomically(path, data)
    return path


class _EncodingFailed(OSError):
    """OpenCV could not encode the pixels (write_image names the file)."""


class ImageTooLargeError(DefusionError, _EncodingFailed):
    """A side past what the format's encoder takes (:data:`~defusion.io.formats.MAX_SIDES`), refused in
    one line naming the formats that take it, before the encoder prints its own errors and fails."""


def encode_image(image: np.ndarray, suffix: str, quality: int | None = None,
                 metadata: ImageMetadata | None = None, bits: int | None = None) -> bytes:
    """The bytes :func:`write_image` writes to a file of ``suffix`` (``.png``, ``.jpg``, ...): one
    encoder for files and for answers sent over the network (the REST API's), by the same rules.
    ``quality`` None is each format's default: JPEG at :data:`DEFAULT_JPEG_QUALITY`, WebP lossless.
    A side past the format's encoder limit (:data:`~defusion.io.formats.MAX_SIDES`) is an
    :class:`ImageTooLargeError` (an OSError) of one line, before anything is encoded.

    Example:
        >>> encode_image(np.zeros((4, 6, 3), np.uint8), ".jpg")[:3], encode_image(np.zeros((4, 6), np.uint16), ".png")[:4]
        (b'\\xff\\xd8\\xff', b'\\x89PNG')
        >>> lossless, lossy = (encode_image(np.zeros((4, 6, 3), np.uint8), ".webp", q) for q in (None, 80))
        >>> lossless[12:16], lossy[12:16]  # WebP's VP8L chunk (lossless), VP8 (lossy)
        (b'VP8L', b'VP8 ')
    """
    suffix = suffix.lower()
    if suffix not in WRITABLE_SUFFIXES:
        raise ImageWriteError(f"cannot encode '{suffix or 'no suffix'}'; use one of {', '.join(WRITABLE_SUFFIXES)}")
    _check_quality(quality)
    image = _checked_pixels(image)
    height, width = image.shape[:2]
    why = too_large(suffix, width, height)
    if why is not None:
        raise ImageTooLargeError(f"{why}: write {one_of(suffixes_holding(width, height))}")
    image = _with_depth(image, bits)
    if image.dtype == np.uint16 and suffix not in SIXTEEN_BIT_SUFFIXES:
        image = uint16_to_uint8(image)
    bgr = cv2.cvtColor(image, _TO_BGR[image.shape[2]]) if image.ndim == 3 else image
    ok, encoded = cv2.imencode(suffix, bgr, _encoder_params(suffix, quality))
    if not ok:
        raise _EncodingFailed(f"encoding '{suffix}' failed")
    if metadata is None or not (metadata.icc_profile or metadata.exif):
        return encoded.tobytes()
    if suffix in (".tif", ".tiff"):
        return tiff_with_metadata(image, metadata)
    if suffix == ".webp":
        return webp_with_metadata(image, metadata, quality=None if quality is None else int(quality))
    return embed_metadata(encoded.tobytes(), suffix, metadata)


#: Channels an HxWxC image to write may have: grey, RGB, RGBA.
_CHANNELS = (1, 3, 4)
#: OpenCV's conversion of RGB and RGBA to the BGR(A) it encodes.
_TO_BGR = {3: cv2.COLOR_RGB2BGR, 4: cv2.COLOR_RGBA2BGRA}
#: Bits per sample write_image writes (``bits``).
_BITS = (8, 16)


def _check_quality(quality: int | None) -> None:
    """Refuse a quality (JPEG's, WebP's) that is not None or a whole number from 1 to 100, before any
    pixel is converted."""
    if quality is None:
        return
    if isinstance(quality, bool) or not isinstance(quality, numbers.Integral) or not 1 <= quality <= 100:
        raise ImageWriteError(f"JPEG or WebP quality must be a whole number from 1 to 100, got {quality!r}")


def _encoder_params(suffix: str, quality: int | None) -> list[int]:
    """OpenCV's parameters for ``suffix`` at ``quality`` (None: the format's default): JPEG at the quality
    (:data:`DEFAULT_JPEG_QUALITY`), 4:4:4 from :data:`FULL_CHROMA_QUALITY` up; WebP lossless, or lossy at
    the quality given; nothing for the lossless formats (:data:`QUALITY_SUFFIXES` are the ones it sets)."""
    if suffix not in QUALITY_SUFFIXES:
        return []
    if suffix == ".webp":
        return [cv2.IMWRITE_WEBP_QUALITY, _WEBP_LOSSLESS if quality is None else int(quality)]
    quality = DEFAULT_JPEG_QUALITY if quality is None else int(quality)
    jpeg = [cv2.IMWRITE_JPEG_QUALITY, quality]
    if quality >= FULL_CHROMA_QUALITY:
        jpeg += [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
    return jpeg


def _checked_pixels(image: ArrayLike) -> np.ndarray:
    """``image`` as an HxW or HxWxC (C 3 or 4) uint8, uint16 or float32 array in [0, 1], HxWx1 as HxW;
    refused with one line saying what to pass where OpenCV would raise its own error (or write nonsense)."""
    image = np.asarray(image)
    if image.dtype.kind == "u" and image.dtype.itemsize in (1, 2):
        image = image.astype(image.dtype.newbyteorder("="), copy=False)  # a big-endian uint16 as native
    elif image.dtype.kind == "f":
        image = _checked_floats(image)
    else:
        raise ImageWriteTypeError(f"write_image takes uint8 or uint16 pixels, or floats in [0, 1]; got {image.dtype}: "
                                  "convert first (image.astype(np.uint8) for values 0-255, image.astype(np.uint16) "
                                  "for values 0-65535, "
                                  "image.astype(np.uint8) * 255 for a mask)")
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in _CHANNELS)):
        raise ImageWriteError(f"write_image takes HxW or HxWxC pixels with C 1, 3 or 4 (grey, RGB, RGBA); got shape "
                              f"{image.shape}{channels_first_hint(image.shape, _CHANNELS)}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ImageWriteError(f"write_image got an image without pixels ({image.shape[1]} x {image.shape[0]})")
    return image[..., 0] if image.ndim == 3 and image.shape[2] == 1 else image


def _checked_floats(image: np.ndarray) -> np.ndarray:
    """Float pixels as float32 in [0, 1], refused unless finite and in that range give or take
    FLOAT_RANGE_TOLERANCE (float arithmetic's overshoot, clipped), as fusion takes float sources."""
    if image.size and not np.isfinite(image).all():
        raise ImageWriteError("write_image takes float pixels in [0, 1]; these hold NaN or infinite values")
    low, high = (float(image.min()), float(image.max())) if image.size else (0.0, 0.0)
    if low < -FLOAT_RANGE_TOLERANCE or high > 1.0 + FLOAT_RANGE_TOLERANCE:
        raise ImageWriteError(f"write_image takes float pixels in [0, 1]; these span {low:.6g} to {high:.6g} "
                              "(divide 0-255 values by 255, or np.clip(image, 0, 1))")
    return np.clip(image, 0.0, 1.0).astype(np.float32, copy=False)


def _with_depth(image: np.ndarray, bits: int | None) -> np.ndarray:
    """``image`` (uint8, uint16 or float32 in [0, 1]) with ``bits`` per sample: uint8 or uint16
    (None: the data's own; 8 for floats), floats rounded."""
    if bits is not None and (isinstance(bits, bool) or bits not in _BITS):
        raise ImageWriteError(f"bits must be 8 or 16 (None: the data's own, 8 for floats), got {bits!r}")
    if image.dtype == np.float32:
        return unit_float_to_uint16(image) if bits == 16 else float_to_uint8(image)
    if bits == 16 and image.dtype == np.uint8:
        return image.astype(np.uint16) * LEVEL_16BIT
    if bits == 8 and image.dtype == np.uint16:
        return uint16_to_uint8(image)
    return image


#: The longest file name (bytes) assumed where the file system cannot be asked: most take 255.
_NAME_MAX = 255
#: Shown of a name too long to write (a name of 255 bytes would fill the line).
_NAME_SHOWN = 24


def write_bytes_atomically(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in its folder, renamed into place: a run
    killed, or a disk filling, while writing leaves the previous file whole and no partial one.

    The temporary name is short (:func:`~defusion.io.atomic.atomic_path`), so that every name the folder
    takes can be written. A failure is an OSError of one line naming ``path`` (not the temporary) and
    the reason, with the OS's ``errno``.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    except OSError as exc:
        blocker = _file_in_the_way(path.parent)
        reason = f"{blocker} is a file, not a folder" if blocker else (exc.strerror or str(exc))
        raise _os_error(f"{path}: cannot write ({reason})", exc.errno) from None
    return path


def check_path(path: str | Path) -> None:
    """Raise an OSError of one line where ``path`` can never be written, touching nothing: a part
    of it is a longer name than the file system takes, or a file stands where a folder must be.
    The message does not repeat ``path``: callers name it as it was given (``-o PATH: ...``).

    Example:
        >>> check_path("out/" + "e" * 300 + ".png")
        Traceback (most recent call last):
        OSError: the name eeeeeeeeeeeeeeeeeeeeeeee... is 304 bytes long; this file system takes names of at most 255
    """
    path = Path(path)
    limit = _name_max(path)
    for part in path.parts:
        size = len(os.fsencode(part))
        if size > limit:
            shown = part if len(part) <= _NAME_SHOWN else part[:_NAME_SHOWN] + "..."
            raise _os_error(f"the name {shown} is {size} bytes long; this file system takes names of at most "
                            f"{limit}", errno.ENAMETOOLONG)
    blocker = _file_in_the_way(path.parent)
    if blocker is not None:
        raise _os_error(f"{blocker} is a file, not a folder", errno.ENOTDIR)


def check_writable_folder(folder: str | Path) -> None:
    """Raise an OSError of one line (the reason, without ``folder``) unless files can be written in
    ``folder``: the folders missing are made, a small file is made and removed there, then the folders
    made are removed again. Said before minutes of work, not after: read-only, full, not allowed."""
    folder = Path(folder)
    check_path(folder / "x")
    made = [p for p in (folder, *folder.parents) if not os.path.isdir(p)]  # deepest first
    probe = folder / f".defusion-probe-{uuid.uuid4().hex[:8]}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"defusion")
        probe.unlink()
    except OSError as exc:
        with suppress(OSError):
            probe.unlink(missing_ok=True)
        raise _os_error(f"cannot write in {folder} ({exc.strerror or exc})", exc.errno) from None
    finally:
        for made_folder in made:
            with suppress(OSError):
                made_folder.rmdir()


def _name_max(path: Path) -> int:
    """The longest file name (bytes) the file system of ``path``'s nearest existing folder takes;
    :data:`_NAME_MAX` where it cannot be asked (Windows has no ``os.pathconf``)."""
    pathconf = getattr(os, "pathconf", None)
    if pathconf is None:
        return _NAME_MAX
    existing = next((p for p in (path, *path.parents) if os.path.isdir(p)), Path("."))
    try:
        return pathconf(existing, "PC_NAME_MAX")
    except (OSError, ValueError):
        return _NAME_MAX


def _file_in_the_way(folder: Path) -> Path | None:
    """The nearest of ``folder`` and its parents that exists, where it is not a folder, else None."""
    existing = next((p for p in (folder, *folder.parents) if os.path.exists(p)), None)
    return existing if existing is not None and not os.path.isdir(existing) else None


def _os_error(message: str, code: int | None) -> OSError:
    """An OSError whose text is ``message`` alone (no "[Errno N]") that keeps the OS's ``code``:
    callers tell a full or read-only disk (which stops a batch) from a problem of one file."""
    error = OSError(message)
    error.errno = code
    return error


__all__ = ["ImageTooLargeError", "encode_image", "write_image", "write_bytes_atomically", "check_path", "check_writable_folder"]

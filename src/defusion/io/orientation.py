"""EXIF orientation: read from an image's EXIF block (or its header alone, nothing decoded) and applied
to a Pillow image or a pixel array, so that every image is read upright, as a viewer shows it."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PIL import Image

from defusion.io.notes import warn

#: The EXIF (and TIFF) tag of the orientation.
EXIF_ORIENTATION = 0x0112
#: The EXIF orientation of an image stored upright (and of one that says none).
UPRIGHT = 1
#: EXIF orientations that turn an image a quarter (its width and height swap).
QUARTER_TURNS = (5, 6, 7, 8)
#: The byte orders a TIFF header (and so an EXIF block) starts with: little-endian, big-endian.
_TIFF_HEADERS = {b"II*\x00": "little", b"MM\x00*": "big"}
#: What may precede an EXIF block's TIFF header (a JPEG APP1's, or a PNG eXIf chunk as Pillow gives it).
_EXIF_PREFIX = re.compile(b"^(Exif\x00\x00){1,2}")
#: Bytes of a TIFF header (byte order, 42, the first directory's offset) and of a directory's tag count.
_HEADER_BYTES, _COUNT_BYTES = 8, 2
#: EXIF orientation -> the transpose that makes the image upright (as ImageOps.exif_transpose).
_UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
            5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
            8: Image.Transpose.ROTATE_90}


def image_orientation(path: Path, im: Image.Image) -> int:
    """The EXIF orientation (1-8; 1 where there is none); a broken EXIF block is warned about and
    the pixels taken as stored, rather than the file refused (Pillow raises all sorts on one, or reads
    no tag from one whose TIFF header is garbled: :func:`unread_exif`).

    Example:
        >>> import io
        >>> exif, jpeg = Image.Exif(), io.BytesIO()
        >>> exif[EXIF_ORIENTATION] = 6  # a camera held upright: turned a quarter clockwise to show it
        >>> Image.new("RGB", (3, 2)).save(jpeg, "JPEG", exif=exif)
        >>> with Image.open(jpeg) as im:
        ...     image_orientation(Path("IMG_01.jpg"), im)
        6
    """
    try:
        exif = im.getexif()
        value = exif.get(EXIF_ORIENTATION, 1)
    except OSError:  # a PNG's EXIF may follow its pixels, so this decodes them: a corrupt or truncated
        raise        # stream fails here, and Pillow does not raise it again on load (zeros instead)
    except Exception as exc:  # noqa: BLE001 - TypeError, struct.error, ... from a corrupt block
        _warn_unreadable(path, type(exc).__name__)
        return 1
    problem = unread_exif(im.info.get("exif"), len(exif))
    if problem:
        _warn_unreadable(path, problem)
        return 1
    return value if value in _UPRIGHT else 1


def unread_exif(block: bytes | None, tags_read: int) -> str | None:
    """What is wrong with an EXIF ``block`` (a JPEG's APP1 ``Exif``, a PNG's or WebP's) of which Pillow
    read ``tags_read`` tags, where it read none though the block holds some: Pillow says nothing of a
    garbled TIFF header or a first directory outside the block, it just gives an empty EXIF. ``None``
    where tags were read, there is no block, or it is a well-formed empty one (no tags to read).

    Example:
        >>> header = b"Exif" + bytes(2)  # as a JPEG's APP1 block starts
        >>> unread_exif(header + bytes([0xFF]) * 8 + bytes(6), 0)  # its TIFF header overwritten
        'not a TIFF header'
        >>> unread_exif(header + b"MM" + bytes([0, 42, 0, 0, 0, 8, 0, 0]), 0) is None  # empty, as Pillow writes one
        True
    """
    body = _EXIF_PREFIX.sub(b"", block or b"")
    if tags_read or not body:
        return None
    order = _TIFF_HEADERS.get(body[:4])
    if order is None:
        return "not a TIFF header"
    first = int.from_bytes(body[4:_HEADER_BYTES], order)
    if first < _HEADER_BYTES or first + _COUNT_BYTES > len(body):
        return "its first directory lies outside it"
    count = int.from_bytes(body[first:first + _COUNT_BYTES], order)
    return f"none of its {count} tags could be read" if count else None


def _warn_unreadable(path: Path, why: str) -> None:
    """Say that ``path``'s EXIF block cannot be read (``why``), so it is read as stored."""
    warn(f"{path}: its EXIF block cannot be read ({why}); orientation ignored, the pixels taken as stored")


def header_orientation(im: Image.Image) -> int:
    """The EXIF orientation an open image's header gives (1, upright, where it gives none or
    cannot be read: decoding has the last word).

    Example:
        >>> import io
        >>> exif, jpeg = Image.Exif(), io.BytesIO()
        >>> exif[EXIF_ORIENTATION] = 8
        >>> Image.new("RGB", (3, 2)).save(jpeg, "JPEG", exif=exif)
        >>> with Image.open(jpeg) as im:
        ...     header_orientation(im)
        8
    """
    if im.format == "PNG" and "exif" not in im.info:
        return 1  # Pillow's PngImageFile.getexif() would decode every pixel looking for an eXIf chunk after them
    try:
        return int(im.getexif().get(EXIF_ORIENTATION, 1))
    except Exception:  # noqa: BLE001 - a corrupt EXIF block
        return 1


def upright_image(im: Image.Image, orientation: int) -> Image.Image:
    """``im`` turned upright for its EXIF ``orientation``.

    Example:
        >>> upright_image(Image.new("L", (3, 2)), 6).size, upright_image(Image.new("L", (3, 2)), 1).size
        ((2, 3), (3, 2))
    """
    method = _UPRIGHT.get(orientation)
    return im.transpose(method) if method is not None else im


def upright_array(array: np.ndarray, orientation: int) -> np.ndarray:
    """Rotate/flip as EXIF orientation 1-8 asks (what ImageOps.exif_transpose does).

    Example:
        >>> upright_array(np.array([[1, 2], [3, 4]]), 6).tolist()  # turned a quarter clockwise
        [[3, 1], [4, 2]]
    """
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


__all__ = ["EXIF_ORIENTATION", "QUARTER_TURNS", "UPRIGHT", "image_orientation", "header_orientation", "unread_exif",
           "upright_array", "upright_image"]

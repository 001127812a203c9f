"""EXIF orientation: read from an image's EXIF block (or its header alone, nothing decoded) and applied
to a Pillow image or a pixel array, so that every image is read upright, as a viewer shows it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from defusion.io.notes import warn

#: The EXIF (and TIFF) tag of the orientation.
EXIF_ORIENTATION = 0x0112
#: EXIF orientations that turn an image a quarter (its width and height swap).
QUARTER_TURNS = (5, 6, 7, 8)
#: EXIF orientation -> the transpose that makes the image upright (as ImageOps.exif_transpose).
_UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
            5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
            8: Image.Transpose.ROTATE_90}


def image_orientation(path: Path, im: Image.Image) -> int:
    """The EXIF orientation (1-8; 1 where there is none); a broken EXIF block is warned about and
    the pixels taken as stored, rather than the file refused (Pillow raises all sorts on one).

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
        value = im.getexif().get(EXIF_ORIENTATION, 1)
    except OSError:  # a PNG's EXIF may follow its pixels, so this decodes them: a corrupt or truncated
        raise        # stream fails here, and Pillow does not raise it again on load (zeros instead)
    except Exception as exc:  # noqa: BLE001 - TypeError, struct.error, ... from a corrupt block
        warn(f"{path}: its EXIF block cannot be read ({type(exc).__name__}); orientation ignored, the pixels "
             "taken as stored")
        return 1
    return value if value in _UPRIGHT else 1


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


__all__ = ["EXIF_ORIENTATION", "QUARTER_TURNS", "image_orientation", "header_orientation", "upright_array",
           "upright_image"]

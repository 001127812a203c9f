"""JPEG as a benchmark's published results are stored: the quality a file was saved at, read from
its quantisation tables, and an image passed through the same encoding, so that results scored
from JPEG files and results computed here lose the same detail before they are compared
(``defusion bench --jpeg-quality``)."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path
from typing import Iterable

import numpy as np

from defusion.io.errors import ImageWriteError

#: The JPEG standard's luminance quantisation table (ITU T.81, Annex K), in row order: what the IJG
#: encoder (libjpeg, Pillow, OpenCV, MATLAB's imwrite) scales by the quality setting.
STANDARD_LUMINANCE_TABLE: tuple[int, ...] = (
    16, 11, 10, 16, 24, 40, 51, 61,
    12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77,
    24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101,
    72, 92, 95, 98, 112, 100, 103, 99,
)
#: Quality settings of the IJG encoder.
QUALITIES = range(1, 101)
#: Suffixes of JPEG files.
JPEG_SUFFIXES = (".jpg", ".jpeg", ".jpe", ".jfif")


def ijg_luminance_table(quality: int) -> np.ndarray:
    """The luminance quantisation table the IJG encoder writes at ``quality`` (1-100), baseline.

    Example:
        >>> ijg_luminance_table(75)[:8].tolist()
        [8, 6, 5, 8, 12, 20, 26, 31]
        >>> int(ijg_luminance_table(100).max())
        1
    """
    if quality not in QUALITIES:
        raise ImageWriteError(f"JPEG quality must be 1 to 100, got {quality}")
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    table = (np.asarray(STANDARD_LUMINANCE_TABLE, dtype=np.int64) * scale + 50) // 100
    return np.clip(table, 1, 255)


def jpeg_quality(path: str | Path) -> tuple[int, bool] | None:
    """``(quality, exact)`` a JPEG file was saved at, from its luminance quantisation table: the IJG
    quality whose table it is (``exact``), else the nearest one (another encoder's tables); None
    for a file that is not a JPEG or cannot be read.

    Example:
        >>> import io, numpy as np
        >>> from PIL import Image
        >>> buffer = io.BytesIO()
        >>> Image.fromarray(np.zeros((16, 16), np.uint8)).save(buffer, "JPEG", quality=75)
        >>> jpeg_quality(buffer)
        (75, True)
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            tables = getattr(image, "quantization", None) if image.format == "JPEG" else None
    except (OSError, UnidentifiedImageError, ValueError):
        return None
    if not tables or 0 not in tables or len(tables[0]) != len(STANDARD_LUMINANCE_TABLE):
        return None
    found = np.asarray(tables[0], dtype=np.int64)
    distance = {q: int(np.abs(ijg_luminance_table(q) - found).sum()) for q in QUALITIES}
    best = min(QUALITIES, key=lambda q: (distance[q], -q))
    return best, distance[best] == 0


def jpeg_round_trip(image: np.ndarray, quality: int) -> np.ndarray:
    """``image`` (uint8, HxW or HxWx3) after being saved as a JPEG at ``quality`` (Pillow's IJG encoder,
    4:2:0 chroma for colour, as most published results are stored) and read back.

    Example:
        >>> x = np.tile(np.arange(0, 256, 4, dtype=np.uint8), (64, 1))
        >>> y = jpeg_round_trip(x, 75)
        >>> y.shape, y.dtype, bool(np.abs(y.astype(int) - x).max() <= 8)
        ((64, 64), dtype('uint8'), True)
    """
    from PIL import Image

    if quality not in QUALITIES:
        raise ImageWriteError(f"JPEG quality must be 1 to 100, got {quality}")
    if image.dtype != np.uint8:
        raise ImageWriteError(f"a JPEG holds 8-bit images; got {image.dtype}")
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=quality, subsampling="4:2:0")
    buffer.seek(0)
    with Image.open(buffer) as stored:
        return np.asarray(stored.convert(stored.mode))


def is_jpeg_name(path: str | Path) -> bool:
    """Whether a file is named as a JPEG.

    Example:
        >>> is_jpeg_name("fused/CBF/kettle.JPG"), is_jpeg_name("mine/kettle.png")
        (True, False)
    """
    return Path(path).suffix.lower() in JPEG_SUFFIXES


def stored_quality(paths: Iterable[str | Path]) -> int | None:
    """The JPEG quality most of ``paths`` (one pair's published results) were saved at, the lowest of
    the most common where qualities tie; None where most are not JPEG files (PNG, or none at all):
    how a result computed here is stored to be scored beside them (``defusion bench --jpeg-quality
    match``). A file named as a JPEG whose tables cannot be read counts as not JPEG.

    Example:
        >>> import io, numpy as np
        >>> from PIL import Image
        >>> def saved(quality):
        ...     buffer = io.BytesIO()
        ...     Image.fromarray(np.zeros((8, 8), np.uint8)).save(buffer, "JPEG", quality=quality)
        ...     return buffer
        >>> stored_quality([saved(75), saved(75), saved(95)]), stored_quality([saved(75), saved(95)])
        (75, 75)
        >>> stored_quality([]), stored_quality([saved(90), "a.png", "b.png"])
        (None, None)
    """
    found = [jpeg_quality(path) for path in paths]
    qualities = Counter(quality for quality, _ in filter(None, found))
    if sum(qualities.values()) * 2 <= len(found):  # most are not JPEG (or there are none)
        return None
    most = max(qualities.values())
    return min(quality for quality, count in qualities.items() if count == most)


__all__ = ["JPEG_SUFFIXES", "STANDARD_LUMINANCE_TABLE", "ijg_luminance_table", "is_jpeg_name", "jpeg_quality",
           "jpeg_round_trip", "stored_quality"]

"""Camera raw files (DNG, CR2, NEF, ARW, ...): read through the optional rawpy (LibRaw).

Photographers shoot brackets in raw. A raw file holds the sensor's mosaic; LibRaw demosaics it
with the camera's white balance into 16-bit sRGB. Its automatic brightening is switched off, so
that the exposures of a bracket keep their differences (brightened, a -2 EV shot would look like
the 0 EV one and there would be nothing to fuse). Orientation follows the camera's tag. Without
rawpy (``pip install 'defusion[raw]'``) a raw input is one clear error that says what to install.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from types import ModuleType

import numpy as np

from defusion.errors import DefusionError

#: Suffixes of camera raw files (DNG and the major makers' own formats).
RAW_SUFFIXES = (".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".raf", ".orf", ".rw2",
                ".pef", ".srw", ".x3f", ".3fr", ".iiq", ".erf", ".kdc", ".mrw", ".mos", ".rwl")
#: How to get raw support.
RAW_EXTRA = "pip install 'defusion[raw]'"


class RawReadError(DefusionError, ValueError):
    """A raw file that cannot be read (rawpy missing, not a raw file LibRaw knows, damaged)."""


def is_raw(path: str | Path) -> bool:
    """Whether ``path`` names a camera raw file (by its suffix: a DNG is also a TIFF, which Pillow
    would open as the undemosaiced mosaic).

    Example:
        >>> is_raw("IMG_0001.CR2"), is_raw("bracket/ev0.dng"), is_raw("photo.tif")
        (True, True, False)
    """
    return Path(path).suffix.lower() in RAW_SUFFIXES


def raw_size(path: str | Path) -> tuple[int, int]:
    """(width, height) of the image a raw file develops to, from its header; RawReadError if unreadable."""
    rawpy = _rawpy(path)
    try:
        with rawpy.imread(str(path)) as raw:
            sizes = raw.sizes
    except Exception as exc:  # LibRaw's errors: not a raw file it knows, or damaged
        raise RawReadError(f"{path}: cannot read as a camera raw file ({_reason(exc)})") from None
    width, height = sizes.width, sizes.height
    return (height, width) if sizes.flip in (5, 6) else (width, height)


def raw_opens(path: str | Path) -> bool:
    """Whether LibRaw opens ``path`` (its header only): False for a file it rejects (junk, a zero-byte
    copy), True without rawpy, so that reading the file says what to install."""
    try:
        import rawpy
    except ImportError:
        return True
    try:
        with rawpy.imread(str(path)):
            return True
    except Exception:  # LibRaw's errors: not a raw file it knows, or damaged
        return False


def raw_capture(path: str | Path) -> tuple[datetime | None, float]:
    """When a raw file was taken and its exposure time in seconds, from its header (None and 0
    where it does not say or cannot be read): for grouping a card's brackets."""
    try:
        rawpy = _rawpy(path)
        with rawpy.imread(str(path)) as raw:
            other = raw.other
    except Exception:  # unreadable: reading its pixels reports the problem
        return None, 0.0
    taken = other.timestamp if isinstance(other.timestamp, datetime) and other.timestamp.year > 1970 else None
    return taken, max(float(other.shutter_speed or 0.0), 0.0)


def read_raw(path: str | Path) -> np.ndarray:
    """Develop a raw file to HxWx3 uint16 sRGB: camera white balance, no automatic brightening
    (a bracket keeps its exposures), upright. RawReadError if it cannot be read."""
    rawpy = _rawpy(path)
    try:
        with rawpy.imread(str(path)) as raw:
            rgb = raw.postprocess(output_bps=16, use_camera_wb=True, no_auto_bright=True,
                                  output_color=rawpy.ColorSpace.sRGB)
    except Exception as exc:  # LibRaw's errors: not a raw file it knows, or damaged
        raise RawReadError(f"{path}: cannot develop the camera raw file ({_reason(exc)}); is it truncated "
                           "or corrupt?") from None
    return np.ascontiguousarray(rgb)


def _rawpy(path: str | Path) -> ModuleType:
    """The rawpy module, imported on first use; RawReadError (naming the extra to install) without it."""
    try:
        import rawpy
    except ImportError:
        raise RawReadError(f"{path}: a camera raw file; reading it needs rawpy: {RAW_EXTRA}") from None
    return rawpy


def _reason(exc: Exception) -> str:
    """LibRaw's message as text (rawpy passes some as bytes)."""
    if exc.args and isinstance(exc.args[0], bytes):
        return exc.args[0].decode("utf-8", "replace")
    return str(exc) or type(exc).__name__


__all__ = ["RAW_SUFFIXES", "RAW_EXTRA", "RawReadError", "is_raw", "raw_opens", "raw_capture", "raw_size", "read_raw"]

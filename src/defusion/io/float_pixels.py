"""Float pixels (a 32-bit float TIFF, a radiometric thermal frame in degrees): the readings
:func:`~defusion.io.images.read_image` takes them by (:data:`FloatReading`), the one rule of when
reading stretches them (:func:`float_stretched`) and the words every front end says it in (a Python
caller of :func:`~defusion.io.images.read_image` is told too: :func:`float_levels`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

import numpy as np

from defusion.io.arrays import MAX_16BIT
from defusion.io.errors import ImageReadError, PixelValueError
from defusion.io.front_end import current_front_end
from defusion.io.float_scales import float_range_problem, float_scale
from defusion.io.notes import note

#: How :func:`~defusion.io.images.read_image` takes float pixels (a 32-bit float TIFF). ``stretch``, for fusion
#: input: values in [0, 1] as they are, any other range (a radiometric thermal frame in degrees) stretched from
#: its minimum to its maximum, as a display of it would, in 16 bits. ``levels``, for scoring (``defusion
#: metrics``, ``defusion bench``): the float32 values as stored, unquantised, once checked to lie on one of the
#: two scales :mod:`defusion.metrics` takes a float array on (:func:`defusion.io.float_scales.float_scale`:
#: [0, 1] or 0..255), so that the file scores as its array does; any other range refused: stretched, a 0..255
#: result saved as floats would score twice its contrast. ``values``, for a caller that maps them itself
#: (``defusion video``: one range for every frame of a stream, :func:`float_to_uint16`): the float32 values as
#: stored.
FloatReading = Literal["stretch", "levels", "values"]
FLOAT_READINGS: tuple[str, ...] = get_args(FloatReading)
#: What a Python caller told of a stretch can do instead (the end of its note: :func:`float_levels`).
KEEP_FLOAT_VALUES = 'read_image(..., floats="values") gives the float32 values as stored'


class FloatRangeError(ImageReadError):
    """A float image read to be scored (``floats="levels"``) whose values span ``low``..``high``, on
    neither scale the metrics take: a caller may read it otherwise (stretched, as fusion input)."""

    def __init__(self, message: str, low: float, high: float) -> None:
        super().__init__(message)
        self.low, self.high = low, high


def float_levels(path: Path, values: np.ndarray, floats: FloatReading) -> np.ndarray:
    """A float image as ``floats`` says: stretched to 16 bits for fusion (:func:`float_to_uint16`),
    as its float32 values for scoring (:func:`_scored_floats`), or as they are (``values``). A stretch
    from its range is noted once (``defusion: note: ...``, in the words ``defusion fuse`` says it:
    :func:`describe_float_stretch`) for a Python caller; defusion's own front ends (the CLI, the web UI:
    :func:`~defusion.io.front_end.reading_for`) say it in their own words.

    Example:
        >>> float_levels(Path("f.tif"), np.array([[0.0, 1.0]], np.float32), "stretch").tolist()
        [[0, 65535]]
    """
    if floats == "levels":
        return _scored_floats(path, values)
    values = _finite(values)
    if floats == "stretch" and current_front_end() == "python":
        said = describe_float_stretch(str(path), (float(values.min()), float(values.max())))
        if said is not None:
            note(f"{said} ({KEEP_FLOAT_VALUES})")
    return values if floats == "values" else float_to_uint16(values)


def float_to_uint16(values: np.ndarray, span: tuple[float, float] | None = None) -> np.ndarray:
    """A float image (a 32-bit TIFF) as 16-bit: values in [0, 1] as they are; any other range (a
    radiometric thermal frame in degrees, a 0..255 float image) stretched from its minimum to its
    maximum, as a display of it would (:func:`float_stretched`). With ``span`` (low, high), from that
    range instead, values beyond it clipped: one mapping for every frame of a stream
    (:func:`stream_float_span`), so that a hot object entering the view cannot dim the rest.

    Example:
        >>> frame = np.array([[20.0, 30.0, 40.0]], np.float32)
        >>> float_to_uint16(frame).tolist(), float_to_uint16(frame + 60, span=(20.0, 40.0)).tolist()
        ([[0, 32768, 65535]], [[65535, 65535, 65535]])
    """
    values = _finite(values)
    if span is None:
        lo, hi = float(values.min()), float(values.max())
        if not float_stretched(lo, hi):
            return np.round(values * MAX_16BIT).astype(np.uint16)
        span = (lo, hi)
    lo, hi = span
    scaled = np.clip((values - lo) / (hi - lo), 0.0, 1.0) if hi > lo else np.zeros_like(values)
    return np.round(scaled * MAX_16BIT).astype(np.uint16)


def stream_float_span(values: np.ndarray) -> tuple[float, float] | None:
    """The one range a stream of float frames is mapped by (:func:`float_to_uint16`), measured on
    ``values``, its first frame that holds more than one value: its minimum to its maximum where
    reading stretches them (:func:`float_stretched`: the first frame reads as ``defusion fuse`` reads
    it), else (0, 1) (values in [0, 1] kept as they are). None for a flat frame (a thermal camera's
    shutter frame), which tells no range: measure the next one.

    Example:
        >>> stream_float_span(np.array([[20.5, 44.75]])), stream_float_span(np.array([[0.2, 0.7]]))
        ((20.5, 44.75), (0.0, 1.0))
        >>> stream_float_span(np.full((2, 2), 30.0)) is None
        True
    """
    lo, hi = float(np.min(values)), float(np.max(values))
    if lo == hi:
        return None
    return (lo, hi) if float_stretched(lo, hi) else (0.0, 1.0)


def float_stretched(low: float, high: float) -> bool:
    """Whether :func:`~defusion.io.images.read_image` stretches float pixels spanning ``low``..``high``
    from their minimum to their maximum when it reads them for fusion (``floats="stretch"``): any range
    but [0, 1] (a radiometric thermal frame in degrees). The one rule that reading follows and that the
    notes saying so (``defusion fuse``, the web UI: :func:`describe_float_stretch`) ask.

    Example:
        >>> float_stretched(0.0, 1.0), float_stretched(20.5, 44.9), float_stretched(-0.5, 0.5)
        (False, True, True)
    """
    return not (low >= 0 and high <= 1)


def describe_float_stretch(name: str, span: tuple[float, float] | None) -> str | None:
    """What reading does to a file ``name`` of float pixels spanning ``span``
    (:func:`~defusion.io.probes.float_span`) that :func:`float_stretched`: the start of the line every
    front end says it in (each adds what its own stretch option does not do). None where reading keeps
    the values (floats in [0, 1], integer pixels).

    Example:
        >>> describe_float_stretch("ir.tif", (20.5882, 44.902))
        'ir.tif holds float values 20.59 to 44.9 (not 0 to 1: a radiometric thermal frame in degrees, say): \
stretched from its minimum to its maximum onto the full range when read'
        >>> describe_float_stretch("ir.tif", (0.0, 1.0)) is None
        True
        >>> describe_float_stretch("flat.tif", (30.0, 30.0))
        'flat.tif holds one float value, 30, everywhere (not 0 to 1): read as black'
    """
    if span is None or not float_stretched(*span):
        return None
    low, high = span
    if low == high:  # nothing to stretch: reading makes it black
        return f"{name} holds one float value, {low:.4g}, everywhere (not 0 to 1): read as black"
    return (f"{name} holds float values {low:.4g} to {high:.4g} (not 0 to 1: a radiometric thermal frame in "
            "degrees, say): stretched from its minimum to its maximum onto the full range when read")


def _finite(values: np.ndarray) -> np.ndarray:
    """Float pixels as float32, refused where some are NaN or infinite (no range maps those)."""
    if not np.isfinite(values).all():
        raise PixelValueError("a float image holding NaN or infinite values")
    return values.astype(np.float32, copy=False)


def _scored_floats(path: Path, values: np.ndarray) -> np.ndarray:
    """A float image read to be scored: its float32 values as they are (unquantised, unclipped: the
    metrics clip [0, 1] themselves, :func:`defusion.metrics._inputs.as_image`), so that the file
    scores as its array would; an ImageReadError of one line naming ``path`` for a range on neither
    scale the metrics take, which they refuse in an array too (:func:`defusion.io.float_scales.float_scale`).

    Example:
        >>> _scored_floats(Path("f.tif"), np.array([[60.5, 187.25]], np.float32)).tolist()  # 0..255, kept
        [[60.5, 187.25]]
        >>> _scored_floats(Path("f.tif"), np.array([[-5.0, 40.0]], np.float32))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        defusion.io.float_pixels.FloatRangeError: f.tif: float values span -5..40, neither 0..1 nor 0..255 ...
    """
    if not np.isfinite(values).all():
        raise ImageReadError(f"{path}: a float image holding NaN or infinite values")
    lo, hi = float(values.min()), float(values.max())
    if float_scale(lo, hi) is None:
        raise FloatRangeError(f"{path}: {float_range_problem(lo, hi)}", lo, hi)
    return values.astype(np.float32, copy=False)


__all__ = ["FloatReading", "FLOAT_READINGS", "KEEP_FLOAT_VALUES", "FloatRangeError", "describe_float_stretch",
           "float_levels", "float_stretched", "float_to_uint16", "stream_float_span"]

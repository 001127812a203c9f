"""Raw sensor frames to images: a contrast stretch for 16-bit data that uses little of its range.

Thermal cameras write raw counts: 14-bit values in a 16-bit file, and a scene's temperatures fill
only a narrow band of them (say 7,000 to 9,000 of 65,535). Read as a 16-bit image that frame is a
flat dark grey, and a fusion would keep almost nothing of it. Every thermal viewer stretches such
a frame before showing it (automatic gain control); :func:`stretch_sources` does the same before
fusing: grey 16-bit sources whose values span under ``NARROW_SPAN`` of the range are mapped from
their ``TAIL_PERCENT`` to their ``100 - TAIL_PERCENT`` percentile onto [0, 1]. Sources stretched
together share one mapping, so a raw bracket from one sensor keeps its exposures' relation.
8-bit and colour images are display images already and are never touched.

A stream (video, a camera loop) must keep one mapping: measured per frame, a hot object entering
a corner widens the range and darkens every unchanged region, or switches the stretch off for that
frame. :func:`measure_stretch` measures a :class:`FixedStretch` once (say on the first frame) and
``FuseOptions(stretch=...)`` applies it to every frame as it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np

from defusion.fusion.color import is_grey

#: ``auto``: stretch narrow-range 16-bit grey sources (the default); ``none``: use values as they are.
Stretch = Literal["auto", "none"]
STRETCHES: tuple[str, ...] = ("auto", "none")
#: A 16-bit grey source is raw sensor data when its values span under this share of 0..65535.
NARROW_SPAN = 0.25
#: Percent of the values cut off at each end of the stretch (hot or dead pixels, outliers).
TAIL_PERCENT = 0.1
#: At most this many values (evenly strided) estimate the percentiles: quick on any size.
_SAMPLE = 1_000_000
#: Full scale of the 16-bit sources stretched: their values over it are the floats in [0, 1].
_FULL_SCALE_16 = 65535.0


@dataclass(frozen=True)
class FixedStretch:
    """One stretch, measured once and applied as it is: ``sources`` (indices, in the order the
    images are given to the fuser: the stretch runs before ``FuseOptions.order`` sorts them)
    mapped from ``low`` to ``high`` (floats in [0, 1]: the value over 65535) onto [0, 1], whatever
    each frame's own range. For streams, so that the mapping cannot change, and flicker, between
    frames (:func:`measure_stretch`).

    Example:
        >>> FixedStretch([1], 0.1, 0.2)
        FixedStretch(sources=(1,), low=0.1, high=0.2)
    """

    sources: tuple[int, ...]
    low: float
    high: float

    def __post_init__(self) -> None:
        sources = tuple(self.sources)
        if not sources or any(isinstance(i, bool) or not isinstance(i, (int, np.integer)) or i < 0 for i in sources):
            raise ValueError(f"a fixed stretch's sources must be source indices (0 the first), got {self.sources!r}")
        if len(set(sources)) != len(sources):
            raise ValueError(f"a fixed stretch names each source once, got {self.sources!r}")
        low, high = float(self.low), float(self.high)
        if not (math.isfinite(low) and math.isfinite(high) and 0.0 <= low < high <= 1.0):
            raise ValueError(f"a fixed stretch maps low to high, 0 <= low < high <= 1, got {self.low!r} to "
                             f"{self.high!r}")
        object.__setattr__(self, "sources", tuple(int(i) for i in sources))
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)


def check_stretch(stretch: "Stretch | FixedStretch") -> None:
    """Refuse a stretch that is not one of ``STRETCHES`` or a :class:`FixedStretch`."""
    if isinstance(stretch, FixedStretch):
        return
    if not isinstance(stretch, str) or stretch not in STRETCHES:
        raise ValueError(f"unknown stretch {stretch!r}; use one of {', '.join(STRETCHES)} or a FixedStretch")


def value_range(image: np.ndarray) -> tuple[float, float]:
    """The ``TAIL_PERCENT`` and ``100 - TAIL_PERCENT`` percentiles of an image's values.

    Example:
        >>> [round(v, 6) for v in value_range(np.arange(1001, dtype=np.uint16))]
        [1.0, 999.0]
    """
    values = np.asarray(image).ravel()
    values = values[:: max(1, values.size // _SAMPLE)]
    lo, hi = np.percentile(values, [TAIL_PERCENT, 100 - TAIL_PERCENT])
    return float(lo), float(hi)


def is_narrow(image: np.ndarray) -> bool:
    """Whether ``image`` looks like a raw sensor frame: grey (HxW, HxWx1 or R = G = B), 16-bit,
    its values spanning under ``NARROW_SPAN`` of the 16-bit range (and not flat).

    Example:
        >>> thermal = (7000 + np.arange(64 * 64).reshape(64, 64) % 2000).astype(np.uint16)
        >>> is_narrow(thermal), is_narrow(thermal.astype(np.uint8)), is_narrow(thermal * 0)
        (True, False, False)
        >>> is_narrow(thermal[..., None]), is_narrow(np.dstack([thermal] * 3))
        (True, True)
    """
    if image.dtype != np.uint16 or image.size == 0 or not is_grey(image):
        return False
    image = image if image.ndim == 2 else image[..., 0]
    lo, hi = value_range(image)
    return 0 < hi - lo < NARROW_SPAN * 65535


def measure_stretch(images: Sequence[np.ndarray]) -> FixedStretch | None:
    """The mapping ``stretch="auto"`` gives ``images`` (in the order they are given to the fuser,
    before ``FuseOptions.order`` sorts them, as :class:`FixedStretch` indexes them): the narrow
    sources (:func:`is_narrow`) and one shared range, from the lowest ``TAIL_PERCENT`` percentile
    to the highest ``100 - TAIL_PERCENT`` one; None when no source is narrow. Measure it on a
    stream's first frames that hold a narrow source (a flat shutter frame holds none) and fuse
    every frame with it (``FuseOptions(stretch=...)``).

    Example:
        >>> raw = np.array([[7000, 7500], [8000, 9000]], np.uint16)
        >>> fixed = measure_stretch([raw, raw.astype(np.uint8)])
        >>> fixed.sources, round(fixed.low * 65535), round(fixed.high * 65535)
        ((0,), 7002, 8997)
        >>> measure_stretch([raw.astype(np.uint8)]) is None
        True
    """
    narrow = [i for i, image in enumerate(images) if is_narrow(np.asarray(image))]
    if not narrow:
        return None
    ranges = [value_range(np.asarray(images[i])) for i in narrow]
    low, high = min(r[0] for r in ranges), max(r[1] for r in ranges)
    return FixedStretch(tuple(narrow), low / _FULL_SCALE_16, high / _FULL_SCALE_16)


def stretch_sources(images: Sequence[np.ndarray], floats: Sequence[np.ndarray],
                    stretch: Stretch | FixedStretch = "auto") -> tuple[list[np.ndarray], list[int]]:
    """``floats`` (the sources in [0, 1]) with the narrow ones (:func:`is_narrow` on ``images``,
    the sources as given) stretched by one shared mapping onto [0, 1]; and their indices. A
    :class:`FixedStretch` is applied to its sources as it is, whatever their own range.

    Example:
        >>> raw = np.array([[7000, 7500], [8000, 9000]], np.uint16)
        >>> floats, stretched = stretch_sources([raw], [raw / 65535.0])
        >>> stretched, float(floats[0].min()), float(floats[0].max())
        ([0], 0.0, 1.0)
        >>> floats, _ = stretch_sources([raw], [raw / 65535.0], FixedStretch((0,), 7000 / 65535, 11000 / 65535))
        >>> float(floats[0].max())
        0.5
    """
    check_stretch(stretch)
    fixed = stretch if isinstance(stretch, FixedStretch) else measure_stretch(images) if stretch == "auto" else None
    floats = list(floats)
    if fixed is None:
        return floats, []
    if max(fixed.sources) >= len(floats):
        raise ValueError(f"the fixed stretch maps source {max(fixed.sources) + 1}, but {len(floats)} images were given")
    for i in fixed.sources:
        floats[i] = np.clip((floats[i] - fixed.low) / (fixed.high - fixed.low), 0.0, 1.0).astype(np.float32)
    return floats, list(fixed.sources)

"""Raw sensor frames to images: a contrast stretch for 16-bit data that uses little of its range.

Thermal cameras write raw counts: 14-bit values in a 16-bit file, and a scene's temperatures fill
only a narrow band of them (say 7,000 to 9,000 of 65,535). Read as a 16-bit image that frame is a
flat dark grey, and a fusion would keep almost nothing of it. Every thermal viewer stretches such
a frame before showing it (automatic gain control); :func:`stretch_sources` does the same before
fusing: grey 16-bit sources whose values span under ``NARROW_SPAN`` of the range are mapped from
their ``TAIL_PERCENT`` to their ``100 - TAIL_PERCENT`` percentile onto [0, 1]. Sources stretched
together share one mapping, so a raw bracket from one sensor keeps its exposures' relation.
8-bit and colour images are display images already and are never touched.
"""

from __future__ import annotations

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


def check_stretch(stretch: str) -> None:
    """Refuse a stretch mode that is not one of ``STRETCHES``."""
    if stretch not in STRETCHES:
        raise ValueError(f"unknown stretch {stretch!r}; use one of {', '.join(STRETCHES)}")


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


def stretch_sources(images: Sequence[np.ndarray], floats: Sequence[np.ndarray],
                    stretch: Stretch = "auto") -> tuple[list[np.ndarray], list[int]]:
    """``floats`` (the sources in [0, 1]) with the narrow ones (:func:`is_narrow` on ``images``,
    the sources as given) stretched by one shared mapping onto [0, 1]; and their indices.

    Example:
        >>> raw = np.array([[7000, 7500], [8000, 9000]], np.uint16)
        >>> floats, stretched = stretch_sources([raw], [raw / 65535.0])
        >>> stretched, float(floats[0].min()), float(floats[0].max())
        ([0], 0.0, 1.0)
    """
    check_stretch(stretch)
    floats = list(floats)
    narrow = [i for i, image in enumerate(images) if is_narrow(image)] if stretch == "auto" else []
    if not narrow:
        return floats, []
    ranges = [value_range(floats[i]) for i in narrow]
    lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
    for i in narrow:
        floats[i] = np.clip((floats[i] - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)
    return floats, narrow

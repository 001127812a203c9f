"""What a camera streaming through ``POST /v1/fuse`` keeps from frame to frame: the stretch of raw
thermal frames and a palette's range.

Measured per request, a hot object entering frame 3 widens both and darkens (or recolours) the
unchanged background. So every response that stretched sources or drew a palette says what it used
(:data:`STRETCH_HEADER`, :data:`PALETTE_RANGE_HEADER`), and a request sends those values back as
``stretch=`` and ``palette_range=`` to fuse with them as they are (:func:`pinned` measures what a
request leaves open, so the headers say exactly what was used). The notes the CLI prints about
both (:func:`mapping_notes`) come back in the notes header.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import replace
from typing import TYPE_CHECKING, Sequence

import numpy as np

from defusion.fusion.stretch import STRETCHES, FixedStretch, Stretch, describe_fixed, measure_stretch
from defusion.fusion.thermal_notes import describe_order, describe_unstretched
from defusion.io.notes import collecting, note
from defusion.serving.errors import ApiError
from defusion.serving.limits import FIELDS

if TYPE_CHECKING:  # annotations only: this module loads no torch
    from defusion.fusion.fuser import Fuser
    from defusion.fusion.options import FuseOptions

#: The response header with the stretch a fusion used, as ``stretch=`` takes it back:
#: ``FIELD:LOW-HIGH`` per stretched upload, comma-separated, in 16-bit counts (``a:7002-8997``).
STRETCH_HEADER = "X-Defusion-Stretch"
#: The response header with the infrared values a palette spanned, as ``palette_range=`` takes it
#: back: ``LOW,HIGH``, the infrared image as fused (after its stretch), 0 to 1.
PALETTE_RANGE_HEADER = "X-Defusion-Palette-Range"
#: The full scale of the 16-bit counts :data:`STRETCH_HEADER` gives (FixedStretch's bounds are over it).
FULL_SCALE_16 = 65535
#: Decimals kept of a count (a hundredth of a count: far under a grey level of the fused image)
#: and of a palette bound (a millionth of the range).
COUNT_DECIMALS = 2
RANGE_DECIMALS = 6
#: How the note on an infrared + visible pair sent infrared first says to send it.
SEND_VISIBLE_AS_A = "send the visible image as a and the infrared one as b"
#: One upload's mapping in ``stretch=``: its field, then its low and high counts.
_MAPPING = re.compile(r"(?P<field>[^:]+):(?P<low>\d+(?:\.\d+)?)-(?P<high>\d+(?:\.\d+)?)")
#: How ``stretch=`` is written, for its errors.
STRETCH_FORM = (f"auto, none, or the {STRETCH_HEADER} header of an earlier response: FIELD:LOW-HIGH in 16-bit "
                "counts per upload, comma-separated (a:7002-8997)")


def parse_stretch(text: str, fields: Sequence[str]) -> Stretch | FixedStretch:
    """``stretch=``'s value: ``auto``, ``none`` or a :class:`FixedStretch` of the uploads in
    ``fields`` (this server's); a 422 saying what is wrong otherwise.

    Example:
        >>> parse_stretch("a:7002-8997.5", ("a", "b")).mapping(0) == (7002 / 65535, 8997.5 / 65535)
        True
        >>> parse_stretch("none", ("a", "b"))
        'none'
    """
    if text in STRETCHES:
        return text
    sources, lows, highs = [], [], []
    for item in text.split(","):
        found = _MAPPING.fullmatch(item.strip())
        if found is None:
            raise ApiError(422, f"stretch={text!r}: {item.strip()!r} is no mapping; use {STRETCH_FORM}")
        field, low, high = found["field"], float(found["low"]), float(found["high"])
        if field not in fields:
            raise ApiError(422, f"stretch={text!r}: no field {field!r}; this server takes {', '.join(fields)}")
        if fields.index(field) in sources:
            raise ApiError(422, f"stretch={text!r}: field {field!r} is mapped twice; map each upload once")
        if not low < high <= FULL_SCALE_16:
            raise ApiError(422, f"stretch={text!r}: {field}'s low must be under its high, and both at most "
                                f"{FULL_SCALE_16}")
        sources.append(fields.index(field))
        lows.append(low / FULL_SCALE_16)
        highs.append(high / FULL_SCALE_16)
    return FixedStretch(tuple(sources), tuple(lows), tuple(highs))


def parse_palette_range(text: str) -> tuple[float, float]:
    """``palette_range=``'s value, ``LOW,HIGH`` with 0 <= LOW < HIGH <= 1; a 422 otherwise.

    Example:
        >>> parse_palette_range("0.1,0.85")
        (0.1, 0.85)
    """
    parts = text.split(",")
    try:
        low, high = (float(part) for part in parts) if len(parts) == 2 else (math.nan, math.nan)
    except ValueError:
        low = high = math.nan
    if not 0.0 <= low < high <= 1.0:  # False for NaN too
        raise ApiError(422, f"palette_range={text!r}: give LOW,HIGH with 0 <= LOW < HIGH <= 1, the "
                            f"{PALETTE_RANGE_HEADER} header of an earlier response (0.12,0.87)")
    return low, high


def check_stretch_fields(stretch: Stretch | FixedStretch, count: int) -> None:
    """A 422 where a fixed stretch maps an upload past the ``count`` sent."""
    if isinstance(stretch, FixedStretch) and max(stretch.sources) >= count:
        raise ApiError(422, f"stretch maps field {FIELDS[max(stretch.sources)]!r}, but {count} images were given")


def stretch_value(stretch: FixedStretch) -> str:
    """:data:`STRETCH_HEADER`'s value for ``stretch``, which :func:`parse_stretch` reads back.

    Example:
        >>> stretch_value(FixedStretch((0,), 7002 / 65535, 8997.25 / 65535))
        'a:7002-8997.25'
    """
    return ",".join(f"{FIELDS[i]}:{_decimal(low * FULL_SCALE_16, COUNT_DECIMALS)}-"
                    f"{_decimal(high * FULL_SCALE_16, COUNT_DECIMALS)}"
                    for i in stretch.sources for low, high in [stretch.mapping(i)])


def palette_range_value(span: tuple[float, float]) -> str:
    """:data:`PALETTE_RANGE_HEADER`'s value for ``span``, which :func:`parse_palette_range` reads back.

    Example:
        >>> palette_range_value((0.125, 0.8750004))
        '0.125,0.875'
    """
    return ",".join(_decimal(bound, RANGE_DECIMALS) for bound in span)


def _decimal(value: float, places: int) -> str:
    """``value`` with at most ``places`` decimals, without trailing zeros."""
    return f"{value:.{places}f}".rstrip("0").rstrip(".") or "0"


def kept_headers(options: FuseOptions) -> dict[str, str]:
    """The headers saying what a fusion at ``options`` (:func:`pinned`) used: its fixed stretch and,
    with a palette, its range; none where it stretched nothing and drew no palette."""
    headers = {}
    if isinstance(options.stretch, FixedStretch):
        headers[STRETCH_HEADER] = stretch_value(options.stretch)
    if options.palette != "none" and options.palette_range is not None:
        headers[PALETTE_RANGE_HEADER] = palette_range_value(options.palette_range)
    return headers


def pinned(fuser: Fuser, images: Sequence[np.ndarray]) -> FuseOptions:
    """``fuser``'s options with what its fusion of ``images`` would measure for itself fixed as it
    measures it: ``stretch="auto"`` as the :class:`FixedStretch` of the raw frames (if any), and a
    palette's unset range as :meth:`Fuser.measure_palette` gives it (unless the infrared image is
    flat). The fusion is the same; the response can say what it used."""
    options = fuser.options
    if isinstance(options.stretch, str) and options.stretch == "auto":
        fixed = measure_stretch(images, options.stretch_shared)
        options = options if fixed is None else replace(options, stretch=fixed)
    if options.palette == "none" or options.palette_range is not None:
        return options
    measuring = copy.copy(fuser)  # shares the model, not the options (as ModelRunner.run)
    measuring.options = options
    span = measuring.measure_palette(*images)
    return options if span is None else replace(options, palette_range=span)


def mapping_notes(fuser: Fuser, used: FuseOptions, images: Sequence[np.ndarray], names: Sequence[str],
                  task: str | None = None) -> list[str]:
    """What ``defusion fuse`` says of these uploads (named ``names``) at ``fuser``'s options, as
    ``"note: ..."`` lines: the raw frames it stretches where the request left that to the server
    (``stretch=auto``: the stretch :func:`pinned` measured, ``used``, in describe_stretch's words),
    or leaves nearly flat (``stretch=none``); where the palette's infrared image was a guess, which
    upload it colours; and, for an infrared + visible pair (``task`` ivf, or a palette) sent
    infrared first, that ``a`` is the visible image by convention (thermal_notes' rules and words)."""
    stretch = fuser.options.stretch
    with collecting() as said:
        if isinstance(stretch, str) and stretch == "auto" and isinstance(used.stretch, FixedStretch):
            for line in describe_fixed(names, used.stretch):
                note(f"{line} (stretch=none keeps the values as they are)")
        if isinstance(stretch, str) and stretch == "none":
            for line in describe_unstretched(names, images, option="stretch="):
                note(line)
        if task == "ivf" or fuser.options.palette != "none":
            order = describe_order(names, images, resize="the rig" if fuser.options.rig is not None else None,
                                   fix=SEND_VISIBLE_AS_A)
            if order is not None:
                note(order)
        if fuser.options.palette != "none" and fuser.options.infrared is None:
            index, why = fuser.infrared_source(*images)
            if why:
                note(f"palette colours {names[index]} as the infrared image ({why}); infrared=N picks the Nth "
                     "upload instead (1 for a)")
    return said

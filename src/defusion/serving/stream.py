"""What a camera streaming through ``POST /v1/fuse`` keeps from frame to frame: the stretch of raw
thermal frames and a palette's range.

Measured per request, a hot object entering frame 3 widens both and darkens (or recolours) the
unchanged background. So every response that stretched sources or drew a palette says what it used
(:data:`STRETCH_HEADER`, :data:`PALETTE_RANGE_HEADER`), and a request sends those values back as
``stretch=`` and ``palette_range=`` to fuse with them as they are (:func:`fix_measured_options`
measures what a request leaves open, so the headers say exactly what was used). The notes the CLI
prints about both (:func:`mapping_notes`) come back in the notes header.

A float upload (a radiometric TIFF in degrees) is mapped to 16 bits by a range of its own values,
not by counts: measured on the frame (``stretch=auto``: :func:`map_floats`, by ``defusion video``'s
rule, :func:`~defusion.io.float_pixels.stream_float_span`), said in the same header as ``FIELD:LOW..HIGH``
in the frame's own units, and sent back to map the next frames by it, values beyond it clipped.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import replace
from http import HTTPStatus
from typing import TYPE_CHECKING, Sequence

import numpy as np

from defusion.fusion.choices import PALETTE_RANGE_FORM, decimal_text, palette_span, palette_span_text
from defusion.fusion.color import PALETTE_OF_COLOUR, is_grey
from defusion.fusion.stretch import STRETCHES, FixedStretch, Stretch, describe_fixed, measure_stretch
from defusion.fusion.thermal_notes import describe_order, describe_unstretched, flat_band, raw_bands
from defusion.io.arrays import MAX_16BIT
from defusion.io.float_pixels import describe_float_stretch, float_stretched, float_to_uint16, stream_float_span
from defusion.io.notes import collecting, note, warn
from defusion.serving.errors import ApiError
from defusion.serving.limits import FIELDS

if TYPE_CHECKING:  # annotations only: this module loads no torch
    from defusion.fusion.fuser import Fuser
    from defusion.fusion.options import FuseOptions

#: The response header with the stretch a fusion used, as ``stretch=`` takes it back:
#: ``FIELD:LOW-HIGH`` per stretched upload, comma-separated, in 16-bit counts (``a:7002-8997``), and
#: ``FIELD:LOW..HIGH`` per float upload, in its own values (``b:20.5..44.75``, degrees).
STRETCH_HEADER = "X-Defusion-Stretch"
#: The response header with the infrared values a palette spanned, as ``palette_range=`` takes it
#: back: ``LOW,HIGH``, the infrared image as fused (after its stretch), 0 to 1.
PALETTE_RANGE_HEADER = "X-Defusion-Palette-Range"
#: Decimals kept of a count (a hundredth of a count: far under a grey level of the fused image).
COUNT_DECIMALS = 2
#: The span of floats in [0, 1], which reading keeps as they are (:func:`stream_float_span`).
UNIT_SPAN = (0.0, 1.0)
#: How a note on a float upload mapped by a span measured on it says to keep that span.
KEEP_FLOAT_SPAN = (f"stretch=none does not apply to float frames; {STRETCH_HEADER} sent back as stretch= maps the "
                   "next frames by this range")
#: How the note on an infrared + visible pair sent infrared first says to send it.
SEND_VISIBLE_AS_A = "send the visible image as a and the infrared one as b"
#: One upload's mapping in ``stretch=``: its field, then its low and high counts.
_MAPPING = re.compile(r"(?P<field>[^:]+):(?P<low>\d+(?:\.\d+)?)-(?P<high>\d+(?:\.\d+)?)")
#: A float upload's mapping in ``stretch=``: its field, then its low and high values (signed, any scale).
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_FLOAT_MAPPING = re.compile(rf"(?P<field>[^:]+):(?P<low>{_NUMBER})\.\.(?P<high>{_NUMBER})")
#: How ``stretch=`` is written, for its errors.
STRETCH_FORM = (f"auto, none, or the {STRETCH_HEADER} header of an earlier response: FIELD:LOW-HIGH in 16-bit "
                "counts per upload, comma-separated (a:7002-8997), FIELD:LOW..HIGH in a float upload's own values "
                "(b:20.5..44.75)")
#: The float uploads' ranges of a stream: upload index to (low, high) in the upload's own values.
FloatSpans = dict[int, tuple[float, float]]


def read_stretch(text: str, fields: Sequence[str]) -> tuple[Stretch | FixedStretch, FloatSpans]:
    """``stretch=``'s value: the 16-bit uploads' stretch (``auto``, ``none`` or a :class:`FixedStretch`
    of the uploads in ``fields``, this server's) and the float uploads' spans, in their own values;
    a 422 saying what is wrong otherwise.

    Example:
        >>> read_stretch("a:20.5..44.75,b:7002-8997", ("a", "b"))[1]
        {0: (20.5, 44.75)}
        >>> read_stretch("b:-5..1e2", ("a", "b"))
        ('none', {1: (-5.0, 100.0)})
    """
    if text in STRETCHES:
        return text, {}
    sources: list[int] = []
    lows, highs = [], []
    spans: FloatSpans = {}
    for item in text.split(","):
        counts, values = _MAPPING.fullmatch(item.strip()), _FLOAT_MAPPING.fullmatch(item.strip())
        found = counts or values
        if found is None:
            raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY,
                           f"stretch={text!r}: {item.strip()!r} is no mapping; use {STRETCH_FORM}")
        field, low, high = found["field"], float(found["low"]), float(found["high"])
        if field not in fields:
            raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY,
                           f"stretch={text!r}: no field {field!r}; this server takes {', '.join(fields)}")
        index = fields.index(field)
        if index in sources or index in spans:
            raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY,
                           f"stretch={text!r}: field {field!r} is mapped twice; map each upload once")
        if values is not None:
            spans[index] = _float_span(text, field, low, high)
            continue
        if not low < high <= MAX_16BIT:
            raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY,
                           f"stretch={text!r}: {field}'s low must be under its high, and both at most "
                           f"{MAX_16BIT}")
        sources.append(index)
        lows.append(low / MAX_16BIT)
        highs.append(high / MAX_16BIT)
    return (FixedStretch(tuple(sources), tuple(lows), tuple(highs)) if sources else "none"), spans


def _float_span(text: str, field: str, low: float, high: float) -> tuple[float, float]:
    """A float upload's span from ``stretch=`` as float32 values, the values a frame holds (a span
    sent back maps exactly as the one measured); a 422 where it is no span."""
    with np.errstate(over="ignore"):  # past float32: infinite, refused below
        low32, high32 = float(np.float32(low)), float(np.float32(high))
    if not (math.isfinite(low32) and math.isfinite(high32) and low32 < high32):
        raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY,
                       f"stretch={text!r}: {field}'s float low must be under its high, both finite 32-bit "
                       "values")
    return low32, high32


def parse_palette_range(text: str) -> tuple[float, float]:
    """``palette_range=``'s value, ``LOW,HIGH`` with 0 <= LOW < HIGH <= 1; a 422 otherwise.

    Example:
        >>> parse_palette_range("0.1,0.85")
        (0.1, 0.85)
    """
    try:
        return palette_span(text)
    except ValueError:
        raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY,
                       f"palette_range={text!r}: give {PALETTE_RANGE_FORM}, the "
                       f"{PALETTE_RANGE_HEADER} header of an earlier response (0.12,0.87)") from None


def check_stretch_fields(stretch: Stretch | FixedStretch, count: int, spans: FloatSpans | None = None) -> None:
    """A 422 where a fixed stretch or a float span (``spans``) maps an upload past the ``count`` sent."""
    mapped = [*(stretch.sources if isinstance(stretch, FixedStretch) else ()), *(spans or {})]
    if mapped and max(mapped) >= count:
        raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY,
                       f"stretch maps field {FIELDS[max(mapped)]!r}, but {count} images were given")


def map_floats(images: Sequence[np.ndarray], stretch: Stretch | FixedStretch, spans: FloatSpans
               ) -> tuple[list[np.ndarray], FloatSpans]:
    """``images`` (as decoded, float ones as their values) with the float ones mapped to 16 bits,
    and the spans that a stream keeps: by ``spans`` (``stretch=``'s), values beyond them clipped;
    else, under ``stretch`` auto, by the span measured on the frame (:func:`stream_float_span`: as
    ``defusion video`` maps a float stream, and as reading alone maps one frame), said back; else
    (``none``, a fixed stretch that leaves them out) as reading maps them. A 422 where ``spans``
    names an upload that holds no floats, or a fixed stretch maps a float upload by counts.

    Example:
        >>> frame = np.array([[20.0, 40.0]], np.float32)
        >>> mapped, kept = map_floats([frame], "auto", {})
        >>> mapped[0].tolist(), kept
        ([[0, 65535]], {0: (20.0, 40.0)})
        >>> map_floats([frame + 10], "none", kept)[0][0].tolist()
        [[32768, 65535]]
    """
    mapped, kept = list(images), {}
    for index, image in enumerate(images):
        floats = image.dtype.kind == "f"
        if index in spans and not floats:
            raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY,
                           f"stretch maps {FIELDS[index]} by float values ({FIELDS[index]}:LOW..HIGH), but "
                           f"{FIELDS[index]} holds {image.dtype.itemsize * 8}-bit integers: map their counts as "
                           f"{FIELDS[index]}:LOW-HIGH, or send the float frame")
        if not floats:
            continue
        if isinstance(stretch, FixedStretch) and index in stretch.sources:
            raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY,
                           f"stretch maps {FIELDS[index]} by 16-bit counts ({FIELDS[index]}:LOW-HIGH), but "
                           f"{FIELDS[index]} holds float values: map them as {FIELDS[index]}:LOW..HIGH in its "
                           f"own values, as {STRETCH_HEADER} gives them")
        span = spans.get(index)
        if span is None and isinstance(stretch, str) and stretch == "auto":
            span = stream_float_span(image)  # None for a flat frame: reading's own mapping, and no span to keep
        mapped[index] = float_to_uint16(image, span)
        if span is not None:
            kept[index] = span
    return mapped, kept


def fold_float_stretch(values: Sequence[np.ndarray], images: Sequence[np.ndarray], options: FuseOptions,
                       spans: FloatSpans) -> tuple[list[np.ndarray], FuseOptions, FloatSpans]:
    """``images``, ``options`` and ``spans`` with the 16-bit stretch that ``options``
    (:func:`fix_measured_options`) puts on a float upload mapped by a span (floats in a narrow band of [0, 1], mapped as they are:
    raw counts, to the stretch) folded into that span: the upload mapped once, from its ``values``,
    by the one span the header gives and a request sends back. The same mapping (both are linear,
    clipped), quantised once. A band under one 32-bit step is widened to the next float above it: a
    float upload's mapping is always a span of its values, never counts (which sent back are a 422).

    Example:
        >>> from defusion.fusion.options import FuseOptions
        >>> frame = np.array([[0.25, 0.5, 0.75]], np.float32)
        >>> options = FuseOptions(stretch=FixedStretch((0,), 0.25, 0.75))
        >>> fold_float_stretch([frame], [float_to_uint16(frame)], options, {0: (0.0, 1.0)})[0][0].tolist()
        [[0, 32768, 65535]]
        >>> _, folded, spans = fold_float_stretch([frame], [float_to_uint16(frame)], options, {0: (0.0, 1.0)})
        >>> folded.stretch, spans
        ('none', {0: (0.25, 0.75)})
    """
    fixed = options.stretch
    if not isinstance(fixed, FixedStretch):
        return list(images), options, spans
    images, spans, folded = list(images), dict(spans), []
    for i in fixed.sources:
        if i not in spans or values[i].dtype.kind != "f":
            continue
        (low, high), (start, end) = fixed.mapping(i), spans[i]
        span = float(np.float32(start + low * (end - start))), float(np.float32(start + high * (end - start)))
        if not span[0] < span[1]:  # a band under one 32-bit step: the next float above, so a span is kept
            span = span[0], float(np.nextafter(np.float32(span[0]), np.float32(np.inf)))
        images[i], spans[i] = float_to_uint16(values[i], span), span
        folded.append(i)
    rest = [i for i in fixed.sources if i not in folded]
    stretch = FixedStretch(tuple(rest), tuple(fixed.mapping(i)[0] for i in rest),
                           tuple(fixed.mapping(i)[1] for i in rest)) if rest else "none"
    return images, (replace(options, stretch=stretch) if folded else options), spans


def float_notes(names: Sequence[str], values: Sequence[np.ndarray], used: FloatSpans, asked: FloatSpans
                ) -> list[str]:
    """What ``defusion fuse`` says of float uploads (named ``names``, ``values`` as decoded), whatever
    ``stretch=`` says, in its words (:func:`describe_float_stretch`): one mapped by a span measured
    (in ``used``, not ``asked`` by the request), with how to keep it, a narrow band of [0, 1] in
    its float values (:func:`fold_float_stretch`); one mapped by reading's rule (``stretch=none``,
    a count mapping that leaves it out, a flat frame) with how to map it by a range. Nothing of a
    span sent back.

    Example:
        >>> frame = np.array([[20.5, 44.75]], np.float32)
        >>> said = float_notes(["ir.tif"], [frame], {0: (20.5, 44.75)}, {})
        >>> said[0].startswith("note: ir.tif holds float values 20.5 to 44.75"), float_notes(["ir.tif"], [frame],
        ...                                                                {0: (20.5, 44.75)}, {0: (20.5, 44.75)})
        (True, [])
        >>> float_notes(["ir.tif"], [np.full((2, 2), 30.0, np.float32)], {}, {})[0].startswith(
        ...     "note: ir.tif holds one float value, 30, everywhere (not 0 to 1): read as black")
        True
    """
    with collecting() as said:
        for index, image in enumerate(values):
            if image.dtype.kind != "f" or index in asked:
                continue
            span = used.get(index)
            if span is None:  # mapped as reading maps it: its own minimum to maximum
                line = describe_float_stretch(names[index], (float(np.min(image)), float(np.max(image))))
                if line is not None:
                    note(f"{line} (stretch=none and count mappings do not apply to float frames; "
                         f"stretch={FIELDS[index]}:LOW..HIGH maps them by one range of their own values)")
            elif float_stretched(*span):
                note(f"{describe_float_stretch(names[index], span)} ({KEEP_FLOAT_SPAN})")
            elif span != UNIT_SPAN:  # a narrow band of [0, 1], its count stretch folded into its span
                note(f"{names[index]} holds float values {span[0]:.4g} to {span[1]:.4g} "
                     f"({100 * (span[1] - span[0]):.2g}% of 0 to 1, as raw sensor counts over {MAX_16BIT} do): "
                     f"stretched to the full range before fusing (stretch=none keeps the values as they are; "
                     f"{STRETCH_HEADER} sent back as stretch= maps the next frames by this range)")
    return said


def stretch_value(stretch: FixedStretch | None, spans: FloatSpans | None = None) -> str:
    """:data:`STRETCH_HEADER`'s value for ``stretch`` and float uploads' ``spans``, in field order,
    which :func:`read_stretch` reads back; a float upload by its span, whatever ``stretch`` says of it.

    Example:
        >>> stretch_value(FixedStretch((0,), 7002 / 65535, 8997.25 / 65535))
        'a:7002-8997.25'
        >>> stretch_value(None, {1: (20.58819961547852, 44.75)})
        'b:20.5882..44.75'
    """
    items = {i: f"{FIELDS[i]}:{_float_text(low)}..{_float_text(high)}" for i, (low, high) in (spans or {}).items()}
    for i in stretch.sources if stretch is not None else ():
        if i in items:  # a float upload: its span maps it (fold_float_stretch), counts would be a 422 sent back
            continue
        low, high = stretch.mapping(i)
        items[i] = f"{FIELDS[i]}:{decimal_text(low * MAX_16BIT, COUNT_DECIMALS)}-" \
                   f"{decimal_text(high * MAX_16BIT, COUNT_DECIMALS)}"
    return ",".join(items[i] for i in sorted(items))


def _float_text(value: float) -> str:
    """``value``, a float32 value, in the fewest digits that read back as it (``20.5882``)."""
    return str(np.float32(value))


def kept_headers(options: FuseOptions, spans: FloatSpans | None = None) -> dict[str, str]:
    """The headers saying what a fusion at ``options`` (:func:`fix_measured_options`) used: its fixed
    stretch and float uploads' ``spans`` (:func:`map_floats`) and, with a palette, its range; none where it
    stretched nothing and drew no palette."""
    headers = {}
    fixed = options.stretch if isinstance(options.stretch, FixedStretch) else None
    if fixed is not None or spans:
        headers[STRETCH_HEADER] = stretch_value(fixed, spans)
    if options.palette != "none" and options.palette_range is not None:
        headers[PALETTE_RANGE_HEADER] = palette_span_text(options.palette_range)
    return headers


def fix_measured_options(fuser: Fuser, images: Sequence[np.ndarray]) -> FuseOptions:
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
                  task: str | None = None, mapped: Sequence[int] | None = None, floats: Sequence[int] = ()
                  ) -> list[str]:
    """What ``defusion fuse`` says of these uploads (named ``names``) at ``fuser``'s options, as
    ``"note: ..."`` lines: the raw frames it stretches where the request left that to the server
    (``stretch=auto``: the stretch :func:`fix_measured_options` measured, ``used``, in describe_stretch's
    words), or leaves nearly flat (``stretch=none``; a ``stretch=`` of mappings, ``mapped`` the uploads it maps:
    those it leaves out, as a count mapping does, float uploads, ``floats``, aside); where the palette's infrared image was a guess, which
    upload it colours; and, for an infrared + visible pair (``task`` ivf, or a palette) sent
    infrared first, that ``a`` is the visible image by convention (thermal_notes' rules and words)."""
    stretch = fuser.options.stretch
    with collecting() as said:
        if isinstance(stretch, str) and stretch == "auto" and isinstance(used.stretch, FixedStretch):
            for line in describe_fixed(names, used.stretch, images):
                note(f"{line} (stretch=none keeps the values as they are)")
        if mapped is not None:
            for line in _unmapped_notes(names, images, [*mapped, *floats]):
                note(line)
        elif isinstance(stretch, str) and stretch == "none":
            for line in describe_unstretched(names, images, option="stretch=", shared=fuser.options.stretch_shared):
                note(line)
        if task == "ivf" or fuser.options.palette != "none":
            order = describe_order(names, images, resize="the rig" if fuser.options.rig is not None else None,
                                   fix=SEND_VISIBLE_AS_A, infrared=fuser.options.infrared)
            if order is not None:
                note(order)
        if fuser.options.palette != "none" and fuser.options.infrared is None:
            index, why = _infrared_source(fuser, images)
            if why:
                note(f"palette colours {names[index]} as the infrared image ({why}); infrared=N picks the Nth "
                     "upload instead (1 for a)")
        if fuser.options.palette != "none":  # said here, where the response's notes are gathered
            index = fuser.options.infrared if fuser.options.infrared is not None else _infrared_source(fuser, images)[0]
            if index < len(images) and not is_grey(images[index]):
                warn(f"{names[index]}: {PALETTE_OF_COLOUR}")
    return said


def _infrared_source(fuser: Fuser, images: Sequence[np.ndarray]) -> tuple[int, str | None]:
    """:meth:`Fuser.infrared_source`, what checking the images says left unsaid: the fusion says it (once
    per request, in its own words), not these notes."""
    with collecting():
        return fuser.infrared_source(*images)


def _unmapped_notes(names: Sequence[str], images: Sequence[np.ndarray], left: Sequence[int]) -> list[str]:
    """One sentence per raw sensor frame among ``images`` (named ``names``) that a ``stretch=`` of
    mappings leaves out (not in ``left``: those it maps, float uploads) and so takes as it is, nearly
    flat: describe_unstretched's words, with how to map it (the request sent no ``stretch=none``)."""
    return [f"{flat_band(names[index], low, high)}: stretch= does not map it (add {FIELDS[index]}:LOW-HIGH, or "
            "use stretch=auto, to see its content)" for index, low, high in raw_bands(images) if index not in left]

"""A thermal palette's colour key: a vertical bar of the colours ``--palette`` draws the infrared image in,
labelled with the infrared values they stand for, as a thermal camera draws its scale bar beside the
picture. Without it, a false-colour image says "warmer" and "colder" but never "how warm".

The bar's colours are the fusion's own table (:func:`defusion.fusion.color.thermal_colours`, OpenCV's colour
maps), low values at the bottom, high at the top. Its labels are the 0-1 values ``--palette-range`` takes (the
infrared image as fused: after any stretch) and, where the infrared source's own values map onto them by one
known straight line (:func:`source_values`: a 16-bit frame's counts, stretched or not; a float frame's values,
degrees say, stretched from its minimum to its maximum when read), those too. Pure: arrays in, pixels out.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Sequence

import numpy as np

from defusion.fusion.errors import OptionsError

if TYPE_CHECKING:
    from PIL import ImageDraw, ImageFont

#: The legend's height in pixels unless told: a bar of 256 + rows, one or more per entry of the palette's
#: 256-entry table (:data:`defusion.cli.fuse.fusion_notes.PALETTE_STEPS`) below its caption.
LEGEND_HEIGHT = 320
#: How many values are labelled along the bar unless told: both ends and the quarters between them.
LEGEND_TICKS = 5
#: The colour bar's width, the white margin around everything, the tick marks' length and the gap between
#: a tick and its label, in pixels.
LEGEND_BAR_WIDTH = 32
LEGEND_MARGIN = 8
LEGEND_TICK = 6
LEGEND_GAP = 4
#: The black frame around the bar, in pixels: the palettes' white ends (hot's) show on the white background.
LEGEND_FRAME = 1
#: Points of Pillow's default font (FreeType's, Pillow 10.1 on; else its 11 px bitmap font): the size
#: ``defusion fuse --compare`` labels its sheets at (:data:`defusion.io.sheets.SHEET_LABEL_SIZE`).
LEGEND_FONT_SIZE = 16
#: Text and frame are black on white: a contrast of 21:1, over WCAG's 4.5:1 for text.
INK = (0, 0, 0)
PAPER = (255, 255, 255)
#: The fewest decimals of a 0-1 label: --palette-range's values read at a thousandth.
UNIT_DECIMALS = 3
#: What the caption calls the 0-1 values: the infrared image as fused, what --palette-range takes.
FUSED_SCALE = "infrared 0-1"


def palette_legend(palette: str, span: tuple[float, float], height: int = LEGEND_HEIGHT, *,
                   values: tuple[float, float] | None = None, unit: str = "values",
                   ticks: int = LEGEND_TICKS) -> np.ndarray:
    """HxWx3 uint8 RGB: ``palette``'s colour bar spanning the infrared values ``span`` (low, high: 0-1, the
    infrared image as fused, as ``--palette-range`` takes them) over ``height`` pixels, low at the bottom,
    with ``ticks`` of them labelled in black on white. ``values`` (the infrared source's own values that
    0 and 1 stand for: :func:`source_values`) labels each in them too, in brackets, and the caption names
    them (``unit``: "counts", "file values"). The width is what the labels need.

    Example:
        >>> legend = palette_legend("inferno", (0.125, 0.75))
        >>> legend.shape[0], legend.shape[2], legend.dtype
        (320, 3, dtype('uint8'))
        >>> palette_legend("jet", (0.1, 0.9), 200, values=(7000.0, 9000.0), unit="counts").shape[0]
        200
    """
    from PIL import Image, ImageDraw

    from defusion.io.sheets import label_font

    low, high = _checked(palette, span, ticks)
    font = label_font(LEGEND_FONT_SIZE)
    caption = FUSED_SCALE if values is None else f"{FUSED_SCALE} ({unit})"
    places = [k / (ticks - 1) for k in range(ticks)]  # 0 (bottom) to 1 (top) along the bar
    labels = _labels([low + t * (high - low) for t in places], UNIT_DECIMALS)
    if values is not None:
        own = _labels([values[0] + (low + t * (high - low)) * (values[1] - values[0]) for t in places], 0)
        labels = [f"{label} ({value})" for label, value in zip(labels, own)]
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    text_height = max(_box(draw, text, font)[3] for text in [caption, *labels])
    top = LEGEND_MARGIN + text_height + LEGEND_MARGIN + text_height // 2  # the caption, then half a label
    bottom = height - LEGEND_MARGIN - (text_height + 1) // 2
    rows = bottom - top
    if rows < ticks * text_height:
        need = height + ticks * text_height - rows
        raise OptionsError(f"a legend {height} px high has no room for {ticks} labels; give a height of at least "
                           f"{need}")
    text_x = LEGEND_MARGIN + LEGEND_BAR_WIDTH + LEGEND_TICK + LEGEND_GAP
    width = max(text_x + max(_box(draw, text, font)[2] for text in labels),
                LEGEND_MARGIN + _box(draw, caption, font)[2]) + LEGEND_MARGIN
    picture = Image.new("RGB", (width, height), PAPER)
    picture.paste(Image.fromarray(palette_bar(palette, rows, LEGEND_BAR_WIDTH)), (LEGEND_MARGIN, top))
    draw = ImageDraw.Draw(picture)
    right = LEGEND_MARGIN + LEGEND_BAR_WIDTH
    draw.rectangle((LEGEND_MARGIN - LEGEND_FRAME, top - LEGEND_FRAME, right + LEGEND_FRAME - 1,
                    bottom + LEGEND_FRAME - 1), outline=INK, width=LEGEND_FRAME)
    draw.text((LEGEND_MARGIN, LEGEND_MARGIN), caption, fill=INK, font=font)
    for place, label in zip(places, labels):
        row = top + round((1.0 - place) * (rows - 1))
        draw.line((right, row, right + LEGEND_TICK - 1, row), fill=INK)
        box = _box(draw, label, font)
        draw.text((text_x, row - (box[1] + box[3]) // 2), label, fill=INK, font=font)
    return np.asarray(picture)


def palette_bar(palette: str, rows: int, width: int = LEGEND_BAR_WIDTH) -> np.ndarray:
    """rows x width x 3 uint8 RGB: ``palette``'s colours from its last entry (the top row) to its first (the
    bottom row), drawn by the fusion's own :func:`~defusion.fusion.color.thermal_colours` (no second table).

    Example:
        >>> bar = palette_bar("hot", 256, 2)
        >>> bar.shape, bar[0, 0].tolist(), bar[-1, 0].tolist()  # white at the top, black at the bottom
        ((256, 2, 3), [255, 255, 255], [0, 0, 0])
    """
    from defusion.fusion.color import thermal_colours

    ramp = np.tile(np.linspace(1.0, 0.0, rows, dtype=np.float32)[:, None], (1, width))
    return np.round(thermal_colours(ramp, palette, (0.0, 1.0)) * 255).astype(np.uint8)


def source_values(image: np.ndarray, stretch: tuple[float, float] | None = None,
                  read_span: tuple[float, float] | None = None) -> tuple[float, float] | None:
    """The infrared source's own values that 0 and 1 of the fused infrared image stand for, where one
    straight line maps them (:func:`palette_legend`'s ``values``): a grey 16-bit ``image`` (as read) is
    ``count / 65535``, then, where ``--stretch`` stretched it, mapped from ``stretch`` (low, high: the
    :class:`~defusion.fusion.stretch.FixedStretch` mapping, 0-1) onto 0-1; a float file read as 16-bit was
    stretched first from ``read_span`` (its minimum and maximum: :func:`defusion.io.probes.float_span`; (0, 1)
    where its values lay in [0, 1] and were kept). None for an 8-bit or colour image (display values, no
    reading behind them) and a flat float file (read as black: nothing maps back).

    Example:
        >>> raw = np.array([[7000, 9000]], np.uint16)
        >>> source_values(raw), source_values(raw, (7000 / 65535, 9000 / 65535))
        ((0.0, 65535.0), (7000.0, 9000.0))
        >>> source_values(raw, read_span=(20.0, 45.0))  # a float frame in degrees, stretched when read
        (20.0, 45.0)
        >>> source_values(raw.astype(np.uint8)) is None
        True
    """
    from defusion.fusion.color import is_grey
    from defusion.io.arrays import MAX_16BIT, is_uint16

    if not is_uint16(image) or not is_grey(image):
        return None
    low, high = stretch if stretch is not None else (0.0, 1.0)
    if read_span is None:
        return low * MAX_16BIT, high * MAX_16BIT
    first, last = read_span
    if not last > first:
        return None
    return first + low * (last - first), first + high * (last - first)


def _checked(palette: str, span: tuple[float, float], ticks: int) -> tuple[float, float]:
    """``span`` as floats, refused (OptionsError, one line) where it is no range a palette spans, with a
    ``palette`` that has no colours or fewer than two ``ticks``."""
    from defusion.fusion.choices import PALETTE_RANGE_FORM
    from defusion.fusion.color import check_palette

    check_palette(palette)
    if palette == "none":
        raise OptionsError("palette 'none' has no colours to draw a legend of; give one of the others")
    low, high = (float(bound) for bound in span)
    if not 0.0 <= low < high <= 1.0:  # False for NaN too
        raise OptionsError(f"a legend spans {PALETTE_RANGE_FORM}, got {low:g},{high:g}")
    if ticks < 2:
        raise OptionsError(f"a legend labels at least 2 values (its ends), got {ticks}")
    return low, high


def _labels(values: Sequence[float], decimals: int) -> list[str]:
    """``values`` (evenly spaced) written with the decimals that tell neighbours apart, at least
    ``decimals``: a tenth of their step shows.

    Example:
        >>> _labels([20.0, 26.25, 32.5], 0), _labels([7000.0, 7500.0], 0), _labels([0.1, 0.5, 0.9], 3)
        (['20.0', '26.2', '32.5'], ['7000', '7500'], ['0.100', '0.500', '0.900'])
    """
    step = abs(values[1] - values[0]) if len(values) > 1 else 0.0
    shown = max(decimals, 1 - math.floor(math.log10(step))) if step > 0 else decimals
    return [f"{value:.{shown}f}" for value in values]


def _box(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.ImageFont | ImageFont.FreeTypeFont
         ) -> tuple[int, int, int, int]:
    """``text``'s box drawn at (0, 0) in ``font`` (left, top, right, bottom)."""
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    return int(left), int(top), int(right), int(bottom)


__all__ = ["FUSED_SCALE", "INK", "LEGEND_BAR_WIDTH", "LEGEND_FONT_SIZE", "LEGEND_FRAME", "LEGEND_GAP",
           "LEGEND_HEIGHT", "LEGEND_MARGIN", "LEGEND_TICK", "LEGEND_TICKS", "PAPER", "UNIT_DECIMALS",
           "palette_bar", "palette_legend", "source_values"]

"""The colour key of a thermal palette (:mod:`defusion.fusion.palette_legend`): the fusion's own colours, low
at the bottom, labelled readably; and what --palette's help says of the palettes (choices.PALETTE_ORDER_HELP)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from defusion.fusion.choices import ORDERED_PALETTES, PALETTE_ORDER_HELP, PALETTES
from defusion.fusion.errors import OptionsError
from defusion.fusion.palette_legend import (INK, LEGEND_BAR_WIDTH, LEGEND_FRAME, LEGEND_GAP, LEGEND_HEIGHT,
                                            LEGEND_MARGIN, LEGEND_TICK, LEGEND_TICKS, PAPER, palette_legend,
                                            source_values)
from defusion.fusion.stretch import measure_stretch

COLOURED = [name for name in PALETTES if name != "none"]
#: WCAG's least contrast for text.
TEXT_CONTRAST = 4.5


def _table(palette: str) -> np.ndarray:
    """The palette's 256 colours (RGB uint8) as OpenCV draws them: what the fusion colours with."""
    steps = np.arange(256, dtype=np.uint8)[:, None]
    return cv2.applyColorMap(steps, getattr(cv2, f"COLORMAP_{palette.upper()}"))[:, 0, ::-1]


def _bar_rows(legend: np.ndarray) -> tuple[int, int]:
    """The first and last row of the colour bar, inside its frame (its left side: a black column)."""
    framed = np.flatnonzero((legend[:, LEGEND_MARGIN - LEGEND_FRAME] == INK).all(axis=1))
    return int(framed[0]) + LEGEND_FRAME, int(framed[-1]) - LEGEND_FRAME


def _luminance(rgb: tuple[int, int, int]) -> float:
    """WCAG's relative luminance of an sRGB colour."""
    linear = [(c / 255) / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


@pytest.mark.parametrize("palette", COLOURED)
def test_the_bar_is_the_palettes_own_table_high_at_the_top(palette):
    legend = palette_legend(palette, (0.2, 0.7))
    top, bottom = _bar_rows(legend)
    table = _table(palette)
    inside = slice(LEGEND_MARGIN, LEGEND_MARGIN + LEGEND_BAR_WIDTH)
    assert (legend[top, inside] == table[255]).all() and (legend[bottom, inside] == table[0]).all()
    rows = legend[top:bottom + 1, LEGEND_MARGIN + LEGEND_BAR_WIDTH // 2]
    table_rows = {tuple(colour) for colour in table.tolist()}
    assert all(tuple(colour) in table_rows for colour in rows.tolist())  # every colour one of the table's
    assert bottom - top + 1 >= 256  # every entry shown at the default height


def test_each_value_is_labelled_in_dark_text_beside_its_tick():
    legend = palette_legend("inferno", (0.125, 0.75))
    assert legend.shape == (LEGEND_HEIGHT, legend.shape[1], 3) and legend.dtype == np.uint8
    top, bottom = _bar_rows(legend)
    text = legend[:, LEGEND_MARGIN + LEGEND_BAR_WIDTH + LEGEND_TICK + LEGEND_GAP:].min(axis=2)
    for k in range(LEGEND_TICKS):
        row = top + round((1 - k / (LEGEND_TICKS - 1)) * (bottom - top))
        assert (text[row - 4:row + 5] < 128).sum() > 10, f"no label beside tick {k}"
    between = top + (bottom - top) // (2 * (LEGEND_TICKS - 1))  # half way between the top two ticks
    assert (text[between - 1:between + 2] < 128).sum() == 0
    ink, paper = tuple(int(c) for c in legend.reshape(-1, 3)[legend.sum(axis=2).argmin()]), PAPER
    assert ink == INK and legend[0, 0].tolist() == list(paper)
    contrast = (_luminance(paper) + 0.05) / (_luminance(ink) + 0.05)
    assert contrast >= TEXT_CONTRAST


def test_the_sources_own_values_widen_the_labels_and_the_height_is_kept():
    plain = palette_legend("jet", (0.1, 0.9), 240)
    counted = palette_legend("jet", (0.1, 0.9), 240, values=(7000.0, 9000.0), unit="counts")
    assert plain.shape[0] == counted.shape[0] == 240
    assert counted.shape[1] > plain.shape[1]


def test_source_values_follow_the_stretch_and_a_float_files_reading():
    raw = np.array([[7000, 7500], [8000, 9000]], np.uint16)
    fixed = measure_stretch([raw])
    low, high = source_values(raw, fixed.mapping(0))
    assert (round(low), round(high)) == (7002, 8997)  # the stretch's own band: fused 0 and 1
    # a float frame of 20-45 degrees read as 16 bits, then stretched from 10% to 90% of them
    low, high = source_values(raw, (0.1, 0.9), read_span=(20.0, 45.0))
    assert (low, high) == pytest.approx((22.5, 42.5))
    assert source_values(raw, read_span=(30.0, 30.0)) is None  # a flat float file: read as black
    assert source_values(np.dstack([raw] * 2 + [raw // 2])) is None  # colour: no reading behind it


@pytest.mark.parametrize("call, said", [
    (lambda: palette_legend("none", (0.1, 0.9)), "palette 'none' has no colours"),
    (lambda: palette_legend("sepia", (0.1, 0.9)), "unknown palette 'sepia'"),
    (lambda: palette_legend("hot", (0.9, 0.1)), "a legend spans LOW,HIGH with 0 <= LOW < HIGH <= 1, got 0.9,0.1"),
    (lambda: palette_legend("hot", (0.1, 0.9), 40), "has no room for 5 labels; give a height of at least"),
    (lambda: palette_legend("hot", (0.1, 0.9), ticks=1), "at least 2 values"),
])
def test_what_cannot_be_drawn_is_one_line(call, said):
    with pytest.raises(OptionsError, match=None) as raised:
        call()
    assert said in str(raised.value) and "\n" not in str(raised.value)


def test_the_help_says_which_palettes_read_in_order():
    assert set(ORDERED_PALETTES) <= set(PALETTES)
    ordered, others = PALETTE_ORDER_HELP.split(";")
    assert all(name in ordered for name in ORDERED_PALETTES) and "colour-blind" in ordered
    assert all(name in others for name in COLOURED if name not in ORDERED_PALETTES)


@pytest.mark.parametrize("palette", COLOURED)
def test_the_ordered_palettes_rise_evenly_in_lightness_and_the_others_do_not(palette):
    """What ORDERED_PALETTES says, measured on OpenCV's tables: CIELAB L* never falls, in steps of under 1."""
    lightness = cv2.cvtColor(_table(palette)[:, None, ::-1].copy(), cv2.COLOR_BGR2LAB)[:, 0, 0].astype(float) * 100 / 255
    steps = np.diff(lightness)
    even = steps.min() > -0.5 and steps.max() < 1.0
    assert even == (palette in ORDERED_PALETTES)

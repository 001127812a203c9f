"""defusion.benchmark.report's picture helpers."""

from __future__ import annotations

import warnings

import numpy as np
from PIL import Image

from defusion.benchmark.report import summary_chart, tile_rows
from defusion.benchmark.runner import Row


def test_tile_rows_lays_rows_side_by_side_and_stacks_them_on_white():
    red, blue = Image.new("RGB", (4, 3), (255, 0, 0)), Image.new("RGB", (2, 5), (0, 0, 255))
    sheet = tile_rows([[red, red], [blue]])
    assert sheet.size == (8, 3 + 5)  # widest row; each row as tall as its tallest tile
    assert sheet.getpixel((5, 1)) == (255, 0, 0)  # the second tile of the first row
    assert sheet.getpixel((1, 4)) == (0, 0, 255)  # the second row starts under the first
    assert sheet.getpixel((6, 6)) == (255, 255, 255)  # the short row is padded with white


def test_summary_chart_of_one_method_keeps_its_labels(tmp_path):
    """One method (a candidate scored alone) once left no room for the title and metric names."""
    rows = [Row("defusion", f"p{i}", metric, 0.5 + i / 10) for i in range(3)
            for metric in ("MEF-SSIM", "MS-MEF-SSIM", "SSIM", "SSIM-mean", "PSNR-standard", "EN", "SD", "SF",
                           "AG", "Qabf", "MI", "CC")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns when a layout cannot fit
        summary_chart(rows, tmp_path / "one.png", "MEF: mefb")
    chart = np.asarray(Image.open(tmp_path / "one.png").convert("L"))
    heatmap_rows = np.flatnonzero((chart < 128).mean(axis=1) > 0.5)  # the coloured cells' rows
    text = (chart < 100).any(axis=1)
    assert text[: heatmap_rows.min() - 2].any(), "the title is cut off"
    assert text[heatmap_rows.max() + 12:].sum() > 20, "the metric names under the cells are cut off"

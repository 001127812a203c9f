"""defusion.benchmark.report's picture helpers."""

from __future__ import annotations

from PIL import Image

from defusion.benchmark.report import tile_rows


def test_tile_rows_lays_rows_side_by_side_and_stacks_them_on_white():
    red, blue = Image.new("RGB", (4, 3), (255, 0, 0)), Image.new("RGB", (2, 5), (0, 0, 255))
    sheet = tile_rows([[red, red], [blue]])
    assert sheet.size == (8, 3 + 5)  # widest row; each row as tall as its tallest tile
    assert sheet.getpixel((5, 1)) == (255, 0, 0)  # the second tile of the first row
    assert sheet.getpixel((1, 4)) == (0, 0, 255)  # the second row starts under the first
    assert sheet.getpixel((6, 6)) == (255, 255, 255)  # the short row is padded with white

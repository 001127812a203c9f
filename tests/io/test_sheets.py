"""defusion.io.sheets: compare sheets' layout, labels and pixels; bench's grids drawn on the same tiles."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from defusion.io.sheets import (GRID_TILE_HEIGHT, LABEL_OFFSET, MIN_TILE_SIDE, SHEET_GAP, SHEET_MAX_WIDTH,
                                SHEET_TILE_SIDE, compare_sheet, fitted, label_font, labelled_tile, preview,
                                sheet_rows)

#: Rows at the top of a tile the label is drawn in (its box and margins, with room to spare).
LABEL_BAND = 2 * LABEL_OFFSET + 24


def _flat(h: int, w: int, value, dtype=np.uint8, channels: int | None = None) -> np.ndarray:
    return np.full((h, w) if channels is None else (h, w, channels), value, dtype)


def _tile(sheet: Image.Image, index: int, width: int, height: int, row: int = 0) -> np.ndarray:
    """The index-th tile of a row of the sheet (tiles ``width`` x ``height``, :data:`SHEET_GAP` apart)."""
    left, top = index * (width + SHEET_GAP), row * (height + SHEET_GAP)
    return np.asarray(sheet)[top:top + height, left:left + width]


def test_a_bracket_goes_in_one_row_of_tiles_of_the_longest_side():
    sources = [(f"ev{i}.png", _flat(600, 900, 60 * i, channels=3)) for i in range(3)]
    sheet = compare_sheet(sources, _flat(600, 900, 128, channels=3))
    width, height = SHEET_TILE_SIDE, round(SHEET_TILE_SIDE * 600 / 900)
    assert sheet.size == (4 * width + 3 * SHEET_GAP, height)
    assert _tile(sheet, 3, width, height)[-1, -1].tolist() == [128, 128, 128]  # the fused image last
    assert np.asarray(sheet)[height // 2, width + SHEET_GAP // 2].tolist() == [255, 255, 255]  # white between


def test_a_portrait_tile_takes_the_longest_side_as_its_height_and_a_small_image_is_enlarged():
    sheet = compare_sheet([("a.png", _flat(40, 20, 10)), ("b.png", _flat(40, 20, 200))], _flat(40, 20, 99))
    assert sheet.size == (3 * SHEET_TILE_SIDE // 2 + 2 * SHEET_GAP, SHEET_TILE_SIDE)


def test_many_sources_wrap_into_even_rows_within_the_width():
    sources = [(f"s{i}.png", _flat(300, 400, 20 * i)) for i in range(8)]
    sheet = compare_sheet(sources, _flat(300, 400, 250))  # 9 tiles of 512 x 384
    per_row = (SHEET_MAX_WIDTH + SHEET_GAP) // (SHEET_TILE_SIDE + SHEET_GAP)
    rows = -(-9 // per_row)
    columns = -(-9 // rows)
    assert sheet.size == (columns * SHEET_TILE_SIDE + (columns - 1) * SHEET_GAP, rows * 384 + (rows - 1) * SHEET_GAP)
    assert sheet.width <= SHEET_MAX_WIDTH and rows > 1
    assert [len(r) for r in sheet_rows([Image.new("RGB", (10, 10))] * 9, 50, 0)] == [5, 4]


def test_each_tile_is_labelled_in_its_top_band_and_the_rest_is_the_image():
    sheet = compare_sheet([("a.png", _flat(300, 400, 128)), ("b.png", _flat(300, 400, 128))], _flat(300, 400, 128))
    for index in range(3):
        tile = _tile(sheet, index, SHEET_TILE_SIDE, 384)
        assert len(np.unique(tile[:LABEL_BAND])) > 2  # a black box and white text on the grey image
        assert np.unique(tile[LABEL_BAND:]).tolist() == [128]


def test_the_labels_are_the_names_given_in_order():
    """Tiles labelled alike are alike; another label draws other pixels."""
    image = _flat(64, 64, 90)
    sheet = compare_sheet([("same.png", image), ("same.png", image)], image, label="other")
    first, second, fused = (_tile(sheet, i, SHEET_TILE_SIDE, SHEET_TILE_SIDE) for i in range(3))
    assert np.array_equal(first, second) and not np.array_equal(first, fused)


def test_a_long_label_is_shortened_to_its_tile():
    font = label_font()
    long = "a_very_long_file_name_of_the_third_shot_of_a_bracket_" * 3 + ".tif"
    short = fitted(long, SHEET_TILE_SIDE, font)
    assert "..." in short and short.endswith(".tif") and len(short) < len(long)
    assert fitted("a.png", SHEET_TILE_SIDE, font) == "a.png"
    sheet = compare_sheet([(long, _flat(300, 400, 128))], _flat(300, 400, 128))
    assert np.unique(_tile(sheet, 0, SHEET_TILE_SIDE, 384)[:, -2:]).tolist() == [128]  # its box ends in the tile


@pytest.mark.parametrize("pixels, shown", [
    (_flat(30, 40, 200 * 257, np.uint16), 200),  # 16-bit: scaled to 8 bits, not cut to its low byte
    (_flat(30, 40, 200 * 257, np.uint16, channels=3), 200),
    (_flat(30, 40, 0.5, np.float32), 128),  # float in [0, 1]
    (_flat(30, 40, 77, channels=1), 77),  # HxWx1
    (_flat(30, 40, 77, channels=4), 77),  # RGBA: the alpha is left out
])
def test_grey_16_bit_and_float_sources_are_shown_in_8_bits(pixels, shown):
    image = preview(pixels)
    assert image.dtype == np.uint8 and image.ndim in (2, 3) and (image.ndim == 2 or image.shape[2] == 3)
    assert np.unique(image).tolist() == [shown]
    sheet = compare_sheet([("a", pixels)], _flat(30, 40, 0))
    assert np.unique(_tile(sheet, 0, SHEET_TILE_SIDE, 384)[LABEL_BAND:]).tolist() == [shown]


def test_a_large_source_is_thinned_before_it_is_converted():
    big = np.zeros((6000, 4000), np.uint16)
    assert max(preview(big).shape) <= 4 * SHEET_TILE_SIDE
    sheet = compare_sheet([("big.tif", big)], np.zeros((6000, 4000), np.uint16))
    assert sheet.size == (2 * round(SHEET_TILE_SIDE * 4000 / 6000) + SHEET_GAP, SHEET_TILE_SIDE)


def test_bench_draws_its_grids_with_the_shared_tiles():
    from defusion.benchmark import report

    assert report.labelled_tile is labelled_tile and report.GRID_TILE_HEIGHT == GRID_TILE_HEIGHT
    a, b = _flat(50, 70, 10, channels=3), _flat(50, 70, 200)
    grid = report.comparison_grid(a, b, {f"m{i}": a for i in range(5)}, columns=6)
    width = round(70 * GRID_TILE_HEIGHT / 50)
    assert grid.size == (6 * width, 2 * GRID_TILE_HEIGHT)
    assert grid.getpixel((width + 1, 2 * GRID_TILE_HEIGHT - 1)) == (255, 255, 255)  # the short row padded white


def test_same_named_shots_of_two_cameras_keep_the_part_of_their_paths_that_differs():
    """Two sources of one name are labelled by their paths, which differ near their ends."""
    font = label_font()
    left, right = (f"/mnt/nas/photographs/2024/2024-06-01 wedding/camera_{side}/IMG_0001.JPG"
                   for side in ("left", "right"))
    width = round(SHEET_TILE_SIDE * 2 / 3)
    assert fitted(left, width, font) != fitted(right, width, font)
    assert fitted(right, width, font).endswith("camera_right/IMG_0001.JPG")


def test_a_bitmap_font_draws_names_it_cannot_spell_as_question_marks(monkeypatch):
    """Without FreeType Pillow's bitmap font raised UnicodeEncodeError on a Japanese name, after the fusion."""
    from PIL import ImageFont

    from defusion.io import sheets

    monkeypatch.setattr(sheets, "label_font", lambda size=0: ImageFont.load_default_imagefont())
    image = _flat(40, 60, 90, channels=3)
    sheet = compare_sheet([("日本の写真.png", image), ("b.png", image)], image)
    assert sheet.size == (3 * SHEET_TILE_SIDE + 2 * SHEET_GAP, round(SHEET_TILE_SIDE * 40 / 60))


@pytest.mark.parametrize("shape", [(1, 4000), (4000, 1), (10, 100000)])
def test_a_strip_of_an_image_makes_a_tile_of_the_longest_side_with_room_for_its_label(shape):
    sheet = compare_sheet([("strip.png", _flat(*shape, 200))], _flat(*shape, 200))
    long, short = (SHEET_TILE_SIDE, MIN_TILE_SIDE)
    expected = (2 * long + SHEET_GAP, short) if shape[0] < shape[1] else (2 * short + SHEET_GAP, long)
    assert sheet.size == expected


def test_grey_with_alpha_and_damaged_floats_are_shown():
    grey_alpha = np.dstack([_flat(30, 40, 100), _flat(30, 40, 255)])
    damaged = _flat(30, 40, 0.5, np.float32)
    damaged[0, :] = np.nan
    assert preview(grey_alpha).shape == (30, 40) and int(preview(grey_alpha)[5, 5]) == 100
    shown = preview(damaged)
    assert shown.dtype == np.uint8 and int(shown[0, 0]) == 0 and int(shown[5, 5]) == 128


def test_bench_grids_default_font_draws_names_it_cannot_spell_too(monkeypatch):
    """labelled_tile without a font (bench's grids) draws with Pillow's default: without FreeType, the
    bitmap font, which raised UnicodeEncodeError on a non-Latin-1 method or file name."""
    from PIL import ImageFont

    monkeypatch.setattr(ImageFont, "load_default", lambda size=None: ImageFont.load_default_imagefont())
    tile = labelled_tile(_flat(20, 30, 90, channels=3), "方法.png", height=40)
    assert tile.size == (60, 40)

"""A benchmark pair's comparison grid: the sources and every method's result side by side, labelled
(tiles and labels drawn by :mod:`defusion.io.sheets`, in the font and size of ``defusion fuse
--compare``'s sheets), a grey placeholder in place of a method with no result."""

from __future__ import annotations

from typing import Mapping

import numpy as np
from PIL import Image

from defusion.io.sheets import GRID_TILE_HEIGHT, fitted, label_font, labelled_tile, tile_rows

#: The level of a placeholder tile (a method with no result of the pair): mid grey, neither a black or
#: white result nor the grid's white background, so that the gap reads as one.
NO_RESULT_GREY = 128
#: What a placeholder tile says after the method's name.
NO_RESULT_LABEL = "no result"
#: The sources' labels where the caller names no files: the bench's --a and --b.
SOURCE_LABELS = ("A", "B")


def comparison_grid(a: np.ndarray, b: np.ndarray, outputs: Mapping[str, np.ndarray | None],
                    columns: int = 6, sources: tuple[str, str] = SOURCE_LABELS) -> Image.Image:
    """Sources first, labelled ``sources`` (their file names, say, as ``defusion fuse --compare`` labels
    them: ``vi/01.png``, ``ir/01.png``), then every method's result, labelled, in rows of ``columns``; a
    method whose result is None (none of this pair: missing, unreadable, of another size) gets a grey
    tile labelled "<method>: no result" in its place, so that a reader sees it is missing rather than
    not run. Every tile is the first's size, its label in the compare sheets' font
    (:func:`~defusion.io.sheets.label_font`), shortened in the middle where it is wider than its tile.

    Example:
        >>> a = np.zeros((40, 60), np.uint8)
        >>> grid = comparison_grid(a, a, {"GFF": a, "Flat": None}, sources=("vi/01.png", "ir/01.png"))
        >>> grid.size, grid.getpixel((grid.width - 1, grid.height - 1))  # 4 tiles; the last one grey
        ((1440, 240), (128, 128, 128))
    """
    font = label_font()
    width = max(1, round(a.shape[1] * GRID_TILE_HEIGHT / a.shape[0]))
    labelled = [(a, sources[0]), (b, sources[1])]
    labelled += [(np.full_like(a, NO_RESULT_GREY), f"{name}: {NO_RESULT_LABEL}") if im is None else (im, name)
                 for name, im in outputs.items()]
    tiles = [labelled_tile(image, fitted(label, width, font), GRID_TILE_HEIGHT, font, width)
             for image, label in labelled]  # every tile the first's size, its label drawn at that size
    return tile_rows([tiles[i:i + columns] for i in range(0, len(tiles), columns)])

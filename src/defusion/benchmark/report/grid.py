"""A benchmark pair's comparison grid: the sources and every method's result side by side, labelled
(tiles drawn by :mod:`defusion.io.sheets`), a grey placeholder in place of a method with no result."""

from __future__ import annotations

from typing import Mapping

import numpy as np
from PIL import Image

from defusion.io.sheets import GRID_TILE_HEIGHT, labelled_tile, tile_rows

#: The level of a placeholder tile (a method with no result of the pair): mid grey, neither a black or
#: white result nor the grid's white background, so that the gap reads as one.
NO_RESULT_GREY = 128
#: What a placeholder tile says after the method's name.
NO_RESULT_LABEL = "no result"


def comparison_grid(a: np.ndarray, b: np.ndarray, outputs: Mapping[str, np.ndarray | None],
                    columns: int = 6) -> Image.Image:
    """Sources first, then every method's result, labelled, in rows of ``columns``; a method whose
    result is None (none of this pair: missing, unreadable, of another size) gets a grey tile labelled
    "<method>: no result" in its place, so that a reader sees it is missing rather than not run.

    Example:
        >>> a = np.zeros((40, 60), np.uint8)
        >>> grid = comparison_grid(a, a, {"GFF": a, "Flat": None})
        >>> grid.size, grid.getpixel((grid.width - 1, grid.height - 1))  # 4 tiles; the last one grey
        ((1440, 240), (128, 128, 128))
    """
    tiles = [labelled_tile(a, "A"), labelled_tile(b, "B")]
    tiles += [labelled_tile(np.full_like(a, NO_RESULT_GREY) if im is None else im,
                            f"{name}: {NO_RESULT_LABEL}" if im is None else name) for name, im in outputs.items()]
    tiles = [t.resize((tiles[0].width, GRID_TILE_HEIGHT)) for t in tiles]  # every tile the first's size
    return tile_rows([tiles[i:i + columns] for i in range(0, len(tiles), columns)])

"""A benchmark pair's comparison grid: the sources and every method's result side by side, labelled
(tiles drawn by :mod:`defusion.io.sheets`)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from defusion.io.sheets import GRID_TILE_HEIGHT, labelled_tile, tile_rows


def comparison_grid(a: np.ndarray, b: np.ndarray, outputs: dict[str, np.ndarray], columns: int = 6) -> Image.Image:
    """Sources first, then every method's result, labelled, in rows of ``columns``."""
    tiles = [labelled_tile(a, "A"), labelled_tile(b, "B")]
    tiles += [labelled_tile(im, name) for name, im in outputs.items()]
    tiles = [t.resize((tiles[0].width, GRID_TILE_HEIGHT)) for t in tiles]  # every tile the first's size
    return tile_rows([tiles[i:i + columns] for i in range(0, len(tiles), columns)])

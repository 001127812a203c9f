"""scripts/make_gain_figure.py end to end on the tiny network (plumbing only)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from PIL import Image

from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "make_gain_figure.py"


def test_one_row_per_task_with_the_sources_and_one_tile_per_gain(tmp_path, lively_weights):
    rng = np.random.default_rng(0)
    for folder in ("ivf/tno/vi", "ivf/tno/ir", "mef/mefb/A", "mef/mefb/B", "mff/mfifb/A", "mff/mfifb/B"):
        (tmp_path / folder).mkdir(parents=True)
        for stem in ("p0", "p1", "p2", "p3"):
            Image.fromarray((rng.random((48, 64)) * 255).astype(np.uint8)).save(tmp_path / folder / f"{stem}.png")
    out = tmp_path / "gain.jpg"
    subprocess.run([sys.executable, str(SCRIPT), "--data", str(tmp_path), "--weights", str(lively_weights),
                    "--runtime", "torch", "-o", str(out)], capture_output=True, text=True, check=True, encoding="utf-8")
    figure = np.asarray(Image.open(out))
    rows = figure.shape[0] / 3
    assert rows == int(rows) and figure.shape[1] == 6 * round(rows * 64 / 48)  # 2 sources + 4 gains
    tiles = np.split(figure[: int(rows)].astype(float), 6, axis=1)
    assert np.abs(tiles[2][20:] - tiles[5][20:]).mean() > 0.5  # gain 1 and gain 2 differ (below the labels)

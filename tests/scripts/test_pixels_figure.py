"""scripts/make_pixels_figure.py end to end on the tiny network (plumbing only)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from PIL import Image

from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "make_pixels_figure.py"


def test_one_row_per_pair_with_the_published_method_where_it_is_shipped(tmp_path, lively_weights):
    rng = np.random.default_rng(0)
    for folder in ("A", "B", "fused/DPRL"):
        (tmp_path / folder).mkdir(parents=True)
    for stem in ("p0", "p1"):
        for folder in ("A", "B"):
            Image.fromarray((rng.random((48, 64, 3)) * 255).astype(np.uint8)).save(tmp_path / folder / f"{stem}.png")
    Image.fromarray((rng.random((48, 64, 3)) * 255).astype(np.uint8)).save(tmp_path / "fused" / "DPRL" / "p0.png")
    out = tmp_path / "pixels.jpg"
    subprocess.run([sys.executable, str(SCRIPT), "--data", str(tmp_path), "--weights", str(lively_weights),
                    "--runtime", "torch", "--pairs", "p0,p1", "-o", str(out)], capture_output=True, text=True,
                   check=True, encoding="utf-8")
    figure = np.asarray(Image.open(out))
    rows = figure.shape[0] // 2
    assert figure.shape[0] == 2 * rows and figure.shape[1] == 5 * rows  # square tiles: A, B, 2 DeFusion, DPRL
    assert figure[rows:, 4 * rows + 16:].mean() > 250  # p1 has no published result: white

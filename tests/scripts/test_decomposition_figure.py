"""scripts/make_decomposition_figure.py end to end on the tiny network (plumbing only)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from PIL import Image

from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "make_decomposition_figure.py"


def test_one_row_per_weight_file_under_the_sources(tmp_path, lively_weights):
    rng = np.random.default_rng(0)
    for name in ("a", "b"):
        Image.fromarray((rng.random((40, 56)) * 255).astype(np.uint8)).save(tmp_path / f"{name}.png")
    out = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "a.png"), str(tmp_path / "b.png"),
                          str(lively_weights), str(lively_weights), "--labels", "one,two", "--scale", "1",
                          "-o", str(tmp_path / "fig.jpg")], capture_output=True, text=True, encoding="utf-8",
                         check=True).stdout
    assert out.count("SD fused") == 2 and "one:" in out and "two:" in out
    figure = Image.open(tmp_path / "fig.jpg")
    rows = figure.height / 3  # sources, then one row per weight file
    assert rows == int(rows) and figure.width >= 4 * rows  # a row of four tiles of the sources' aspect

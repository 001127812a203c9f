"""scripts/make_palette_figure.py end to end on the tiny network (plumbing only)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from tests.conftest import REPO, run_script

SCRIPT = REPO / "scripts" / "make_palette_figure.py"


def test_one_row_per_pair_with_the_sources_the_fusion_and_each_palette(tmp_path, lively_weights):
    rng = np.random.default_rng(0)
    for path, shape in (("ivf/tno/vi/01.png", (48, 80)), ("ivf/tno/ir/01.png", (48, 80)),
                        ("ivf/vifb/vi/carShadow.jpg", (48, 64, 3)), ("ivf/vifb/ir/carShadow.jpg", (48, 64))):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray((rng.random(shape) * 255).astype(np.uint8)).save(tmp_path / path)
    out = tmp_path / "palette.jpg"
    run_script(SCRIPT, "--data", tmp_path, "--weights", lively_weights, "-o", out)
    figure = np.asarray(Image.open(out)).astype(float)
    height = figure.shape[0] // 2
    tiles = np.split(figure[:height], 6, axis=1)  # visible, infrared, fused, 3 palettes; cut to 4:3, so rows align
    assert figure.shape[1] == 6 * round(height * 4 / 3)
    assert np.ptp(tiles[2][30:], axis=2).mean() < 8 < np.ptp(tiles[3][30:], axis=2).mean()  # grey fusion, coloured palette

"""benchmarks/alignment.py: its simulated handheld shot, and the script end to end (plumbing only;
its figures belong to its own runs)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from tests.conftest import REPO, smooth_image

SCRIPT = REPO / "benchmarks" / "alignment.py"
sys.path.insert(0, str(SCRIPT.parent))
from alignment import MARGIN, handheld, interior_error  # noqa: E402


def test_a_handheld_shot_moves_the_image_and_the_error_ignores_the_invented_border(rng):
    image = smooth_image(rng, 96, 128).astype(np.float32) / 255
    moved = handheld(image, np.random.default_rng(1))
    assert moved.shape == image.shape and interior_error(moved, image) > 0.01
    border = image.copy()
    border[:MARGIN] = 0  # a difference only where the warp invents pixels does not count
    assert interior_error(border, image) == 0.0


def test_script_prints_every_motion_side_by_side_and_draws_the_first_shot(tmp_path):
    figure = tmp_path / "align.png"
    out = subprocess.run([sys.executable, str(SCRIPT), "--shots", "1", "--figure", str(figure)], check=True,
                         capture_output=True, text=True, encoding="utf-8").stdout
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.split()}
    for motion in ("translation", "euclidean", "affine", "homography"):
        before, after, ratio, failed = (float(v) for v in rows[motion][1:5])
        assert after < before and failed == 0
    from PIL import Image

    with Image.open(figure) as im:  # four tiles side by side: first, moved, fused unaligned, aligned
        assert im.width > 3 * im.height

"""benchmarks/self_fusion.py: the scores on known cases, and the script end to end on the tiny
network (plumbing only; its figures belong to its own runs)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

import numpy as np
from PIL import Image

from tests.conftest import REPO, smooth_image

SCRIPT = REPO / "benchmarks" / "self_fusion.py"
sys.path.insert(0, str(SCRIPT.parent))
from self_fusion import centre_crop, self_fusion_scores  # noqa: E402


@dataclass
class _Returns:
    """A stand-in for a Fuser whose fusion is a fixed function of the first source."""

    fn: object

    def fuse(self, a, b):
        return self.fn(a)


def test_a_perfect_reconstruction_scores_ratios_of_one_and_a_blur_loses_sf_first(rng):
    image = smooth_image(rng, 48, 64)
    perfect = self_fusion_scores(_Returns(lambda a: a), image)
    assert perfect["SF ratio"] == 1.0 and perfect["SD ratio"] == 1.0 and perfect["PSNR"] > 100
    from scipy.ndimage import uniform_filter

    blurred = self_fusion_scores(_Returns(lambda a: uniform_filter(a, (5, 5, 1))), image)
    assert blurred["SF ratio"] < 0.9 and blurred["SD ratio"] < 1.0 and blurred["PSNR"] < perfect["PSNR"]
    assert blurred["SF ratio"] < blurred["SD ratio"]  # a blur costs detail more than contrast


def test_centre_crop_bounds_the_side_without_resampling():
    image = np.arange(30 * 40).reshape(30, 40)
    crop = centre_crop(image, 20)
    assert crop.shape == (20, 20) and crop[0, 0] == image[5, 10]
    assert centre_crop(image, 100).shape == (30, 40)


def test_script_prints_one_row_per_weight_file_and_scale(tmp_path, tiny_weights):
    for i in range(2):
        Image.fromarray((np.random.rand(40, 56, 3) * 255).astype(np.uint8)).save(tmp_path / f"{i}.png")
    out = subprocess.run([sys.executable, str(SCRIPT), "--images", str(tmp_path), "--weights", str(tiny_weights),
                          str(tiny_weights), "--scales", "1", "2", "--max-side", "32"],
                         capture_output=True, text=True, check=True, encoding="utf-8").stdout
    rows = [line.split() for line in out.splitlines() if line.startswith(str(tiny_weights)[-40:])]
    assert [row[1] for row in rows] == ["1", "2", "1", "2"] and "2 images" in out

"""benchmarks/ghosts.py: the moved block, and the script end to end on the tiny network
(plumbing only; its figures belong to its own runs)."""

from __future__ import annotations

import sys

import numpy as np

from defusion.io.images import write_image
from tests.conftest import REPO, run_script, smooth_image

SCRIPT = REPO / "benchmarks" / "ghosts.py"
sys.path.insert(0, str(SCRIPT.parent))
from ghosts import move_block, shrink  # noqa: E402


def test_move_block_copies_a_block_one_width_to_the_side(rng):
    image = smooth_image(rng, 40, 80)
    moved, source, target = move_block(image, rng)
    assert np.array_equal(moved[target], image[source]) and target[1].start == source[1].stop
    outside = np.ones(image.shape[:2], bool)
    outside[target] = False
    assert np.array_equal(moved[outside], image[outside])
    assert shrink(image, 40).shape[:2] == (20, 40) and shrink(image, 100) is image


def test_script_prints_plain_and_deghosted_rows(tmp_path, rng, tiny_weights):
    for stem in ("p1", "p2"):
        scene = smooth_image(rng, 48, 64).astype(float)
        write_image(tmp_path / "A" / f"{stem}.png", (scene * 0.4).astype(np.uint8))
        write_image(tmp_path / "B" / f"{stem}.png", np.clip(scene * 1.4, 0, 255).astype(np.uint8))
    proc = run_script(SCRIPT, "--mefb", str(tmp_path), "--weights", str(tiny_weights), "--runtime", "torch",
                      "--no-progress")
    rows = [line.split("|") for line in proc.stdout.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert [r[1].strip() for r in rows] == ["plain fusion", "--deghost"]
    assert "2 MEFB pairs" in proc.stdout and "Static pairs (nothing moved)" in proc.stdout

"""benchmarks/multi_input.py: the bracket synthesis and the weight-spread measure, and the script
end to end on the tiny network (plumbing only; its figures belong to its own runs)."""

from __future__ import annotations

import sys

import numpy as np
from PIL import Image

from tests.conftest import REPO, run_script, smooth_image

SCRIPT = REPO / "benchmarks" / "multi_input.py"
sys.path.insert(0, str(SCRIPT.parent))
from multi_input import bracket, weight_spread  # noqa: E402


def test_bracket_gets_brighter_and_clips_like_a_camera(rng):
    image = smooth_image(rng, 24, 32)
    stack = bracket(image, (-2.0, 0.0, 2.0))
    assert [s.dtype for s in stack] == [np.uint8] * 3
    means = [s.mean() for s in stack]
    assert means[0] < means[1] < means[2]
    assert np.abs(stack[1].astype(int) - image).max() <= 1  # 0 EV is the image itself
    assert (stack[2] == 255).mean() > (image == 255).mean()  # +2 EV clips highlights


def test_weight_spread_is_zero_for_the_plain_mean_and_large_for_one_exposure(rng):
    stack = bracket(smooth_image(rng, 24, 32), (-1.0, 0.0, 1.0))
    mean = np.mean([s.astype(float) for s in stack], axis=0)
    assert weight_spread(mean, stack) < 1e-6
    assert weight_spread(stack[0], stack) > 0.9


def test_script_prints_a_row_per_bracket_and_method(tmp_path, tiny_weights):
    for i in range(2):
        Image.fromarray((np.random.rand(40, 56, 3) * 255).astype(np.uint8)).save(tmp_path / f"{i}.png")
    figure = tmp_path / "fig.jpg"
    proc = run_script(SCRIPT, "--images", str(tmp_path), "--size", "48", "--weights", str(tiny_weights), "--runtime",
                      "torch", "--figure", str(figure))
    rows = [line.split("|") for line in proc.stdout.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert [(r[1].strip(), r[2].strip()) for r in rows[:4]] == [
        ("3", "defusion `balanced`"), ("3", "defusion `sequential`"), ("3", "mertens (OpenCV)"),
        ("3", "best single exposure")]
    assert len(rows) == 12 and figure.is_file()
    assert "N = 5" in proc.stderr and "scene" in proc.stderr  # a progress bar per bracket size

"""benchmarks/focus_stack.py: the defocus synthesis, the balanced fold and the truth score, and the
script end to end on the tiny network (plumbing only; its figures belong to its own runs)."""

from __future__ import annotations

import sys

import cv2
import numpy as np
from PIL import Image

from tests.conftest import REPO, run_script, smooth_image

SCRIPT = REPO / "benchmarks" / "focus_stack.py"
sys.path.insert(0, str(SCRIPT.parent))
from focus_stack import balanced, depth_map, focus_measure_weights, focus_stack, map_accuracy, score  # noqa: E402


def _detail(image: np.ndarray) -> np.ndarray:
    return cv2.Laplacian(image.astype(np.float32).mean(axis=2), cv2.CV_32F) ** 2


def test_each_shot_is_sharp_at_its_depth_and_every_pixel_in_some_shot():
    rng = np.random.default_rng(0)
    scene = (rng.random((48, 64, 3)) * 255).astype(np.uint8)  # detail everywhere
    depth = depth_map(48, 64, rng)
    assert depth.min() == 0.0 and depth.max() == 1.0
    shots = focus_stack(scene, depth, 3)
    assert [s.shape for s in shots] == [scene.shape] * 3 and shots[0].dtype == np.uint8
    near, far = depth < 1 / 3, depth > 2 / 3
    assert np.abs(shots[0].astype(int) - scene)[near].max() <= 1  # within its depth of field: the scene
    assert _detail(shots[0])[far].mean() < 0.2 * _detail(scene)[far].mean()  # far off it: blurred
    exact = np.min([np.abs(s.astype(int) - scene).max(axis=2) for s in shots], axis=0)
    assert exact.max() <= 1  # each pixel is sharp in at least one shot


def test_map_accuracy_of_the_true_map_a_wrong_one_and_the_focus_measure():
    rng = np.random.default_rng(1)
    scene = (rng.random((48, 64, 3)) * 255).astype(np.uint8)
    depth = depth_map(48, 64, rng)
    shots = focus_stack(scene, depth, 3)
    index = np.clip(np.floor(depth * 3), 0, 2)
    truth = [(index == i).astype(np.float32) for i in range(3)]
    assert map_accuracy(truth, shots, depth) == (1.0, 0.0)
    right, off = map_accuracy(truth[::-1], shots, depth)  # near and far swapped
    assert right < 0.6 and off > 0.5
    right, off = map_accuracy(focus_measure_weights(shots), shots, depth)  # detail everywhere: easy
    assert right > 0.8 and off < 0.3


def test_balanced_fold_pairs_halves_first():
    calls = []
    fuse = balanced(lambda a, b: calls.append((a, b)) or a + b)
    assert fuse(1, 2, 3, 4, 5) == 15
    assert calls[:2] == [(1, 2), (3, 3)] and calls[-1] == (6, 9)


def test_score_of_the_truth_is_perfect_and_blur_costs(rng):
    truth = smooth_image(rng, 40, 40)
    psnr, ssim = score(truth, truth)
    assert psnr > 90 and ssim == 1.0
    blurred = cv2.GaussianBlur(truth, (0, 0), 2.0)
    assert score(blurred, truth)[0] < psnr and score(blurred, truth)[1] < 1.0


def test_script_prints_a_row_per_stack_size_and_method(tmp_path, tiny_weights):
    for i in range(2):
        Image.fromarray((np.random.rand(40, 56, 3) * 255).astype(np.uint8)).save(tmp_path / f"{i}.png")
    figure = tmp_path / "fig.jpg"
    proc = run_script(SCRIPT, "--images", str(tmp_path), "--size", "48", "--weights", str(tiny_weights), "--runtime",
                      "torch", "--stacks", "2,3", "--figure", str(figure))
    rows = [line.split("|") for line in proc.stdout.splitlines()
            if line.startswith("| ") and "---" not in line and not line.startswith("| N |")]
    assert [r[2].strip() for r in rows[:5]] == [
        "defusion, network (--task mff --pixels network)", "defusion, sources (--task mff)", "gff, folded",
        "mean of the shots", "best single shot (knowing the truth)"]
    assert len(rows) == 10 + 4 and {r[1].strip() for r in rows} == {"2", "3"} and figure.is_file()
    maps = [r[2].strip() for r in rows[10:]]  # the second table: how well each map finds the sharp shot
    assert maps[:2] == ["source map, --pixels sources", "focus measure on the shots, per pixel"]
    assert all(0 <= float(r[3]) <= 100 for r in rows[10:])
    assert "N = 3" in proc.stderr and "scene" in proc.stderr  # a progress bar per stack size

"""benchmarks/rig.py: its simulated second camera and marks, and the script end to end on the tiny
network (plumbing only; its figures belong to its own runs)."""

from __future__ import annotations

import sys

import numpy as np

from defusion.fusion.color import to_float
from defusion.fusion.rig import Rig, RigCamera, map_points
from defusion.io.images import write_image
from tests.conftest import REPO, run_script, smooth_image

SCRIPT = REPO / "benchmarks" / "rig.py"
sys.path.insert(0, str(SCRIPT.parent))
from rig import corner_error, marks_for, second_camera, shoot  # noqa: E402


def test_the_second_camera_sees_the_scene_where_its_matrix_says(rng):
    scene = smooth_image(rng, 96, 128, channels=1)
    matrix, size = second_camera(scene.shape, rng)
    frame = shoot(to_float(scene), matrix, size)
    assert frame.shape == size[::-1]
    back = Rig((128, 96), (RigCamera(size, tuple(map(tuple, matrix))),)).apply([to_float(scene), frame])[1]
    assert np.abs(back - to_float(scene))[20:-20, 20:-20].mean() < 0.03
    ref, src = marks_for(scene.shape, matrix, size, 6, 0.0, rng)
    assert np.allclose(map_points(matrix, ref), src) and corner_error(matrix, matrix, scene.shape) == 0


def test_script_prints_every_mapping_side_by_side_and_draws_the_first_pair(tmp_path, rng, tiny_weights):
    for stem in ("p1", "p2"):
        write_image(tmp_path / "vi" / f"{stem}.png", smooth_image(rng, 96, 128))
        write_image(tmp_path / "ir" / f"{stem}.png", smooth_image(rng, 96, 128, channels=1))
    figure = tmp_path / "rig.jpg"
    proc = run_script(SCRIPT, "--tno", tmp_path, "--weights", tiny_weights, "--runtime", "torch", "--fuse", "1",
                      "--figure", figure)
    rows = {line.split()[0]: line.split() for line in proc.stdout.splitlines() if line.split()}
    for mapping in ("similarity", "affine", "homography", "ECC", "true", "--resize"):
        assert mapping in rows
    assert float(rows["similarity"][-2]) < float(rows["--resize"][-1])
    assert "--rig (affine)" in proc.stdout and figure.is_file()

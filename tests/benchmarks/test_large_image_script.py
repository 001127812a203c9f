"""benchmarks/large_image.py: the seam statistic on known cases, and the script end to end on the
tiny network on the runtime asked for (plumbing only; its figures belong to its own runs)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import REPO

SCRIPT = REPO / "benchmarks" / "large_image.py"
sys.path.insert(0, str(SCRIPT.parent))
from large_image import seam_ratio, synth_pair  # noqa: E402

from defusion.fusion.tiling import tile_starts  # noqa: E402


def test_the_synthetic_scene_has_no_seam_and_a_hard_tile_boundary_is_caught():
    a, _ = synth_pair(640, 96)
    assert abs(seam_ratio(a, 192, 32) - 1.0) < 0.1  # the scene alone: boundaries look like the rest
    seamed = a.astype(np.int16)
    centre = tile_starts(640, 192, 32)[1] + 16  # the middle of the first overlap
    seamed[:, centre:] += 12  # a brightness jump where one tile's weight takes over
    assert seam_ratio(np.clip(seamed, 0, 255).astype(np.uint8), 192, 32) > 1.5


def test_script_reports_tiles_in_image_pixels_at_the_inference_scale(tiny_weights):
    out = subprocess.run([sys.executable, str(SCRIPT), "--width", "200", "--height", "64", "--tile", "128",
                          "--overlap", "32", "--scale", "2", "--weights", str(tiny_weights)],
                         capture_output=True, text=True, check=True, encoding="utf-8")
    assert "tiles:" in out.stderr and "100%" in out.stderr  # a progress bar over the tiles
    out = out.stdout
    assert "inference scale 2" in out and "64 and 16 image pixels" in out
    assert "seam ratio" in out and "peak RSS" in out


def _run(tiny_weights, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--width", "96", "--height", "64", "--tile", "0",
                           "--no-progress", "--weights", str(tiny_weights), *args],
                          capture_output=True, text=True, timeout=300, env=env, encoding="utf-8")


def test_the_runtime_asked_for_runs_and_is_named(tiny_weights):
    out = _run(tiny_weights, "--runtime", "torch")
    assert out.returncode == 0, out.stderr
    assert "runtime            torch (--runtime torch)" in out.stdout
    assert "seam ratio         n/a (one pass" in out.stdout  # --tile 0: no boundaries to measure


def test_auto_names_the_runtime_it_resolved_to(tiny_weights, tmp_path):
    pytest.importorskip("onnxruntime")
    out = _run(tiny_weights, env={**os.environ, "DEFUSION_CACHE": str(tmp_path)})  # the export cached there
    assert out.returncode == 0, out.stderr
    assert "runtime            onnxruntime (--runtime auto)" in out.stdout


def test_refused_options_are_one_line(tiny_weights):
    out = _run(tiny_weights, "--tile", "10")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines() == [out.stderr.strip()] and "large_image.py: error: tile (10)" in out.stderr

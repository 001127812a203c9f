"""benchmarks/large_image.py: where the seams are looked for (the tiler's own blends, on both axes),
the tiled-against-untiled figures on known cases, when the untiled reference is refused, and the script
end to end on the tiny network on the runtime asked for (plumbing only; its figures belong to its own runs)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from tests.conftest import REPO

SCRIPT = REPO / "benchmarks" / "large_image.py"
sys.path.insert(0, str(SCRIPT.parent))
from large_image import boundary_masks, reference_refusal, seams, synth_pair  # noqa: E402

from defusion.fusion.tiling import count_tiles, run_tiled  # noqa: E402


@pytest.mark.parametrize("tile", [64, (48, 80)])
def test_the_boundaries_are_where_the_tiler_blends_tiles_on_both_axes(tile):
    tiles = count_tiles(150, 230, tile, 8)
    calls = []

    def one_channel_per_tile(x1, x2):  # tile k puts a 1 in channel k: pixels two tiles reach are blends
        out = torch.zeros(1, tiles, *x1.shape[-2:])
        out[:, len(calls)] = 1
        calls.append(1)
        return [out]

    x = torch.zeros(1, 3, 150, 230)
    blended = (run_tiled(one_channel_per_tile, x, x, tile, 8)[0][0] > 0).sum(dim=0).numpy() > 1
    at, away = boundary_masks(150, 230, tile, 8)
    assert blended.any(axis=1).all() and blended.any(axis=0).all()  # rows and columns both have blends
    np.testing.assert_array_equal(at, blended)
    assert away.any() and not (away & at).any()


def test_a_seam_on_either_axis_is_caught_and_the_scene_does_not_move_the_figures():
    a, _ = synth_pair(640, 480)
    same = seams(a, a, 192, 32)  # a scene with edges near the boundaries, tiled as untiled: nothing
    assert (same.at_mean, same.at_max, same.away_mean, same.away_max) == (0, 0, 0, 0)
    at, _ = boundary_masks(480, 640, 192, 32)
    for axis in (0, 1):  # a horizontal seam (which a statistic of horizontal steps did not see), a vertical one
        line = int(np.flatnonzero(at.all(axis=1 - axis))[0])  # a row (column) the tiler blends across
        seamed = a.astype(np.int16)
        seamed[(slice(line, line + 1), slice(None))[::1 - 2 * axis]] += 12
        s = seams(np.clip(seamed, 0, 255).astype(np.uint8), a, 192, 32)
        assert s.at_max == 12 and s.at_mean > 0 and s.away_mean == 0 and s.away_max == 0


def test_the_untiled_reference_is_refused_with_the_size_that_fits():
    assert reference_refusal(480, 640, 2, 4 * 10**9) is None and reference_refusal(3000, 4000, 2, None) is None
    said = reference_refusal(3000, 4000, 2, 20 * 10**9)
    assert said.startswith("the untiled fusion to compare with would take about 96 GB, over 80% of the 20 GB available")
    width, height = map(int, said.rsplit(" ", 2)[-2].split("x"))
    assert reference_refusal(height, width, 2, 20 * 10**9) is None
    assert reference_refusal(int(height * 1.02), int(width * 1.02), 2, 20 * 10**9) is not None  # near the largest
    assert reference_refusal(480, 640, 2, 1000).endswith("GB available: no pair fits")


def test_script_reports_tiles_in_image_pixels_and_seams_against_the_untiled_fusion(tiny_weights):
    out = subprocess.run([sys.executable, str(SCRIPT), "--width", "200", "--height", "160", "--tile", "128",
                          "--overlap", "32", "--scale", "2", "--weights", str(tiny_weights)],
                         capture_output=True, text=True, check=True, encoding="utf-8")
    assert "tiles:" in out.stderr and "100%" in out.stderr  # a progress bar over the tiles
    out = out.stdout
    assert "inference scale 2" in out and "64 and 16 image pixels): 12 tiles" in out
    assert " s tiled, " in out and " s untiled" in out and "peak RSS" in out
    assert "seams              |tiled - untiled| at tile boundaries (" in out and "away from them (" in out
    assert "n/a" not in out


def _run(tiny_weights, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--width", "96", "--height", "64", "--tile", "0",
                           "--no-progress", "--weights", str(tiny_weights), *args],
                          capture_output=True, text=True, timeout=300, env=env, encoding="utf-8")


def test_seams_are_n_a_with_the_reason_where_the_untiled_fusion_would_not_fit(tiny_weights):
    out = _run(tiny_weights, "--width", "200", "--height", "160", "--tile", "128", "--overlap", "32",
               "--runtime", "torch", "--reference-gb", "0.01")
    assert out.returncode == 0, out.stderr
    assert ("seams              n/a: the untiled fusion to compare with would take about 0.256 GB, over 80% of the "
            "0.01 GB available") in out.stdout
    assert "untiled n/a" in out.stdout


def test_the_runtime_asked_for_runs_and_is_named(tiny_weights):
    out = _run(tiny_weights, "--runtime", "torch")
    assert out.returncode == 0, out.stderr
    assert "runtime            torch (--runtime torch)" in out.stdout
    assert "seams              n/a (one pass" in out.stdout  # --tile 0: no boundaries to measure


def test_auto_names_the_runtime_it_resolved_to(tiny_weights, tmp_path):
    pytest.importorskip("onnxruntime")
    out = _run(tiny_weights, env={**os.environ, "DEFUSION_CACHE": str(tmp_path)})  # the export cached there
    assert out.returncode == 0, out.stderr
    assert "runtime            onnxruntime (--runtime auto)" in out.stdout


@pytest.mark.parametrize("args, said", [(("--tile", "10"), "large_image.py: error: tile (10)"),
                                        (("--reference-gb", "0"), "large_image.py: error: --reference-gb must be")])
def test_refused_options_are_one_line(tiny_weights, args, said):
    out = _run(tiny_weights, *args)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines() == [out.stderr.strip()] and said in out.stderr

"""benchmarks/alignment.py --scenes: ECC's correlation once registered, for one scene and for two, per motion
(plumbing only; its figures belong to its own runs)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

SCRIPT = REPO / "benchmarks" / "alignment.py"


def test_scenes_prints_one_and_two_scene_rows_per_motion():
    out = subprocess.run([sys.executable, str(SCRIPT), "--shots", "1", "--scenes"], check=True,
                         capture_output=True, text=True, encoding="utf-8").stdout
    rows = [line.split() for line in out.splitlines() if line.split()[1:2] in (["one"], ["two"])]
    assert [row[:2] for row in rows] == [[m, s] for m in ("translation", "euclidean", "affine", "homography")
                                         for s in ("one", "two")], out
    for motion, scenes, passed, *stats, low in rows:
        done, of = map(int, passed.split("/"))
        if scenes == "one":  # the examples' handheld shots all register, and correlate well
            assert done == of == 2 and float(stats[0]) > 0.85 and low == "0", out
        else:  # the other example's second image: another scene, refused or noted
            assert of == 2 and int(low) + (of - done) == of, out

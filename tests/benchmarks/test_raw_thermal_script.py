"""benchmarks/raw_thermal.py: the synthetic raw frame, and the script end to end on the tiny
network (plumbing only; its figures belong to its own runs)."""

from __future__ import annotations

import sys

import numpy as np

from defusion.fusion.stretch import is_narrow
from defusion.io.images import write_image
from tests.conftest import REPO, run_script, smooth_image

SCRIPT = REPO / "benchmarks" / "raw_thermal.py"
sys.path.insert(0, str(SCRIPT.parent))
from raw_thermal import raw_frame  # noqa: E402


def test_raw_frame_is_a_narrow_16_bit_band(rng):
    frame = raw_frame(smooth_image(rng, 20, 30, 1))
    assert frame.dtype == np.uint16 and 7000 <= frame.min() and frame.max() <= 7000 + 8 * 255
    assert is_narrow(frame)


def test_script_prints_a_row_per_way_of_reading_the_frame(tmp_path, rng, tiny_weights):
    for stem in ("01", "02"):
        write_image(tmp_path / "ir" / f"{stem}.png", smooth_image(rng, 40, 48, 1))
        write_image(tmp_path / "vi" / f"{stem}.png", smooth_image(rng, 40, 48, 1))
    proc = run_script(SCRIPT, "--tno", str(tmp_path), "--weights", str(tiny_weights), "--runtime", "torch",
                      "--no-progress")
    rows = [line.split("|") for line in proc.stdout.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert [r[1].strip() for r in rows] == ["8-bit rendering (reference)", "raw frame, --stretch auto",
                                            "raw frame, --stretch none"]
    assert float(rows[0][2]) == 0.0 and "2 TNO pairs" in proc.stdout

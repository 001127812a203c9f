"""benchmarks/train_speed.py end to end on the tiny network and a CPU: plumbing only
(a row per variant and batch size, the input-pipeline line); figures belong to its own runs."""

from __future__ import annotations

import numpy as np
from PIL import Image

from tests.conftest import REPO, run_script

SCRIPT = REPO / "benchmarks" / "train_speed.py"


def test_prints_a_row_per_variant_and_batch_and_the_input_pipeline(tmp_path):
    for i in range(3):
        Image.fromarray((np.random.rand(40, 50, 3) * 255).astype(np.uint8)).save(tmp_path / f"{i}.png")
    proc = run_script(SCRIPT, "--device", "cpu", "--model", "defusion-tiny", "--crop", "32", "--batch", "2", "3",
                      "--variants", "fp32", "bf16", "--steps", "2", "--warmup", "1", "--data", str(tmp_path),
                      "--workers", "0")
    rows = [line.split("|") for line in proc.stdout.splitlines() if line.startswith("| `")]
    assert [(r[1].strip(), r[2].strip()) for r in rows] == [
        ("`fp32`", "2"), ("`fp32`", "3"), ("`bf16`", "2"), ("`bf16`", "3")]
    for r in rows:
        seconds, rate = float(r[3]), float(r[4])
        assert seconds > 0 and abs(rate - int(r[2]) / seconds) < 0.05 * rate + 0.1
    assert "input pipeline:" in proc.stdout and "samples/s" in proc.stdout

"""scripts/ship_weights.py: a run's weights become an fp16 file carrying every run's totals."""

from __future__ import annotations

import subprocess
import sys

import torch

from defusion.model.weights import load_weights, read_metadata, save_weights
from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "ship_weights.py"


def test_counters_add_up_history_grows_and_tensors_are_fp16(tmp_path, lively_weights):
    base, run, out = tmp_path / "base.safetensors", tmp_path / "run.safetensors", tmp_path / "ship.safetensors"
    model = load_weights(lively_weights)
    save_weights(model, base, metadata={"steps": "100", "samples_seen": "800", "train_seconds": "60",
                                        "history": "run 1: 100 steps", "hardware": "old CPU"}, half=True)
    save_weights(model, run, metadata={"steps": "20", "samples_seen": "160", "train_seconds": "9",
                                       "final_loss": "0.05"})
    subprocess.run([sys.executable, str(SCRIPT), str(run), str(out), "--base", str(base),
                    "--history", "run 2: 20 steps", "--hardware", "new CPU"], check=True, capture_output=True)
    meta = read_metadata(out)
    assert (meta["steps"], meta["samples_seen"], meta["train_seconds"]) == ("120", "960", "69")
    assert meta["history"] == "run 1: 100 steps; run 2: 20 steps"
    assert meta["final_loss"] == "0.05" and meta["hardware"] == "new CPU"
    from safetensors.torch import load_file
    assert {t.dtype for t in load_file(str(out)).values() if t.is_floating_point()} == {torch.float16}
    shipped, original = load_weights(out).state_dict(), model.state_dict()
    for name, tensor in original.items():  # the same weights, to fp16 rounding
        torch.testing.assert_close(shipped[name], tensor, rtol=1e-3, atol=1e-3)

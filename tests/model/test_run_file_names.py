"""A training run's file names are model's (model.weights reads runs: a weights path given as a run's
folder or checkpoint), training's modules naming the same: model no longer imports training."""

from __future__ import annotations

import subprocess
import sys

from defusion.model import weights
from defusion.training import checkpoint, run_record, trainer


def test_training_names_the_files_model_names():
    assert run_record.WEIGHTS_NAME is trainer.WEIGHTS_NAME is weights.WEIGHTS_NAME == "weights.safetensors"
    assert checkpoint.CHECKPOINT_NAME is weights.CHECKPOINT_NAME == "last.safetensors"


def test_a_run_folder_is_recognised_by_either_file(tmp_path):
    assert not weights.is_training_run(tmp_path)
    (tmp_path / weights.RUN_CHECKPOINTS).mkdir()
    (tmp_path / weights.RUN_CHECKPOINTS / weights.CHECKPOINT_NAME).write_bytes(b"")
    assert weights.is_training_run(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    (other / weights.WEIGHTS_NAME).write_bytes(b"")
    assert weights.is_training_run(other) and weights.run_weights(other) == other / weights.WEIGHTS_NAME


def test_reading_a_run_loads_no_training_module(tmp_path):
    code = ("import sys; from defusion.model.weights import is_training_run, run_weights_hint; "
            f"is_training_run({str(tmp_path)!r}); run_weights_hint({str(tmp_path)!r}); "
            "loaded = [m for m in sys.modules if m.startswith('defusion.training')]; assert not loaded, loaded")
    subprocess.run([sys.executable, "-c", code], check=True)

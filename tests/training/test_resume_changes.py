"""A resume that changes what its steps train (lr, crop, a loss weight): said in a note, and kept on
record (config.json, the checkpoint, the weights) with the step it took effect at."""

from __future__ import annotations

import json

from defusion.cli.main import main
from defusion.model.weights import weights_metadata
from defusion.training.checkpoint import CHECKPOINT_NAME, checkpoint_state
from defusion.training.config import TrainConfig
from defusion.training.trainer import changed_settings

TINY = ["--model", "defusion-tiny", "--batch-size", "2", "--workers", "0", "--no-progress"]


def _train(images, out, *args: str) -> int:
    return main(["train", "--data", str(images), "--out", str(out), *TINY, *args])


def test_a_resume_with_another_lr_and_crop_notes_and_records_them(images, tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(images, out, "--crop", "32", "--lr", "1e-3", "--max-steps", "2") == 0
    capsys.readouterr()
    assert _train(images, out, "--resume", "--crop", "40", "--lr", "2e-3", "--max-steps", "3") == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if "note: resuming" in line]
    assert notes == ["defusion: note: resuming at step 2 with crop 32 -> 40, lr 0.001 -> 0.002 (config.json and "
                     "the weights record it under settings_changed)"]
    record = [{"step": 2, "crop": [32, 40], "lr": [0.001, 0.002]}]
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["crop"] == 40 and config["settings_changed"] == record
    meta = weights_metadata(out / "weights.safetensors")
    assert json.loads(meta["settings_changed"]) == record and json.loads(meta["train_config"])["lr"] == 0.002
    assert checkpoint_state(out / "checkpoints" / CHECKPOINT_NAME).settings_changed == record
    # A later resume that changes nothing (a longer run is no change) adds nothing and says nothing...
    assert _train(images, out, "--resume", "--max-steps", "4") == 0
    assert "note: resuming" not in capsys.readouterr().err  # (the start line says "resuming ... at step")
    assert json.loads((out / "config.json").read_text(encoding="utf-8"))["settings_changed"] == record
    # ...and one that changes a setting again adds its step.
    assert _train(images, out, "--resume", "--crop", "32", "--max-steps", "5") == 0
    assert "resuming at step 4 with crop 40 -> 32 (" in capsys.readouterr().err
    changed = json.loads((out / "config.json").read_text(encoding="utf-8"))["settings_changed"]
    assert changed == [*record, {"step": 4, "crop": [40, 32]}]
    # The record can still be given back as a config (its history is the run's, not an option).
    assert TrainConfig.from_yaml(out / "config.json").crop == 32


def test_a_run_whose_settings_never_changed_records_no_history(images, tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(images, out, "--crop", "32", "--max-steps", "2") == 0
    assert _train(images, out, "--resume", "--crop", "32", "--max-steps", "3", "--workers", "1") == 0
    assert "note: resuming" not in capsys.readouterr().err
    assert "settings_changed" not in json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert "settings_changed" not in weights_metadata(out / "weights.safetensors")


def test_changed_settings_name_section_options_and_skip_run_controls():
    saved = json.loads(json.dumps(TrainConfig(crop=32).to_dict()))
    cfg = TrainConfig(crop=32, max_steps=9, epochs=3, workers=0, crop_scale=(0.01, 0.1)).updated(
        {"cud": {"degrade_prob": 0.5}})
    assert changed_settings(saved, cfg) == {"crop_scale": [[0.08, 1.0], [0.01, 0.1]],
                                            "cud.degrade_prob": [0.0, 0.5]}
    del saved["crop_scale"]  # a checkpoint from before an option existed: no change to report
    assert changed_settings(saved, cfg) == {"cud.degrade_prob": [0.0, 0.5]}
    # reinit acts only when a run starts (a resume keeps the checkpoint's parts): no change to report
    assert changed_settings(saved, cfg.updated({"reinit": ["unique_decoder"]})) == {"cud.degrade_prob": [0.0, 0.5]}

"""Fuser.from_pretrained given a folder says what to give, as the CLI's --weights does."""

from __future__ import annotations

import pytest

from defusion.fusion.fuser import Fuser
from defusion.model.errors import WeightsError
from defusion.model.registry import create_model
from defusion.model.weights import folder_refusal, load_weights, save_weights


def _run(tmp_path, with_weights: bool = True):
    run = tmp_path / "runs" / "ref"
    (run / "checkpoints").mkdir(parents=True)
    if with_weights:
        save_weights(create_model("defusion-tiny"), run / "weights.safetensors")
    return run


@pytest.mark.parametrize("runtime", ["torch", "auto"])
def test_a_training_runs_folder_names_its_weights_file(tmp_path, runtime):
    run = _run(tmp_path)
    with pytest.raises(WeightsError, match=f"^{run} is a training run's folder, not a model file; give its weights "
                       f"file, {run / 'weights.safetensors'}$"):
        Fuser.from_pretrained(str(run), device="cpu", runtime=runtime)


def test_a_run_without_weights_says_when_it_writes_them(tmp_path):
    run = _run(tmp_path, with_weights=False)
    (run / "checkpoints" / "last.safetensors").write_bytes(b"x")
    with pytest.raises(WeightsError, match="is a training run's folder, not a model file; the run writes its weights "
                       f"to {run / 'weights.safetensors'} when it ends"):
        Fuser.from_pretrained(run, device="cpu")


def test_another_folder_is_not_a_model_file(tmp_path):
    with pytest.raises(WeightsError, match=f"^{tmp_path} is a folder, not a model file; give the file itself$"):
        load_weights(tmp_path)
    with pytest.raises(WeightsError, match="is a folder, not a model file"):
        Fuser.from_pretrained(tmp_path, onnx=True)


def test_the_cli_form_names_its_option(tmp_path):
    run = _run(tmp_path)
    assert folder_refusal(run, "--weights") == ("is a training run's folder, not a model file; give its weights file, "
                                                f"--weights {run / 'weights.safetensors'}")

"""scripts/average_checkpoints.py: the network of several checkpoints averaged into weights."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from defusion.model.registry import create_model
from defusion.model.weights import load_weights, read_metadata, save_weights
from defusion.training.checkpoint import TrainState, save_checkpoint
from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "average_checkpoints.py"
sys.path.insert(0, str(REPO / "scripts"))
from average_checkpoints import average_state  # noqa: E402


def _checkpoint(path, seed: int, step: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = create_model("defusion-tiny")
    optimizer = torch.optim.Adam(model.parameters())
    save_checkpoint(path, model, optimizer, TrainState(step=step, elapsed_s=12.5), {"batch_size": 8})
    return model


def test_checkpoints_average_to_the_mean_network_with_run_metadata(tmp_path):
    a = _checkpoint(tmp_path / "a.safetensors", 0, 100)
    b = _checkpoint(tmp_path / "b.safetensors", 1, 200)
    out = tmp_path / "mean.safetensors"
    subprocess.run([sys.executable, str(SCRIPT), str(out), str(tmp_path / "a.safetensors"),
                    str(tmp_path / "b.safetensors"), "--model", "defusion-tiny"], check=True, capture_output=True)
    mean = load_weights(out).state_dict()
    for name, tensor in a.state_dict().items():
        torch.testing.assert_close(mean[name], (tensor + b.state_dict()[name]) / 2)
    meta = read_metadata(out)
    assert (meta["steps"], meta["samples_seen"], meta["train_seconds"]) == ("200", "1600", "12")
    assert meta["averaged"] == "a.safetensors, b.safetensors"


def test_weights_files_average_too_and_other_networks_are_refused(tmp_path):
    a = _checkpoint(tmp_path / "a.safetensors", 0, 100)
    save_weights(a, tmp_path / "w.safetensors")
    state = average_state([tmp_path / "a.safetensors", tmp_path / "w.safetensors"])
    for name, tensor in a.state_dict().items():  # a network averaged with itself is itself
        torch.testing.assert_close(state[name], tensor.float())
    save_weights(create_model("defusion"), tmp_path / "big.safetensors")
    with pytest.raises(ValueError, match="another network"):
        average_state([tmp_path / "a.safetensors", tmp_path / "big.safetensors"])

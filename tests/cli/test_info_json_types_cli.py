"""`defusion info --json`: training numbers as numbers and the training config as an object (they were all
strings, the config a JSON string inside the JSON); the text output shows them as before."""

from __future__ import annotations

import json

import torch

from defusion.cli.main import main
from defusion.model.registry import create_model
from defusion.model.weights import save_weights

METADATA = {"steps": "11", "final_loss": "0.04705", "loss_note": "n/a", "complete": "false", "stopped": "interrupted",
            "planned_steps": "20", "init_digest": "0123456789012345", "precision": "bf16 autocast",
            "train_config": json.dumps({"crop": 32, "lr": 0.001}),
            "settings_changed": json.dumps([{"step": 5, "lr": [0.001, 0.002]}])}


def _weights(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "w.safetensors"
    save_weights(create_model("defusion-tiny"), path, metadata=METADATA)
    return path


def test_json_gives_numbers_booleans_and_objects(tmp_path, capsys):
    assert main(["info", "--weights", str(_weights(tmp_path)), "--json"]) == 0
    training = json.loads(capsys.readouterr().out)["training"]
    assert training == {"steps": 11, "final_loss": 0.04705, "loss_note": "n/a", "complete": False,
                        "stopped": "interrupted", "planned_steps": 20,
                        "init_digest": "0123456789012345",  # digits, but a digest: text
                        "precision": "bf16 autocast", "train_config": {"crop": 32, "lr": 0.001},
                        "settings_changed": [{"step": 5, "lr": [0.001, 0.002]}]}


def test_text_shows_the_values_as_recorded(tmp_path, capsys):
    assert main(["info", "--weights", str(_weights(tmp_path))]) == 0
    out = capsys.readouterr().out
    for line in ("  final_loss     0.04705\n", "  complete       false\n",
                 "  train_config   (the whole training config: defusion info --json)\n",
                 '  settings_changed [{"step": 5, "lr": [0.001, 0.002]}]\n',
                 "  steps          11 (interrupted at step 11 of 20)\n"):
        assert line in out

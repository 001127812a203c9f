"""`defusion info` prints the training metadata as recorded, but a path in it that leads nowhere here (relative
to the folder it was trained in, or on that machine) is said to be one: a wheel user has no
``../shared/data/train/natural`` and went looking for it."""

from __future__ import annotations

import json

import torch

from defusion.cli.info import RECORDED_PATHS
from defusion.cli.main import main
from defusion.model.registry import create_model
from defusion.model.weights import save_weights

RECORDED = {
    "training_data": "ImageNet sample images (1000), ../shared/data/train/natural",
    "history": "run 1: 950 steps (configs/cpu-128.yaml, fresh Adam); run 2: from /nowhere/runs/1/last.safetensors",
    "hardware": "2-core CPUs and/or a GPU",  # a slash, no path
    "steps": "950",
}


def _weights(tmp_path, **more):
    torch.manual_seed(0)
    path = tmp_path / "w.safetensors"
    save_weights(create_model("defusion-tiny"), path, metadata={**RECORDED, **more})
    return path


def _line(out: str, key: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(f"  {key} "))


def test_a_path_that_leads_nowhere_here_is_said_to_be_recorded_where_it_was_trained(tmp_path, capsys):
    here = tmp_path / "data"
    here.mkdir()
    assert main(["info", "--weights", str(_weights(tmp_path, source=f"frames in {here}"))]) == 0
    out = capsys.readouterr().out
    singular, plural = RECORDED_PATHS
    assert _line(out, "training_data").endswith(f"{RECORDED['training_data']} {singular}")
    assert _line(out, "history").endswith(f"{RECORDED['history']} {plural}")  # relative, and absolute but missing
    assert _line(out, "hardware").endswith(RECORDED["hardware"])
    assert _line(out, "source").endswith(f"frames in {here}")  # a path that is there: open it
    assert _line(out, "steps").endswith(" 950")


def test_json_keeps_the_metadata_as_recorded(tmp_path, capsys):
    assert main(["info", "--weights", str(_weights(tmp_path)), "--json"]) == 0
    training = json.loads(capsys.readouterr().out)["training"]
    # as recorded, but a number as a number
    assert {key: training[key] for key in RECORDED} == {**RECORDED, "steps": int(RECORDED["steps"])}

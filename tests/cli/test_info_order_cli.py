"""`defusion info`: training metadata in a fixed (sorted) order, and where the example images are."""

from __future__ import annotations

import json
from pathlib import Path

from defusion.cli.main import main


def _shuffled_metadata(monkeypatch):
    """Metadata in a non-sorted order, as safetensors may return it on any run."""
    import defusion.model.weights as weights

    real = weights.weights_metadata

    def reversed_metadata(path):
        meta = {**real(path), "model": "defusion-tiny", "crop": "128", "precision": "fp32"}
        return {k: meta[k] for k in sorted(meta, reverse=True)}

    monkeypatch.setattr(weights, "weights_metadata", reversed_metadata)


def test_training_metadata_is_printed_sorted(tiny_weights, monkeypatch, capsys):
    _shuffled_metadata(monkeypatch)
    assert main(["info", "--weights", str(tiny_weights), "--json"]) == 0
    keys = list(json.loads(capsys.readouterr().out)["training"])
    assert len(keys) > 1 and keys == sorted(keys)
    assert main(["info", "--weights", str(tiny_weights)]) == 0
    lines = capsys.readouterr().out.splitlines()
    printed = [line.split()[0] for line in lines if line.split()[0] in keys]
    assert printed == sorted(keys)


def test_info_says_where_the_example_images_are(capsys):
    assert main(["info", "--model", "defusion-tiny"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.split()[0] == "examples")
    folder = Path(line.split()[1])
    assert {"mef_under.png", "mef_over.png", "mff_near.png", "mff_far.png"} <= {p.name for p in folder.iterdir()}
    assert main(["info", "--model", "defusion-tiny", "--json"]) == 0
    assert Path(json.loads(capsys.readouterr().out)["examples"]) == folder

"""The weights inside the package: present, pickle-free, trained (not random), used by default."""

from __future__ import annotations

from importlib import resources

import numpy as np
from safetensors import safe_open

from defusion import Fuser
from defusion.io.images import read_image
from defusion.model.weights import weights_metadata, shipped_weights_path

EXAMPLES = resources.files("defusion") / "examples"


def test_shipped_weights_are_safetensors_with_training_facts():
    path = shipped_weights_path()
    assert path.is_file()
    meta = weights_metadata(path)
    assert meta["format"] == "defusion-denet" and int(meta["steps"]) > 0 and int(meta["samples_seen"]) > 0
    with safe_open(str(path), "pt") as f:
        assert f.get_tensor("fusion_head.weight").dtype.is_floating_point


def test_default_fuser_fuses_the_example_pair_like_a_trained_model():
    under = read_image(EXAMPLES / "mef_under.png")
    over = read_image(EXAMPLES / "mef_over.png")
    fused = Fuser.from_pretrained(device="cpu").fuse(under, over)
    assert fused.shape == under.shape and fused.dtype == np.uint8
    # A trained network reconstructs the scene: its output follows the sources' structure
    # (random or dead weights give a flat or unrelated image).
    mean_source = (under.astype(float) + over.astype(float)).mean(axis=2)
    corr = np.corrcoef(fused.astype(float).mean(axis=2).ravel(), mean_source.ravel())[0, 1]
    assert corr > 0.8, corr
    assert fused.std() > 10

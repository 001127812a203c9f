"""A weights file's metadata is read by :func:`defusion.model.weights.weights_metadata`, a name apart from
:func:`defusion.io.metadata.read_metadata` (an image's profile and EXIF); the old name stays an alias."""

from __future__ import annotations

import json

from defusion.io import metadata as image_metadata
from defusion.model import weights
from defusion.model.registry import create_model


def test_weights_metadata_reads_a_weights_files_header(tmp_path):
    path = tmp_path / "w.safetensors"
    weights.save_weights(create_model("defusion-tiny"), path, metadata={"steps": "7"})
    meta = weights.weights_metadata(path)
    assert meta["steps"] == "7" and meta["format"] == "defusion-denet"
    assert json.loads(meta["config"]) == json.loads(json.dumps(create_model("defusion-tiny").cfg.to_dict()))


def test_the_old_name_is_the_same_function_and_not_the_images_reader():
    assert weights.read_metadata is weights.weights_metadata
    assert weights.weights_metadata is not image_metadata.read_metadata

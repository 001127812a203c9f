"""The weights a Fuser's repr names go with its network: ``dataclasses.replace(fuser, model=other)`` kept
the loaded Fuser's ``weights``, so a random network printed as ``weights='shipped'``; a video's steady
fuser (a dataclass of its own) printed every field, its device as ``device(type='cpu')`` and the weights'
path, which a repr never shows."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import numpy as np
import pytest

from defusion.fusion.fuser import Fuser
from defusion.fusion.video.steady_fuser import steady_fuser
from defusion.model.registry import create_model

#: Side of the stream's first frames in the steady fuser test.
SIDE = 32


@pytest.fixture(scope="module")
def loaded(tiny_weights) -> Fuser:
    return Fuser.from_pretrained(tiny_weights, device="cpu", runtime="torch")


def test_another_model_drops_the_loaded_weights_name(loaded):
    other = dataclasses.replace(loaded, model=create_model("defusion-tiny"))
    assert other.weights is None and repr(other).startswith("Fuser(weights=<custom module>, ")
    assert repr(loaded).startswith("Fuser(weights='tiny.safetensors', ")


def test_copies_of_the_network_keep_the_name(loaded):
    for each in (loaded.with_options(scale=1), loaded.with_task("mef"), copy.deepcopy(loaded),
                 pickle.loads(pickle.dumps(loaded)).with_options(scale=1), Fuser(loaded.model)):
        assert repr(each).startswith("Fuser(weights='tiny.safetensors', "), repr(each)


def test_an_onnx_network_keeps_the_name_through_pickling(tiny_weights, monkeypatch, tmp_path):
    pytest.importorskip("onnxruntime")
    monkeypatch.setenv("DEFUSION_CACHE", str(tmp_path))
    fuser = Fuser.from_pretrained(tiny_weights, device="cpu", runtime="onnxruntime")
    restored = pickle.loads(pickle.dumps(fuser)).with_options(scale=1)  # a copy made from the network
    assert restored.weights == fuser.weights and repr(restored).startswith("Fuser(weights='tiny.safetensors', ")
    assert dataclasses.replace(fuser, model=create_model("defusion-tiny")).weights is None


def test_the_weights_are_named_by_an_absolute_path(tiny_weights, monkeypatch):
    monkeypatch.chdir(tiny_weights.parent)
    fuser = Fuser.from_pretrained(tiny_weights.name, device="cpu", runtime="torch")
    assert fuser.weights == tiny_weights  # what a copy unpickled in another folder still finds and hashes


def test_a_video_fuser_prints_as_a_fuser_without_paths(loaded, rng):
    first = [(rng.random((SIDE, SIDE, 3)) * 255).astype(np.uint8), (rng.random((SIDE, SIDE)) * 255).astype(np.uint8)]
    steady = steady_fuser(loaded.with_options(align="affine"), first)
    assert type(steady).__name__ == "_SteadyFuser"
    text = repr(steady)
    assert text == ("_SteadyFuser(weights='tiny.safetensors', runtime='torch', device='cpu', "
                    "options=FuseOptions(align='affine'))")
    assert str(loaded.weights.parent) not in text and "device(type=" not in text

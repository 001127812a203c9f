"""create_model(name, checkpoint_path=FILE) loads a weights file into that name's network, as timm's
checkpoint_path does, refusing what load_weights_into refuses with its one-line errors."""

from __future__ import annotations

import pytest
import torch

from defusion.errors import DefusionError
from defusion.model.errors import WeightsError
from defusion.model.registry import create_model
from defusion.model.weights import save_weights


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory):
    """A trained-looking defusion-tiny weights file and the network it was saved from."""
    source = create_model("defusion-tiny")
    path = tmp_path_factory.mktemp("weights") / "tiny.safetensors"
    save_weights(source, path)
    return source, path


def test_the_file_is_loaded_into_the_named_network(tiny_file):
    source, path = tiny_file
    for given in (path, str(path)):
        loaded = create_model("defusion-tiny", checkpoint_path=given)
        assert all(torch.equal(a, b) for a, b in zip(source.state_dict().values(), loaded.state_dict().values()))


def test_a_fresh_network_differs_from_the_loaded_one(tiny_file):
    """Without checkpoint_path the network is initialised at random: the test above checks a load."""
    source, _ = tiny_file
    fresh = create_model("defusion-tiny")
    assert not all(torch.equal(a, b) for a, b in zip(source.state_dict().values(), fresh.state_dict().values()))


@pytest.mark.parametrize("name, checkpoint, message", [
    ("defusion", "tiny", r"^the weights .*tiny.safetensors do not fit this model's DeNet settings \(stem_channels is "
                         r"16 here, 8 in the weights; .*\): build the model with the weights' settings$"),
    ("defusion-tiny", "missing", r"^weights file not found: .*missing.safetensors$"),
    ("defusion-tiny", "folder", r" is a folder, not a model file; give the file itself$"),
    ("defusion-tiny", "pickle", r"\.pt: weights are a \.safetensors file; pickled PyTorch files are not loaded"),
])
def test_what_the_loaders_refuse_is_refused_in_one_line(tiny_file, tmp_path, name, checkpoint, message):
    paths = {"tiny": tiny_file[1], "missing": tmp_path / "missing.safetensors", "folder": tmp_path,
             "pickle": tmp_path / "net.pt"}
    paths["pickle"].write_bytes(b"not loaded")
    with pytest.raises(WeightsError, match=message) as caught:
        create_model(name, checkpoint_path=paths[checkpoint])
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, DefusionError) and isinstance(caught.value, ValueError)


def test_pretrained_and_a_checkpoint_both_are_refused(tiny_file):
    with pytest.raises(WeightsError, match=r"^create_model\('defusion', pretrained=True, checkpoint_path='.*tiny"
                                           r"\.safetensors'\): give pretrained=True \(the registered weights\) or "
                                           r"checkpoint_path= \(a weights file\), not both$"):
        create_model("defusion", pretrained=True, checkpoint_path=tiny_file[1])


def test_checkpoint_path_is_no_denet_setting():
    """Keyword-only, beside the DeNet settings: not taken for an unknown setting."""
    with pytest.raises(WeightsError, match="weights file not found"):
        create_model("defusion-tiny", checkpoint_path="nowhere.safetensors", radix=2)

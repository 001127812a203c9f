"""create_model(name, pretrained=True) loads the shipped weights, as timm's pretrained does."""

from __future__ import annotations

import pytest
import torch

from defusion.errors import DefusionError
from defusion.model.errors import WeightsError
from defusion.model.registry import create_model
from defusion.model.weights import config_differences, load_weights_into, save_weights


def test_pretrained_state_equals_the_fusers_network():
    from defusion.fusion.fuser import Fuser

    model = create_model("defusion", pretrained=True)
    network = Fuser.from_pretrained(device="cpu", runtime="torch").model
    mine, theirs = model.state_dict(), network.state_dict()
    assert mine.keys() == theirs.keys()
    assert all(torch.equal(mine[k], theirs[k]) for k in mine)


def test_not_pretrained_is_freshly_initialised():
    fresh, trained = create_model("defusion").state_dict(), create_model("defusion", pretrained=True).state_dict()
    assert not all(torch.equal(fresh[k], trained[k]) for k in fresh)


def test_settings_other_than_the_weights_are_refused_naming_them():
    with pytest.raises(WeightsError, match=r"^create_model\('defusion-tiny', pretrained=True\): the shipped weights "
                       r"do not fit this model's DeNet settings \(stem_channels is 8 here, 16 in the weights; "
                       r".*; and 6 more\): build the model") as caught:
        create_model("defusion-tiny", pretrained=True)
    assert isinstance(caught.value, DefusionError) and isinstance(caught.value, ValueError)


def test_an_override_of_equal_shapes_is_refused_too():
    with pytest.raises(WeightsError, match=r"radix is 4 here, 2 in the weights"):
        create_model("defusion", pretrained=True, radix=4)


def test_load_weights_into_a_file(tmp_path):
    source = create_model("defusion-tiny")
    save_weights(source, tmp_path / "w.safetensors")
    target = load_weights_into(create_model("defusion-tiny"), tmp_path / "w.safetensors")
    assert all(torch.equal(a, b) for a, b in zip(source.state_dict().values(), target.state_dict().values()))
    with pytest.raises(WeightsError, match=r"the weights .*w.safetensors do not fit .*stem_channels is 16 here, 8"):
        load_weights_into(create_model("defusion"), tmp_path / "w.safetensors")
    assert config_differences(source.cfg, target.cfg) == []

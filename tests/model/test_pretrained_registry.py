"""create_model(name, pretrained=True) loads the shipped weights, as timm's pretrained does."""

from __future__ import annotations

import pytest
import torch

from defusion.errors import DefusionError
from defusion.model.errors import WeightsError
from defusion.model import registry
from defusion.model.registry import create_model, list_models, model_config, register_model
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
    with pytest.raises(WeightsError, match=r"^the shipped weights do not fit this model's DeNet settings "
                       r"\(stem_channels is 8 here, 16 in the weights; .*; and 6 more\): build the model with the "
                       r"weights' settings \(create_model\('defusion'\)\)$") as caught:
        load_weights_into(create_model("defusion-tiny"))
    assert isinstance(caught.value, DefusionError) and isinstance(caught.value, ValueError)


def test_a_name_without_weights_says_so_in_one_line():
    """Not a list of the settings in which its network differs from the shipped weights'."""
    with pytest.raises(WeightsError) as caught:
        create_model("defusion-tiny", pretrained=True)
    assert str(caught.value) == ("create_model('defusion-tiny', pretrained=True): defusion-tiny has no pretrained "
                                 "weights (models with: defusion); build it untrained (pretrained=False) or load a "
                                 "weights file with checkpoint_path=")
    assert isinstance(caught.value, DefusionError) and isinstance(caught.value, ValueError)


def test_list_models_pretrained_lists_only_the_names_with_weights():
    assert "defusion" in list_models(pretrained=True) and "defusion-tiny" not in list_models(pretrained=True)
    assert set(list_models(pretrained=True)) <= set(list_models())
    assert list_models(pretrained=True) == sorted(list_models(pretrained=True))


@pytest.fixture
def scratch_registry(monkeypatch):
    """The registry, restored after the test: what a test registers is gone after it."""
    monkeypatch.setattr(registry, "_CONFIGS", dict(registry._CONFIGS))
    monkeypatch.setattr(registry, "_WEIGHTS", dict(registry._WEIGHTS))


def test_a_name_registered_with_weights_loads_them(tmp_path, scratch_registry):
    source = create_model("defusion-tiny")
    save_weights(source, tmp_path / "w.safetensors")
    register_model("tiny-trained", model_config("defusion-tiny"), weights=tmp_path / "w.safetensors")
    assert "tiny-trained" in list_models(pretrained=True)
    loaded = create_model("tiny-trained", pretrained=True)
    assert all(torch.equal(a, b) for a, b in zip(source.state_dict().values(), loaded.state_dict().values()))
    register_model("tiny-lost", model_config("defusion-tiny"), weights=tmp_path / "gone.safetensors")
    with pytest.raises(WeightsError, match=r"^create_model\('tiny-lost', pretrained=True\): weights file not found"):
        create_model("tiny-lost", pretrained=True)


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

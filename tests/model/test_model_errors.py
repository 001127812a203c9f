"""The model's refusals are library errors (:class:`defusion.DefusionError`) and still the builtin
each was (``except ValueError`` / ``except TypeError`` keeps working)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from defusion import DefusionError, create_model
from defusion.model.denet import DeNetConfig
from defusion.model.errors import ModelConfigError, ModelInputError, ModelInputTypeError
from defusion.model.registry import list_models, model_config, register_model

#: A side DeNet takes (a multiple of SIZE_MULTIPLE), and one it does not.
SIDE, ODD_SIDE = 16, 15


@pytest.fixture(scope="module")
def net():
    return create_model("defusion-tiny")


@pytest.mark.parametrize("refusal, message", [
    # every registered model, sorted, whatever is registered
    (lambda: create_model("nope"), f"unknown model 'nope'; choose from {re.escape(', '.join(list_models()))}$"),
    (lambda: create_model("DeFusion"), r"unknown model 'DeFusion' \(did you mean defusion\?\)"),
    (lambda: create_model("defusion", stem_channels=-1), "stem_channels must be a positive integer"),
    (lambda: create_model("defusion", stem_channel=8), r"unknown DeNet setting\(s\) stem_channel \(did you mean "
                                                      r"stem_channels\?\)"),
    (lambda: model_config("defusion-tiny", radix=3), "every width must be a multiple of radix"),
    (lambda: DeNetConfig.from_dict({"depth": 3}), r"unknown DeNet setting\(s\) depth"),
    (lambda: register_model("defusion", DeNetConfig()), "model 'defusion' is already registered"),
])
def test_bad_model_names_and_settings_are_model_config_errors_and_value_errors(refusal, message):
    with pytest.raises(ModelConfigError, match=message) as caught:
        refusal()
    assert isinstance(caught.value, DefusionError) and isinstance(caught.value, ValueError)


def test_the_registry_lists_the_shipped_models_sorted():
    names = list_models()
    assert {"defusion", "defusion-tiny"} <= set(names) and names == sorted(names)


def test_bad_parts_to_reset_are_model_config_errors(net):
    with pytest.raises(ModelConfigError, match="unknown DeNet part"):
        net.reset_parameters("decoder")


@pytest.mark.parametrize("x1, error, builtin", [
    (np.zeros((1, 3, SIDE, SIDE), np.float32), ModelInputTypeError, TypeError),
    (torch.zeros(1, 3, SIDE, SIDE, dtype=torch.uint8), ModelInputTypeError, TypeError),
    (torch.zeros(1, 3, SIDE, SIDE, dtype=torch.float64), ModelInputTypeError, TypeError),
    (torch.zeros(SIDE, SIDE, 3), ModelInputError, ValueError),
    (torch.zeros(1, 1, SIDE, SIDE), ModelInputError, ValueError),
    (torch.zeros(1, 3, ODD_SIDE, ODD_SIDE), ModelInputError, ValueError),
    (torch.zeros(1, 3, SIDE, SIDE * 2), ModelInputError, ValueError),  # differs from x2
])
def test_bad_network_inputs_are_model_input_errors_and_their_old_builtins(net, x1, error, builtin):
    x2 = torch.zeros(1, 3, ODD_SIDE, ODD_SIDE) if x1.shape[-1] == ODD_SIDE else torch.zeros(1, 3, SIDE, SIDE)
    with pytest.raises(error) as caught:
        net(x1, x2)
    assert isinstance(caught.value, DefusionError) and isinstance(caught.value, builtin)

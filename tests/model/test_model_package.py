"""defusion.model re-exports its public names (``from defusion.model import create_model``), loaded on
first use: importing the package, or its torch-free errors, leaves PyTorch unloaded."""

from __future__ import annotations

import subprocess
import sys

import pytest

import defusion.model
from defusion.model import denet, errors, registry, weights

#: Each re-exported name and the module that defines it.
HOMES = {"DeNet": denet, "DeNetConfig": denet, "ModelConfigError": errors, "WeightsError": errors,
         "create_model": registry, "list_models": registry, "model_config": registry, "register_model": registry,
         "load_weights": weights, "load_weights_into": weights, "save_weights": weights}


@pytest.mark.parametrize("name", sorted(HOMES))
def test_each_public_name_is_the_defining_modules_own(name):
    assert getattr(defusion.model, name) is getattr(HOMES[name], name)
    assert name in defusion.model.__all__ and name in dir(defusion.model)


def test_the_public_names_are_exactly_those():
    assert sorted(defusion.model.__all__) == sorted(HOMES)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="module 'defusion.model' has no attribute 'create_modle'"):
        defusion.model.create_modle  # noqa: B018


def test_importing_the_package_and_its_errors_leaves_torch_unloaded():
    code = ("import sys, defusion.model; from defusion.model import WeightsError, ModelConfigError; "
            "from defusion.model.errors import WeightsError as W; assert W is WeightsError; "
            "assert 'torch' not in sys.modules, 'torch loaded'; "
            "from defusion.model import create_model; assert 'torch' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)

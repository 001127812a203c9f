"""The network: DeNet, its building blocks, its named variants and its weights.

- :mod:`defusion.model.denet`: ``DeNet``, the decomposition network (common and unique parts, fused image).
- :mod:`defusion.model.resnest`: split-attention (ResNeSt) residual blocks, DeNet's building unit.
- :mod:`defusion.model.mfm`: DeFusion++'s masked-feature decoder (MFM), trained beside DeNet.
- :mod:`defusion.model.filters`: small fixed filters on tensors, written to export to ONNX and TorchScript.
- :mod:`defusion.model.registry`: named variants, timm-style (``create_model("defusion")``).
- :mod:`defusion.model.weights`: safetensors weights (no pickle) with the config inside, and the shipped ones.
- :mod:`defusion.model.profile`: parameter and multiply-accumulate counts (``defusion info``).
- :mod:`defusion.model.errors`: the model's errors, importable without PyTorch (fast ``--help``).

The shipped weights are in ``pretrained/``. Which way to load weights:

- to fuse images: ``Fuser.from_pretrained()`` (or ``weights=`` a file, or an ONNX export), which
  loads the network and sets up device, runtime and options;
- a network by name, as timm's: ``create_model("defusion", pretrained=True)`` (the shipped weights;
  ``list_models(pretrained=True)`` names those with weights), or ``checkpoint_path=`` a weights file
  into that name's settings (to fine-tune, or to check a file fits them);
- whatever network a weights file holds: ``load_weights(path)`` (it builds DeNet from the config
  inside, in eval mode).

The names below load on first use (PEP 562): ``import defusion.model`` (and its torch-free
``errors``, which the CLI's ``--help`` imports) does not load PyTorch.

Example:
    >>> from defusion.model import create_model, list_models
    >>> list_models(pretrained=True)  # doctest: +ELLIPSIS
    [...'defusion'...]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from defusion._lazy import lazy_names

__all__ = ["DeNet", "DeNetConfig", "ModelConfigError", "WeightsError", "create_model", "list_models",
           "load_weights", "load_weights_into", "model_config", "register_model", "save_weights"]

#: Public name -> the module it loads from (the errors' is torch-free).
_EXPORTS = {"DeNet": "defusion.model.denet", "DeNetConfig": "defusion.model.denet",
            "ModelConfigError": "defusion.model.errors", "WeightsError": "defusion.model.errors",
            "create_model": "defusion.model.registry", "list_models": "defusion.model.registry",
            "model_config": "defusion.model.registry", "register_model": "defusion.model.registry",
            "load_weights": "defusion.model.weights", "load_weights_into": "defusion.model.weights",
            "save_weights": "defusion.model.weights"}

if TYPE_CHECKING:
    from defusion.model.denet import DeNet, DeNetConfig  # noqa: F401
    from defusion.model.errors import ModelConfigError, WeightsError  # noqa: F401
    from defusion.model.registry import create_model, list_models, model_config, register_model  # noqa: F401
    from defusion.model.weights import load_weights, load_weights_into, save_weights  # noqa: F401


__getattr__, __dir__ = lazy_names(__name__, _EXPORTS)

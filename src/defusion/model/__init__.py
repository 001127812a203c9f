"""The network: DeNet, its building blocks, its named variants and its weights.

- :mod:`defusion.model.denet`: ``DeNet``, the decomposition network (common and unique parts, fused image).
- :mod:`defusion.model.resnest`: split-attention (ResNeSt) residual blocks, DeNet's building unit.
- :mod:`defusion.model.mfm`: DeFusion++'s masked-feature decoder (MFM), trained beside DeNet.
- :mod:`defusion.model.filters`: small fixed filters on tensors, written to export to ONNX and TorchScript.
- :mod:`defusion.model.registry`: named variants, timm-style (``create_model("defusion")``).
- :mod:`defusion.model.weights`: safetensors weights (no pickle) with the config inside, and the shipped ones.
- :mod:`defusion.model.profile`: parameter and multiply-accumulate counts (``defusion info``).
- :mod:`defusion.model.errors`: the model's errors, importable without PyTorch (fast ``--help``).

The shipped weights are in ``pretrained/``.
"""

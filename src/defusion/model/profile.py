"""Parameter and multiply-accumulate counts of DeNet (for ``defusion info``)."""

from __future__ import annotations

import copy
import itertools

import torch
from torch import nn

#: The device :func:`count_macs` runs its pass on: tensors with shapes and no data, so the pass computes
#: nothing and allocates nothing. For the published model at 256x256 on a shared 2-core CPU, the real
#: pass took 12.2 s (12.8 s of a 20.9 s ``defusion info``), this one 3.1 s in a fresh process (1 s
#: after), with the same count.
SHAPES_ONLY = "meta"


def count_parameters(model: nn.Module) -> int:
    """The number of values in ``model``'s parameters (trainable or not; buffers, such as fixed filter
    kernels, are not parameters): the size ``defusion info`` and the paper give (about 8.0 M for DeNet).

    Example:
        >>> count_parameters(nn.Conv2d(3, 8, 3))  # 8 x 3 x 3 x 3 weights, 8 biases
        224
    """
    return sum(p.numel() for p in model.parameters())


def count_macs(model: nn.Module, height: int = 256, width: int = 256) -> int:
    """Multiply-accumulates of one forward pass on a pair of ``height`` x ``width`` images.

    Counts convolutions only (they are over 99% of the work); pooling, interpolation and
    activations are ignored, as in the usual GMAC figures. The pass runs on a shapes-only copy
    (:func:`_shapes_only`): the count is the one a real pass gives, at no compute and no memory
    whatever the size; ``model`` is left as it was (hooks on its modules run on the copy's, on
    tensors without data, as they ran on the real pass before).

    Example:
        >>> from defusion.model.registry import create_model
        >>> count_macs(create_model("defusion-tiny"), 64, 64)
        35949312
    """
    total = 0

    def hook(module: nn.Conv2d, _inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal total
        kh, kw = module.kernel_size
        total += output.numel() * (module.in_channels // module.groups) * kh * kw

    shadow = _shapes_only(model)
    for module in shadow.modules():
        if isinstance(module, nn.Conv2d):
            module.register_forward_hook(hook)  # on the copy: nothing to remove from the caller's model
    param = next(shadow.parameters())
    x = torch.zeros(1, model.cfg.in_channels, height, width, device=SHAPES_ONLY, dtype=param.dtype)
    with torch.no_grad():
        shadow(x, x)
    return total


def _shapes_only(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose parameters and buffers are on :data:`SHAPES_ONLY` (same shapes and
    dtypes, no data): its modules are copied, its tensors not (``model.to("meta")`` would empty the
    caller's; a deep copy first would copy every weight only to drop it)."""
    memo: dict[int, torch.Tensor] = {}
    for tensor in itertools.chain(model.parameters(), model.buffers()):
        empty = torch.empty_like(tensor, device=SHAPES_ONLY)
        memo[id(tensor)] = nn.Parameter(empty, tensor.requires_grad) if isinstance(tensor, nn.Parameter) else empty
    return copy.deepcopy(model, memo)

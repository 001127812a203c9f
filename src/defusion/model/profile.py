"""Parameter and multiply-accumulate counts of DeNet (for ``defusion info``)."""

from __future__ import annotations

import torch
from torch import nn


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_macs(model: nn.Module, height: int = 256, width: int = 256) -> int:
    """Multiply-accumulates of one forward pass on a pair of ``height`` x ``width`` images.

    Counts convolutions only (they are over 99% of the work); pooling, interpolation and
    activations are ignored, as in the usual GMAC figures.
    """
    total = 0

    def hook(module: nn.Conv2d, _inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal total
        kh, kw = module.kernel_size
        total += output.numel() * (module.in_channels // module.groups) * kh * kw

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    try:
        param = next(model.parameters())
        x = torch.zeros(1, model.cfg.in_channels, height, width, device=param.device, dtype=param.dtype)
        with torch.no_grad():
            model(x, x)
    finally:
        for h in handles:
            h.remove()
    return total

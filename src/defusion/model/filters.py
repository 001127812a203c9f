"""Small fixed filters on image tensors, written to export to ONNX and TorchScript.

Example:
    >>> import torch
    >>> x = torch.zeros(1, 3, 32, 32); x[..., 16, 16] = 1.0
    >>> round(float(gaussian_blur(x, 2.0).sum()), 4)  # the blur keeps the mean
    3.0
    >>> float(high_pass(torch.ones(1, 1, 8, 8), 2.0).abs().max()) < 1e-6  # a flat image has no detail
    True
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from defusion.model.errors import ModelConfigError


def gaussian_kernel_1d(sigma: float) -> list[float]:
    """A normalised Gaussian of standard deviation ``sigma``, 3 sigma each side."""
    if sigma <= 0:
        raise ModelConfigError(f"sigma must be positive, got {sigma}")
    radius = max(1, int(3 * sigma + 0.5))
    taps = [math.exp(-0.5 * (t / sigma) ** 2) for t in range(-radius, radius + 1)]
    total = sum(taps)
    return [t / total for t in taps]


def gaussian_blur(x: torch.Tensor, sigma: float, valid: bool = False) -> torch.Tensor:
    """Separable Gaussian blur of a (B, C, H, W) tensor, edges replicated (no darkened border);
    ``valid`` keeps only the positions the whole kernel covers (2 radius pixels fewer a side).

    The kernel is built from Python floats on ``x``'s device and dtype; a traced graph freezes
    both, so a network to be exported holds it in a :class:`HighPass` module instead.
    """
    return blur_with(x, torch.tensor(gaussian_kernel_1d(sigma), dtype=x.dtype, device=x.device), valid)


def blur_with(x: torch.Tensor, kernel: torch.Tensor, valid: bool = False) -> torch.Tensor:
    """:func:`gaussian_blur` with its 1-D ``kernel`` given as a tensor (on ``x``'s device and dtype)."""
    radius, channels = kernel.shape[0] // 2, int(x.shape[1])
    kx = kernel.view(1, 1, 1, -1).repeat(channels, 1, 1, 1)
    ky = kernel.view(1, 1, -1, 1).repeat(channels, 1, 1, 1)
    if not valid:
        x = F.pad(x, (radius, radius, 0, 0), mode="replicate")
    x = F.conv2d(x, kx, groups=channels)
    if not valid:
        x = F.pad(x, (0, 0, radius, radius), mode="replicate")
    return F.conv2d(x, ky, groups=channels)


def high_pass(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """``x`` less its Gaussian local mean: the detail finer than about ``sigma`` pixels. A
    :class:`HighPass` made for this one call (its kernel's taps float32, as in the network)."""
    return HighPass(sigma).to(x.device)(x)


class HighPass(nn.Module):
    """``x`` less its Gaussian local mean (:func:`high_pass` is one call of it), the kernel a buffer:
    it moves with ``.to(device)`` and ``.half()``, also in a TorchScript export, where a kernel built
    inside ``forward`` would be a constant frozen on the device and dtype it was traced with. Not saved
    in state dicts.

    Example:
        >>> x = torch.rand(1, 3, 16, 16)
        >>> bool(torch.allclose(HighPass(2.0)(x) + gaussian_blur(x, 2.0), x, atol=1e-6))  # detail + local mean
        True
    """

    def __init__(self, sigma: float) -> None:
        super().__init__()
        self.sigma = sigma
        self.register_buffer("kernel", torch.tensor(gaussian_kernel_1d(sigma)), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x - blur_with(x, self.kernel.to(x.dtype) if self.kernel.dtype != x.dtype else self.kernel)

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


def gaussian_kernel_1d(sigma: float) -> list[float]:
    """A normalised Gaussian of standard deviation ``sigma``, 3 sigma each side."""
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    radius = max(1, int(3 * sigma + 0.5))
    taps = [math.exp(-0.5 * (t / sigma) ** 2) for t in range(-radius, radius + 1)]
    total = sum(taps)
    return [t / total for t in taps]


def gaussian_blur(x: torch.Tensor, sigma: float, valid: bool = False) -> torch.Tensor:
    """Separable Gaussian blur of a (B, C, H, W) tensor, edges replicated (no darkened border);
    ``valid`` keeps only the positions the whole kernel covers (2 radius pixels fewer a side).

    The kernel is built from Python floats, so an exported graph holds it as a constant.
    """
    taps = gaussian_kernel_1d(sigma)
    radius, channels = len(taps) // 2, int(x.shape[1])
    kernel = torch.tensor(taps, dtype=x.dtype, device=x.device)
    kx = kernel.view(1, 1, 1, -1).repeat(channels, 1, 1, 1)
    ky = kernel.view(1, 1, -1, 1).repeat(channels, 1, 1, 1)
    if not valid:
        x = F.pad(x, (radius, radius, 0, 0), mode="replicate")
    x = F.conv2d(x, kx, groups=channels)
    if not valid:
        x = F.pad(x, (0, 0, radius, radius), mode="replicate")
    return F.conv2d(x, ky, groups=channels)


def high_pass(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """``x`` less its Gaussian local mean: the detail finer than about ``sigma`` pixels."""
    return x - gaussian_blur(x, sigma)

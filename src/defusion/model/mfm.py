"""Masked feature modelling (MFM), DeFusion++'s second pretext (Liang et al., arXiv 2410.12274),
adapted to DeNet.

DeFusion++ (its code, model/UCMIModel.py) hides 75% of the tokens of its common and unique token
maps, the same tokens in each, fuses what is left and asks its own MAE-style decoder and
prediction head to reconstruct the whole image, so the features must carry their context as
well as their pixel. DeNet's fused embedding is a full-resolution map, f_c + f_u^1 + f_u^2, and
the fused image is Pr of it; here the same patches of that map are replaced by a learnt mask
token, a small convolutional decoder predicts the whole map back from what is left, and the
fusion head Pr renders the prediction as an image (ours: DeFusion++ masks before fusing and
has a separate prediction head). The decoder is a training-only part:
it is saved in training checkpoints, never in the shipped weights, and fusion never runs it.
(docs/training.md, "DeFusion++ loss and masked feature modelling".)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from defusion.model.errors import ModelConfigError


@dataclass(frozen=True)
class MFMConfig:
    """Mask and decoder of the MFM pretext. Defaults follow DeFusion++: 75% of 16x16 patches hidden."""

    mask_ratio: float = 0.75
    patch: int = 16
    width: int = 64
    blocks: int = 2

    def __post_init__(self) -> None:
        if not 0.0 <= self.mask_ratio < 1.0:
            raise ModelConfigError(f"mfm mask_ratio must be in [0, 1), got {self.mask_ratio}")
        if self.patch < 1 or self.width < 1 or self.blocks < 0:
            raise ModelConfigError(f"mfm patch and width must be at least 1 and blocks 0 or more, got {self}")


def random_patch_keep(batch: int, height: int, width: int, patch: int, mask_ratio: float,
                      generator: torch.Generator | None = None,
                      device: torch.device | str | None = None) -> torch.Tensor:
    """A (B, 1, H, W) map of 1 (kept) and 0 (hidden): in each sample exactly
    ``round(mask_ratio * n)`` of its n patches of ``patch`` x ``patch`` pixels are hidden, chosen
    at random as MAE does (the patches with the largest random keys).

    Example:
        >>> keep = random_patch_keep(2, 32, 32, patch=16, mask_ratio=0.75)
        >>> keep.shape, keep[0].mean().item()
        (torch.Size([2, 1, 32, 32]), 0.25)
    """
    rows, cols = -(-height // patch), -(-width // patch)
    n = rows * cols
    hidden = round(mask_ratio * n)
    keys = torch.rand(batch, n, generator=generator, device=device)
    rank = keys.argsort(dim=1).argsort(dim=1)  # each patch's rank among its sample's keys
    keep = (rank < n - hidden).float().view(batch, 1, rows, cols)
    keep = keep.repeat_interleave(patch, dim=2).repeat_interleave(patch, dim=3)
    return keep[..., :height, :width]


class _Residual(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(width, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x)))


class MaskedFeatureDecoder(nn.Module):
    """Predicts a full fused embedding (B, C, H, W) from one with hidden patches.

    Hidden positions get a learnt token; two stride-2 convolutions and ``blocks`` residual
    blocks at a quarter of the resolution see far enough (over 40 pixels) to fill a 16-pixel
    patch from its neighbours; the prediction is added to the masked input, so kept positions
    start as they are.

    Example:
        >>> dec = MaskedFeatureDecoder(channels=16, cfg=MFMConfig(width=8, blocks=1))
        >>> z = torch.rand(2, 16, 32, 32)
        >>> keep = random_patch_keep(2, 32, 32, patch=16, mask_ratio=0.75)
        >>> dec(z, keep).shape
        torch.Size([2, 16, 32, 32])
    """

    def __init__(self, channels: int, cfg: MFMConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or MFMConfig()
        self.mask_token = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.down = nn.Sequential(
            nn.Conv2d(channels, cfg.width, 3, stride=2, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(cfg.width, cfg.width, 3, stride=2, padding=1), nn.ReLU(inplace=True),
            *(_Residual(cfg.width) for _ in range(cfg.blocks)),
        )
        self.out = nn.Conv2d(cfg.width, channels, 3, padding=1)
        nn.init.zeros_(self.out.weight)  # starts as "fill with the token", learns from there
        nn.init.zeros_(self.out.bias)

    def forward(self, embedding: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        keep = keep.to(embedding.dtype)
        masked = embedding * keep + self.mask_token.to(embedding.dtype) * (1 - keep)
        context = self.down(masked)
        context = F.interpolate(context, size=embedding.shape[-2:], mode="bilinear", align_corners=False)
        return masked + self.out(context)


__all__ = ["MFMConfig", "MaskedFeatureDecoder", "random_patch_keep"]

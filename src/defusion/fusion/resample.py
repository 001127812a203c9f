"""Running the network at a finer sampling than the image's: up before, down after.

The shipped network blurs what it reconstructs by a roughly fixed kernel in pixels (fuse an
image with itself and about a third of its spatial frequency is lost: benchmarks/self_fusion.py).
Fed the sources up-sampled by ``scale`` and averaged back down by ``scale``, that blur shrinks by
the same factor in the image's own pixels, at ``scale**2`` times the compute. ``scale=1`` is the
paper's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from defusion.fusion.errors import OptionsError

from defusion.fusion.values import is_integer

#: Largest inference scale accepted (compute grows with its square).
MAX_SCALE = 4


def check_scale(scale: int) -> None:
    """Refuse scales that are not an integer in [1, MAX_SCALE]."""
    if not is_integer(scale) or not 1 <= scale <= MAX_SCALE:
        raise OptionsError(f"inference scale must be an integer from 1 to {MAX_SCALE}, got {scale!r}")


def upsample(x: torch.Tensor, scale: int) -> torch.Tensor:
    """(B, C, H, W) in [0, 1] -> (B, C, scale*H, scale*W), bicubic, clipped to [0, 1].

    Example:
        >>> upsample(torch.rand(1, 3, 5, 7), 2).shape
        torch.Size([1, 3, 10, 14])
    """
    if scale == 1:
        return x
    return F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False).clamp(0.0, 1.0)


def downsample(x: torch.Tensor, scale: int) -> torch.Tensor:
    """Average ``scale`` x ``scale`` blocks: the exact inverse in size of :func:`upsample`.

    Example:
        >>> x = torch.rand(1, 3, 5, 7)
        >>> bool(torch.allclose(downsample(x.repeat_interleave(2, 2).repeat_interleave(2, 3), 2), x))
        True
    """
    return x if scale == 1 else F.avg_pool2d(x, scale)


@dataclass(frozen=True)
class Rescaled:
    """The network run at ``scale`` times the resolution of what it is given (one tile or the
    whole padded image): sources up-sampled, projections averaged back down.

    Example:
        >>> pair_mean = lambda x1, x2: [(x1 + x2) / 2]
        >>> [o.shape for o in Rescaled(pair_mean, 2)(torch.rand(1, 3, 5, 7), torch.rand(1, 3, 5, 7))]
        [torch.Size([1, 3, 5, 7])]
    """

    model: Callable
    scale: int

    def __call__(self, x1: torch.Tensor, x2: torch.Tensor) -> list[torch.Tensor]:
        outs = self.model(upsample(x1, self.scale), upsample(x2, self.scale))
        return [downsample(o, self.scale) for o in outs]


__all__ = ["MAX_SCALE", "Rescaled", "check_scale", "downsample", "upsample"]

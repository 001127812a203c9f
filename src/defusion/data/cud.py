"""The CUD pretext (common and unique decomposition, paper eq. 1).

From a clean batch x, make two views x^i = M_i * x + (1 - M_i) * n_i. Each mask is the
product of a coarse and a fine random grid mask; cells that neither view sees are split
between the views, so M1 + M2 > 0 everywhere (the cover constraint). Everything runs on
x's device in one batched pass, so a GPU never waits for mask making.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class CUDConfig:
    """Mask statistics; defaults follow the authors' pretext (cells per image side)."""

    coarse_cells: tuple[int, int] = (13, 14)
    fine_cells: tuple[int, int] = (26, 28)
    keep_prob: tuple[float, float] = (0.1, 0.99)


class CUDViews(NamedTuple):
    """Two degraded views of x and their masks (B, 1, H, W) in {0, 1}."""

    x1: torch.Tensor
    x2: torch.Tensor
    mask1: torch.Tensor
    mask2: torch.Tensor


class CUDTargets(NamedTuple):
    """What each projection head must reproduce: x restricted to its region."""

    common: torch.Tensor
    unique1: torch.Tensor
    unique2: torch.Tensor
    full: torch.Tensor


def grid_mask(batch: int, cells: int, size: tuple[int, int], keep: torch.Tensor, generator=None) -> torch.Tensor:
    """A (B, 1, H, W) mask of ``cells`` x ``cells`` blocks, each kept with probability ``keep``.

    Example:
        >>> m = grid_mask(2, 4, (16, 16), torch.full((2, 1, 1, 1), 0.5))
        >>> m.shape, bool(((m == 0) | (m == 1)).all())
        (torch.Size([2, 1, 16, 16]), True)
    """
    coarse = torch.rand(batch, 1, cells, cells, device=keep.device, generator=generator) < keep
    return F.interpolate(coarse.float(), size=size, mode="nearest")


def make_masks(batch: int, size: tuple[int, int], cfg: CUDConfig, device="cpu", generator=None,
               cells_rng: random.Random | None = None):
    """Random masks (M1, M2) with M1 + M2 > 0 at every pixel.

    ``cells_rng`` draws the grid sizes on the host, so that making masks on a GPU never waits
    for the GPU (drawing them from a CUDA ``generator`` would synchronise three times a step).
    """

    def randint(lo: int, hi: int) -> int:
        if cells_rng is not None:
            return cells_rng.randint(lo, hi)
        return int(torch.randint(lo, hi + 1, (1,), generator=generator, device=device).item())

    lo, hi = cfg.keep_prob
    keep = lo + (hi - lo) * torch.rand(batch, 1, 1, 1, device=device, generator=generator)
    coarse, fine = randint(*cfg.coarse_cells), randint(*cfg.fine_cells)
    m1 = grid_mask(batch, coarse, size, keep, generator) * grid_mask(batch, fine, size, keep, generator)
    m2 = grid_mask(batch, coarse, size, keep, generator) * grid_mask(batch, fine, size, keep, generator)
    uncovered = (m1 == 0) & (m2 == 0)
    half = torch.full_like(keep, 0.5)
    to_first = grid_mask(batch, randint(*cfg.fine_cells), size, half, generator).bool()
    m1 = torch.where(uncovered & to_first, torch.ones_like(m1), m1)
    m2 = torch.where(uncovered & ~to_first, torch.ones_like(m2), m2)
    return m1, m2


def make_views(x: torch.Tensor, cfg: CUDConfig = CUDConfig(), generator=None,
               cells_rng: random.Random | None = None) -> CUDViews:
    """Degrade x (B, C, H, W) in [0, 1] into two CUD views.

    The unseen part of each view is |N(0, 1)| clipped to [0, 1], independent per view,
    so what one view alone shows cannot be predicted from the other.
    """
    b, _, h, w = x.shape
    m1, m2 = make_masks(b, (h, w), cfg, device=x.device, generator=generator, cells_rng=cells_rng)
    m1, m2 = m1.to(x.dtype), m2.to(x.dtype)

    def noise() -> torch.Tensor:
        return torch.randn(x.shape, device=x.device, generator=generator, dtype=x.dtype).abs().clamp(0, 1)

    x1 = m1 * x + (1 - m1) * noise()
    x2 = m2 * x + (1 - m2) * noise()
    return CUDViews(x1, x2, m1, m2)


def region_masks(mask1: torch.Tensor, mask2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The partition of the CUD targets: (M1∩M2, M1 without M2, M2 without M1).

    Example:
        >>> m1, m2 = torch.tensor([1., 1., 0.]), torch.tensor([1., 0., 1.])
        >>> [r.tolist() for r in region_masks(m1, m2)]
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    return mask1 * mask2, mask1 * (1 - mask2), (1 - mask1) * mask2


def make_targets(x: torch.Tensor, mask1: torch.Tensor, mask2: torch.Tensor) -> CUDTargets:
    """Targets on the partition M1∩M2, M1\\M2, M2\\M1 (zero outside each region)."""
    common, unique1, unique2 = region_masks(mask1, mask2)
    return CUDTargets(common=x * common, unique1=x * unique1, unique2=x * unique2, full=x)

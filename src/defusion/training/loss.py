"""The CUD loss: mean absolute errors of the four projections (paper section 3.2)."""

from __future__ import annotations

import torch

from defusion.data.cud import CUDTargets, region_masks
from defusion.model.denet import DeNetOutput


def cud_losses(out: DeNetOutput, targets: CUDTargets, weight: torch.Tensor | None = None,
               masks: tuple[torch.Tensor, torch.Tensor] | None = None,
               outside_weight: float = 1.0, gradient_weight: float = 0.0) -> dict[str, torch.Tensor]:
    """Per-term MAE; ``weight`` (B,) of 0/1 drops samples (unreadable images) from the mean.

    ``outside_weight`` weighs the common and unique projections' errors outside their regions
    (where their target is 0) against 1 inside; it needs the view ``masks`` (M1, M2). 1.0 is the
    paper's MAE against the masked images; the authors' code weighs the outside by 0 at first,
    then by 0.15 and finally 0.015, so that the unique embeddings keep each source's content
    where both views show the scene (see docs/training.md, "Loss outside the regions").

    ``gradient_weight`` > 0 adds a ``fused_gradient`` term: that weight times the MAE between the
    horizontal and vertical differences of the reconstruction and of ``x``. It is not in the paper
    (0, the default, is the paper's loss); it asks the reconstruction for ``x``'s edges as well as
    its grey levels (docs/training.md, "Gradient term").

    Example:
        >>> x = torch.rand(2, 3, 8, 8)
        >>> t = CUDTargets(x, x, x, x)
        >>> cud_losses(DeNetOutput(x, x, x, x), t)["total"].item()
        0.0
    """
    if outside_weight != 1.0 and masks is None:
        raise ValueError("an outside_weight other than 1 needs the view masks")
    regions = (None, None, None) if masks is None else region_masks(*masks)
    pairs = {
        "common": (out.common, targets.common, regions[0]),
        "unique1": (out.unique1, targets.unique1, regions[1]),
        "unique2": (out.unique2, targets.unique2, regions[2]),
        "fused": (out.fused, targets.full, None),
    }
    per_sample = {}
    for name, (pred, target, region) in pairs.items():
        error = (pred.float() - target.float()).abs()
        if region is not None and outside_weight != 1.0:
            error = error * (region + outside_weight * (1 - region))
        per_sample[name] = error.flatten(1).mean(dim=1)
    if gradient_weight:
        per_sample["fused_gradient"] = gradient_weight * gradient_error(out.fused, targets.full)
    losses = {name: values.mean() if weight is None else (values * weight).sum() / weight.sum().clamp(min=1)
              for name, values in per_sample.items()}
    losses["total"] = sum(losses.values())
    return losses


def gradient_error(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample MAE (B,) between the neighbour differences (along x and along y) of two images.

    Example:
        >>> ramp = torch.linspace(0, 1, 5).expand(1, 1, 5, 5)
        >>> gradient_error(ramp + 0.5, ramp).tolist()  # a constant offset has the same edges
        [0.0]
        >>> gradient_error(torch.zeros(1, 1, 5, 5), ramp).tolist()  # a flat image misses the ramp's
        [0.25]
    """
    pred, target = pred.float(), target.float()
    dx = (pred.diff(dim=-1) - target.diff(dim=-1)).abs().flatten(1).mean(dim=1)
    dy = (pred.diff(dim=-2) - target.diff(dim=-2)).abs().flatten(1).mean(dim=1)
    return dx + dy

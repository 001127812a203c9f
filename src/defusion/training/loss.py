"""The CUD loss: mean absolute errors of the four projections (paper section 3.2)."""

from __future__ import annotations

import torch

from defusion.data.cud import CUDTargets, region_masks
from defusion.model.denet import DeNetOutput


def cud_losses(out: DeNetOutput, targets: CUDTargets, weight: torch.Tensor | None = None,
               masks: tuple[torch.Tensor, torch.Tensor] | None = None,
               outside_weight: float = 1.0) -> dict[str, torch.Tensor]:
    """Per-term MAE; ``weight`` (B,) of 0/1 drops samples (unreadable images) from the mean.

    ``outside_weight`` weighs the common and unique projections' errors outside their regions
    (where their target is 0) against 1 inside; it needs the view ``masks`` (M1, M2). 1.0 is the
    paper's MAE against the masked images; the authors' code weighs the outside by 0 at first,
    then by 0.15 and finally 0.015, so that the unique embeddings keep each source's content
    where both views show the scene (see docs/training.md, "Loss outside the regions").

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
    losses = {}
    for name, (pred, target, region) in pairs.items():
        error = (pred.float() - target.float()).abs()
        if region is not None and outside_weight != 1.0:
            error = error * (region + outside_weight * (1 - region))
        per_sample = error.flatten(1).mean(dim=1)
        if weight is None:
            losses[name] = per_sample.mean()
        else:
            losses[name] = (per_sample * weight).sum() / weight.sum().clamp(min=1)
    losses["total"] = sum(losses.values())
    return losses

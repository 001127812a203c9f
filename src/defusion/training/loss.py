"""The CUD loss: mean absolute errors of the four projections (paper section 3.2)."""

from __future__ import annotations

import torch

from defusion.data.cud import CUDTargets
from defusion.model.denet import DeNetOutput


def cud_losses(out: DeNetOutput, targets: CUDTargets, weight: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Per-term MAE; ``weight`` (B,) of 0/1 drops samples (unreadable images) from the mean.

    Example:
        >>> x = torch.rand(2, 3, 8, 8)
        >>> t = CUDTargets(x, x, x, x)
        >>> cud_losses(DeNetOutput(x, x, x, x), t)["total"].item()
        0.0
    """
    pairs = {
        "common": (out.common, targets.common),
        "unique1": (out.unique1, targets.unique1),
        "unique2": (out.unique2, targets.unique2),
        "fused": (out.fused, targets.full),
    }
    losses = {}
    for name, (pred, target) in pairs.items():
        per_sample = (pred.float() - target.float()).abs().flatten(1).mean(dim=1)
        if weight is None:
            losses[name] = per_sample.mean()
        else:
            losses[name] = (per_sample * weight).sum() / weight.sum().clamp(min=1)
    losses["total"] = sum(losses.values())
    return losses

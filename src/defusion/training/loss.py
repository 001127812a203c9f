"""The CUD loss: mean absolute errors of the four projections (paper section 3.2)."""

from __future__ import annotations

import torch

from defusion.data.cud import CUDTargets, region_masks
from defusion.metrics.structural import SSIM_K1, SSIM_K2
from defusion.model.denet import DeNetOutput
from defusion.model.filters import gaussian_blur, gaussian_kernel_1d
from defusion.training.config import TrainConfigError


def cud_losses(out: DeNetOutput, targets: CUDTargets, weight: torch.Tensor | None = None,
               masks: tuple[torch.Tensor, torch.Tensor] | None = None,
               outside_weight: float = 1.0, gradient_weight: float = 0.0,
               term_weights: tuple[float, float, float] = (1.0, 1.0, 1.0),
               ssim_weight: float = 0.0, masked_recon: torch.Tensor | None = None,
               mfm_weight: float = 0.0) -> dict[str, torch.Tensor]:
    """Per-term MAE; ``weight`` (B,) of 0/1 drops samples (unreadable images) from the mean. The
    defaults are the paper's loss; each option is docs/training.md's, where why and what it did are.

    ``outside_weight`` weighs the common and unique projections' errors outside their regions
    (where their target is 0) against 1 inside, and needs the view ``masks`` (M1, M2): "Loss outside
    the regions". ``gradient_weight`` > 0 adds ``fused_gradient``, that weight times the MAE between
    the neighbour differences of the reconstruction and of ``x``: "Gradient term". ``term_weights``
    (common, unique, fused) weigh the MAEs in the total, each term logged unweighted; ``ssim_weight``
    > 0 adds ``fused_ssim``, that weight times 1 - SSIM of the reconstruction against ``x``
    (:func:`ssim_error`); ``mfm_weight`` > 0 adds ``mfm``, that weight times the MAE between
    ``masked_recon`` (:class:`defusion.training.pretext.CUDWithMFM`'s) and ``x``: "DeFusion++ loss and
    masked feature modelling".

    Example:
        >>> x = torch.rand(2, 3, 8, 8)
        >>> t = CUDTargets(x, x, x, x)
        >>> cud_losses(DeNetOutput(x, x, x, x), t)["total"].item()
        0.0
    """
    if outside_weight != 1.0 and masks is None:
        raise TrainConfigError("an outside_weight other than 1 needs the view masks")
    regions = (None, None, None) if masks is None else region_masks(*masks)
    pairs = {
        "common": (out.common, targets.common, regions[0]),
        "unique1": (out.unique1, targets.unique1, regions[1]),
        "unique2": (out.unique2, targets.unique2, regions[2]),
        "fused": (out.fused, targets.full, None),
    }
    per_sample = {}
    for name, (pred, target, region) in pairs.items():
        region_weight = None
        if region is not None and outside_weight != 1.0:
            region_weight = region + outside_weight * (1 - region)
        per_sample[name] = _mae(pred, target, region_weight)
    if gradient_weight:
        per_sample["fused_gradient"] = gradient_weight * gradient_error(out.fused, targets.full)
    if ssim_weight:
        per_sample["fused_ssim"] = ssim_weight * ssim_error(out.fused, targets.full)
    if mfm_weight:
        if masked_recon is None:
            raise TrainConfigError("an mfm_weight needs the masked-feature reconstruction")
        per_sample["mfm"] = mfm_weight * _mae(masked_recon, targets.full)
    losses = {name: values.mean() if weight is None else (values * weight).sum() / weight.sum().clamp(min=1)
              for name, values in per_sample.items()}
    w_common, w_unique, w_fused = term_weights
    scale = {"common": w_common, "unique1": w_unique, "unique2": w_unique, "fused": w_fused}
    losses["total"] = sum(scale.get(name, 1.0) * value for name, value in losses.items())
    return losses


def _mae(pred: torch.Tensor, target: torch.Tensor, pixel_weight: torch.Tensor | None = None) -> torch.Tensor:
    """Per-sample mean absolute error (B,), each pixel weighed by ``pixel_weight`` if given."""
    error = (pred.float() - target.float()).abs()
    if pixel_weight is not None:
        error = error * pixel_weight
    return error.flatten(1).mean(dim=1)


def ssim_error(pred: torch.Tensor, target: torch.Tensor, sigma: float = 1.5) -> torch.Tensor:
    """Per-sample 1 - SSIM (B,) of two images in [0, 1], differentiable: the mean over channels
    and valid positions of Wang et al.'s SSIM map (Gaussian window of ``sigma`` 1.5, 11 taps;
    K1 0.01, K2 0.03).

    Example:
        >>> x = torch.rand(1, 3, 16, 16)
        >>> ssim_error(x, x).abs().item() < 1e-5
        True
        >>> ssim_error(torch.full_like(x, 0.5), x).item() > 0.5  # a flat grey misses the structure
        True
    """
    pred, target = pred.float(), target.float()
    taps = gaussian_kernel_1d(sigma)
    if min(pred.shape[-2:]) < len(taps):
        raise TrainConfigError(f"SSIM needs images of at least {len(taps)} pixels a side, "
                               f"got {tuple(pred.shape[-2:])}")

    def local_mean(t: torch.Tensor) -> torch.Tensor:  # valid positions only, as Wang et al.'s code
        return gaussian_blur(t, sigma, valid=True)

    c1, c2 = SSIM_K1 ** 2, SSIM_K2 ** 2  # the metrics' SSIM constants, on 0..1
    mu_p, mu_t = local_mean(pred), local_mean(target)
    var_p = local_mean(pred * pred) - mu_p ** 2
    var_t = local_mean(target * target) - mu_t ** 2
    cov = local_mean(pred * target) - mu_p * mu_t
    ssim_map = ((2 * mu_p * mu_t + c1) * (2 * cov + c2)) / ((mu_p ** 2 + mu_t ** 2 + c1) * (var_p + var_t + c2))
    return 1 - ssim_map.flatten(1).mean(dim=1)


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
    return _mae(pred.diff(dim=-1), target.diff(dim=-1)) + _mae(pred.diff(dim=-2), target.diff(dim=-2))

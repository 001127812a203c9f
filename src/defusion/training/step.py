"""One CUD optimisation step: the unit that `defusion train` repeats and that
``benchmarks/train_speed.py`` times, so the benchmark measures exactly what training runs.

Nothing in a step waits for the device: the grid sizes of the CUD masks come from a host
RNG, and the losses stay on the device (read them when logging, not every step).
"""

from __future__ import annotations

import random
from contextlib import AbstractContextManager, nullcontext
from typing import Callable, Iterable, NamedTuple

import torch

from defusion.data.cud import CUDConfig, CUDViews, make_targets, make_views
from defusion.model.denet import DeNetOutput
from defusion.model.mfm import MFMConfig, random_patch_keep
from defusion.training.loss import cud_losses


class StepResult(NamedTuple):
    """What a step leaves behind: the loss terms (device tensors), the views and outputs."""

    losses: dict[str, torch.Tensor]
    views: CUDViews
    output: DeNetOutput


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes in bf16 itself (AMX tiles or AVX512-BF16); elsewhere bf16 is
    emulated and slower than fp32."""
    probes = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in probes)


def autocast_for(device: torch.device, amp: bool) -> Callable[[], AbstractContextManager]:
    """bf16 autocast when ``amp``, where the hardware has bf16 units: CUDA, and CPUs with AMX or
    AVX512-BF16 (1.2x the fp32 step on a 2-core Xeon, 1.4x with channels_last); a no-op elsewhere.
    The weights and the optimiser stay fp32."""
    if amp and device.type == "cuda":
        return lambda: torch.autocast("cuda", dtype=torch.bfloat16)
    if amp and device.type == "cpu" and cpu_has_native_bf16():
        return lambda: torch.autocast("cpu", dtype=torch.bfloat16)
    return nullcontext


#: Devices whose parameters Adam's fused kernel takes; elsewhere the plain Adam runs.
FUSED_ADAM_DEVICES = ("cpu", "cuda")


def make_optimizer(params: Iterable[torch.nn.Parameter], lr: float) -> torch.optim.Optimizer:
    """The paper's Adam, with its fused kernel: one launch for every parameter instead of
    several per tensor (4.5% of an H200 step unfused; 35 ms against 10 ms per step of the
    published network on a 2-core CPU). Same update, same state dict as the plain Adam.

    Example:
        >>> net = torch.nn.Linear(2, 1)
        >>> type(make_optimizer(net.parameters(), lr=1e-3)).__name__
        'Adam'
    """
    params = list(params)
    fused = all(p.device.type in FUSED_ADAM_DEVICES for p in params)
    return torch.optim.Adam(params, lr=lr, fused=fused or None)


def train_step(model: torch.nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor,
               weight: torch.Tensor | None, cud: CUDConfig, generator: torch.Generator | None = None,
               cells_rng: random.Random | None = None, autocast: Callable[[], AbstractContextManager] = nullcontext,
               channels_last: bool = False, mfm: MFMConfig | None = None,
               **loss_options: float | tuple[float, float, float]) -> StepResult:
    """Degrade ``x`` (B, 3, H, W) into two CUD views, reconstruct, and take one optimiser step.

    ``weight`` (B,) of 0/1 drops samples (unreadable images) from the loss; ``loss_options``
    (outside_weight, gradient_weight, term_weights, ssim_weight) go to :func:`cud_losses`
    (``TrainConfig.loss_options()``). With ``mfm``, ``model`` is a
    :class:`~defusion.training.pretext.CUDWithMFM` and each sample's fused embedding has
    ``mfm.mask_ratio`` of its patches hidden (DeFusion++'s masked feature modelling).

    Example:
        >>> from defusion import create_model
        >>> net = create_model("defusion-tiny")
        >>> opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        >>> result = train_step(net, opt, torch.rand(2, 3, 32, 32), None, CUDConfig())
        >>> sorted(result.losses)
        ['common', 'fused', 'total', 'unique1', 'unique2']
    """
    views = make_views(x, cud, generator=generator, cells_rng=cells_rng)
    targets = make_targets(x, views.mask1, views.mask2)
    x1, x2 = views.x1, views.x2
    if channels_last:
        x1 = x1.contiguous(memory_format=torch.channels_last)
        x2 = x2.contiguous(memory_format=torch.channels_last)
    masked_recon = None
    with autocast():
        if mfm is None:
            output = model(x1, x2)
        else:
            keep = random_patch_keep(x.shape[0], x.shape[-2], x.shape[-1], mfm.patch, mfm.mask_ratio,
                                     generator=generator, device=x.device)
            output, masked_recon = model(x1, x2, keep)
    losses = cud_losses(output, targets, weight, masks=(views.mask1, views.mask2),
                        masked_recon=masked_recon, **loss_options)
    optimizer.zero_grad(set_to_none=True)
    losses["total"].backward()
    optimizer.step()
    return StepResult(losses, views, output)


__all__ = ["StepResult", "autocast_for", "cpu_has_native_bf16", "make_optimizer", "train_step"]

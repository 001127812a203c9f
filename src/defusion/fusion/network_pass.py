"""One run of the network over a pair of network inputs, as a Fuser runs it: in the precision and
on the device asked for, at ``options.scale`` (:class:`~defusion.fusion.resample.Rescaled`), whole
(padded to the network's stride) or in overlapping tiles (:mod:`defusion.fusion.tiling`), with the
options' unique and detail gains; its four projections come back as HxWx3 float arrays in [0, 1].

Example:
    >>> from defusion.fusion.options import FuseOptions
    >>> from defusion.model.registry import create_model
    >>> a = np.zeros((16, 24, 3), np.float32)
    >>> out = project(create_model("defusion-tiny").eval(), FuseOptions(scale=1), torch.device("cpu"), False, a, a)
    >>> out.fused.shape, out.fused.dtype
    ((16, 24, 3), dtype('float32'))
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Callable, NamedTuple

import numpy as np
import torch

from defusion.fusion.resample import Rescaled
from defusion.fusion.tiling import run_padded, run_tiled, tile_layout
from defusion.model.denet import default_detail_gain

if TYPE_CHECKING:
    from defusion.fusion.options import FuseOptions


class Projections(NamedTuple):
    """The network's four projections of a pair (as :class:`~defusion.model.denet.DeNetOutput`),
    each HxWx3 float32 in [0, 1]."""

    common: np.ndarray
    unique1: np.ndarray
    unique2: np.ndarray
    fused: np.ndarray


@torch.inference_mode()
def project(model: Callable, options: FuseOptions, device: torch.device, half: bool, a: np.ndarray, b: np.ndarray,
            on_tile: Callable[[], None] | None = None, unique_gain: bool = True) -> Projections:
    """Run ``model`` (a DeNet, or what runs like one) on two HxWx3 float images; returns its four
    projections as HxWx3 float. ``on_tile`` is called after each network pass. ``unique_gain`` False:
    unique gain 1 whatever the options say (the detail gain as they say)."""
    dtype = torch.float16 if half else torch.float32
    x1, x2 = (torch.from_numpy(np.ascontiguousarray(im)).permute(2, 0, 1)[None].to(device, dtype)
              for im in (a, b))
    scale = options.scale
    gain = float(options.unique_gain) if unique_gain else 1.0
    detail_gain = options.resolved_detail_gain
    head_gains = {"unique_gain": gain}
    if detail_gain != default_detail_gain(gain):
        head_gains["detail_gain"] = detail_gain  # networks older than it need not take it
    net = functools.partial(model, **head_gains)
    net = net if scale == 1 else Rescaled(net, scale)
    tile, overlap = tile_layout(options, *a.shape[:2])
    if tile:
        outs = run_tiled(net, x1, x2, tile, overlap, on_tile)
    else:
        outs = run_padded(net, x1, x2)
        if on_tile:
            on_tile()
    arrays = [o[0].float().clamp(0, 1).permute(1, 2, 0).cpu().numpy() for o in outs]
    return Projections(*arrays)


__all__ = ["Projections", "project"]

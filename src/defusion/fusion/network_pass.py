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
from typing import TYPE_CHECKING, Callable, NamedTuple, Sequence

import numpy as np
import torch

from defusion.fusion.resample import Rescaled
from defusion.fusion.tiling import run_padded, run_tiled, tile_layout
from defusion.model.denet import default_detail_gain

if TYPE_CHECKING:
    from defusion.fusion.options import FuseOptions


class Projections(NamedTuple):
    """The network's four projections of a pair (as :class:`~defusion.model.denet.DeNetOutput`),
    each HxWx3 float32 in [0, 1]; None for one :func:`project` was not asked to keep."""

    common: np.ndarray | None
    unique1: np.ndarray | None
    unique2: np.ndarray | None
    fused: np.ndarray | None


#: The projections' names, in the network's order of them.
PROJECTIONS: tuple[str, ...] = Projections._fields


@torch.inference_mode()
def project(model: Callable, options: FuseOptions, device: torch.device, half: bool, a: np.ndarray, b: np.ndarray,
            on_tile: Callable[[], None] | None = None, unique_gain: bool = True,
            keep: Sequence[str] = PROJECTIONS) -> Projections:
    """Run ``model`` (a DeNet, or what runs like one) on two HxWx3 float images; returns its four
    projections as HxWx3 float. ``on_tile`` is called after each network pass. ``unique_gain`` False:
    unique gain 1 whatever the options say (the detail gain as they say). ``keep``: the projections
    to return (:data:`PROJECTIONS`' names), the others None: a projection not kept is never summed over
    the image's tiles (each is an HxWx3 float32 sum, 12 bytes a pixel, while the tiles run).

    Example:
        >>> from defusion.fusion.options import FuseOptions
        >>> from defusion.model.registry import create_model
        >>> a = np.zeros((16, 24, 3), np.float32)
        >>> out = project(create_model("defusion-tiny").eval(), FuseOptions(scale=1), torch.device("cpu"), False,
        ...               a, a, keep=("fused",))
        >>> out.common is None, out.fused.shape
        (True, (16, 24, 3))
    """
    wanted = sorted({PROJECTIONS.index(name) for name in keep})  # ValueError for a name not among them
    dtype = torch.float16 if half else torch.float32
    x1, x2 = (_as_tensor(im).permute(2, 0, 1)[None].to(device, dtype) for im in (a, b))
    scale = options.scale
    gain = float(options.unique_gain) if unique_gain else 1.0
    detail_gain = options.resolved_detail_gain
    head_gains = {"unique_gain": gain}
    if detail_gain != default_detail_gain(gain):
        head_gains["detail_gain"] = detail_gain  # networks older than it need not take it
    net = functools.partial(model, **head_gains)
    if len(wanted) < len(PROJECTIONS):
        net = _Kept(net, tuple(wanted))
    net = net if scale == 1 else Rescaled(net, scale)
    tile, overlap = tile_layout(options, *a.shape[:2])
    if tile:
        outs = run_tiled(net, x1, x2, tile, overlap, on_tile)
    else:
        outs = run_padded(net, x1, x2)
        if on_tile:
            on_tile()
    # the tiler's sums are this call's own: clamped in place, not copied (the same values)
    arrays = iter([_clamped(o[0].float(), in_place=bool(tile)).permute(1, 2, 0).cpu().numpy() for o in outs])
    return Projections(*(next(arrays) if index in wanted else None for index in range(len(PROJECTIONS))))


class _Kept(NamedTuple):
    """A network whose outputs are cut down to those at ``indices``."""

    net: Callable
    indices: tuple[int, ...]

    def __call__(self, x1: torch.Tensor, x2: torch.Tensor) -> list[torch.Tensor]:
        outs = self.net(x1, x2)
        return [outs[index] for index in self.indices]


def _clamped(x: torch.Tensor, in_place: bool) -> torch.Tensor:
    """``x`` clamped to [0, 1]; ``in_place`` where it is the caller's own to change."""
    return x.clamp_(0, 1) if in_place else x.clamp(0, 1)


def _as_tensor(image: np.ndarray) -> torch.Tensor:
    """An HxWxC array as a tensor on its memory: one plane repeated in three channels
    (:func:`defusion.fusion.color.grey_rgb`, read-only) stays one plane, as other arrays are copied
    only where they are not contiguous."""
    if image.strides[-1] == 0:
        try:
            return torch.from_dlpack(image)  # read-only, which torch.from_numpy warns of
        except (BufferError, RuntimeError, TypeError):  # NumPy 1.x: no DLPack export of a read-only array
            plane = np.array(image[..., 0])  # one writable plane (4 bytes a pixel), seen as three again
            return torch.from_numpy(plane)[..., None].expand(*image.shape)
    return torch.from_numpy(np.ascontiguousarray(image))


__all__ = ["PROJECTIONS", "Projections", "project"]

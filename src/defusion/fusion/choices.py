"""The fusion core's named choices and bounds, without PyTorch or OpenCV: the command line's
options offer and check them before any model loads, and ``--help`` stays fast;
:mod:`defusion.fusion.align`, :mod:`defusion.fusion.selection` and
:mod:`defusion.fusion.options` check and use them."""

from __future__ import annotations

from typing import Literal, get_args

#: Motion models of :mod:`defusion.fusion.align`, simplest first: none (the sources are registered);
#: a shift; shift and rotation; + scale and shear; + perspective.
Motion = Literal["none", "translation", "euclidean", "affine", "homography"]
MOTIONS: tuple[str, ...] = get_args(Motion)
#: Where the fused image's pixels come from (:mod:`defusion.fusion.selection`): the network's
#: reconstruction Pr (the paper), or the sources themselves weighed by its decision map.
PixelSource = Literal["network", "sources"]
PIXEL_SOURCES: tuple[str, ...] = get_args(PixelSource)
#: The smallest tile worth a network pass (network input pixels): smaller ones cost more in
#: overlap and set-up than they fuse.
MIN_TILE = 64


def smallest_tile(overlap: int) -> int:
    """The smallest tile (network input pixels) for ``overlap``: tiles overlap by under half their
    size, and none is under :data:`MIN_TILE`.

    Example:
        >>> smallest_tile(8), smallest_tile(64)
        (64, 129)
    """
    return max(MIN_TILE, 2 * overlap + 1)


__all__ = ["Motion", "MOTIONS", "PixelSource", "PIXEL_SOURCES", "MIN_TILE", "smallest_tile"]

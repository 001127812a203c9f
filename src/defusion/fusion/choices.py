"""The fusion core's named choices, without PyTorch or OpenCV: the command line's options offer
them in ``--help``, which stays fast; :mod:`defusion.fusion.align` and
:mod:`defusion.fusion.selection` check and use them."""

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

__all__ = ["Motion", "MOTIONS", "PixelSource", "PIXEL_SOURCES"]

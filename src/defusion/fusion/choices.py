"""The fusion core's named choices and bounds, without PyTorch or OpenCV: the command line's
options offer and check them before any model loads, and ``--help`` stays fast;
:mod:`defusion.fusion.align`, :mod:`defusion.fusion.selection` and
:mod:`defusion.fusion.options` check and use them."""

from __future__ import annotations

from pathlib import Path
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


#: Inference engines of :mod:`defusion.fusion.runtime`.
Runtime = Literal["auto", "torch", "onnxruntime", "compile", "compile-bf16"]
RUNTIMES: tuple[str, ...] = get_args(Runtime)
#: The runtime the CLI, the server, the web UI and ``Fuser.from_pretrained`` use unless told.
DEFAULT_RUNTIME: Runtime = "auto"
#: The runtimes an ONNX export runs on (it is ONNX Runtime's model; nothing to export or compile).
ONNX_RUNTIMES: tuple[str, ...] = ("auto", "onnxruntime")
#: The suffix of an ONNX export, which the loaders take in place of a weights file.
ONNX_SUFFIX = ".onnx"


def is_onnx_export(path: str | Path | None) -> bool:
    """Whether ``path`` names an ONNX export (``defusion export``'s ``.onnx``) rather than weights.

    Example:
        >>> is_onnx_export("denet.ONNX"), is_onnx_export("weights.safetensors"), is_onnx_export(None)
        (True, False, False)
    """
    return path is not None and Path(path).suffix.lower() == ONNX_SUFFIX


__all__ = ["Motion", "MOTIONS", "PixelSource", "PIXEL_SOURCES", "MIN_TILE", "smallest_tile", "Runtime", "RUNTIMES",
           "DEFAULT_RUNTIME", "ONNX_RUNTIMES", "ONNX_SUFFIX", "is_onnx_export"]

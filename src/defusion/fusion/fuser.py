"""The fusion core: every front end (CLI, Python, server, UI) calls :class:`Fuser`."""

from __future__ import annotations


import functools
import os
import sys
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np
import torch

from defusion.errors import caller_stacklevel, channels_first_hint
from defusion.fusion import color
from defusion.fusion.align import align_images
from defusion.fusion.deghost import deghost, reference_index
# defined there: the CLI names them without PyTorch
from defusion.fusion.errors import FusionInputError, FusionTypeError, OptionsError, SizeMismatchError
# the options, defined there (what a fusion is asked to do), and still importable from here
from defusion.fusion.options import (DEFAULT_SCALE, DEFAULT_UNIQUE_GAIN, INPUT_ORDERS, MAX_DETAIL_GAIN,
                                     MAX_UNIQUE_GAIN, MIN_TILE, PAPER_OPTIONS, SOURCES_SCALE, STACK_ORDERS,
                                     TASK_FIELDS, TASK_OPTIONS, TASKS, FuseOptions, InputOrder, StackOrder, Task,
                                     check_detail_gain, check_option_names, check_unique_gain, default_scale,
                                     smallest_tile, task_options)
from defusion.fusion.resample import downsample, upsample
from defusion.fusion.runtime import DEFAULT_RUNTIME, Runtime, check_runtime, is_onnx_export, load_network
from defusion.fusion.selection import decision_map, weighted_sum
from defusion.fusion.stretch import stretch_sources
from defusion.fusion.tiling import TileSize, passes_for, run_padded, run_tiled, tile_layout
from defusion.io.arrays import MAX_8BIT, holds_eight_bit_values, is_tensor, tensor_pixels
from defusion.model.denet import DeNet, default_detail_gain
from defusion.model.weights import check_model_path


#: Channels an HxWxC image may have: grey, grey + alpha, RGB, RGBA (alpha is dropped).
_CHANNELS = (1, 2, 3, 4)
#: Grey + alpha (a Pillow image in mode LA, as an array): fused as its grey plane.
_GREY_ALPHA = 2
#: Pillow modes whose values are no grey or RGB levels (palette indices, another colour space, 1-bit
#: booleans), and the mode each is converted to before fusing (palettes by RGBA, as read_image does:
#: Pillow warns when a palette's transparency is dropped straight to RGB; alpha is dropped later).
_PILLOW_CONVERSIONS = {"P": "RGBA", "PA": "RGBA", "1": "L", "CMYK": "RGB", "YCbCr": "RGB", "LAB": "RGB",
                       "HSV": "RGB"}
#: Pillow modes of 32-bit numbers (a 16-bit PNG opened by older Pillow, a float TIFF), read as
#: read_image reads such a file (io.images.pillow_levels), since their arrays are no uint8/uint16 levels.
_PILLOW_NUMBER_MODES = ("I", "F")
#: Fuser.from_pretrained's own parameters, beside the FuseOptions fields it takes: guessed at for a typo.
_FROM_PRETRAINED_PARAMETERS = ("weights", "device", "half", "runtime", "threads", "task", "options", "onnx")


def input_ranking(inputs: list[np.ndarray], order: InputOrder = "given") -> list[int]:
    """The indices of ``inputs`` in ``order`` (INPUT_ORDERS): as given, or stably sorted by mean
    brightness (``exposure``: a pair darker first, more brightest first).

    Example:
        >>> input_ranking([np.full(4, 0.5), np.full(4, 0.2), np.full(4, 0.8)], "bright-first")
        [2, 0, 1]
    """
    if order not in INPUT_ORDERS:
        raise OptionsError(f"unknown input order {order!r}; use one of {', '.join(INPUT_ORDERS)}")
    if order == "given":
        return list(range(len(inputs)))
    if order == "exposure":
        order = "dark-first" if len(inputs) == 2 else "bright-first"
    brightness = [float(np.mean(im)) for im in inputs]
    return sorted(range(len(inputs)), key=lambda i: -brightness[i] if order == "bright-first" else brightness[i])


class Selection(NamedTuple):
    """A fusion with pixels="sources": the fused image and each source's share of it."""

    fused: np.ndarray
    #: One HxW float32 map in [0, 1] per source, in the order the sources were given; they sum
    #: to 1 at every pixel (:func:`defusion.fusion.selection.source_map` draws them as one map).
    weights: list[np.ndarray]


class Fusion(NamedTuple):
    """A fusion with what a viewer or a scorer needs beside it (:meth:`Fuser.fusion`)."""

    fused: np.ndarray
    #: The sources as they were fused, float32 in [0, 1] in the order given (raw thermal frames
    #: stretched, mapped by the rig, aligned, deghosted): what to show beside the fused image and
    #: to score it against; the files as given may not line up with it.
    sources: list[np.ndarray]
    #: The indices of the images in the order they were fused (``options.order``).
    order: list[int]
    #: With pixels="sources", each source's HxW share of the result, as in :class:`Selection`;
    #: None when the fused image is the network's reconstruction.
    weights: list[np.ndarray] | None = None
    #: The indices of the images stretched as raw thermal frames before fusing (``options.stretch``):
    #: worth telling the user, as ``defusion fuse`` does.
    stretched: tuple[int, ...] = ()
    #: The index (as given) of the source the others were registered onto (``options.align``) and
    #: deghosted against, whose framing the fused image keeps: the first, but for a bracket sorted by
    #: brightness (with align or deghost on) the best exposed.
    frame: int = 0
    #: With ``options.align``, each source's warp onto the frame (:func:`defusion.fusion.align.
    #: estimate_motion`; :func:`~defusion.fusion.align.warp_extent` says how far it moved), None for
    #: the frame itself, in the order given; () without alignment. What registration found.
    warps: tuple[np.ndarray | None, ...] = ()
    #: With ``options.deghost``, the share of each source's pixels replaced as having moved (0 to 1;
    #: 0 for deghost's reference), in the order given; () without deghosting.
    ghosts: tuple[float, ...] = ()


class Decomposition(NamedTuple):
    """DeFusion's explanation of a fusion: fused = Pr(f_c, f_u^a, f_u^b); with pixels="sources",
    fused = weight_a * a + (1 - weight_a) * b, the weight read from the unique projections."""

    fused: np.ndarray
    common: np.ndarray
    unique_a: np.ndarray
    unique_b: np.ndarray
    #: With pixels="sources": HxW float32 in [0, 1], a's share of each fused pixel (the decision
    #: map); None when the fused image is the network's reconstruction.
    weight_a: np.ndarray | None = None
    #: The pair as it was fused (float32 in [0, 1], ``a`` first), as in :attr:`Fusion.sources`.
    sources: list[np.ndarray] | None = None
    #: The source the other was registered onto (0: ``a``, 1: ``b``), as in :attr:`Fusion.frame`.
    frame: int = 0
    #: Each source's warp onto the frame and share replaced as having moved, as in :attr:`Fusion.warps`
    #: and :attr:`Fusion.ghosts`.
    warps: tuple[np.ndarray | None, ...] = ()
    ghosts: tuple[float, ...] = ()


def _check_half(half: bool, device: torch.device) -> None:
    """Refuse fp16 off CUDA."""
    if half and device.type != "cuda":
        raise OptionsError("half precision (half=True, --half) needs a CUDA device (fp16 on the CPU is slower and "
                           "less accurate)")


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` picks CUDA when present; asking for an absent CUDA is an error."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise OptionsError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise OptionsError("device cuda (--device cuda) was asked for, but PyTorch sees no CUDA device")
    return device


@dataclass
class _Prepared:
    mode: str
    inputs: list[np.ndarray]  # HxWx3 float network inputs
    chroma: np.ndarray | None
    dtype: np.dtype
    size: tuple[int, int]
    sources: list[np.ndarray]  # the float sources (registered), for pixels="sources"
    palette: np.ndarray | None = None  # HxWx3 false colours of the infrared image (options.palette; x4: a rig's)
    stretched: tuple[int, ...] = ()  # the sources stretched as raw thermal frames
    frame: int = 0  # the source the others were registered onto (Fusion.frame)
    warps: tuple[np.ndarray | None, ...] = ()  # each source's warp onto the frame (Fusion.warps)
    ghosts: tuple[float, ...] = ()  # each source's share replaced by deghost (Fusion.ghosts)


class _Anchors(NamedTuple):
    """The sources (indices as given) that registration and ghost removal go by."""

    #: The source the others are registered onto, whose framing the fused image keeps.
    frame: int = 0
    #: Deghost's reference; None: deghost picks the best exposed itself, after registration.
    reference: int | None = None


class _Registered(NamedTuple):
    """The sources as fused (floats in [0, 1]), which were stretched, the one registered onto, and
    what registration and deghosting did to each (Fusion.warps, Fusion.ghosts)."""

    floats: list[np.ndarray]
    stretched: tuple[int, ...]
    frame: int
    warps: tuple[np.ndarray | None, ...] = ()
    ghosts: tuple[float, ...] = ()


class _Stacked(NamedTuple):
    """A (partial) fusion of a stack: the HxWx3 network-input image it gives, and with
    pixels="sources" each input's HxW weight in it (None: the network's reconstruction)."""

    image: np.ndarray
    weights: list[np.ndarray] | None


@dataclass
class Fuser:
    """Fuses registered images with a DeNet.

    Colour images are RGB, as Pillow and :func:`defusion.io.images.read_image` give them; OpenCV's
    ``cv2.imread`` gives BGR: convert it first (``cv2.cvtColor(image, cv2.COLOR_BGR2RGB)``), and a
    fused colour image back before ``cv2.imwrite``.

    Threads: :meth:`fuse`, :meth:`fusion`, :meth:`decompose` and the other calls read the Fuser and
    never change it, so one Fuser may fuse from several threads at once with the ``torch`` and
    ``onnxruntime`` runtimes (an audit ran 2 threads x 20 fusions on one: no errors, each result
    bit-identical to the serial one). With ``compile`` runtimes fuse each new image size once
    before sharing (``torch.compile`` compiles on first use). Do not assign ``options`` while
    others fuse: make a copy, ``dataclasses.replace(fuser, options=...)``, which shares the network.
    PyTorch's thread count is process-wide (:meth:`from_pretrained`'s ``threads``).

    Example:
        >>> from defusion.model.registry import create_model
        >>> fuser = Fuser(create_model("defusion-tiny"))
        >>> a = np.zeros((20, 30), dtype=np.uint8); b = np.full((20, 30), 255, dtype=np.uint8)
        >>> out = fuser.fuse(a, b)
        >>> out.shape, out.dtype
        ((20, 30), dtype('uint8'))
    """

    model: DeNet = field(repr=False)  # repr(fuser): device, half and options on one line
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    half: bool = False
    options: FuseOptions = field(default_factory=FuseOptions)

    def __post_init__(self) -> None:
        if not (callable(self.model) and hasattr(self.model, "to") and hasattr(self.model, "eval")):
            raise FusionTypeError(f"model must be a network (create_model(name, pretrained=True), or "
                                  f"defusion.model.weights.load_weights(path)), got {type(self.model).__name__}; "
                                  "Fuser.from_pretrained() loads the shipped one")
        if not isinstance(self.options, FuseOptions):
            raise FusionTypeError(f"options must be a FuseOptions (FuseOptions(**fields) or "
                                  f"FuseOptions.for_task(task)), got {type(self.options).__name__}")
        self.device = resolve_device(self.device)
        _check_half(self.half, self.device)
        self.model = self.model.to(self.device).eval()
        if self.half:
            self.model = self.model.half()

    @classmethod
    def from_pretrained(cls, weights: str | Path | None = None, device: str = "auto", half: bool = False,
                        runtime: Runtime = DEFAULT_RUNTIME, threads: int | None = None, task: Task | None = None,
                        options: FuseOptions | None = None, onnx: bool | None = None, **fields) -> "Fuser":
        """A Fuser with the shipped weights (or ``weights``: a ``.safetensors`` file, or an ONNX
        export run by ONNX Runtime: a ``.onnx`` file, or any file with ``onnx=True``), ready on ``device``.

        ``runtime`` picks the inference engine (:mod:`defusion.fusion.runtime`): ``auto`` (default:
        ONNX Runtime on a CPU, PyTorch on a GPU), ``torch``, ``onnxruntime`` (exported once and
        cached; 2.3x PyTorch eager on a CPU, same output to rounding),
        ``compile`` or ``compile-bf16`` (``torch.compile``; the fastest on a CPU once compiled).
        ``threads`` bounds the CPU threads of inference: onnxruntime's intra-op threads for this
        Fuser, and PyTorch's (``torch.set_num_threads``: the PyTorch runtimes, and the up-sampling
        at ``scale`` 2 on any runtime), which is process-wide: every PyTorch call in the process
        then runs on ``threads``, until something sets it again.
        ``task`` (``"ivf"``, ``"mef"``, ``"mff"``) starts the options from that kind of images'
        defaults (:meth:`FuseOptions.for_task`), or ``options`` from a whole :class:`FuseOptions`;
        ``fields`` (FuseOptions fields, e.g. ``scale=1``) go on top.

        Refused options (a field, an unknown field name, the task, device, runtime, threads or
        precision) raise :class:`~defusion.fusion.errors.OptionsError` (a ValueError), ``options``
        that are no FuseOptions FusionTypeError (a TypeError), ``weights`` that cannot be loaded
        (missing, a folder: a training run's names its weights file) WeightsError (a ValueError): all
        :class:`defusion.DefusionError`.
        """
        check_option_names(fields, "Fuser.from_pretrained", _FROM_PRETRAINED_PARAMETERS)
        check_model_path(weights)  # a folder (a training run's: its weights file named), before anything loads
        check_runtime(runtime, half, threads)
        onnx = is_onnx_export(weights) if onnx is None else onnx
        if half and onnx:
            raise OptionsError(f"fp16 (half) is for safetensors weights on PyTorch; {weights} is an ONNX export "
                               "and runs as exported (defusion export --half makes an fp16 one)")
        if options is not None and task is not None:
            raise OptionsError("give task= or options=, not both (FuseOptions.for_task(task) makes the options)")
        if options is not None and not isinstance(options, FuseOptions):
            raise FusionTypeError(f"options must be a FuseOptions, got {type(options).__name__}")
        if options is not None:  # fields on top, None leaving the option as for_task does
            fuse_options = replace(options, **{k: v for k, v in fields.items() if v is not None})
        else:
            fuse_options = FuseOptions.for_task(task, **fields)  # bad options fail before loading
        device = resolve_device(device)
        _check_half(half, device)  # before the model loads
        runtime = "torch" if half and runtime == "auto" else runtime
        before = torch.get_num_threads()
        if threads is not None:  # before loading: an ONNX export made on first use runs on them too
            torch.set_num_threads(int(threads))
        try:
            network = load_network(weights, runtime, device, threads, onnx=onnx)
            return cls(network, device, half, fuse_options)
        except BaseException:  # a fuser that fails to load leaves the process as it was
            torch.set_num_threads(before)
            raise

    # -- public API -----------------------------------------------------------------
    def fuse(self, *images: np.ndarray, on_tile: Callable[[], None] | None = None) -> np.ndarray:
        """Fuse two or more registered images (more than two in ``options.stack`` order).

        Inputs are HxW or HxWxC arrays (uint8, uint16 or float in [0, 1]; C 1 grey, 2 grey + alpha,
        3 RGB, 4 RGBA: alpha is dropped, so ``np.asarray`` of a Pillow image in any of those modes
        will do, and a Pillow image itself, a palette one as RGB), passed as separate arguments
        (``fuse(*images)`` for a list). Torch tensors are taken as such arrays: channels last (HxWxC,
        not CxHxW), on any device, requiring grad or not, bfloat16 read as float32; the result is a
        NumPy array all the same. The result has their height and width and the deepest input type
        (uint8, uint16, or float32 for float inputs), RGB unless all are grey (HxW, HxWx1, grey +
        alpha or R = G = B), then HxW. A grey 16-bit source that fills a narrow band of its range (a
        raw thermal frame) is stretched first (``options.stretch``; :meth:`registered` shows the
        sources as fused). Colour is RGB (convert OpenCV's BGR first). A colour uint16 image whose
        values are all <= 255 (8-bit values in 16 bits: ``a.astype(np.uint16)`` without ``* 257``)
        would fuse near black: a ``UserWarning`` names it (pass it as uint8, or scaled to 16 bits).

        Raises:
            SizeMismatchError: images of different heights or widths (and no ``options.rig``); a
                FusionInputError.
            FusionInputError: fewer than two images (or one list of them), an array that is not HxW
                or HxWxC (C 1 to 4) or has no pixels, float values outside [0, 1] or not finite,
                bad ``infrared``, or fewer images than a FixedStretch (``options.stretch``) maps;
                a ValueError.
            RigError: images that do not match ``options.rig``; a ValueError.
            FusionTypeError: a path instead of an array, or a type other than uint8, uint16 or
                float; a TypeError.

            All of them derive from :class:`defusion.DefusionError`: ``except DefusionError``
            catches any input that defusion refuses.

        Example:
            >>> import torch
            >>> from defusion.model.registry import create_model
            >>> a = torch.rand(16, 24, 3, dtype=torch.bfloat16, requires_grad=True)  # a model's output, say
            >>> fused = Fuser(create_model("defusion-tiny")).fuse(a, torch.rand(16, 24, 3))
            >>> type(fused).__name__, fused.shape, fused.dtype
            ('ndarray', (16, 24, 3), dtype('float32'))
        """
        return self.fusion(*images, on_tile=on_tile).fused

    def fuse_with_weights(self, *images: np.ndarray, on_tile: Callable[[], None] | None = None) -> Selection:
        """Like :meth:`fuse` with pixels="sources", and also each source's HxW share of the result
        (which image each pixel came from: a focus stack's depth map). Needs pixels="sources"."""
        if self.options.pixels != "sources":
            raise OptionsError("source weights exist only with pixels='sources' (the network's reconstruction "
                               f"mixes the sources); this fuser has pixels={self.options.pixels!r}")
        result = self.fusion(*images, on_tile=on_tile)
        return Selection(result.fused, result.weights)

    def fusion(self, *images: np.ndarray, on_tile: Callable[[], None] | None = None) -> Fusion:
        """:meth:`fuse`, with the sources as fused, the order they were fused in, which were stretched
        as raw thermal frames, (with pixels="sources") each one's share and what alignment and deghosting
        found (``warps``, ``ghosts``): one pass for a page that shows and scores a fusion.

        Example:
            >>> from defusion.model.registry import create_model
            >>> thermal = (7000 + np.arange(64 * 64).reshape(64, 64) % 2000).astype(np.uint16)
            >>> Fuser(create_model("defusion-tiny")).fusion(thermal, thermal // 2 + 32768).stretched
            (0, 1)
        """
        prepared = self._prepare(images)
        order = input_ranking(prepared.inputs, self.options.order)
        stacked = self._fuse_stack([prepared.inputs[i] for i in order], prepared.mode, on_tile)
        if stacked.weights is None:
            return Fusion(self._finish(stacked.image, prepared), prepared.sources, order,
                          stretched=prepared.stretched, frame=prepared.frame, warps=prepared.warps,
                          ghosts=prepared.ghosts)
        weights = _unrank(stacked.weights, order)
        return Fusion(self._finish_selected(weights, prepared), prepared.sources, order, weights=weights,
                      stretched=prepared.stretched, frame=prepared.frame, warps=prepared.warps,
                      ghosts=prepared.ghosts)

    def _fuse_stack(self, inputs: list[np.ndarray], mode: str, on_tile=None, root: bool = True) -> _Stacked:
        """Fuse HxWx3 network inputs pairwise in ``options.stack`` order; intermediate results
        are clipped to [0, 1] like any image before they are fused again. With pixels="sources"
        each pair is a weighed choice between its halves, and the weights multiply down the tree.
        The reconstruction's unique gain (which brightens) weighs up the final fusion only: below the
        root, unique gain 1, so that a result does not brighten again at each level (eight copies of
        one frame came out 34 grey levels brighter at gain 1.25). The detail gain stays at every level:
        without it brackets of 3-4 scored lower MEF-SSIM (benchmarks/multi_input.py --task mef)."""
        if len(inputs) == 1:
            selecting = self.options.pixels == "sources"
            return _Stacked(inputs[0], [np.ones(inputs[0].shape[:2], np.float32)] if selecting else None)
        cut = len(inputs) - 1 if self.options.stack == "sequential" else (len(inputs) + 1) // 2
        first, rest = (self._fuse_stack(part, mode, on_tile, root=False) for part in (inputs[:cut], inputs[cut:]))
        a, b = (np.clip(part.image, 0.0, 1.0) for part in (first, rest))
        out = self._project(a, b, on_tile, unique_gain=root or self.options.pixels == "sources")
        if self.options.pixels == "sources":
            w = _pair_weights(out, a, b)
            return _Stacked(weighted_sum([w, 1 - w], [a, b]),
                            [w * x for x in first.weights] + [(1 - w) * x for x in rest.weights])
        fused = out.fused
        return _Stacked(fused if mode == "rgb" else color.as_rgb(fused.mean(axis=2)), None)

    def input_order(self, *images: np.ndarray) -> list[int]:
        """The indices of ``images`` in the order :meth:`fuse` stacks them (``options.order``)."""
        return input_ranking(self._prepare(images).inputs, self.options.order)

    def decompose(self, *images: np.ndarray, on_tile: Callable[[], None] | None = None) -> Decomposition:
        """The fused image of a pair ``a, b`` and its common and unique projections (paper Fig.
        7/8), and with pixels="sources" the decision map; ``unique_a`` is ``a``'s whichever order
        ``options.order`` runs the pair in."""
        if len(images) != 2:
            raise FusionInputError(f"decompose takes a pair of images, got {len(images)}: the network decomposes "
                                   "two sources at a time (fuse takes any number)")
        prepared = self._prepare(images)
        first, second = input_ranking(prepared.inputs, self.options.order)
        out = self._project(prepared.inputs[first], prepared.inputs[second], on_tile)
        unique_a, unique_b = (out.unique1, out.unique2) if first == 0 else (out.unique2, out.unique1)
        parts = (self._component(p, prepared) for p in (out.common, unique_a, unique_b))
        if self.options.pixels == "sources":
            w = _pair_weights(out, prepared.inputs[first], prepared.inputs[second])
            weights = _unrank([w, 1 - w], [first, second])
            return Decomposition(self._finish_selected(weights, prepared), *parts, weight_a=weights[0],
                                 sources=prepared.sources, frame=prepared.frame, warps=prepared.warps,
                                 ghosts=prepared.ghosts)
        return Decomposition(self._finish(out.fused, prepared), *parts, sources=prepared.sources, frame=prepared.frame,
                             warps=prepared.warps, ghosts=prepared.ghosts)

    def tiles_for(self, height: int, width: int) -> int:
        """How many network passes an image of this size takes (:func:`~defusion.fusion.tiling.passes_for`)."""
        return passes_for(self.options, height, width)

    def tile_layout(self, height: int, width: int) -> tuple[TileSize, int]:
        """Tile size and overlap in image pixels (:func:`~defusion.fusion.tiling.tile_layout`)."""
        return tile_layout(self.options, height, width)

    # -- steps ----------------------------------------------------------------------
    def registered(self, *images: np.ndarray) -> list[np.ndarray]:
        """The sources as this fuser fuses them, float32 in [0, 1] in the order given: raw thermal
        frames stretched, mapped by the rig, aligned, deghosted. What to show beside the fused
        image and to score it against (the files as given may not line up with it)."""
        return self._registered(self._checked(images)).floats

    def infrared_source(self, *images: np.ndarray) -> tuple[int, str | None]:
        """Which source the palette colours as the infrared image (``options.infrared``, else the one
        raw thermal frame, else the only grey source, else the last) and, where that was a guess,
        why (``"all are grey"``, ``"none is grey"``): worth telling the user; None when certain."""
        if self.options.infrared is not None:
            return self.options.infrared, None
        images = self._checked(images)
        _, stretched = stretch_sources(images, [color.to_float(im) for im in images], self.options.stretch,
                                       self.options.stretch_shared)
        index, certain = color.thermal_source(images, stretched)
        if certain:
            return index, None
        return index, "all are grey" if all(color.is_grey(im) for im in images) else "none is grey"

    def _checked(self, images) -> list[np.ndarray]:
        """``images`` as arrays (grey + alpha as grey), refused with a library error (a ValueError
        or TypeError too) if they cannot be fused together."""
        if len(images) == 1 and isinstance(images[0], (list, tuple)):
            raise FusionInputError(f"the images are passed as separate arguments: call fuse(*images), not "
                                   f"fuse(images) (got one {type(images[0]).__name__} of {len(images[0])})")
        if len(images) < 2:
            raise FusionInputError("fusion needs at least two images")
        images = [_as_image(im, f"image {i + 1}") for i, im in enumerate(images)]
        for i, image in enumerate(images):
            _warn_eight_bit_values(image, f"image {i + 1}")
        sizes = {im.shape[:2] for im in images}
        if self.options.rig is not None:
            self.options.rig.check_images(images)
        elif len(sizes) > 1:
            described = " vs ".join(f"{im.shape[1]}x{im.shape[0]}" for im in images)
            raise SizeMismatchError(f"images differ in size ({described}, WxH); fusion needs registered "
                                    "images of one size (the CLI's --resize, or defusion.io.resize.resize_to "
                                    "in Python, resizes the others to the first)")
        return images

    def _registered(self, images: list[np.ndarray]) -> _Registered:
        """:meth:`registered`'s floats, the indices of the sources stretched as raw thermal frames,
        and the source the others were registered onto."""
        floats, stretched = self._mapped(images)
        anchors = self._anchors(floats)
        warps: dict[int, np.ndarray] = {}
        floats = align_images(floats, self.options.align, reference=anchors.frame, on_warp=warps.__setitem__)
        replaced: dict[int, float] = {}
        if self.options.deghost:
            floats = deghost(floats, reference=anchors.reference, on_replaced=replaced.__setitem__)
        aligned = self.options.align != "none"
        return _Registered(floats, tuple(stretched), anchors.frame,
                           tuple(warps.get(i) for i in range(len(floats))) if aligned else (),
                           tuple(replaced.get(i, 0.0) for i in range(len(floats))) if self.options.deghost else ())

    def _mapped(self, images: list[np.ndarray]) -> tuple[list[np.ndarray], list[int]]:
        """The sources as floats in [0, 1], raw thermal frames stretched and mapped by the rig (not
        yet registered), and the indices of those stretched."""
        floats, stretched = stretch_sources(images, [color.to_float(im) for im in images], self.options.stretch,
                                            self.options.stretch_shared)
        if self.options.rig is not None:
            floats = self.options.rig.apply(floats)
        return floats, stretched

    def _anchors(self, floats: list[np.ndarray]) -> _Anchors:
        """The source the others are registered onto and deghost's reference. With order "given"
        the first (pairs and rigs: its pixel grid is the output's), and deghost picks its own; else
        (brackets sorted by brightness) the best exposed for both, so the files' order does not move
        the framing. Measured once, and only when align or deghost needs it (it reads every source)."""
        if self.options.order == "given" or (self.options.align == "none" and not self.options.deghost):
            return _Anchors()
        best = reference_index(floats)
        return _Anchors(best, best)

    def measure_palette(self, *images: np.ndarray) -> tuple[float, float] | None:
        """The infrared values (low, high) the palette spans for ``images`` as :meth:`fuse` measures
        them (:func:`defusion.fusion.color.palette_range`; on what a rig's infrared camera sees), to
        keep for a stream: ``replace(fuser, options=replace(fuser.options, palette_range=...))``;
        None for a flat infrared image (a shutter frame), which spans nothing."""
        registered = self._registered(self._checked(images))
        low, high = color.palette_range(*self._thermal(registered.floats, registered.stretched))
        return (low, high) if high > low else None

    def _thermal(self, floats: list[np.ndarray], stretched) -> tuple[np.ndarray, np.ndarray | None]:
        """The infrared image the palette colours (``options.infrared``, else :func:`color.thermal_source`)
        and, where a rig's infrared camera does not see all of the first camera's view, the HxW
        weight of its own view (:meth:`Rig.seen`; None: it sees all, or it is the first camera)."""
        infrared = self.options.infrared
        if infrared is not None and infrared >= len(floats):
            raise FusionInputError(f"infrared image {infrared + 1} was asked for, but {len(floats)} images were "
                                   "given")
        if infrared is None:
            infrared, _ = color.thermal_source(floats, stretched)
        rig = self.options.rig
        return floats[infrared], rig.seen()[infrared - 1] if rig is not None and infrared > 0 else None

    def _prepare(self, images) -> _Prepared:
        images = self._checked(images)
        dtype = color.output_dtype(*images)
        registered = self._registered(images)
        floats, stretched, frame = registered.floats, registered.stretched, registered.frame
        done = {"warps": registered.warps, "ghosts": registered.ghosts}  # Fusion.warps, Fusion.ghosts
        size = images[0].shape[:2]
        mode = color.plan_mode(floats, self.options.color)
        if self.options.palette != "none":  # the infrared image in false colour, the fusion's detail over it
            thermal, seen = self._thermal(floats, stretched)
            colours = color.thermal_colours(thermal, self.options.palette, self.options.palette_range, seen)
            inputs = [color.as_rgb(color.luminance(f)) for f in floats]
            return _Prepared("grey", inputs, None, dtype, size, floats, colours, stretched=stretched, frame=frame,
                             **done)
        if mode == "rgb":
            return _Prepared(mode, [color.as_rgb(f) for f in floats], None, dtype, size, floats,
                             stretched=stretched, frame=frame, **done)
        inputs = [color.as_rgb(color.luminance(f)) for f in floats]
        # blended in the order the images are fused in: a bracket sorted by brightness then gives the
        # same pixels whatever order its files came in (a float sum's rounding depends on its order)
        ranked = [floats[i] for i in input_ranking(inputs, self.options.order)]
        chroma = color.blend_chroma(ranked) if mode == "luma" else None
        return _Prepared(mode, inputs, chroma, dtype, size, floats, stretched=stretched, frame=frame, **done)

    def _finish(self, rgb: np.ndarray, prepared: _Prepared) -> np.ndarray:
        if prepared.palette is not None:
            return color.from_float(color.with_detail(prepared.palette, rgb.mean(axis=2)), prepared.dtype)
        if prepared.mode == "rgb":
            out = rgb
        else:
            y = rgb.mean(axis=2)
            out = y if prepared.mode == "grey" else color.with_chroma(y, prepared.chroma)
        return color.from_float(out, prepared.dtype)

    def _finish_selected(self, weights: list[np.ndarray], prepared: _Prepared) -> np.ndarray:
        """The sources' own pixels weighed by ``weights`` (one HxW map per source, in the caller's
        order): colour comes with them, except that a grey source among colour ones takes the
        colour sources' chroma, as in luminance fusion."""
        sources = prepared.sources
        if prepared.mode == "grey":
            out = weighted_sum(weights, [color.luminance(s) for s in sources])
        elif prepared.mode == "luma" and any(color.is_grey(s) for s in sources):
            y = weighted_sum(weights, [color.luminance(s) for s in sources])
            out = color.with_chroma(y, prepared.chroma)
        else:
            out = weighted_sum(weights, [color.as_rgb(s)[..., :3] for s in sources])
        return color.from_float(out, prepared.dtype)

    @staticmethod
    def _component(rgb: np.ndarray, prepared: _Prepared) -> np.ndarray:
        """A projection as an image: RGB in rgb mode, else the grey plane that was fused."""
        return color.from_float(rgb if prepared.mode == "rgb" else rgb.mean(axis=2), prepared.dtype)

    @torch.inference_mode()
    def _project(self, a: np.ndarray, b: np.ndarray, on_tile=None, unique_gain: bool = True):
        """Run DeNet on two HxWx3 float images; returns its four projections as HxWx3 float.
        ``unique_gain`` False: unique gain 1 whatever the options say (the detail gain as they say)."""
        dtype = torch.float16 if self.half else torch.float32
        x1, x2 = (torch.from_numpy(np.ascontiguousarray(im)).permute(2, 0, 1)[None].to(self.device, dtype)
                  for im in (a, b))
        scale = self.options.scale
        gain = float(self.options.unique_gain) if unique_gain else 1.0
        detail_gain = self.options.resolved_detail_gain
        head_gains = {"unique_gain": gain}
        if detail_gain != default_detail_gain(gain):
            head_gains["detail_gain"] = detail_gain  # networks older than it need not take it
        net = functools.partial(self.model, **head_gains)
        net = net if scale == 1 else _Rescaled(net, scale)
        tile, overlap = self.tile_layout(*a.shape[:2])
        if tile:
            outs = run_tiled(net, x1, x2, tile, overlap, on_tile)
        else:
            outs = run_padded(net, x1, x2)
            if on_tile:
                on_tile()
        arrays = [o[0].float().clamp(0, 1).permute(1, 2, 0).cpu().numpy() for o in outs]
        return _Projections(*arrays)


@dataclass(frozen=True)
class _Rescaled:
    """The network run at ``scale`` times the resolution of what it is given (one tile or the
    whole padded image): sources up-sampled, projections averaged back down."""

    model: Callable
    scale: int

    def __call__(self, x1: torch.Tensor, x2: torch.Tensor) -> list[torch.Tensor]:
        outs = self.model(upsample(x1, self.scale), upsample(x2, self.scale))
        return [downsample(o, self.scale) for o in outs]


def _as_image(image, name: str) -> np.ndarray:
    """``image`` as a pixel array fusion takes (grey + alpha as its grey plane, as RGBA's alpha is
    dropped later; a torch tensor as its values on the CPU, :func:`~defusion.io.arrays.tensor_pixels`;
    a Pillow image whose values are no levels, a palette one, converted: ``_PILLOW_CONVERSIONS``; one of
    32-bit integers or floats read as read_image reads such a file: ``_PILLOW_NUMBER_MODES``); a
    path, or an array that is not HxW or HxWxC, is refused with a library error."""
    if isinstance(image, (str, os.PathLike)):
        raise FusionTypeError(f"{name} is a path ({image}); fuse takes pixel arrays: read files with "
                              "defusion.io.images.read_image")
    array = np.asarray(_pixel_values(image, name))
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in _CHANNELS)):
        got = f"shape {array.shape}" if array.ndim else type(image).__name__  # None, a number: no array at all
        raise FusionInputError(f"{name} must be HxW or HxWxC with C in {', '.join(map(str, _CHANNELS))} (grey, "
                               f"grey + alpha, RGB, RGBA); got {got}{channels_first_hint(array.shape, _CHANNELS)}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise FusionInputError(f"{name} has no pixels (shape {array.shape})")
    return array[..., 0] if array.ndim == 3 and array.shape[2] == _GREY_ALPHA else array


def _pixel_values(image: object, name: str) -> object:
    """A torch tensor as its NumPy values (detached, on the CPU, bfloat16 as float32), and a Pillow
    image in a mode whose values are no levels (``_PILLOW_CONVERSIONS``) converted; anything else as it is."""
    if is_tensor(image):
        try:
            return tensor_pixels(image)
        except TypeError:
            raise FusionTypeError(f"images must be uint8, uint16 or float in [0, 1]; got {name} of dtype "
                                  f"{str(image.dtype).removeprefix('torch.')}") from None
    pillow = sys.modules.get("PIL.Image")
    if pillow is not None and isinstance(image, pillow.Image):
        if image.mode in _PILLOW_CONVERSIONS:
            return image.convert(_PILLOW_CONVERSIONS[image.mode])
        if image.mode in _PILLOW_NUMBER_MODES:
            from defusion.io.images import ImageReadError, pillow_levels  # only here: fusion needs no Pillow
            try:
                return pillow_levels(image, name)
            except ImageReadError as exc:
                raise FusionInputError(str(exc)) from None
    return image


def _warn_eight_bit_values(image: np.ndarray, name: str) -> None:
    """Warn that colour source ``name`` holds 8-bit values in 16 bits (:func:`~defusion.io.arrays.
    holds_eight_bit_values`): read as 16-bit data it fuses near black. A grey one is left alone: it is
    stretched as a raw sensor frame (``options.stretch``), as its narrow band of values suggests.
    Colour as its 8-bit values show it (R, G and B more than a few levels of 255 apart): measured
    against 65535, such values all look grey."""
    if holds_eight_bit_values(image) and not color.is_grey(image, scale=MAX_8BIT):
        warnings.warn(f"{name}: a colour uint16 image whose values are all <= {MAX_8BIT} (8-bit values in 16 "
                      "bits?) is fused as 16-bit data, near black; pass it as uint8 (.astype(np.uint8)), or scaled "
                      "to 16 bits (.astype(np.uint16) * 257)", UserWarning, stacklevel=caller_stacklevel())


def _pair_weights(out: "_Projections", a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The first image's HxW weight, read from the pair's unique projections."""
    guide = (a.mean(axis=2) + b.mean(axis=2)) / 2
    return decision_map(out.unique1.mean(axis=2), out.unique2.mean(axis=2), guide)


def _unrank(weights: list[np.ndarray], order: list[int]) -> list[np.ndarray]:
    """Weights listed in fusion ``order`` back in the callers' order of the images."""
    unranked: list[np.ndarray] = [np.empty(0)] * len(order)
    for weight, index in zip(weights, order):
        unranked[index] = weight
    return unranked


class _Projections(NamedTuple):
    common: np.ndarray
    unique1: np.ndarray
    unique2: np.ndarray
    fused: np.ndarray


__all__ = ["Fuser", "Fusion", "Selection", "Decomposition", "resolve_device", "input_ranking", "SizeMismatchError",
           "FusionInputError", "FusionTypeError", "OptionsError",
           # re-exported from defusion.fusion.options, where they are defined
           "StackOrder", "STACK_ORDERS", "InputOrder", "INPUT_ORDERS", "DEFAULT_SCALE", "DEFAULT_UNIQUE_GAIN",
           "MAX_UNIQUE_GAIN", "MAX_DETAIL_GAIN", "Task", "TASKS", "TASK_OPTIONS", "PAPER_OPTIONS", "SOURCES_SCALE",
           "MIN_TILE", "smallest_tile", "TASK_FIELDS", "check_unique_gain", "check_detail_gain", "FuseOptions",
           "default_scale", "task_options"]

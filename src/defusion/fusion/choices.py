"""The fusion core's named choices, bounds and defaults, without PyTorch, OpenCV or NumPy: the
command line's options offer and check them before any model loads, and ``--help`` stays fast;
:mod:`defusion.fusion.options` (FuseOptions), :mod:`defusion.fusion.color`,
:mod:`defusion.fusion.align`, :mod:`defusion.fusion.selection`, :mod:`defusion.fusion.stretch`,
:mod:`defusion.fusion.rig`, :mod:`defusion.fusion.export` and the server check and use them.
Each is defined here once; the modules that use them import them from here."""

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
#: Colour modes (:mod:`defusion.fusion.color`): ``auto`` (= ``ycbcr``), fuse two colour sources in
#: RGB (the paper's setting), or fuse luminance and take chroma from the sources.
ColorMode = Literal["auto", "rgb", "ycbcr"]
COLOR_MODES: tuple[str, ...] = get_args(ColorMode)
#: False-colour palettes for the infrared image (OpenCV's colour maps of those names); none: off.
Palette = Literal["none", "inferno", "magma", "plasma", "hot", "jet", "turbo"]
PALETTES: tuple[str, ...] = get_args(Palette)
#: The PALETTES perceptually ordered and colour-blind friendly (matplotlib's viridis family): their
#: lightness (CIELAB L* of OpenCV's tables) rises evenly from end to end, inferno's and magma's 0 to 98,
#: plasma's 16 to 95, so a warmer place always reads brighter, in grey print and to colour-blind eyes.
#: The others do not: jet's and turbo's (rainbows) lightness rises and falls (jet 13 at its blue end, 26 at
#: its red one, brighter in between), hot's rises in uneven steps through red and yellow.
ORDERED_PALETTES: tuple[str, ...] = ("inferno", "magma", "plasma")
#: What --palette's help says of them, in a few words.
PALETTE_ORDER_HELP = ("inferno, magma and plasma (the viridis family) are perceptually ordered and colour-blind "
                      "friendly; jet and turbo (rainbows) and hot are not: their lightness does not rise evenly "
                      "with the value")
#: How a palette's range (FuseOptions.palette_range) is written: the infrared values it spans, 0 to 1.
PALETTE_RANGE_FORM = "LOW,HIGH with 0 <= LOW < HIGH <= 1"
#: Decimals kept of a palette bound written out (a millionth of the range: far under a colour map's step).
PALETTE_DECIMALS = 6


def palette_span(text: str) -> tuple[float, float]:
    """A palette's range written ``LOW,HIGH`` (the infrared values, 0 to 1, the colour map spans:
    a server's ``X-Defusion-Palette-Range``, ``defusion video``'s note) as numbers; a ValueError
    saying the form otherwise. One reading for ``--palette-range`` and ``?palette_range=``.

    Example:
        >>> palette_span("0.1,0.85")
        (0.1, 0.85)
    """
    parts = text.split(",")
    try:
        low, high = (float(part) for part in parts) if len(parts) == 2 else (float("nan"),) * 2
    except ValueError:
        low = high = float("nan")
    if not 0.0 <= low < high <= 1.0:  # False for NaN too
        from defusion.fusion.errors import OptionsError  # light: the library's error bases alone

        raise OptionsError(f"give {PALETTE_RANGE_FORM}, got {text!r}")
    return low, high


def palette_span_text(span: tuple[float, float]) -> str:
    """A palette's range written as :func:`palette_span` reads it back (``--palette-range``,
    ``?palette_range=``): each bound to :data:`PALETTE_DECIMALS` decimals, no trailing zeros.

    Example:
        >>> palette_span_text((0.125, 0.8750004))
        '0.125,0.875'
    """
    return ",".join(decimal_text(bound, PALETTE_DECIMALS) for bound in span)


def decimal_text(value: float, places: int) -> str:
    """``value`` with at most ``places`` decimals, without trailing zeros: a bound written for a
    client or a user to send back (a palette's range, a stretch's counts).

    Example:
        >>> decimal_text(7002.50, 2), decimal_text(0.0, 6)
        ('7002.5', '0')
    """
    return f"{value:.{places}f}".rstrip("0").rstrip(".") or "0"


#: How more than two images are combined by a network that fuses pairs (FuseOptions.stack).
StackOrder = Literal["balanced", "sequential"]
STACK_ORDERS: tuple[str, ...] = get_args(StackOrder)
#: How inputs are ordered before they are fused: as given, or by mean brightness (``exposure``:
#: a pair darker first, more brightest first; see FuseOptions.order).
InputOrder = Literal["given", "bright-first", "dark-first", "exposure"]
INPUT_ORDERS: tuple[str, ...] = get_args(InputOrder)
#: Raw sensor frames (:mod:`defusion.fusion.stretch`): ``auto`` stretches narrow-range 16-bit grey
#: sources (the default); ``none`` uses the values as they are.
Stretch = Literal["auto", "none"]
STRETCHES: tuple[str, ...] = get_args(Stretch)
#: Motion models of a camera rig (:mod:`defusion.fusion.rig`), simplest first: a shift; + one scale
#: and a rotation (cameras of different resolution, parallel axes); + shear and unequal scales;
#: + perspective (axes not parallel, or a lens of different focal length off-centre).
RigMotion = Literal["translation", "similarity", "affine", "homography"]
#: Each rig motion and the fewest point pairs that fix it (its degrees of freedom, two per pair).
RIG_MOTIONS: dict[str, int] = dict(zip(get_args(RigMotion), (1, 2, 3, 4)))
#: The default rig motion: robust to the pixel or two of error in points marked by hand, and exact
#: for parallel cameras of any resolution looking at a distant scene.
DEFAULT_RIG_MOTION: RigMotion = "affine"

#: The unique embeddings are weighed by this g in the fused image unless told otherwise
#: (FuseOptions.unique_gain, DeNet.forward); the paper's Pr, as trained, is g = 1.
DEFAULT_UNIQUE_GAIN = 1.25
#: Largest unique gain accepted: far above 1 the fused image overshoots into halos.
MAX_UNIQUE_GAIN = 4.0
#: Largest detail gain accepted: the default detail gain of the largest unique gain.
MAX_DETAIL_GAIN = 2 * MAX_UNIQUE_GAIN - 1

#: Kinds of pair: infrared-visible, multi-exposure, multi-focus.
Task = Literal["ivf", "mef", "mff"]
TASKS: tuple[str, ...] = get_args(Task)
#: What each kind of pair fuses best with, where it differs from the defaults (FuseOptions.for_task).
#: Infrared-visible pairs take unique gain 1.5: with the shipped weights better than 1.25 on 10 of 17
#: metrics on both TNO and VIFB (contrast and transferred detail up, closeness to the sources down),
#: VIFB ranks in the top half on Qabf, SSIM, MI and VIF; 1.75 fell to 19th of 26 on VIFB's SSIM.
#: Exposure and focus pairs wash out above 1.25; they keep the unique embeddings' local mean at the
#: paper's 1 and weigh only their fine detail up, 1.5: higher than the general defaults on MFIFB's
#: Qabf, SSIM and sharpness and on MEFB's MEF-SSIM and Qabf (docs/benchmarks.md, "Per-task defaults").
#: Exposures are sorted by brightness (order "exposure"), so that their files' order does not matter:
#: a pair darker first, as MEFB gives them (brighter first scored lower on all 6 metrics of its first
#: 8 pairs), a bracket brightest first (higher than darkest first for 4 and 5 exposures at these
#: gains; docs/benchmarks.md, "More than two inputs").
#: Focus stacks take their pixels from the sources (pixels "sources", so options.SOURCES_SCALE unless
#: one is given): against a known all-in-focus truth 62-68 dB PSNR where the reconstruction reaches
#: 31-35 dB (benchmarks/focus_stack.py), on MFIFB Qabf MFIFB_QABF_SOURCES against MFIFB_QABF_NETWORK,
#: about MFIFB_SOURCES_SPEEDUP times faster; the reconstruction scores higher on the reference-free
#: metrics that reward a mix of both sources (SSIM, CC, VIF, ...; docs/benchmarks.md). pixels="network"
#: keeps the reconstruction, at these gains.
#: MFIFB's Qabf over its 105 pairs, every result stored as the published ones are (docs/benchmarks.md's
#: MFIFB table, scored 2026-12-06): --task mff's default, the sources' own pixels at --scale 1 (its
#: ``defusion`` row, 0.7179), and the network's reconstruction at the focus task's gains and --scale 2
#: (``defusion-network``, 0.6393); and how many times faster the first fused a pair there (s/pair 6.53
#: against 28.1). ``defusion fuse --help`` says them (--pixels); tests/cli/test_fuse_help_mfifb_figures_cli.py
#: checks them against that table, so the help cannot drift from it again (it said 0.780 against 0.684,
#: figures of an earlier, lossless scoring).
MFIFB_QABF_SOURCES = 0.718
MFIFB_QABF_NETWORK = 0.639
MFIFB_SOURCES_SPEEDUP = 4
TASK_OPTIONS: dict[str, dict] = {
    "ivf": {"unique_gain": 1.5},
    "mef": {"unique_gain": 1.0, "detail_gain": 1.5, "order": "exposure"},
    "mff": {"unique_gain": 1.0, "detail_gain": 1.5, "pixels": "sources"},
}

#: The smallest tile worth a network pass (network input pixels): smaller ones cost more in
#: overlap and set-up than they fuse.
MIN_TILE = 64
#: Tiles overlap by this many network input pixels unless told otherwise (FuseOptions.overlap): the
#: seams are blended across it.
DEFAULT_OVERLAP = 64
#: Network inputs of more pixels than this (1 MP, after the scale, each side padded to the network's
#: stride as a pass runs it: a 1-row image is 8 rows) are tiled unless told otherwise
#: (FuseOptions.auto_tile_pixels), so memory stays bounded.
AUTO_TILE_PIXELS = 1024 * 1024
#: The tile size (network input pixels) automatic tiling uses (FuseOptions.auto_tile_size); its square
#: bounds each automatic pass, also a thin image's, whose tiles span its short side and grow along the
#: long one (defusion.fusion.tiling.automatic_tile_shape).
AUTO_TILE_SIZE = 768


def smallest_tile(overlap: int) -> int:
    """The smallest tile (network input pixels) for ``overlap``: tiles overlap by under half their
    size, and none is under :data:`MIN_TILE`.

    Example:
        >>> smallest_tile(8), smallest_tile(64)
        (64, 129)
    """
    return max(MIN_TILE, 2 * overlap + 1)


#: The devices the command line offers (``--device``); ``auto`` picks CUDA where PyTorch sees one
#: (:func:`defusion.fusion.device.resolve_device`, which also takes ``cuda:N``), never ``mps`` (an
#: Apple silicon GPU, fp32 only, untested): that is taken when named.
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda", "mps")
#: The device of ``--device`` unless told (``defusion ui`` passes it on to the web UI).
DEFAULT_DEVICE = "auto"

#: Inference engines of :mod:`defusion.fusion.runtime`.
Runtime = Literal["auto", "torch", "onnxruntime", "compile", "compile-bf16"]
RUNTIMES: tuple[str, ...] = get_args(Runtime)
#: The runtime the CLI, the server, the web UI and ``Fuser.from_pretrained`` use unless told.
DEFAULT_RUNTIME: Runtime = "auto"
#: The runtimes an ONNX export runs on (it is ONNX Runtime's model; nothing to export or compile).
ONNX_RUNTIMES: tuple[str, ...] = ("auto", "onnxruntime")
#: The suffix of an ONNX export, which the loaders take in place of a weights file.
ONNX_SUFFIX = ".onnx"
#: The ONNX opset an export targets unless told (``defusion export --opset``, and the export that
#: ``--runtime onnxruntime`` caches).
DEFAULT_OPSET = 17
#: The batch, height and width an export is checked against PyTorch at unless told
#: (:func:`defusion.fusion.export.parity`, ``defusion export``): sides not multiples of 8, so the
#: export's padding is checked too.
PARITY_SIZE: tuple[int, int, int] = (2, 37, 53)
#: The names of each export format's files: the suffixes ``defusion export`` and
#: :func:`defusion.fusion.export.export_model` take (docs/serving.md, "Export"), the first the one
#: suggested. Any other is refused.
EXPORT_SUFFIXES: dict[str, tuple[str, ...]] = {"onnx": (".onnx",), "torchscript": (".pt", ".pth", ".ts")}


def is_onnx_export(path: str | Path | None) -> bool:
    """Whether ``path`` names an ONNX export (``defusion export``'s ``.onnx``) rather than weights.

    Example:
        >>> is_onnx_export("denet.ONNX"), is_onnx_export("weights.safetensors"), is_onnx_export(None)
        (True, False, False)
    """
    return path is not None and Path(path).suffix.lower() == ONNX_SUFFIX


__all__ = ["Motion", "MOTIONS", "PixelSource", "PIXEL_SOURCES", "ColorMode", "COLOR_MODES", "Palette", "PALETTES",
           "ORDERED_PALETTES", "PALETTE_ORDER_HELP", "PALETTE_RANGE_FORM", "PALETTE_DECIMALS", "decimal_text",
           "palette_span", "palette_span_text",
           "StackOrder", "STACK_ORDERS", "InputOrder", "INPUT_ORDERS", "Stretch", "STRETCHES", "RigMotion",
           "RIG_MOTIONS", "DEFAULT_RIG_MOTION", "DEFAULT_UNIQUE_GAIN", "MAX_UNIQUE_GAIN",
           "MAX_DETAIL_GAIN", "Task", "TASKS", "MFIFB_QABF_SOURCES", "MFIFB_QABF_NETWORK",
           "MFIFB_SOURCES_SPEEDUP", "TASK_OPTIONS", "MIN_TILE", "DEFAULT_OVERLAP", "AUTO_TILE_PIXELS",
           "AUTO_TILE_SIZE", "smallest_tile", "DEVICES", "DEFAULT_DEVICE", "Runtime", "RUNTIMES", "DEFAULT_RUNTIME",
           "ONNX_RUNTIMES", "ONNX_SUFFIX", "DEFAULT_OPSET", "PARITY_SIZE", "EXPORT_SUFFIXES", "is_onnx_export"]

"""Exporting DeNet to TorchScript and ONNX, and checking the export against PyTorch.

The exported graph is DeNet's forward pass: inputs ``x1``, ``x2`` (B, 3, H, W) float32 in
[0, 1], ``unique_gain`` and ``detail_gain`` (float32 scalars, see :meth:`DeNet.forward`; both 1
is the paper's Pr; :func:`~defusion.model.denet.default_detail_gain` gives the detail gain that
goes with a unique gain); outputs ``common``, ``unique1``, ``unique2``, ``fused`` (B, 3, H, W), unclamped (the
Fuser clamps). Batch, height and width are dynamic, and any height and width run: the graph
mirror-pads its inputs to multiples of 8 (three 2x down-samplings) at the bottom and right, as
:class:`~defusion.fusion.fuser.Fuser` does, and crops its outputs back (:class:`PadToMultiple`).
Each file records the weights it holds (``source_weights``, ``weights_sha256_16``: the first 16 hex
digits of the weights file's SHA-256, see :func:`~defusion.model.weights.weights_digest`) and the
``defusion_version`` that wrote it.

With ``half=True`` the network computes in fp16 (weights stored in fp16: half the file) behind
the same float32 inputs and outputs, so the file drops in wherever the fp32 one runs; it is for
GPUs (ONNX Runtime's CUDA or TensorRT providers, TorchScript on CUDA). On a CPU, ONNX Runtime runs
its fp16 nodes in fp32 (it inserts casts where it lacks fp16 kernels), so it gains nothing there.

A file's name tells its format (:data:`EXPORT_SUFFIXES`, as ``defusion export`` takes them): an
export to another name (``.safetensors``, ``.bin``) is refused before any work. The model is a DeNet
or a :class:`~defusion.fusion.fuser.Fuser` that holds one (``runtime="torch"`` or a GPU's ``auto``).

Example:
    >>> format_for("denet.onnx"), format_for("denet.pt")
    ('onnx', 'torchscript')
    >>> from defusion.fusion.export import export_model
    >>> from defusion.model.registry import create_model
    >>> export_model(create_model("defusion-tiny"), "weights.safetensors")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    defusion.fusion.export.ExportError: weights.safetensors: a .safetensors file holds weights, not an export: ...
"""

from __future__ import annotations

import contextlib
import copy
import json
import reprlib
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Literal

import torch
import torch.nn.functional as F

from defusion import __version__
from defusion.errors import DefusionError
from defusion.fusion.choices import (DEFAULT_OPSET, EXPORT_SUFFIXES,  # torch-free: defusion export --help shows them
                                     PARITY_SIZE)
from defusion.fusion.tiling import run_padded
from defusion.io.atomic import atomic_path
from defusion.io.formats import one_of
from defusion.model.denet import SIZE_MULTIPLE, DeNet, DeNetConfig, default_detail_gain

if TYPE_CHECKING:
    from defusion.fusion.fuser import Fuser
    from defusion.fusion.onnx_runtime import OnnxDeNet

Format = Literal["onnx", "torchscript"]
FORMATS = ("onnx", "torchscript")
INPUT_NAMES = ("x1", "x2", "unique_gain", "detail_gain")
OUTPUT_NAMES = ("common", "unique1", "unique2", "fused")
#: Input size (H, W) traced at export; parity checks at a different size by default.
EXPORT_SIZE = (64, 64)
#: The extra file in a TorchScript export that describes it (JSON).
TORCHSCRIPT_METADATA = "defusion.json"
#: The suffix of a weights file (what :func:`defusion.model.weights.save_weights` writes), not an export.
WEIGHTS_SUFFIX = ".safetensors"
#: The sides an export takes are multiples of this (its metadata's ``size_multiple``): any, since
#: the graph pads to SIZE_MULTIPLE itself. Exports made before 2026-12-06 say SIZE_MULTIPLE.
EXPORT_SIZE_MULTIPLE = 1


class ExportError(DefusionError, ValueError):
    """An export that cannot be made or read back."""


class ExportTypeError(ExportError, TypeError):
    """An export option of the wrong type (``half`` not True or False): an ExportError, and a TypeError
    as Python's own refusal of a wrong argument is."""


def format_for(path: str | Path) -> Format:
    """The format a file name implies: ``.onnx`` is ONNX, anything else TorchScript (what
    :func:`load_exported` reads it as; an export is named by :func:`check_export_path`)."""
    return "onnx" if Path(path).suffix.lower() == ".onnx" else "torchscript"


def check_export_path(path: str | Path, fmt: Format | None = None) -> Format:
    """The format an export to ``path`` is written in: ``fmt``, or (None) the one its suffix names
    (:data:`EXPORT_SUFFIXES`). Refused with an :class:`ExportError`, before any work (a trace takes
    a minute): a name no format has (a ``.safetensors`` name pointed to save_weights), or one of the
    other format's; an unknown ``fmt``.

    Example:
        >>> check_export_path("denet.pth"), check_export_path("denet.onnx", "onnx")
        ('torchscript', 'onnx')
        >>> check_export_path("denet.bin")
        Traceback (most recent call last):
        ...
        defusion.fusion.export.ExportError: denet.bin: an export's name tells its format: .onnx (ONNX) or .pt, .pth or .ts (TorchScript); e.g. denet.onnx
    """
    path = Path(path)
    if fmt is not None and fmt not in FORMATS:
        raise ExportError(f"unknown export format {fmt!r}; choose from {', '.join(FORMATS)}")
    suffix = path.suffix.lower()
    named = {end: name for name, ends in EXPORT_SUFFIXES.items() for end in ends}
    choices = ".onnx (ONNX) or " + one_of(list(EXPORT_SUFFIXES["torchscript"])) + " (TorchScript)"
    if suffix == WEIGHTS_SUFFIX:
        raise ExportError(f"{path}: a {WEIGHTS_SUFFIX} file holds weights, not an export: "
                          "defusion.model.weights.save_weights(model, path) writes one; an export's name ends in "
                          f"{choices}")
    if suffix not in named:
        example = path.with_suffix(EXPORT_SUFFIXES[fmt or "onnx"][0])
        raise ExportError(f"{path}: an export's name tells its format: {choices}; e.g. {example}")
    if fmt is not None and named[suffix] != fmt:
        raise ExportError(f"{path}: a {suffix} file is {named[suffix]}, not {fmt}; name it "
                          f"{path.with_suffix(EXPORT_SUFFIXES[fmt][0])}, or export {named[suffix]}")
    return named[suffix]


#: Largest parity difference an export passes with: fp32 exports match PyTorch to rounding; fp16
#: ones differ by fp16 arithmetic (measured 0.002 on the shipped weights' fused output in eager
#: PyTorch on the CPU, 0.0042 on a unique projection: about one grey level).
PARITY_TOLERANCE = {"fp32": 1e-3, "fp16": 2e-2}
#: The (unique gain, detail gain) an export is checked at, after its trace and by :func:`parity`:
#: other than the traced 1 and 1, and a detail gain other than the default for that unique gain
#: (:func:`~defusion.model.denet.default_detail_gain` gives 2.0 for 1.5), so that a gain frozen
#: into the graph as a constant shows as a difference.
PARITY_GAINS = (1.5, 1.75)


def _check_half(half: object) -> None:
    """An :class:`ExportTypeError` unless ``half`` is True or False: anything else (a metadata dict, a
    precision name) would be taken as true and export fp16.

    Example:
        >>> _check_half({"note": "mine"})
        Traceback (most recent call last):
        ...
        defusion.fusion.export.ExportTypeError: half must be True (fp16 compute) or False, got dict {'note': 'mine'}; the file's metadata goes in metadata=
    """
    if not isinstance(half, bool):
        hint = "; the file's metadata goes in metadata=" if isinstance(half, dict) else ""
        raise ExportTypeError(f"half must be True (fp16 compute) or False, got {type(half).__name__} "
                              f"{reprlib.repr(half)}{hint}")


def _prepare(model: DeNet | Fuser) -> DeNet:
    """A float32 CPU copy of ``model`` (unwrapped from DDP) in eval mode: the caller's model keeps its
    dtype, device and mode."""
    return copy.deepcopy(_unwrapped(model)).float().cpu().eval()


def _unwrapped(model: DeNet | Fuser) -> DeNet:
    """The DeNet in ``model``: itself, or what holds it: DDP (``.module``), a Fuser (its ``model``), a
    compiled network (``runtime="compile"``: :class:`~defusion.fusion.runtime.CompiledNet`). An
    :class:`ExportError` for anything else, saying what to pass: a Fuser running an ONNX export
    (``runtime="onnxruntime"``, or ``"auto"`` on a CPU) holds no PyTorch network.

    Example:
        >>> from defusion import Fuser, create_model
        >>> net = create_model("defusion-tiny")
        >>> _unwrapped(Fuser(net)) is net
        True
    """
    from defusion.fusion.fuser import Fuser
    from defusion.fusion.onnx_runtime import OnnxDeNet
    from defusion.fusion.runtime import CompiledNet

    network = model.model if isinstance(model, Fuser) else model
    if isinstance(network, OnnxDeNet):
        raise ExportError(f"this Fuser runs an ONNX export on ONNX Runtime ({network.path}: runtime 'onnxruntime', or "
                          "'auto' on a CPU) and holds no PyTorch network to export: copy that file, or export "
                          "Fuser.from_pretrained(runtime='torch'), or defusion.model.weights.load_weights(path)")
    if isinstance(network, CompiledNet):  # torch.compile's module keeps the network it compiled
        network = getattr(network.compiled, "_orig_mod", network)
    network = getattr(network, "module", network)  # DDP
    if not isinstance(getattr(network, "cfg", None), DeNetConfig):
        raise ExportError(f"export takes a DeNet (defusion.create_model(name, pretrained=True), "
                          "defusion.model.weights.load_weights(path)) or a Fuser holding one (runtime 'torch'), "
                          f"got {type(model).__name__}")
    return network


class HalfCompute(torch.nn.Module):
    """``model`` computing in fp16 behind float32 inputs and outputs (what ``half=True`` exports)."""

    def __init__(self, model: DeNet) -> None:
        super().__init__()
        self.model = _prepare(model).half()
        self.cfg = _unwrapped(model).cfg

    def forward(self, x1: torch.Tensor, x2: torch.Tensor, unique_gain: torch.Tensor,
                detail_gain: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.model(x1.half(), x2.half(), unique_gain.half(), detail_gain.half())
        return tuple(o.float() for o in out)


class PadToMultiple(torch.nn.Module):
    """``network`` behind the Fuser's padding, inside the graph: inputs mirror-padded at the bottom and
    right to multiples of SIZE_MULTIPLE, outputs cropped back, so an export takes any height and width
    and gives what :func:`~defusion.fusion.tiling.run_padded` gives (reflect, or replicate where a side
    is shorter than its padding, as :func:`~defusion.fusion.tiling.pad_to_multiple`).

    The padding is a gather by indices computed from the input's shape with tensor operations only
    (no Python ints, no device constants), so a trace keeps it dynamic and records no device (the
    indices are made on the input's; not yet run on a GPU).

    Example:
        >>> padded = PadToMultiple(lambda x1, x2, g, d: (x1, x2, x1 + x2, x1 * g))
        >>> [tuple(o.shape[-2:]) for o in padded(torch.rand(1, 3, 5, 9), torch.rand(1, 3, 5, 9), 1.0, 1.0)]
        [(5, 9), (5, 9), (5, 9), (5, 9)]
    """

    def __init__(self, network: torch.nn.Module, multiple: int = SIZE_MULTIPLE) -> None:
        super().__init__()
        self.network = network
        self.multiple = multiple

    def forward(self, x1: torch.Tensor, x2: torch.Tensor, unique_gain: torch.Tensor,
                detail_gain: torch.Tensor) -> tuple[torch.Tensor, ...]:
        shape = torch._shape_as_tensor(x1)  # a tensor: the trace records the sizes, not their values
        height, width = shape[2], shape[3]
        pad_h, pad_w = (-height) % self.multiple, (-width) % self.multiple
        reflect = (pad_h < height) & (pad_w < width)  # else replicate, as pad_to_multiple
        rows = self._indices(x1[0, 0, :, 0], height, pad_h, reflect)
        cols = self._indices(x1[0, 0, 0, :], width, pad_w, reflect)
        outs = self.network(*(x.index_select(2, rows).index_select(3, cols) for x in (x1, x2)),
                            unique_gain, detail_gain)
        return tuple(o[..., :height, :width] for o in outs)

    def _indices(self, line: torch.Tensor, size: torch.Tensor, pad: torch.Tensor,
                 reflect: torch.Tensor) -> torch.Tensor:
        """Indices ``0 .. size + pad - 1`` into a side of ``size`` (on ``line``'s device), those past its
        end mirrored (``reflect``) or repeating its last."""
        ones = F.pad(torch.ones_like(line, dtype=torch.long), (0, self.multiple), value=1)
        index = (torch.cumsum(ones, 0) - 1)[: size + pad]
        over = (index - (size - 1)).clamp(min=0)
        return index - over * (1 + reflect.long())


def _network(model: DeNet, half: bool) -> torch.nn.Module:
    """What is exported: a copy of ``model`` (the caller's keeps its state) behind :class:`PadToMultiple`,
    its parameters not requiring grad, so that a plain call of the export builds no autograd graph (a
    TorchScript file keeps each parameter's ``requires_grad``: with it, a 1x3x384x384 call held about
    2.9x the memory of one under ``torch.inference_mode()``, 2655 MB against 922 MB peak RSS)."""
    network = HalfCompute(model) if half else _prepare(model)
    return PadToMultiple(network).eval().requires_grad_(False)


def _example(size: tuple[int, int], batch: int = 1, seed: int = 0,
             unique_gain: float = 1.0, detail_gain: float | None = None) -> tuple[torch.Tensor, ...]:
    h, w = size
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(batch, 3, h, w, generator=g), torch.rand(batch, 3, h, w, generator=g),
            torch.tensor(unique_gain), torch.tensor(default_detail_gain(unique_gain) if detail_gain is None else detail_gain))


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Tracing warns about DeNet's Python shape checks (they become constants), and torch 2.9+
    marks torch.jit as deprecated in favour of torch.export: both expected here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield


def fusion_defaults() -> dict[str, dict[str, float]]:
    """The unique gain, detail gain and inference scale the fusion core runs the network's
    reconstruction at, in general and per task: what an export records so that a pipeline without
    defusion can feed the same (defusion.serving.fuse_with_onnx). For ``mff`` those of
    ``--task mff --pixels network``: the task's default picks the sources' pixels by a decision
    map, which the exported network alone does not give.

    Example:
        >>> fusion_defaults()["ivf"]
        {'unique_gain': 1.5, 'detail_gain': 2.0, 'scale': 2}
    """
    from defusion.fusion.fuser import TASKS, FuseOptions

    def settings(options: FuseOptions) -> dict[str, float]:
        return {"unique_gain": float(options.unique_gain), "detail_gain": options.resolved_detail_gain,
                "scale": options.scale}

    return {"general": settings(FuseOptions()),
            **{task: settings(FuseOptions.for_task(task, pixels="network")) for task in TASKS}}


#: What the inputs hold, for the file's metadata (docs/serving.md, "Fusing without defusion").
INPUT_NOTE = ("x1, x2: B x 3 x H x W float32 in [0, 1], any H and W (the graph mirror-pads bottom/right to "
              "multiples of 8 and crops its outputs back, as the fusion core does); "
              "the fusion core feeds each source's full-range BT.601 luminance repeated into 3 channels and "
              "takes the mean of fused's channels as the fused luminance; unique_gain, detail_gain: float32 "
              "scalars, see fusion_defaults (1 and 1: the paper's Pr). Raw thermal counts (14-bit values in a "
              "16-bit frame) divided by 65535 are a flat dark grey and lose the infrared: stretch them first, as "
              "defusion does (the frame's 0.1 to 99.9 percentiles onto [0, 1]; one mapping for a whole stream)")


def _description(config: DeNetConfig, metadata: dict[str, str] | None, half: bool) -> dict:
    """What an export says about itself: its format and config, the sizes it takes, ``metadata``
    (the weights': ``source_weights``, ``weights_sha256_16``, ``steps``, ``history``, ...; their
    ``precision``, how they were trained, as ``training_precision``), its own compute precision, the
    defusion version that wrote it, its inputs and the fusion core's defaults."""
    carried = dict(metadata or {})
    if "precision" in carried:  # the weights' training precision: not what this file computes in
        carried["training_precision"] = carried.pop("precision")
    return {"format": "defusion-denet", "config": config.to_dict(), "size_multiple": EXPORT_SIZE_MULTIPLE,
            **carried, "precision": "fp16" if half else "fp32", "defusion_version": __version__,
            "inputs": list(INPUT_NAMES), "outputs": list(OUTPUT_NAMES), "input_note": INPUT_NOTE,
            "fusion_defaults": fusion_defaults()}


def export_torchscript(model: DeNet | Fuser, path: str | Path, *, size: tuple[int, int] = EXPORT_SIZE,
                       metadata: dict[str, str] | None = None, half: bool = False) -> Path:
    """Trace ``model`` at ``size`` and save it with ``torch.jit.save``; checked at another size too.
    ``half``: fp16 compute behind float32 inputs and outputs (move it to a GPU to gain from it).
    The file carries a JSON description (config, precision, inputs, outputs, fusion defaults, the
    defusion version and ``metadata``: the weights', see :func:`export_onnx`) as the extra file
    ``TORCHSCRIPT_METADATA``: ``torch.jit.load(path, _extra_files={name: ""})`` reads it. An inference
    export: its parameters do not require grad, so its outputs do not either (no autograd graph is kept).
    ``path`` ends in .pt, .pth or .ts (:func:`check_export_path`); all but ``model`` and ``path`` are
    keywords, as for :func:`export_model`."""
    path = Path(path)
    check_export_path(path, "torchscript")
    _check_half(half)
    config = _unwrapped(model).cfg
    model = _network(model, half)
    example = _example(size)
    # checked at a size that needs padding, another batch and other gains: all stay inputs of the trace
    unique_gain, detail_gain = PARITY_GAINS
    other = _example((size[0] + 2 * SIZE_MULTIPLE + 3, size[1] + SIZE_MULTIPLE - 3), batch=2, seed=1,
                     unique_gain=unique_gain, detail_gain=detail_gain)
    with _quiet(), torch.no_grad():
        traced = torch.jit.trace(model, example, check_inputs=[other], check_tolerance=1e-2 if half else 1e-4)
    description = _description(config, metadata, half)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, _quiet():  # a failed export leaves nothing behind
        torch.jit.save(traced, str(tmp), _extra_files={TORCHSCRIPT_METADATA: json.dumps(description)})
    return path


def export_onnx(model: DeNet | Fuser, path: str | Path, *, opset: int = DEFAULT_OPSET,
                size: tuple[int, int] = EXPORT_SIZE, metadata: dict[str, str] | None = None,
                half: bool = False) -> Path:
    """Export ``model`` to ONNX with dynamic batch, height and width (TorchScript-based exporter).

    The model's config (JSON), its precision (``fp32`` or, with ``half``, ``fp16``), the defusion
    version and ``metadata`` (the weights': ``source_weights``, ``weights_sha256_16``, ...) are
    stored in the file's metadata_props, so :class:`~defusion.fusion.onnx_runtime.OnnxDeNet` knows
    what it runs. ``path`` ends in .onnx (:func:`check_export_path`); all but ``model`` and ``path``
    are keywords, as for :func:`export_model`.
    """
    import onnx

    path = Path(path)
    check_export_path(path, "onnx")
    _check_half(half)
    config = _unwrapped(model).cfg
    model = _network(model, half)
    dynamic = {name: {0: "batch", 2: "height", 3: "width"} for name in ("x1", "x2", *OUTPUT_NAMES)}
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:  # a failed export leaves nothing behind
        with _quiet(), torch.no_grad():
            torch.onnx.export(model, _example(size), str(tmp), dynamo=False, opset_version=opset,
                              input_names=list(INPUT_NAMES), output_names=list(OUTPUT_NAMES),
                              dynamic_axes=dynamic, do_constant_folding=True)
        proto = onnx.load(str(tmp))
        proto.doc_string = INPUT_NOTE
        for key, value in _description(config, metadata, half).items():
            if key in ("inputs", "outputs"):  # the graph's own input and output names say them
                continue
            entry = proto.metadata_props.add()
            entry.key, entry.value = key, value if isinstance(value, str) else json.dumps(value)
        onnx.checker.check_model(proto)
        onnx.save(proto, str(tmp))
    return path


def export_model(model: DeNet | Fuser, path: str | Path, *, fmt: Format | None = None, opset: int = DEFAULT_OPSET,
                 metadata: dict[str, str] | None = None, half: bool = False) -> Path:
    """Export ``model`` (a DeNet, or a Fuser's: ``Fuser.from_pretrained(runtime="torch")``) to ``fmt``
    (default: the one ``path``'s suffix names: .onnx, or .pt, .pth, .ts for TorchScript; another name
    is refused, :func:`check_export_path`); ``half``: fp16 compute (True or False).

    All but ``model`` and ``path`` are keywords, in one order for the three exporters (``fmt``,
    ``opset``, ``size``, ``metadata``, ``half``; each takes those it has): passed by position, a
    ``metadata`` dict where another exporter takes ``half`` made an fp16 export without it.

    Example:
        >>> import pathlib, tempfile
        >>> from defusion import Fuser, create_model
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     export_model(Fuser(create_model("defusion-tiny")), pathlib.Path(folder) / "tiny.pt").name
        'tiny.pt'
    """
    fmt = check_export_path(path, fmt)  # before the network is looked at: a trace takes a while
    _check_half(half)
    _unwrapped(model)  # a model that holds no network: said before anything is written
    if fmt == "onnx":
        return export_onnx(model, path, opset=opset, metadata=metadata, half=half)
    return export_torchscript(model, path, half=half, metadata=metadata)


def load_exported(path: str | Path, fmt: Format | None = None) -> OnnxDeNet | torch.jit.ScriptModule:
    """A callable ``(x1, x2, unique_gain, detail_gain) -> 4 tensors`` running an exported file on the CPU."""
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"exported model not found: {path}")
    fmt = fmt or format_for(path)
    if fmt == "onnx":
        from defusion.fusion.onnx_runtime import OnnxDeNet

        return OnnxDeNet(path, device="cpu")
    try:
        with _quiet():
            return torch.jit.load(str(path), map_location="cpu").eval()
    except Exception as exc:  # torch raises RuntimeError/ValueError variants for bad files
        raise ExportError(f"cannot load TorchScript model {path}: {exc}") from None


def parity(model: DeNet | Fuser, path: str | Path, fmt: Format | None = None,
           size: tuple[int, int, int] = PARITY_SIZE, seed: int = 0, unique_gain: float = PARITY_GAINS[0],
           detail_gain: float = PARITY_GAINS[1]) -> float:
    """Largest absolute difference, over the four outputs, between ``model`` and its export.

    Runs both on random inputs of ``size`` = (batch, height, width; any height and width: ``model``
    runs padded, as the Fuser runs it), by default a batch and a size other than the export's, so it also checks the dynamic axes, and at gains other than
    the traced 1 (and a detail gain other than the default for that unique gain), so it checks
    that both are inputs, not constants.
    """
    model = _prepare(model)
    batch, h, w = size
    x1, x2, *gains = _example((h, w), batch=batch, seed=seed, unique_gain=unique_gain, detail_gain=detail_gain)
    exported = load_exported(path, fmt)
    with torch.no_grad():
        ours = run_padded(lambda a, b: model(a, b, *gains), x1, x2)  # as the Fuser runs it, at any size
        theirs = exported(x1, x2, *gains)
    if len(theirs) != len(OUTPUT_NAMES):
        raise ExportError(f"{path}: expected {len(OUTPUT_NAMES)} outputs, got {len(theirs)}")
    return max(float((a - b.to(a.dtype)).abs().max()) for a, b in zip(ours, theirs))


__all__ = ["EXPORT_SUFFIXES", "FORMATS", "PARITY_TOLERANCE", "WEIGHTS_SUFFIX", "ExportError", "ExportTypeError", "PARITY_GAINS", "check_export_path", "HalfCompute", "PadToMultiple", "export_model", "export_onnx", "export_torchscript", "format_for",
           "load_exported", "parity", "TORCHSCRIPT_METADATA", "fusion_defaults"]

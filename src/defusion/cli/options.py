"""Options shared by the sub-commands that run the fusion model (fuse, video, serve)."""

from __future__ import annotations

import argparse
import os
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from defusion.cli.errors import UserError
from defusion.fusion.choices import (  # torch-free: offered and checked before any model loads
    AUTO_TILE_PIXELS, COLOR_MODES, DEFAULT_DEVICE, DEFAULT_OVERLAP, DEFAULT_RUNTIME, DEFAULT_UNIQUE_GAIN, DEVICES,
    MAX_DETAIL_GAIN, MAX_UNIQUE_GAIN, MIN_TILE, ONNX_RUNTIMES, PALETTE_ORDER_HELP, PALETTES, RUNTIMES, STRETCHES, TASK_OPTIONS, TASKS,
    is_onnx_export, palette_span, smallest_tile)

if TYPE_CHECKING:
    from defusion.fusion.fuser import Fuser
    from defusion.fusion.rig import Rig

#: The quick-test network (defusion train --model defusion-tiny), whose weights are not for fusing.
QUICK_TEST_MODEL = "defusion-tiny"


def positive_int(text: str) -> int:
    """argparse type: an integer of 1 or more (a clear usage error otherwise)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


#: The TCP ports a server can listen on (``--port`` of defusion serve and defusion ui).
MIN_PORT, MAX_PORT = 1, 65535


def tcp_port(text: str) -> int:
    """argparse type: a TCP port, a whole number from 1 to 65535.

    Example:
        >>> tcp_port("8501")
        8501
        >>> tcp_port("0")
        Traceback (most recent call last):
        argparse.ArgumentTypeError: must be 1-65535, got 0
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if not MIN_PORT <= value <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"must be {MIN_PORT}-{MAX_PORT}, got {value}")
    return value


def _number_up_to(text: str, largest: float) -> float:
    value = float(text)
    if not 0 <= value <= largest:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to {largest:g}, got {text}")
    return value


def palette_range(text: str) -> tuple[float, float]:
    """argparse type: a palette's range, ``LOW,HIGH`` with 0 <= LOW < HIGH <= 1 (:func:`~defusion.fusion.
    choices.palette_span`)."""
    try:
        return palette_span(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def unique_gain(text: str) -> float:
    """argparse type: a unique gain, a number from 0 to MAX_UNIQUE_GAIN."""
    return _number_up_to(text, MAX_UNIQUE_GAIN)


def detail_gain(text: str) -> float:
    """argparse type: a detail gain, a number from 0 to MAX_DETAIL_GAIN."""
    return _number_up_to(text, MAX_DETAIL_GAIN)


def non_negative_int(text: str) -> int:
    """argparse type: an integer of 0 or more."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def add_model_options(p: argparse.ArgumentParser, fp16: bool = True) -> None:
    """--weights and --device, and --half unless ``fp16`` is False."""
    p.add_argument("--weights", type=Path, help="weights file (default: the weights shipped in the package)")
    p.add_argument("--device", default=DEFAULT_DEVICE, choices=DEVICES, help=f"default: {DEFAULT_DEVICE}")
    p.add_argument("--runtime", default=DEFAULT_RUNTIME, choices=RUNTIMES,
                   help="inference engine: auto (default: onnxruntime on a CPU, torch on a GPU or with --half); "
                        "torch (PyTorch eager, the reference); onnxruntime (weights exported once, cached; 2.3x "
                        "torch on a CPU, same output to rounding); compile / compile-bf16 (torch.compile: the "
                        "fastest on a CPU after compiling each new image size; bf16 is a few grey levels off). "
                        "See docs/performance.md")
    if fp16:
        p.add_argument("--half", action="store_true", help="fp16 inference (CUDA only)")
    p.add_argument("--threads", type=positive_int, default=None,
                   help="CPU threads for inference (default: PyTorch's, one per core; fewer keeps a busy "
                        "machine responsive)")


def add_onnx_option(p: argparse.ArgumentParser) -> None:
    """--onnx: an exported model (defusion export) run by ONNX Runtime instead of --weights."""
    p.add_argument("--onnx", type=Path,
                   help="run an exported ONNX model with ONNX Runtime (defusion export) instead of --weights")


def same_path(a: Path, b: Path) -> bool:
    """Whether two paths name one file or folder (through symlinks, ``..`` and hard links)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist
        return False


def check_model_paths(args: argparse.Namespace) -> None:
    """Refuse a --weights or --onnx that names a folder (a clearer line than "not found"; a training
    run's says which file in it to give, or when the run writes it), and an --onnx that is a
    TorchScript export (ONNX Runtime's own error is a protobuf parse failure)."""
    for option, path in (("--weights", args.weights), ("--onnx", getattr(args, "onnx", None))):
        if path is not None and path.is_dir():
            from defusion.model.weights import folder_refusal  # here: loads PyTorch

            # a run's folder holds weights, not an export: its file is named for --weights either way
            raise UserError(f"{option} {path}: {folder_refusal(path, '--weights')}")
    onnx = getattr(args, "onnx", None)
    if onnx is not None and not is_onnx_export(onnx) and zipfile.is_zipfile(onnx):  # ONNX is protobuf, never a zip
        from defusion.model.weights import is_torchscript_export  # here: loads PyTorch, as the model will

        what = "a TorchScript export (for running the network elsewhere)" if is_torchscript_export(onnx) else \
            "a PyTorch file (a zip archive)"
        raise UserError(f"--onnx {onnx} is {what}, not an ONNX export: export one with defusion export --format onnx "
                        "-o model.onnx and give --onnx model.onnx, or give safetensors weights with --weights")


def check_onnx_options(args: argparse.Namespace) -> None:
    """Refuse model paths that are folders, and with --onnx the options an export cannot take."""
    check_model_paths(args)
    onnx = getattr(args, "onnx", None)
    if onnx is not None and (args.weights or getattr(args, "half", False) or args.runtime not in ONNX_RUNTIMES):
        others = "--weights, --half and --runtime" if hasattr(args, "half") else "--weights and --runtime"
        raise UserError(f"--onnx runs the exported model: {others} do not apply (it runs on ONNX Runtime: "
                        "--runtime auto or onnxruntime)")
    weights = getattr(args, "weights", None)
    if is_onnx_export(weights) and args.runtime not in ONNX_RUNTIMES:
        raise UserError(f"--weights {weights} is an ONNX export: it runs on ONNX Runtime (--runtime auto or "
                        f"onnxruntime), not --runtime {args.runtime}")


def check_model_files(args: argparse.Namespace) -> None:
    """Refuse a --weights or --onnx that names nothing, in the loader's own words: for a command that
    opens its inputs before the model loads (``defusion video``: a stream or a camera may take seconds to
    open or fail), so that a mistyped path is said first."""
    for path, missing in ((args.weights, "weights file not found"),
                          (getattr(args, "onnx", None), "ONNX model not found")):
        if path is not None and not path.exists():
            raise UserError(f"{missing}: {path}")


def make_fuser(args: argparse.Namespace, options: dict) -> Fuser:
    """The Fuser the model options ask for: the exported model of --onnx on ONNX Runtime, else
    --weights (default: the shipped weights) on --runtime; ``options`` are its FuseOptions fields.
    Refuses the options an export cannot take, before any model is loaded."""
    check_onnx_options(args)
    note_quick_test_weights(getattr(args, "weights", None) if getattr(args, "onnx", None) is None else None)
    from defusion.fusion.fuser import Fuser

    onnx = getattr(args, "onnx", None)  # an export whatever its name; --weights X.onnx is one too
    return Fuser.from_pretrained(onnx or args.weights, device=args.device, half=getattr(args, "half", False),
                                 runtime=args.runtime, threads=args.threads, onnx=True if onnx else None, **options)


def note_quick_test_weights(weights: Path | None) -> None:
    """Say, once each, what about ``weights`` nothing else would say while a fusion or an export with
    them looks poor: that they are the quick-test network's (a training run's with --model
    defusion-tiny, named in its metadata), which docs/training.md says are not for fusing; and that
    their run stopped before the end of its schedule (:func:`stopped_short`). Silent on a file whose
    metadata cannot be read (loading it says what is wrong), and on the shipped weights."""
    if weights is None or is_onnx_export(weights) or not weights.is_file():
        return
    from defusion.io.notes import note
    from defusion.model.weights import weights_metadata  # here: loads PyTorch, as the model will

    try:
        meta = weights_metadata(weights)
    except Exception:  # noqa: BLE001 - not safetensors, damaged: loading the weights says so
        return
    if meta.get("model") == QUICK_TEST_MODEL:
        seen = meta.get("samples_seen")
        note(f"--weights {weights} are the quick-test network's ({QUICK_TEST_MODEL}"
             + (f", {seen} samples seen" if seen else "") + "), for checking a setup, not for real fusion: "
             "leave --weights out for the shipped weights, or train without --model defusion-tiny")
    stopped = stopped_short(meta)
    if stopped is not None:
        note(f"--weights {weights} are from a training run stopped before the end of its schedule ({stopped}), not "
             "the finished run's: defusion train --data DIR --resume --out RUN (that run's folder) trains on to its end")


def stopped_short(meta: dict[str, str]) -> str | None:
    """Why and where the training run that wrote weights with this metadata stopped, where it stopped
    before the end of its schedule (``complete`` false: Ctrl-C, SIGTERM, --max-seconds, a failure);
    None for a finished run's weights and for weights no run of this version wrote (the shipped ones).

    Example:
        >>> stopped_short({"steps": "8", "planned_steps": "500", "complete": "false", "stopped": "time budget spent"})
        'time budget spent at step 8 of 500'
        >>> stopped_short({"steps": "500", "planned_steps": "500", "complete": "true"}) is None
        True
    """
    if meta.get("complete") != "false":
        return None
    planned = f" of {meta['planned_steps']}" if meta.get("planned_steps") else ""
    return f"{meta.get('stopped') or 'stopped'} at step {meta.get('steps', '?')}{planned}"


def add_tile_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tile", type=int, default=None,
                   help=f"tile size in network pixels for large images (default: automatic above "
                        f"{AUTO_TILE_PIXELS / 1e6:.0f} MP of network input, i.e. after --scale; 0 never tiles; "
                        f"otherwise over twice --overlap, e.g. {smallest_tile(DEFAULT_OVERLAP)} or more with the "
                        "default overlap)")


def add_scale_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scale", type=positive_int, default=None, metavar="N",
                   help="run the network on the sources up-sampled N times and average its output back "
                        "down: sharper (the network blurs by a fixed kernel in pixels), N*N times the "
                        "compute; default 2 (higher than 1, the paper's scale, on 14 of 17 TNO metrics and "
                        "13 of 17 VIFB ones: docs/benchmarks.md), 1 with pixels from the sources (--task mff), "
                        "as good there; --scale 1 is 4x faster")


def add_gain_options(p: argparse.ArgumentParser) -> None:
    """--unique-gain and --detail-gain: how much of what only one source shows the fused image keeps."""
    p.add_argument("--unique-gain", type=unique_gain, default=None, metavar="G",
                   help=f"weight of what only one source shows in the fused image, 0-{MAX_UNIQUE_GAIN:g}: 1 is the "
                        f"paper's head Pr on f_c + f_u1 + f_u2; above 1 its local mean is weighed G and its fine "
                        f"detail 2G - 1; default {DEFAULT_UNIQUE_GAIN:g} keeps more infrared targets and exposed or "
                        "focused detail (docs/training-history.md, \"Unique gain\")")
    p.add_argument("--detail-gain", type=detail_gain, default=None, metavar="D",
                   help=f"weight of the fine detail of what only one source shows, 0-{MAX_DETAIL_GAIN:g}, apart from "
                        "its local mean (--unique-gain): default 2G - 1 above G = 1, else G, or --task's")


def add_task_option(p: argparse.ArgumentParser) -> None:
    ivf, mef = TASK_OPTIONS["ivf"], TASK_OPTIONS["mef"]
    p.add_argument("--task", choices=TASKS, default=None,
                   help="the kind of images, for its own defaults: ivf (infrared and visible: unique gain "
                        f"{ivf['unique_gain']:g}, more of the infrared targets and contrast), mef (an exposure "
                        f"bracket: unique gain {mef['unique_gain']:g}, detail gain {mef['detail_gain']:g}, the "
                        "sources' brightness, sharper detail; sorted by brightness, --order exposure), mff (a focus "
                        "stack: pixels from the sources, --pixels sources at --scale 1, 62-68 dB PSNR against a "
                        "known truth where the reconstruction reaches 31-35; fuse's --pixels network keeps the "
                        "reconstruction, at mef's gains); explicit options override it. Default: the general "
                        f"defaults (unique gain {DEFAULT_UNIQUE_GAIN:g}, the network's reconstruction)")


def add_fusion_options(p: argparse.ArgumentParser) -> None:
    """--task, --tile, --overlap, --color, --scale, the gains, --stretch, --palette and --rig: how images
    are fed to the network and what becomes of its output."""
    add_task_option(p)
    add_tile_option(p)
    p.add_argument("--overlap", type=non_negative_int, default=DEFAULT_OVERLAP,
                   help=f"tile overlap in network pixels (default {DEFAULT_OVERLAP})")
    p.add_argument("--color", default="auto", choices=COLOR_MODES,
                   help="auto (= ycbcr): fuse luminance; chroma from the colour source, or blended by "
                        "saturation when both are colour. rgb: fuse two colour sources in RGB (the paper's "
                        "setting)")
    add_scale_option(p)
    add_gain_options(p)
    p.add_argument("--stretch", default=None, choices=STRETCHES,
                   help="auto (default): a grey 16-bit source whose values span under a quarter of the 16-bit "
                        "range, as raw thermal frames do, is stretched to the full range before fusing (sources "
                        "stretched together share one mapping; with --task mef, a bracket whose shots fill the range between "
                        "them is not stretched); none: values as they are")
    add_palette_option(p)
    add_palette_range_option(p)
    add_rig_option(p)


def add_palette_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--palette", default=None, choices=PALETTES,
                   help="false colour from the infrared image, as thermal cameras show it: the fused luminance "
                        "keeps both images' detail, the palette's hue says how warm each place is (the infrared "
                        "image: the only grey source, else the last grey one, or --infrared N); default none, the "
                        f"sources' own colours. {PALETTE_ORDER_HELP}")
    p.add_argument("--infrared", type=positive_int, default=None, metavar="N",
                   help="with --palette: the infrared image is the Nth given (default: the one raw thermal frame, "
                        "else the only grey one, else the last grey one, else the last, as pairs are given visible "
                        "first)")


def add_palette_range_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--palette-range", type=palette_range, default=None, metavar="LOW,HIGH",
                   help="with --palette: the infrared values (0 to 1, as fused: after any stretch) the colours span, "
                        "e.g. 0.08,0.94 as defusion video notes it, so that separate runs or frames colour alike "
                        "(default: each fusion's own, from its infrared image)")


def add_rig_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rig", type=Path, default=None, metavar="RIG.json",
                   help="a fixed camera rig's calibration (defusion calibrate): the other images are warped onto "
                        "the first's pixel grid before fusing, so cameras of different resolution and field of view "
                        "fuse; give the images in the calibrated order")


def load_rig(args: argparse.Namespace) -> Rig | None:
    """The Rig of --rig, or None; a RigError (a ValueError: one clear line) when it is unusable."""
    if getattr(args, "rig", None) is None:
        return None
    from defusion.fusion.rig import Rig

    return Rig.load(args.rig)


#: The fusion options every fusing command has (add_fusion_options), besides --task and the gains.
FUSION_OPTION_NAMES: tuple[str, ...] = ("tile", "overlap", "color", "scale", "stretch", "palette")


def fusion_options(args: argparse.Namespace, names: tuple[str, ...] = FUSION_OPTION_NAMES) -> dict:
    """FuseOptions fields: --task's, then the ``names`` given, --unique-gain / --detail-gain
    (unset ones keep the task's or the defaults), as the fusion core's ``task_options`` resolves
    them, and the Rig of --rig (where the command has it)."""
    from defusion.fusion.fuser import task_options  # here, not at the top: keeps --help free of torch

    given = {name: getattr(args, name) for name in (*names, "unique_gain", "detail_gain")}
    if getattr(args, "infrared", None) is not None:
        if getattr(args, "palette", None) in (None, "none"):
            raise UserError("--infrared says which image a --palette colours; give a --palette other than none")
        given["infrared"] = args.infrared - 1
    if getattr(args, "palette_range", None) is not None:
        if getattr(args, "palette", None) in (None, "none"):
            raise UserError("--palette-range says which infrared values a --palette spans; give a --palette other "
                            "than none")
        given["palette_range"] = args.palette_range
    rig = load_rig(args)
    try:
        return task_options(args.task, **given, rig=rig)
    except ValueError:  # argparse chose the task: what it refuses is a palette with a task's pixels from the sources
        fix = "add --pixels network for a palette" if hasattr(args, "pixels") else "a palette is for infrared images"
        raise UserError(f"--task {args.task} takes the pixels from the sources, which --palette cannot colour (it "
                        f"colours the network's fusion): {fix}") from None


def check_tile(args: argparse.Namespace) -> None:
    """Refuse a --tile the tiler cannot use (the fusion core's rule, in its flags' words), before
    any model is loaded."""
    overlap = getattr(args, "overlap", DEFAULT_OVERLAP)  # serve has no --overlap
    if args.tile and args.tile < smallest_tile(overlap):
        raise UserError(f"--tile must be 0 (off) or at least {smallest_tile(overlap)} pixels "
                        f"(over twice the overlap of {overlap}, and at least {MIN_TILE})")

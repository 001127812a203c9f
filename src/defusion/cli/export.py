"""``defusion export``: DeNet to ONNX or TorchScript, checked against PyTorch."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from defusion.cli.errors import UserError
from defusion.cli.options import note_quick_test_weights
from defusion.fusion.choices import DEFAULT_OPSET, EXPORT_SUFFIXES, PARITY_SIZE  # torch-free, as --help must be
from defusion.io.formats import one_of  # torch-free, as --help must be
from defusion.io.notes import note
from defusion.model.errors import WeightsError

HELP = "export the network to ONNX or TorchScript (dynamic batch/height/width; any size: it pads to multiples of 8)"

#: Output suffixes that name each format (the first is the one suggested): any other is refused.
SUFFIXES = EXPORT_SUFFIXES
#: The parity check's batch (PARITY_SIZE: batch, height, width) as B x C x H x W, as --help and its line say it.
PARITY_BATCH = "{}x3x{}x{}".format(*PARITY_SIZE)
#: Lowest ONNX opset the export supports; the highest is the installed PyTorch's (see max_opset).
MIN_OPSET = 13


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", required=True, choices=tuple(SUFFIXES), help="export format")
    p.add_argument("-o", "--output", required=True, type=Path,
                   help="output file: .onnx for onnx, .pt (or .pth, .ts) for torchscript; a name with another "
                        "suffix is refused")
    p.add_argument("--weights", type=Path, help="weights file (default: the weights shipped in the package)")
    p.add_argument("--opset", type=int, default=DEFAULT_OPSET,
                   help=f"ONNX opset, from {MIN_OPSET} to the highest the installed PyTorch exports (default "
                        f"{DEFAULT_OPSET})")
    p.add_argument("--half", action="store_true",
                   help="compute in fp16 (weights stored in fp16: half the file), inputs and outputs still float32: "
                        "for GPUs (ONNX Runtime CUDA/TensorRT, TorchScript on CUDA); never faster on a CPU: at 64x96 "
                        "a TorchScript --half export ran 4 to 8 times slower there than the fp32 one, an ONNX one "
                        "about as fast (ONNX Runtime computes fp16 nodes in fp32 on a CPU; shared 2-core AMD EPYC)")
    p.add_argument("--no-check", action="store_true",
                   help=f"skip the parity check (the export against PyTorch on a {PARITY_BATCH} random batch)")


def max_opset() -> int | None:
    """The highest ONNX opset the installed PyTorch can export (and the onnx package check), or
    None where this PyTorch does not say (its exporter's own error is then turned into one line)."""
    try:
        from torch.onnx import _constants
    except ImportError:
        return None
    highest = getattr(_constants, "ONNX_MAX_OPSET", None)
    try:
        import onnx

        highest = min(highest, onnx.defs.onnx_opset_version()) if highest is not None else None
    except (ImportError, AttributeError):
        pass
    return highest


def _opset_range() -> str:
    highest = max_opset()
    return f"{MIN_OPSET} to {highest}" if highest is not None else f"at least {MIN_OPSET}"


def _check(args: argparse.Namespace) -> None:
    """Refuse an output that is a folder, not named for its format or cannot be written (a file where a
    folder must be, a folder that cannot be written in, as ``defusion fuse -o`` refuses them), and an
    opset outside the exporter's range, before any work."""
    from defusion.io.writing import check_path, check_writable_folder

    try:
        check_path(args.output)  # first: a name too long, a file where a folder must be (is_dir would raise)
    except OSError as exc:
        raise UserError(f"-o {args.output}: {exc}") from None
    if args.output.is_dir():
        raise UserError(f"-o {args.output} is a folder; give a file name, e.g. -o "
                        f"{args.output / ('denet' + SUFFIXES[args.format][0])}")
    suffix = args.output.suffix.lower()
    for fmt, suffixes in SUFFIXES.items():
        if fmt != args.format and suffix in suffixes:
            raise UserError(f"-o {args.output}: a {suffix} file is {fmt}, not {args.format}; use -o "
                            f"{args.output.with_suffix(SUFFIXES[args.format][0])} or --format {fmt}")
    named = SUFFIXES[args.format]
    if suffix not in named:
        raise UserError(f"-o {args.output}: a {args.format} export's name ends in {one_of(list(named))} (a reader "
                        f"tells the format by it); use -o {args.output.with_suffix(named[0])}")
    highest = max_opset()
    if args.opset < MIN_OPSET or (highest is not None and args.opset > highest):
        raise UserError(f"--opset must be {_opset_range()} (this PyTorch's ONNX exporter), got {args.opset}")
    try:
        check_writable_folder(args.output.parent)  # read-only, not allowed: said now, not after the trace
    except OSError as exc:
        raise UserError(f"-o {args.output}: {exc}") from None


def _where_defaults_are(fmt: str) -> str:
    """The end of the export's last line: where a file of ``fmt`` keeps every task's defaults and what
    shows how to run it as defusion fuse does (the ONNX script refuses a TorchScript file).

    Example:
        >>> _where_defaults_are("onnx").split(". ")[0]
        "the file's metadata (metadata_props) has every task's"
    """
    around = "docs/serving.md, 'Fusing without defusion', {} what defusion fuse does around the network"
    if fmt == "torchscript":
        from defusion.fusion.export import TORCHSCRIPT_METADATA  # torch is loaded: the export ran

        return (f"its extra file {TORCHSCRIPT_METADATA} has every task's (torch.jit.load(path, "
                f"_extra_files={{'{TORCHSCRIPT_METADATA}': ''}}) reads it); call it under torch.inference_mode(). "
                + around.format("shows"))
    return ("the file's metadata (metadata_props) has every task's. `python -m defusion.serving.fuse_with_onnx` "
            "(a file that runs without defusion, copied out) and " + around.format("show"))


def _say_start(args: argparse.Namespace) -> None:
    """One line before the slow part (loading PyTorch, tracing, the parity check: about half a
    minute with the shipped weights), so that the wait is not silent."""
    weights = args.weights or "the shipped weights"
    precision = "fp16" if args.half else "fp32"
    checked = "" if args.no_check else ", then checking it against PyTorch"
    note(f"exporting {weights} to {args.output} ({args.format}, {precision} compute){checked}: this takes a while")
    if args.output.exists():
        note(f"replacing {args.output}")


def run(args: argparse.Namespace) -> int:
    _check(args)
    if args.format == "onnx":
        try:
            for module in ("onnx", "onnxruntime"):  # what the export and its parity check run on
                importlib.import_module(module)
        except ImportError as exc:
            raise UserError(f"ONNX export needs the 'serve' extra: pip install 'defusion[serve]' ({exc})") from None
    _say_start(args)
    note_quick_test_weights(args.weights)  # the quick-test net's, an unfinished run's: said, as defusion fuse says it
    from defusion.cli.outputs import missing_folder, said_made
    from defusion.model.weights import load_weights, shipped_weights_path, weights_digest, weights_metadata
    from defusion.fusion.export import PARITY_TOLERANCE, export_model, fusion_defaults, parity

    path = args.weights or shipped_weights_path()
    model = load_weights(path)
    metadata = {k: v for k, v in weights_metadata(path).items() if k not in ("config", "format")}
    metadata["source_weights"] = Path(path).name
    metadata["weights_sha256_16"] = weights_digest(path)  # which weights, whatever the file's name
    made = missing_folder(args.output)  # writing makes it: said, as defusion fuse says it
    try:
        export_model(model, args.output, fmt=args.format, opset=args.opset, metadata=metadata, half=args.half)
    except RuntimeError as exc:  # e.g. "Unsupported onnx_opset_version: 24" where max_opset() overestimates
        if "opset" not in str(exc).lower():
            raise
        raise UserError(f"--opset {args.opset}: not supported by this PyTorch's ONNX exporter "
                        f"(supported: {_opset_range()}): {exc}") from None
    precision = "fp16" if args.half else "fp32"
    general = fusion_defaults()["general"]
    print(f"wrote {args.output}{said_made([made] if made else [])} ({args.format}, {precision} compute; inputs "
          "x1, x2: B x 3 x H x W float32 in [0, 1], any H and W (padded to multiples of 8 inside); unique_gain, "
          "detail_gain: scalars, 1 and 1 for the paper's head Pr alone, "
          f"{general['unique_gain']:g} and {general['detail_gain']:g} the fusion core's defaults, at scale "
          f"{general['scale']}; {_where_defaults_are(args.format)})", file=sys.stderr)
    if not args.no_check:
        diff = parity(model, args.output, args.format)
        tolerance = PARITY_TOLERANCE[precision]
        print(f"parity vs PyTorch (fp32) on a {PARITY_BATCH} random batch: max abs difference {diff:.2e}",
              file=sys.stderr)
        if args.half and args.format == "onnx":
            print("defusion: note: ONNX Runtime checked it on this machine's CPU, which runs fp16 nodes in fp32: the "
                  "figure checks the graph, not fp16's rounding (fp16 arithmetic adds about 2e-3: measured in eager "
                  "PyTorch fp16 on a CPU; the TorchScript --half export's check runs fp16)", file=sys.stderr)
        if diff > tolerance:
            print(f"defusion: warning: the export differs from PyTorch by more than {tolerance:g}", file=sys.stderr)
            return 1
    return 0


# ExportError and OnnxModelError are ValueErrors.
EXPECTED_ERRORS = (WeightsError, FileNotFoundError, ValueError, OSError)

"""``defusion export``: DeNet to ONNX or TorchScript, checked against PyTorch."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from defusion.cli.errors import UserError
from defusion.model.weights import WeightsError

HELP = "export the network to ONNX or TorchScript (dynamic batch/height/width; sides multiples of 8)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", required=True, choices=("onnx", "torchscript"), help="export format")
    p.add_argument("-o", "--output", required=True, type=Path, help="output file (.onnx, .pt)")
    p.add_argument("--weights", type=Path, help="weights file (default: the weights shipped in the package)")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (default 17)")
    p.add_argument("--no-check", action="store_true",
                   help="skip the parity check (the export against PyTorch on a 2x3x40x56 random batch)")


def run(args: argparse.Namespace) -> int:
    if args.format == "onnx":
        try:
            import onnx  # noqa: F401
            import onnxruntime  # noqa: F401
        except ImportError as exc:
            raise UserError(f"ONNX export needs the 'serve' extra: pip install 'defusion[serve]' ({exc})") from None
    if args.opset < 13:
        raise UserError("--opset must be at least 13")
    from defusion.model.weights import load_weights, read_metadata, shipped_weights_path
    from defusion.serving.export import export_model, parity

    path = args.weights or shipped_weights_path()
    model = load_weights(path)
    metadata = {k: v for k, v in read_metadata(path).items() if k not in ("config", "format")}
    metadata["source_weights"] = Path(path).name
    export_model(model, args.output, args.format, opset=args.opset, metadata=metadata)
    print(f"wrote {args.output} ({args.format}; inputs x1, x2: B x 3 x H x W, H and W multiples of 8; "
          "unique_gain, detail_gain: scalars, 1 and 1 for the paper's fusion)", file=sys.stderr)
    if not args.no_check:
        diff = parity(model, args.output, args.format)
        print(f"parity vs PyTorch on a 2x3x40x56 random batch: max abs difference {diff:.2e}", file=sys.stderr)
        if diff > 1e-3:
            print("defusion: warning: the export differs from PyTorch by more than 1e-3", file=sys.stderr)
            return 1
    return 0


# ExportError and OnnxModelError are ValueErrors.
EXPECTED_ERRORS = (WeightsError, FileNotFoundError, ValueError, OSError)

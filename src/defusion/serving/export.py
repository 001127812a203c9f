"""DeNet's TorchScript and ONNX export under its old import path: defined in
:mod:`defusion.fusion.export`, beside the ONNX Runtime model that exports the weights on first use
(``--runtime onnxruntime``).

Example:
    >>> from defusion.fusion import export
    >>> from defusion.serving import export as old_path
    >>> old_path.export_model is export.export_model
    True
"""

from __future__ import annotations

from defusion.fusion.export import (
    DEFAULT_OPSET,
    EXPORT_SIZE,
    EXPORT_SIZE_MULTIPLE,
    EXPORT_SUFFIXES,
    FORMATS,
    INPUT_NAMES,
    INPUT_NOTE,
    OUTPUT_NAMES,
    PARITY_SIZE,
    PARITY_TOLERANCE,
    TORCHSCRIPT_METADATA,
    WEIGHTS_SUFFIX,
    ExportError,
    Format,
    HalfCompute,
    PadToMultiple,
    check_export_path,
    export_model,
    export_onnx,
    export_torchscript,
    format_for,
    fusion_defaults,
    load_exported,
    parity,
)

__all__ = ["DEFAULT_OPSET", "EXPORT_SIZE", "EXPORT_SIZE_MULTIPLE", "EXPORT_SUFFIXES", "WEIGHTS_SUFFIX", "FORMATS",
           "INPUT_NAMES", "INPUT_NOTE", "OUTPUT_NAMES", "PARITY_SIZE", "PARITY_TOLERANCE", "TORCHSCRIPT_METADATA",
           "ExportError", "Format", "HalfCompute", "PadToMultiple", "check_export_path", "export_model",
           "export_onnx", "export_torchscript", "format_for", "fusion_defaults", "load_exported", "parity"]

"""``OnnxDeNet`` and the ONNX export cache under their old import path: defined in
:mod:`defusion.fusion.onnx_runtime`, beside the runtimes that load them (``--runtime onnxruntime``).

Example:
    >>> from defusion.fusion import onnx_runtime
    >>> from defusion.serving import onnx_model
    >>> onnx_model.OnnxDeNet is onnx_runtime.OnnxDeNet
    True
"""

from __future__ import annotations

from defusion.fusion.onnx_runtime import (
    CACHED_EXPORTS_KEPT,
    ENV_CACHE,
    PRUNE_GRACE_SECONDS,
    OnnxDeNet,
    OnnxModelError,
    cache_dir,
    cached_onnx_export,
    load_onnx_fuser,
    prune_exports,
)

__all__ = ["OnnxDeNet", "OnnxModelError", "CACHED_EXPORTS_KEPT", "ENV_CACHE", "PRUNE_GRACE_SECONDS", "cache_dir",
           "cached_onnx_export", "load_onnx_fuser", "prune_exports"]

"""The exported ONNX graph sums split attention per radix group: no ReduceSum on full-size maps,
which took a fifth of ONNX Runtime's CPU time (docs/performance.md)."""

from __future__ import annotations

from collections import Counter

import onnx


def test_onnx_export_has_no_reduce_sum(exported):
    ops = Counter(node.op_type for node in onnx.load(str(exported["onnx"])).graph.node)
    assert ops["Conv"] > 0 and ops["Softmax"] > 0  # split attention is in the graph
    assert ops["ReduceSum"] == 0, ops


def test_cached_exports_are_named_by_their_graph_revision(tmp_path, monkeypatch, lively_weights):
    from defusion.fusion import onnx_runtime

    monkeypatch.setenv(onnx_runtime.ENV_CACHE, str(tmp_path))
    path = onnx_runtime.cached_onnx_export(lively_weights)
    assert path.name.endswith(f"-{onnx_runtime.EXPORT_TAG}.onnx") and path.parent == tmp_path / "onnx"
    assert onnx_runtime._EXPORT_NAME.fullmatch(path.name)
    ops = {node.op_type for node in onnx.load(str(path)).graph.node}
    assert "ReduceSum" not in ops

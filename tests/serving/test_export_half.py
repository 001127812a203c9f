"""fp16 exports (``defusion export --half``): fp16 compute behind float32 inputs and outputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from defusion.model.weights import load_weights
from defusion.fusion.export import (PARITY_SIZE, PARITY_TOLERANCE, HalfCompute, _example, export_model,
                                     load_exported, parity)
from defusion.fusion.onnx_runtime import OnnxDeNet, OnnxModelError, load_onnx_fuser
from tests.conftest import smooth_image


@pytest.fixture(scope="module")
def exports(lively_weights, tmp_path_factory):
    out = tmp_path_factory.mktemp("half")
    model = load_weights(lively_weights)
    return model, {
        "fp32": export_model(model, out / "fp32.onnx"),
        "fp16": export_model(model, out / "fp16.onnx", half=True),
        "ts16": export_model(model, out / "fp16.pt", half=True),
    }


def test_half_compute_is_fp16_inside_and_float32_outside(lively_weights):
    model = load_weights(lively_weights)
    half = HalfCompute(model)
    assert all(p.dtype == torch.float16 for p in half.model.parameters())
    assert all(p.dtype == torch.float32 for p in model.parameters())  # the original is left alone
    inputs = _example((32, 40), unique_gain=1.5, detail_gain=1.75)
    with torch.no_grad():
        ours, theirs = model(*inputs), half(*inputs)
    for a, b in zip(ours, theirs):
        assert b.dtype == torch.float32
        assert float((a - b).abs().max()) < PARITY_TOLERANCE["fp16"]
        assert float((a - b).abs().max()) > 0  # really computed in fp16


def test_onnx_half_export_is_smaller_says_so_and_passes_parity(exports):
    model, paths = exports
    import onnx

    def weight_types(path):
        return {onnx.TensorProto.DataType.Name(t.data_type) for t in onnx.load(str(path)).graph.initializer
                if np.prod(t.dims) > 64}  # the convolutions' weights, not shape constants

    assert weight_types(paths["fp16"]) == {"FLOAT16"} and weight_types(paths["fp32"]) == {"FLOAT"}
    assert paths["fp16"].stat().st_size < paths["fp32"].stat().st_size
    net = OnnxDeNet(paths["fp16"])
    assert net.precision == "fp16" and net.half() is net
    assert OnnxDeNet(paths["fp32"]).precision == "fp32"
    with pytest.raises(OnnxModelError, match="--half"):
        OnnxDeNet(paths["fp32"]).half()
    assert parity(model, paths["fp16"]) < PARITY_TOLERANCE["fp16"]


def test_torchscript_half_export_takes_and_returns_float32(exports):
    model, paths = exports
    assert parity(model, paths["ts16"]) < PARITY_TOLERANCE["fp16"]
    traced = load_exported(paths["ts16"])
    out = traced(*_example(PARITY_SIZE[1:], batch=1))
    assert all(o.dtype == torch.float32 for o in out)


def test_a_fuser_over_the_half_export_fuses_like_the_fp32_one(exports, rng):
    _, paths = exports
    a, b = smooth_image(rng, 48, 56), smooth_image(rng, 48, 56, 1)
    fp32 = load_onnx_fuser(paths["fp32"], tile=0).fuse(a, b)
    fp16 = load_onnx_fuser(paths["fp16"], tile=0).fuse(a, b)
    assert np.abs(fp32.astype(int) - fp16).max() <= 3  # grey levels


def test_cli_half_export_passes_its_parity_check(lively_weights, tmp_path, capsys):
    from defusion.cli.main import main

    out = tmp_path / "fp16.onnx"
    assert main(["export", "--format", "onnx", "-o", str(out), "--weights", str(lively_weights), "--half"]) == 0
    err = capsys.readouterr().err
    assert "fp16 compute" in err and "max abs difference" in err
    assert OnnxDeNet(out).precision == "fp16"


def test_the_weights_training_precision_does_not_hide_the_exports(lively_weights, tmp_path):
    """The shipped weights carry precision='bf16 autocast' (how they were trained): it once
    overwrote the export's own 'fp16', so a --half export could not run as one."""
    model = load_weights(lively_weights)
    path = export_model(model, tmp_path / "h.onnx", half=True, metadata={"precision": "bf16 autocast"})
    net = OnnxDeNet(path)
    assert net.precision == "fp16" and net.metadata["training_precision"] == "bf16 autocast"
    assert net.half() is net

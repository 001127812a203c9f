"""An integrator's audit of `defusion export` (second round): a TorchScript export is an inference
export, and the export's last line says, per format, where its defaults are and what runs it."""

from __future__ import annotations

import json

import pytest
import torch

from defusion.fusion.export import PARITY_SIZE, PARITY_TOLERANCE, TORCHSCRIPT_METADATA, export_torchscript, parity
from defusion.model.weights import load_weights
from tests.serving.conftest import run_export

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit.load, deprecated in torch 2.9+

#: A small input (B, C, H, W) that needs the graph's padding.
INPUT = (1, 3, 20, 28)


@pytest.mark.parametrize("half", [False, True])
def test_a_loaded_torchscript_export_called_plainly_keeps_no_autograd_graph(tmp_path, lively_weights, half):
    """The audit: docs/serving.md's call `m(x1, x2, g, d)` gave outputs requiring grad (2.9x the memory of
    one under torch.inference_mode()): the export's parameters no longer require grad."""
    model = load_weights(lively_weights)
    path = export_torchscript(model, tmp_path / "denet.pt", half=half)
    loaded = torch.jit.load(str(path))
    assert not any(p.requires_grad for p in loaded.parameters())
    x1, x2 = torch.rand(INPUT), torch.rand(INPUT)
    outputs = loaded(x1, x2, torch.tensor(1.5), torch.tensor(2.0))
    assert len(outputs) == 4 and not any(o.requires_grad for o in outputs)
    assert all(p.requires_grad for p in model.parameters())  # the caller's model is left as it was
    assert parity(model, path, size=PARITY_SIZE) < PARITY_TOLERANCE["fp16" if half else "fp32"]  # the same function


@pytest.mark.parametrize("fmt, name", [("torchscript", "tiny.pt"), ("onnx", "tiny.onnx")])
def test_the_exports_last_line_says_where_each_format_keeps_its_defaults_and_what_runs_it(
        tmp_path, tiny_weights, capsys, fmt, name):
    """The audit: a TorchScript export's line named the file's "metadata" (it keeps them in its
    defusion.json extra file) and the ONNX script, which refuses .pt files."""
    out = tmp_path / name
    assert run_export("--format", fmt, "-o", out, "--weights", tiny_weights, "--no-check") == 0
    wrote = next(line for line in capsys.readouterr().err.splitlines() if line.startswith("wrote "))
    if fmt == "torchscript":
        assert "fuse_with_onnx" not in wrote and "metadata has" not in wrote
        assert f"extra file {TORCHSCRIPT_METADATA}" in wrote and "torch.jit.load" in wrote
        assert "torch.inference_mode()" in wrote
        files = {TORCHSCRIPT_METADATA: ""}
        torch.jit.load(str(out), _extra_files=files)
        assert "ivf" in json.loads(files[TORCHSCRIPT_METADATA])["fusion_defaults"]  # where the line says
    else:
        assert "metadata (metadata_props) has every task's" in wrote
        assert "python -m defusion.serving.fuse_with_onnx" in wrote


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_exporting_leaves_the_callers_model_in_its_dtype_and_mode(tmp_path, tiny_weights, fmt):
    """A review: the export made the caller's model float32 and eval in place (a CUDA one: on the CPU)."""
    from defusion.fusion.export import export_onnx

    model = load_weights(tiny_weights).double().train()
    export = export_torchscript if fmt == "torchscript" else export_onnx
    export(model, tmp_path / f"m.{'pt' if fmt == 'torchscript' else 'onnx'}", size=(32, 32))
    assert next(model.parameters()).dtype == torch.float64 and model.training

"""The three exporters take everything after ``path`` by keyword, in one order, and refuse a ``half`` that is
not True or False: passed by position, ``export_torchscript(model, path, (64, 64), {"note": "mine"})`` (the
metadata where ``export_onnx`` takes it) exported fp16 and dropped the metadata (an audit's finding). The
parity gains are one constant, used by the trace's check and by ``parity``."""

from __future__ import annotations

import inspect
import json

import pytest
import torch

from defusion import DefusionError
from defusion.fusion import export as export_module
from defusion.fusion.export import (PARITY_GAINS, TORCHSCRIPT_METADATA, ExportTypeError, export_model, export_onnx,
                                    export_torchscript, parity)
from defusion.model.denet import default_detail_gain

EXPORTERS = (export_model, export_onnx, export_torchscript)
#: The one order of the exporters' keywords (each has those it takes).
KEYWORD_ORDER = ("fmt", "opset", "size", "metadata", "half")


@pytest.mark.parametrize("exporter", EXPORTERS, ids=lambda f: f.__name__)
def test_all_after_path_are_keywords_in_one_order(exporter):
    params = list(inspect.signature(exporter).parameters.values())
    assert [p.name for p in params[:2]] == ["model", "path"]
    assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in params[:2])
    rest = params[2:]
    assert rest and all(p.kind is p.KEYWORD_ONLY for p in rest), [(p.name, p.kind) for p in rest]
    names = [p.name for p in rest]
    assert names == [name for name in KEYWORD_ORDER if name in names], names


def test_the_audits_positional_call_is_refused_and_writes_nothing(model, tmp_path, no_trace):
    with pytest.raises(TypeError):
        export_torchscript(model, tmp_path / "tiny.pt", (64, 64), {"note": "mine"})
    with pytest.raises(TypeError):
        export_model(model, tmp_path / "tiny.onnx", "onnx")
    with pytest.raises(TypeError):
        export_onnx(model, tmp_path / "tiny.onnx", 17)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("exporter, name", [(export_model, "m.pt"), (export_model, "m.onnx"),
                                            (export_onnx, "m.onnx"), (export_torchscript, "m.pt")])
@pytest.mark.parametrize("half", [{"note": "mine"}, "fp16", 1, None])
def test_a_half_that_is_not_a_bool_is_refused_in_one_line(model, tmp_path, no_trace, exporter, name, half):
    with pytest.raises(ExportTypeError) as err:
        exporter(model, tmp_path / name, half=half)
    assert isinstance(err.value, TypeError) and isinstance(err.value, DefusionError)
    message = str(err.value)
    assert message.startswith("half must be True (fp16 compute) or False, got ") and "\n" not in message
    assert ("metadata=" in message) == isinstance(half, dict)
    assert list(tmp_path.iterdir()) == []


def test_metadata_by_keyword_lands_in_an_fp32_torchscript_file(model, tmp_path):
    path = export_torchscript(model, tmp_path / "tiny.pt", size=(32, 32), metadata={"note": "mine"})
    files = {TORCHSCRIPT_METADATA: ""}
    torch.jit.load(str(path), _extra_files=files)
    description = json.loads(files[TORCHSCRIPT_METADATA])
    assert description["note"] == "mine" and description["precision"] == "fp32"


def test_the_parity_gains_check_that_both_gains_are_inputs():
    unique_gain, detail_gain = PARITY_GAINS
    assert unique_gain != 1.0 and detail_gain != 1.0 and detail_gain != default_detail_gain(unique_gain)
    defaults = inspect.signature(parity).parameters
    assert (defaults["unique_gain"].default, defaults["detail_gain"].default) == PARITY_GAINS


def test_the_trace_is_checked_at_the_parity_gains(model, tmp_path, monkeypatch):
    """The trace's check inputs take their gains from PARITY_GAINS (one place, not a copy of its numbers)."""
    checked = []

    def trace(network, example, check_inputs, **kwargs):
        checked.extend(tuple(float(g) for g in inputs[2:]) for inputs in check_inputs)
        raise RuntimeError("stop after the check inputs are made")

    monkeypatch.setattr(export_module, "PARITY_GAINS", (1.25, 1.5))
    monkeypatch.setattr(export_module.torch.jit, "trace", trace)
    with pytest.raises(RuntimeError, match="stop after"):
        export_torchscript(model, tmp_path / "tiny.pt", size=(16, 16))
    assert checked == [(1.25, 1.5)]

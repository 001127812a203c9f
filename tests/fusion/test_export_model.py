"""``export_model`` takes a Fuser (its network) or says what to pass where it holds none (ONNX Runtime),
and refuses, before any work, a file name that is no export's: ``.safetensors`` (pointed to
save_weights) or another suffix, as ``defusion export -o`` does."""

from __future__ import annotations

import pytest

from defusion import DefusionError, Fuser
from defusion.cli import export as export_cli
from defusion.fusion import export as export_module
from defusion.fusion.export import ExportError, export_model, export_onnx, export_torchscript


def test_a_fuser_exports_its_network(model, tmp_path):
    path = export_model(Fuser(model), tmp_path / "fuser.pt")
    assert path.is_file() and export_module.parity(model, path) < 1e-4


def test_a_compiled_network_exports_the_network_it_compiled(model):
    from defusion.fusion.runtime import CompiledNet

    assert export_module._unwrapped(Fuser(CompiledNet(model))) is model


def test_a_fuser_on_onnx_runtime_says_what_to_pass(model, tmp_path):
    onnx_path = export_onnx(model, tmp_path / "tiny.onnx")
    fuser = Fuser.from_pretrained(onnx_path)
    for call, name in ((export_model, "again.onnx"), (export_model, "again.pt"), (export_torchscript, "t.pt")):
        with pytest.raises(ExportError) as err:
            call(fuser, tmp_path / name)
        message = str(err.value)
        assert "runtime='torch'" in message and str(onnx_path) in message and "\n" not in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.onnx"]


def test_something_that_is_no_network_is_refused(tmp_path):
    with pytest.raises(ExportError, match="export takes a DeNet .* got str"):
        export_model("defusion-tiny", tmp_path / "x.onnx")


@pytest.mark.parametrize("name", ["mine.safetensors", "MINE.SAFETENSORS"])
def test_a_weights_name_is_refused_up_front_pointing_to_save_weights(model, tmp_path, no_trace, name):
    with pytest.raises(ExportError, match=r"holds weights, not an export: defusion.model.weights.save_weights") as err:
        export_model(model, tmp_path / name)
    assert isinstance(err.value, DefusionError) and isinstance(err.value, ValueError)
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize("name", ["d.bin", "denet", "model.torchscript"])
def test_a_name_of_no_format_is_refused_up_front_with_the_choices(model, tmp_path, no_trace, name):
    with pytest.raises(ExportError, match=r"an export's name tells its format: \.onnx \(ONNX\) or \.pt, \.pth or "
                                          r"\.ts \(TorchScript\)"):
        export_model(model, tmp_path / name)
    with pytest.raises(ExportError):
        export_torchscript(model, tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_a_name_of_the_other_format_is_refused(model, tmp_path, no_trace):
    with pytest.raises(ExportError, match=r"a \.onnx file is onnx, not torchscript; name it .*x\.pt"):
        export_model(model, tmp_path / "x.onnx", fmt="torchscript")
    with pytest.raises(ExportError, match=r"a \.pt file is torchscript, not onnx"):
        export_onnx(model, tmp_path / "x.pt")
    with pytest.raises(ExportError, match="unknown export format"):
        export_model(model, tmp_path / "x.bin", fmt="tflite")


def test_the_suffixes_are_those_defusion_export_takes():
    assert export_module.EXPORT_SUFFIXES == export_cli.SUFFIXES

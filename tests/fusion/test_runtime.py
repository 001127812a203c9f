"""Inference runtimes of the fusion core: choices, errors, and torch.compile agreeing with eager."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from defusion.fusion.fuser import Fuser
from defusion.fusion.runtime import RUNTIMES, CompiledNet, check_runtime
from defusion.model.registry import create_model
from tests.conftest import smooth_image


def test_cli_offers_exactly_the_runtimes():
    from defusion.cli.main import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command").choices
    for command in ("fuse", "video", "serve"):
        runtime = next(a for a in sub[command]._actions if a.dest == "runtime")
        assert tuple(runtime.choices) == RUNTIMES and runtime.default == "auto"


def test_bad_runtime_choices_are_value_errors():
    with pytest.raises(ValueError, match="unknown runtime"):
        check_runtime("tensorrt")
    for runtime in RUNTIMES:
        if runtime in ("auto", "torch"):
            check_runtime(runtime, half=True)  # auto takes PyTorch for fp16
        else:
            with pytest.raises(ValueError, match="half=True"):
                check_runtime(runtime, half=True)


def test_auto_runs_onnxruntime_on_a_cpu_and_pytorch_elsewhere(tiny_weights):
    from defusion.fusion.runtime import DEFAULT_RUNTIME, load_network, resolve_runtime
    from defusion.model.denet import DeNet
    from defusion.fusion.onnx_runtime import OnnxDeNet

    assert DEFAULT_RUNTIME == "auto"
    assert resolve_runtime("auto", "cpu") == "onnxruntime"  # a core dependency
    assert resolve_runtime("auto", "cuda") == "torch" and resolve_runtime("auto", "cpu", half=True) == "torch"
    assert isinstance(load_network(tiny_weights, "auto"), OnnxDeNet)
    assert isinstance(Fuser.from_pretrained(tiny_weights, device="cpu").model, OnnxDeNet)
    assert isinstance(Fuser.from_pretrained(tiny_weights, device="cpu", runtime="torch").model, DeNet)


def test_auto_falls_back_to_pytorch_with_a_warning_when_onnx_fails(tiny_weights, monkeypatch, capsys):
    from defusion.fusion import runtime as runtime_module
    from defusion.model.denet import DeNet
    from defusion.model.weights import WeightsError

    def broken_export(weights, on_export=None):
        raise RuntimeError("exporter exploded")

    import defusion.fusion.onnx_runtime as onnx_runtime  # where load_network looks it up

    monkeypatch.setattr(onnx_runtime, "cached_onnx_export", broken_export)
    from defusion.errors import DefusionWarning

    with pytest.warns(DefusionWarning, match=r"ONNX Runtime could not run the model \(RuntimeError: exporter exploded\)"):
        net = runtime_module.load_network(tiny_weights, "auto")
    assert isinstance(net, DeNet)
    with pytest.raises(WeightsError):  # a bad weights file is the weights' fault, not ONNX's: no fallback
        runtime_module.load_network(tiny_weights.parent / "missing.safetensors", "auto")


def test_auto_fuses_as_pytorch_does_to_rounding(tiny_weights, rng):
    a, b = smooth_image(rng, 40, 56), smooth_image(rng, 40, 56, channels=1)
    auto = Fuser.from_pretrained(tiny_weights, device="cpu").fuse(a, b).astype(int)
    eager = Fuser.from_pretrained(tiny_weights, device="cpu", runtime="torch").fuse(a, b).astype(int)
    assert np.abs(auto - eager).max() <= 1


@pytest.mark.slow
def test_compiled_bf16_net_returns_fp32_and_changes_no_global_setting():
    from torch._inductor import config as inductor

    torch.manual_seed(0)
    net = create_model("defusion-tiny").eval()
    x1, x2 = torch.rand(1, 3, 32, 40), torch.rand(1, 3, 32, 40)
    with torch.inference_mode():
        ref, out = net(x1, x2), CompiledNet(net, bf16=True)(x1, x2)
    assert all(o.dtype == torch.float32 and o.shape == r.shape for o, r in zip(out, ref))
    assert float((out.fused - ref.fused).abs().max()) < 0.05
    assert inductor.freezing is False  # frozen only inside the call


@pytest.mark.slow
@pytest.mark.parametrize("runtime, tolerance", [("compile", 1), ("compile-bf16", 8)])
def test_compiled_fuser_matches_eager(lively_weights, runtime, tolerance):
    """torch.compile needs a C++ compiler and tens of seconds per size: slow."""
    rng = np.random.default_rng(2)
    a, b = smooth_image(rng, 40, 48), smooth_image(rng, 40, 48, 1)
    expected = Fuser.from_pretrained(lively_weights, device="cpu").fuse(a, b)
    got = Fuser.from_pretrained(lively_weights, device="cpu", runtime=runtime).fuse(a, b)
    assert 10 < expected.mean() < 245
    assert np.abs(got.astype(int) - expected.astype(int)).max() <= tolerance


def _cache_in(monkeypatch, xdg) -> None:
    """Point the ONNX export cache at ``$XDG_CACHE_HOME/defusion`` (no DEFUSION_CACHE)."""
    monkeypatch.delenv("DEFUSION_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(xdg))


def test_auto_runs_pytorch_when_the_cache_folder_is_a_file(tiny_weights, tmp_path, monkeypatch, capsys):
    """XDG_CACHE_HOME naming a regular file: a cache warning that names the folder, not an ONNX Runtime one."""
    from defusion.fusion.runtime import OnnxCacheError, load_network
    from defusion.model.denet import DeNet

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    _cache_in(monkeypatch, blocker)
    from defusion.io.notes import as_lines

    with as_lines():  # the command's way: a line on stderr (a Python caller gets a DefusionWarning)
        assert isinstance(load_network(tiny_weights, "auto"), DeNet)
    err = capsys.readouterr().err
    assert f"warning: cannot write the ONNX cache folder {blocker / 'defusion'}" in err
    assert "DEFUSION_CACHE or XDG_CACHE_HOME" in err and "using PyTorch" in err
    assert "could not run the model" not in err
    with pytest.raises(OnnxCacheError, match="--runtime torch"):  # asked for ONNX Runtime by name: an error
        load_network(tiny_weights, "onnxruntime")


def test_auto_runs_pytorch_when_a_folder_above_the_cache_cannot_be_made(tiny_weights, tmp_path, monkeypatch, capsys):
    """HOME=/proc/1: making ~/.cache fails with FileNotFoundError, which is not a missing weights file."""
    import defusion.fusion.onnx_runtime as onnx_runtime  # where load_network looks it up
    from defusion.fusion.runtime import load_network
    from defusion.model.denet import DeNet
    from defusion.model.weights import WeightsError

    _cache_in(monkeypatch, tmp_path / "home" / ".cache")
    above = str(tmp_path / "home" / ".cache")

    def unwritable_home(weights, on_export=None):
        raise FileNotFoundError(2, "No such file or directory", above)

    monkeypatch.setattr(onnx_runtime, "cached_onnx_export", unwritable_home)
    from defusion.errors import DefusionWarning

    with pytest.warns(DefusionWarning, match="cannot write the ONNX cache folder") as said:
        assert isinstance(load_network(tiny_weights, "auto"), DeNet)
    assert f"cannot write the ONNX cache folder {above}/defusion (No such file or directory: {above})" in \
        str(said[0].message)

    def unreadable_elsewhere(weights, on_export=None):  # an OS error about another path is no cache problem
        raise FileNotFoundError(2, "No such file or directory", str(tmp_path / "elsewhere"))

    monkeypatch.setattr(onnx_runtime, "cached_onnx_export", unreadable_elsewhere)
    with pytest.raises(FileNotFoundError, match="elsewhere"):
        load_network(tiny_weights, "auto")
    monkeypatch.undo()
    with pytest.raises(WeightsError):  # a missing weights file stays an error
        load_network(tmp_path / "missing.safetensors", "auto")

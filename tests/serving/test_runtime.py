"""``runtime="onnxruntime"``: the same weights through ONNX Runtime, exported once into a cache."""

from __future__ import annotations

import numpy as np
import pytest

from defusion.cli.main import main
from defusion.fusion.fuser import Fuser
from defusion.io.images import read_image, write_image
from defusion.model.weights import WeightsError
from defusion.fusion.onnx_runtime import OnnxDeNet, cached_onnx_export
from tests.conftest import smooth_image

pytest.importorskip("onnxruntime")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DEFUSION_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_same_fusion_as_torch_and_exported_once(cache, lively_weights, capsys):
    rng = np.random.default_rng(5)
    a, b = smooth_image(rng, 37, 45), smooth_image(rng, 37, 45, 1)
    from defusion.errors import DefusionNote

    with pytest.warns(DefusionNote, match="exporting the model to ONNX once"):
        fast = Fuser.from_pretrained(lively_weights, device="cpu", runtime="onnxruntime", threads=1)
    assert isinstance(fast.model, OnnxDeNet)
    exports = list((cache / "onnx").iterdir())
    assert len(exports) == 1 and exports[0].suffix == ".onnx"
    expected = Fuser.from_pretrained(lively_weights, device="cpu").fuse(a, b)
    got = fast.fuse(a, b)
    assert 10 < expected.mean() < 245
    assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1
    # second use: the cached export, no new file, no message
    again = cached_onnx_export(lively_weights)
    assert again == exports[0] and capsys.readouterr().err == ""


def test_different_weights_get_their_own_export(cache, tiny_weights, lively_weights):
    assert cached_onnx_export(tiny_weights) != cached_onnx_export(lively_weights)


def test_bad_choices_are_clear_errors(cache, tmp_path, tiny_weights):
    with pytest.raises(ValueError, match="unknown runtime"):
        Fuser.from_pretrained(tiny_weights, runtime="tensorrt")
    with pytest.raises(ValueError, match="half=True"):
        Fuser.from_pretrained(tiny_weights, runtime="onnxruntime", half=True)
    with pytest.raises(WeightsError):
        Fuser.from_pretrained(tmp_path / "missing.safetensors", runtime="onnxruntime")
    assert not (cache / "onnx").exists()  # nothing written for a bad weights file


def test_cli_runtime_option(cache, tmp_path, tiny_weights, capsys):
    rng = np.random.default_rng(6)
    a = write_image(tmp_path / "a.png", smooth_image(rng, 40, 48))
    b = write_image(tmp_path / "b.png", smooth_image(rng, 40, 48))
    out = tmp_path / "f.png"
    assert main(["fuse", str(a), str(b), "-o", str(out), "--weights", str(tiny_weights), "--runtime",
                 "onnxruntime", "--no-progress"]) == 0
    assert read_image(out).shape == (40, 48, 3)
    code = main(["fuse", str(a), str(b), "-o", str(out), "--onnx", str(next((cache / "onnx").iterdir())),
                 "--runtime", "compile", "--no-progress"])
    assert code == 2 and "--runtime" in capsys.readouterr().err  # an exported model runs on ONNX Runtime only


def test_concurrent_exports_of_the_same_weights_do_not_clash(cache, tiny_weights):
    """Two processes exporting at once (e.g. two benchmarks) each write their own temporary."""
    import subprocess
    import sys

    code = ("import sys; from defusion.fusion.onnx_runtime import cached_onnx_export; "
            "print(cached_onnx_export(sys.argv[1]))")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tiny_weights)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, encoding="utf-8") for _ in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in results]
    assert len({out.strip() for out, _ in results}) == 1
    assert [p.name for p in (cache / "onnx").iterdir()] == [results[0][0].strip().rsplit("/", 1)[1]]


def test_load_onnx_fuser_takes_a_task_like_from_pretrained(cache, tiny_weights):
    from defusion.fusion.fuser import FuseOptions
    from defusion.fusion.onnx_runtime import load_onnx_fuser

    path = cached_onnx_export(tiny_weights)
    fuser = load_onnx_fuser(path, task="ivf", scale=1)
    assert fuser.options == FuseOptions.for_task("ivf", scale=1)
    with pytest.raises(ValueError, match="unknown task"):
        load_onnx_fuser(path, task="thermal")


def test_cpu_sessions_run_without_the_memory_pattern_planner(cache, tiny_weights):
    # the planner held a planned shape's buffers across a pass: 0.35-0.49 GB more peak at 6-24 MP, no faster
    model = Fuser.from_pretrained(tiny_weights, device="cpu", runtime="onnxruntime", threads=1).model
    assert isinstance(model, OnnxDeNet) and model.providers == ["CPUExecutionProvider"]
    assert model._session.get_session_options().enable_mem_pattern is False

"""scripts/fuse_with_onnx.py: a pipeline without defusion gets `defusion fuse`'s image from the export."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from defusion import Fuser
from defusion.io.images import read_image
from defusion.serving.export import export_model
from defusion.model.weights import load_weights
from tests.conftest import REPO, run_script, smooth_image

SCRIPT = REPO / "scripts" / "fuse_with_onnx.py"


@pytest.fixture(scope="module")
def onnx_file(lively_weights, tmp_path_factory):
    pytest.importorskip("onnxruntime")
    path = tmp_path_factory.mktemp("standalone") / "tiny.onnx"
    return export_model(load_weights(lively_weights), path, "onnx")


@pytest.mark.parametrize("task, scale, tolerance", [(None, 1, 1), ("ivf", 1, 1), ("mef", 2, 3)])
def test_the_standalone_recipe_gives_defusion_fuses_image(onnx_file, lively_weights, tmp_path, task, scale, tolerance):
    rng = np.random.default_rng(5)
    visible, infrared = smooth_image(rng, 45, 61), smooth_image(rng, 45, 61, 1)
    Image.fromarray(visible).save(tmp_path / "a.png")
    Image.fromarray(infrared).save(tmp_path / "b.png")
    out = tmp_path / "fused.png"
    args = ["--scale", scale] + (["--task", task] if task else [])
    run_script(SCRIPT, onnx_file, tmp_path / "a.png", tmp_path / "b.png", "-o", out, *args)
    fuser = Fuser.from_pretrained(lively_weights, runtime="torch", task=task, scale=scale, tile=0)
    expected = fuser.fuse(read_image(tmp_path / "a.png"), read_image(tmp_path / "b.png"))
    got = np.asarray(Image.open(out))
    assert got.shape == expected.shape == (45, 61, 3)
    difference = np.abs(got.astype(int) - expected)
    # scale 2 up-samples with OpenCV's bicubic, not PyTorch's: a grey level or two at the borders
    assert difference.max() <= tolerance and difference.mean() < 0.2, (difference.max(), difference.mean())

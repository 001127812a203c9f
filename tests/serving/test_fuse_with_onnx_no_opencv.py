"""defusion.serving.fuse_with_onnx without OpenCV: it fuses at the exports' default scale (2), and
refuses what still needs OpenCV in one line.

Audit: copied out of the package with cv2 hidden, `python fuse_with_onnx.py fp32.onnx vis.png ir.png
-o sa.png --task ivf` died with a ModuleNotFoundError traceback from its bicubic up-sampling, which the
file's metadata asks for (scale 2) for every task.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from defusion.serving import fuse_with_onnx
from tests.conftest import smooth_image

SCRIPT = Path(fuse_with_onnx.__file__)
#: What each run may take: a fusion of a small pair on the tiny network, onnxruntime's start included.
TIMEOUT_S = 120


@pytest.fixture(scope="module")
def onnx_file(lively_weights, tmp_path_factory):
    pytest.importorskip("onnxruntime")
    from defusion.fusion.export import export_model
    from defusion.model.weights import load_weights

    path = tmp_path_factory.mktemp("core2_standalone") / "tiny.onnx"
    return export_model(load_weights(lively_weights), path, fmt="onnx")


@pytest.fixture()
def without_opencv(tmp_path) -> Path:
    """The file copied out of the package, beside a cv2 that cannot be imported (first on the path)."""
    hidden = tmp_path / "hidden" / "cv2"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'cv2'\")\n", encoding="utf-8")
    return Path(shutil.copy(SCRIPT, tmp_path / "fuse_with_onnx.py"))


def _run(script: Path, *args) -> subprocess.CompletedProcess:
    """The copied file run with cv2 hidden (one thread, so that tests beside it keep their cores)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(script.parent / "hidden")}
    return subprocess.run([sys.executable, str(script), *map(str, args)], capture_output=True, text=True,
                          encoding="utf-8", timeout=TIMEOUT_S, env=env)


def test_the_up_sampling_is_the_cores_and_opencvs_bicubic():
    import cv2
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(2)
    for scale, (h, w) in ((2, (37, 53)), (3, (8, 5)), (4, (1, 6))):
        y = rng.random((h, w)).astype(np.float32)
        got = fuse_with_onnx.upsample(y, scale)
        core = F.interpolate(torch.from_numpy(y)[None, None], scale_factor=scale, mode="bicubic",
                             align_corners=False)[0, 0].numpy()
        opencv = cv2.resize(y, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        assert got.dtype == np.float32 and got.shape == (scale * h, scale * w)
        assert np.abs(got - core).max() < 1e-5 and np.abs(got - opencv).max() < 1e-5


def test_the_default_scale_fuses_without_opencv(onnx_file, without_opencv, tmp_path):
    rng = np.random.default_rng(11)
    Image.fromarray(smooth_image(rng, 45, 61)).save(tmp_path / "vis.png")
    Image.fromarray(smooth_image(rng, 45, 61, 1)).save(tmp_path / "ir.png")
    proc = _run(without_opencv, onnx_file, tmp_path / "vis.png", tmp_path / "ir.png", "-o", tmp_path / "sa.png",
                "--task", "ivf")
    assert proc.returncode == 0, proc.stderr
    fused = np.asarray(Image.open(tmp_path / "sa.png"))
    assert fused.shape == (45, 61, 3) and fused.std() > 5


def test_what_still_needs_opencv_is_refused_in_one_line_before_the_model_loads(without_opencv, tmp_path):
    rng = np.random.default_rng(12)
    Image.fromarray(smooth_image(rng, 20, 30)).save(tmp_path / "vis.png")
    deep = (smooth_image(rng, 20, 30, 1).astype(np.uint16) * 257)
    Image.fromarray(deep).save(tmp_path / "deep.png")  # 16-bit grey, full range: 16-bit out
    proc = _run(without_opencv, tmp_path / "no.onnx", tmp_path / "vis.png", tmp_path / "deep.png",
                "-o", tmp_path / "f.png")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == ("fuse_with_onnx.py: error: writing 16-bit " + str(tmp_path / "f.png") + " needs "
                                   "OpenCV (pip install opencv-python-headless), or name an 8-bit format with -o "
                                   "(.jpg, .bmp)")
    assert not (tmp_path / "f.png").exists()


def test_images_of_different_sizes_are_refused_in_one_line_before_the_model_runs(without_opencv, tmp_path):
    """The exported graph itself fails with onnxruntime's cryptic Gather error on such a pair."""
    rng = np.random.default_rng(13)
    Image.fromarray(smooth_image(rng, 20, 30)).save(tmp_path / "a.png")
    Image.fromarray(smooth_image(rng, 24, 30)).save(tmp_path / "b.png")
    proc = _run(without_opencv, tmp_path / "no.onnx", tmp_path / "a.png", tmp_path / "b.png", "-o", tmp_path / "f.png")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "the images differ in size: 30x20 vs 30x24" in proc.stderr

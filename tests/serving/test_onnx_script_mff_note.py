"""An integrator's audit of the standalone ONNX script (second round): --task mff writes the network's
reconstruction, not `defusion fuse --task mff`'s pixels from the sources, and now says so."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

from defusion.fusion.export import export_model
from defusion.model.weights import load_weights
from tests.conftest import smooth_image
from tests.serving.test_fuse_with_onnx import SCRIPT, _run


@pytest.fixture(scope="module")
def pair_and_model(lively_weights, tmp_path_factory):
    pytest.importorskip("onnxruntime")
    folder = tmp_path_factory.mktemp("mff_note")
    rng = np.random.default_rng(3)
    for name in ("near.png", "far.png"):
        Image.fromarray(smooth_image(rng, 24, 32)).save(folder / name)
    return folder, export_model(load_weights(lively_weights), folder / "tiny.onnx", fmt="onnx")


@pytest.mark.parametrize("task", ["mff", "mef", None])
def test_task_mff_says_in_one_line_that_it_writes_the_reconstruction_not_the_sources_pixels(pair_and_model, task):
    """The audit: --task mff wrote the reconstruction (Qabf 0.729 against defusion fuse --task mff's 0.777)
    with no word of it."""
    folder, model = pair_and_model
    args = ["--scale", 1] + (["--task", task] if task else [])
    proc = _run(model, folder / "near.png", folder / "far.png", "-o", folder / f"{task}.png", *args)
    assert proc.returncode == 0, proc.stderr
    noted = [line for line in proc.stderr.splitlines() if "reconstruction" in line]
    if task == "mff":
        assert len(noted) == 1 and "note:" in noted[0] and "defusion fuse --task mff" in noted[0], proc.stderr
        assert "source in focus" in noted[0]
    else:
        assert noted == [], proc.stderr


def test_the_note_needs_nothing_of_defusion(pair_and_model, tmp_path):
    """Copied out beside the export, with any import of defusion failing, it still says it and fuses."""
    folder, model = pair_and_model
    copied = shutil.copy(SCRIPT, tmp_path / "fuse_with_onnx.py")
    poisoned = tmp_path / "poisoned" / "defusion"
    poisoned.mkdir(parents=True)
    (poisoned / "__init__.py").write_text("raise ImportError('imported defusion')\n", encoding="utf-8")
    proc = _run(model, folder / "near.png", folder / "far.png", "-o", tmp_path / "out.png", "--task", "mff",
                "--scale", 1, command=(str(copied),), env={"PYTHONPATH": str(poisoned.parent)})
    assert proc.returncode == 0, proc.stderr
    assert "fuse_with_onnx.py: note: --task mff here writes the network's reconstruction" in proc.stderr

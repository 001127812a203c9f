"""defusion.serving.fuse_with_onnx: a pipeline without defusion gets `defusion fuse`'s image from the export,
whether it runs the module of an installed wheel or the file copied out of it."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from defusion import Fuser
from defusion.io.images import read_image
from defusion.fusion.export import export_model
from defusion.model.weights import load_weights
from defusion.serving import fuse_with_onnx
from tests.conftest import REPO, smooth_image

#: How a wheel user runs it; and the file itself, which a deployment copies next to its export.
MODULE = "defusion.serving.fuse_with_onnx"
SCRIPT = Path(fuse_with_onnx.__file__)
#: What each run may take: a fusion of a small pair on the tiny network, onnxruntime's start included.
TIMEOUT_S = 120


def _run(*args, command: tuple[str, ...] = ("-m", MODULE), env: dict | None = None) -> subprocess.CompletedProcess:
    """The tool as a user runs it (one thread, so that tests beside it keep their cores): its result."""
    return subprocess.run([sys.executable, *command, *map(str, args)], capture_output=True, text=True, encoding="utf-8",
                          timeout=TIMEOUT_S, env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})})


def run_script(*args) -> subprocess.CompletedProcess:
    """:func:`_run`, required to succeed."""
    proc = _run(*args)
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def onnx_file(lively_weights, tmp_path_factory):
    pytest.importorskip("onnxruntime")
    path = tmp_path_factory.mktemp("standalone") / "tiny.onnx"
    return export_model(load_weights(lively_weights), path, fmt="onnx")


@pytest.mark.parametrize("task, scale, tolerance", [(None, 1, 1), ("ivf", 1, 1), ("mef", 2, 3)])
def test_the_standalone_recipe_gives_defusion_fuses_image(onnx_file, lively_weights, tmp_path, task, scale, tolerance):
    rng = np.random.default_rng(5)
    visible, infrared = smooth_image(rng, 45, 61), smooth_image(rng, 45, 61, 1)
    Image.fromarray(visible).save(tmp_path / "a.png")
    Image.fromarray(infrared).save(tmp_path / "b.png")
    out = tmp_path / "fused.png"
    args = ["--scale", scale] + (["--task", task] if task else [])
    run_script(onnx_file, tmp_path / "a.png", tmp_path / "b.png", "-o", out, *args)
    fuser = Fuser.from_pretrained(lively_weights, runtime="torch", task=task, scale=scale, tile=0)
    expected = fuser.fuse(read_image(tmp_path / "a.png"), read_image(tmp_path / "b.png"))
    got = np.asarray(Image.open(out))
    assert got.shape == expected.shape == (45, 61, 3)
    difference = np.abs(got.astype(int) - expected)
    # scale 2 up-samples with OpenCV's bicubic, not PyTorch's: a grey level or two at the borders
    assert difference.max() <= tolerance and difference.mean() < 0.2, (difference.max(), difference.mean())


@pytest.mark.parametrize("deep", ["grey", "colour"])
def test_a_16_bit_source_gives_a_16_bit_image_as_defusion_fuse_does(onnx_file, lively_weights, tmp_path, deep):
    """The audit: the script wrote 8 bits where `defusion fuse` keeps 16-bit in, 16-bit out."""
    import cv2

    rng = np.random.default_rng(6)
    visible, infrared = smooth_image(rng, 45, 61), smooth_image(rng, 45, 61, 1)
    def fine(image: np.ndarray) -> np.ndarray:  # 16-bit data with all 16 bits used
        return (image.astype(np.uint16) * 257 + rng.integers(0, 257, image.shape)).astype(np.uint16)

    if deep == "grey":  # over the full range: no raw thermal frame for the core to stretch
        cv2.imwrite(str(tmp_path / "a.png"), cv2.cvtColor(visible, cv2.COLOR_RGB2BGR))
        cv2.imwrite(str(tmp_path / "b.png"), fine(infrared))
    else:  # Pillow reads 16-bit colour as 8 bits: the script must not
        cv2.imwrite(str(tmp_path / "a.png"), cv2.cvtColor(fine(visible), cv2.COLOR_RGB2BGR))
        cv2.imwrite(str(tmp_path / "b.png"), infrared)
    out = tmp_path / "fused.png"
    run_script(onnx_file, tmp_path / "a.png", tmp_path / "b.png", "-o", out, "--scale", 1, "--task", "ivf")
    fuser = Fuser.from_pretrained(lively_weights, runtime="torch", task="ivf", scale=1, tile=0)
    expected = fuser.fuse(read_image(tmp_path / "a.png"), read_image(tmp_path / "b.png"))
    got = cv2.cvtColor(cv2.imread(str(out), cv2.IMREAD_UNCHANGED), cv2.COLOR_BGR2RGB)
    assert got.dtype == expected.dtype == np.uint16 and got.shape == expected.shape == (45, 61, 3)
    difference = np.abs(got.astype(int) - expected) / 257.0  # in 8-bit grey levels
    assert difference.max() <= 1 and difference.mean() < 0.2, (difference.max(), difference.mean())


def test_a_grey_pair_from_a_lossy_codec_stays_grey_as_defusion_fuse_keeps_it(onnx_file, lively_weights, tmp_path):
    """The review: the script took grey as R = G = B exactly; the core allows color.GREY_SPREAD."""
    rng = np.random.default_rng(7)
    for name, grey in (("a.png", smooth_image(rng, 45, 61, 1)), ("b.png", smooth_image(rng, 45, 61, 1))):
        grey = np.clip(grey.astype(int), 2, 253)
        lossy = np.dstack([grey + rng.integers(0, 2, grey.shape), grey, grey - rng.integers(0, 3, grey.shape)])
        Image.fromarray(lossy.astype(np.uint8)).save(tmp_path / name)  # channels up to 3 levels apart
    out = tmp_path / "fused.png"
    run_script(onnx_file, tmp_path / "a.png", tmp_path / "b.png", "-o", out, "--scale", 1, "--task", "ivf")
    fuser = Fuser.from_pretrained(lively_weights, runtime="torch", task="ivf", scale=1, tile=0)
    expected = fuser.fuse(read_image(tmp_path / "a.png"), read_image(tmp_path / "b.png"))
    got = np.asarray(Image.open(out))
    assert got.shape == expected.shape == (45, 61)
    difference = np.abs(got.astype(int) - expected)
    assert difference.max() <= 1 and difference.mean() < 0.2, (difference.max(), difference.mean())


def _refusal(model, *args) -> str:
    """The script's one line on stderr for a refused input (exit status 2)."""
    proc = _run(model, *args)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fuse_with_onnx.py: error: "), proc.stderr
    return lines[0]


def test_a_raw_thermal_frame_is_refused_rather_than_lost(onnx_file, tmp_path):
    """The audit: raw counts 7000-8152 in a 16-bit frame fused as a flat grey (the result correlated
    0.999 with the visible image), where `defusion fuse` stretches them."""
    import cv2

    rng = np.random.default_rng(8)
    cv2.imwrite(str(tmp_path / "ir.png"), (7000 + rng.integers(0, 1153, (45, 61))).astype(np.uint16))
    Image.fromarray(smooth_image(rng, 45, 61)).save(tmp_path / "vis.png")
    line = _refusal(onnx_file, tmp_path / "vis.png", tmp_path / "ir.png", "-o", tmp_path / "fused.png")
    assert re.search(rf"{re.escape(str(tmp_path / 'ir.png'))} looks like a raw 16-bit frame \(values 70\d\d to "
                     r"81\d\d of 0-65535", line), line
    assert "stretch it to the full range first, or use `defusion fuse`" in line
    assert not (tmp_path / "fused.png").exists()


def test_unreadable_inputs_are_one_line_and_exit_status_2(tmp_path):
    """Refused before the model loads (none is given here): once a PIL traceback."""
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "a.png")
    (tmp_path / "notes.txt").write_text("not an image", encoding="utf-8")
    out = tmp_path / "fused.png"
    refused = _refusal("denet.onnx", tmp_path / "notes.txt", tmp_path / "a.png", "-o", out)
    assert "notes.txt is not an image Pillow can read" in refused
    refused = _refusal("denet.onnx", tmp_path / "a.png", tmp_path / "gone.png", "-o", out)
    assert f"cannot read {tmp_path / 'gone.png'}: No such file or directory" in refused


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch 2.9+ deprecates torch.jit
def test_a_model_file_it_cannot_load_is_one_line_and_exit_status_2(tmp_path):
    """The audit: a TorchScript .pt, a missing or a corrupt model file gave onnxruntime's traceback (exit
    status 1), where docs/serving.md promises one line and exit status 2."""
    import torch

    pytest.importorskip("onnxruntime")
    rng = np.random.default_rng(9)
    for name in ("a.png", "b.png"):
        Image.fromarray(smooth_image(rng, 16, 16)).save(tmp_path / name)
    pair = (tmp_path / "a.png", tmp_path / "b.png", "-o", tmp_path / "fused.png")
    gone = tmp_path / "gone.onnx"
    assert _refusal(gone, *pair).endswith(f"cannot read {gone}: No such file or directory")
    scripted = tmp_path / "denet.pt"
    torch.jit.trace(torch.nn.Linear(2, 2), torch.zeros(1, 2)).save(str(scripted))
    assert _refusal(scripted, *pair).endswith(f"{scripted} is a TorchScript export, not an ONNX export: give the "
                                              ".onnx file (defusion export --format onnx -o denet.onnx)")
    pickled = tmp_path / "state.pt"
    torch.save({"x": torch.zeros(1)}, pickled)
    assert f"{pickled} is a PyTorch file (a zip archive), not an ONNX export" in _refusal(pickled, *pair)
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model at all")
    assert _refusal(junk, *pair).endswith(f"{junk} is not an ONNX model onnxruntime can load (Protobuf parsing "
                                          "failed): give the .onnx file (defusion export --format onnx -o denet.onnx)")
    assert not (tmp_path / "fused.png").exists()


def test_the_docs_say_what_the_parity_test_asserts():
    """The audit: docs/serving.md said "identical at scale 1", but 3 of 405,900 values differ by 1 grey
    level (rounding), which the test above allows (tolerance 1)."""
    doc = (REPO / "docs" / "serving.md").read_text(encoding="utf-8")
    assert "identical at scale 1" not in doc
    assert "within 1 grey level at scale 1 (rounding" in doc
    marks = test_the_standalone_recipe_gives_defusion_fuses_image.pytestmark
    cases = next(m.args[1] for m in marks if m.name == "parametrize")
    assert {tolerance for _, scale, tolerance in cases if scale == 1} == {1}


def test_it_imports_nothing_of_defusion():
    """Copied next to an export, it runs where defusion is not installed: no import of defusion, anywhere."""
    found = [node.lineno for node in ast.walk(ast.parse(SCRIPT.read_text(encoding="utf-8")))
             if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "defusion" for a in node.names)
             or isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(".")[0] == "defusion")]
    assert not found, f"{SCRIPT.name} imports defusion at lines {found}"


def test_the_file_copied_out_of_the_package_fuses_without_defusion(onnx_file, tmp_path):
    """The file alone beside the export, with any import of defusion made to fail: the module's image."""
    rng = np.random.default_rng(10)
    Image.fromarray(smooth_image(rng, 45, 61)).save(tmp_path / "a.png")
    Image.fromarray(smooth_image(rng, 45, 61, 1)).save(tmp_path / "b.png")
    run_script(onnx_file, tmp_path / "a.png", tmp_path / "b.png", "-o", tmp_path / "module.png", "--task", "mef")
    copied = shutil.copy(SCRIPT, tmp_path / "fuse_with_onnx.py")
    poisoned = tmp_path / "poisoned" / "defusion"  # first on the path: shadows the installed package
    poisoned.mkdir(parents=True)
    (poisoned / "__init__.py").write_text("raise ImportError('the standalone tool imported defusion')\n",
                                          encoding="utf-8")
    proc = _run(onnx_file, tmp_path / "a.png", tmp_path / "b.png", "-o", tmp_path / "copy.png", "--task", "mef",
                command=(str(copied),), env={"PYTHONPATH": str(poisoned.parent)})
    assert proc.returncode == 0, proc.stderr
    assert np.array_equal(np.asarray(Image.open(tmp_path / "copy.png")), np.asarray(Image.open(tmp_path / "module.png")))


def test_the_docs_and_the_export_name_the_module_a_wheel_holds():
    """The audit: README, docs/serving.md and `defusion export`'s line sent wheel users to
    scripts/fuse_with_onnx.py, which no wheel holds."""
    from defusion.cli import export

    for path in (REPO / "README.md", REPO / "docs" / "serving.md", Path(export.__file__)):
        text = path.read_text(encoding="utf-8")
        assert "scripts/fuse_with_onnx" not in text
        assert f"python -m {MODULE}" in text

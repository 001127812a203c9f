"""defusion.serving.fuse_with_onnx's ``is_torchscript`` is a copy of defusion.model.weights'
``is_torchscript_export`` (the script imports nothing of defusion, so that it runs alone beside an export):
both must tell the same files apart, or the standalone tool drifts from ``defusion fuse`` without a test
noticing (as test_cleanup_onnx_constants keeps the script's numbers in step)."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Callable

import pytest
import torch

from defusion.model.registry import create_model
from defusion.model.weights import is_torchscript_export, save_weights
from defusion.serving import fuse_with_onnx


def torchscript_file(folder: Path) -> Path:
    path = folder / "scripted.pt"
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(path))
    return path


def torch_save_file(folder: Path) -> Path:
    """A zip too (torch.save's format), but with no code: not TorchScript."""
    path = folder / "state.pt"
    torch.save(torch.nn.Linear(2, 2).state_dict(), path)
    return path


def safetensors_file(folder: Path) -> Path:
    path = folder / "tiny.safetensors"
    save_weights(create_model("defusion-tiny"), path)
    return path


def onnx_file(folder: Path) -> Path:
    onnx = pytest.importorskip("onnx")
    graph = onnx.helper.make_graph([onnx.helper.make_node("Identity", ["x"], ["y"])], "g",
                                   [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])],
                                   [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])])
    path = folder / "identity.onnx"
    onnx.save(onnx.helper.make_model(graph), str(path))
    return path


def zip_with(*names: str) -> Callable[[Path], Path]:
    """A zip holding empty members ``names``: the near misses of a TorchScript archive's layout."""
    def make(folder: Path) -> Path:
        path = folder / f"zip{len(names)}-{abs(hash(names))}.pt"
        with zipfile.ZipFile(path, "w") as archive:
            for name in names:
                archive.writestr(name, b"")
        return path
    return make


def garbage_file(folder: Path) -> Path:
    path = folder / "garbage.pt"
    path.write_bytes(b"PK\x03\x04 not really a zip" + bytes(range(256)))
    return path


def empty_file(folder: Path) -> Path:
    path = folder / "empty.pt"
    path.write_bytes(b"")
    return path


#: Each input -> what both checks must say of it.
INPUTS: dict[str, tuple[Callable[[Path], Path], bool]] = {
    "torchscript": (torchscript_file, True),
    "torch.save": (torch_save_file, False),
    "safetensors": (safetensors_file, False),
    "onnx": (onnx_file, False),
    "code without constants": (zip_with("m/code/__torch__.py"), False),
    "constants without code": (zip_with("m/constants.pkl", "m/data.pkl"), False),
    "code and constants": (zip_with("m/code/__torch__.py", "m/constants.pkl"), True),
    "garbage": (garbage_file, False),
    "empty": (empty_file, False),
    "missing": (lambda folder: folder / "missing.pt", False),
    "folder": (lambda folder: folder, False),
}


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_the_standalone_check_agrees_with_the_cores(name, tmp_path):
    make, expected = INPUTS[name]
    path = make(tmp_path)
    core, standalone = is_torchscript_export(path), fuse_with_onnx.is_torchscript(str(path))
    assert core == standalone == expected, (f"{name}: weights.is_torchscript_export says {core}, "
                                            f"fuse_with_onnx.is_torchscript {standalone}: change the standalone copy")


def test_the_inputs_tell_a_drifted_copy_apart(tmp_path):
    """The check's teeth: a copy that looks for the code alone says otherwise on one of the inputs."""
    def drifted(path: str) -> bool:
        try:
            with zipfile.ZipFile(path) as archive:
                return any("/code/" in name for name in archive.namelist())
        except (zipfile.BadZipFile, OSError):
            return False

    paths = {name: make(tmp_path) for name, (make, _) in INPUTS.items() if name != "onnx"}
    assert any(drifted(str(path)) != is_torchscript_export(path) for path in paths.values())

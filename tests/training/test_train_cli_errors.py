"""`defusion train` failures a user can cause: one `defusion: error:` line and exit status 2, work kept."""

from __future__ import annotations

import errno
import pathlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from safetensors import SafetensorError

from defusion.cli.main import main
from defusion.training.checkpoint import CHECKPOINT_NAME, checkpoint_step

TINY = ["--model", "defusion-tiny", "--batch-size", "2", "--crop", "32", "--workers", "0", "--no-progress"]
#: What safetensors raises when the disk fills up under it.
DISK_FULL = "Error while serializing: I/O error: No space left on device (os error 28)"


@pytest.fixture
def image_folder(tmp_path) -> Path:
    root = tmp_path / "images"
    root.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray((rng.random((40 + i, 50, 3)) * 255).astype(np.uint8)).save(root / f"{i}.png")
    return root


def _one_error_line(capsys, *parts: str) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("defusion: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    for part in parts:
        assert part in lines[0], lines[0]
    return lines[0]


def test_data_that_is_a_file_is_called_a_file(image_folder, tmp_path, capsys):
    assert main(["train", "--data", str(image_folder / "0.png"), "--out", str(tmp_path / "run"), *TINY]) == 2
    line = _one_error_line(capsys, "0.png", "is a file, not a folder")
    assert "not found" not in line
    assert main(["train", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "run"), *TINY]) == 2
    _one_error_line(capsys, "training folder not found")


def test_unreadable_images_are_named_even_without_a_progress_bar(image_folder, tmp_path, capsys):
    (image_folder / "notes.jpg").write_text("not a picture", encoding="utf-8")
    assert main(["train", "--data", str(image_folder), "--out", str(tmp_path / "run"), "--max-steps", "3",
                 *TINY]) == 0
    err = capsys.readouterr().err
    assert err.count("defusion: warning: skipping") == 1 and "notes.jpg" in err and "not an image" in err


def test_out_that_is_a_file_is_one_line(image_folder, tmp_path, capsys):
    (tmp_path / "taken").write_text("", encoding="utf-8")
    assert main(["train", "--data", str(image_folder), "--out", str(tmp_path / "taken"), *TINY]) == 2
    _one_error_line(capsys, "taken", "is a file, not a folder")
    assert main(["train", "--data", str(image_folder), "--out", str(tmp_path / "taken" / "run"), "--max-steps", "1",
                 *TINY]) == 2
    _one_error_line(capsys, "cannot write", "Not a directory")


def test_a_read_only_out_is_one_line(image_folder, tmp_path, capsys, monkeypatch):
    out = tmp_path / "ro" / "run"
    mkdir = pathlib.Path.mkdir

    def read_only(self, *args, **kwargs):  # what mkdir says on a read-only file system (as root too)
        if str(self).startswith(str(out)):
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return mkdir(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "mkdir", read_only)
    assert main(["train", "--data", str(image_folder), "--out", str(out), "--max-steps", "1", *TINY]) == 2
    _one_error_line(capsys, "cannot write", str(out), "Read-only file system")


def test_a_full_disk_at_a_checkpoint_is_one_line_and_keeps_the_last_checkpoint(image_folder, tmp_path, capsys,
                                                                               monkeypatch):
    import defusion.training.checkpoint as checkpoint

    out = tmp_path / "run"
    save_file, calls = checkpoint.save_file, []

    def fills_up(tensors, filename, metadata=None):  # the second checkpoint finds the disk full half-way
        calls.append(filename)
        if len(calls) == 1:
            return save_file(tensors, filename, metadata=metadata)
        Path(filename).write_bytes(b"partial")
        raise SafetensorError(DISK_FULL)

    monkeypatch.setattr(checkpoint, "save_file", fills_up)
    assert main(["train", "--data", str(image_folder), "--out", str(out), "--max-steps", "3", "--checkpoint-every",
                 "1", *TINY]) == 2
    ckpt = out / "checkpoints" / CHECKPOINT_NAME
    _one_error_line(capsys, f"cannot write {ckpt}: No space left on device", "step 1", "--resume")
    assert checkpoint_step(ckpt) == 1 and sorted(p.name for p in ckpt.parent.iterdir()) == [CHECKPOINT_NAME]
    monkeypatch.undo()  # space freed: the run goes on from its checkpoint
    assert main(["train", "--data", str(image_folder), "--out", str(out), "--max-steps", "3", "--resume", *TINY]) == 0
    assert checkpoint_step(ckpt) == 3


def test_a_full_disk_at_the_final_weights_is_one_line(image_folder, tmp_path, capsys, monkeypatch):
    import defusion.model.weights as weights

    def full(*args, **kwargs):
        raise SafetensorError(DISK_FULL)

    monkeypatch.setattr(weights, "save_file", full)
    out = tmp_path / "run"
    assert main(["train", "--data", str(image_folder), "--out", str(out), "--max-steps", "2", *TINY]) == 2
    _one_error_line(capsys, f"cannot write {out / 'weights.safetensors'}: No space left on device", "step 2")


def test_resuming_with_another_architecture_names_both(image_folder, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--data", str(image_folder), "--out", str(out), "--max-steps", "1", *TINY]) == 0
    capsys.readouterr()
    assert main(["train", "--data", str(image_folder), "--out", str(out), "--max-steps", "2", "--resume",
                 "--model", "defusion", *TINY[2:]]) == 2
    line = _one_error_line(capsys, "holds a 'defusion-tiny' network", "asks for 'defusion'", "--model defusion-tiny")
    assert "size mismatch" not in line and "state_dict" not in line
    assert checkpoint_step(out / "checkpoints" / CHECKPOINT_NAME) == 1


def test_load_checkpoint_refuses_another_architecture_with_a_value_error(tmp_path):
    import torch

    from defusion.model.registry import create_model
    from defusion.training.checkpoint import TrainState, load_checkpoint, save_checkpoint

    tiny = create_model("defusion-tiny")
    path = tmp_path / CHECKPOINT_NAME
    save_checkpoint(path, tiny, torch.optim.Adam(tiny.parameters()), TrainState(step=5), {"model": "defusion-tiny"})
    big = create_model("defusion")
    with pytest.raises(ValueError, match="holds a 'defusion-tiny' network, this run asks for 'defusion'"):
        load_checkpoint(path, big, torch.optim.Adam(big.parameters()))
    again = create_model("defusion-tiny")
    assert load_checkpoint(path, again, torch.optim.Adam(again.parameters())).step == 5


def test_resuming_from_a_damaged_checkpoint_is_one_line(image_folder, tmp_path, capsys):
    out = tmp_path / "run"
    (out / "checkpoints").mkdir(parents=True)
    (out / "checkpoints" / CHECKPOINT_NAME).write_bytes(b"\x10\x00\x00\x00 cut short")
    assert main(["train", "--data", str(image_folder), "--out", str(out), "--resume", *TINY]) == 2
    _one_error_line(capsys, "is not a readable training checkpoint")

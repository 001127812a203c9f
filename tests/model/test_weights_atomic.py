"""save_weights writes through defusion.io.atomic.atomic_path: a failed write keeps the old file and
leaves no temporary (it left ``NAME.tmp`` behind)."""

from __future__ import annotations

import errno
import os

import pytest

from defusion.model import weights
from defusion.model.registry import create_model


def _full_disk(tensors, filename, metadata=None):
    """safetensors' save_file on a disk that fills after a few bytes."""
    with open(filename, "wb") as f:
        f.write(b"partial")
    raise OSError(errno.ENOSPC, "No space left on device")


def test_weights_that_fail_to_save_leave_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    net = create_model("defusion-tiny")
    path = tmp_path / "w.safetensors"
    weights.save_weights(net, path)
    before = path.read_bytes()
    monkeypatch.setattr(weights, "save_file", _full_disk)
    with pytest.raises(OSError):
        weights.save_weights(net, path)
    assert os.listdir(tmp_path) == ["w.safetensors"] and path.read_bytes() == before


def test_weights_are_readable_by_anyone_and_leave_only_themselves(tmp_path):
    path = tmp_path / ("w" * 243 + ".safetensors")  # 255 bytes: NAME.tmp would be too long
    weights.save_weights(create_model("defusion-tiny"), path)
    assert os.listdir(tmp_path) == [path.name] and path.stat().st_mode & 0o777 == 0o644

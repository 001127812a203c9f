"""A run's checkpoint and its metrics.csv are replaced through defusion.io.atomic.atomic_path: a failed
write keeps the old file and leaves no temporary (open_log left ``metrics.csv.tmp`` behind)."""

from __future__ import annotations

import csv
import errno
import os

import pytest
import torch

from defusion.training import checkpoint, metrics_log

#: A log of two steps, as a run killed after step 2 with its checkpoint at step 1 left it.
_LOG = "step,total\n1,0.5\n2,0.4\n"


def _full_disk(tensors, filename, metadata=None):
    """safetensors' save_file on a disk that fills after a few bytes."""
    with open(filename, "wb") as f:
        f.write(b"partial")
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_checkpoint_that_fails_to_save_leaves_the_old_one_and_no_temporary(tmp_path, monkeypatch):
    model = torch.nn.Linear(2, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    path = tmp_path / checkpoint.CHECKPOINT_NAME
    checkpoint.save_checkpoint(path, model, optimizer, checkpoint.TrainState(step=1), {})
    before = path.read_bytes()
    monkeypatch.setattr(checkpoint, "save_file", _full_disk)
    with pytest.raises(OSError) as err:
        checkpoint.save_checkpoint(path, model, optimizer, checkpoint.TrainState(step=2), {})
    assert err.value.errno == errno.ENOSPC and err.value.filename == str(path)
    assert os.listdir(tmp_path) == [path.name] and path.read_bytes() == before


class _FullDiskWriter(csv.DictWriter):
    """A CSV writer whose disk fills after the first row."""

    def writerows(self, rows):
        super().writerows(rows[:1])
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_log_rewrite_that_fails_leaves_the_old_log_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / metrics_log.LOG_NAME
    path.write_text(_LOG, encoding="utf-8")
    monkeypatch.setattr(metrics_log.csv, "DictWriter", _FullDiskWriter)
    with pytest.raises(OSError):
        metrics_log.open_log(path, ("step", "total"), resume_step=1)
    assert os.listdir(tmp_path) == [path.name] and path.read_text(encoding="utf-8") == _LOG
    monkeypatch.undo()
    log_file, _ = metrics_log.open_log(path, ("step", "total"), resume_step=1)
    log_file.close()
    assert path.read_text(encoding="utf-8").splitlines() == ["step,total", "1,0.5"]
    assert os.listdir(tmp_path) == [path.name]

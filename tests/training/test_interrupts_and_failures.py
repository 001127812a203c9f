"""What a run keeps when it is interrupted or fails part-way: the last completed step, exactly."""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from defusion.model.weights import weights_metadata
from defusion.training.checkpoint import CHECKPOINT_NAME, checkpoint_step
from defusion.training.config import TrainConfig
from defusion.training.trainer import train

TINY = dict(model="defusion-tiny", batch_size=2, crop=32, workers=0, log_every=2)



def _adam_step(ckpt: Path) -> float:
    with safe_open(str(ckpt), "pt") as f:
        return f.get_tensor("optim.0.step").item()


def test_an_interrupt_inside_the_optimizer_update_saves_that_step_and_resumes_exactly(images, tmp_path, monkeypatch):
    """Ctrl-C landing in Adam's update once saved step N+1's weights labelled step N (Adam's counter
    one ahead), and a resume trained that step twice."""
    import defusion.training.trainer as trainer

    whole = tmp_path / "whole"
    train(images, whole, TrainConfig(**TINY, max_steps=6), progress=False)

    real_optimizer = trainer.make_optimizer

    def make_optimizer(params, lr):
        optimizer, updates = real_optimizer(params, lr), {"n": 0}

        def after_update(opt, args, kwargs):  # still inside optimizer.step()
            updates["n"] += 1
            if updates["n"] == 3:
                os.kill(os.getpid(), signal.SIGINT)

        optimizer.register_step_post_hook(after_update)
        return optimizer

    monkeypatch.setattr(trainer, "make_optimizer", make_optimizer)
    # Python's Ctrl-C handler, even where this suite runs with SIGINT ignored (a shell's background job)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    out = tmp_path / "interrupted"
    try:
        with pytest.raises(KeyboardInterrupt):
            train(images, out, TrainConfig(**TINY, max_steps=6), progress=False)
    finally:
        signal.signal(signal.SIGINT, previous)
    ckpt = out / "checkpoints" / CHECKPOINT_NAME
    assert checkpoint_step(ckpt) == 3 and _adam_step(ckpt) == 3
    monkeypatch.undo()
    train(images, out, TrainConfig(**TINY, max_steps=6), resume=True, progress=False)
    a, b = load_file(str(whole / "weights.safetensors")), load_file(str(out / "weights.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a), "the resumed run should match the uninterrupted one"


_WORKER_DIES = """
import os, signal, sys
from torch.utils.data import get_worker_info
import defusion.data.dataset as dataset
original, reads = dataset.NaturalImages.__getitem__, {"n": 0}
def getitem(self, index):
    info = get_worker_info()
    if info is not None and info.id == 0:
        reads["n"] += 1
        if reads["n"] == int(os.environ["DIE_AT_READ"]):
            os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer does; the other worker lives on
    return original(self, index)
dataset.NaturalImages.__getitem__ = getitem
from defusion.cli.main import main
sys.exit(main(["train", *sys.argv[1:]]))
"""


def _processes_naming(marker: str) -> list[int]:
    """Processes whose command line holds ``marker`` (a trainer and its data workers)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                found.append(int(pid))
        except OSError:
            pass
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; SIGKILL")
def test_a_data_worker_that_dies_is_one_line_saves_the_last_step_and_exits(images, tmp_path):
    """It printed a traceback and then hung for ever: the surviving worker ignores SIGTERM, and the
    exit waited on it."""
    out = tmp_path / "worker-died"
    cmd = [sys.executable, "-c", _WORKER_DIES, "--data", str(images), "--out", str(out), "--model", "defusion-tiny",
           "--batch-size", "2", "--crop", "32", "--workers", "2", "--epoch-samples", "400", "--max-steps", "1000",
           "--checkpoint-every", "1000", "--no-progress"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", "DIE_AT_READ": "20"}
    try:
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, encoding="utf-8")
    finally:
        for pid in _processes_naming(str(out)):  # a hang would leave them: end them, then fail
            os.kill(pid, signal.SIGKILL)
    err = result.stderr
    assert result.returncode == 1 and "Traceback" not in err, err[-3000:]  # the run failed, not its input
    said = re.search(r"defusion: error: a data loader worker died after step (\d+) \(DataLoader worker .*\); "
                     r"saved the checkpoint of step \1 \(go on with defusion train --data .* --out .* --resume\)", err)
    assert said, err
    step = int(said.group(1))
    assert checkpoint_step(out / "checkpoints" / CHECKPOINT_NAME) == step > 0
    assert weights_metadata(out / "weights.safetensors")["steps"] == str(step)
    # logged, as a stop's last step is (log_every: 10)
    with open(out / "metrics.csv", newline="", encoding="utf-8") as f:
        assert [row["step"] for row in csv.DictReader(f)][-1] == str(step)
    assert not _processes_naming(str(out)), "no data worker may outlive the run"

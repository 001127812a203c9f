"""What a resume keeps exact (schedule, samples seen, where the run started, its log) and what a
new run never overwrites; a DDP job that loses a process keeps its last completed step."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch.distributed as dist
from PIL import Image
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from defusion.cli.main import main
from defusion.model.weights import weights_metadata
from defusion.training.checkpoint import CHECKPOINT_NAME, checkpoint_state
from defusion.training.config import TrainConfig
from defusion.training.trainer import DivergedError, RunDirError, train
from tests.conftest import free_port

TINY = dict(model="defusion-tiny", batch_size=2, crop=32, workers=0, log_every=1)
TINY_CLI = ["--model", "defusion-tiny", "--batch-size", "2", "--crop", "32", "--workers", "0", "--no-progress"]


def _add_images(root, first: int, count: int) -> None:
    rng = np.random.default_rng(first)
    for i in range(first, first + count):
        Image.fromarray((rng.random((40, 48, 3)) * 255).astype(np.uint8)).save(root / f"{i}.png")


@pytest.fixture
def images(tmp_path):
    root = tmp_path / "images"
    root.mkdir()
    _add_images(root, 0, 6)
    return root


def _log(out) -> list[dict[str, str]]:
    with open(out / "metrics.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_a_resume_that_would_move_the_schedule_is_refused_naming_old_and_new(images, tmp_path, monkeypatch):
    out = tmp_path / "run"
    train(images, out, TrainConfig(**TINY, max_steps=2), progress=False)
    ckpt = out / "checkpoints" / CHECKPOINT_NAME
    saved = ckpt.read_bytes()
    more = TrainConfig(**TINY, max_steps=4)
    monkeypatch.setenv("WORLD_SIZE", "2")  # as torchrun --nproc_per_node 2 sets it on rank 0
    with pytest.raises(ValueError, match="trained by 1 process; resuming it with 2 processes would move its "
                                         r"epochs and learning-rate schedule: resume it in one process"):
        train(images, out, more, resume=True, progress=False)
    assert not dist.is_initialized()  # refused before waiting for the other processes
    monkeypatch.delenv("WORLD_SIZE")
    with pytest.raises(ValueError, match=r"epoch_samples unset \(an epoch is one pass over --data\); resuming it "
                                         "with 4 would move"):
        train(images, out, TrainConfig(**TINY, max_steps=4, epoch_samples=4), resume=True, progress=False)
    _add_images(images, 6, 2)
    with pytest.raises(ValueError, match=f"one pass over 6 images; --data {images} now holds 8, which would move"):
        train(images, out, more, resume=True, progress=False)
    assert ckpt.read_bytes() == saved


def test_a_folder_that_grew_resumes_when_epoch_samples_sets_the_epoch(images, tmp_path):
    out = tmp_path / "run"
    cfg = TrainConfig(**TINY, max_steps=2, epoch_samples=4)
    train(images, out, cfg, progress=False)
    _add_images(images, 6, 2)  # the epochs stay 2 steps long: the schedule does not move
    train(images, out, TrainConfig(**TINY, max_steps=4, epoch_samples=4), resume=True, progress=False)
    assert checkpoint_state(out / "checkpoints" / CHECKPOINT_NAME).images == 8


def test_samples_seen_and_init_are_kept_across_resumes(images, tmp_path, tiny_weights):
    out = tmp_path / "run"
    train(images, out, TrainConfig(**TINY, max_steps=2), progress=False, init_weights=tiny_weights)
    train(images, out, TrainConfig(**TINY, max_steps=5), resume=True, progress=False)
    state = checkpoint_state(out / "checkpoints" / CHECKPOINT_NAME)
    assert (state.step, state.samples_seen, state.world_size, state.images) == (5, 10, 1, 6)
    assert state.init == tiny_weights.name
    meta = weights_metadata(out / "weights.safetensors")
    assert meta["init"] == tiny_weights.name and meta["samples_seen"] == "10" and meta["steps"] == "5"
    assert [r["samples"] for r in _log(out)] == ["2", "4", "6", "8", "10"]


def test_a_checkpoint_from_before_these_records_resumes_as_before(images, tmp_path, tiny_weights):
    out = tmp_path / "run"
    train(images, out, TrainConfig(**TINY, max_steps=2), progress=False, init_weights=tiny_weights)
    ckpt = out / "checkpoints" / CHECKPOINT_NAME
    with safe_open(str(ckpt), "pt") as f:
        meta = f.metadata()
    for key in ("samples_seen", "world_size", "images", "init"):
        del meta[key]
    save_file(load_file(str(ckpt)), str(ckpt), metadata=meta)
    train(images, out, TrainConfig(**TINY, max_steps=3), resume=True, progress=False)
    meta = weights_metadata(out / "weights.safetensors")
    assert meta["samples_seen"] == "6"  # steps x batch, as such runs counted
    assert meta["init"] == tiny_weights.name  # from the weights the first invocation wrote


def test_a_new_run_never_overwrites_a_finished_runs_weights_or_log(images, tmp_path, capsys):
    out = tmp_path / "run"
    train(images, out, TrainConfig(**TINY, max_steps=2), progress=False)
    shutil.rmtree(out / "checkpoints")  # e.g. deleted to save space once the run was done
    weights, log = (out / "weights.safetensors").read_bytes(), (out / "metrics.csv").read_text(encoding="utf-8")
    events = sorted(p.name for p in (out / "tb").iterdir())
    capsys.readouterr()
    assert main(["train", "--data", str(images), "--out", str(out), "--max-steps", "2", *TINY_CLI]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"defusion: error: {out} already holds an earlier run's weights.safetensors and "
                          "metrics.csv") and "use another --out" in err and "Traceback" not in err
    assert (out / "weights.safetensors").read_bytes() == weights
    assert (out / "metrics.csv").read_text(encoding="utf-8") == log
    assert sorted(p.name for p in (out / "tb").iterdir()) == events
    (out / "weights.safetensors").unlink()  # a log of logged steps alone is work too
    with pytest.raises(RunDirError, match="earlier run's metrics.csv, which a new run would overwrite"):
        train(images, out, TrainConfig(**TINY, max_steps=2), progress=False)
    assert (out / "metrics.csv").read_text(encoding="utf-8") == log


class _Killed(BaseException):
    """A kill: nothing of the trainer's runs after it (no checkpoint, no weights)."""


def test_a_resume_drops_the_log_rows_written_past_its_checkpoint(images, tmp_path, monkeypatch, fail_in_step):
    fail_in_step(8, _Killed)
    out = tmp_path / "run"
    with pytest.raises(_Killed):
        train(images, out, TrainConfig(**TINY, max_steps=20, epoch_samples=20, checkpoint_every=5), progress=False)
    with open(out / "metrics.csv", "a", encoding="utf-8") as f:
        f.write("8,0,0.0")  # and a row cut short as it was written
    assert [r["step"] for r in _log(out)] == ["1", "2", "3", "4", "5", "6", "7", "8"]
    monkeypatch.undo()
    train(images, out, TrainConfig(**TINY, max_steps=9, epoch_samples=20, checkpoint_every=5), resume=True,
          progress=False)
    rows = _log(out)
    assert [int(r["step"]) for r in rows] == list(range(1, 10))  # no step twice: the plot never loops back
    assert [int(r["samples"]) for r in rows] == [2 * step for step in range(1, 10)]
    assert not [p.name for p in out.iterdir() if p.suffix == ".tmp"]  # the log's rewrite left no temporary


def test_divergence_before_the_first_checkpoint_says_none_was_written(images, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(DivergedError) as caught:
        train(images, out, TrainConfig(**TINY, max_steps=20, epoch_samples=40, checkpoint_every=100, lr=1e30),
              progress=False)
    message = str(caught.value)
    assert "training diverged; no checkpoint was written yet" in message and CHECKPOINT_NAME not in message
    assert not (out / "checkpoints" / CHECKPOINT_NAME).exists()
    # the advice works: with that run's log deleted, as the message says, a new run starts in the folder
    assert f"delete {out / 'metrics.csv'}" in message
    assert not (out / "weights.safetensors").exists()  # NaN weights are never written
    (out / "metrics.csv").unlink()
    train(images, out, TrainConfig(**TINY, max_steps=1, epoch_samples=40), progress=False)
    assert (out / "weights.safetensors").is_file()


def test_a_finished_run_names_the_one_option_that_extends_it(images, tmp_path, capsys):
    out = tmp_path / "steps"  # 3 steps per epoch: max_steps ends it long before its 50 epochs
    train(images, out, TrainConfig(**TINY, max_steps=2), progress=False)
    capsys.readouterr()
    train(images, out, TrainConfig(**TINY, max_steps=2), resume=True, progress=False)
    err = capsys.readouterr().err
    assert "already at step 2, the end of its schedule (max_steps 2, before its 50 epochs of 3 steps end; " \
           "pass a larger --max-steps to train on)" in err and "--epochs" not in err
    out = tmp_path / "epochs"
    train(images, out, TrainConfig(**TINY, epochs=1, max_steps=100), progress=False)
    capsys.readouterr()
    train(images, out, TrainConfig(**TINY, epochs=1, max_steps=100), resume=True, progress=False)
    err = capsys.readouterr().err
    assert "(its 1 epoch of 3 steps, before max_steps 100; pass a larger --epochs to train on)" in err
    assert "--max-steps" not in err


_FAILING_RANK = """
import os, sys
import defusion.training.trainer as trainer
real_step, calls = trainer.train_step, [0]
def step(*args, **kwargs):
    calls[0] += 1
    if os.environ["RANK"] == os.environ["FAIL_RANK"] and calls[0] == 3:
        if os.environ["AFTER_UPDATE"] == "1":  # the model is then one update past the steps counted
            real_step(*args, **kwargs)
        raise RuntimeError("simulated failure in this process")
    return real_step(*args, **kwargs)
trainer.train_step = step
from defusion.cli.main import main
sys.exit(main(["train", *sys.argv[1:]]))
"""




@pytest.mark.parametrize("fail_rank, after_update", [("1", "0"), ("0", "1")],
                         ids=["another-process-dies", "rank0-fails-mid-step"])
def test_a_ddp_job_that_loses_a_process_keeps_its_last_completed_step(images, tmp_path, capsys, fail_rank,
                                                                       after_update):
    script = tmp_path / "failing_rank.py"
    script.write_text(_FAILING_RANK, encoding="utf-8")
    out = tmp_path / "ddp"
    # A slow monitor: torchrun's SIGTERM to the survivor would otherwise race its own error.
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
           str(free_port()), "--monitor-interval", "3", str(script), "--data", str(images), "--out", str(out),
           "--max-steps", "10", "--epoch-samples", "40", "--checkpoint-every", "1000", *TINY_CLI]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "FAIL_RANK": fail_rank, "AFTER_UPDATE": after_update}
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, encoding="utf-8")
    assert result.returncode != 0
    ckpt = out / "checkpoints" / CHECKPOINT_NAME
    if after_update == "1":  # saving would record an update as not done: nothing is written
        assert not ckpt.exists() and not (out / "weights.safetensors").exists()
        assert "simulated failure in this process" in result.stderr
        return
    assert "defusion: error: the DDP job failed after step 2 (" in result.stderr, result.stderr[-3000:]
    state = checkpoint_state(ckpt)
    assert (state.step, state.samples_seen, state.world_size) == (2, 8, 2)
    meta = weights_metadata(out / "weights.safetensors")
    assert meta["steps"] == "2" and meta["samples_seen"] == "8"
    capsys.readouterr()
    assert main(["train", "--data", str(images), "--out", str(out), "--resume", *TINY_CLI]) == 2
    assert "trained by 2 processes; resuming it with 1 process" in capsys.readouterr().err


def test_the_init_weights_digest_is_recorded_and_kept_across_resumes(images, tmp_path, tiny_weights):
    """scripts/ship_weights.py matches a run to the weights it started from by it, whatever their name."""
    from defusion.model.weights import weights_digest

    out = tmp_path / "run"
    train(images, out, TrainConfig(**TINY, max_steps=2), progress=False, init_weights=tiny_weights)
    train(images, out, TrainConfig(**TINY, max_steps=3), resume=True, progress=False)
    assert weights_metadata(out / "weights.safetensors")["init_digest"] == weights_digest(tiny_weights)
    assert "init_digest" not in weights_metadata(_random_run(images, tmp_path) / "weights.safetensors")


def _random_run(images, tmp_path):
    out = tmp_path / "random"
    train(images, out, TrainConfig(**TINY, max_steps=1), progress=False)
    return out

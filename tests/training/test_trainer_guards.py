"""The training loop's guards: divergence, unreadable folders, resume mistakes, budgets, logs."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from PIL import Image

from defusion.model.weights import WeightsError, load_weights, weights_metadata
from defusion.training.checkpoint import CHECKPOINT_NAME
from defusion.training.config import TrainConfig
from defusion.training.trainer import DivergedError, Terminated, train

TINY = dict(model="defusion-tiny", batch_size=2, crop=32, workers=0, log_every=2)



def test_a_diverging_run_stops_and_keeps_its_last_finite_checkpoint(images, tmp_path):
    from safetensors.torch import load_file

    out = tmp_path / "run"
    train(images, out, TrainConfig(**TINY, max_steps=2), progress=False)
    with pytest.raises(DivergedError, match="training diverged; the last checkpoint before it is kept"):
        train(images, out, TrainConfig(**TINY, max_steps=9, lr=1e30), resume=True, progress=False)
    saved = load_file(str(out / "checkpoints" / CHECKPOINT_NAME))
    assert all(torch.isfinite(t).all() for t in saved.values())  # never overwritten with NaN
    load_weights(out / "weights.safetensors")  # the first run's weights, still finite


def test_weights_with_nan_are_refused(tmp_path):
    from defusion.model.registry import create_model
    from defusion.model.weights import save_weights

    model = create_model("defusion-tiny")
    with torch.no_grad():
        next(model.parameters()).fill_(float("nan"))
    save_weights(model, tmp_path / "nan.safetensors")
    with pytest.raises(WeightsError, match="NaN or infinite values"):
        load_weights(tmp_path / "nan.safetensors")


def test_a_folder_of_nothing_readable_is_an_error_not_a_run(tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("a.jpg", "b.jpg", "c.png"):
        (bad / name).write_text("not an image", encoding="utf-8")
    with pytest.raises(ValueError, match="could be read in the first 2 steps"):
        train(bad, tmp_path / "run", TrainConfig(**TINY, max_steps=4), progress=False)


def test_resume_mistakes_are_refused_or_said(images, tmp_path, capsys):
    out = tmp_path / "run"
    train(images, out, TrainConfig(**TINY, max_steps=2), progress=False)
    with pytest.raises(ValueError, match="give one of them"):
        train(images, out, TrainConfig(**TINY, max_steps=4), resume=True, progress=False,
              init_weights=out / "weights.safetensors")
    with pytest.raises(ValueError, match="trained with batch size 2; resuming it at 3"):
        train(images, out, TrainConfig(**{**TINY, "batch_size": 3}, max_steps=4), resume=True, progress=False)
    capsys.readouterr()
    train(images, out, TrainConfig(**TINY, max_steps=2), resume=True, progress=False)
    assert "already at step 2, the end of its schedule" in capsys.readouterr().err


def test_an_interrupt_writes_the_weights_so_far_and_says_how_to_go_on(images, tmp_path, capsys, fail_in_step):
    fail_in_step(3, KeyboardInterrupt)
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train(images, out, TrainConfig(**TINY, max_steps=10), progress=False)
    assert (f"stopped at step 2: checkpoint saved (go on with defusion train --data {images} --out {out} --resume)"
            in capsys.readouterr().err)  # a command to paste
    meta = weights_metadata(out / "weights.safetensors")
    assert meta["steps"] == "2" and meta["init"] == "random" and '"batch_size": 2' in meta["train_config"]
    load_weights(out / "weights.safetensors")


@pytest.mark.parametrize("stop", [KeyboardInterrupt, Terminated], ids=["ctrl-c", "sigterm"])
@pytest.mark.parametrize("log_every, logged", [(50, ["2"]), (2, ["2"]), (1, ["1", "2"])])
def test_an_interrupt_logs_the_step_it_stops_at_once(images, tmp_path, fail_in_step, stop, log_every, logged):
    """The audit: Ctrl-C at step 2 saved that step, but metrics.csv held only its header (the steps since
    the last log row were never logged), where a spent --max-seconds logs its last step."""
    fail_in_step(3, stop)
    out = tmp_path / "run"
    with pytest.raises(stop):
        train(images, out, TrainConfig(**{**TINY, "log_every": log_every}, max_steps=10), progress=False)
    rows = _log_rows(out)
    assert [r["step"] for r in rows] == logged  # step 2 once, whether it was logged already or not
    final_loss = float(weights_metadata(out / "weights.safetensors")["final_loss"])  # the weights' step's, to 5 places
    assert rows[-1]["epoch"] == "0" and rows[-1]["samples"] == "4" and abs(float(rows[-1]["total"]) - final_loss) < 1e-5


def test_a_resume_after_an_interrupt_logs_on_from_the_step_it_stopped_at(images, tmp_path, fail_in_step,
                                                                          monkeypatch):
    fail_in_step(4, KeyboardInterrupt)  # 3 steps of an epoch of 3 (6 images, batch 2): the next epoch's first fails
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train(images, out, TrainConfig(**{**TINY, "log_every": 50}, max_steps=10), progress=False)
    assert [(r["step"], r["epoch"]) for r in _log_rows(out)] == [("3", "0")]  # the epoch step 3 trained in
    monkeypatch.undo()
    train(images, out, TrainConfig(**{**TINY, "log_every": 50}, max_steps=5), resume=True, progress=False)
    assert [(r["step"], r["epoch"]) for r in _log_rows(out)] == [("3", "0"), ("5", "1")]


def _log_rows(out) -> list[dict[str, str]]:
    """metrics.csv's rows."""
    with open(out / "metrics.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_a_time_budget_ends_the_run_at_the_step_it_runs_out(images, tmp_path, capsys):
    out = tmp_path / "run"
    train(images, out, TrainConfig(**{**TINY, "log_every": 50}, max_steps=100, max_seconds=0.0), progress=False)
    assert weights_metadata(out / "weights.safetensors")["steps"] == "1"  # not the 50th, where it once looked
    assert "time budget (--max-seconds 0) ran out at step 1" in capsys.readouterr().err


def test_a_fresh_run_starts_its_log_afresh_and_a_resumed_one_takes_new_columns(images, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "metrics.csv").write_text("step,epoch\n", encoding="utf-8")  # left by a run stopped before it logged a step
    train(images, out, TrainConfig(**TINY, max_steps=2), progress=False)
    with open(out / "metrics.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["step"] for r in rows] == ["2"]
    train(images, out, TrainConfig(**TINY, max_steps=4, ssim_weight=0.25), resume=True, progress=False)
    with open(out / "metrics.csv", newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert "fused_ssim" in reader.fieldnames and [r["step"] for r in rows] == ["2", "4"]
    assert rows[0]["fused_ssim"] == "" and rows[1]["fused_ssim"] != ""


def test_divergence_is_one_line_from_the_cli(images, tmp_path, capsys):
    from defusion.cli.main import main

    args = ["train", "--data", str(images), "--out", str(tmp_path / "run"), "--model", "defusion-tiny",
            "--batch-size", "2", "--crop", "32", "--workers", "0", "--no-progress"]
    assert main([*args, "--max-steps", "2"]) == 0
    capsys.readouterr()
    assert main([*args, "--max-steps", "9", "--lr", "1e30", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "training diverged" in err and "Traceback" not in err


def test_a_run_that_reads_nothing_leaves_no_checkpoint_and_its_folder_takes_a_new_run(images, tmp_path):
    """An epoch shorter than log_every once ended in a checkpoint before the error, which then
    refused a rerun into the folder ('already holds a training run') and a resume ('the images
    changed')."""
    bad = tmp_path / "heic"
    bad.mkdir()
    for i in range(4):  # 2 steps an epoch, fewer than log_every
        (bad / f"{i}.jpg").write_text("not an image", encoding="utf-8")
    out = tmp_path / "run"
    with pytest.raises(ValueError, match="could be read in the first 5 steps .*nothing was learnt or saved"):
        train(bad, out, TrainConfig(**{**TINY, "log_every": 5, "checkpoint_every": 1}, max_steps=20), progress=False)
    assert not (out / "checkpoints" / CHECKPOINT_NAME).exists()
    train(images, out, TrainConfig(**TINY, max_steps=2), progress=False)  # the data fixed, the same --out
    assert weights_metadata(out / "weights.safetensors")["steps"] == "2"


def test_a_run_whose_time_budget_ends_before_any_image_was_read_saves_nothing(images, tmp_path, capsys):
    """--max-seconds ending a run at step 1, before the check at log_every: it once exited 0, said
    'checkpoint saved', wrote random weights and logged a step, which blocked its folder."""
    from defusion.cli.main import main

    bad = tmp_path / "bad"
    bad.mkdir()
    for i in range(4):
        (bad / f"{i}.jpg").write_text("not an image", encoding="utf-8")
    out = tmp_path / "run"
    args = ["train", "--data", str(bad), "--out", str(out), "--model", "defusion-tiny", "--batch-size", "2",
            "--crop", "32", "--workers", "0", "--max-steps", "100", "--max-seconds", "0.01", "--no-progress"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "no image under" in err and "nothing was learnt or saved" in err
    assert "checkpoint saved" not in err and "Traceback" not in err
    assert not (out / "weights.safetensors").exists() and not (out / "checkpoints" / CHECKPOINT_NAME).exists()
    train(images, out, TrainConfig(**TINY, max_steps=2), progress=False)  # the folder takes a new run
    assert weights_metadata(out / "weights.safetensors")["steps"] == "2"


def test_an_interrupt_before_any_image_was_read_saves_nothing(tmp_path, capsys, fail_in_step):
    bad = tmp_path / "bad"
    bad.mkdir()
    for i in range(4):
        (bad / f"{i}.jpg").write_text("not an image", encoding="utf-8")
    fail_in_step(2, KeyboardInterrupt)
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train(bad, out, TrainConfig(**TINY, max_steps=20), progress=False)
    assert "stopped at step 1, before any image was read: nothing was saved" in capsys.readouterr().err
    assert not (out / "checkpoints" / CHECKPOINT_NAME).exists() and not (out / "weights.safetensors").exists()


def test_skipped_samples_are_called_samples_and_old_checkpoints_still_resume(images, tmp_path):
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from defusion.training.checkpoint import checkpoint_state

    (images / "broken.jpg").write_text("not an image", encoding="utf-8")  # 7 files: in 3 steps of 2, drawn at most once
    out = tmp_path / "run"
    train(images, out, TrainConfig(**TINY, max_steps=3), progress=False)
    skipped = weights_metadata(out / "weights.safetensors")["skipped_samples"]
    ckpt = out / "checkpoints" / CHECKPOINT_NAME
    with safe_open(str(ckpt), "pt") as f:
        meta = f.metadata()
    assert meta["skipped_samples"] == skipped
    meta["skipped_images"] = "5"  # what older checkpoints called it
    del meta["skipped_samples"]
    save_file(load_file(str(ckpt)), str(ckpt), metadata=meta)
    assert checkpoint_state(ckpt).skipped_samples == 5


@pytest.mark.parametrize("rank, said", [("0", True), ("1", False)])
def test_too_few_samples_for_a_ddp_step_is_said_once_with_numbers_that_add_up(images, tmp_path, capsys, monkeypatch,
                                                                                rank, said):
    from defusion.cli.main import main

    monkeypatch.setenv("RANK", rank)
    monkeypatch.setenv("LOCAL_RANK", rank)
    monkeypatch.setenv("WORLD_SIZE", "2")
    args = ["train", "--data", str(images), "--out", str(tmp_path / "run"), "--model", "defusion-tiny",
            "--batch-size", "4", "--crop", "32", "--workers", "0", "--no-progress"]
    assert main(args) == 2
    err = capsys.readouterr().err
    if said:
        assert err.strip() == ("defusion: error: an epoch of 6 samples gives each of the 2 processes 3, fewer than "
                               "its batch of 4: a step needs 8 (batch 4 x 2 processes); use a smaller --batch-size, "
                               "fewer processes or a larger --epoch-samples")
    else:
        assert err == ""  # rank 0 says it for both


def test_a_new_run_deletes_only_tensorboards_event_files_in_tb(images, tmp_path):
    out = tmp_path / "run"
    (out / "tb" / "old").mkdir(parents=True)
    (out / "tb" / "events.out.tfevents.1.host").write_bytes(b"stale")
    (out / "tb" / "old" / "events.out.tfevents.2.host").write_bytes(b"stale")
    (out / "tb" / "notes.txt").write_text("mine", encoding="utf-8")
    train(images, out, TrainConfig(**TINY, max_steps=2), progress=False)
    assert (out / "tb" / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert not (out / "tb" / "events.out.tfevents.1.host").exists()
    assert not (out / "tb" / "old" / "events.out.tfevents.2.host").exists()


def test_a_run_ended_by_its_time_budget_logs_its_last_step(images, tmp_path):
    out = tmp_path / "run"
    train(images, out, TrainConfig(**{**TINY, "log_every": 50}, max_steps=100, max_seconds=0.0), progress=False)
    with open(out / "metrics.csv", newline="", encoding="utf-8") as f:
        assert [row["step"] for row in csv.DictReader(f)] == ["1"]


def test_images_smaller_than_the_crop_are_counted_at_the_end(images, tmp_path, capsys):
    Image.fromarray(np.zeros((20, 24, 3), np.uint8)).save(images / "small.png")  # under 32, over a quarter
    train(images, tmp_path / "run", TrainConfig(**TINY, max_steps=7), progress=False)
    err = capsys.readouterr().err
    assert err.count("small.png is 24x20, smaller than the 32x32 crop: its crops are up-sampled") == 1
    assert f"1 image under {images} (named above) is smaller than the 32x32 crop: trained on up-sampled" in err


def test_without_tensorboard_a_run_says_so_and_logs_no_events(tmp_path, monkeypatch, capsys):
    """tensorboard is the `train` extra: a run without it says where its losses are instead of failing."""
    import sys

    from defusion.training.metrics_log import summary_writer

    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # what an absent package imports as
    assert summary_writer(tmp_path / "tb", None) is None
    assert capsys.readouterr().err == ("defusion: note: no TensorBoard logs (tensorboard is not installed: pip install "
                                       "'defusion[train]'); metrics.csv holds the losses\n")
    assert not (tmp_path / "tb").exists()


def test_a_second_ctrl_c_during_the_save_is_ignored_and_the_run_is_kept(images, tmp_path, capsys, fail_in_step,
                                                                       monkeypatch):
    """An audit: a double Ctrl-C whose second press landed in the save lost the run (no checkpoint, no
    weights, nothing said)."""
    import os
    import signal

    from defusion.training import trainer as trainer_module

    real = trainer_module.save_checkpoint

    def pressed_again(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # the second press, as the checkpoint is written
        return real(*args, **kwargs)

    fail_in_step(3, KeyboardInterrupt)
    monkeypatch.setattr(trainer_module, "save_checkpoint", pressed_again)
    # Ctrl-C raises, as in a terminal: a shell starts a background job (a CI's) with SIGINT ignored
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        out = tmp_path / "run"
        with pytest.raises(KeyboardInterrupt):
            train(images, out, TrainConfig(**TINY, max_steps=10), progress=False)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # given back once the run ended
    finally:
        signal.signal(signal.SIGINT, before)
    assert "stopped at step 2: checkpoint saved" in capsys.readouterr().err
    assert weights_metadata(out / "weights.safetensors")["steps"] == "2"
    assert (out / "checkpoints" / CHECKPOINT_NAME).stat().st_mode & 0o777 == 0o644  # readable in a shared run


def test_a_log_files_last_progress_line_shows_the_last_steps_loss(images, tmp_path, capsys):
    """An audit: with output to a file the last line said the loss of the step logged before it."""
    import csv as csv_module

    out = tmp_path / "run"
    train(images, out, TrainConfig(**{**TINY, "log_every": 3}, max_steps=4), progress=True)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("training: 4/4 steps")]
    with open(out / "metrics.csv", encoding="utf-8", newline="") as f:
        last = list(csv_module.DictReader(f))[-1]
    assert last["step"] == "4" and lines and f"loss={float(last['total']):.4f}" in lines[-1], (lines, last)

"""A training run's progress where stderr is a log file (a scheduler's, ``2> log``): whole lines with
the loss in them, not tqdm's ``\\r`` redraws (:mod:`defusion.io.progress`); none with progress off."""

from __future__ import annotations

import sys

from defusion.training.config import TrainConfig
from defusion.training.trainer import train

TINY = dict(model="defusion-tiny", batch_size=2, crop=32, workers=0, log_every=2)


def _logged(tmp_path, monkeypatch, images, progress: bool) -> str:
    log = tmp_path / "log.txt"
    with open(log, "w", encoding="utf-8") as stream, monkeypatch.context() as m:
        m.setattr(sys, "stderr", stream)
        train(images, tmp_path / "run", TrainConfig(**TINY, max_steps=4), progress=progress)
    return log.read_text(encoding="utf-8")


def test_a_logged_run_says_its_steps_and_loss_in_whole_lines(images, tmp_path, monkeypatch):
    log = _logged(tmp_path, monkeypatch, images, progress=True)
    assert "\r" not in log
    lines = [line for line in log.splitlines() if line.startswith("training: ")]
    assert len(lines) == 1 and lines[0].startswith("training: 4/4 steps (100%), "), log  # a fast run: its end
    assert ", loss=" in lines[0] and ", img_s=" in lines[0], log


def test_no_progress_logs_no_steps(images, tmp_path, monkeypatch):
    log = _logged(tmp_path, monkeypatch, images, progress=False)
    assert "training: " not in log and "\r" not in log, log

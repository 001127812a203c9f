"""Fixtures of the training tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image


@pytest.fixture
def images(tmp_path) -> Path:
    """A folder of six small random RGB PNGs to train on."""
    root = tmp_path / "images"
    root.mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):
        Image.fromarray((rng.random((40, 48, 3)) * 255).astype(np.uint8)).save(root / f"{i}.png")
    return root


@pytest.fixture
def fail_in_step(monkeypatch):
    """``fail_in_step(n, exc)``: the trainer's ``n``-th call of ``train_step`` raises ``exc`` (an
    interrupt, a kill) instead of training; ``monkeypatch.undo()`` restores it."""
    import defusion.training.trainer as trainer

    def arm(n: int, exc: BaseException | type[BaseException]) -> None:
        calls, real_step = {"n": 0}, trainer.train_step

        def step(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == n:
                raise exc
            return real_step(*args, **kwargs)

        monkeypatch.setattr(trainer, "train_step", step)

    return arm

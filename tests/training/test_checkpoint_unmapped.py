"""A resumed run must not keep its checkpoint file mapped: Windows refuses to replace a file with a
mapped view open (WinError 1224), so the run's next save would fail."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from defusion.model.registry import create_model
from defusion.training.checkpoint import CHECKPOINT_NAME, TrainState, load_checkpoint, save_checkpoint

#: Linux lists a process's mapped files here; the audit's Windows emulation (win_mmap) reads it too.
MAPS = Path("/proc/self/maps")


def _mapped(path: Path) -> bool:
    """Whether this process has ``path`` mapped (a line of /proc/self/maps ends with it)."""
    target = os.path.realpath(path)
    return any(line.rstrip("\n").endswith(" " + target)
               for line in MAPS.read_text(encoding="utf-8", errors="replace").splitlines())


def _trained(model: torch.nn.Module) -> torch.optim.Optimizer:
    """An Adam optimizer over ``model`` after one step, so that it holds per-parameter state."""
    optimizer = torch.optim.Adam(model.parameters())
    for param in model.parameters():
        param.grad = torch.ones_like(param)
    optimizer.step()
    return optimizer


@pytest.mark.skipif(not MAPS.exists(), reason="needs /proc/self/maps (Linux)")
def test_load_checkpoint_leaves_the_file_unmapped_so_the_next_save_can_replace_it(tmp_path):
    path = tmp_path / CHECKPOINT_NAME
    model = create_model("defusion-tiny")
    save_checkpoint(path, model, _trained(model), TrainState(step=3), {"model": "defusion-tiny"})
    again = create_model("defusion-tiny")
    optimizer = torch.optim.Adam(again.parameters())
    assert load_checkpoint(path, again, optimizer).step == 3
    assert optimizer.state, "the optimizer state was restored"
    assert not _mapped(path)
    save_checkpoint(path, again, optimizer, TrainState(step=4), {"model": "defusion-tiny"})
    assert load_checkpoint(path, create_model("defusion-tiny"), optimizer).step == 4

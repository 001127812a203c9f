"""What a run writes of itself besides checkpoints: ``config.json`` and the inference weights, with
metadata saying what trained them and whether the run completed its schedule.

Weights that are no longer finite are never written: training diverged, and the error says which
checkpoint is left to resume from.
"""

from __future__ import annotations

import json
import math
from contextlib import nullcontext
from pathlib import Path
from typing import Callable

import torch

from defusion.model.weights import WEIGHTS_NAME, save_weights  # the name: model reads runs too
from defusion.training.checkpoint import TrainState
from defusion.training.config import TrainConfig
from defusion.training.errors import DivergedError
from defusion.training.metrics_log import LOG_NAME

#: The run's record of its config and training folder, in ``OUT``.
CONFIG_NAME = "config.json"
#: What the weights of a run that stopped before the end of its schedule record under ``stopped``.
STOPPED_INTERRUPTED, STOPPED_TERMINATED, STOPPED_BUDGET, STOPPED_FAILED = (
    "interrupted", "terminated", "time budget spent", "failed")


def finite_parameters(model: torch.nn.Module) -> bool:
    """Whether every weight is finite (one device sync: checked only when saving)."""
    return bool(torch.stack([torch.isfinite(p).all() for p in model.parameters()]).all())


def check_finite(loss: float, step: int, ckpt_path: Path) -> float:
    """``loss``, or DivergedError if it is not finite (its weights would be NaN from here on)."""
    if not math.isfinite(loss):
        kept = (f"the last checkpoint before it is kept ({ckpt_path}); resume from it with a lower --lr"
                if ckpt_path.is_file() else
                "no checkpoint was written yet, so there is nothing to resume: start a new run with a lower --lr "
                f"(another --out, or delete {ckpt_path.parent.parent / LOG_NAME}, this run's log, to reuse the folder)")
        raise DivergedError(f"the loss or weights became {loss} by step {step}: training diverged; {kept}")
    return loss


def run_record(cfg: TrainConfig, state: TrainState) -> dict:
    """What config.json says of a run: this invocation's config, the training folder (``data``, its
    file list's ``data_digest`` and ``images``), and the settings earlier resumes changed
    (``settings_changed``, only if any: the steps before each were trained without it)."""
    record = cfg.to_dict()
    record.update({name: getattr(state, name) for name in ("data", "data_digest", "images")
                   if getattr(state, name) is not None})
    if state.settings_changed:
        record["settings_changed"] = state.settings_changed
    return record


def write_weights(model: torch.nn.Module, out: Path, cfg: TrainConfig, state: TrainState, autocast: Callable,
                  planned_steps: int, stopped: str | None = None) -> Path:
    """The run's inference weights, with what they are in their metadata: steps (of ``planned_steps``,
    the schedule's; ``complete`` false and ``stopped`` saying why when the run stopped short of it),
    samples seen over all the run's invocations, the training folder (``data``, ``data_digest``,
    ``images``), where the run started (``init``), the training config (the last invocation's) and
    the settings resumes changed at which step (``settings_changed``)."""
    weights = out / WEIGHTS_NAME
    if not finite_parameters(model):
        raise DivergedError(f"the weights at step {state.step} are not finite: training diverged; not written")
    final_loss = f"{state.last_loss:.5f}" if state.last_loss is not None else "n/a"
    metadata = {
        "model": cfg.model,
        "steps": str(state.step),
        "planned_steps": str(planned_steps),
        "complete": "true" if stopped is None else "false",
        "samples_seen": str(state.samples_seen),
        "crop": str(cfg.crop),
        "final_loss": final_loss,
        "train_seconds": f"{state.elapsed_s:.0f}",
        "skipped_samples": str(state.skipped_samples),
        "precision": "bf16 autocast" if autocast is not nullcontext else "fp32",
        "train_config": json.dumps(cfg.to_dict()),
    }
    if state.settings_changed:  # train_config is the last invocation's: what the steps before used
        metadata["settings_changed"] = json.dumps(state.settings_changed, separators=(",", ":"))
    if stopped is not None:
        metadata["stopped"] = stopped
    metadata.update({name: str(getattr(state, name)) for name in ("init", "init_digest", "data", "data_digest", "images")
                     if getattr(state, name)})
    save_weights(model, weights, metadata=metadata)
    return weights

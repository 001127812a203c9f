"""Setting a training run up before its first step: the images and this process's sampler of them,
DeNet (seeded, from ``--init`` weights, or to be loaded from the checkpoint), a resume's progress
and what it changes, the network wrapped for DDP or compiled, and rank 0's outputs.

Each step refuses what it can before any process waits for the others, so every rank fails alike.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import DistributedSampler

from defusion.data.dataset import NaturalImages
from defusion.model.denet import DeNetConfig
from defusion.model.mfm import MaskedFeatureDecoder
from defusion.model.errors import WeightsError
from defusion.model.registry import create_model, list_models, model_config
from defusion.model.weights import RUN_CHECKPOINTS, load_weights
from defusion.training.checkpoint import (CHECKPOINT_NAME, TrainState, checkpoint_config, checkpoint_state,
                                          load_checkpoint)
from defusion.training.config import TrainConfig, TrainConfigError
from defusion.training.data_checks import none_readable, too_few_samples
from defusion.training.distributed import Distributed
from defusion.training.errors import SameOnEveryRankError
from defusion.training.metrics_log import LOG_FIELDS, TB_FOLDER, MetricsLog, clear_tb
from defusion.training.pretext import CUDWithMFM
from defusion.training.resume import (changed_settings, changes_note, check_resume, data_changes, data_note,
                                      weights_init)
from defusion.training.run_record import CONFIG_NAME, WEIGHTS_NAME, run_record


@dataclass(frozen=True)
class TrainingRun:
    """What one invocation of :func:`~defusion.training.trainer.train` trains, where, and as which
    process of the job."""

    data: str | Path
    out: Path
    cfg: TrainConfig
    ctx: Distributed
    resume: bool

    @property
    def ckpt_path(self) -> Path:
        return self.out / RUN_CHECKPOINTS / CHECKPOINT_NAME


def open_data(run: TrainingRun) -> tuple[NaturalImages, DistributedSampler, int, dict]:
    """The training images, this process's sampler of them, the steps of an epoch, and on resume the
    checkpoint's config (else ``{}``). Every rank refuses alike, before any waits for the others, a
    resume that would move the run's schedule or an epoch with no step."""
    cfg, ctx = run.cfg, run.ctx
    dataset = NaturalImages(run.data, crop=cfg.crop, seed=cfg.seed, length=cfg.epoch_samples,
                            grey_prob=cfg.grey_prob, crop_scale=cfg.crop_scale, max_pixels=cfg.max_pixels)
    dataset.quiet = not ctx.is_main  # rank 0 names what every process finds (read_report), once
    saved_cfg = checkpoint_config(run.ckpt_path) if run.resume else {}
    if run.resume:  # every rank refuses the same way, before any waits for the others
        check_resume(run.out, run.data, cfg, saved_cfg, checkpoint_state(run.ckpt_path), ctx.world_size,
                     len(dataset.files))
    sampler = DistributedSampler(dataset, num_replicas=ctx.world_size, rank=ctx.rank, shuffle=True,
                                 seed=cfg.seed, drop_last=True)
    steps_per_epoch = len(sampler) // cfg.batch_size
    if steps_per_epoch == 0:  # as the resume checks: before any rank waits for the others
        raise SameOnEveryRankError(none_readable(run.data, dataset) or
                                   too_few_samples(len(dataset), len(sampler), cfg.batch_size, ctx.world_size))
    return dataset, sampler, steps_per_epoch, saved_cfg


def planned_steps(cfg: TrainConfig, steps_per_epoch: int) -> int:
    """The steps of the run's schedule: its epochs', or ``max_steps`` if fewer (a spent time budget
    ends an invocation sooner, but not the schedule)."""
    total_steps = cfg.epochs * steps_per_epoch
    return total_steps if cfg.max_steps is None else min(total_steps, cfg.max_steps)


def build_model(cfg: TrainConfig, device: torch.device, resume: bool, init_weights: str | Path | None,
                ) -> tuple[torch.nn.Module, dict[str, torch.nn.Module], torch.nn.Module]:
    """DeNet, seeded alike on every rank and rerun (a new run from ``init_weights`` starts from them),
    on ``device``; the parts trained beside it (DeFusion++'s MFM decoder, by name); and the network
    a step trains (DeNet with those parts)."""
    torch.manual_seed(cfg.seed)  # same initial weights on every rank and every rerun
    model = create_model(cfg.model)
    if init_weights is not None and not resume:
        start = load_weights(init_weights)
        if start.cfg != model.cfg:
            raise WeightsError(_init_mismatch(init_weights, start.cfg, cfg.model))
        model.load_state_dict(start.state_dict())
    if cfg.reinit and not resume:  # on resume the checkpoint holds the relearnt parts
        if init_weights is None:
            raise TrainConfigError("reinit re-initialises parts of --init weights; pass --init")
        model.reset_parameters(*cfg.reinit)
    model = model.to(device)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    parts: dict[str, torch.nn.Module] = {}
    train_model: torch.nn.Module = model
    if cfg.mfm_weight:  # DeFusion++'s masked feature modelling: a decoder trained beside DeNet
        decoder = MaskedFeatureDecoder(model.fusion_head.in_channels, cfg.mfm).to(device)
        if cfg.channels_last:
            decoder = decoder.to(memory_format=torch.channels_last)
        parts["mfm_decoder"] = decoder
        train_model = CUDWithMFM(model, decoder)
    return model, parts, train_model


def _init_mismatch(init_weights: str | Path, weights_cfg: DeNetConfig, model: str) -> str:
    """Why ``--init`` weights (of DeNet config ``weights_cfg``) do not fit this run's ``model``, naming
    the registered network they are and the --model that trains them."""
    name = next((n for n in list_models() if model_config(n) == weights_cfg), None)
    if name is None:
        return (f"--init weights {init_weights} are not a {model!r} network (their DeNet settings are no registered "
                "model's): start from weights of this model, or pass the --model they are")
    return f"--init weights {init_weights} are a {name!r} network, not a {model!r} one: pass --model {name}"


def resumed_state(run: TrainingRun, dataset: NaturalImages, saved_cfg: dict, model: torch.nn.Module,
                  optimizer: torch.optim.Optimizer, parts: dict[str, torch.nn.Module], data_path: str,
                  data_digest: str) -> TrainState:
    """The checkpoint's progress, its model, optimizer and parts loaded; the settings and the data
    the resume changes are said (rank 0) and kept on record, since the steps before were trained
    without them."""
    cfg, ctx = run.cfg, run.ctx
    state = load_checkpoint(run.ckpt_path, model, optimizer, parts)
    if state.samples_seen is None:  # a checkpoint from before they were counted: as they were then
        state.samples_seen = state.step * cfg.batch_size * ctx.world_size
    if state.init is None:  # nor recorded there: the weights an earlier invocation wrote may say
        state.init = weights_init(run.out / WEIGHTS_NAME)
    changed = changed_settings(saved_cfg, cfg)
    moved = data_changes(state, data_path, data_digest)  # a note, not a refusal: data sets move
    if changed or moved:  # the steps before this one were trained with the old values: keep that on record
        state.settings_changed.append({"step": state.step, **changed, **moved})
    if changed and ctx.is_main:
        print(changes_note(state.step, changed), file=sys.stderr)
    if moved and ctx.is_main:
        print(data_note(run.out, run.data, state.step, moved, len(dataset.files), state.images), file=sys.stderr)
    return state


def wrap_for_training(train_model: torch.nn.Module, cfg: TrainConfig, ctx: Distributed,
                      device: torch.device) -> torch.nn.Module:
    """The network a step trains, wrapped for DDP in a job of several processes and compiled if asked
    (checkpoints and weights still come from the unwrapped model)."""
    if ctx.world_size > 1:
        train_model = torch.nn.parallel.DistributedDataParallel(
            train_model, device_ids=[ctx.local_rank] if device.type == "cuda" else None)
    if cfg.compile:  # wraps the module; checkpoints and weights still come from ``model``
        train_model = torch.compile(train_model)
    return train_model


def open_outputs(run: TrainingRun, state: TrainState) -> MetricsLog:
    """Rank 0's outputs of the run: the checkpoints' folder, config.json (rewritten by every
    invocation) and the logs, a new run's TensorBoard events cleared first."""
    out = run.out
    (out / RUN_CHECKPOINTS).mkdir(parents=True, exist_ok=True)
    (out / CONFIG_NAME).write_text(json.dumps(run_record(run.cfg, state), indent=2), encoding="utf-8")
    if not run.resume and (out / TB_FOLDER).is_dir():  # a run killed before its first log: nothing to keep
        clear_tb(out / TB_FOLDER)
    return MetricsLog(out, LOG_FIELDS + run.cfg.extra_loss_terms(), state.step if run.resume else None)

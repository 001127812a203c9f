"""CUD self-supervised training loop: single process or DDP under torchrun.

Resumable to the exact step: crops depend on (seed, epoch, index), CUD masks on
(seed, step, rank), and checkpoints hold model, optimizer and progress. Only rank 0
writes files.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import sys
import random
import signal
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, DistributedSampler
from tqdm import tqdm

from defusion.data.dataset import NaturalImages
from defusion.model.mfm import MaskedFeatureDecoder
from defusion.model.registry import create_model
from defusion.model.weights import load_weights, save_weights
from defusion.training.checkpoint import CHECKPOINT_NAME, TrainState, load_checkpoint, save_checkpoint
from defusion.training.config import TrainConfig
from defusion.training.pretext import CUDWithMFM
from defusion.training.step import autocast_for, make_optimizer, train_step

WEIGHTS_NAME = "weights.safetensors"
LOG_NAME = "metrics.csv"
#: Seconds to wait for a killed data worker to be reaped.
_WORKER_JOIN_S = 5.0
LOG_FIELDS = ("step", "epoch", "lr", "total", "common", "unique1", "unique2", "fused", "images_per_s", "elapsed_s")


class RunDirError(RuntimeError):
    """The run folder holds work that this call would overwrite."""


class DivergedError(RuntimeError):
    """The loss became NaN or infinite: the run stops with its last finite checkpoint kept."""


@dataclass(frozen=True)
class Distributed:
    """This process's place in a torchrun job (world size 1 when run directly)."""

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @classmethod
    def from_env(cls) -> "Distributed":
        return cls(int(os.environ.get("RANK", 0)), int(os.environ.get("LOCAL_RANK", 0)),
                   int(os.environ.get("WORLD_SIZE", 1)))

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def _device(ctx: Distributed) -> torch.device:
    if torch.cuda.is_available():
        torch.cuda.set_device(ctx.local_rank)
        return torch.device("cuda", ctx.local_rank)
    return torch.device("cpu")


def _batches(sampler: DistributedSampler, batch_size: int, skip: int) -> list[list[int]]:
    order = list(sampler)
    batches = [order[i:i + batch_size] for i in range(0, len(order) - batch_size + 1, batch_size)]
    return batches[skip:]


def _preview(views, out, x) -> torch.Tensor:
    """One row for TensorBoard: x1, x2, common, unique1, unique2, fused, x."""
    tiles = [views.x1, views.x2, out.common, out.unique1, out.unique2, out.fused, x]
    return torch.cat([t[0].detach().float().clamp(0, 1).cpu() for t in tiles], dim=-1)


def _open_log(path: Path, fields: tuple[str, ...], resume: bool):
    """The run's CSV log. A new run starts it afresh (a file left by a run killed before its first
    checkpoint belongs to no run); a resumed run appends, and a loss term a ``--config`` given on
    resume adds becomes a new column (earlier rows empty there), one it drops stays."""
    rows, header = [], None
    if resume and path.exists() and path.stat().st_size:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            header, rows = reader.fieldnames, list(reader)
    columns = list(header or fields) + [f for f in fields if header and f not in header]
    if header is not None and columns == list(header):
        log_file = open(path, "a", newline="")
        return log_file, csv.DictWriter(log_file, columns, extrasaction="ignore")
    log_file = open(path, "w", newline="")
    log = csv.DictWriter(log_file, columns, extrasaction="ignore")
    log.writeheader()
    log.writerows(rows)
    return log_file, log


def _finite_parameters(model: torch.nn.Module) -> bool:
    """Whether every weight is finite (one device sync: checked only when saving)."""
    return bool(torch.stack([torch.isfinite(p).all() for p in model.parameters()]).all())


def _finite(loss: float, step: int, ckpt_path: Path) -> float:
    """``loss``, or DivergedError if it is not finite (its weights would be NaN from here on)."""
    if not math.isfinite(loss):
        raise DivergedError(f"the loss or weights became {loss} by step {step}: training diverged; the last checkpoint "
                            f"before it is kept ({ckpt_path}); resume from it with a lower --lr")
    return loss


def _summary_writer(path: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is optional at run time
        return None
    return SummaryWriter(str(path))


def _checkpoint_on_sigterm():
    """Make SIGTERM (a scheduler's or `kill`'s stop) save a checkpoint like Ctrl-C does."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def stop(signum, frame):
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, stop)


def _worker_ignores_sigterm(_worker_id: int) -> None:
    """A SIGTERM to the whole process group (schedulers, `timeout`, `kill -- -PGID`) must reach the
    main process's checkpointing handler, not kill a data worker under it first (the main process
    would then fail with "DataLoader worker killed" and lose the steps since the last checkpoint).
    Workers still stop with the main process."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _start_shielded(loader: DataLoader):
    """Start the loader's workers with SIGTERM blocked, so they are born deaf to it (a child
    inherits the signal mask; no window before ``worker_init_fn`` runs); then unblock it here,
    where a pending SIGTERM is delivered to the checkpointing handler."""
    if not loader.num_workers or not hasattr(signal, "pthread_sigmask"):
        return iter(loader)
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        return iter(loader)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _stop_workers(batches) -> None:
    """Stop this epoch's data workers after an interrupt. The loader's own shutdown goes first (it
    also unregisters the workers, so their deaths raise no "worker killed" error); then a worker it
    failed to stop is killed: they ignore SIGTERM, so the terminate() that the loader and
    multiprocessing fall back on cannot stop one the interrupt caught inside that shutdown, and
    the exit would wait on it forever. Only the loader's own workers: a caller of `train` may have
    processes of its own."""
    shutdown = getattr(batches, "_shutdown_workers", None)  # torch's multi-process loader iterator
    if shutdown is None:
        return
    shutdown()
    for worker in batches._workers:
        if worker.is_alive():
            worker.kill()
            worker.join(timeout=_WORKER_JOIN_S)


def _out_of_time(cfg: TrainConfig, started: float, ctx: Distributed, device: torch.device) -> bool:
    """Whether this invocation's ``max_seconds`` is spent; under DDP every rank gets rank 0's answer,
    so all stop at the same step."""
    if cfg.max_seconds is None:
        return False
    spent = time.time() - started >= cfg.max_seconds
    if ctx.world_size == 1:
        return spent
    flag = torch.tensor(int(spent), device=device)
    dist.broadcast(flag, src=0)
    return bool(flag)


def train(data: str | Path, out: str | Path, cfg: TrainConfig, resume: bool = False,
          progress: bool = True, init_weights: str | Path | None = None) -> Path | None:
    """Train DeNet with the CUD pretext on the images under ``data``; returns the weights path.

    ``init_weights`` starts a new run from a weights file (e.g. the shipped weights) instead
    of a random initialisation; its architecture must match ``cfg.model``.

    Writes ``out/checkpoints/last.safetensors`` every ``cfg.checkpoint_every`` steps and at
    each epoch end, ``out/metrics.csv``, TensorBoard logs in ``out/tb`` and, when done,
    ``out/weights.safetensors`` (inference weights). Returns None on ranks other than 0.
    """
    ctx = Distributed.from_env()
    if ctx.world_size > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    device = _device(ctx)
    out = Path(out)
    ckpt_path = out / "checkpoints" / CHECKPOINT_NAME
    if ckpt_path.exists() and not resume:
        raise RunDirError(f"{out} already holds a training run; pass --resume to continue it or choose another --out")
    if resume and not ckpt_path.exists():
        raise RunDirError(f"nothing to resume: {ckpt_path} does not exist")
    if resume and init_weights is not None:
        raise ValueError("--init starts a new run from weights; --resume continues the run in --out from its "
                         "checkpoint: give one of them")
    if resume:
        from defusion.training.checkpoint import checkpoint_config

        before = checkpoint_config(ckpt_path).get("batch_size")
        if before is not None and before != cfg.batch_size:
            raise ValueError(f"the run in {out} was trained with batch size {before}; resuming it at "
                             f"{cfg.batch_size} would move its epochs and learning-rate schedule: leave "
                             "--batch-size out (or start a new run)")

    dataset = NaturalImages(data, crop=cfg.crop, seed=cfg.seed, length=cfg.epoch_samples,
                            grey_prob=cfg.grey_prob, crop_scale=cfg.crop_scale)
    sampler = DistributedSampler(dataset, num_replicas=ctx.world_size, rank=ctx.rank, shuffle=True,
                                 seed=cfg.seed, drop_last=True)
    steps_per_epoch = len(sampler) // cfg.batch_size
    if steps_per_epoch == 0:
        raise ValueError(f"{len(dataset)} samples per epoch are fewer than one batch of {cfg.batch_size} per process")
    total_steps = cfg.epochs * steps_per_epoch
    if cfg.max_steps is not None:
        total_steps = min(total_steps, cfg.max_steps)

    torch.manual_seed(cfg.seed)  # same initial weights on every rank and every rerun
    model = create_model(cfg.model)
    if init_weights is not None and not resume:
        start = load_weights(init_weights)
        if start.cfg != model.cfg:
            raise ValueError(f"--init weights {init_weights} are not a {cfg.model!r} network")
        model.load_state_dict(start.state_dict())
    if cfg.reinit and not resume:  # on resume the checkpoint holds the relearnt parts
        if init_weights is None:
            raise ValueError("reinit re-initialises parts of --init weights; pass --init")
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
    optimizer = make_optimizer(train_model.parameters(), lr=cfg.lr)
    state = TrainState()
    if resume:
        state = load_checkpoint(ckpt_path, model, optimizer, parts)
    if ctx.world_size > 1:
        train_model = torch.nn.parallel.DistributedDataParallel(
            train_model, device_ids=[ctx.local_rank] if device.type == "cuda" else None)
    if cfg.compile:  # wraps the module; checkpoints and weights still come from ``model``
        train_model = torch.compile(train_model)
    autocast = autocast_for(device, cfg.amp)
    generator = torch.Generator(device=device)

    writer, log_file, log = None, None, None
    if ctx.is_main:
        (out / "checkpoints").mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))
        if not resume and (out / "tb").is_dir():  # a run killed before its first checkpoint: nothing to keep
            shutil.rmtree(out / "tb")
        writer = _summary_writer(out / "tb")
        log_file, log = _open_log(out / LOG_NAME, LOG_FIELDS + cfg.extra_loss_terms(), resume)

    last_loss: torch.Tensor | None = None  # on the device; read only when logging or saving

    def checkpoint() -> None:
        if last_loss is not None:
            state.last_loss = _finite(float(last_loss), state.step, ckpt_path)
        if not _finite_parameters(model):  # an update after the last loss can blow up the weights
            _finite(float("nan"), state.step, ckpt_path)
        if ctx.is_main:
            save_checkpoint(ckpt_path, model, optimizer, state, cfg.to_dict(), parts)

    if resume and state.step >= total_steps and ctx.is_main:
        print(f"defusion: note: the run in {out} is already at step {state.step}, the end of its schedule "
              f"(max_steps {cfg.max_steps}, {cfg.epochs} epochs); pass a larger --max-steps or --epochs to train "
              "on; writing its weights", file=sys.stderr)
    bar = tqdm(total=total_steps, initial=state.step, disable=not (progress and ctx.is_main),
               unit="step", dynamic_ncols=True)
    budget_spent = False
    started, tick, tick_step = time.time(), time.time(), state.step
    elapsed_before = state.elapsed_s
    previous_sigterm = _checkpoint_on_sigterm()
    batches = None  # this epoch's loader iterator
    try:
        while state.step < total_steps:
            epoch, offset = divmod(state.step, steps_per_epoch)
            for group in optimizer.param_groups:
                group["lr"] = cfg.lr_at_epoch(epoch)
            sampler.set_epoch(epoch)
            dataset.set_epoch(epoch)
            loader = DataLoader(dataset, batch_sampler=_batches(sampler, cfg.batch_size, offset),
                                num_workers=cfg.workers, pin_memory=device.type == "cuda",
                                worker_init_fn=_worker_ignores_sigterm if cfg.workers else None)
            batches = _start_shielded(loader)
            for x, valid in batches:
                step_seed = cfg.seed * 1_000_003 + state.step * 1_009 + ctx.rank
                generator.manual_seed(step_seed)
                x = x.to(device, non_blocking=True)
                weight = valid.to(device=device, dtype=torch.float32, non_blocking=True)
                losses, views, output = train_step(
                    train_model, optimizer, x, weight, cfg.cud, generator=generator,
                    cells_rng=random.Random(step_seed), autocast=autocast, channels_last=cfg.channels_last,
                    mfm=cfg.mfm if cfg.mfm_weight else None, **cfg.loss_options())

                skipped = (~valid).sum()  # on the host: no wait for the device
                if ctx.world_size > 1:
                    skipped = skipped.to(device)
                    dist.all_reduce(skipped)
                state.skipped_images += int(skipped)
                state.step += 1
                if state.step == min(cfg.log_every, total_steps) and \
                        state.skipped_images >= state.step * cfg.batch_size * ctx.world_size:
                    raise ValueError(f"no image under {data} could be read in the first {state.step} steps "
                                     f"({state.skipped_images} samples skipped): not images, or broken; nothing "
                                     "was learnt")
                last_loss = losses["total"].detach()
                state.elapsed_s = elapsed_before + time.time() - started
                bar.update(1)

                if ctx.is_main and (state.step % cfg.log_every == 0 or state.step == total_steps):
                    now = time.time()
                    rate = (state.step - tick_step) * cfg.batch_size * ctx.world_size / max(now - tick, 1e-9)
                    tick, tick_step = now, state.step
                    values = {k: float(v.detach()) for k, v in losses.items()}
                    _finite(values["total"], state.step, ckpt_path)
                    bar.set_postfix(loss=f"{values['total']:.4f}", img_s=f"{rate:.1f}",
                                    skipped=state.skipped_images)
                    log.writerow({"step": state.step, "epoch": epoch, "lr": cfg.lr_at_epoch(epoch),
                                  **values, "images_per_s": rate, "elapsed_s": round(state.elapsed_s, 1)})
                    log_file.flush()
                    if writer:
                        for k, v in values.items():
                            writer.add_scalar(f"loss/{k}", v, state.step)
                        writer.add_scalar("lr", cfg.lr_at_epoch(epoch), state.step)
                        writer.add_scalar("images_per_s", rate, state.step)
                if ctx.is_main and writer and state.step % cfg.preview_every == 0:
                    writer.add_image("preview/x1_x2_common_u1_u2_fused_x", _preview(views, output, x), state.step)
                if state.step % cfg.checkpoint_every == 0:
                    checkpoint()
                if _out_of_time(cfg, started, ctx, device):
                    total_steps, budget_spent = state.step, True  # end the run here, weights included
                if state.step >= total_steps:
                    break
            checkpoint()  # end of epoch (or of the run)
    except KeyboardInterrupt:
        checkpoint()
        if cfg.workers:
            _stop_workers(batches)
        bar.close()
        if ctx.is_main:
            weights = _write_weights(model, out, cfg, state, ctx, autocast, init_weights, resume)
            print(f"defusion: stopped at step {state.step}: checkpoint saved (go on with --resume) and the weights "
                  f"so far written to {weights}", file=sys.stderr)
        raise
    finally:
        bar.close()  # before any error's line, which would otherwise land on the bar's
        if previous_sigterm is not None:
            signal.signal(signal.SIGTERM, previous_sigterm)
    if writer:
        writer.close()
    if log_file:
        log_file.close()
    if ctx.world_size > 1:
        dist.barrier()
    if not ctx.is_main:
        return None
    if budget_spent:
        print(f"defusion: note: the time budget (--max-seconds {cfg.max_seconds:g}) ran out at step {state.step}: "
              "checkpoint saved (go on with --resume)", file=sys.stderr)
    return _write_weights(model, out, cfg, state, ctx, autocast, init_weights, resume)


def _write_weights(model, out: Path, cfg: TrainConfig, state, ctx: Distributed, autocast, init_weights,
                   resume: bool) -> Path:
    """The run's inference weights, with what they are in their metadata: steps, samples, where the
    run started (``init``), the training config."""
    weights = out / WEIGHTS_NAME
    if not _finite_parameters(model):
        raise DivergedError(f"the weights at step {state.step} are not finite: training diverged; not written")
    final_loss = f"{state.last_loss:.5f}" if state.last_loss is not None else "n/a"
    metadata = {
        "model": cfg.model,
        "steps": str(state.step),
        "samples_seen": str(state.step * cfg.batch_size * ctx.world_size),
        "crop": str(cfg.crop),
        "final_loss": final_loss,
        "train_seconds": f"{state.elapsed_s:.0f}",
        "skipped_images": str(state.skipped_images),
        "precision": "bf16 autocast" if autocast is not nullcontext else "fp32",
        "train_config": json.dumps(cfg.to_dict()),
    }
    if init_weights is not None:
        metadata["init"] = Path(init_weights).name
    elif not resume:
        metadata["init"] = "random"
    save_weights(model, weights, metadata=metadata)
    return weights

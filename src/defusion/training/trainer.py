"""CUD self-supervised training loop: single process or DDP under torchrun.

Resumable to the exact step: crops depend on (seed, epoch, index), CUD masks on
(seed, step, rank), and checkpoints hold model, optimizer and progress. Only rank 0
writes files.

:func:`train` sets a run up step by step (:mod:`~defusion.training.run_setup`) and hands it to
the loop here (:class:`_Loop`). The loop's parts live beside it: the job
(:mod:`~defusion.training.distributed`), the images' checks (:mod:`~defusion.training.data_checks`),
an epoch's loading (:mod:`~defusion.training.epoch_loader`), interrupts
(:mod:`~defusion.training.interrupts`), the logs (:mod:`~defusion.training.metrics_log`), the run
folder's and a resume's checks (:mod:`~defusion.training.resume`), and the weights and config.json
(:mod:`~defusion.training.run_record`).
"""

from __future__ import annotations

import random
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
import torch.distributed as dist
from torch.utils.data import DistributedSampler
from tqdm import tqdm

from defusion.data.cud import CUDViews
from defusion.data.dataset import NaturalImages
from defusion.fusion.device import describe_device
from defusion.fusion.errors import OptionsError
from defusion.fusion.runtime import check_compiler, compiler_failure, compiler_message
from defusion.io.notes import plural
from defusion.io.progress import LogProgress, progress_bar
from defusion.model.denet import DeNetOutput
from defusion.model.weights import weights_digest
from defusion.training.checkpoint import TrainState, save_checkpoint
from defusion.training.config import TrainConfig, TrainConfigError
from defusion.training.data_checks import learnt_nothing, nothing_read, read_report
from defusion.training.distributed import Distributed, device_for, join_job, processes
from defusion.training.epoch_loader import epoch_batches, loader_failed, start_epoch_loader, stop_workers
# defined there, without PyTorch: `defusion train` names them while building its parser
from defusion.training.errors import (DataWorkerError, DivergedError, JobFailedError, RunDirError,
                                      SameOnEveryRankError, Terminated)
from defusion.training.interrupts import StepGuard, first_sentence, interrupt, kept_checkpoint, resume_command
from defusion.training.metrics_log import LOG_FIELDS, LOG_NAME, TB_EVENTS, MetricsLog
from defusion.training.resume import changed_settings, check_run_dir, files_digest
from defusion.training.run_record import (STOPPED_BUDGET, STOPPED_FAILED, STOPPED_INTERRUPTED, STOPPED_TERMINATED,
                                          WEIGHTS_NAME, check_finite, finite_parameters, write_weights)
from defusion.training.run_setup import (TrainingRun, build_model, open_data, open_outputs, planned_steps,
                                         resumed_state, wrap_for_training)
from defusion.training.step import autocast_for, make_optimizer, train_step

#: What callers import from here: the loop, and the names it held before its parts moved beside it.
__all__ = ["train", "Distributed", "WEIGHTS_NAME", "LOG_NAME", "LOG_FIELDS", "TB_EVENTS", "STOPPED_INTERRUPTED",
           "STOPPED_TERMINATED", "STOPPED_BUDGET", "STOPPED_FAILED", "files_digest", "changed_settings",
           "Terminated", "RunDirError", "DivergedError", "JobFailedError", "DataWorkerError", "SameOnEveryRankError"]

#: A step's CUD masks are seeded by ``seed * _SEED_STRIDE + step * _STEP_STRIDE + rank``: another
#: stream for every run seed, step and process.
_SEED_STRIDE, _STEP_STRIDE = 1_000_003, 1_009
#: Seconds below which a logging interval counts as this, so that its images a second stay finite.
_MIN_INTERVAL_S = 1e-9


def train(data: str | Path, out: str | Path, cfg: TrainConfig, resume: bool = False,
          progress: bool = True, init_weights: str | Path | None = None, device: str = "auto") -> Path | None:
    """Train DeNet with the CUD pretext on the images under ``data``; returns the weights path.

    ``init_weights`` starts a new run from a weights file (e.g. the shipped weights) instead
    of a random initialisation; its architecture must match ``cfg.model``. ``device`` (``--device``:
    ``auto``, ``cpu``, ``cuda``, ``cuda:N``, ``mps``, as ``defusion fuse`` spells it) is where it
    trains; under torchrun each process's GPU is its own (:func:`~defusion.training.distributed.device_for`).

    Writes ``out/checkpoints/last.safetensors`` every ``cfg.checkpoint_every`` steps and at
    each epoch end, ``out/metrics.csv``, TensorBoard logs in ``out/tb`` and, when done,
    ``out/weights.safetensors`` (inference weights). Returns None on ranks other than 0.
    """
    run = TrainingRun(data, Path(out), cfg, Distributed.from_env(), resume)
    check_run_dir(run.out, run.ckpt_path, resume)
    if resume and init_weights is not None:
        raise TrainConfigError("--init starts a new run from weights; --resume continues the run in --out from its "
                               "checkpoint: give one of them")
    try:  # before anything is read or any process waits for the others: every rank refuses alike
        device = device_for(run.ctx, device)
        if cfg.compile:
            check_compiler(device, "--compile", "drop --compile (compile: false in a --config)")
    except OptionsError as exc:
        raise SameOnEveryRankError(str(exc)) from None
    dataset, sampler, steps_per_epoch, saved_cfg = open_data(run)
    join_job(run.ctx, device)
    schedule_steps = planned_steps(cfg, steps_per_epoch)
    data_path, data_digest = str(Path(data).resolve()), files_digest(data, dataset.files)

    model, parts, train_model = build_model(cfg, device, resume, init_weights)
    optimizer = make_optimizer(train_model.parameters(), lr=cfg.lr)
    if resume:
        state = resumed_state(run, dataset, saved_cfg, model, optimizer, parts, data_path, data_digest)
    else:
        state = TrainState(samples_seen=0, init="random" if init_weights is None else Path(init_weights).name,
                           init_digest=None if init_weights is None else weights_digest(init_weights))
    state.world_size, state.images = run.ctx.world_size, len(dataset.files)
    state.data, state.data_digest = data_path, data_digest
    guard = StepGuard(optimizer)
    train_model = wrap_for_training(train_model, cfg, run.ctx, device)
    autocast = autocast_for(device, cfg.amp)
    logs = open_outputs(run, state) if run.ctx.is_main else None
    loop = _Loop(run=run, dataset=dataset, sampler=sampler, steps_per_epoch=steps_per_epoch,
                 planned_steps=schedule_steps, model=model, parts=parts, train_model=train_model,
                 optimizer=optimizer, state=state, guard=guard, device=device, autocast=autocast, logs=logs)
    return loop.train(progress)


@dataclass
class _Loop:
    """The steps one invocation trains, epoch by epoch: logged, checkpointed, and saved when
    interrupted or when the DDP job or a data worker fails."""

    run: TrainingRun
    dataset: NaturalImages
    sampler: DistributedSampler
    steps_per_epoch: int
    planned_steps: int  # the schedule's end: a spent time budget ends this invocation sooner
    model: torch.nn.Module  # what checkpoints and weights hold
    parts: dict[str, torch.nn.Module]
    train_model: torch.nn.Module  # what a step trains (with the parts, wrapped for DDP or compiled)
    optimizer: torch.optim.Optimizer
    state: TrainState
    guard: StepGuard
    device: torch.device
    autocast: Callable
    logs: MetricsLog | None  # rank 0's
    last_loss: torch.Tensor | None = None  # on the device; read only when logging or saving
    last_losses: dict[str, torch.Tensor] | None = None  # the last counted step's, for its log row if a stop ends the run
    budget_spent: bool = False
    batches: object = None  # this epoch's loader iterator
    skipped_files: set[int] = field(default_factory=set)  # this invocation's, over every process
    upsampled_files: set[int] = field(default_factory=set)
    # set as training starts (train): the progress bar, and the clocks the logs' rates and the time budget read
    bar: tqdm | LogProgress | None = field(default=None, init=False)
    started: float = field(default=0.0, init=False)
    tick: float = field(default=0.0, init=False)
    tick_step: int = field(default=0, init=False)
    logged_step: int = field(default=0, init=False)  # the step of metrics.csv's last row (the start: none yet)
    elapsed_before: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self.cfg, self.ctx = self.run.cfg, self.run.ctx
        self.total_steps = self.planned_steps
        self.start_step = self.state.step
        self.generator = torch.Generator(device=self.device)

    def train(self, progress: bool) -> Path | None:
        """Train the steps left, then write the weights: their path on rank 0, None on the others."""
        cfg, ctx, state = self.cfg, self.ctx, self.state
        self._say_start()
        self.bar = progress_bar(total=self.total_steps, initial=state.step, disable=not (progress and ctx.is_main),
                                desc="training", unit="step", dynamic_ncols=True)
        self.started, self.tick, self.tick_step = time.time(), time.time(), state.step
        self.logged_step = state.step
        self.elapsed_before = state.elapsed_s
        self.guard.route(signal.SIGINT)
        self.guard.route(signal.SIGTERM, interrupt)
        finished = False
        try:
            self._epochs()
            if learnt_nothing(state):  # however the run ended: no checkpoint was kept, so no weights either
                raise nothing_read(self.run.data, state, self.skipped_files, self.dataset)
            finished = True
        except KeyboardInterrupt as exc:  # the data workers are stopped below (finally), once this is saved
            self._save_interrupted(exc)
            raise
        except RuntimeError as exc:
            if isinstance(exc, DivergedError):
                raise
            if cfg.compile and (gist := compiler_failure(exc)) is not None:  # a compiler found, yet broken
                raise SameOnEveryRankError(compiler_message("--compile", gist, "drop --compile (compile: false in "
                                                            "a --config)")) from None
            error = self._save_failed(exc)
            if error is None:
                raise
            raise error from exc
        finally:
            self.bar.close()  # before any error's line, which would otherwise land on the bar's
            if not finished and cfg.workers:  # whatever stopped the run: no worker may outlive it
                stop_workers(self.batches)
            self.guard.restore()
        return self._finish()

    def _say_start(self) -> None:
        """Rank 0 says what the run trains (:func:`_start_line`), or that it is already done."""
        run, state = self.run, self.state
        if run.resume and state.step >= self.total_steps and self.ctx.is_main:
            print(f"defusion: note: the run in {run.out} is already at step {state.step}, the end of its schedule "
                  f"({_schedule_end(self.cfg, self.steps_per_epoch)}); writing its weights", file=sys.stderr)
        elif self.ctx.is_main:
            print(_start_line(self.cfg, run.out, len(self.dataset.files), state.step if run.resume else None,
                              self.total_steps, self.steps_per_epoch, self.ctx.world_size,
                              _device_words(self.device, self.ctx.world_size)), file=sys.stderr)

    def _epochs(self) -> None:
        """Train from the step the run is at to ``total_steps``, checkpointing at each epoch's end."""
        cfg, state = self.cfg, self.state
        while state.step < self.total_steps:
            epoch, offset = divmod(state.step, self.steps_per_epoch)
            for group in self.optimizer.param_groups:
                group["lr"] = cfg.lr_at_epoch(epoch)
            self.sampler.set_epoch(epoch)
            self.dataset.set_epoch(epoch)
            order = epoch_batches(self.sampler, cfg.batch_size, offset)
            self.batches = start_epoch_loader(self.dataset, order, cfg.workers, self.device.type == "cuda")
            if hasattr(signal, "SIGCHLD"):  # torch's check for a dead worker, set when its first workers start
                self.guard.route(signal.SIGCHLD)
            for (x, valid), indices in zip(self.batches, order):  # the loader first: its end shuts its workers down
                self._step(epoch, x, valid, indices)
                if state.step >= self.total_steps:
                    break
            self._checkpoint()  # end of epoch (or of the run)

    def _step(self, epoch: int, x: torch.Tensor, valid: torch.Tensor, indices: list[int]) -> None:
        """One step, counted; then the checks, and the log, preview and checkpoint it is due."""
        cfg, ctx, state = self.cfg, self.ctx, self.state
        losses, views, output, x = self._update(x, valid, indices)
        self._check_read_and_time()
        if ctx.is_main and (state.step % cfg.log_every == 0 or state.step == self.total_steps):
            self._log(epoch, losses)
        self.bar.update(1)  # after the log: a log file's line (not a terminal's bar) shows this step's loss
        if ctx.is_main and state.step % cfg.preview_every == 0:
            self.logs.preview(state.step, views, output, x)
        if state.step % cfg.checkpoint_every == 0:
            self._checkpoint()

    def _update(self, x: torch.Tensor, valid: torch.Tensor,
                indices: list[int]) -> tuple[dict[str, torch.Tensor], CUDViews, DeNetOutput, torch.Tensor]:
        """Train a step on the batch ``x`` (``valid``: which samples could be read) and count it; rank 0
        names the files any process skipped or up-sampled first seen. Returns the step's losses, CUD
        views and network output, and ``x`` on the device."""
        cfg, ctx, state = self.cfg, self.ctx, self.state
        skipped, upsampled = read_report(self.dataset, indices, valid, ctx, self.device)
        if ctx.is_main:  # name what other processes found, once
            for file in sorted({*skipped, *upsampled} - self.skipped_files - self.upsampled_files):
                self.dataset.name(file)
        self.skipped_files.update(skipped)
        self.upsampled_files.update(upsampled)
        step_seed = cfg.seed * _SEED_STRIDE + state.step * _STEP_STRIDE + ctx.rank
        self.generator.manual_seed(step_seed)
        x = x.to(self.device, non_blocking=True)
        weight = valid.to(device=self.device, dtype=torch.float32, non_blocking=True)
        losses, views, output = train_step(
            self.train_model, self.optimizer, x, weight, cfg.cud, generator=self.generator,
            cells_rng=random.Random(step_seed), autocast=self.autocast, channels_last=cfg.channels_last,
            mfm=cfg.mfm if cfg.mfm_weight else None, **cfg.loss_options())

        state.skipped_samples += len(skipped)
        state.step += 1
        state.samples_seen += cfg.batch_size * ctx.world_size
        self.last_loss = losses["total"].detach()
        self.last_losses = {k: v.detach() for k, v in losses.items()}  # no autograd graph kept past the step
        state.elapsed_s = self.elapsed_before + time.time() - self.started
        self.guard.done()  # the step is counted: an interrupt held during its update acts now
        return losses, views, output, x

    def _check_read_and_time(self) -> None:
        """After a step: SameOnEveryRankError if no image was read by the first step logged (or by the
        step a spent time budget ends the run at), which such a budget ends here."""
        cfg, ctx, state = self.cfg, self.ctx, self.state
        if state.step == min(cfg.log_every, self.total_steps) and \
                state.skipped_samples >= state.step * cfg.batch_size * ctx.world_size:
            raise nothing_read(self.run.data, state, self.skipped_files, self.dataset)
        if _out_of_time(cfg, self.started, ctx, self.device):  # before logging: the run's last step is logged
            self.total_steps, self.budget_spent = state.step, True  # end the run here, weights included
            if learnt_nothing(state):  # the budget ran out before the check above: no log row, no weights
                raise nothing_read(self.run.data, state, self.skipped_files, self.dataset)

    def _log_stop(self) -> None:
        """Rank 0 logs the step a stop (Ctrl-C, SIGTERM, a failure) ends the run at, if it was not logged
        yet: the log's last row is then the step the checkpoint and the weights hold, as a spent time
        budget's is (:meth:`_check_read_and_time`)."""
        state = self.state
        if self.ctx.is_main and self.last_losses is not None and state.step > self.logged_step:
            self._log((state.step - 1) // self.steps_per_epoch, self.last_losses)  # the epoch it trained in

    def _log(self, epoch: int, losses: dict[str, torch.Tensor]) -> None:
        """Log the step's losses and the speed since the last log (DivergedError if not finite)."""
        cfg, state = self.cfg, self.state
        now = time.time()
        rate = (state.step - self.tick_step) * cfg.batch_size * self.ctx.world_size / max(now - self.tick,
                                                                                          _MIN_INTERVAL_S)
        self.tick, self.tick_step = now, state.step
        values = {k: float(v.detach()) for k, v in losses.items()}
        check_finite(values["total"], state.step, self.run.ckpt_path)
        self.bar.set_postfix(loss=f"{values['total']:.4f}", img_s=f"{rate:.1f}", skipped=state.skipped_samples)
        self.logs.record(state.step, epoch, cfg.lr_at_epoch(epoch), values, rate, state.elapsed_s,
                         state.samples_seen)
        self.logged_step = state.step

    def _checkpoint(self) -> None:
        """Save the model, optimizer and progress (rank 0 writes them), unless no image was read yet
        (an error, not a run); DivergedError if the last loss or the weights are not finite."""
        state, ckpt_path = self.state, self.run.ckpt_path
        if learnt_nothing(state):  # no image read yet: nothing to keep (an error, not a run)
            return
        if self.last_loss is not None:
            state.last_loss = check_finite(float(self.last_loss), state.step, ckpt_path)
        if not finite_parameters(self.model):  # an update after the last loss can blow up the weights
            check_finite(float("nan"), state.step, ckpt_path)
        if self.ctx.is_main:
            save_checkpoint(ckpt_path, self.model, self.optimizer, state, self.cfg.to_dict(), self.parts)

    def _write_weights(self, stopped: str | None) -> Path:
        return write_weights(self.model, self.run.out, self.cfg, self.state, self.autocast, self.planned_steps,
                             stopped)

    def _resume(self) -> str:
        """How to go on with this run from its checkpoint: the command (:func:`resume_command`), or, under
        DDP, whose launcher defusion does not know, --resume with as many processes."""
        if self.ctx.world_size > 1:
            return f"--resume and {processes(self.ctx.world_size)}"
        return resume_command(self.run.data, self.run.out)

    def _save_interrupted(self, exc: KeyboardInterrupt) -> None:
        """After Ctrl-C or SIGTERM: save the checkpoint and the weights so far, and say so (rank 0). A second
        Ctrl-C or SIGTERM while they are written is ignored (restored once the run ends): an impatient
        double press landed in the save and lost the run, the checkpoint unwritten and nothing said."""
        ctx, state = self.ctx, self.state
        for signum in (signal.SIGINT, signal.SIGTERM):
            self.guard.ignore(signum)
        self.bar.close()
        if learnt_nothing(state):
            if ctx.is_main:
                print(f"defusion: stopped at step {state.step}, before any image was read: nothing was saved; "
                      "run the same command to start again", file=sys.stderr)
            return
        self._checkpoint()
        self._log_stop()
        if ctx.is_main:
            stopped = STOPPED_TERMINATED if isinstance(exc, Terminated) else STOPPED_INTERRUPTED
            weights = self._write_weights(stopped)
            print(f"defusion: stopped at step {state.step}: checkpoint saved (go on with {self._resume()}) and the "
                  f"weights so far written to {weights}", file=sys.stderr)

    def _save_failed(self, exc: RuntimeError) -> Exception | None:
        """After a failure: the error to raise from ``exc`` instead (None: ``exc`` itself), the last
        completed step saved where that is sound.

        Under DDP, a process that dies makes the others' next collective fail (gloo: "Connection closed
        by peer"); in one process, a data worker that dies (the OOM killer) fails the loader. Rank 0
        then saves the last completed step, but only if no update has begun since: otherwise its
        model and optimizer are part-way into the next step and the checkpoint stays."""
        cfg, ctx, state = self.cfg, self.ctx, self.state
        if cfg.workers:  # first: a surviving worker ignores SIGTERM, and the exit would wait on it forever
            stop_workers(self.batches)
        self.bar.close()
        completed = state.step > self.start_step and self.guard.begun == state.step - self.start_step \
            and not learnt_nothing(state)
        loader = ctx.world_size == 1 and loader_failed(exc)
        reason = first_sentence(exc).rstrip(".")
        if loader and not completed:
            return DataWorkerError(f"a data loader worker died during step {state.step + 1} ({reason}; out of "
                                   f"memory? fewer --workers use less); "
                                   f"{kept_checkpoint(self.run.ckpt_path, self._resume())}")
        if not completed or not ctx.is_main or not (loader or ctx.world_size > 1):
            return None
        self.guard.ignore(signal.SIGTERM)  # torchrun's SIGTERM to the survivors must not cut the save short
        self._checkpoint()
        self._log_stop()
        weights = self._write_weights(STOPPED_FAILED)
        if loader:
            return DataWorkerError(f"a data loader worker died after step {state.step} ({reason}; out of memory? "
                                   f"fewer --workers use less); saved the checkpoint of step {state.step} (go on "
                                   f"with {self._resume()}) and wrote the weights so far to {weights}")
        return JobFailedError(f"the DDP job failed after step {state.step} ({reason}); rank 0 saved the checkpoint "
                              f"of step {state.step} (go on with {self._resume()}) and wrote "
                              f"the weights so far to {weights}")

    def _finish(self) -> Path | None:
        """After the last step: close the logs, wait for every process, and (rank 0) say what the run
        noted and write the weights, marked incomplete if a time budget ended it early."""
        cfg, state = self.cfg, self.state
        if self.logs:
            self.logs.close()
        if self.ctx.world_size > 1:
            dist.barrier()
        if not self.ctx.is_main:
            return None
        if self.upsampled_files:
            n = len(self.upsampled_files)
            print(f"defusion: note: {plural(n, 'image')} under {self.run.data} (named above) "
                  f"{'is' if n == 1 else 'are'} smaller than the {cfg.crop}x{cfg.crop} crop: "
                  "trained on up-sampled", file=sys.stderr)
        if self.budget_spent:
            print(f"defusion: note: the time budget (--max-seconds {cfg.max_seconds:g}) ran out at step {state.step}: "
                  f"checkpoint saved (go on with {self._resume()})", file=sys.stderr)
        return self._write_weights(STOPPED_BUDGET if state.step < self.planned_steps else None)


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


def _device_words(device: torch.device, world_size: int) -> str:
    """Where a run trains, for its start line: the device (a GPU's model too); under DDP on GPUs, one
    per process.

    Example:
        >>> _device_words(torch.device("cpu"), 1), _device_words(torch.device("cpu"), 2)
        ('cpu', 'cpu')
    """
    words = describe_device(device)
    return f"one GPU per process (rank 0: {words})" if world_size > 1 and device.type == "cuda" else words


def _start_line(cfg: TrainConfig, out: Path, images: int, resume_step: int | None, total_steps: int,
                steps_per_epoch: int, world_size: int, device: str = "cpu") -> str:
    """The line a run says as it starts: what it trains on, its schedule, the device (``device``, in
    words: :func:`_device_words`) and where its outputs go.

    Example:
        >>> _start_line(TrainConfig(model="defusion-tiny", batch_size=2), Path("runs/x"), 10, None, 12, 5, 1)
        'defusion: training defusion-tiny on 10 images for 12 steps (2.4 epochs of 5 steps, batch 2) on cpu; writing to runs/x'
    """
    epochs = total_steps / steps_per_epoch
    batch = f"batch {cfg.batch_size}" + (f" x {processes(world_size)}" if world_size > 1 else "")
    schedule = f"({epochs:.3g} epoch{'' if epochs == 1 else 's'} of {plural(steps_per_epoch, 'step')}, {batch})"
    if resume_step is None:
        what = f"training {cfg.model} on {plural(images, 'image')} for {plural(total_steps, 'step')}"
    else:
        what = f"resuming {cfg.model} at step {resume_step} of {total_steps}, on {plural(images, 'image')}"
    return f"defusion: {what} {schedule} on {device}; writing to {out}"


def _schedule_end(cfg: TrainConfig, steps_per_epoch: int) -> str:
    """What ends a run's schedule, and the option that extends it (--epochs does nothing for a run
    that max_steps ends first)."""
    epochs = f"{plural(cfg.epochs, 'epoch')} of {steps_per_epoch} steps"
    by_epochs = cfg.epochs * steps_per_epoch
    if cfg.max_steps is None or cfg.max_steps > by_epochs:
        later = f", before max_steps {cfg.max_steps}" if cfg.max_steps is not None else ""
        return f"its {epochs}{later}; pass a larger --epochs to train on"
    if cfg.max_steps < by_epochs:
        return f"max_steps {cfg.max_steps}, before its {epochs} end; pass a larger --max-steps to train on"
    return f"max_steps {cfg.max_steps}, where its {epochs} also end; pass a larger --max-steps and --epochs to train on"

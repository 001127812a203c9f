"""CUD self-supervised training loop: single process or DDP under torchrun.

Resumable to the exact step: crops depend on (seed, epoch, index), CUD masks on
(seed, step, rank), and checkpoints hold model, optimizer and progress. Only rank 0
writes files.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import sys
import random
import re
import signal
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, DistributedSampler
from tqdm import tqdm

from defusion.data.dataset import MIN_SIDE_FRACTION, NaturalImages
from defusion.io.notes import plural
from defusion.model.denet import SIZE_MULTIPLE
from defusion.model.mfm import MaskedFeatureDecoder
from defusion.model.registry import create_model, list_models, model_config
from defusion.model.weights import load_weights, read_metadata, save_weights, weights_digest
from defusion.training.checkpoint import (CHECKPOINT_NAME, TrainState, checkpoint_config, checkpoint_state,
                                          checkpoint_step, load_checkpoint, save_checkpoint)
from defusion.training.config import TrainConfig
# defined there, without PyTorch: `defusion train` names them while building its parser
from defusion.training.errors import (DataWorkerError, DivergedError, JobFailedError, RunDirError,
                                      SameOnEveryRankError, Terminated)
from defusion.training.pretext import CUDWithMFM
from defusion.training.step import autocast_for, make_optimizer, train_step

WEIGHTS_NAME = "weights.safetensors"
LOG_NAME = "metrics.csv"
#: Seconds to wait for a killed data worker to be reaped.
_WORKER_JOIN_S = 5.0
#: Columns of metrics.csv; ``samples`` (training samples seen so far, over all processes) is last, so
#: that the columns before it stay where scripts read them by position.
LOG_FIELDS = ("step", "epoch", "lr", "total", "common", "unique1", "unique2", "fused", "images_per_s", "elapsed_s",
              "samples")
#: What every refused resume would do to the run.
_MOVES_SCHEDULE = "would move its epochs and learning-rate schedule"
#: How the messages of torch's data loader begin when one of its worker processes died (killed by the
#: OOM killer, a crash) or hung.
_LOADER_FAILURES = ("DataLoader worker", "DataLoader timed out")
#: The files of TensorBoard's logs, which a new run replaces in ``OUT/tb``.
TB_EVENTS = "events.out.tfevents.*"
#: Characters of a SHA-256 hex digest kept as the digest of a training folder's file list.
_DIGEST_CHARS = 16
#: At most this many files are read to tell why an epoch too short for a batch is (none readable?).
_PROBE_FILES = 64
#: At most this many image headers are read to tell that every image of a folder is too small for the crop.
_SIZE_CHECK_FILES = 1000
#: What the weights of a run that stopped before the end of its schedule record under ``stopped``.
STOPPED_INTERRUPTED, STOPPED_TERMINATED, STOPPED_BUDGET, STOPPED_FAILED = (
    "interrupted", "terminated", "time budget spent", "failed")
#: Options that say how long or how an invocation runs, not what its steps train: a resume changes
#: them without a note or a record (a larger --max-steps or --epochs is how a run goes on).
_RUN_CONTROLS = frozenset({"epochs", "max_steps", "max_seconds", "workers", "checkpoint_every", "preview_every",
                           "log_every", "compile", "channels_last",
                           "reinit"})  # reinit acts when a run starts: a resume keeps the checkpoint's parts


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


def _open_log(path: Path, fields: tuple[str, ...], resume_step: int | None):
    """The run's CSV log, open for appending rows. A new run starts it afresh (its folder holds no
    logged steps: :func:`_check_run_dir`). A resumed run (``resume_step``: its checkpoint's step) keeps
    the rows up to that step and drops later ones, logged by the invocation that went on past the
    checkpoint before it was killed, which the resume trains again; a loss term a ``--config`` given
    on resume adds becomes a new column (earlier rows empty there), one it drops stays. The file is
    rewritten atomically when that changes it: a kill meanwhile leaves the old one whole."""
    if resume_step is None or not path.is_file() or not path.stat().st_size:
        log_file = open(path, "w", newline="")
        log = csv.DictWriter(log_file, list(fields), extrasaction="ignore")
        log.writeheader()
        return log_file, log
    text = path.read_text(errors="replace")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = list(reader.fieldnames or fields)
    rows = list(reader)
    kept = [row for row in rows if _row_step(row) is not None and _row_step(row) <= resume_step]
    columns = header + [f for f in fields if f not in header]
    if len(kept) != len(rows) or columns != header or not text.endswith("\n"):
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w", newline="") as f:
            rewritten = csv.DictWriter(f, columns, extrasaction="ignore")
            rewritten.writeheader()
            rewritten.writerows(kept)
        os.replace(tmp, path)
    log_file = open(path, "a", newline="")
    return log_file, csv.DictWriter(log_file, columns, extrasaction="ignore")


def _row_step(row: dict) -> int | None:
    """A log row's step; None for a row cut short (a kill while it was written) or not a step's."""
    if None in row.values() or None in row:  # fewer or more cells than columns
        return None
    try:
        return int(row.get("step") or "")
    except ValueError:
        return None


def _has_logged_steps(path: Path) -> bool:
    """Whether the CSV log at ``path`` holds a logged step (a header alone, or no file, holds none)."""
    if not path.is_file():
        return False
    with open(path, newline="", errors="replace") as f:
        return any(any(cell.strip() for cell in row) for row in list(csv.reader(f))[1:])


def _finite_parameters(model: torch.nn.Module) -> bool:
    """Whether every weight is finite (one device sync: checked only when saving)."""
    return bool(torch.stack([torch.isfinite(p).all() for p in model.parameters()]).all())


def _finite(loss: float, step: int, ckpt_path: Path) -> float:
    """``loss``, or DivergedError if it is not finite (its weights would be NaN from here on)."""
    if not math.isfinite(loss):
        kept = (f"the last checkpoint before it is kept ({ckpt_path}); resume from it with a lower --lr"
                if ckpt_path.is_file() else
                "no checkpoint was written yet, so there is nothing to resume: start a new run with a lower --lr "
                f"(another --out, or delete {ckpt_path.parent.parent / LOG_NAME}, this run's log, to reuse the folder)")
        raise DivergedError(f"the loss or weights became {loss} by step {step}: training diverged; {kept}")
    return loss


def _summary_writer(path: Path, resume_step: int | None):
    """TensorBoard's writer; on resume, events logged past the checkpoint's step (by an invocation
    killed before its next checkpoint) are purged, as the log's rows are."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is optional (the train extra): metrics.csv holds the same losses
        print("defusion: note: no TensorBoard logs (tensorboard is not installed: pip install 'defusion[train]'); "
              "metrics.csv holds the losses", file=sys.stderr)
        return None
    return SummaryWriter(str(path), purge_step=None if resume_step is None else resume_step + 1)


class _StepGuard:
    """Counts the optimizer updates begun, and holds interrupts while one is under way.

    ``begun`` lets a failure tell whether the model and the optimizer are still exactly those of the
    last completed step (no update begun since). An interrupt (Ctrl-C, SIGTERM, the data loader's
    error for a worker that died, which torch raises from its SIGCHLD handler) that lands between the
    start of a step's update and the end of its bookkeeping would save step N+1's weights and
    optimizer labelled step N, and a resume would train that step twice; so from the update's start
    (an optimizer pre-hook) until :meth:`done`, the handlers of the signals :meth:`route` sends here
    are held, and run when the step is counted. Before the update (loading data, forward, backward,
    compiling) an interrupt acts at once: nothing of the step is in the model or the optimizer yet."""

    def __init__(self, optimizer: torch.optim.Optimizer) -> None:
        self.begun = 0
        self._updating = False
        self._held: list[tuple[Callable, int]] = []
        self._previous: dict[int, object] = {}
        optimizer.register_step_pre_hook(self._begin)

    def _begin(self, optimizer, args, kwargs) -> None:
        self.begun += 1
        self._updating = True

    def route(self, signum: int, action: Callable | None = None) -> None:
        """Pass ``signum`` through the hold to ``action`` (default: its handler now, if Python's);
        once per signal, and only in the main thread (the only one that may set handlers)."""
        if signum in self._previous or threading.current_thread() is not threading.main_thread():
            return
        action = action or signal.getsignal(signum)
        if not callable(action):  # the default action or ignored: nothing in Python to hold
            return

        def arrived(number, frame):
            if self._updating:
                self._held.append((action, number))
            else:
                action(number, frame)

        self._previous[signum] = signal.signal(signum, arrived)

    def done(self) -> None:
        """The step is complete and counted: run the handlers held meanwhile (an interrupt raises here)."""
        self._updating = False
        held, self._held = self._held, []
        for action, signum in held:
            action(signum, None)

    def ignore(self, signum: int) -> None:
        """Ignore ``signum`` from now until :meth:`restore`, if it is routed here."""
        if signum in self._previous:
            signal.signal(signum, signal.SIG_IGN)

    def restore(self) -> None:
        """Give every routed signal back its handler from before."""
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()


def _check_run_dir(out: Path, ckpt_path: Path, resume: bool) -> None:
    """RunDirError if this call would overwrite a run's work in ``out``, or has nothing to resume."""
    if resume:
        if not ckpt_path.exists():
            raise RunDirError(f"nothing to resume: {ckpt_path} does not exist")
        return
    if ckpt_path.exists():
        raise RunDirError(f"{out} already holds a training run; pass --resume to continue it or choose another --out")
    kept = [name for name, there in ((WEIGHTS_NAME, (out / WEIGHTS_NAME).exists()),
                                     (LOG_NAME, _has_logged_steps(out / LOG_NAME))) if there]
    if kept:
        raise RunDirError(f"{out} already holds an earlier run's {' and '.join(kept)}, which a new run would "
                          f"overwrite: use another --out, or delete {' and '.join(kept)} there if that run is not "
                          f"worth keeping (--resume goes on only from a checkpoint, and there is no {ckpt_path})")


def _processes(n: int) -> str:
    """``n`` processes, in words ("1 process", "2 processes")."""
    return f"{n} process{'' if n == 1 else 'es'}"


def _epoch_samples(value: int | None) -> str:
    """An ``epoch_samples`` value in words (None: one pass over the data)."""
    return "unset (an epoch is one pass over --data)" if value is None else str(value)


def _check_resume(out: Path, data: str | Path, cfg: TrainConfig, saved_cfg: dict, saved: TrainState,
                  world_size: int, images: int) -> None:
    """ValueError, naming the old and new values, if resuming the run in ``out`` this way would move
    its epochs and learning-rate schedule: another batch size, number of processes, epoch length, or
    (when an epoch is one pass over --data) number of images. A checkpoint written before a value
    was recorded skips its check."""
    before = saved_cfg.get("batch_size")
    if before is not None and before != cfg.batch_size:
        raise ValueError(f"the run in {out} was trained with batch size {before}; resuming it at "
                         f"{cfg.batch_size} {_MOVES_SCHEDULE}: leave --batch-size out (or start a new run)")
    if saved.world_size is not None and saved.world_size != world_size:
        how = ("in one process (without torchrun)" if saved.world_size == 1 else
               f"with {_processes(saved.world_size)} (torchrun --nproc_per_node {saved.world_size})")
        raise ValueError(f"the run in {out} was trained by {_processes(saved.world_size)}; resuming it with "
                         f"{_processes(world_size)} {_MOVES_SCHEDULE}: resume it {how} (or start a new run)")
    if "epoch_samples" in saved_cfg and saved_cfg["epoch_samples"] != cfg.epoch_samples:
        before = _epoch_samples(saved_cfg["epoch_samples"])
        raise ValueError(f"the run in {out} was trained with epoch_samples {before}; resuming it with "
                         f"{_epoch_samples(cfg.epoch_samples)} {_MOVES_SCHEDULE}: leave --epoch-samples (and "
                         "epoch_samples in --config) out (or start a new run)")
    if cfg.epoch_samples is None and saved.images is not None and saved.images != images:
        raise ValueError(f"the run in {out} took each epoch as one pass over {saved.images} images; --data {data} "
                         f"now holds {images}, which {_MOVES_SCHEDULE}: resume it on the same images (or start a "
                         "new run)")


def changed_settings(saved_cfg: dict, cfg: TrainConfig) -> dict[str, list]:
    """The settings that resuming with ``cfg`` changes from ``saved_cfg`` (the checkpoint's), as
    ``{name: [old, new]}`` (``cud.degrade_prob`` for one in a section). Run controls
    (``_RUN_CONTROLS``) are left out, and so is an option the checkpoint predates."""
    new = json.loads(json.dumps(cfg.to_dict()))  # as the checkpoint holds it: tuples as lists
    changed: dict[str, list] = {}
    for name, value in new.items():
        if name in _RUN_CONTROLS or name not in saved_cfg:
            continue
        old = saved_cfg[name]
        if isinstance(value, dict) and isinstance(old, dict):
            changed.update({f"{name}.{k}": [old[k], v] for k, v in value.items() if k in old and old[k] != v})
        elif old != value:
            changed[name] = [old, value]
    return changed


def _setting(value) -> str:
    """An option's value as a note shows it (``0.001``, ``[0.08, 1.0]``, ``true``, ``unset``)."""
    if value is None:
        return "unset"
    if isinstance(value, float):
        return f"{value:g}"
    return json.dumps(value) if isinstance(value, (bool, list, dict)) else str(value)


def _changes_note(step: int, changed: dict[str, list]) -> str:
    """The note of a resume that changes settings: each one old -> new, and where that is kept."""
    settings = ", ".join(f"{name} {_setting(old)} -> {_setting(new)}" for name, (old, new) in changed.items())
    return (f"defusion: note: resuming at step {step} with {settings} (config.json and the weights record it "
            "under settings_changed)")


def _too_few_samples(samples: int, per_process: int, batch_size: int, world_size: int) -> str:
    """Why an epoch of ``samples`` has no step: each process gets ``per_process`` of them, fewer than
    one batch.

    Example:
        >>> _too_few_samples(3, 1, 2, 2)
        'an epoch of 3 samples gives each of the 2 processes 1, fewer than its batch of 2: a step needs 4 \
(batch 2 x 2 processes); use a smaller --batch-size, fewer processes or a larger --epoch-samples'
    """
    if world_size == 1:
        return (f"an epoch of {plural(samples, 'sample')} is fewer than one batch of {batch_size}; use a smaller "
                "--batch-size or a larger --epoch-samples")
    return (f"an epoch of {plural(samples, 'sample')} gives each of the {world_size} processes {per_process}, fewer "
            f"than its batch of {batch_size}: a step needs {batch_size * world_size} (batch {batch_size} x "
            f"{_processes(world_size)}); use a smaller --batch-size, fewer processes or a larger --epoch-samples")


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


def _first_sentence(exc: BaseException) -> str:
    """The gist of an error for a one-line message: its first sentence, without the source location
    that gloo puts first ("[.../pair.cc:553] Connection closed by peer ...")."""
    line = (str(exc).strip().splitlines() or [""])[0]
    line = re.sub(r"^\[[^\]]*\]\s*", "", line).split(". ")[0]
    return line or type(exc).__name__


def _weights_init(path: Path) -> str | None:
    """Where the run that wrote the weights at ``path`` started (``init``), if they record it."""
    try:
        return read_metadata(path).get("init") if path.is_file() else None
    except Exception:  # noqa: BLE001 - a damaged file only means no record
        return None


def _interrupt(signum, frame):
    """SIGTERM's handler in training (a scheduler's or `kill`'s stop): saves a checkpoint like Ctrl-C,
    and is said as "terminated" (exit status 143, not Ctrl-C's 130)."""
    raise Terminated


def _loader_failed(exc: BaseException) -> bool:
    """Whether ``exc`` is torch's data loader saying that a worker process died or hung."""
    return str(exc).startswith(_LOADER_FAILURES)


def _kept(ckpt_path: Path) -> str:
    """What is left of a run that stopped without saving: its last checkpoint, if any."""
    try:
        step = checkpoint_step(ckpt_path) if ckpt_path.is_file() else None
    except (OSError, ValueError):
        step = None
    if step is None:
        return "no checkpoint was written yet"
    return f"the run's checkpoint at step {step} is kept (go on with --resume)"


def _learnt_nothing(state: TrainState) -> bool:
    """Whether every sample of the run so far was skipped (none could be read), or none was drawn:
    such a run leaves no checkpoint, which would only block a rerun into its folder."""
    return state.skipped_samples >= (state.samples_seen or 0)


def _nothing_read(data: str | Path, state: TrainState, skipped_files: set[int], dataset: NaturalImages,
                  ) -> SameOnEveryRankError:
    """The error of a run that could read no image (every process reaches it alike): the skipped
    images all too small for the crop, or else not images or broken."""
    small = _too_small(data, dataset, skipped_files)
    if small is not None and len(skipped_files) < len(dataset.files) <= _SIZE_CHECK_FILES:
        small = _too_small(data, dataset, set(range(len(dataset.files)))) or small  # all of them, if so
    if small is not None:
        return SameOnEveryRankError(small + "; nothing was learnt or saved")
    return SameOnEveryRankError(
        f"no image under {data} could be read in the first {plural(state.step, 'step')} "
        f"({plural(len(skipped_files), 'file')} skipped): not images, or broken; nothing was learnt or saved")


def _too_small(data: str | Path, dataset: NaturalImages, files: set[int]) -> str | None:
    """What to say when every one of ``files`` (indices into ``dataset.files``) is an image too small
    for the crop (shorter side under :data:`MIN_SIDE_FRACTION` of it), else None. Only the headers
    are read."""
    from defusion.io.images import header_size  # the size reading gives: HEIC, TIFF, EXIF-upright

    sizes = []
    for index in sorted(files):
        size = header_size(dataset.files[index])
        if size is None:  # not an image, or a camera raw file: then not (only) a matter of size
            return None
        sizes.append(size)
    least = math.ceil(dataset.crop * MIN_SIDE_FRACTION)
    if not sizes or any(min(size) >= least for size in sizes):
        return None
    width, height = max(sizes, key=min)
    largest = int(min(width, height) / MIN_SIDE_FRACTION) // SIZE_MULTIPLE * SIZE_MULTIPLE  # DeNet's crops

    which = (f"all {plural(len(sizes), 'image')} under {data}" if len(sizes) == len(dataset.files) else
             f"the {plural(len(sizes), 'image')} read so far")
    fix = f"lower --crop (to {largest} or less)" if largest >= SIZE_MULTIPLE else "use larger images"
    return (f"{which} {'is' if len(sizes) == 1 else 'are'} smaller than the {dataset.crop}x{dataset.crop} crop "
            f"(the largest, {width}x{height}, is under the {least} pixels a side needs: "
            f"{MIN_SIDE_FRACTION:g} of the crop); {fix}")


def _none_readable(data: str | Path, dataset: NaturalImages) -> str | None:
    """Why an epoch too short for one batch could not train either way, if none of the folder's
    (few) files can be read: what to say then, else None. Each unreadable file is named, as in training."""
    if len(dataset.files) > _PROBE_FILES:
        return None
    if any(dataset[index][1] for index in range(len(dataset.files))):  # (crop, readable)
        return None
    small = _too_small(data, dataset, set(range(len(dataset.files))))
    if small is not None:
        return small
    n = len(dataset.files)
    return (f"no image under {data} could be read ({plural(n, 'file')}, named above): "
            f"{'not an image, or broken' if n == 1 else 'not images, or broken'}")


def files_digest(root: str | Path, files: list[Path]) -> str:
    """A short digest of a training folder's sorted file list (paths relative to ``root``): the same
    for the same files wherever the folder is, another when a file is added, removed or renamed.

    Example:
        >>> files_digest("/a", [Path("/a/x.png"), Path("/a/y/z.png")]) == files_digest("/b", [Path("/b/x.png"),
        ...                                                                                  Path("/b/y/z.png")])
        True
    """
    listing = "\n".join(Path(f).relative_to(root).as_posix() for f in files)
    return hashlib.sha256(listing.encode()).hexdigest()[:_DIGEST_CHARS]


def _data_changes(saved: TrainState, data: str, digest: str) -> dict[str, list]:
    """How the training folder of a resume differs from the one the checkpoint ``saved`` records, as
    ``{"data": [old, new], "data_digest": [old, new]}`` (each only if it changed and was recorded)."""
    changes = {}
    if saved.data is not None and saved.data != data:
        changes["data"] = [saved.data, data]
    if saved.data_digest is not None and saved.data_digest != digest:
        changes["data_digest"] = [saved.data_digest, digest]
    return changes


def _data_note(out: Path, data: str | Path, step: int, changes: dict[str, list], images: int,
               images_before: int | None) -> str:
    """The note of a resume on another folder, or on other files in the same one (``images`` now,
    ``images_before`` as the checkpoint recorded them, None where it did not)."""
    if images_before is not None and images_before != images:
        count = f"{plural(images, 'file')}, was {images_before}"
    else:
        count = f"the same count, {images}"
    files = f"whose file list differs ({count})" if "data_digest" in changes else f"holding the same {plural(images, 'file')}"
    if "data" in changes:
        before, now = changes["data"]
        return (f"defusion: note: the run in {out} was trained on {before}; resuming it at step {step} on {now}, "
                f"{files} (recorded under settings_changed)")
    return (f"defusion: note: the files under {data} differ from those the run in {out} was trained on "
            f"({count}); resuming it at step {step} on them (recorded under settings_changed)")


def _clear_tb(folder: Path) -> None:
    """Delete TensorBoard's event files in a new run's ``folder`` (left by a run killed before it
    logged a step, :func:`_check_run_dir`): nothing else there is this run's to delete."""
    for events in sorted(folder.rglob(TB_EVENTS)):
        if events.is_file():
            events.unlink()


def _read_report(dataset: NaturalImages, indices: list[int], valid: torch.Tensor, ctx: Distributed,
                 device: torch.device) -> tuple[list[int], list[int]]:
    """The files of this step's samples, over every process, that were skipped (unreadable; one per
    sample) and that are smaller than the crop (up-sampled). Under DDP one all-reduce of a code per
    sample of every process (0: read; file + 1: skipped; -(file + 1): up-sampled) tells every rank
    alike, before the step: no collective between its update and its count."""
    files = [index % len(dataset.files) for index in indices]
    codes = torch.zeros(ctx.world_size, len(files), dtype=torch.int64)
    for column, (file, ok) in enumerate(zip(files, valid.tolist())):
        codes[ctx.rank, column] = file + 1 if not ok else -(file + 1) if dataset.upsampled(file) else 0
    if ctx.world_size > 1:
        codes = codes.to(device)
        dist.all_reduce(codes)
        codes = codes.cpu()
    codes = codes.flatten().tolist()
    return [code - 1 for code in codes if code > 0], [-code - 1 for code in codes if code < 0]


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
    out = Path(out)
    ckpt_path = out / "checkpoints" / CHECKPOINT_NAME
    _check_run_dir(out, ckpt_path, resume)
    if resume and init_weights is not None:
        raise ValueError("--init starts a new run from weights; --resume continues the run in --out from its "
                         "checkpoint: give one of them")
    dataset = NaturalImages(data, crop=cfg.crop, seed=cfg.seed, length=cfg.epoch_samples,
                            grey_prob=cfg.grey_prob, crop_scale=cfg.crop_scale)
    dataset.quiet = not ctx.is_main  # rank 0 names what every process finds (_read_report), once
    saved_cfg = checkpoint_config(ckpt_path) if resume else {}
    if resume:  # every rank refuses the same way, before any waits for the others
        _check_resume(out, data, cfg, saved_cfg, checkpoint_state(ckpt_path), ctx.world_size, len(dataset.files))
    sampler = DistributedSampler(dataset, num_replicas=ctx.world_size, rank=ctx.rank, shuffle=True,
                                 seed=cfg.seed, drop_last=True)
    steps_per_epoch = len(sampler) // cfg.batch_size
    if steps_per_epoch == 0:  # as the resume checks: before any rank waits for the others
        raise SameOnEveryRankError(_none_readable(data, dataset) or
                                   _too_few_samples(len(dataset), len(sampler), cfg.batch_size, ctx.world_size))
    if ctx.world_size > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    device = _device(ctx)
    total_steps = cfg.epochs * steps_per_epoch
    if cfg.max_steps is not None:
        total_steps = min(total_steps, cfg.max_steps)
    planned_steps = total_steps  # the schedule's end: a spent time budget ends this invocation sooner
    data_path, data_digest = str(Path(data).resolve()), files_digest(data, dataset.files)

    torch.manual_seed(cfg.seed)  # same initial weights on every rank and every rerun
    model = create_model(cfg.model)
    if init_weights is not None and not resume:
        start = load_weights(init_weights)
        if start.cfg != model.cfg:
            raise ValueError(_init_mismatch(init_weights, start.cfg, cfg.model))
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
    state = TrainState(samples_seen=0, init="random" if init_weights is None else Path(init_weights).name,
                       init_digest=None if init_weights is None else weights_digest(init_weights))
    if resume:
        state = load_checkpoint(ckpt_path, model, optimizer, parts)
        if state.samples_seen is None:  # a checkpoint from before they were counted: as they were then
            state.samples_seen = state.step * cfg.batch_size * ctx.world_size
        if state.init is None:  # nor recorded there: the weights an earlier invocation wrote may say
            state.init = _weights_init(out / WEIGHTS_NAME)
        changed = changed_settings(saved_cfg, cfg)
        moved = _data_changes(state, data_path, data_digest)  # a note, not a refusal: data sets move
        if changed or moved:  # the steps before this one were trained with the old values: keep that on record
            state.settings_changed.append({"step": state.step, **changed, **moved})
        if changed and ctx.is_main:
            print(_changes_note(state.step, changed), file=sys.stderr)
        if moved and ctx.is_main:
            print(_data_note(out, data, state.step, moved, len(dataset.files), state.images), file=sys.stderr)
    state.world_size, state.images = ctx.world_size, len(dataset.files)
    state.data, state.data_digest = data_path, data_digest
    start_step = state.step
    guard = _StepGuard(optimizer)
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
        (out / "config.json").write_text(json.dumps(_run_record(cfg, state), indent=2))
        if not resume and (out / "tb").is_dir():  # a run killed before its first log: nothing to keep
            _clear_tb(out / "tb")
        resume_step = state.step if resume else None
        writer = _summary_writer(out / "tb", resume_step)
        log_file, log = _open_log(out / LOG_NAME, LOG_FIELDS + cfg.extra_loss_terms(), resume_step)

    last_loss: torch.Tensor | None = None  # on the device; read only when logging or saving

    def checkpoint() -> None:
        if _learnt_nothing(state):  # no image read yet: nothing to keep (an error, not a run)
            return
        if last_loss is not None:
            state.last_loss = _finite(float(last_loss), state.step, ckpt_path)
        if not _finite_parameters(model):  # an update after the last loss can blow up the weights
            _finite(float("nan"), state.step, ckpt_path)
        if ctx.is_main:
            save_checkpoint(ckpt_path, model, optimizer, state, cfg.to_dict(), parts)

    if resume and state.step >= total_steps and ctx.is_main:
        print(f"defusion: note: the run in {out} is already at step {state.step}, the end of its schedule "
              f"({_schedule_end(cfg, steps_per_epoch)}); writing its weights", file=sys.stderr)
    elif ctx.is_main:
        print(_start_line(cfg, out, len(dataset.files), state.step if resume else None, total_steps, steps_per_epoch,
                          ctx.world_size), file=sys.stderr)
    bar = tqdm(total=total_steps, initial=state.step, disable=not (progress and ctx.is_main),
               unit="step", dynamic_ncols=True)
    budget_spent = False
    started, tick, tick_step = time.time(), time.time(), state.step
    elapsed_before = state.elapsed_s
    guard.route(signal.SIGINT)
    guard.route(signal.SIGTERM, _interrupt)
    batches = None  # this epoch's loader iterator
    skipped_files: set[int] = set()  # this invocation's, over every process
    upsampled_files: set[int] = set()
    finished = False
    try:
        while state.step < total_steps:
            epoch, offset = divmod(state.step, steps_per_epoch)
            for group in optimizer.param_groups:
                group["lr"] = cfg.lr_at_epoch(epoch)
            sampler.set_epoch(epoch)
            dataset.set_epoch(epoch)
            order = _batches(sampler, cfg.batch_size, offset)
            loader = DataLoader(dataset, batch_sampler=order,
                                num_workers=cfg.workers, pin_memory=device.type == "cuda",
                                worker_init_fn=_worker_ignores_sigterm if cfg.workers else None)
            batches = _start_shielded(loader)
            if hasattr(signal, "SIGCHLD"):  # torch's check for a dead worker, set when its first workers start
                guard.route(signal.SIGCHLD)
            for (x, valid), indices in zip(batches, order):  # the loader first: its end shuts its workers down
                skipped, upsampled = _read_report(dataset, indices, valid, ctx, device)
                if ctx.is_main:  # name what other processes found, once
                    for file in sorted({*skipped, *upsampled} - skipped_files - upsampled_files):
                        dataset.name(file)
                skipped_files.update(skipped)
                upsampled_files.update(upsampled)
                step_seed = cfg.seed * 1_000_003 + state.step * 1_009 + ctx.rank
                generator.manual_seed(step_seed)
                x = x.to(device, non_blocking=True)
                weight = valid.to(device=device, dtype=torch.float32, non_blocking=True)
                losses, views, output = train_step(
                    train_model, optimizer, x, weight, cfg.cud, generator=generator,
                    cells_rng=random.Random(step_seed), autocast=autocast, channels_last=cfg.channels_last,
                    mfm=cfg.mfm if cfg.mfm_weight else None, **cfg.loss_options())

                state.skipped_samples += len(skipped)
                state.step += 1
                state.samples_seen += cfg.batch_size * ctx.world_size
                last_loss = losses["total"].detach()
                state.elapsed_s = elapsed_before + time.time() - started
                guard.done()  # the step is counted: an interrupt held during its update acts now
                bar.update(1)
                if state.step == min(cfg.log_every, total_steps) and \
                        state.skipped_samples >= state.step * cfg.batch_size * ctx.world_size:
                    raise _nothing_read(data, state, skipped_files, dataset)
                if _out_of_time(cfg, started, ctx, device):  # before logging: the run's last step is logged
                    total_steps, budget_spent = state.step, True  # end the run here, weights included
                    if _learnt_nothing(state):  # the budget ran out before the check above: no log row, no weights
                        raise _nothing_read(data, state, skipped_files, dataset)

                if ctx.is_main and (state.step % cfg.log_every == 0 or state.step == total_steps):
                    now = time.time()
                    rate = (state.step - tick_step) * cfg.batch_size * ctx.world_size / max(now - tick, 1e-9)
                    tick, tick_step = now, state.step
                    values = {k: float(v.detach()) for k, v in losses.items()}
                    _finite(values["total"], state.step, ckpt_path)
                    bar.set_postfix(loss=f"{values['total']:.4f}", img_s=f"{rate:.1f}",
                                    skipped=state.skipped_samples)
                    log.writerow({"step": state.step, "epoch": epoch, "lr": cfg.lr_at_epoch(epoch),
                                  **values, "images_per_s": rate, "elapsed_s": round(state.elapsed_s, 1),
                                  "samples": state.samples_seen})
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
                if state.step >= total_steps:
                    break
            checkpoint()  # end of epoch (or of the run)
        if _learnt_nothing(state):  # however the run ended: no checkpoint was kept, so no weights either
            raise _nothing_read(data, state, skipped_files, dataset)
        finished = True
    except KeyboardInterrupt as exc:  # the data workers are stopped below (finally), once this is saved
        bar.close()
        if _learnt_nothing(state):
            if ctx.is_main:
                print(f"defusion: stopped at step {state.step}, before any image was read: nothing was saved",
                      file=sys.stderr)
            raise
        checkpoint()
        if ctx.is_main:
            stopped = STOPPED_TERMINATED if isinstance(exc, Terminated) else STOPPED_INTERRUPTED
            weights = _write_weights(model, out, cfg, state, autocast, planned_steps, stopped)
            print(f"defusion: stopped at step {state.step}: checkpoint saved (go on with --resume) and the weights "
                  f"so far written to {weights}", file=sys.stderr)
        raise
    except RuntimeError as exc:
        # Under DDP, a process that dies makes the others' next collective fail (gloo: "Connection closed
        # by peer"); in one process, a data worker that dies (the OOM killer) fails the loader. Rank 0
        # then saves the last completed step, but only if no update has begun since: otherwise its
        # model and optimizer are part-way into the next step and the checkpoint stays.
        if isinstance(exc, DivergedError):
            raise
        if cfg.workers:  # first: a surviving worker ignores SIGTERM, and the exit would wait on it forever
            _stop_workers(batches)
        bar.close()
        completed = state.step > start_step and guard.begun == state.step - start_step \
            and not _learnt_nothing(state)
        loader = ctx.world_size == 1 and _loader_failed(exc)
        reason = _first_sentence(exc).rstrip(".")
        if loader and not completed:
            raise DataWorkerError(f"a data loader worker died during step {state.step + 1} ({reason}; out of "
                                  f"memory? fewer --workers use less); {_kept(ckpt_path)}") from exc
        if not completed or not ctx.is_main or not (loader or ctx.world_size > 1):
            raise
        guard.ignore(signal.SIGTERM)  # torchrun's SIGTERM to the survivors must not cut the save short
        checkpoint()
        weights = _write_weights(model, out, cfg, state, autocast, planned_steps, STOPPED_FAILED)
        if loader:
            raise DataWorkerError(f"a data loader worker died after step {state.step} ({reason}; out of memory? "
                                  f"fewer --workers use less); saved the checkpoint of step {state.step} (go on "
                                  f"with --resume) and wrote the weights so far to {weights}") from exc
        raise JobFailedError(f"the DDP job failed after step {state.step} ({reason}); rank 0 saved the checkpoint "
                             f"of step {state.step} (go on with --resume and {_processes(ctx.world_size)}) and wrote "
                             f"the weights so far to {weights}") from exc
    finally:
        bar.close()  # before any error's line, which would otherwise land on the bar's
        if not finished and cfg.workers:  # whatever stopped the run: no worker may outlive it
            _stop_workers(batches)
        guard.restore()
    if writer:
        writer.close()
    if log_file:
        log_file.close()
    if ctx.world_size > 1:
        dist.barrier()
    if not ctx.is_main:
        return None
    if upsampled_files:
        print(f"defusion: note: {plural(len(upsampled_files), 'image')} under {data} (named above) "
              f"{'is' if len(upsampled_files) == 1 else 'are'} smaller than the {cfg.crop}x{cfg.crop} crop: "
              "trained on up-sampled", file=sys.stderr)
    if budget_spent:
        print(f"defusion: note: the time budget (--max-seconds {cfg.max_seconds:g}) ran out at step {state.step}: "
              "checkpoint saved (go on with --resume)", file=sys.stderr)
    return _write_weights(model, out, cfg, state, autocast, planned_steps,
                          STOPPED_BUDGET if state.step < planned_steps else None)


def _start_line(cfg: TrainConfig, out: Path, images: int, resume_step: int | None, total_steps: int,
                steps_per_epoch: int, world_size: int) -> str:
    """The line a run says as it starts: what it trains on, its schedule and where its outputs go.

    Example:
        >>> _start_line(TrainConfig(model="defusion-tiny", batch_size=2), Path("runs/x"), 10, None, 12, 5, 1)
        'defusion: training defusion-tiny on 10 images for 12 steps (2.4 epochs of 5 steps, batch 2); writing to runs/x'
    """
    epochs = total_steps / steps_per_epoch
    batch = f"batch {cfg.batch_size}" + (f" x {_processes(world_size)}" if world_size > 1 else "")
    schedule = f"({epochs:.3g} epoch{'' if epochs == 1 else 's'} of {plural(steps_per_epoch, 'step')}, {batch})"
    if resume_step is None:
        what = f"training {cfg.model} on {plural(images, 'image')} for {plural(total_steps, 'step')}"
    else:
        what = f"resuming {cfg.model} at step {resume_step} of {total_steps}, on {plural(images, 'image')}"
    return f"defusion: {what} {schedule}; writing to {out}"


def _init_mismatch(init_weights: str | Path, weights_cfg, model: str) -> str:
    """Why ``--init`` weights (of DeNet config ``weights_cfg``) do not fit this run's ``model``, naming
    the registered network they are and the --model that trains them."""
    name = next((n for n in list_models() if model_config(n) == weights_cfg), None)
    if name is None:
        return (f"--init weights {init_weights} are not a {model!r} network (their DeNet settings are no registered "
                "model's): start from weights of this model, or pass the --model they are")
    return f"--init weights {init_weights} are a {name!r} network, not a {model!r} one: pass --model {name}"


def _run_record(cfg: TrainConfig, state: TrainState) -> dict:
    """What config.json says of a run: this invocation's config, the training folder (``data``, its
    file list's ``data_digest`` and ``images``), and the settings earlier resumes changed
    (``settings_changed``, only if any: the steps before each were trained without it)."""
    record = cfg.to_dict()
    record.update({name: getattr(state, name) for name in ("data", "data_digest", "images")
                   if getattr(state, name) is not None})
    if state.settings_changed:
        record["settings_changed"] = state.settings_changed
    return record


def _write_weights(model, out: Path, cfg: TrainConfig, state: TrainState, autocast, planned_steps: int,
                   stopped: str | None = None) -> Path:
    """The run's inference weights, with what they are in their metadata: steps (of ``planned_steps``,
    the schedule's; ``complete`` false and ``stopped`` saying why when the run stopped short of it),
    samples seen over all the run's invocations, the training folder (``data``, ``data_digest``,
    ``images``), where the run started (``init``), the training config (the last invocation's) and
    the settings resumes changed at which step (``settings_changed``)."""
    weights = out / WEIGHTS_NAME
    if not _finite_parameters(model):
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

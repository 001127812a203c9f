"""Whether a run may start in its folder or resume there, and what a resume changes.

A new run refuses a folder holding an earlier run's work; a resume refuses what would move its
epochs and learning-rate schedule (batch size, processes, epoch length, image count). Other changed
settings, and another training folder, are said in a note and kept on record (``settings_changed``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from defusion.io.notes import plural
from defusion.model.weights import weights_metadata
from defusion.training.checkpoint import TrainState
from defusion.training.config import TrainConfig, TrainConfigError
from defusion.training.distributed import processes
from defusion.training.errors import RunDirError
from defusion.training.metrics_log import LOG_NAME, has_logged_steps
from defusion.training.run_record import WEIGHTS_NAME

#: What every refused resume would do to the run.
_MOVES_SCHEDULE = "would move its epochs and learning-rate schedule"
#: Characters of a SHA-256 hex digest kept as the digest of a training folder's file list.
_DIGEST_CHARS = 16
#: Options that say how long or how an invocation runs, not what its steps train: a resume changes
#: them without a note or a record (a larger --max-steps or --epochs is how a run goes on).
RUN_CONTROLS = frozenset({"epochs", "max_steps", "max_seconds", "workers", "checkpoint_every", "preview_every",
                          "log_every", "compile", "channels_last",
                          "reinit"})  # reinit acts when a run starts: a resume keeps the checkpoint's parts


class ResumeError(TrainConfigError):
    """A resume refused: its options or --data would move the run's epochs and learning-rate schedule
    (a ValueError, as before this class existed)."""


def check_run_dir(out: Path, ckpt_path: Path, resume: bool) -> None:
    """RunDirError if this call would overwrite a run's work in ``out``, or has nothing to resume.

    Example:
        >>> check_run_dir(Path("runs/no-such-run"), Path("runs/no-such-run/checkpoint.pt"), resume=True)
        Traceback (most recent call last):
        ...
        defusion.training.errors.RunDirError: nothing to resume: runs/no-such-run/checkpoint.pt does not exist
    """
    if resume:
        if not ckpt_path.exists():
            raise RunDirError(f"nothing to resume: {ckpt_path} does not exist")
        return
    if ckpt_path.exists():
        raise RunDirError(f"{out} already holds a training run; pass --resume to continue it or choose another --out")
    kept = [name for name, there in ((WEIGHTS_NAME, (out / WEIGHTS_NAME).exists()),
                                     (LOG_NAME, has_logged_steps(out / LOG_NAME))) if there]
    if kept:
        raise RunDirError(f"{out} already holds an earlier run's {' and '.join(kept)}, which a new run would "
                          f"overwrite: use another --out, or delete {' and '.join(kept)} there if that run is not "
                          f"worth keeping (--resume goes on only from a checkpoint, and there is no {ckpt_path})")


def _epoch_samples(value: int | None) -> str:
    """An ``epoch_samples`` value in words (None: one pass over the data)."""
    return "unset (an epoch is one pass over --data)" if value is None else str(value)


def check_resume(out: Path, data: str | Path, cfg: TrainConfig, saved_cfg: dict, saved: TrainState,
                 world_size: int, images: int) -> None:
    """:class:`ResumeError`, naming the old and new values, if resuming the run in ``out`` this way
    would move its epochs and learning-rate schedule: another batch size, number of processes, epoch length, or
    (when an epoch is one pass over --data) number of images. A checkpoint written before a value
    was recorded skips its check."""
    before = saved_cfg.get("batch_size")
    if before is not None and before != cfg.batch_size:
        raise ResumeError(f"the run in {out} was trained with batch size {before}; resuming it at "
                          f"{cfg.batch_size} {_MOVES_SCHEDULE}: leave --batch-size out (or start a new run)")
    if saved.world_size is not None and saved.world_size != world_size:
        how = ("in one process (without torchrun)" if saved.world_size == 1 else
               f"with {processes(saved.world_size)} (torchrun --nproc_per_node {saved.world_size})")
        raise ResumeError(f"the run in {out} was trained by {processes(saved.world_size)}; resuming it with "
                          f"{processes(world_size)} {_MOVES_SCHEDULE}: resume it {how} (or start a new run)")
    if "epoch_samples" in saved_cfg and saved_cfg["epoch_samples"] != cfg.epoch_samples:
        before = _epoch_samples(saved_cfg["epoch_samples"])
        raise ResumeError(f"the run in {out} was trained with epoch_samples {before}; resuming it with "
                          f"{_epoch_samples(cfg.epoch_samples)} {_MOVES_SCHEDULE}: leave --epoch-samples (and "
                          "epoch_samples in --config) out (or start a new run)")
    if cfg.epoch_samples is None and saved.images is not None and saved.images != images:
        raise ResumeError(f"the run in {out} took each epoch as one pass over {saved.images} images; --data {data} "
                          f"now holds {images}, which {_MOVES_SCHEDULE}: resume it on the same images (or start a "
                          "new run)")


def changed_settings(saved_cfg: dict, cfg: TrainConfig) -> dict[str, list]:
    """The settings that resuming with ``cfg`` changes from ``saved_cfg`` (the checkpoint's), as
    ``{name: [old, new]}`` (``cud.degrade_prob`` for one in a section). Run controls
    (``RUN_CONTROLS``) are left out, and so is an option the checkpoint predates.

    Example:
        >>> saved = json.loads(json.dumps(TrainConfig().to_dict()))  # as the checkpoint holds it
        >>> changed_settings(saved, TrainConfig(lr=5e-4, epochs=9))  # epochs: a run control, not a change
        {'lr': [0.001, 0.0005]}
    """
    new = json.loads(json.dumps(cfg.to_dict()))  # as the checkpoint holds it: tuples as lists
    changed: dict[str, list] = {}
    for name, value in new.items():
        if name in RUN_CONTROLS or name not in saved_cfg:
            continue
        old = saved_cfg[name]
        if isinstance(value, dict) and isinstance(old, dict):
            changed.update({f"{name}.{k}": [old[k], v] for k, v in value.items() if k in old and old[k] != v})
        elif old != value:
            changed[name] = [old, value]
    return changed


def _setting(value: object) -> str:
    """An option's value as a note shows it (``0.001``, ``[0.08, 1.0]``, ``true``, ``unset``)."""
    if value is None:
        return "unset"
    if isinstance(value, float):
        return f"{value:g}"
    return json.dumps(value) if isinstance(value, (bool, list, dict)) else str(value)


def changes_note(step: int, changed: dict[str, list]) -> str:
    """The note of a resume that changes settings: each one old -> new, and where that is kept.

    Example:
        >>> print(changes_note(1200, {"lr": [0.001, 0.0005], "crop": [256, 320]}))
        defusion: note: resuming at step 1200 with lr 0.001 -> 0.0005, crop 256 -> 320 (config.json and the \
weights record it under settings_changed)
    """
    settings = ", ".join(f"{name} {_setting(old)} -> {_setting(new)}" for name, (old, new) in changed.items())
    return (f"defusion: note: resuming at step {step} with {settings} (config.json and the weights record it "
            "under settings_changed)")


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


def data_changes(saved: TrainState, data: str, digest: str) -> dict[str, list]:
    """How the training folder of a resume differs from the one the checkpoint ``saved`` records, as
    ``{"data": [old, new], "data_digest": [old, new]}`` (each only if it changed and was recorded).

    Example:
        >>> saved = TrainState(data="/data/coco", data_digest="3f2a9c1b00d4e5f6")
        >>> data_changes(saved, "/data/coco", "77aa00bb11cc22dd"), data_changes(saved, "/data/coco", "3f2a9c1b00d4e5f6")
        ({'data_digest': ['3f2a9c1b00d4e5f6', '77aa00bb11cc22dd']}, {})
    """
    changes = {}
    if saved.data is not None and saved.data != data:
        changes["data"] = [saved.data, data]
    if saved.data_digest is not None and saved.data_digest != digest:
        changes["data_digest"] = [saved.data_digest, digest]
    return changes


def data_note(out: Path, data: str | Path, step: int, changes: dict[str, list], images: int,
              images_before: int | None) -> str:
    """The note of a resume on another folder, or on other files in the same one (``images`` now,
    ``images_before`` as the checkpoint recorded them, None where it did not).

    Example:
        >>> print(data_note(Path("runs/a"), "/data/coco", 1200, {"data_digest": ["3f2a", "77aa"]}, 1005, 1000))
        defusion: note: the files under /data/coco differ from those the run in runs/a was trained on (1005 files, \
was 1000); resuming it at step 1200 on them (recorded under settings_changed)
    """
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


def weights_init(path: Path) -> str | None:
    """Where the run that wrote the weights at ``path`` started (``init``), if they record it."""
    try:
        return weights_metadata(path).get("init") if path.is_file() else None
    except Exception:  # noqa: BLE001 - a damaged file only means no record
        return None

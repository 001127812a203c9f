"""Atomic, pickle-free training checkpoints (safetensors + JSON metadata)."""

from __future__ import annotations

import json
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from defusion.errors import DefusionError
from defusion.io.atomic import atomic_path
from defusion.model import weights as model_weights
from defusion.model.registry import list_models, model_config

#: The run's checkpoint, in ``OUT/checkpoints``: named in model.weights, which reads runs too (is_training_run).
CHECKPOINT_NAME = model_weights.CHECKPOINT_NAME


class CheckpointError(DefusionError, ValueError):
    """A training checkpoint that cannot be resumed from: no readable checkpoint, or one of another
    architecture or training parts than the run asks for (a ValueError, as before this class existed)."""


@dataclass
class TrainState:
    """Where a run stands: steps done, samples skipped (their images unreadable), training seconds
    so far; and what its schedule and weights depend on beyond its config, so that a resume can keep
    them."""

    step: int = 0
    #: Samples skipped over the run (an unreadable file counts once per sample drawn from it).
    skipped_samples: int = 0
    elapsed_s: float = 0.0
    last_loss: float | None = None
    #: Training samples seen in all (steps x batch x processes, summed over the run's invocations).
    samples_seen: int | None = None
    #: Processes of the DDP job (1 without torchrun); their number sets the steps per epoch.
    world_size: int | None = None
    #: Images found under --data: with no ``epoch_samples``, an epoch is one pass over them.
    images: int | None = None
    #: The --data folder, resolved (absolute), and the digest of its sorted file list (relative
    #: paths: :func:`defusion.training.trainer.files_digest`): a resume on other data says so.
    data: str | None = None
    data_digest: str | None = None
    #: Where the run started: the --init weights file's name, or "random".
    init: str | None = None
    #: The --init weights file's digest (:func:`~defusion.model.weights.weights_digest`): which
    #: weights the run started from, whatever the file's name (None: random, or not recorded).
    init_digest: str | None = None
    #: The settings a resume changed, one entry per such resume: ``{"step": N, "lr": [old, new], ...}``
    #: (:func:`defusion.training.trainer.changed_settings`), so that the run's record keeps what
    #: its steps before N were trained with.
    settings_changed: list[dict] = field(default_factory=list)


#: Where older checkpoints kept ``skipped_samples`` (a count of samples, despite the name).
_OLD_SKIPPED = "skipped_images"
#: TrainState's optional fields, saved as metadata strings when known (None: an older checkpoint).
_OPTIONAL_INTS = ("samples_seen", "world_size", "images")
#: TrainState's optional text fields, saved when known.
_OPTIONAL_STRS = ("init", "init_digest", "data", "data_digest")


def save_checkpoint(path: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    state: TrainState, config: dict, parts: dict[str, torch.nn.Module] | None = None) -> None:
    """Write model, optimizer and progress to ``path`` atomically (a kill keeps the old one).

    ``parts`` are training-only modules trained beside the model (e.g. the MFM decoder), saved
    under their names so that a resumed run gets them back; the shipped weights never hold them."""
    path = Path(path)
    model = getattr(model, "module", model)
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    for name, part in (parts or {}).items():
        tensors.update({f"part.{name}.{k}": v.detach().cpu().contiguous() for k, v in part.state_dict().items()})
    optim = optimizer.state_dict()
    for index, param_state in optim["state"].items():
        for key, value in param_state.items():
            value = value if torch.is_tensor(value) else torch.tensor(value)
            tensors[f"optim.{index}.{key}"] = value.detach().cpu().contiguous()
    meta = {
        "step": str(state.step),
        "skipped_samples": str(state.skipped_samples),
        "elapsed_s": f"{state.elapsed_s:.3f}",
        "last_loss": "" if state.last_loss is None else f"{state.last_loss:.6f}",
        "param_groups": json.dumps(optim["param_groups"]),
        "config": json.dumps(config),
    }
    meta.update({name: str(getattr(state, name)) for name in _OPTIONAL_INTS if getattr(state, name) is not None})
    meta.update({name: getattr(state, name) for name in _OPTIONAL_STRS if getattr(state, name) is not None})
    if state.settings_changed:
        meta["settings_changed"] = json.dumps(state.settings_changed)
    try:
        with atomic_path(path) as tmp:
            save_file(tensors, str(tmp), metadata=meta)
            os.chmod(tmp, 0o644)  # as the weights (save_weights): safetensors writes 0600, unreadable to a shared run
    except (OSError, SafetensorError) as exc:  # e.g. a full disk: the previous checkpoint stays as it was
        error = os_error(exc, path)
        if error is None:
            raise
        raise error from None


def os_error(exc: BaseException, path: str | Path) -> OSError | None:
    """``exc`` as an OSError naming ``path``: with an OSError's code, or the one a safetensors error
    reports (e.g. "No space left on device (os error 28)"); None if it reports none."""
    if isinstance(exc, OSError):
        code = exc.errno
    else:
        found = re.search(r"os error (\d+)", str(exc)) if isinstance(exc, SafetensorError) else None
        code = int(found.group(1)) if found else None
    if code is None:
        return exc if isinstance(exc, OSError) else None
    return OSError(code, os.strerror(code), str(path))


@contextmanager
def _open(path: str | Path) -> Iterator:
    """``safe_open`` of a checkpoint; a file that is not one (truncated, another format) is a
    :class:`CheckpointError`."""
    try:
        f = safe_open(str(path), framework="pt", device="cpu")
    except SafetensorError as exc:
        raise CheckpointError(f"{path} is not a readable training checkpoint ({exc})") from None
    with f as opened:
        yield opened


def _model_name(model: torch.nn.Module) -> str | None:
    """The registered name of ``model``'s architecture, if it has one."""
    cfg = getattr(model, "cfg", None)
    return next((name for name in list_models() if model_config(name) == cfg), None)


def _check_architecture(path: str | Path, model: torch.nn.Module, state: dict[str, torch.Tensor], meta: dict) -> None:
    """A :class:`CheckpointError` naming both architectures if ``state`` (a checkpoint's) does not fit
    ``model``."""
    expected = model.state_dict()
    if set(expected) == set(state) and all(expected[k].shape == state[k].shape for k in expected):
        return
    saved = json.loads(meta["config"]).get("model") if meta.get("config") else None
    requested = _model_name(model)
    held = repr(saved) + " network" if saved else "network of another architecture"
    asked = repr(requested) if requested else "another architecture"
    raise CheckpointError(f"{path} holds a {held}, this run asks for {asked}; resume it with the model it was "
                          f"started with{f' (--model {saved})' if saved else ''}, or start a new run in another folder")


def load_checkpoint(path: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    parts: dict[str, torch.nn.Module] | None = None) -> TrainState:
    """Restore model, optimizer and the training-only ``parts`` from ``path``; returns the saved
    progress. A part the checkpoint lacks, or holds but is not asked for, is a :class:`CheckpointError`."""
    model = getattr(model, "module", model)
    parts = parts or {}
    device = next(model.parameters()).device
    model_state, optim_state, part_states = {}, {}, {}
    with _open(path) as f:
        meta = f.metadata()
        for key in f.keys():
            kind, rest = key.split(".", 1)
            if kind == "model":
                model_state[rest] = f.get_tensor(key)
            elif kind == "part":
                name, param = rest.split(".", 1)
                part_states.setdefault(name, {})[param] = f.get_tensor(key)
            else:
                index, name = rest.split(".", 1)
                # A copy, not the file's mapped view (which .to() returns as is on the CPU): the
                # optimizer keeps its state all run, and Windows refuses to replace a mapped file, so
                # the run's next save would fail. The model's tensors are copied into its parameters.
                optim_state.setdefault(int(index), {})[name] = f.get_tensor(key).to(device, copy=True)
    _check_architecture(path, model, model_state, meta)
    if set(part_states) != set(parts):
        raise CheckpointError(f"{path} {_parts_mismatch(set(part_states), set(parts))}; resume it with the config "
                              "it was started with")
    model.load_state_dict(model_state)
    for name, part in parts.items():
        part.load_state_dict(part_states[name])
    for param_state in optim_state.values():
        if "step" in param_state:  # Adam keeps its step counter on the CPU
            param_state["step"] = param_state["step"].cpu()
    optimizer.load_state_dict({"state": optim_state, "param_groups": json.loads(meta["param_groups"])})
    return _state(meta)


def _parts_mismatch(saved: set[str], asked: set[str]) -> str:
    """What differs between the training parts a checkpoint holds and those a resume trains, in words.

    Example:
        >>> _parts_mismatch(set(), {"mfm_decoder"})
        'holds no extra training parts; this run also trains mfm_decoder'
        >>> _parts_mismatch({"mfm_decoder"}, set())
        'holds the training part mfm_decoder, which this run does not train'
    """
    if not saved:
        return f"holds no extra training parts; this run also trains {', '.join(sorted(asked))}"
    if not asked:
        return (f"holds the training part{'s' if len(saved) > 1 else ''} {', '.join(sorted(saved))}, which this run "
                "does not train")
    return f"holds the training parts {', '.join(sorted(saved))}; this run trains {', '.join(sorted(asked))}"


def _state(meta: dict[str, str]) -> TrainState:
    """The progress a checkpoint's metadata records (fields an older checkpoint lacks: None)."""
    skipped = meta.get("skipped_samples", meta.get(_OLD_SKIPPED, "0"))
    return TrainState(step=int(meta["step"]), skipped_samples=int(skipped),
                      elapsed_s=float(meta.get("elapsed_s", 0.0)),
                      last_loss=float(meta["last_loss"]) if meta.get("last_loss") else None,
                      settings_changed=json.loads(meta.get("settings_changed") or "[]"),
                      **{name: meta.get(name) for name in _OPTIONAL_STRS},
                      **{name: int(meta[name]) for name in _OPTIONAL_INTS if meta.get(name)})


def checkpoint_state(path: str | Path) -> TrainState:
    """The progress saved in the checkpoint at ``path``, read without loading its tensors."""
    with _open(path) as f:
        return _state(f.metadata())


def checkpoint_config(path: str | Path) -> dict:
    """The training config saved in the checkpoint at ``path``."""
    with _open(path) as f:
        return json.loads(f.metadata()["config"])


def checkpoint_step(path: str | Path) -> int:
    """The number of steps the checkpoint at ``path`` holds."""
    with _open(path) as f:
        return int(f.metadata()["step"])

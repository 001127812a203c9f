"""Saving and loading DeNet weights as safetensors (no pickle), with the config inside."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import zipfile
from importlib import resources
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from safetensors import safe_open

from defusion.io.atomic import atomic_path
from defusion.model.denet import DeNet, DeNetConfig
from defusion.model.errors import WeightsError  # defined there: the CLI names it without PyTorch

#: The weights shipped inside the package, used whenever no path is given.
DEFAULT_WEIGHTS = "defusion.safetensors"
#: The folder of a training run that holds its checkpoint (defusion.training.trainer writes it there).
RUN_CHECKPOINTS = "checkpoints"
#: A training run's files (``defusion train --out``), named here, below training, where a run is read:
#: its inference weights (training.run_record writes them) and its checkpoint in RUN_CHECKPOINTS
#: (training.checkpoint writes it). Both are still importable from those modules.
WEIGHTS_NAME = "weights.safetensors"
CHECKPOINT_NAME = "last.safetensors"
#: Metadata a training checkpoint holds (defusion.training.checkpoint.save_checkpoint) and weights do not.
CHECKPOINT_FIELDS = ("step", "param_groups")


def shipped_weights_path(name: str = DEFAULT_WEIGHTS) -> Path:
    """Path of a weights file shipped in ``defusion/model/pretrained``."""
    return Path(str(resources.files("defusion.model") / "pretrained" / name))


#: Bytes of a weights file read at a time while hashing it.
_HASH_CHUNK_BYTES = 1 << 20
#: Hex digits of :func:`weights_digest`: the ID export caches, benchmark runs and exports record.
DIGEST_CHARS = 16


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of the file at ``path``, 64 hex digits, read in chunks (a weights file, an export)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def weights_digest(path: str | Path | None = None) -> str:
    """First 16 hex digits of the SHA-256 of a weights file (default: the shipped one): an ID
    that changes whenever the weights do (export caches and benchmark runs are keyed by it)."""
    return file_sha256(Path(path) if path is not None else shipped_weights_path())[:DIGEST_CHARS]


def save_weights(model: DeNet, path: str | Path, metadata: dict[str, str] | None = None, half: bool = False) -> None:
    """Write ``model``'s weights and config atomically (``half`` stores fp16). ``metadata`` adds
    fields; it never replaces ``format`` or ``config``, which say what the tensors are."""
    path = Path(path)
    model = getattr(model, "module", model)
    tensors = {
        k: (v.detach().half() if half and v.is_floating_point() else v.detach()).contiguous().cpu()
        for k, v in model.state_dict().items()
    }
    meta = {**(metadata or {}), "format": "defusion-denet", "config": json.dumps(model.cfg.to_dict())}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=meta)
        os.chmod(tmp, 0o644)  # weights are data anyone may read (package data, shared runs)


def weights_metadata(path: str | Path) -> dict[str, str]:
    """The metadata a safetensors weights file's header holds (``format``, the DeNet ``config`` as JSON,
    and what a training run or :func:`save_weights` added: ``steps``, ``final_loss``...), read without
    loading its tensors: to say what weights are before loading them. Not an image's metadata
    (:func:`defusion.io.metadata.read_metadata`).

    Example:
        >>> meta = weights_metadata(shipped_weights_path())
        >>> meta["format"], meta["model"], json.loads(meta["config"])["in_channels"]
        ('defusion-denet', 'defusion', 3)
    """
    with safe_open(str(path), framework="pt") as f:
        return dict(f.metadata() or {})


#: The former name of :func:`weights_metadata` (docs/serving.md's export example, scripts and training
#: runs call it so), kept as an alias: it clashed with :func:`defusion.io.metadata.read_metadata`, which
#: reads an image's.
read_metadata = weights_metadata


def is_torchscript_export(path: str | Path) -> bool:
    """Whether ``path`` is a TorchScript archive (``defusion export --format torchscript``): a zip
    holding the network's code (``code/``) and constants, which a ``torch.save`` file has not."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
    return any("/code/" in name for name in names) and any(name.endswith("constants.pkl") for name in names)


def run_weights(run: str | Path) -> Path:
    """The weights file a training run in folder ``run`` writes (``--out``), whether written or not."""
    return Path(run) / WEIGHTS_NAME


def run_weights_hint(run: str | Path) -> str:
    """What to give instead of a training run (its folder ``run``) or of its checkpoint: the run's
    weights file where written, else when the run writes it."""
    weights = run_weights(run)
    if weights.is_file():
        return f"give the run's weights file, {weights}"
    return (f"the run writes its weights to {weights} when it ends or is stopped (Ctrl-C, --max-seconds): "
            f"continue it with defusion train --data IMAGES --out {run} --resume, or give another weights file")


def is_training_run(folder: str | Path) -> bool:
    """Whether ``folder`` is a training run's (``defusion train --out``): it holds the run's weights or
    its checkpoint."""
    folder = Path(folder)
    return run_weights(folder).is_file() or (folder / RUN_CHECKPOINTS / CHECKPOINT_NAME).is_file()


def folder_refusal(folder: str | Path, option: str | None = None) -> str:
    """Why a model path cannot be ``folder``, and what to give instead, without the folder's name (the
    caller names it as it was given): a training run's weights file, ``option`` before it where a
    command line names it (``--weights``), or when the run writes it; else the file itself.

    Example:
        >>> folder_refusal(".")
        'is a folder, not a model file; give the file itself'
    """
    folder = Path(folder)
    if not is_training_run(folder):
        return "is a folder, not a model file; give the file itself"
    weights = run_weights(folder)
    given = f"{option} {weights}" if option else str(weights)
    hint = f"give its weights file, {given}" if weights.is_file() else run_weights_hint(folder)
    return f"is a training run's folder, not a model file; {hint}"


def check_model_path(path: str | Path | None) -> None:
    """Refuse a weights or export path that is a folder (a training run's above all: its weights file is
    named) with a WeightsError, where "not found" would be all a loader could say."""
    if path is not None and Path(path).is_dir():
        raise WeightsError(f"{path} {folder_refusal(path)}")


def _not_weights(path: Path, meta: dict[str, str]) -> WeightsError:
    """The error for a safetensors file without a DeNet config: a training checkpoint is named as
    one, with its run's weights file to give instead."""
    if not all(field in meta for field in CHECKPOINT_FIELDS):
        return WeightsError(f"{path} is a safetensors file but not defusion weights (no DeNet config inside)")
    run = path.parent.parent if path.parent.name == RUN_CHECKPOINTS else path.parent
    return WeightsError(f"{path} is a training checkpoint (step {meta['step']}), not defusion weights: "
                        f"{run_weights_hint(run)}")


class _Layout(DeNet):
    """A DeNet's modules without their initial weights: built on the meta device (no memory) for its tensors'
    shapes, where drawing random numbers would take seconds."""

    def _init_weights(self) -> None:
        """Nothing: a layout holds no values."""


def config_layout(cfg: DeNetConfig) -> dict[str, tuple[int, ...]]:
    """The name and shape of every tensor of the DeNet ``cfg`` describes (its state dict), without building
    it: 40 ms for ``defusion-tiny``, 150 for the published network (a shared 2-core AMD EPYC), once a process
    for each of the last few configs.

    Example:
        >>> from defusion.model.registry import model_config
        >>> config_layout(model_config("defusion"))["encoder.stem.weight"]
        (16, 3, 3, 3)
    """
    return dict(_layout(cfg))


@functools.lru_cache(maxsize=8)
def _layout(cfg: DeNetConfig) -> dict[str, tuple[int, ...]]:
    """:func:`config_layout`, kept: every load of the same weights (tests, a server's reloads) asks again."""
    with torch.device("meta"):
        return {k: tuple(v.shape) for k, v in _Layout(cfg).state_dict().items()}


def config_fields(tensor: str) -> str:
    """The DeNetConfig settings that shape the tensor named ``tensor``, for messages.

    Example:
        >>> config_fields("encoder.stage2.0.reduce.weight"), config_fields("ensembler.3.expand.bias")
        ('encoder_widths and encoder_blocks, stage 2', 'ensembler_width and ensembler_blocks')
    """
    found = re.match(r"(encoder|common_decoder|unique_decoder)\.stage(\d+)\.", tensor)
    if found:
        part = found[1].removesuffix("_decoder")
        return f"{part}_widths and {part}_blocks, stage {found[2]}"
    if tensor.startswith("ensembler."):
        return "ensembler_width and ensembler_blocks"
    if tensor.startswith("encoder.stem."):
        return "in_channels and stem_channels"
    return "out_channels and the decoders' last widths"  # the heads


def _shown(shape: tuple[int, ...]) -> str:
    """A tensor's shape as messages write it: ``16x3x3x3``."""
    return "x".join(map(str, shape)) or "a scalar"


def _check_fit(path: Path, shapes: dict[str, tuple[int, ...]], cfg: DeNetConfig) -> None:
    """A WeightsError naming the file and the config's settings where the tensors (``shapes``) do not fit the
    network ``cfg`` describes: checked on its layout (:func:`config_layout`), so that a small file whose config
    asks for a far larger network is refused before any of it is built."""
    layout = config_layout(cfg)
    misfit = next((k for k, v in layout.items() if k in shapes and shapes[k] != v), None)  # the network's first
    if misfit is not None:  # load_state_dict's own error is a page of size mismatches
        raise WeightsError(f"{path} does not fit the DeNet config it holds: {misfit} is {_shown(shapes[misfit])} in "
                           f"the file, {_shown(layout[misfit])} in that network (its {config_fields(misfit)}: a file "
                           "whose config was replaced?)")
    missing, unexpected = [k for k in layout if k not in shapes], [k for k in shapes if k not in layout]
    if missing or unexpected:
        odd = (missing or unexpected)[0]
        said = (f"{len(missing)} tensors of that network are not in the file ({odd}, ...)" if missing else
                f"{len(unexpected)} tensors of the file are not in that network ({odd}, ...)")
        raise WeightsError(f"{path} does not fit the DeNet config it holds: {said}; its {config_fields(odd)} "
                           "disagree with the file (a file whose config was replaced?)")


def load_weights(path: str | Path | None = None, map_location: str | torch.device = "cpu") -> DeNet:
    """Build a DeNet from a weights file (default: the shipped weights), in eval mode. The file's config is
    checked against its tensors' shapes before the network is built (:func:`config_layout`): a small file
    cannot make it build one of many GB."""
    path = Path(path) if path is not None else shipped_weights_path()
    check_model_path(path)
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path}")
    if is_torchscript_export(path):
        raise WeightsError(f"{path} is a TorchScript export (defusion export --format torchscript), for running the "
                           "network elsewhere: defusion runs safetensors weights, or an ONNX export (defusion export "
                           "--format onnx, then --onnx model.onnx)")
    if Path(path).suffix.lower() in (".onnx", ".pt", ".pth", ".ckpt"):
        raise WeightsError(
            f"{path}: weights are a .safetensors file; "
            + ("an ONNX export runs with `defusion fuse --onnx FILE` or Fuser.from_pretrained(FILE)"
               if Path(path).suffix.lower() == ".onnx" else
               "pickled PyTorch files are not loaded (they can run code); convert them to safetensors"))
    try:
        meta = weights_metadata(path)
        state = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(f"cannot read weights {path}: not a valid safetensors file ({exc})") from None
    if not all(torch.isfinite(t).all() for t in state.values()):
        raise WeightsError(f"{path} holds NaN or infinite values: a training run that diverged (retrain from its "
                           "last good checkpoint with a lower learning rate)")
    if meta.get("format") != "defusion-denet" or "config" not in meta:
        raise _not_weights(path, meta)
    try:
        cfg = DeNetConfig.from_dict(json.loads(meta["config"]))  # its bounds refuse a network of many GB
    except (ValueError, TypeError, AttributeError) as exc:  # JSON, settings, or not a mapping at all
        raise WeightsError(f"{path}: its DeNet config is not valid ({exc})") from None
    _check_fit(path, {k: tuple(v.shape) for k, v in state.items()}, cfg)  # before the network is built
    model = DeNet(cfg)
    reference = model.state_dict()
    state = {k: v.to(reference[k].dtype) if k in reference else v for k, v in state.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise WeightsError(f"{path} does not fit DeNet: missing {missing[:3]}, unexpected {unexpected[:3]}")
    return model.to(map_location).eval()


def config_differences(cfg: DeNetConfig, weights_cfg: DeNetConfig) -> list[str]:
    """The settings in which a model's ``cfg`` differs from the one its weights were trained with, as
    "NAME is MODEL'S here, WEIGHTS' in the weights", in DeNetConfig's order; [] where they fit."""
    mine, theirs = cfg.to_dict(), weights_cfg.to_dict()
    return [f"{name} is {mine[name]} here, {theirs.get(name)} in the weights" for name in mine
            if mine[name] != theirs.get(name)]


def load_weights_into(model: DeNet, path: str | Path | None = None) -> DeNet:
    """``model`` with the weights of ``path`` (default: the shipped weights) loaded into it, read by
    :func:`load_weights` as ``Fuser.from_pretrained`` reads them; ``create_model(..., pretrained=True)``.
    A model built with other settings than the weights' is refused (WeightsError), naming those that
    differ: a size mismatch would be a page of tensor shapes, and equal shapes would load silently."""
    loaded = load_weights(path)
    differences = config_differences(model.cfg, loaded.cfg)
    if differences:
        shown = "; ".join(differences[:3]) + (f"; and {len(differences) - 3} more" if len(differences) > 3 else "")
        what = "the shipped weights" if path is None else f"the weights {path}"
        raise WeightsError(f"{what} do not fit this model's DeNet settings ({shown}): build the model with the "
                           "weights' settings" + (" (create_model('defusion'))" if path is None else ""))
    model.load_state_dict(loaded.state_dict())
    return model

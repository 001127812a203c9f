"""The ``GET /v1/info`` document: the model and its parameter count, the weights' SHA-256 and
metadata (without the server's paths), the options, what each task changes, and the limits."""

from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from defusion import __version__
from defusion.fusion.fuser import TASK_FIELDS, TASKS, FuseOptions, Fuser
from defusion.serving.answer_format import formats_info
from defusion.serving.limits import Limits

if TYPE_CHECKING:
    from defusion.model.denet import DeNetConfig


def file_sha256(path: str | Path | None) -> str | None:
    """The SHA-256 of the model file at ``path``, 64 hex digits (None without a path or where it cannot
    be read: info must never fail, the weights were loaded already)."""
    if path is None:
        return None
    from defusion.model.weights import file_sha256 as sha256_of

    try:
        return sha256_of(path)
    except OSError:
        return None


def weights_id(info: dict) -> str | None:
    """The digest an answer's X-Defusion-Model names: the weights file's SHA-256 or, for an ONNX export,
    the SHA-256 (start) of the weights it was exported from (its ``weights_sha256_16``), so that one set of
    weights is named alike whichever runtime serves it.

    Example:
        >>> weights_id({"weights": {"sha256": "ab" * 32, "metadata": {"weights_sha256_16": "0123456789abcdef"}}})
        '0123456789abcdef'
    """
    weights = info["weights"]
    return weights["metadata"].get("weights_sha256_16") or weights["sha256"]


def _count_parameters(weights: str | Path) -> int | None:
    """The number of values in a safetensors file's tensors, from its header (None if unreadable)."""
    import math

    from safetensors import safe_open

    try:
        with safe_open(str(weights), "np") as f:
            return int(sum(math.prod(f.get_slice(k).get_shape()) for k in f.keys()))
    except Exception:  # info must never fail; the weights were loaded already
        return None


def _count_config_parameters(cfg: DeNetConfig) -> int | None:
    """The number of parameters of the DeNet ``cfg`` describes, from its tensors' shapes
    (:func:`defusion.model.weights.config_layout`: no memory, no random initialisation; DeNet's one
    buffer is not in its state dict)."""
    try:
        import math

        from defusion.model.weights import config_layout

        return int(sum(math.prod(shape) for shape in config_layout(cfg).values()))
    except Exception:  # info must never fail
        return None


#: Metadata of a weights or ONNX file that /v1/info leaves out of ``weights.metadata``: the model's
#: config (``model.config`` has it), the file format, and what an ONNX export says about its own
#: inputs (docs/serving.md, "Fusing without defusion"), not about the weights.
NOT_WEIGHTS_METADATA = ("config", "format", "size_multiple", "input_note", "fusion_defaults")
#: A word of a metadata value with a path separator in it (not part of a URL).
_PATH_WORD = re.compile(r"(?<![\w:/.~-])(?:[A-Za-z]:)?[\w.~-]*[/\\][\w.~/\\-]*")
#: How a file path starts where it is not relative to nothing: /, C:\, ./, ../, ~/.
_PATH_START = re.compile(r"(?:[A-Za-z]:)?[/\\]|\.{1,2}[/\\]|~[/\\]")


def _without_paths(value: str) -> str:
    """``value`` with each file path in it cut to its last part: a client has no business learning
    the server's (or the training machine's) folders.

    Example:
        >>> _without_paths("ImageNet sample images (1000), ../shared/data/train/natural")
        'ImageNet sample images (1000), natural'
        >>> _without_paths("see https://example.com/a/b; 1/2 of the steps, fp16/fp32, /srv/w/run3")
        'see https://example.com/a/b; 1/2 of the steps, fp16/fp32, run3'
    """
    def cut(match: re.Match) -> str:
        word = match.group(0)
        if not re.search(r"[A-Za-z]", word):  # a ratio or a date (1/2, 12/05)
            return word
        if not _PATH_START.match(word) and len(re.findall(r"[/\\]", word.rstrip("/\\"))) < 2:
            return word  # one separator, relative: and/or, fp16/fp32, not a folder of the server's
        parts = [part for part in re.split(r"[/\\]", word) if part]
        return parts[-1] if parts else word

    return _PATH_WORD.sub(cut, value)


def describe(fuser: Fuser, limits: Limits, weights: str | Path | None) -> dict[str, Any]:
    """The /v1/info document (computed once, the model file's SHA-256 with it)."""
    from defusion.model.registry import list_models, model_config

    model = fuser.model
    cfg = getattr(model, "cfg", None)
    name = "custom"
    if cfg is not None:
        name = next((n for n in list_models() if model_config(n) == cfg), "custom")
    parameters = None
    if hasattr(model, "parameters"):
        parameters = int(sum(p.numel() for p in model.parameters()))
    elif weights is not None and str(weights).endswith(".safetensors"):  # ONNX Runtime: count the file's tensors
        parameters = _count_parameters(weights)
    elif cfg is not None:  # an ONNX file (OnnxDeNet): the DeNet its config describes
        parameters = _count_config_parameters(cfg)
    metadata: dict[str, str] = {}
    if weights is not None and str(weights).endswith(".safetensors"):
        from defusion.model.weights import weights_metadata

        try:
            metadata = dict(weights_metadata(weights))
        except Exception:  # info must never fail; the weights were loaded already
            metadata = {}
    elif isinstance(getattr(model, "metadata", None), dict):  # an ONNX file: the weights' metadata it carries
        metadata = {str(k): str(v) for k, v in model.metadata.items()}
    metadata = {k: _without_paths(v) for k, v in metadata.items() if k not in NOT_WEIGHTS_METADATA}
    return {
        "model": {
            "name": name,
            "runtime": getattr(model, "runtime", "pytorch"),
            "config": cfg.to_dict() if cfg is not None else None,
            "parameters": parameters,
        },
        # the file name only: a client has no business learning the server's paths
        "weights": {"file": Path(weights).name if weights is not None else None, "sha256": file_sha256(weights),
                    "metadata": metadata},
        "device": str(fuser.device),
        "half": fuser.half,
        # detail_gain as run (a null one goes with the unique gain)
        "options": {**asdict(fuser.options), "detail_gain": fuser.options.resolved_detail_gain},
        # what POST /v1/fuse?task=... changes from "options", per task
        "tasks": {task: _task_settings(fuser.options.with_task(task)) for task in TASKS},
        "limits": {**asdict(limits), "max_request_bytes": limits.max_request_bytes},
        # what POST /v1/fuse?format=... answers (png, the first, by default)
        "formats": formats_info(),
        "version": __version__,
    }


def _task_settings(options: FuseOptions) -> dict:
    """The fields a task sets, as the network runs them (the detail gain resolved), and the scale."""
    return {name: options.resolved_detail_gain if name == "detail_gain" else getattr(options, name)
            for name in (*TASK_FIELDS, "scale")}

"""Average the network weights of several checkpoints of one run into one weights file.

Uniform checkpoint averaging (as in stochastic weight averaging, Izmailov et al. 2018): the
weights a small-batch run passes through late in training scatter around a flatter point than
any one of them, and their mean often generalises better. Only the network is averaged
(``model.*`` of training checkpoints, or every tensor of weights files); optimizer state and
training-only parts are dropped. The metadata is the last file's run metadata, with the
files averaged named in it, so `scripts/ship_weights.py` can take the result as a run's weights.

Usage: python scripts/average_checkpoints.py OUT.safetensors CKPT [CKPT ...] --model defusion
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from safetensors import safe_open

from defusion.model.registry import create_model
from defusion.model.weights import save_weights

_PREFIX = "model."


def network_tensors(path: str | Path) -> dict[str, torch.Tensor]:
    """The network's tensors in a training checkpoint (``model.*``) or a weights file, as fp32."""
    with safe_open(str(path), framework="pt", device="cpu") as f:
        keys = list(f.keys())
        if any(k.startswith(_PREFIX) for k in keys):
            return {k[len(_PREFIX):]: f.get_tensor(k).float() for k in keys if k.startswith(_PREFIX)}
        return {k: f.get_tensor(k).float() for k in keys}


def average_state(paths: list[Path]) -> dict[str, torch.Tensor]:
    """The element-wise mean of the networks in ``paths`` (all of one architecture).

    >>> import tempfile, safetensors.torch as st
    >>> d = Path(tempfile.mkdtemp())
    >>> st.save_file({"model.w": torch.zeros(2)}, str(d / "a")); st.save_file({"model.w": torch.ones(2)}, str(d / "b"))
    >>> average_state([d / "a", d / "b"])["w"].tolist()
    [0.5, 0.5]
    """
    total: dict[str, torch.Tensor] | None = None
    for path in paths:
        state = network_tensors(path)
        if total is None:
            total = state
            continue
        if state.keys() != total.keys():
            raise ValueError(f"{path} holds another network than {paths[0]}")
        for key, value in state.items():
            total[key] += value
    assert total is not None
    return {k: v / len(paths) for k, v in total.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the averaged weights file to write (fp32)")
    parser.add_argument("checkpoints", type=Path, nargs="+", help="checkpoints or weights files of one run")
    parser.add_argument("--model", default="defusion", help="their architecture (default: defusion)")
    args = parser.parse_args(argv)
    model = create_model(args.model)
    model.load_state_dict(average_state(args.checkpoints))
    with safe_open(str(args.checkpoints[-1]), framework="pt", device="cpu") as f:
        meta = dict(f.metadata() or {})
    steps = meta.get("step", meta.get("steps", "0"))
    run_cfg = json.loads(meta.get("config", "{}"))
    metadata = {"model": args.model, "steps": steps,
                "samples_seen": meta.get("samples_seen") or (  # checkpoints since 2026-12-05 count it, DDP included
                    str(int(steps) * int(run_cfg.get("batch_size", 0))) if run_cfg else "0"),
                "train_seconds": meta.get("elapsed_s", meta.get("train_seconds", "0")).split(".")[0],
                "averaged": ", ".join(p.name for p in args.checkpoints)}
    save_weights(model, args.out, metadata=metadata)
    print(f"wrote {args.out}: mean of {len(args.checkpoints)} networks")


if __name__ == "__main__":
    main()

"""Plan a time-boxed GPU run from a speed probe: the fastest precision variant and a schedule
that fits the budget.

Reads the table that ``benchmarks/train_speed.py`` printed, takes the fastest variant at the
config's batch size (capped by the input pipeline's rate), and writes the config for
`defusion train`: ``amp``/``channels_last`` for that variant, ``max_seconds`` = the budget,
and ``epoch_samples`` shortened when the 50 epochs cannot all run in it, so that the
learning rate still halves every 10 epochs and the run ends at the schedule's end.

Usage: python scripts/gpu/plan.py --probe speed.md --budget 1300 --base configs/gpu-256.yaml --out plan.yaml
"""

from __future__ import annotations

import argparse
import re
from fractions import Fraction
from pathlib import Path

import yaml

VARIANT_SETTINGS = {
    "fp32": {"amp": False, "channels_last": False, "compile": False},
    "fp32-compile": {"amp": False, "channels_last": False, "compile": True},
    "bf16": {"amp": True, "channels_last": False, "compile": False},
    "bf16-cl": {"amp": True, "channels_last": True, "compile": False},
    "bf16-compile": {"amp": True, "channels_last": False, "compile": True},
    "bf16-cl-compile": {"amp": True, "channels_last": True, "compile": True},
}
#: Share of the budget planned for training steps (start-up, checkpoints and the slower first steps
#: take the rest).
USABLE_SHARE = 0.9


def parse_probe(text: str) -> tuple[dict[tuple[str, int], float], float | None]:
    """Samples/s per (variant, batch) from the probe's table, and the input pipeline's samples/s."""
    rates = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 5 and cells[1].startswith("`"):
            try:
                rates[(cells[1].strip("`"), int(cells[2]))] = float(cells[4])
            except ValueError:  # an "out of memory" row
                continue
    pipeline = re.search(r"input pipeline: ([\d.]+) samples/s", text)
    return rates, float(pipeline.group(1)) if pipeline else None


def plan(base: dict, rates: dict[tuple[str, int], float], pipeline: float | None, budget_s: float,
         share: float = 1.0, compile_s: float = 0.0) -> dict:
    """The run's config: ``base`` with the fastest usable variant and a schedule fitting the budget.

    ``share`` is the part of the probed speed this run gets (1/n when n runs share the GPU);
    ``compile_s`` the seconds a compiled variant spends compiling before its first step, kept out
    of the schedule (not out of ``max_seconds``) when that variant is the one picked.

    Example:
        >>> cfg = plan({"batch_size": 32, "epochs": 50, "epoch_samples": 50000},
        ...            {("bf16", 32): 1000.0, ("bf16-cl", 32): 1200.0}, 5000.0, 1000)
        >>> cfg["channels_last"], cfg["epoch_samples"], cfg["max_seconds"]
        (True, 21600, 1000)
    """
    batch = base["batch_size"]
    usable = {v: r for (v, b), r in rates.items() if b == batch and v in VARIANT_SETTINGS}
    if not usable:
        raise SystemExit(f"the probe has no usable row at batch size {batch}")
    variant = max(usable, key=usable.get)
    rate = min(usable[variant], pipeline or usable[variant]) * share
    training_s = budget_s - (compile_s if VARIANT_SETTINGS[variant]["compile"] else 0.0)
    samples = int(rate * max(training_s, 0.0) * USABLE_SHARE)
    epoch_samples = min(base.get("epoch_samples") or samples, max(batch, samples // base["epochs"]))
    return {**base, **VARIANT_SETTINGS[variant], "epoch_samples": epoch_samples, "max_seconds": budget_s}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--probe", type=Path, required=True)
    p.add_argument("--budget", type=float, required=True, help="seconds of training")
    p.add_argument("--base", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--compile-seconds", type=float, default=0.0,
                   help="compiling time a compiled variant spends before training (kept out of the schedule)")
    p.add_argument("--share", default="1", help="part of the probed speed this run gets, e.g. 1/2")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="override base fields (YAML values)")
    args = p.parse_args()
    base = yaml.safe_load(args.base.read_text(encoding="utf-8"))
    for item in args.set:
        key, value = item.split("=", 1)
        base[key] = yaml.safe_load(value)
    rates, pipeline = parse_probe(args.probe.read_text(encoding="utf-8"))
    cfg = plan(base, rates, pipeline, args.budget, share=float(Fraction(args.share)),
               compile_s=args.compile_seconds)
    args.out.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    total = cfg["epoch_samples"] * cfg["epochs"]
    print(f"plan: {cfg['epochs']} epochs of {cfg['epoch_samples']} samples ({total} in all), batch "
          f"{cfg['batch_size']}, amp={cfg['amp']}, channels_last={cfg['channels_last']}, compile={cfg['compile']}, "
          f"budget {args.budget:.0f} s; probe {max(rates.values()):.0f} samples/s"
          + (f", input pipeline {pipeline:.0f}" if pipeline else ""))


if __name__ == "__main__":
    main()

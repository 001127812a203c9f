"""Turn a training run's weights into a shippable file: fp16, with the history of every run.

`defusion train --init shipped` writes `weights.safetensors` whose metadata counts only its own
run (steps, samples, seconds). The shipped file's metadata describes everything the weights have
been through, so this script adds the run to the base file's totals and appends one line to its
history. Candidates are scored as the fp16 file this writes (its digest is what
`defusion bench` keys DeFusion's scores by), and shipping is copying that same file.

Usage: python scripts/ship_weights.py RUN/weights.safetensors OUT.safetensors --history "run 8: ..."
       [--base BASE.safetensors]   (default base: the shipped weights)
       [--hardware "2-core x86-64 CPU"]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from defusion.model.weights import load_weights, read_metadata, save_weights, shipped_weights_path

#: Counters that add up over runs; every other field of the run's metadata replaces the base's.
CUMULATIVE = ("steps", "samples_seen", "train_seconds", "skipped_images")


def merged_metadata(base: dict[str, str], run: dict[str, str], history: str,
                    hardware: str | None = None) -> dict[str, str]:
    """The base file's metadata advanced by one run: counters summed, history extended.

    >>> merged_metadata({"steps": "10", "history": "run 1: 10 steps"}, {"steps": "5", "final_loss": "0.1"},
    ...                 "run 2: 5 steps")["history"]
    'run 1: 10 steps; run 2: 5 steps'
    """
    meta = {**base, **{k: v for k, v in run.items() if k not in ("format", "config")}}
    for key in CUMULATIVE:
        if key in base or key in run:
            meta[key] = str(int(base.get(key, "0")) + int(run.get(key, "0")))
    meta["history"] = "; ".join(h for h in (base.get("history", ""), history) if h)
    if hardware:
        meta["hardware"] = hardware
    return meta


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_weights", type=Path, help="a run's weights.safetensors")
    parser.add_argument("out", type=Path, help="where to write the fp16 file")
    parser.add_argument("--history", required=True, help="one line saying what this run was")
    parser.add_argument("--base", type=Path, default=None, help="the weights the run started from (default: shipped)")
    parser.add_argument("--hardware", default=None, help="replace the hardware field")
    args = parser.parse_args(argv)
    base = args.base or shipped_weights_path()
    meta = merged_metadata(read_metadata(base), read_metadata(args.run_weights), args.history, args.hardware)
    save_weights(load_weights(args.run_weights), args.out, metadata=meta, half=True)
    print(f"wrote {args.out}: {meta['steps']} steps, {meta['samples_seen']} samples in all")


if __name__ == "__main__":
    main()

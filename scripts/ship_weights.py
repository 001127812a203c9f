"""Turn a training run's weights into a shippable file: fp16, with the history of every run.

`defusion train --init shipped` writes `weights.safetensors` whose metadata counts only its own
run (steps, samples, seconds). The shipped file's metadata describes everything the weights have
been through, so this script adds the run to the base file's totals and appends one line to its
history. Candidates are scored as the fp16 file this writes (its digest is what
`defusion bench` keys DeFusion's scores by), and shipping is copying that same file.

The run must have started from the base (its ``init_digest`` is the base's digest, or the base's
``source_digest``: the digest of the run weights the base was shipped from, so a run continued with
``--init runs/runN/weights.safetensors`` ships with ``--base`` the file shipped from runN; for a run from
before digests were recorded, its ``init`` names the base's file) and be the same network; otherwise its weights owe nothing to the base's history and it is refused, unless
``--new-chain`` ships it as the first run of a chain of its own (its own metadata and history only).

Usage: python scripts/ship_weights.py RUN/weights.safetensors OUT.safetensors --history "run 8: ..."
       [--base BASE.safetensors]   (default base: the shipped weights)
       [--hardware "2-core x86-64 CPU"] [--new-chain]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from defusion.model.denet import DeNetConfig
from defusion.model.weights import load_weights, save_weights, shipped_weights_path, weights_digest, weights_metadata

#: Counters that add up over runs; every other field of the run's metadata replaces the base's.
CUMULATIVE = ("steps", "samples_seen", "train_seconds", "skipped_samples")
#: Older names of counters: ``skipped_images`` counted skipped samples too (not files).
RENAMED = {"skipped_images": "skipped_samples"}
#: What says what a file's tensors are: always the run's own, never merged.
STRUCTURE = ("format", "config")
#: The ``init`` of a run that started from random weights.
RANDOM_INIT = "random"
#: The field of a shipped file with the digest of the run weights it was made from: a run that
#: started from those (fp32) weights continues the shipped file's chain as well.
SOURCE_DIGEST = "source_digest"
#: How to name the base in a refusal: the shipped file, never the run file (whose metadata counts one run).
BASE_ADVICE = ("pass --base with the shipped file the run started from, or, where it started from a run's "
               "weights.safetensors (--init runs/runN/weights.safetensors), with the file ship_weights made from "
               "that run (not the run file itself: its metadata has only that run, and the chain's history "
               "would be lost)")


def _renamed(meta: dict[str, str]) -> dict[str, str]:
    """``meta`` with older counter names replaced by the current ones."""
    return {RENAMED.get(k, k): v for k, v in meta.items()}


def merged_metadata(base: dict[str, str], run: dict[str, str], history: str,
                    hardware: str | None = None) -> dict[str, str]:
    """The base file's metadata advanced by one run: counters summed, history extended.

    >>> merged_metadata({"steps": "10", "history": "run 1: 10 steps"}, {"steps": "5", "final_loss": "0.1"},
    ...                 "run 2: 5 steps")["history"]
    'run 1: 10 steps; run 2: 5 steps'
    """
    base, run = _renamed(base), _renamed(run)
    meta = {**{k: v for k, v in base.items() if k not in STRUCTURE},
            **{k: v for k, v in run.items() if k not in STRUCTURE}}
    for key in CUMULATIVE:
        if key in base or key in run:
            meta[key] = str(int(base.get(key, "0")) + int(run.get(key, "0")))
    meta["history"] = "; ".join(h for h in (base.get("history", ""), history) if h)
    if hardware:
        meta["hardware"] = hardware
    return meta


def new_chain_metadata(run: dict[str, str], history: str, hardware: str | None = None) -> dict[str, str]:
    """A run's own metadata as the first of a chain: nothing inherited, its history one line.

    >>> new_chain_metadata({"steps": "5", "skipped_images": "0", "config": "{}"}, "run 1: 5 steps")
    {'steps': '5', 'skipped_samples': '0', 'history': 'run 1: 5 steps'}
    """
    meta = {k: v for k, v in _renamed(run).items() if k not in STRUCTURE}
    meta["history"] = history
    if hardware:
        meta["hardware"] = hardware
    return meta


def _network(meta: dict[str, str]) -> DeNetConfig:
    """The DeNet config a weights file's metadata holds."""
    return DeNetConfig.from_dict(json.loads(meta["config"]))


def chain_problem(run_path: Path, run: dict[str, str], base_path: Path, base: dict[str, str]) -> str | None:
    """Why the run in ``run_path`` is not the next run of the base's chain, or None if it is (or,
    from before runs recorded their ``init``, cannot tell): it started from other weights (or from
    random ones), or is another network. The weights it started from are known by their digest
    (any copy of the base will do), else by their file's name."""
    run_net, base_net = run.get("model") or "another", base.get("model") or "another"
    if run.get("config") and base.get("config") and _network(run) != _network(base):
        return (f"{run_path} is a {run_net!r} network, {base_path} a {base_net!r} one: the run cannot continue "
                "the base's chain")
    init = run.get("init")
    if init == RANDOM_INIT:
        return (f"{run_path} was trained from random weights, not from {base_path}: its metadata would take on "
                "the base's history and counters")
    digest = run.get("init_digest")
    if digest is not None and digest not in (weights_digest(base_path), base.get(SOURCE_DIGEST)):
        return (f"{run_path} was trained from other weights ({init}, digest {digest}) than {base_path} (nor the run "
                f"weights it was shipped from): {BASE_ADVICE}")
    if digest is None and init is not None and init != base_path.name:
        return f"{run_path} was trained from {init}, not from {base_path}: {BASE_ADVICE}"
    return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_weights", type=Path, help="a run's weights.safetensors")
    parser.add_argument("out", type=Path, help="where to write the fp16 file")
    parser.add_argument("--history", required=True, help="one line saying what this run was")
    parser.add_argument("--base", type=Path, default=None, help="the weights the run started from (default: shipped)")
    parser.add_argument("--hardware", default=None, help="replace the hardware field")
    parser.add_argument("--new-chain", action="store_true",
                        help="ship a run that did not start from the base as a chain of its own: its own "
                             "metadata and this history line, nothing of the base's")
    args = parser.parse_args(argv)
    base = args.base or shipped_weights_path()
    run = weights_metadata(args.run_weights)
    if args.new_chain:
        meta = new_chain_metadata(run, args.history, args.hardware)
    else:
        problem = chain_problem(args.run_weights, run, base, weights_metadata(base))
        if problem:
            raise SystemExit(f"ship_weights: {problem}; or pass --new-chain to ship it as a chain of its own")
        meta = merged_metadata(weights_metadata(base), run, args.history, args.hardware)
    meta[SOURCE_DIGEST] = weights_digest(args.run_weights)  # a run continued from these weights continues this chain
    save_weights(load_weights(args.run_weights), args.out, metadata=meta, half=True)
    print(f"wrote {args.out}: {meta.get('steps', 'unknown')} steps, {meta.get('samples_seen', 'unknown')} samples "
          "in all")


if __name__ == "__main__":
    main()

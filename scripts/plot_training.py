"""Plot a run's loss curve (metrics.csv of `defusion train`) to a PNG for the model card.

Usage: python scripts/plot_training.py runs/cpu-v1/metrics.csv docs/images/loss_curve.png [SAMPLES_BEFORE]
       [--batch-size 8] [--processes 1] [--title TEXT | --where TEXT] [--mark STEP LABEL ...]

The x axis is training samples seen. A log with a ``samples`` column (written since it was added:
it counts every DDP process) gives them exactly; rows without it (older logs) take step x batch size
x processes, with the batch size from the run's ``config.json`` beside the log (else ``--batch-size``)
and ``--processes`` (the number of DDP processes, which config.json does not record; default 1).

SAMPLES_BEFORE shifts the x axis for a run started from earlier weights (``--init``), so that
it shows the samples seen by the weights in all, not by this run alone. ``--mark`` draws a
labelled vertical line at a step of the run (the step whose weights shipped, say). The title names
the model and crop of the run's config.json (each crop, "32 -> 64 px crops", where a resume changed
it: its ``settings_changed``), and ``--where`` (e.g. the hardware); ``--title`` replaces it.

A curve of few logged steps (under ``FEW``) is drawn with a marker at each, and a log of fewer than
two says so: one step is a point, not a line.

A cell left empty (a loss term that a resume added to the log has none in the rows before it) is a
missing value, not a zero.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from defusion.training.config import TrainConfig  # noqa: E402

TERMS = ("total", "common", "unique1", "unique2", "fused")
#: Terms a run logs only when its config adds them (weighted, as they enter the total).
EXTRA_TERMS = ("fused_gradient", "fused_ssim", "mfm")
#: Logs averaged per point of a curve, once it has more than ``SMOOTH_FROM`` points.
SMOOTH = 5
SMOOTH_FROM = 10
#: Logged steps under which each is marked on its curve (a line alone hides a lone point): those a curve
#: draws unsmoothed, where each point is a logged step.
FEW = SMOOTH_FROM + 1
#: The run's config beside its log.
CONFIG_NAME = "config.json"


def read_log(path: str | Path) -> list[dict[str, str]]:
    """The log's rows that record a step (a row cut short by a kill is left out)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r for r in rows if _number(r.get("step")) is not None]


def read_config(log: str | Path) -> dict:
    """The training config saved beside ``log`` (config.json), or {} if there is none."""
    path = Path(log).with_name(CONFIG_NAME)
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return config if isinstance(config, dict) else {}


def _number(cell: str | None) -> float | None:
    """A cell's value; None where it is empty, missing or not a finite number."""
    try:
        value = float(cell)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def samples_axis(rows: Sequence[dict[str, str]], samples_per_step: int, samples_before: int = 0) -> np.ndarray:
    """Samples seen at each row: its ``samples`` cell, else its step x ``samples_per_step``."""
    seen = [_number(r.get("samples")) for r in rows]
    return np.array([samples_before + (s if s is not None else int(float(r["step"])) * samples_per_step)
                     for r, s in zip(rows, seen)], dtype=float)


def crops(config: dict) -> list:
    """The crop sizes a run trained at, in order: its config's, after the ones its resumes changed
    (``settings_changed``: ``{"step": N, "crop": [old, new]}``)."""
    changes = [c["crop"] for c in config.get("settings_changed") or [] if isinstance(c, dict) and "crop" in c]
    sizes = [changes[0][0], *(new for _, new in changes)] if changes else []
    return sizes or ([config["crop"]] if config.get("crop") else [])


def title_for(config: dict, where: str | None = None, title: str | None = None) -> str:
    """``title``, or one naming the run's model and crop (each, if a resume changed it; from its
    config) and ``where``."""
    if title:
        return title
    parts = ["defusion train"]
    if config.get("model"):
        parts.append(f"{config['model']} network")
    sizes = crops(config)
    if len(sizes) == 1:
        parts.append(f"{sizes[0]}x{sizes[0]} crops")
    elif sizes:
        parts.append(f"{' -> '.join(map(str, sizes))} px crops")
    if where:
        parts.append(where)
    return f"CUD training loss ({', '.join(parts)})"


def _too_few(rows: Sequence[dict[str, str]], log: str | Path) -> str:
    """What a chart of fewer than two logged steps shows: a point per term, or nothing."""
    if rows:
        return f"only 1 logged step in {log} (step {rows[0]['step']}): the chart shows one point per term"
    return f"no logged step in {log}: the chart is empty"


def plot(log: str | Path, out: str | Path, samples_before: int = 0, batch_size: int | None = None,
         processes: int = 1, where: str | None = None, title: str | None = None,
         marks: Sequence[tuple[int, str]] = ()):
    """Draw the log's loss terms against samples seen into ``out``; returns the figure."""
    rows = read_log(log)
    config = read_config(log)
    batch_size = batch_size or config.get("batch_size") or TrainConfig.batch_size
    samples = samples_axis(rows, batch_size * processes, samples_before)
    steps = [int(float(r["step"])) for r in rows]
    if len(rows) < 2:
        print(f"plot_training.py: note: {_too_few(rows, log)}", file=sys.stderr)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    smoothed = False
    for term in TERMS + tuple(t for t in EXTRA_TERMS if rows and t in rows[0]):
        values = [_number(r.get(term)) for r in rows]
        present = np.array([v is not None for v in values], dtype=bool)
        if not present.any():
            continue
        y = np.array([v for v in values if v is not None])
        x = samples[present]
        smooth = np.convolve(y, np.ones(SMOOTH) / SMOOTH, mode="valid") if len(y) > SMOOTH_FROM else y
        smoothed = smoothed or len(smooth) < len(y)
        ax.plot(x[len(x) - len(smooth):], smooth, label=term, lw=2 if term == "total" else 1,
                marker="o" if len(y) < FEW else None, ms=3)
    for step, label in marks:
        x = samples[steps.index(step)] if step in steps else samples_before + step * batch_size * processes
        ax.axvline(x, color="0.3", ls="--", lw=1)
        ax.annotate(label, (x, 0.98), xycoords=("data", "axes fraction"), ha="right", va="top", rotation=90,
                    fontsize=8, color="0.3")
    ax.set_xlabel("training samples seen" + (f" (this run started from weights that had seen {samples_before:,})"
                                             if samples_before else ""))
    ax.set_ylabel(f"loss term (moving average of {SMOOTH} logs)" if smoothed else "loss term")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title_for(config, where, title), fontsize=9)
    fig.tight_layout()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    return fig


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", help="metrics.csv of a `defusion train` run")
    parser.add_argument("out", help="PNG to write")
    parser.add_argument("samples_before", nargs="?", type=int, default=0,
                        help="samples the starting weights had seen (runs started with --init)")
    parser.add_argument("--batch-size", type=int,
                        help="the run's batch size per process (default: its config.json's, else 8)")
    parser.add_argument("--processes", type=int, default=1,
                        help="the run's DDP processes, for a log without a samples column (default 1)")
    parser.add_argument("--where", help="what else the title says, e.g. the hardware")
    parser.add_argument("--title", help="the whole title instead")
    parser.add_argument("--mark", nargs=2, action="append", default=[], metavar=("STEP", "LABEL"),
                        help="a labelled vertical line at STEP (repeatable)")
    args = parser.parse_args(argv)
    if args.processes < 1 or (args.batch_size is not None and args.batch_size < 1):
        parser.error("--processes and --batch-size must be at least 1")
    log = Path(args.log)
    if log.is_dir():  # a run folder: its log, where it holds one
        log = log / "metrics.csv"
    if not log.is_file():
        parser.error(f"{args.log}: no such log; give a run's metrics.csv (or its folder)")
    if not read_log(log):
        parser.error(f"{log}: no step logged yet (the first row is written at --log-every steps)")
    args.log = log
    plot(args.log, args.out, args.samples_before, batch_size=args.batch_size, processes=args.processes,
         where=args.where, title=args.title, marks=[(int(step), label) for step, label in args.mark])


if __name__ == "__main__":
    main()

"""Plot a run's loss curve (metrics.csv of `defusion train`) to a PNG for the model card.

Usage: python scripts/plot_training.py runs/cpu-v1/metrics.csv docs/images/loss_curve.png [SAMPLES_BEFORE]
       [--batch-size 8] [--mark STEP LABEL ...]

SAMPLES_BEFORE shifts the x axis for a run started from earlier weights (``--init``), so that
it shows the samples seen by the weights in all, not by this run alone. ``--mark`` draws a
labelled vertical line at a step of the run (the step whose weights shipped, say).
"""

import argparse
import csv
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

TERMS = ("total", "common", "unique1", "unique2", "fused")
#: Terms a run logs only when its config adds them (weighted, as they enter the total).
EXTRA_TERMS = ("fused_gradient", "fused_ssim", "mfm")
#: Crops and hardware in the title: those of the CPU runs behind the shipped weights.
DEFAULT_WHERE = "128x128 crops, 2-core CPU"


def main(log: str, out: str, samples_before: int = 0, batch_size: int = 8,
         where: str = DEFAULT_WHERE,
         marks: Sequence[tuple[int, str]] = ()) -> None:
    with open(log, newline="") as f:
        rows = list(csv.DictReader(f))
    samples = np.array([samples_before + int(r["step"]) * batch_size for r in rows])
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for term in TERMS + tuple(t for t in EXTRA_TERMS if rows and t in rows[0]):
        values = np.array([float(r[term]) for r in rows])
        smooth = np.convolve(values, np.ones(5) / 5, mode="valid") if len(values) > 10 else values
        ax.plot(samples[len(samples) - len(smooth):], smooth, label=term, lw=2 if term == "total" else 1)
    for step, label in marks:
        x = samples_before + step * batch_size
        ax.axvline(x, color="0.3", ls="--", lw=1)
        ax.annotate(label, (x, 0.98), xycoords=("data", "axes fraction"), ha="right", va="top", rotation=90,
                    fontsize=8, color="0.3")
    ax.set_xlabel("training samples seen" + (f" (this run started from weights that had seen {samples_before:,})"
                                             if samples_before else ""))
    ax.set_ylabel("loss term (moving average of 5 logs)")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"CUD training loss (defusion train, published network, {where})", fontsize=9)
    fig.tight_layout()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", help="metrics.csv of a `defusion train` run")
    parser.add_argument("out", help="PNG to write")
    parser.add_argument("samples_before", nargs="?", type=int, default=0,
                        help="samples the starting weights had seen (runs started with --init)")
    parser.add_argument("--where", default=DEFAULT_WHERE, help="crops and hardware, for the title")
    parser.add_argument("--batch-size", type=int, default=8, help="the run's batch size (samples per step)")
    parser.add_argument("--mark", nargs=2, action="append", default=[], metavar=("STEP", "LABEL"),
                        help="a labelled vertical line at STEP (repeatable)")
    args = parser.parse_args()
    main(args.log, args.out, args.samples_before, batch_size=args.batch_size, where=args.where, marks=[(int(step), label) for step, label in args.mark])

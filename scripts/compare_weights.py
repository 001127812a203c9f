"""Candidate weights against the shipped ones, on the model card's benchmark subsets.

Both folders are `defusion bench` outputs (one sub-folder per benchmark, each with
results.csv); DeFusion's mean over the same first N pairs is compared metric by metric.

Usage: python scripts/compare_weights.py out/shipped out/cand [METHOD]
  (each from `scripts/score_candidate.sh WEIGHTS OUT`; METHOD, default defusion, is the candidate's
  method name, e.g. defusion-x2 to compare an inference option of the same weights)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from defusion.benchmark.runner import read_results_csv
from defusion.metrics import METRICS

#: benchmark -> (pairs compared, or None for all; metrics), as in the model card's table.
SUBSETS = {
    "tno": (None, ["Qabf", "SSIM", "SF", "VIF", "EN", "SD", "MI"]),
    "mefb": (8, ["MEF-SSIM", "MS-MEF-SSIM", "SSIM-mean", "Qabf", "EN", "SD"]),
    "mfifb": (10, ["Qabf", "SSIM-mean", "MI", "SF", "AG"]),
}
METHOD = "defusion"


def means(results: Path, limit: int | None, metrics: list[str], method: str = METHOD) -> tuple[dict[str, float], int]:
    rows = [r for r in read_results_csv(results) if r.method == method]
    images = sorted({r.image for r in rows})[:limit]
    return {m: float(np.mean([r.value for r in rows if r.metric == m and r.image in images])) for m in metrics}, len(images)


def main() -> None:
    shipped, candidate = map(Path, sys.argv[1:3])
    method = sys.argv[3] if len(sys.argv) > 3 else METHOD
    better = total = 0
    for bench, (limit, metrics) in SUBSETS.items():
        old, n_old = means(shipped / bench / "results.csv", limit, metrics)
        new, n_new = means(candidate / bench / "results.csv", limit, metrics, method)
        if n_old != n_new:
            raise SystemExit(f"{bench}: {n_old} pairs shipped, {n_new} candidate: compare the same pairs")
        for m in metrics:
            gain = (new[m] > old[m]) == METRICS[m].higher_is_better and new[m] != old[m]
            better, total = better + gain, total + 1
            print(f"{bench:6s} ({n_new:3d}) {m:12s} shipped {old[m]:8.4g}  candidate {new[m]:8.4g}  "
                  f"{'better' if gain else 'worse or equal'}")
    print(f"candidate better on {better} of {total} metric-benchmark pairs")


if __name__ == "__main__":
    main()

"""Candidate weights against the shipped ones, on the candidate subsets of docs/training-history.md.

Both folders are `defusion bench` outputs (one sub-folder per benchmark, each with
results.csv); DeFusion's mean over the same first N pairs is compared metric by metric.

Usage: python scripts/compare_weights.py out/shipped out/cand [METHOD]
  (each from `scripts/score_candidate.sh WEIGHTS OUT`; METHOD, default defusion, is the candidate's
  method name, e.g. defusion-x2 to compare an inference option of the same weights)

Where both folders hold a VIFB run (`VIFB=1 scripts/score_candidate.sh`, or a full
`scripts/run_benchmarks.sh` output as the shipped side), it also prints VIFB's four target
metrics with the rank each would take among the published methods of the shipped side's VIFB
results; those rows are not counted in the total, which stays the 18 of docs/training-history.md's tables.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from defusion.baselines import BASELINES
from defusion.benchmark.runner import DEFUSION_VARIANTS, read_results_csv
from defusion.metrics import METRICS

#: benchmark -> (pairs compared, or None for all; metrics), as in docs/training-history.md's tables.
SUBSETS = {
    "tno": (None, ["Qabf", "SSIM", "SF", "VIF", "EN", "SD", "MI"]),
    "mefb": (8, ["MEF-SSIM", "MS-MEF-SSIM", "SSIM-mean", "Qabf", "EN", "SD"]),
    "mfifb": (10, ["Qabf", "SSIM-mean", "MI", "SF", "AG"]),
}
METHOD = "defusion"
#: VIFB's metrics of the weights issue's target (top half of the published methods).
VIFB_METRICS = ["Qabf", "SSIM", "MI", "VIF"]


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
    if (shipped / "vifb" / "results.csv").is_file() and (candidate / "vifb" / "results.csv").is_file():
        compare_vifb(shipped / "vifb" / "results.csv", candidate / "vifb" / "results.csv", method)


def rank(value: float, others: list[float], metric: str) -> int:
    """1 + how many of ``others`` are better than ``value`` on ``metric``."""
    higher = METRICS[metric].higher_is_better
    return 1 + sum((o > value) if higher else (o < value) for o in others)


def compare_vifb(shipped: Path, candidate: Path, method: str) -> None:
    """VIFB's target metrics, shipped against candidate, each with its rank among the published methods."""
    rows = read_results_csv(shipped)
    builtin = set(DEFUSION_VARIANTS) | set(BASELINES)
    published = sorted({r.method for r in rows} - builtin)
    old, n_old = means(shipped, None, VIFB_METRICS)
    new, n_new = means(candidate, None, VIFB_METRICS, method)
    if n_old != n_new:
        raise SystemExit(f"vifb: {n_old} pairs shipped, {n_new} candidate: compare the same pairs")
    theirs = {p: means(shipped, None, VIFB_METRICS, p)[0] for p in published}
    for m in VIFB_METRICS:
        if not published:  # the shipped side scored DeFusion alone: nothing to rank against
            print(f"vifb   ({n_new:3d}) {m:12s} shipped {old[m]:8.4g}  candidate {new[m]:8.4g}")
            continue
        others = [theirs[p][m] for p in published]
        print(f"vifb   ({n_new:3d}) {m:12s} shipped {old[m]:8.4g} (rank {rank(old[m], others, m):2d} of "
              f"{len(published) + 1})  candidate {new[m]:8.4g} (rank {rank(new[m], others, m):2d})")


if __name__ == "__main__":
    main()

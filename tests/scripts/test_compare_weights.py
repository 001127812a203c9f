"""scripts/compare_weights.py: a candidate's subset means against the shipped ones, and VIFB ranks."""

from __future__ import annotations

import subprocess
import sys

from defusion.benchmark.runner import Row, write_results_csv
from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "compare_weights.py"
SUBSET_METRICS = {"tno": ("Qabf", "SSIM", "SF", "VIF", "EN", "SD", "MI"),
                  "mefb": ("MEF-SSIM", "MS-MEF-SSIM", "SSIM-mean", "Qabf", "EN", "SD"),
                  "mfifb": ("Qabf", "SSIM-mean", "MI", "SF", "AG")}
VIFB_METRICS = ("Qabf", "SSIM", "MI", "VIF")


def _bench(folder, metrics, values: dict[str, float]) -> None:
    """One benchmark folder: every method scores ``values[method]`` on every metric, two images."""
    rows = [Row(method, image, metric, value)
            for method, value in values.items() for image in ("01", "02") for metric in metrics]
    write_results_csv(rows, folder / "results.csv")


def _run(shipped, candidate) -> str:
    return subprocess.run([sys.executable, str(SCRIPT), str(shipped), str(candidate)], check=True,
                          capture_output=True, text=True, encoding="utf-8").stdout


def test_counts_better_metrics_and_ranks_vifb_among_published(tmp_path):
    shipped, candidate = tmp_path / "shipped", tmp_path / "cand"
    for bench, metrics in SUBSET_METRICS.items():
        _bench(shipped / bench, metrics, {"defusion": 0.5})  # all 18 are higher-is-better metrics
        _bench(candidate / bench, metrics, {"defusion": 0.6})
    out = _run(shipped, candidate)
    assert "candidate better on 18 of 18 metric-benchmark pairs" in out
    assert "vifb" not in out  # no VIFB run on either side: no VIFB rows

    # VIFB: the shipped side holds the published methods; ranks count how many of them are better
    _bench(shipped / "vifb", VIFB_METRICS, {"defusion": 0.5, "average": 0.9, "PUB1": 0.7, "PUB2": 0.55})
    _bench(candidate / "vifb", VIFB_METRICS, {"defusion": 0.6})
    out = _run(shipped, candidate)
    assert "candidate better on 18 of 18" in out  # VIFB rows are not counted
    for metric in VIFB_METRICS:  # baselines such as `average` are not published methods
        line = next(line for line in out.splitlines() if line.startswith("vifb") and f" {metric} " in line)
        assert "(rank  3 of 3)" in line and line.endswith("(rank  2)")


def test_vifb_without_published_methods_prints_means_without_ranks(tmp_path):
    shipped, candidate = tmp_path / "shipped", tmp_path / "cand"
    for side, value in ((shipped, 0.5), (candidate, 0.6)):
        for bench, metrics in SUBSET_METRICS.items():
            _bench(side / bench, metrics, {"defusion": value})
        _bench(side / "vifb", VIFB_METRICS, {"defusion": value})
    vifb = [line for line in _run(shipped, candidate).splitlines() if line.startswith("vifb")]
    assert len(vifb) == 4 and all("rank" not in line and line.endswith("0.6") for line in vifb)

"""scripts/standings.py: the model card's standings read from a benchmark run's results."""

from __future__ import annotations

import subprocess
import sys

from defusion.benchmark.runner import Row, read_results_csv, write_results_csv
from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "standings.py"
METRICS = ("Qabf", "EN", "SD", "SF", "SSIM", "MI", "VIF", "MEF-SSIM", "MS-MEF-SSIM", "SSIM-mean")


def _bench(folder, values: dict[str, float]) -> None:
    """One benchmark folder: every method scores ``values[method]`` on every metric, two images."""
    rows = [Row(method, image, metric, value)
            for method, value in values.items() for image in ("01", "02") for metric in METRICS]
    write_results_csv(rows, folder / "results.csv")


def test_counts_ranks_and_variant_comparisons(tmp_path):
    # Every metric here is higher-is-better, so a higher value wins everywhere.
    methods = {"defusion": 0.5, "defusion-g1": 0.4, "average": 0.3, "laplacian": 0.6}
    for name in ("tno", "mefb"):
        _bench(tmp_path / name, methods)
    for name in ("vifb", "mfifb"):
        _bench(tmp_path / name, {**methods, "PUB": 0.7})
    out = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], check=True, capture_output=True,
                         text=True, encoding="utf-8").stdout
    assert "VIFB (2): ranks of 2 (published + DeFusion): Qabf 2, SSIM 2, MI 2, VIF 2" in out
    # SSIM-mean rescales SSIM: the two count once, 9 distinct metrics
    assert "better than average on 9 of 9" in out and "better than laplacian on 0 of 9" in out
    assert "TNO (2): default better than defusion-g1 on 9 of 9" in out
    assert "MFIFB (2): Qabf defusion 0.500, defusion-g1 0.400; published PUB 0.700" in out
    assert "mean rank 2 of 3" in out  # laplacian, defusion, average; defusion-g1 left out
    assert "VIFB (2): ranks of 2" in out  # PUB, laplacian, defusion, average; defusion-g1 left out:
    assert "over every method but the other DeFusion rows, mean rank 3 of 4" in out


def test_a_missing_benchmark_is_skipped_and_none_is_one_line(tmp_path):
    _bench(tmp_path / "vifb", {"defusion": 0.5, "average": 0.3, "laplacian": 0.6})
    run = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True, encoding="utf-8")
    assert run.returncode == 0 and "TNO: not in" in run.stdout and "MEFB: not in" in run.stdout, run.stderr
    assert "VIFB (2): ranks of 1" in run.stdout
    empty = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "none")], capture_output=True, text=True,
                           encoding="utf-8")
    assert empty.returncode == 1 and empty.stderr.count("\n") == 1 and "no benchmark results" in empty.stderr


def test_mean_ranks_are_bench_s_a_method_with_results_missing_gets_none(tmp_path):
    """As in `defusion bench`'s tables: PUB, best on its one pair of two, is not ranked first."""
    _bench(tmp_path / "tno", {"defusion": 0.5, "average": 0.3, "laplacian": 0.6})
    rows = [Row("PUB", "01", metric, 0.9) for metric in METRICS]
    write_results_csv([*read_results_csv(tmp_path / "tno" / "results.csv"), *rows], tmp_path / "tno" / "results.csv")
    out = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], check=True, capture_output=True,
                         text=True, encoding="utf-8").stdout
    assert "mean rank 2 of 3 (2.00); laplacian 1.00, defusion 2.00, average 3.00; 1 with results missing not ranked " \
           "(PUB)" in out

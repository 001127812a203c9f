"""Mean ± standard deviation over pairs: stds.csv beside means.csv, and ``--std`` in the summaries."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from defusion.benchmark.report import std_table, stds_csv, summary_latex, summary_markdown
from defusion.benchmark.runner import SECONDS, Row
from defusion.cli.main import main
from defusion.io.images import write_image
from tests.conftest import smooth_image

EN = {"a": (6.0, 7.0, 8.0), "b": (5.0, 5.5, 6.0)}


def _rows() -> list[Row]:
    rows = [Row(m, f"p{i}", "EN", v) for m, values in EN.items() for i, v in enumerate(values)]
    return rows + [Row("a", "p0", SECONDS, 2.0), Row("a", "p1", SECONDS, 4.0), Row("b", "p0", "EN-one", 1.0)]


def test_std_table_is_the_sample_standard_deviation_over_pairs():
    stds = std_table(_rows())
    assert stds[("a", "EN")] == pytest.approx(np.std(EN["a"], ddof=1)) == pytest.approx(1.0)
    assert stds[("a", SECONDS)] == pytest.approx(np.sqrt(2.0))
    assert ("b", "EN-one") not in stds  # one value: no spread to give


def test_stds_csv_has_means_csv_s_layout(tmp_path):
    stds_csv(_rows(), tmp_path / "stds.csv")
    with open(tmp_path / "stds.csv", newline="", encoding="utf-8") as f:
        table = {r["method"]: r for r in csv.DictReader(f)}
    assert list(table["a"]) == ["method", "rank", "images", "EN", "EN-one", SECONDS]
    assert float(table["a"]["EN"]) == pytest.approx(1.0) and float(table["b"]["EN"]) == pytest.approx(0.5)
    assert table["b"]["EN-one"] == "" and table["b"][SECONDS] == ""


def test_the_summaries_show_mean_plus_minus_std_only_when_asked():
    rows = _rows()
    plain, with_std = summary_markdown(rows, "t"), summary_markdown(rows, "t", std=True)
    assert "±" not in plain and "mean over pairs" in plain
    assert "mean ± standard deviation over pairs" in with_std and "| **7** ± 1 |" in with_std
    assert "| 5.5 ± 0.5 |" in with_std
    tex = summary_latex(rows, "t", std=True)
    assert r"mean $\pm$ standard deviation over 3 image pairs" in tex
    assert r"\textbf{7.000} $\pm$ 1.000" in tex and r"5.500 $\pm$ 0.500" in tex
    assert r"\pm" not in summary_latex(rows, "t")


def test_bench_writes_stds_csv_and_takes_std(tmp_path, rng, capsys):
    da, db, pub = tmp_path / "a", tmp_path / "b", tmp_path / "pub"
    for stem in ("p1", "p2"):
        write_image(da / f"{stem}.png", smooth_image(rng, 32, 40, channels=1))
        write_image(db / f"{stem}.png", smooth_image(rng, 32, 40, channels=1))
        write_image(pub / f"{stem}.png", smooth_image(rng, 32, 40, channels=1))
    out = tmp_path / "out"
    assert main(["bench", "--task", "ivf", "--a", str(da), "--b", str(db), "--out", str(out), "--methods",
                 "average", "--fused", f"PUB={pub}", "--metrics", "EN,SD", "--std", "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert (out / "stds.csv").read_text(encoding="utf-8").startswith("method,rank,images,EN,SD,seconds")
    assert "stds.csv" in captured.err and " ± " in captured.out
    assert r"$\pm$" in (out / "summary.tex").read_text(encoding="utf-8")


# The std's notation follows its mean: an audit found `**733.3** ± 3.5e+02`, `6.6 ± 1.1e-15` for identical
# values, and `6.510 $\pm$ $4.000\times10^{-4}$` in LaTeX.


def _two_methods(a: tuple[float, ...], b: tuple[float, ...], metric: str = "EN") -> list[Row]:
    return [Row(m, f"p{i}", metric, v) for m, values in (("a", a), ("b", b)) for i, v in enumerate(values)]


def test_a_std_is_in_fixed_notation_to_the_mean_s_decimals():
    rows = _two_methods((400.0, 733.3, 1066.6), (10.0, 20.0, 30.0))
    md = summary_markdown(rows, "t", std=True)
    assert "| **733.3** ± 333.3 |" in md and "e+" not in md
    tex = summary_latex(rows, "t", std=True)
    assert r"\textbf{733.3} $\pm$ 333.3" in tex and r"\times10" not in tex


def test_identical_values_have_a_std_of_0_not_float_noise():
    rows = _two_methods((6.6, 6.6, 6.6), (5.0, 6.0, 7.0))
    assert std_table(rows)[("a", "EN")] == 0.0
    assert np.std([6.6, 6.6, 6.6], ddof=1) > 0  # what was shown: 1.1e-15
    assert std_table(_two_methods((6.6, 6.6 + 1e-15, 6.6), (1.0, 2.0)))[("a", "EN")] == 0.0  # noise of a sum
    assert "| **6.6** ± 0 |" in summary_markdown(rows, "t", std=True)
    assert r"\textbf{6.600} $\pm$ 0.000" in summary_latex(rows, "t", std=True)


def test_a_latex_std_below_the_column_s_precision_shows_0_in_its_decimals():
    rows = _two_methods((6.5096, 6.5104, 6.51), (5.0, 5.5, 6.0))
    tex = summary_latex(rows, "t", std=True)
    assert r"\textbf{6.510} $\pm$ 0.000" in tex and r"\times10" not in tex


def test_a_std_is_scientific_only_in_a_column_that_is():
    rows = _two_methods((4.868e-07, 6.868e-07), (6.913e-05, 7.913e-05), "Nabf")
    assert "| **5.868e-07** ± 1.414e-07 |" in summary_markdown(rows, "t", std=True)
    assert r"\textbf{$5.868\times10^{-7}$} $\pm$ $1.414\times10^{-7}$" in summary_latex(rows, "t", std=True)

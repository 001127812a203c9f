"""Report values a researcher can paste: tiny means readable in summary.tex, the weights' run named.

From an audit: ``average``'s Nabf (4.868e-07) came out of summary.tex as 0.000000-like figures, and the
title named a run's weights ``weights.safetensors``, the name every run's file has.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from defusion.benchmark.report import summary_latex
from defusion.benchmark.runner import Row


def _rows() -> list[Row]:
    values = {"average": (4.868e-07, 6.982), "max": (6.913e-05, 6.671), "gff": (1.2e-04, 7.05)}
    return [Row(method, pair, metric, value) for method, (nabf, en) in values.items() for pair in ("p1", "p2")
            for metric, value in (("Nabf", nabf), ("EN", en))]


def test_a_column_of_tiny_means_is_in_scientific_notation_to_four_digits():
    tex = summary_latex(_rows(), "t")
    lines = set(tex.splitlines())
    assert r"average & 1.50 & \textbf{$4.868\times10^{-7}$} & \underline{6.982} \\" in lines
    assert r"max & 2.50 & \underline{$6.913\times10^{-5}$} & 6.671 \\" in lines  # second: by the values shown
    assert r"gff & 2.00 & $1.200\times10^{-4}$ & \textbf{7.050} \\" in lines  # EN as before: fixed, four digits
    assert "0.0000" not in tex


def test_the_title_names_a_run_s_weights_with_their_folder(tmp_path):
    from defusion.cli.bench.titles import default_title

    weights = tmp_path / "runs" / "run1" / "weights.safetensors"
    args = argparse.Namespace(task="ivf", dir_a=Path("vifb/vi"), dir_b=Path("vifb/ir"), weights=weights)
    assert default_title(args) == "IVF: vifb (A: vi, B: ir), weights run1/weights.safetensors"
    args.weights = None
    assert default_title(args) == "IVF: vifb (A: vi, B: ir)"  # the shipped weights: not said

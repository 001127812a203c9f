"""defusion.benchmark.report's picture helpers."""

from __future__ import annotations

import warnings

import numpy as np
from PIL import Image

from defusion.benchmark.report import summary_chart, tile_rows
from defusion.benchmark.runner import Row


def test_tile_rows_lays_rows_side_by_side_and_stacks_them_on_white():
    red, blue = Image.new("RGB", (4, 3), (255, 0, 0)), Image.new("RGB", (2, 5), (0, 0, 255))
    sheet = tile_rows([[red, red], [blue]])
    assert sheet.size == (8, 3 + 5)  # widest row; each row as tall as its tallest tile
    assert sheet.getpixel((5, 1)) == (255, 0, 0)  # the second tile of the first row
    assert sheet.getpixel((1, 4)) == (0, 0, 255)  # the second row starts under the first
    assert sheet.getpixel((6, 6)) == (255, 255, 255)  # the short row is padded with white


def test_summary_chart_of_one_method_keeps_its_labels(tmp_path):
    """One method (a candidate scored alone) once left no room for the title and metric names."""
    rows = [Row("defusion", f"p{i}", metric, 0.5 + i / 10) for i in range(3)
            for metric in ("MEF-SSIM", "MS-MEF-SSIM", "SSIM", "SSIM-mean", "PSNR-standard", "EN", "SD", "SF",
                           "AG", "Qabf", "MI", "CC")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns when a layout cannot fit
        summary_chart(rows, tmp_path / "one.png", "MEF: mefb")
    chart = np.asarray(Image.open(tmp_path / "one.png").convert("L"))
    heatmap_rows = np.flatnonzero((chart < 128).mean(axis=1) > 0.5)  # the coloured cells' rows
    text = (chart < 100).any(axis=1)
    assert text[: heatmap_rows.min() - 2].any(), "the title is cut off"
    assert text[heatmap_rows.max() + 12:].sum() > 20, "the metric names under the cells are cut off"


def _table_rows():
    rows = [Row("ours_v2", f"p{i}", "Qabf", 0.5 + i / 100) for i in range(4)]
    rows += [Row("average", f"p{i}", "Qabf", 0.4 + i / 100) for i in range(3)]  # one pair missing
    rows += [Row("max", f"p{i}", "Qabf", 0.45) for i in range(4)]
    rows += [Row(m, f"p{i}", "Nabf", v) for m, v in (("ours_v2", 0.003), ("average", 0.0001), ("max", 0.02))
             for i in range(3)]
    rows += [Row("ours_v2", f"p{i}", "seconds", 2.0) for i in range(4)]
    return rows


def test_summary_latex_bolds_the_best_underlines_the_second_and_escapes_names():
    from defusion.benchmark.report import summary_latex

    tex = summary_latex(_table_rows(), "IVF: my_set", ("vi", "ir"))
    assert (r"\caption{IVF: my\_set: mean over 4 image pairs (A: vi, B: ir); best in bold, second underlined; "
            r"rank = mean rank over the metrics (1 = best; over those every ranked method has).") in tex
    assert r"Method & Rank & Qabf$\uparrow$ & Nabf$\downarrow$ \\" in tex
    assert r"ours\_v2 & 1.00 & \textbf{0.5150} & \underline{0.00300} \\" in tex  # Qabf best; Nabf second lowest
    # average's Qabf is over 3 of 4 pairs: marked, and it leaves two comparable means: no second of two
    # its Nabf shows 2 significant digits at the column's 5 decimals (0.00010): in scientific notation
    assert r"average & --- & 0.4100$^\dagger$ & \textbf{0.00010} \\" in tex
    assert r"max & 2.00 & 0.4500 & 0.02000 \\" in tex
    assert tex.count(r"\begin{tabular}") == 1 and tex.rstrip().endswith(r"\end{table}")
    assert "seconds" not in tex


def test_summary_notes_methods_scored_on_fewer_pairs_and_means_csv_has_them(tmp_path):
    import csv

    from defusion.benchmark.report import means_csv, summary_markdown

    rows = _table_rows()
    assert "average: 3 of 4 pairs" in summary_markdown(rows)
    means_csv(rows, tmp_path / "means.csv")
    with open(tmp_path / "means.csv", newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert list(table[0]) == ["method", "rank", "images", "Qabf", "Nabf", "seconds"]
    ours = next(r for r in table if r["method"] == "ours_v2")
    assert ours["images"] == "4" and float(ours["Qabf"]) == 0.515 and ours["seconds"] == "2"
    assert next(r for r in table if r["method"] == "max")["seconds"] == ""
    assert [r["method"] for r in table] == ["ours_v2", "max", "average"]  # by rank; average (fewer pairs) last
    assert next(r for r in table if r["method"] == "average")["rank"] == ""  # no rank


def test_summary_latex_shows_tiny_means_and_marks_nothing_second_of_two():
    from defusion.benchmark.report import summary_latex

    rows = [Row("a", "p1", "Nabf", 9.9e-7), Row("b", "p1", "Nabf", 0.02), Row("a", "p1", "SSIM", 1.5),
            Row("b", "p1", "SSIM", 1.2)]
    tex = summary_latex(rows, "t")
    assert r"\textbf{$9.900\times10^{-7}$}" in tex and r"\underline" not in tex  # 4 digits, as the rest
    assert "VIFB's convention (at most 2)" in tex and "PSNR, RMSE: VIFB's definitions" not in tex
    vifb = summary_latex(rows + [Row("a", "p1", "PSNR", 58.0), Row("b", "p1", "PSNR", 57.0)], "t")
    assert "PSNR, RMSE: VIFB's definitions" in vifb


def test_coverage_notes_name_short_methods_and_metrics():
    from defusion.benchmark.report import coverage_notes, summary_latex

    rows = [Row(m, p, "EN", 1.0) for m in ("a", "b") for p in ("p1", "p2")]
    rows += [Row(m, "p1", "MS-SSIM", 1.0) for m in ("a", "b")]  # too small for MS-SSIM on p2
    rows += [Row("c", "p1", "EN", 1.0), Row("c", "p1", "MS-SSIM", 1.0)]
    assert coverage_notes(rows) == ["c: 1 of 2 pairs", "MS-SSIM of a: 1 of 2 pairs", "MS-SSIM of b: 1 of 2 pairs"]
    assert coverage_notes([r for r in rows if r.method != "c"]) == ["MS-SSIM: 1 of 2 pairs"]
    assert "or the metric not defined on a flat or constant image): c: 1 of 2 pairs" in summary_latex(rows)


def test_mean_rank_counts_the_metrics_every_method_has_and_names_with_pipes_stay_one_cell():
    from defusion.benchmark.report import mean_ranks, mean_table, summary_markdown

    rows = [Row("full", "p", "Qabf", 0.6), Row("full", "p", "EN", 7.0), Row("p|art", "p", "Qabf", 0.5)]
    methods, metrics, means = mean_table(rows)
    assert mean_ranks(methods, metrics, means) == {"full": 1.0, "p|art": 2.0}  # EN, which p|art lacks, left out
    text = summary_markdown(rows)
    assert "| p\\|art |" in text
    alone = summary_markdown([Row("only", "p", "EN", 7.0)])
    assert "| only | 1.00 | 7 |" in alone  # not bold: the best of one method says nothing


def test_versus_says_when_too_few_pairs_can_be_significant():
    from defusion.benchmark.compare import versus_markdown

    rows = [Row(m, f"p{i}", "Qabf", v + i) for m, v in (("a", 1.0), ("b", 0.0)) for i in range(4)]
    assert "With 4 pairs a two-sided Wilcoxon test cannot reach p < 0.05" in versus_markdown(rows, "a")
    rows = [Row(m, f"p{i}", "Qabf", v + i) for m, v in (("a", 1.0), ("b", 0.0)) for i in range(8)]
    assert "cannot reach" not in versus_markdown(rows, "a")


def test_mean_rank_weighs_ssim_and_ssim_mean_once():
    from defusion.benchmark.report import mean_ranks, mean_table, summary_markdown

    rows = [Row("a", "p", "SSIM", 1.4), Row("a", "p", "SSIM-mean", 0.7), Row("a", "p", "EN", 6.0),
            Row("b", "p", "SSIM", 1.2), Row("b", "p", "SSIM-mean", 0.6), Row("b", "p", "EN", 7.0)]
    methods, metrics, means = mean_table(rows)
    assert mean_ranks(methods, metrics, means) == {"a": 1.5, "b": 1.5}  # not 1.33 / 1.67
    assert "SSIM-mean and SSIM count once" in summary_markdown(rows)
    assert "count once" not in summary_markdown([r for r in rows if r.metric != "SSIM-mean"])

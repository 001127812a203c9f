"""summary.tex and summary.md call best what they print best, and agree on it and on the ranks.

From an audit: in a Nabf column of 5 decimals, average's 1.79946e-07 and Mine's 5.22577e-07 (printed in
scientific notation) were both bold in summary.tex, compared as the 0.00000 they round to; means that
print alike (PSNR 57.42, CC 0.6845) were bold in summary.tex and only one of them in summary.md; and
summary.tex had no rank column.
"""

from __future__ import annotations

import re

from defusion.benchmark.report import summary_latex, summary_markdown
from defusion.benchmark.runner import Row


def _rows(values: dict[str, dict[str, float]]) -> list[Row]:
    return [Row(method, pair, metric, value) for method, means in values.items() for metric, value in means.items()
            for pair in ("p1", "p2")]


def _tex_cells(tex: str) -> dict[str, list[str]]:
    """{method: its cells} of a summary.tex table."""
    return {line.split(" & ")[0]: line.removesuffix(r" \\").split(" & ")[1:] for line in tex.splitlines()
            if " & " in line and not line.startswith("Method")}


def _md_cells(md: str) -> dict[str, list[str]]:
    """{method: its cells} of a summary.md table."""
    return {line.split(" | ")[0].lstrip("| "): line.strip("| ").split(" | ")[1:] for line in md.splitlines()
            if line.startswith("| ") and not line.startswith("| method")}


def test_a_tiny_mean_printed_in_scientific_notation_is_compared_as_printed():
    rows = _rows({"average": {"Nabf": 1.79946e-07}, "Mine": {"Nabf": 5.22577e-07}, "gff": {"Nabf": 0.0312}})
    tex = _tex_cells(summary_latex(rows, "t"))
    assert tex["average"][1] == r"\textbf{$1.799\times10^{-7}$}"
    assert tex["Mine"][1] == r"\underline{$5.226\times10^{-7}$}"  # worse: second, not bold too
    assert tex["gff"][1] == "0.03120"
    md = _md_cells(summary_markdown(rows, "t"))
    assert md["average"][1] == "**1.799e-07**" and md["Mine"][1] == "5.226e-07"


def test_means_that_print_alike_are_both_best_in_both_tables():
    rows = _rows({"a": {"PSNR": 57.42014, "CC": 0.684531}, "b": {"PSNR": 57.42006, "CC": 0.684512},
                  "c": {"PSNR": 56.1, "CC": 0.61}})
    tex = _tex_cells(summary_latex(rows, "t"))
    md = _md_cells(summary_markdown(rows, "t"))
    for method in ("a", "b"):
        assert tex[method][1:] == [r"\textbf{57.42}", r"\textbf{0.6845}"]
        assert md[method][1:3] == ["**57.42**", "**0.6845**"]
    assert tex["c"][1:] == [r"\underline{56.10}", r"\underline{0.6100}"]  # the next value shown: second
    assert md["c"][1:3] == ["56.1", "0.61"]


def test_summary_tex_has_summary_md_s_rank_column():
    rows = _rows({"a": {"EN": 7.0, "Qabf": 0.4}, "b": {"EN": 6.0, "Qabf": 0.6}, "c": {"EN": 5.0, "Qabf": 0.5}})
    rows += [Row("late", "p1", "EN", 9.0), Row("late", "p1", "Qabf", 0.9)]  # results missing on p2: no rank
    text = summary_latex(rows, "t")
    assert r"\begin{tabular}{lrrr}" in text and r"Method & Rank & EN$\uparrow$ & Qabf$\uparrow$ \\" in text
    tex, md = _tex_cells(text), _md_cells(summary_markdown(rows, "t"))
    assert list(tex) == list(md) == ["b", "a", "c", "late"]  # by rank, the unranked last
    assert [cells[0] for cells in tex.values()] == [cells[0] for cells in md.values() if cells[0] != "—"] + ["---"]
    assert [cells[0] for cells in md.values()] == ["1.50", "2.00", "2.50", "—"]
    assert re.search(r"gets no rank \(---\) and is listed after the ranked ones", text)
    assert "rank = mean rank over the metrics (1 = best" in text


def test_a_small_mean_keeps_3_significant_digits_and_close_ones_do_not_tie():
    """From an audit: Nabf's 6.226e-05 printed 0.00006 in a column of 5 decimals (from its largest,
    0.01333), so 5.6e-05 and 6.4e-05 printed alike and tied as best."""
    rows = _rows({"defusion": {"Nabf": 5.6e-05}, "max": {"Nabf": 6.4e-05}, "gff": {"Nabf": 0.01333},
                  "cnn": {"Nabf": 0.000996}})
    tex = _tex_cells(summary_latex(rows, "t"))
    assert tex["defusion"][1] == r"\textbf{$5.600\times10^{-5}$}"
    assert tex["max"][1] == r"\underline{$6.400\times10^{-5}$}"  # second, not bold beside the best
    assert tex["gff"][1] == "0.01333" and tex["cnn"][1] == "0.00100"  # 3 digits at the column's decimals: fixed
    rows = _rows({"a": {"EN": 100.1}, "b": {"EN": 0.05}, "c": {"EN": 7.0}})  # 1 decimal: 0.1, 7.0
    tex = _tex_cells(summary_latex(rows, "t"))
    assert tex["a"][1] == r"\textbf{100.1}" and tex["c"][1] == r"\underline{7.0}"  # 1 or more: its whole digits show it
    assert tex["b"][1] == r"$5.000\times10^{-2}$"


def test_a_std_is_scientific_where_its_small_mean_is():
    rows = [Row(m, f"p{i}", "Nabf", v) for m, values in (("a", (5.0e-05, 7.2e-05)), ("b", (0.0133, 0.0134)))
            for i, v in enumerate(values)]
    tex = summary_latex(rows, "t", std=True)
    assert r"\textbf{$6.100\times10^{-5}$} $\pm$ $1.556\times10^{-5}$" in tex
    assert r"0.01335 $\pm$ 0.00007" in tex  # a mean in fixed notation: its std too, at its decimals

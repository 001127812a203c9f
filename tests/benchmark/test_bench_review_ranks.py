"""A reviewer's cases: a mean over fewer pairs (†, a metric not defined on a flat result) ranks after the
full means of its column, so that failing on a pair never raises its method's standing."""

from __future__ import annotations

import pytest

from defusion.benchmark.runner import Row

NAN = float("nan")


def _rows(broken_p2: float) -> list[Row]:
    """Three pairs: "broken" weak on Qcb (0.30, 0.31, ``broken_p2``), every method EN 7.6."""
    qcb = {"good": (0.62, 0.63, 0.61), "ok": (0.50, 0.52, 0.51), "broken": (0.30, 0.31, broken_p2)}
    return [Row(m, f"p{i}", k, v) for m, values in qcb.items() for i, q in enumerate(values)
            for k, v in (("Qcb", q), ("EN", 7.6))]


def _ranks(rows: list[Row]) -> dict[str, float]:
    from defusion.benchmark.report import mean_table, table_ranks

    return table_ranks(rows, *mean_table(rows))


@pytest.mark.parametrize("value", [0.0, 0.305, 0.99])
def test_a_nan_on_its_weak_metric_never_raises_a_methods_rank(value):
    ranks = _ranks(_rows(NAN))
    assert ranks["broken"] == max(ranks.values())  # was 1st: its weak Qcb left out, ranked on EN alone
    assert ranks["broken"] >= _ranks(_rows(value))["broken"]  # no better than with any value on p2


def test_the_reviewers_mean_ranks_case():
    from defusion.benchmark.report import mean_ranks

    means = {(m, k): v for m, vs in (("a", (0.62, 7.4)), ("b", (0.49, 7.5)), ("flat", (0.30, 7.6)))
             for k, v in zip(("Qcb", "EN"), vs)}
    fewer = mean_ranks(["a", "b", "flat"], ["Qcb", "EN"], means, {("flat", "Qcb")})
    assert fewer["flat"] == mean_ranks(["a", "b", "flat"], ["Qcb", "EN"], means)["flat"] == 2.0  # was 1.0


def test_means_over_fewer_pairs_rank_after_the_full_ones_by_value():
    from defusion.benchmark.report import column_ranks

    means = {("a", "Qcb"): 0.10, ("b", "Qcb"): 0.62, ("c", "Qcb"): 0.49, ("d", "EN"): 7.0}
    # every method but one †: the full one ranks 1st, the others after it, by value; d has no Qcb
    assert column_ranks(["a", "b", "c", "d"], "Qcb", means, {("b", "Qcb"), ("c", "Qcb")}) == {
        "a": 1.0, "b": 2.0, "c": 3.0}
    ties = {("a", "Qcb"): 0.5, ("b", "Qcb"): 0.4, ("c", "Qcb"): 0.4}
    assert column_ranks(["a", "b", "c"], "Qcb", ties, {("b", "Qcb"), ("c", "Qcb")}) == {"a": 1.0, "b": 2.5, "c": 2.5}
    assert column_ranks(["a", "b", "c"], "Qcb", ties) == {"a": 1.0, "b": 2.5, "c": 2.5}  # none †: as before


def test_the_legend_says_a_mean_over_fewer_pairs_ranks_after_the_full_ones():
    from defusion.benchmark.report import summary_latex, summary_markdown

    rows = _rows(NAN)
    for text in (summary_markdown(rows), summary_latex(rows)):
        assert "ranked after the full means of its column" in text
        assert "left out of that metric's ranking" not in text


def test_a_metric_undefined_on_every_pair_of_a_method_ranks_it_last_there():
    """A review: a method flat on every pair had no mean of Qcb, so Qcb left every method's mean rank and
    the failed method ranked 1st on EN alone."""
    from defusion.benchmark.report.means import mean_table
    from defusion.benchmark.report.ranks import table_ranks
    from defusion.benchmark.results_csv import Row

    rows = [Row(m, p, k, v) for m, q, e in (("a", 0.6, 7.4), ("b", 0.5, 7.5), ("flat", float("nan"), 7.6))
            for p in ("p1", "p2") for k, v in (("Qcb", q), ("EN", e))]
    ranks = table_ranks(rows, ["a", "b", "flat"], ["Qcb", "EN"], mean_table(rows)[2])
    assert ranks["flat"] >= max(ranks["a"], ranks["b"])

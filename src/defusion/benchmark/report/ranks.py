"""The tables' ranks: each method's rank per metric (a mean over fewer pairs after the full ones), its mean rank
over the metrics, and which methods get none (results missing on some pairs) and so are listed after
the ranked ones."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from defusion.benchmark.compare import higher_is_better
from defusion.benchmark.report.means import fewer_pairs
from defusion.benchmark.results_csv import SECONDS, Row


def metric_ranks(values: dict[str, float], metric: str) -> dict[str, float]:
    """{method: rank} of ``values`` (one metric's means) in the metric's direction, 1 = best; tied
    values share the average of their ranks (``scipy.stats.rankdata``'s 'average'), so that a
    rank never depends on the methods' names or order."""
    from scipy.stats import rankdata

    names = list(values)
    signed = np.array([values[m] for m in names], dtype=float) * (-1 if higher_is_better(metric) else 1)
    return dict(zip(names, (float(r) for r in rankdata(signed, method="average"))))


def column_ranks(methods: list[str], metric: str, means: dict,
                 fewer: set[tuple[str, str]] | frozenset = frozenset()) -> dict[str, float]:
    """{method: rank} on one metric of the ``methods`` with a mean of it: the full means ranked among
    themselves (:func:`metric_ranks`), then each mean over fewer pairs (``fewer``,
    :func:`~defusion.benchmark.report.means.fewer_pairs`) after them, several ordered among themselves by
    value. Such a mean leaves out the pairs its metric is not defined on (a flat result, say): ranked
    among the full means it could rank its method on the pairs where it did best, and left out of the
    ranking it could drop its method's weakest metric from its mean rank; ranked last, failing on a pair
    never raises a method's standing.

    Example:
        >>> means = {("a", "Qcb"): 0.62, ("b", "Qcb"): 0.49, ("flat", "Qcb"): 0.60}  # flat's over 2 of 3 pairs
        >>> column_ranks(["a", "b", "flat"], "Qcb", means, {("flat", "Qcb")})
        {'a': 1.0, 'b': 2.0, 'flat': 3.0}
        >>> column_ranks(["a", "b", "flat"], "Qcb", means, {("a", "Qcb"), ("b", "Qcb")})  # flat alone full: 1st
        {'flat': 1.0, 'a': 2.0, 'b': 3.0}
    """
    scored = [m for m in methods if (m, metric) in means]
    full = metric_ranks({m: means[(m, metric)] for m in scored if (m, metric) not in fewer}, metric)
    after = metric_ranks({m: means[(m, metric)] for m in scored if (m, metric) in fewer}, metric)
    return {**full, **{m: len(full) + rank for m, rank in after.items()}}


def mean_ranks(methods: list[str], metrics: list[str], means: dict,
               fewer: set[tuple[str, str]] | frozenset = frozenset()) -> dict[str, float]:
    """Each method's rank per metric (1 = best; ties share their average rank,
    :func:`metric_ranks`) averaged over the metrics every method has (a method scored on fewer
    metrics would otherwise rank on its best ones only); over the metrics each has where no
    metric is common to all. A metric that rescales another (SSIM-mean, SSIM) counts once
    (:func:`defusion.metrics.distinct`). A mean over fewer pairs (``fewer``) ranks after the full
    means of its metric (:func:`column_ranks`), so that a mean that leaves out its method's undefined
    pairs (a flat result) can never raise its standing: no better than with any value on those pairs.

    Example:
        >>> means = {(m, k): v for m, vs in (("a", (0.62, 7.4)), ("b", (0.49, 7.5)), ("flat", (0.30, 7.6)))
        ...          for k, v in zip(("Qcb", "EN"), vs)}
        >>> mean_ranks(["a", "b", "flat"], ["Qcb", "EN"], means)
        {'a': 2.0, 'b': 2.0, 'flat': 2.0}
        >>> mean_ranks(["a", "b", "flat"], ["Qcb", "EN"], means, {("flat", "Qcb")})  # not flat 1st on EN alone
        {'a': 2.0, 'b': 2.0, 'flat': 2.0}
    """
    from defusion.metrics import distinct

    metrics = distinct(metrics)
    common = [m for m in metrics if all((method, m) in means for method in methods)]
    ranks: dict[str, list[float]] = defaultdict(list)
    for metric in common or metrics:
        for method, rank in column_ranks(methods, metric, means, fewer).items():
            ranks[method].append(rank)
    return {m: float(np.mean(r)) for m, r in ranks.items()}


def unranked(rows: list[Row]) -> set[str]:
    """The methods with results missing on some pairs: scored (any metric, a value that is not a
    number included) on fewer pairs than the method scored on the most. They get no mean rank and
    are listed after the ranked ones, since a rank from means over other pairs (a published method
    with results missing, say) would compare it with the others on its own subset and could put it
    first. A value not defined on a pair (NaN: a flat image) is no missing result: its mean is marked
    (:func:`~defusion.benchmark.report.means.fewer_pairs`) and ranked after the full means of that
    metric (:func:`column_ranks`), but its method keeps a mean rank, which one such pair could otherwise
    cost every method but the worst.

    Example:
        >>> rows = [Row(m, p, "EN", 1.0) for m in ("a", "b") for p in ("p1", "p2")] + [Row("c", "p1", "EN", 9.0)]
        >>> sorted(unranked(rows + [Row("b", "p3", "EN", float("nan")), Row("a", "p3", "EN", 1.0)]))
        ['c']
    """
    seen: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        if r.metric != SECONDS:
            seen[r.method].add(r.image)
    most = max((len(images) for images in seen.values()), default=0)
    return {method for method, images in seen.items() if len(images) < most}


def table_ranks(rows: list[Row], methods: list[str], metrics: list[str], means: dict) -> dict[str, float]:
    """:func:`mean_ranks` among the methods of ``rows`` that are not :func:`unranked` (the others have
    none), each mean over fewer pairs ranked after the full means of its metric
    (:func:`~defusion.benchmark.report.means.fewer_pairs`), and a metric scored but defined on none of a
    method's pairs (no mean at all: every result flat) ranked last of all, as the worst value: dropped,
    it would leave its metric out of every method's mean rank and could rank the failed method first.

    Example:
        >>> from defusion.benchmark.report.means import mean_table
        >>> rows = [Row(m, p, k, v) for m, q, e in (("a", 0.6, 7.4), ("b", 0.5, 7.5), ("flat", float("nan"), 7.6))
        ...         for p in ("p1", "p2") for k, v in (("Qcb", q), ("EN", e))]
        >>> table_ranks(rows, ["a", "b", "flat"], ["Qcb", "EN"], mean_table(rows)[2])
        {'a': 2.0, 'b': 2.0, 'flat': 2.0}
    """
    left_out = unranked(rows)
    undefined = {(r.method, r.metric) for r in rows if r.metric != SECONDS and (r.method, r.metric) not in means}
    worst = {key: -np.inf if higher_is_better(key[1]) else np.inf for key in undefined}
    return mean_ranks([m for m in methods if m not in left_out], metrics, {**means, **worst},
                      fewer_pairs(rows) | undefined)


def ranked_order(methods: list[str], ranks: dict[str, float]) -> list[str]:
    """``methods`` by mean rank, then those without one (:func:`unranked`) in their first-seen order."""
    return sorted(methods, key=lambda m: (m not in ranks, ranks.get(m, 0.0)))

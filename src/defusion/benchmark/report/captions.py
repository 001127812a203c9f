"""The words summary.md, summary.tex and the chart share: the marks in their cells, the phrases of
their captions (pairs, sources, what the rank is) and the notes under them (means over fewer pairs,
values not defined)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from defusion.benchmark.compare import rescaled_pairs
from defusion.benchmark.report.means import images_per_method, value_counts
from defusion.benchmark.results_csv import SECONDS, Row
from defusion.io.notes import listed, plural

#: Marks a mean over fewer pairs than the method with the most on that metric (md, tex, chart note).
FEWER_PAIRS_MARK = "†"
#: Why a mean may cover fewer pairs, for the notes under the tables.
FEWER_PAIRS_CAUSES = ("results missing or unreadable, images too small for the metric, or the metric not "
                      "defined on a flat or constant image")
#: What becomes of a ranked method's mean over fewer pairs in the mean rank
#: (:func:`~defusion.benchmark.report.ranks.column_ranks`), said after "such a mean is not marked best".
FEWER_PAIRS_RANKING = ("and is ranked after the full means of its column (so a pair its metric is not defined on "
                       "never raises its method's rank)")
#: The rank cell of a method without a mean rank (:func:`~defusion.benchmark.report.ranks.unranked`).
NO_RANK = "—"
#: What the tables' rank column holds, before :func:`rescaled_note` and the closing parenthesis.
RANK_RULE = "rank = mean rank over the metrics (1 = best; over those every ranked method has"


def sources_phrase(sources: tuple[str, str]) -> str:
    """"(A: vi, B: ir)": which folder held the first sources and which the second (swapping them
    changes some methods' results)."""
    return f"(A: {sources[0]}, B: {sources[1]})"


def pairs_phrase(count: int, sources: tuple[str, str] | None = None, title: str = "") -> str:
    """"21 image pairs (A: vi, B: ir)": how many pairs and, where given and not already in
    ``title``, the sources' folders (:func:`sources_phrase`)."""
    phrase = f"{plural(count, 'image pair')}"
    named = sources_phrase(sources) if sources else ""
    return f"{phrase} {named}" if named and named not in title else phrase


def rescaled_note(metrics: list[str]) -> str:
    """The note that rescaled metrics count once in ranks, where some are."""
    twins = rescaled_pairs(metrics)
    return f"; {', '.join(twins)} count once: one measure on two scales" if twins else ""


def fewer_pairs_rule(fewer: set[tuple[str, str]], awards: str, left_out: set[str],
                     rank: str = "gets no rank (—)") -> str:
    """The note that says what the mark means and that such means get no ``awards``, where some are
    marked, and, where a ranked method has one, that it is ranked after the full means of its column
    (:func:`~defusion.benchmark.report.ranks.column_ranks`); and that a method with results missing
    (``left_out``, :func:`~defusion.benchmark.report.ranks.unranked`) ``rank`` and is listed after the
    ranked ones, where there is one.

    Example:
        >>> print(fewer_pairs_rule({("flat", "Qcb")}, "best", set()))  # doctest: +NORMALIZE_WHITESPACE
        † mean over fewer pairs than the method with the most on that metric; such a mean is not marked best
        and is ranked after the full means of its column (so a pair its metric is not defined on never raises
        its method's rank).
    """
    rule = (f" {FEWER_PAIRS_MARK} mean over fewer pairs than the method with the most on that metric; such a "
            f"mean is not marked {awards}" if fewer else "")
    if any(method not in left_out for method, _ in fewer):
        rule += f" {FEWER_PAIRS_RANKING}"
    rule += "." if fewer else ""
    if left_out:
        rule += f" A method with results missing on some pairs {rank} and is listed after the ranked ones."
    return rule


def coverage_notes(rows: list[Row]) -> list[str]:
    """Where a mean is over fewer than all the pairs: a method with results missing
    (``"gff: 19 of 21 pairs"``), or a metric not computed on some pairs (``"MS-SSIM: 1 of 2
    pairs"``, or per method when they differ)."""
    images = {r.image for r in rows if r.metric != SECONDS}
    per_method = images_per_method(rows)
    notes = [f"{m}: {n} of {len(images)} pairs" for m, n in per_method.items() if n < len(images)]
    counts: dict[tuple[str, str], int] = defaultdict(int, value_counts(rows))
    for metric in dict.fromkeys(r.metric for r in rows if r.metric != SECONDS):
        short = {m: counts[(m, metric)] for m in per_method if counts[(m, metric)] < per_method[m]}
        if not short:
            continue
        if len(short) == len(per_method) and len(set(short.values())) == 1:
            notes.append(f"{metric}: {next(iter(short.values()))} of {len(images)} pairs")
        else:
            notes += [f"{metric} of {m}: {n} of {len(images)} pairs" for m, n in short.items()]
    return notes


def undefined_notes(rows: list[Row]) -> list[str]:
    """One line per method and metric with values that are not numbers (NaN: a correlation or a
    ratio of a flat or constant image), which the means leave out: said, not dropped silently."""
    undefined: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in rows:
        if r.metric != SECONDS and not np.isfinite(r.value):
            undefined[(r.method, r.metric)].append(r.image)
    return [f"{method}: {metric} not defined on {plural(len(images), 'pair')} "
            f"({listed(sorted(images))}): flat or constant image; left out of its mean"
            for (method, metric), images in undefined.items()]

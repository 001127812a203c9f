"""Paired comparisons of benchmark results: is one method better than another, image by image?

A table of means hides how often a method wins: 0.01 of Qabf may come from every pair or from
one. Methods are compared on the images both were scored on, per metric, by counting wins, ties
and losses (in the metric's own direction; values a float rounding apart tie) and by a two-sided
Wilcoxon signed-rank test on the paired values less the ties, the test fusion papers use when they
test at all.

Example:
    >>> from defusion.benchmark.runner import Row
    >>> rows = [Row("ours", f"p{i}", "Qabf", 0.5 + i / 100) for i in range(8)]
    >>> rows += [Row("base", f"p{i}", "Qabf", 0.4 + i / 100) for i in range(8)]
    >>> c = paired_comparisons(rows, "ours")[0]
    >>> (c.against, c.wins, c.ties, c.losses, c.significant)
    ('base', 8, 0, 0, True)
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from defusion.benchmark.errors import BenchmarkError
from defusion.benchmark.runner import SECONDS, Row
from defusion.io.notes import plural

#: Two-sided p-value under which a difference is called significant (marked * in tables).
SIGNIFICANCE = 0.05
#: ... and strongly significant (marked **).
STRONG_SIGNIFICANCE = 0.01
#: Two values count as level (a tie) when they differ by at most this share of the larger magnitude
#: plus :data:`TIE_ABSOLUTE`: the same content scored twice may differ in the last bits (float
#: rounding in another order), which is no win and no loss, nor a difference for the signed-rank test.
TIE_RELATIVE = 1e-9
TIE_ABSOLUTE = 1e-12
#: The fewest pairs on which a two-sided Wilcoxon signed-rank test can reach p < 0.05 (exact
#: distribution: 2 / 2^n < 0.05 from n = 6).
MIN_PAIRS_FOR_SIGNIFICANCE = 6


class CompareError(BenchmarkError):
    """A comparison that cannot be made: the reference method has no results among the rows (a
    ValueError, as before this class existed)."""


def higher_is_better(metric: str) -> bool:
    """The metric's direction (unknown metrics, e.g. a published method's own, count as higher)."""
    from defusion.metrics import METRICS

    return METRICS[metric].higher_is_better if metric in METRICS else True


@dataclass(frozen=True)
class PairedComparison:
    """``reference`` against ``against`` on ``metric``, over the ``n`` images both have."""

    reference: str
    against: str
    metric: str
    n: int
    wins: int  # images where the reference is better, in the metric's direction
    ties: int
    losses: int
    mean_difference: float  # reference minus against (raw, not direction-adjusted)
    p_value: float  # two-sided Wilcoxon signed-rank; nan if every pair ties or n < 2
    scale: float = 0.0  # the larger magnitude of the two means: what a tie of the means is relative to

    @property
    def significant(self) -> bool:
        return bool(self.p_value < SIGNIFICANCE)

    @property
    def better(self) -> bool:
        """The reference's mean is better in the metric's direction (not by rounding alone)."""
        return self._direction() > 0

    @property
    def worse(self) -> bool:
        return self._direction() < 0

    def _direction(self) -> int:
        d = 0.0 if abs(self.mean_difference) <= tie_tolerance(self.scale) else self.mean_difference
        return int(np.sign(d if higher_is_better(self.metric) else -d))


def tie_tolerance(magnitude: float | np.ndarray) -> float | np.ndarray:
    """The largest difference between two values of about ``magnitude`` that counts as a tie
    (:data:`TIE_RELATIVE`, :data:`TIE_ABSOLUTE`)."""
    return TIE_RELATIVE * np.abs(magnitude) + TIE_ABSOLUTE


def level_differences(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``x - y``, with 0 where the two are level within :func:`tie_tolerance` of the larger magnitude.

    Example:
        >>> level_differences(np.array([0.1 + 0.2, 1.0]), np.array([0.3, 0.5])).tolist()
        [0.0, 0.5]
    """
    differences = x - y
    return np.where(np.abs(differences) <= tie_tolerance(np.maximum(np.abs(x), np.abs(y))), 0.0, differences)


def _values(rows: list[Row]) -> dict[tuple[str, str], dict[str, float]]:
    """{(method, metric): {image: value}} of the finite values."""
    table: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for r in rows:
        if r.metric != SECONDS and np.isfinite(r.value):
            table[(r.method, r.metric)][r.image] = r.value
    return table


def _wilcoxon(differences: np.ndarray) -> float:
    """Two-sided p of the signed-rank test on ``differences`` less the ties (zeros, as
    :func:`level_differences` makes them): "wilcox" treatment, as scipy's default."""
    from scipy.stats import wilcoxon

    nonzero = differences[differences != 0]
    if len(nonzero) < 2:
        return float("nan")
    return float(wilcoxon(nonzero, alternative="two-sided").pvalue)


def paired_comparisons(rows: list[Row], reference: str, metrics: list[str] | None = None) -> list[PairedComparison]:
    """``reference`` against every other method in ``rows``, per metric, on their common images;
    values level within :func:`tie_tolerance` are ties, left out of the signed-rank test.

    Methods in first-seen order, then metrics in first-seen order (or ``metrics``'). Pairs with no
    common image are left out. A ``reference`` with no results is a :class:`CompareError`.
    """
    values = _values(rows)
    methods = list(dict.fromkeys(r.method for r in rows))
    if reference not in methods:
        raise CompareError(f"no results of {reference!r}; methods: {', '.join(methods)}")
    metrics = metrics or list(dict.fromkeys(r.metric for r in rows if r.metric != SECONDS))
    out = []
    for other in methods:
        if other == reference:
            continue
        for metric in metrics:
            ours, theirs = values.get((reference, metric), {}), values.get((other, metric), {})
            common = sorted(ours.keys() & theirs.keys())
            if not common:
                continue
            x = np.array([ours[i] for i in common])
            y = np.array([theirs[i] for i in common])
            differences = level_differences(x, y)  # a rounding apart is a tie
            signed = differences if higher_is_better(metric) else -differences
            out.append(PairedComparison(
                reference, other, metric, len(common), int((signed > 0).sum()), int((signed == 0).sum()),
                int((signed < 0).sum()), float(np.mean(x - y)), _wilcoxon(differences),
                float(max(abs(np.mean(x)), abs(np.mean(y))))))
    return out


def _counted(found: list[PairedComparison]) -> list[PairedComparison]:
    """The comparisons a summary counts: a metric that rescales another (SSIM-mean) counts once."""
    from defusion.metrics import distinct

    kept = set(distinct(c.metric for c in found))
    return [c for c in found if c.metric in kept]


def _stars(c: PairedComparison) -> str:
    if not np.isfinite(c.p_value):
        return ""
    return "**" if c.p_value < STRONG_SIGNIFICANCE else "*" if c.p_value < SIGNIFICANCE else ""


def versus_markdown(rows: list[Row], reference: str, title: str = "Benchmark") -> str:
    """Win/tie/loss counts of ``reference`` against each other method, per metric, with significance."""
    comparisons = paired_comparisons(rows, reference)
    by_method: dict[str, dict[str, PairedComparison]] = defaultdict(dict)
    for c in comparisons:
        by_method[c.against][c.metric] = c
    metrics = list(dict.fromkeys(c.metric for c in comparisons))
    arrows = [f"{m} {'↑' if higher_is_better(m) else '↓'}" for m in metrics]
    lines = [f"### {title}: {reference} against each method, image by image", "",
             f"Each cell: on how many images {reference} is better / level / worse than the row's method, in "
             "the metric's direction, over the images both have; * the paired difference is significant "
             f"(two-sided Wilcoxon signed-rank, p < {SIGNIFICANCE}), ** p < {STRONG_SIGNIFICANCE}. "
             f"Summary: the metrics where {reference}'s mean is better (significantly) / worse (significantly)"
             f"{_once_note(metrics)}. {_uncorrected_note(comparisons)}",
             "", "| against | images | better / worse (significantly) | " + " | ".join(arrows) + " |",
             "|---|---|---|" + "---|" * len(metrics)]
    fewest = min((c.n for c in comparisons), default=0)
    if fewest < MIN_PAIRS_FOR_SIGNIFICANCE:
        lines[2] += (f" With {plural(fewest, 'pair')} a two-sided Wilcoxon test cannot reach "
                     f"p < {SIGNIFICANCE} (it takes "
                     f"{MIN_PAIRS_FOR_SIGNIFICANCE}), however one-sided the counts: read those as counts only.")
    for other, cells in by_method.items():
        found = _counted(list(cells.values()))
        better = [c for c in found if c.better]
        worse = [c for c in found if c.worse]
        summary = (f"{len(better)} ({sum(c.significant for c in better)}) / "
                   f"{len(worse)} ({sum(c.significant for c in worse)}) of {len(found)}")
        images = sorted({c.n for c in found})
        counts = " | ".join(
            f"{cells[m].wins}/{cells[m].ties}/{cells[m].losses}{_stars(cells[m])}" if m in cells else ""
            for m in metrics)
        pairs = f"{images[0]}-{images[-1]}" if len(images) > 1 else f"{images[0]}"
        lines.append(f"| {other.replace('|', chr(92) + '|')} | {pairs}"
                     f" | {summary} | {counts} |")
    return "\n".join(lines) + "\n"


def _uncorrected_note(comparisons: list[PairedComparison]) -> str:
    """That the stars are per test, not corrected for the many tests of one table: with enough
    metrics and methods some differences are starred by chance alone."""
    tests = len(comparisons)
    methods = len({c.against for c in comparisons})
    metrics = len({c.metric for c in comparisons})
    return (f"The stars are not corrected for multiple comparisons ({tests} tests over "
            f"{plural(metrics, 'metric')} x {plural(methods, 'method')}): even with no "
            f"real difference about {SIGNIFICANCE:.0%} of "
            "them would be starred by chance.")


def rescaled_pairs(metrics: list[str]) -> list[str]:
    """"SSIM-mean and SSIM" for each metric of ``metrics`` that rescales another of them: the
    pairs a count or a mean rank weighs once, for notes under tables."""
    from defusion.metrics import METRICS, distinct

    return [f"{m} and {METRICS[m].same_as}" for m in metrics if m not in distinct(metrics)]


def _once_note(metrics: list[str]) -> str:
    twins = rescaled_pairs(metrics)
    return f" ({', '.join(twins)}, one measure on two scales, count once)" if twins else ""


def versus_summary(rows: list[Row], reference: str) -> list[str]:
    """One line per other method: where ``reference`` is better and worse on the mean, and how
    many of those differences are significant."""
    by_method: dict[str, list[PairedComparison]] = defaultdict(list)
    for c in paired_comparisons(rows, reference):
        by_method[c.against].append(c)
    lines = []
    for other, found in by_method.items():
        found = _counted(found)
        better = [c for c in found if c.better]
        worse = [c for c in found if c.worse]
        lines.append(f"{reference} vs {other}: better on {len(better)} of {len(found)} metrics "
                     f"({sum(c.significant for c in better)} significantly), worse on {len(worse)} "
                     f"({sum(c.significant for c in worse)} significantly)")
    return lines


#: versus.png's height (inches) for the title and metric names and per method row, and width per metric
#: column and for the method names.
VERSUS_HEADER_IN = 1.6
VERSUS_ROW_IN = 0.38
VERSUS_COLUMN_IN = 0.7
VERSUS_LABELS_IN = 1.0


def versus_chart(rows: list[Row], reference: str, path: str | Path, title: str = "Benchmark") -> None:
    """:func:`versus_markdown` as a picture: methods x metrics, each cell ``reference``'s wins-losses,
    starred where the difference is significant, on the share of images on which it is better (dark)
    or worse (light), on the colour-blind-safe scale of summary.png with a worded key
    (:func:`~defusion.benchmark.report.chart.heat_map`). Written atomically
    (:func:`defusion.benchmark.report.write_figure`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from defusion.benchmark.report import write_figure  # report imports this module
    from defusion.benchmark.report.chart import KEY_IN, LABEL_FONT_PT, SCALE, TITLE_FONT_PT, colour_key, heat_map

    comparisons = paired_comparisons(rows, reference)
    others = list(dict.fromkeys(c.against for c in comparisons))
    metrics = list(dict.fromkeys(c.metric for c in comparisons))
    share = np.full((len(others), len(metrics)), np.nan)
    texts = {}
    for c in comparisons:
        i, j = others.index(c.against), metrics.index(c.metric)
        share[i, j] = (c.wins + 0.5 * c.ties) / c.n
        texts[(i, j)] = f"{c.wins}-{c.losses}{_stars(c)}"
    fig, ax = plt.subplots(figsize=(VERSUS_LABELS_IN + KEY_IN + VERSUS_COLUMN_IN * len(metrics),
                                    VERSUS_HEADER_IN + VERSUS_ROW_IN * len(others)), layout="constrained")
    image = heat_map(ax, share, texts, f"{SCALE}_r", 0, 1)  # reversed: better (1) dark, as rank 1 in summary.png
    colour_key(fig, ax, image, {0: "worse on\nevery image", 0.5: "even", 1: "better on\nevery image"})
    ax.set_xticks(range(len(metrics)), [f"{m}{'↑' if higher_is_better(m) else '↓'}" for m in metrics],
                  rotation=45, ha="right", fontsize=LABEL_FONT_PT)
    ax.set_yticks(range(len(others)), others, fontsize=LABEL_FONT_PT)
    ax.set_title(f"{title}: {reference} better-worse on how many images (darker: {reference} better on more); "
                 f"* p<{SIGNIFICANCE}, ** p<{STRONG_SIGNIFICANCE}", fontsize=TITLE_FONT_PT)
    write_figure(fig, path)

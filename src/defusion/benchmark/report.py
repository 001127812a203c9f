"""Benchmark reports: a Markdown table, a chart and side-by-side grids."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from defusion.benchmark.compare import higher_is_better, rescaled_pairs
from defusion.benchmark.runner import SECONDS, Row
from defusion.io.notes import listed, plural
from defusion.io.sheets import GRID_TILE_HEIGHT, labelled_tile, tile_rows
from defusion.io.writing import write_bytes_atomically

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Marks a mean over fewer pairs than the method with the most on that metric (md, tex, chart note).
FEWER_PAIRS_MARK = "†"
#: Why a mean may cover fewer pairs, for the notes under the tables.
FEWER_PAIRS_CAUSES = ("results missing or unreadable, images too small for the metric, or the metric not "
                      "defined on a flat or constant image")


def mean_table(rows: list[Row]) -> tuple[list[str], list[str], dict[tuple[str, str], float]]:
    """(methods, metrics, {(method, metric): mean over images}), in first-seen order."""
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    methods, metrics = [], []
    for r in rows:
        if r.method not in methods:
            methods.append(r.method)
        if r.metric not in metrics:
            metrics.append(r.metric)
        if np.isfinite(r.value):
            values[(r.method, r.metric)].append(r.value)
    means = {k: float(np.mean(v)) for k, v in values.items()}
    return methods, [m for m in metrics if m != SECONDS], means


#: Degrees of freedom the standard deviation over pairs loses: 1, the sample standard deviation
#: (``numpy.std(ddof=1)``), the spread of a metric over the pairs as a sample of images; none of one pair.
STD_DDOF = 1
#: A standard deviation at most this fraction of its mean's magnitude is rounding noise of equal values
#: (``np.std`` of three 6.6s is 1.1e-15), reported as 0.
STD_NOISE = 1e-12


def std_table(rows: list[Row]) -> dict[tuple[str, str], float]:
    """{(method, metric): standard deviation over images} of the finite values (:data:`STD_DDOF`), the
    seconds per pair included; none where a method has a single value of a metric; 0 where the values
    are equal (:func:`_spread`).

    Example:
        >>> std_table([Row("a", "p1", "EN", 6.0), Row("a", "p2", "EN", 7.0), Row("b", "p1", "EN", 5.0)])
        {('a', 'EN'): 0.7071067811865476}
    """
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in rows:
        if np.isfinite(r.value):
            values[(r.method, r.metric)].append(r.value)
    return {k: _spread(v) for k, v in values.items() if len(v) > STD_DDOF}


def _spread(values: list[float]) -> float:
    """The standard deviation of ``values``, exactly 0 where they are equal or it is float noise
    (:data:`STD_NOISE`), so that identical scores do not show a spread such as 1.1e-15.

    Example:
        >>> _spread([6.6, 6.6, 6.6]), _spread([6.0, 7.0])
        (0.0, 0.7071067811865476)
    """
    std = float(np.std(values, ddof=STD_DDOF))
    return 0.0 if min(values) == max(values) or std <= STD_NOISE * abs(float(np.mean(values))) else std


def metric_ranks(values: dict[str, float], metric: str) -> dict[str, float]:
    """{method: rank} of ``values`` (one metric's means) in the metric's direction, 1 = best; tied
    values share the average of their ranks (``scipy.stats.rankdata``'s 'average'), so that a
    rank never depends on the methods' names or order."""
    from scipy.stats import rankdata

    names = list(values)
    signed = np.array([values[m] for m in names], dtype=float) * (-1 if higher_is_better(metric) else 1)
    return dict(zip(names, (float(r) for r in rankdata(signed, method="average"))))


def mean_ranks(methods: list[str], metrics: list[str], means: dict) -> dict[str, float]:
    """Each method's rank per metric (1 = best; ties share their average rank,
    :func:`metric_ranks`) averaged over the metrics every method has (a method scored on fewer
    metrics would otherwise rank on its best ones only); over the metrics each has where no
    metric is common to all. A metric that rescales another (SSIM-mean, SSIM) counts once
    (:func:`defusion.metrics.distinct`)."""
    from defusion.metrics import distinct

    metrics = distinct(metrics)
    common = [m for m in metrics if all((method, m) in means for method in methods)]
    ranks: dict[str, list[float]] = defaultdict(list)
    for metric in common or metrics:
        column = {m: means[(m, metric)] for m in methods if (m, metric) in means}
        for method, rank in metric_ranks(column, metric).items():
            ranks[method].append(rank)
    return {m: float(np.mean(r)) for m, r in ranks.items()}


def unranked(rows: list[Row]) -> set[str]:
    """The methods with results missing on some pairs: scored (any metric, a value that is not a
    number included) on fewer pairs than the method scored on the most. They get no mean rank and
    are listed after the ranked ones, since a rank from means over other pairs (a published method
    with results missing, say) would compare it with the others on its own subset and could put it
    first. A value not defined on a pair (NaN: a flat image) is no missing result: its mean is marked
    (:func:`fewer_pairs`) but its method keeps its rank, which one such pair could otherwise cost
    every method but the worst.

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
    """:func:`mean_ranks` among the methods of ``rows`` that are not :func:`unranked`; the others have none."""
    left_out = unranked(rows)
    return mean_ranks([m for m in methods if m not in left_out], metrics, means)


def ranked_order(methods: list[str], ranks: dict[str, float]) -> list[str]:
    """``methods`` by mean rank, then those without one (:func:`unranked`) in their first-seen order."""
    return sorted(methods, key=lambda m: (m not in ranks, ranks.get(m, 0.0)))


def value_counts(rows: list[Row]) -> dict[tuple[str, str], int]:
    """{(method, metric): how many pairs its mean is over} (finite values only)."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        if r.metric != SECONDS and np.isfinite(r.value):
            counts[(r.method, r.metric)] += 1
    return dict(counts)


def fewer_pairs(rows: list[Row]) -> set[tuple[str, str]]:
    """The (method, metric) means over fewer pairs than the method with the most on that metric:
    marked (:data:`FEWER_PAIRS_MARK`) and never called best or second, since a mean over other
    pairs is not comparable with the rest of its column."""
    counts = value_counts(rows)
    most: dict[str, int] = defaultdict(int)
    for (_, metric), n in counts.items():
        most[metric] = max(most[metric], n)
    return {(method, metric) for (method, metric), n in counts.items() if n < most[metric]}


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


def _once(metrics: list[str]) -> str:
    """The note that rescaled metrics count once in ranks, where some are."""
    twins = rescaled_pairs(metrics)
    return f"; {', '.join(twins)} count once: one measure on two scales" if twins else ""


#: The rank cell of a method without a mean rank (:func:`unranked`).
NO_RANK = "—"


def _fewer_pairs_rule(fewer: set[tuple[str, str]], awards: str, left_out: set[str],
                      rank: str = "gets no rank (—)") -> str:
    """The note that says what the mark means and that such means get no ``awards``, where some are
    marked, and that a method with results missing (``left_out``, :func:`unranked`) ``rank`` and is
    listed after the ranked ones, where there is one."""
    rule = (f" {FEWER_PAIRS_MARK} mean over fewer pairs than the method with the most on that metric; such a "
            f"mean is not marked {awards}." if fewer else "")
    if left_out:
        rule += f" A method with results missing on some pairs {rank} and is listed after the ranked ones."
    return rule


#: What the tables' rank column holds, before :func:`_once`'s note and the closing parenthesis.
_RANK_RULE = "rank = mean rank over the metrics (1 = best; over those every ranked method has"
#: What the tables' cells hold, by ``std`` (:func:`summary_markdown`, :func:`summary_latex`).
_CELLS = {False: "mean over pairs", True: "mean ± standard deviation over pairs"}
#: The same in the LaTeX caption, before the number of pairs.
_LATEX_CELLS = {False: "mean over", True: r"mean $\pm$ standard deviation over"}


def summary_markdown(rows: list[Row], title: str = "Benchmark", sources: tuple[str, str] | None = None,
                     std: bool = False) -> str:
    """Mean per method and metric, best in bold (by the value as printed: means that print alike are
    both bold, as in :func:`summary_latex`), mean rank, seconds per pair; ``sources``: the
    folders of the first and second sources, named in the caption; ``std``: each mean followed by
    ``± `` its standard deviation over pairs (:func:`std_table`; the best still by the mean).

    Example:
        >>> rows = [Row("a", "p1", "EN", 6.0), Row("a", "p2", "EN", 7.0)]
        >>> summary_markdown(rows, "t", std=True).splitlines()[-1]
        '| a | 1.00 | 6.5 ± 0.707 |  |'
    """
    methods, metrics, means = mean_table(rows)
    stds = std_table(rows) if std else {}
    ranks = table_ranks(rows, methods, metrics, means)
    fewer = fewer_pairs(rows)
    images = {r.image for r in rows}
    order = ranked_order(methods, ranks)
    arrows = [f"{m} {'↑' if higher_is_better(m) else '↓'}" for m in metrics]
    lines = [f"### {title}", "", f"{pairs_phrase(len(images), sources, title)}; {_CELLS[std]}; best in **bold**; "
             f"{_RANK_RULE}{_once(metrics)})."
             f"{_fewer_pairs_rule(fewer, 'best', unranked(rows))}", "",
             "| method | rank | " + " | ".join(arrows) + " | s/pair |",
             "|---|---|" + "---|" * len(metrics) + "---|"]
    best = {}
    for metric in metrics:
        scored = [_markdown_shown(means[(m, metric)]) for m in methods
                  if (m, metric) in means and (m, metric) not in fewer]
        if len(scored) > 1:  # "best" of one method says nothing
            best[metric] = max(scored) if higher_is_better(metric) else min(scored)
    for method in order:
        cells = []
        for metric in metrics:
            v = means.get((method, metric))
            text = "" if v is None else f"{v:.{MARKDOWN_DIGITS}g}"
            if (method, metric) in fewer:
                text += FEWER_PAIRS_MARK
            elif v is not None and _markdown_shown(v) == best.get(metric):
                text = f"**{text}**"
            if (method, metric) in stds:
                text += f" ± {_markdown_std(stds[(method, metric)], v)}"
            cells.append(text)
        seconds = means.get((method, SECONDS))
        rank = f"{ranks[method]:.2f}" if method in ranks else NO_RANK
        lines.append(f"| {method.replace('|', chr(92) + '|')} | {rank} | "
                     + " | ".join(cells)
                     + f" | {'' if seconds is None else f'{seconds:.3g}'} |")
    notes = coverage_notes(rows)
    if notes:
        lines += ["", f"Means over fewer pairs ({FEWER_PAIRS_CAUSES}): " + "; ".join(notes)
                  + ". Compare such methods image by image (versus.md)."]
    return "\n".join(lines) + "\n"


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


def images_per_method(rows: list[Row]) -> dict[str, int]:
    """How many images each method has any score on."""
    seen: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        if r.metric != SECONDS:
            seen[r.method].add(r.image)
    return {m: len(images) for m, images in seen.items()}


#: Significant digits of the means in summary.md (``.4g``: scientific under 1e-4 and from 1e4 on).
MARKDOWN_DIGITS = 4


def _markdown_shown(value: float) -> float:
    """``value`` as summary.md shows it (:data:`MARKDOWN_DIGITS`), so that the best goes by what is
    shown: two means that print alike are both bold, as in summary.tex (:func:`_latex_shown`).

    Example:
        >>> _markdown_shown(57.42014) == _markdown_shown(57.42006), _markdown_shown(1.79946e-07)
        (True, 1.799e-07)
    """
    return float(f"{value:.{MARKDOWN_DIGITS}g}")


def _markdown_std(std: float, mean: float) -> str:
    """``std`` as shown after ``mean`` in summary.md: in fixed notation to the decimals the mean has at
    :data:`MARKDOWN_DIGITS` significant digits (trailing zeros dropped, as ``.4g`` drops the mean's), so
    that it reads on the mean's scale; in scientific notation only where the mean is.

    Example:
        >>> _markdown_std(346.62, 733.3), _markdown_std(0.5, 5.5), _markdown_std(0.0, 6.6)
        ('346.6', '0.5', '0')
        >>> _markdown_std(2.1e-07, 4.868e-07)
        '2.1e-07'
    """
    if "e" in f"{mean:.{MARKDOWN_DIGITS}g}":
        return f"{std:.{MARKDOWN_DIGITS}g}"
    text = f"{std:.{_places(abs(mean) or 1.0, MARKDOWN_DIGITS)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _places(top: float, digits: int) -> int:
    """Decimal places that give the magnitude ``top`` (> 0) ``digits`` significant digits."""
    return int(max(0, digits - 1 - np.floor(np.log10(top))))


#: Significant digits of the LaTeX table's numbers, and the most decimal places a column shows them
#: with: a column whose largest value needs more (all under 0.001, say Nabf's 4.868e-07) is written
#: in scientific notation, not as 0.000000 and 0.000069.
LATEX_DIGITS = 4
LATEX_MAX_PLACES = 6
#: The fewest significant digits a number of summary.tex shows in fixed notation: one that would show
#: fewer at its column's decimals (Nabf's 6.226e-05 in a column of 5, from its largest 0.01333: 0.00006)
#: is in scientific notation, so that close values do not print, and rank, as a tie.
LATEX_MIN_DIGITS = 2


def _decimals(values: list[float], digits: int = LATEX_DIGITS) -> int | None:
    """Decimal places that give the column's largest magnitude ``digits`` significant digits; None
    where that takes more than :data:`LATEX_MAX_PLACES` (the column is then in scientific notation).

    Example:
        >>> _decimals([0.61, 0.5]), _decimals([58.2, 60.0]), _decimals([4.868e-07, 6.913e-05])
        (4, 2, None)
    """
    places = _places(max((abs(v) for v in values if v), default=1.0), digits)
    return places if places <= LATEX_MAX_PLACES else None


def _fixed(value: float, places: int | None) -> str | None:
    """``value`` to ``places`` decimals where that shows at least :data:`LATEX_MIN_DIGITS` significant
    digits, or it is 0, or 1 or more (its whole digits show its size: 7.0 in a column of 100.1); None
    where it does not, or ``places`` is None: scientific notation then.

    Example:
        >>> _fixed(0.01333, 5), _fixed(6.226e-05, 5), _fixed(0.000996, 5), _fixed(0.0, 5), _fixed(7.0, 1)
        ('0.01333', None, '0.00100', '0.00000', '7.0')
    """
    if places is None:
        return None
    text = f"{value:.{places}f}"
    digits = text.lstrip("-").replace(".", "").lstrip("0")  # 0.00100: 100
    return text if value == 0 or abs(value) >= 1 or len(digits) >= LATEX_MIN_DIGITS else None


def _latex_number(value: float, places: int | None) -> str:
    r"""``value`` to ``places`` decimals; in scientific notation to :data:`LATEX_DIGITS` significant
    digits where ``places`` is None (:func:`_decimals`) or they would show fewer than
    :data:`LATEX_MIN_DIGITS` (:func:`_fixed`), 0 included.

    Example:
        >>> _latex_number(0.61234, 4), _latex_number(4.8677e-07, None), _latex_number(4.8677e-07, 4)
        ('0.6123', '$4.868\\times10^{-7}$', '$4.868\\times10^{-7}$')
        >>> _latex_number(0.01333, 5), _latex_number(6.226e-05, 5)
        ('0.01333', '$6.226\\times10^{-5}$')
    """
    if value == 0 and places is None:
        return "0"
    text = _fixed(value, places)
    if text is not None:
        return text
    mantissa, exponent = f"{value:.{LATEX_DIGITS - 1}e}".split("e")
    return f"${mantissa}\\times10^{{{int(exponent)}}}$"


def _latex_std(std: float, places: int | None, mean: float | None = None) -> str:
    r"""``std`` as shown after its ``mean`` in summary.tex: to the column's ``places`` decimals, even where
    that shows 0 (a spread below the column's precision is none worth printing); in scientific notation
    only where its mean is (a column that is, ``places`` None, :func:`_decimals`, or a mean too small
    for the column's decimals, :func:`_fixed`), so that it reads on the mean's scale.

    Example:
        >>> _latex_std(4e-04, 3), _latex_std(1.5e-07, None), _latex_std(0.0, 3)
        ('0.000', '$1.500\\times10^{-7}$', '0.000')
        >>> _latex_std(2.1e-05, 5, mean=6.226e-05)
        '$2.100\\times10^{-5}$'
    """
    if places is None or (mean is not None and _fixed(mean, places) is None):
        return _latex_number(std, None)
    return f"{std:.{places}f}"


def _latex_shown(value: float, places: int | None) -> float:
    """``value`` as :func:`_latex_number` shows it, so that best and second go by what is shown: to
    ``places`` decimals, or to :data:`LATEX_DIGITS` significant digits where it is in scientific notation
    (``places`` None, or a value they would show with fewer than :data:`LATEX_MIN_DIGITS`, :func:`_fixed`):
    1.8e-07 and 5.2e-07 in a column of 5 decimals are not a tie at 0, nor 5.6e-05 and 6.4e-05 at 0.00006.

    Example:
        >>> _latex_shown(0.684531, 4) == _latex_shown(0.684512, 4), _latex_shown(1.79946e-07, 5)
        (True, 1.799e-07)
        >>> _latex_shown(5.6e-05, 5) == _latex_shown(6.4e-05, 5)
        False
    """
    text = _fixed(value, places)
    return float(text) if text is not None else float(f"{value:.{LATEX_DIGITS - 1}e}")


#: LaTeX's special characters in running text and what prints them.
_LATEX_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                   "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                   "|": r"\textbar{}", FEWER_PAIRS_MARK: r"$^\dagger$", NO_RANK: "---"}


def _latex_escape(text: str) -> str:
    r"""``text`` as LaTeX prints it, every special character escaped in one pass.

    Example:
        >>> print(_latex_escape(r"a_b & 100% {x} \ ~^|"))
        a\_b \& 100\% \{x\} \textbackslash{} \textasciitilde{}\textasciicircum{}\textbar{}
    """
    return "".join(_LATEX_SPECIALS.get(char, char) for char in text)


def summary_latex(rows: list[Row], title: str = "Benchmark", sources: tuple[str, str] | None = None,
                  std: bool = False) -> str:
    """The summary as a LaTeX table (booktabs, and graphicx for its \\resizebox): methods by mean
    rank, in a column as in summary.md (:data:`NO_RANK` for a method with results missing, :func:`unranked`),
    best **bold**, second underlined (both by the value as printed, :func:`_latex_shown`), each column to
    four significant digits (a column of values under 0.001 in scientific notation, :func:`_decimals`, and
    a value that would show fewer than :data:`LATEX_MIN_DIGITS` at its column's decimals, :func:`_fixed`);
    the caption gives the number of pairs and, where given, ``sources`` (the first and second sources'
    folders); ``std``: each mean followed by ``$\\pm$`` its standard deviation over pairs
    (:func:`std_table`), to the column's decimals; paste it into a paper."""
    methods, metrics, means = mean_table(rows)
    stds = std_table(rows) if std else {}
    ranks = table_ranks(rows, methods, metrics, means)
    fewer = fewer_pairs(rows)
    order = ranked_order(methods, ranks)
    images = {r.image for r in rows}
    header = " & ".join(f"{_latex_escape(m)}$\\{'uparrow' if higher_is_better(m) else 'downarrow'}$"
                        for m in metrics)
    rules = _latex_escape(f"{_RANK_RULE}{_once(metrics)}).{_fewer_pairs_rule(fewer, 'best or second', unranked(rows))}")
    lines = ["% written by defusion bench; needs \\usepackage{booktabs} and \\usepackage{graphicx} (\\resizebox)",
             "\\begin{table}[t]", "\\centering",
             f"\\caption{{{_latex_escape(title)}: {_LATEX_CELLS[std]} "
             f"{_latex_escape(pairs_phrase(len(images), sources, title))}; "
             f"best in bold, second underlined; {rules}}}",
             "\\resizebox{\\linewidth}{!}{%",
             f"\\begin{{tabular}}{{lr{'r' * len(metrics)}}}", "\\toprule", f"Method & Rank & {header} \\\\",
             "\\midrule"]
    cells: dict[str, list[str]] = {m: [] for m in order}
    for metric in metrics:
        column = {m: means[(m, metric)] for m in order if (m, metric) in means}
        places = _decimals(list(column.values()))
        eligible = [_latex_shown(v, places) for m, v in column.items() if (m, metric) not in fewer]
        ranked = sorted(set(eligible), reverse=higher_is_better(metric))
        for m in order:
            if m not in column:
                cells[m].append("--")
                continue
            text = _latex_number(column[m], places)
            shown = _latex_shown(column[m], places)
            if (m, metric) in fewer:
                text += _latex_escape(FEWER_PAIRS_MARK)
            elif len(eligible) > 1 and shown == ranked[0]:
                text = f"\\textbf{{{text}}}"
            elif len(eligible) > 2 and len(ranked) > 1 and shown == ranked[1]:  # second of three or more
                text = f"\\underline{{{text}}}"
            if (m, metric) in stds:
                text += f" $\\pm$ {_latex_std(stds[(m, metric)], places, column[m])}"
            cells[m].append(text)
    for m in order:
        rank = f"{ranks[m]:.2f}" if m in ranks else _latex_escape(NO_RANK)
        lines.append(f"{_latex_escape(m)} & {rank} & " + " & ".join(cells[m]) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}}"]
    notes = coverage_notes(rows)
    if notes:
        lines.append(f"\\par\\footnotesize Means over fewer pairs ({FEWER_PAIRS_CAUSES}): "
                     + _latex_escape("; ".join(notes)) + ".")
    if "SSIM" in metrics:
        lines.append("\\par\\footnotesize SSIM: SSIM(A,F)+SSIM(B,F), VIFB's convention (at most 2).")
    if "PSNR" in metrics or "RMSE" in metrics:
        lines.append("\\par\\footnotesize PSNR, RMSE: VIFB's definitions, from $\\sqrt{\\mathrm{SSE}}/(HW)$ "
                     "in place of the mean squared error (so PSNR about 53--62 dB); PSNR-standard and "
                     "RMSE-standard are the textbook ones.")
    lines.append("\\end{table}")
    return "\n".join(lines) + "\n"


def means_csv(rows: list[Row], path: Path) -> None:
    """One row per method (by mean rank): its mean rank (blank for a method with a mean over fewer pairs,
    :func:`unranked`, listed last), number of images, mean of every metric and seconds per pair: the
    table for a spreadsheet. Written atomically (a full disk leaves the old file)."""
    _per_method_csv(rows, path, mean_table(rows)[2])


def stds_csv(rows: list[Row], path: Path) -> None:
    """means.csv's companion: the same rows and columns, each metric's (and the seconds') standard
    deviation over pairs (:func:`std_table`; blank for a method with one value) in place of its mean,
    so that mean ± standard deviation can be reported. Written atomically."""
    _per_method_csv(rows, path, std_table(rows))


def _per_method_csv(rows: list[Row], path: Path, values: dict[tuple[str, str], float]) -> None:
    """The layout of means.csv and stds.csv: one row per method by mean rank (blank for an unranked
    one, listed last), its number of images, then ``values`` of every metric and of the seconds."""
    methods, metrics, means = mean_table(rows)
    ranks = table_ranks(rows, methods, metrics, means)
    counts = images_per_method(rows)
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["method", "rank", "images", *metrics, SECONDS])
    for m in ranked_order(methods, ranks):
        cells = [values.get((m, k)) for k in [*metrics, SECONDS]]
        writer.writerow([m, f"{ranks[m]:.3f}" if m in ranks else "", counts.get(m, 0),
                         *("" if v is None else f"{v:.6g}" for v in cells)])
    write_bytes_atomically(path, text.getvalue().encode())


def write_figure(fig: Figure, path: str | Path, dpi: int = 110) -> None:
    """Render a matplotlib figure (in the format ``path``'s suffix names), close it, and write it
    atomically: a full disk leaves the old chart whole, not a partial one."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format=Path(path).suffix.lstrip(".").lower() or None, dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    write_bytes_atomically(path, buffer.getvalue())


#: Summary chart height (inches) for the title and metric names, and per method row.
_CHART_HEADER_IN = 1.6
_CHART_ROW_IN = 0.38
#: Half a heat-map cell, in data units (cells are centred on whole numbers).
_HALF_CELL = 0.5


def summary_chart(rows: list[Row], path: Path, title: str = "Benchmark") -> None:
    """A rank heat map (methods x metrics, annotated with the means): the table at a glance."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from matplotlib.patches import Rectangle

    methods, metrics, means = mean_table(rows)
    ranks_by = table_ranks(rows, methods, metrics, means)
    fewer = fewer_pairs(rows)
    order = ranked_order(methods, ranks_by)
    grid = np.full((len(order), len(metrics)), np.nan)
    for j, metric in enumerate(metrics):
        column = {m: means[(m, metric)] for m in order if (m, metric) in means}
        for m, rank in metric_ranks(column, metric).items():
            grid[order.index(m), j] = rank
    # Room for the title and the rotated metric names whatever the number of rows (one method
    # alone left them no room: labels cut off).
    fig, ax = plt.subplots(figsize=(1.0 + 0.75 * len(metrics), _CHART_HEADER_IN + _CHART_ROW_IN * len(order)),
                           layout="constrained")
    ax.imshow(grid, cmap="RdYlGn_r", aspect="auto", vmin=1, vmax=max(len(order), 2))
    for i, m in enumerate(order):
        for j, metric in enumerate(metrics):
            v = means.get((m, metric))
            if v is not None:
                short = (m, metric) in fewer
                ax.text(j, i, f"{v:.3g}{FEWER_PAIRS_MARK if short else ''}", ha="center", va="center", fontsize=7)
                if short:
                    ax.add_patch(Rectangle((j - _HALF_CELL, i - _HALF_CELL), 2 * _HALF_CELL, 2 * _HALF_CELL,
                                           fill=False, hatch="///", edgecolor="grey", linewidth=0))
    ax.set_xticks(range(len(metrics)), [f"{m}{'↑' if higher_is_better(m) else '↓'}" for m in metrics],
                  rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(order)), [f"{m} ({f'{ranks_by[m]:.2f}' if m in ranks_by else NO_RANK})" for m in order],
                  fontsize=8)
    hatched = (f"\nhatched {FEWER_PAIRS_MARK}: mean over fewer pairs than the method with the most; "
               "not comparable with its column" if fewer else "")
    if unranked(rows):
        hatched += f"\n({NO_RANK}): results missing on some pairs, not ranked"
    ax.set_title(f"{title}: mean per metric, colour = rank (green best); (mean rank){hatched}", fontsize=9)
    write_figure(fig, path)


def comparison_grid(a: np.ndarray, b: np.ndarray, outputs: dict[str, np.ndarray], columns: int = 6) -> Image.Image:
    """Sources first, then every method's result, labelled, in rows of ``columns``."""
    tiles = [labelled_tile(a, "A"), labelled_tile(b, "B")]
    tiles += [labelled_tile(im, name) for name, im in outputs.items()]
    tiles = [t.resize((tiles[0].width, GRID_TILE_HEIGHT)) for t in tiles]  # every tile the first's size
    return tile_rows([tiles[i:i + columns] for i in range(0, len(tiles), columns)])

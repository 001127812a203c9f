"""Benchmark reports: a Markdown table, a chart and side-by-side grids."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from defusion.benchmark.compare import higher_is_better, rescaled_pairs
from defusion.benchmark.runner import SECONDS, Row

#: Height of each tile in a comparison grid.
GRID_TILE_HEIGHT = 240


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


def mean_ranks(methods: list[str], metrics: list[str], means: dict) -> dict[str, float]:
    """Each method's rank per metric (1 = best) averaged over the metrics every method has (a
    method scored on fewer metrics would otherwise rank on its best ones only); over the metrics
    each has where no metric is common to all. A metric that rescales another (SSIM-mean, SSIM)
    counts once (:func:`defusion.metrics.distinct`)."""
    from defusion.metrics import distinct

    metrics = distinct(metrics)
    common = [m for m in metrics if all((method, m) in means for method in methods)]
    ranks: dict[str, list[float]] = defaultdict(list)
    for metric in common or metrics:
        scored = [(means[(m, metric)], m) for m in methods if (m, metric) in means]
        scored.sort(reverse=higher_is_better(metric))
        for rank, (_, method) in enumerate(scored, start=1):
            ranks[method].append(rank)
    return {m: float(np.mean(r)) for m, r in ranks.items()}


def _once(metrics: list[str]) -> str:
    """The note that rescaled metrics count once in ranks, where some are."""
    twins = rescaled_pairs(metrics)
    return f"; {', '.join(twins)} count once: one measure on two scales" if twins else ""


def summary_markdown(rows: list[Row], title: str = "Benchmark") -> str:
    """Mean per method and metric, best in bold, mean rank, seconds per pair."""
    methods, metrics, means = mean_table(rows)
    ranks = mean_ranks(methods, metrics, means)
    images = {r.image for r in rows}
    order = sorted(methods, key=lambda m: ranks.get(m, 1e9))
    arrows = [f"{m} {'↑' if higher_is_better(m) else '↓'}" for m in metrics]
    pairs = f"{len(images)} image pair{'' if len(images) == 1 else 's'}"
    lines = [f"### {title}", "", f"{pairs}; mean over pairs; best in **bold**; "
             f"rank = mean rank over the metrics (1 = best; over those every method has{_once(metrics)}).", "",
             "| method | rank | " + " | ".join(arrows) + " | s/pair |",
             "|---|---|" + "---|" * len(metrics) + "---|"]
    best = {}
    for metric in metrics:
        scored = [means[(m, metric)] for m in methods if (m, metric) in means]
        if len(scored) > 1:  # "best" of one method says nothing
            best[metric] = max(scored) if higher_is_better(metric) else min(scored)
    for method in order:
        cells = []
        for metric in metrics:
            v = means.get((method, metric))
            text = "" if v is None else f"{v:.4g}"
            cells.append(f"**{text}**" if v is not None and v == best.get(metric) else text)
        seconds = means.get((method, SECONDS))
        lines.append(f"| {method.replace('|', chr(92) + '|')} | {ranks.get(method, float('nan')):.2f} | "
                     + " | ".join(cells)
                     + f" | {'' if seconds is None else f'{seconds:.3g}'} |")
    notes = coverage_notes(rows)
    if notes:
        lines += ["", "Means over fewer pairs (results missing or unreadable, or images too small for the "
                  "metric): " + "; ".join(notes) + ". Compare such methods image by image (versus.md)."]
    return "\n".join(lines) + "\n"


def coverage_notes(rows: list[Row]) -> list[str]:
    """Where a mean is over fewer than all the pairs: a method with results missing
    (``"gff: 19 of 21 pairs"``), or a metric not computed on some pairs (``"MS-SSIM: 1 of 2
    pairs"``, or per method when they differ)."""
    images = {r.image for r in rows if r.metric != SECONDS}
    per_method = images_per_method(rows)
    notes = [f"{m}: {n} of {len(images)} pairs" for m, n in per_method.items() if n < len(images)]
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        if r.metric != SECONDS and np.isfinite(r.value):
            counts[(r.method, r.metric)] += 1
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


def _decimals(values: list[float], digits: int = 4) -> int:
    """Decimal places that give the column's largest magnitude ``digits`` significant digits."""
    top = max((abs(v) for v in values if v), default=1.0)
    return int(min(6, max(0, digits - 1 - np.floor(np.log10(top)))))


def _latex_number(value: float, places: int) -> str:
    """``value`` to ``places`` decimals, or in scientific notation where that would show 0."""
    text = f"{value:.{places}f}"
    if value != 0 and float(text) == 0:
        mantissa, exponent = f"{value:.1e}".split("e")
        return f"${mantissa}\\times10^{{{int(exponent)}}}$"
    return text


#: LaTeX's special characters in running text and what prints them.
_LATEX_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                   "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _latex_escape(text: str) -> str:
    r"""``text`` as LaTeX prints it, every special character escaped in one pass.

    Example:
        >>> print(_latex_escape(r"a_b & 100% {x} \ ~^"))
        a\_b \& 100\% \{x\} \textbackslash{} \textasciitilde{}\textasciicircum{}
    """
    return "".join(_LATEX_SPECIALS.get(char, char) for char in text)


def summary_latex(rows: list[Row], title: str = "Benchmark") -> str:
    """The summary as a LaTeX table (booktabs): methods by mean rank, best **bold**, second
    underlined, each column to four significant digits; paste it into a paper."""
    methods, metrics, means = mean_table(rows)
    ranks = mean_ranks(methods, metrics, means)
    order = sorted(methods, key=lambda m: ranks.get(m, 1e9))
    header = " & ".join(f"{_latex_escape(m)}$\\{'uparrow' if higher_is_better(m) else 'downarrow'}$"
                        for m in metrics)
    lines = ["% written by defusion bench; needs \\usepackage{booktabs}",
             "\\begin{table}[t]", "\\centering", f"\\caption{{{_latex_escape(title)}: mean over image pairs; "
             "best in bold, second underlined.}", "\\resizebox{\\linewidth}{!}{%",
             f"\\begin{{tabular}}{{l{'r' * len(metrics)}}}", "\\toprule", f"Method & {header} \\\\", "\\midrule"]
    cells: dict[str, list[str]] = {m: [] for m in order}
    for metric in metrics:
        column = {m: means[(m, metric)] for m in order if (m, metric) in means}
        places = _decimals(list(column.values()))
        ranked = sorted(set(round(v, places) for v in column.values()), reverse=higher_is_better(metric))
        for m in order:
            if m not in column:
                cells[m].append("--")
                continue
            text = _latex_number(column[m], places)
            shown = round(column[m], places)
            if len(column) > 1 and shown == ranked[0]:
                text = f"\\textbf{{{text}}}"
            elif len(column) > 2 and len(ranked) > 1 and shown == ranked[1]:  # second of three or more
                text = f"\\underline{{{text}}}"
            cells[m].append(text)
    for m in order:
        lines.append(f"{_latex_escape(m)} & " + " & ".join(cells[m]) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}}"]
    notes = coverage_notes(rows)
    if notes:
        lines.append("\\par\\footnotesize Means over fewer pairs: " + _latex_escape("; ".join(notes)) + ".")
    if "SSIM" in metrics:
        lines.append("\\par\\footnotesize SSIM: SSIM(A,F)+SSIM(B,F), VIFB's convention (at most 2).")
    lines.append("\\end{table}")
    return "\n".join(lines) + "\n"


def means_csv(rows: list[Row], path: Path) -> None:
    """One row per method (by mean rank): its mean rank, number of images, mean of every metric and
    seconds per pair: the table for a spreadsheet."""
    import csv

    methods, metrics, means = mean_table(rows)
    ranks = mean_ranks(methods, metrics, means)
    counts = images_per_method(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["method", "rank", "images", *metrics, SECONDS])
        for m in sorted(methods, key=lambda m: ranks.get(m, 1e9)):
            values = [means.get((m, k)) for k in [*metrics, SECONDS]]
            writer.writerow([m, f"{ranks.get(m, float('nan')):.3f}", counts.get(m, 0),
                             *("" if v is None else f"{v:.6g}" for v in values)])


#: Summary chart height (inches) for the title and metric names, and per method row.
_CHART_HEADER_IN = 1.6
_CHART_ROW_IN = 0.38


def summary_chart(rows: list[Row], path: Path, title: str = "Benchmark") -> None:
    """A rank heat map (methods x metrics, annotated with the means): the table at a glance."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods, metrics, means = mean_table(rows)
    ranks_by = mean_ranks(methods, metrics, means)
    order = sorted(methods, key=lambda m: ranks_by.get(m, 1e9))
    grid = np.full((len(order), len(metrics)), np.nan)
    for j, metric in enumerate(metrics):
        scored = sorted(((means[(m, metric)], m) for m in order if (m, metric) in means),
                        reverse=higher_is_better(metric))
        for rank, (_, m) in enumerate(scored, start=1):
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
                ax.text(j, i, f"{v:.3g}", ha="center", va="center", fontsize=7)
    ax.set_xticks(range(len(metrics)), [f"{m}{'↑' if higher_is_better(m) else '↓'}" for m in metrics],
                  rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(order)), [f"{m} ({ranks_by[m]:.2f})" for m in order], fontsize=8)
    ax.set_title(f"{title}: mean per metric, colour = rank (green best); (mean rank)", fontsize=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def labelled_tile(image: np.ndarray, label: str) -> Image.Image:
    """``image`` scaled to the grid height with ``label`` in its top-left corner."""
    im = Image.fromarray(image if image.ndim == 3 else np.dstack([image] * 3))
    width = max(1, round(im.width * GRID_TILE_HEIGHT / im.height))
    im = im.resize((width, GRID_TILE_HEIGHT), Image.BILINEAR)
    draw = ImageDraw.Draw(im)
    box = draw.textbbox((4, 4), label)
    draw.rectangle((box[0] - 3, box[1] - 3, box[2] + 3, box[3] + 3), fill=(0, 0, 0))
    draw.text((4, 4), label, fill=(255, 255, 255))
    return im


def tile_rows(rows: list[list[Image.Image]]) -> Image.Image:
    """Rows of tiles side by side, stacked top to bottom on white (the widest row sets the width)."""
    width = max(sum(t.width for t in row) for row in rows)
    sheet = Image.new("RGB", (width, sum(max(t.height for t in row) for row in rows)), (255, 255, 255))
    top = 0
    for row in rows:
        left = 0
        for tile in row:
            sheet.paste(tile, (left, top))
            left += tile.width
        top += max(t.height for t in row)
    return sheet


def comparison_grid(a: np.ndarray, b: np.ndarray, outputs: dict[str, np.ndarray], columns: int = 6) -> Image.Image:
    """Sources first, then every method's result, labelled, in rows of ``columns``."""
    tiles = [labelled_tile(a, "A"), labelled_tile(b, "B")]
    tiles += [labelled_tile(im, name) for name, im in outputs.items()]
    width = tiles[0].width
    rows = -(-len(tiles) // columns)
    sheet = Image.new("RGB", (width * min(columns, len(tiles)), GRID_TILE_HEIGHT * rows), (255, 255, 255))
    for i, t in enumerate(tiles):
        sheet.paste(t.resize((width, GRID_TILE_HEIGHT)), ((i % columns) * width, (i // columns) * GRID_TILE_HEIGHT))
    return sheet

"""summary.png: the benchmark's table at a glance, a heat map of each method's rank per metric
annotated with its means; and :func:`write_figure`, which writes any of the run's matplotlib charts."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from defusion.benchmark.compare import higher_is_better
from defusion.benchmark.report.captions import FEWER_PAIRS_MARK, NO_RANK
from defusion.benchmark.report.means import fewer_pairs, mean_table
from defusion.benchmark.report.ranks import column_ranks, ranked_order, table_ranks, unranked
from defusion.benchmark.results_csv import Row
from defusion.io.writing import write_bytes_atomically

if TYPE_CHECKING:
    from matplotlib.figure import Figure


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
#: The colour of a cell in no ranking (an unranked method's means): a light grey, on
#: no point of the green-to-red rank scale, so that such a mean never looks best or worst.
_NEUTRAL = "lightgrey"


def summary_chart(rows: list[Row], path: Path, title: str = "Benchmark") -> None:
    """A rank heat map (methods x metrics, annotated with the means): the table at a glance, each metric's
    means coloured by their rank as the tables rank them (:func:`column_ranks`): a mean over fewer pairs
    (hatched) is coloured by its rank after the full means of its column; an unranked method's means are
    grey, in no colour of the scale, as they are never bold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from matplotlib.patches import Rectangle

    methods, metrics, means = mean_table(rows)
    ranks_by = table_ranks(rows, methods, metrics, means)
    fewer = fewer_pairs(rows)
    left_out = unranked(rows)
    order = ranked_order(methods, ranks_by)
    ranked = [m for m in order if m not in left_out]
    worst = max(len(ranked), 2)  # the red end of the scale
    grid = np.full((len(order), len(metrics)), np.nan)  # NaN: no colour (_NEUTRAL)
    for j, metric in enumerate(metrics):
        # coloured as the tables rank: a mean over fewer pairs, or an unranked method's, is in no ranking;
        # a column that leaves one out spread over the whole scale, so that its last is red as the others'
        column = column_ranks(ranked, metric, means, fewer)
        spread = (worst - 1) / (len(column) - 1) if len(column) > 1 else 1.0
        for m, rank in column.items():
            grid[order.index(m), j] = 1 + (rank - 1) * spread
    # Room for the title and the rotated metric names whatever the number of rows (one method
    # alone left them no room: labels cut off).
    fig, ax = plt.subplots(figsize=(1.0 + 0.75 * len(metrics), _CHART_HEADER_IN + _CHART_ROW_IN * len(order)),
                           layout="constrained")
    colours = matplotlib.colormaps["RdYlGn_r"].with_extremes(bad=_NEUTRAL)
    ax.imshow(grid, cmap=colours, aspect="auto", vmin=1, vmax=worst)
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
               "ranked after the full means of its column" if fewer else "")
    if left_out:
        hatched += f"\n({NO_RANK}): results missing on some pairs, not ranked (grey)"
    ax.set_title(f"{title}: mean per metric, colour = rank (green best); (mean rank){hatched}", fontsize=9)
    write_figure(fig, path)

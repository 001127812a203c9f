"""Benchmark reports: the tables of a run's means and ranks (summary.md, summary.tex, means.csv and
stds.csv), its chart (summary.png) and side-by-side grids, each in its own module; their public names
stay importable from here.

- :mod:`~defusion.benchmark.report.means`: means, standard deviations and pair counts per method and metric.
- :mod:`~defusion.benchmark.report.ranks`: ranks per metric (a mean over fewer pairs ranked after the full ones), mean ranks,
  and which methods get none.
- :mod:`~defusion.benchmark.report.captions`: the marks, caption phrases and notes the tables share.
- :mod:`~defusion.benchmark.report.number_format`: how the tables print numbers (digits, decimals).
- :mod:`~defusion.benchmark.report.markdown_table`: summary.md.
- :mod:`~defusion.benchmark.report.latex_table`: summary.tex.
- :mod:`~defusion.benchmark.report.csv_tables`: means.csv and stds.csv, and metrics.csv (which way is better).
- :mod:`~defusion.benchmark.report.chart`: summary.png, and writing any chart atomically.
- :mod:`~defusion.benchmark.report.grid`: a pair's comparison grid (tiles from :mod:`defusion.io.sheets`;
  a grey placeholder for a method with no result of the pair).
"""

from __future__ import annotations

from defusion.benchmark.report.captions import (FEWER_PAIRS_CAUSES, FEWER_PAIRS_MARK, NO_RANK, coverage_notes,
                                                pairs_phrase, sources_phrase, undefined_notes)
from defusion.benchmark.report.chart import summary_chart, write_figure
from defusion.benchmark.report.csv_tables import means_csv, metrics_csv, stds_csv
from defusion.benchmark.report.grid import comparison_grid
from defusion.benchmark.report.latex_table import summary_latex
from defusion.benchmark.report.markdown_table import summary_markdown
from defusion.benchmark.report.means import (STD_DDOF, STD_NOISE, fewer_pairs, images_per_method, mean_table,
                                             std_table, value_counts)
from defusion.benchmark.report.number_format import LATEX_DIGITS, LATEX_MAX_PLACES, LATEX_MIN_DIGITS, MARKDOWN_DIGITS
from defusion.benchmark.report.ranks import (column_ranks, mean_ranks, metric_ranks, ranked_order, table_ranks,
                                             unranked)
from defusion.io.sheets import GRID_TILE_HEIGHT, labelled_tile, tile_rows

__all__ = [
    "FEWER_PAIRS_CAUSES", "FEWER_PAIRS_MARK", "GRID_TILE_HEIGHT", "LATEX_DIGITS", "LATEX_MAX_PLACES",
    "LATEX_MIN_DIGITS", "MARKDOWN_DIGITS", "NO_RANK", "STD_DDOF", "STD_NOISE", "column_ranks", "comparison_grid",
    "coverage_notes",
    "fewer_pairs", "images_per_method", "labelled_tile", "mean_ranks", "mean_table", "means_csv", "metric_ranks",
    "metrics_csv", "pairs_phrase", "ranked_order", "sources_phrase", "std_table", "stds_csv", "summary_chart",
    "summary_latex", "summary_markdown", "table_ranks", "tile_rows", "undefined_notes", "unranked", "value_counts",
    "write_figure",
]

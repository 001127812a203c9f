"""means.csv and stds.csv: the summary's numbers for a spreadsheet, one row per method by mean rank."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from defusion.benchmark.report.means import images_per_method, mean_table, std_table
from defusion.benchmark.report.ranks import ranked_order, table_ranks
from defusion.benchmark.results_csv import SECONDS, Row
from defusion.io.writing import write_bytes_atomically


def means_csv(rows: list[Row], path: Path) -> None:
    """One row per method (by mean rank): its mean rank (blank for a method with a mean over fewer pairs,
    :func:`~defusion.benchmark.report.ranks.unranked`, listed last), number of images, mean of every
    metric and seconds per pair: the table for a spreadsheet. Written atomically (a full disk leaves the
    old file)."""
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


"""means.csv and stds.csv: the summary's numbers for a spreadsheet, one row per method by mean rank, with
the build that made each method's rows in a last column where known; and metrics.csv beside them, which
says of each of their metric columns which way is better (the CSVs' own layout stays bare names: scripts
and --resume parse them)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from defusion.benchmark.compare import higher_is_better
from defusion.benchmark.report.means import images_per_method, mean_table, std_table
from defusion.benchmark.report.ranks import ranked_order, table_ranks
from defusion.benchmark.results_csv import SECONDS, Row
from defusion.io.writing import write_bytes_atomically


#: The last column of means.csv and stds.csv where the builds are given: which build made a method's rows.
BUILD_COLUMN = "build"


def means_csv(rows: list[Row], path: Path, builds: dict[str, str] | None = None) -> None:
    """One row per method (by mean rank): its mean rank (blank for a method with a mean over fewer pairs,
    :func:`~defusion.benchmark.report.ranks.unranked`, listed last), number of images, mean of every
    metric and seconds per pair: the table for a spreadsheet. Where ``builds`` ({method: the build(s) that
    made its rows, as a line names them}) is given, a last column, ``build``, says it (blank for a method
    it does not name), so that the means tell which defusion made them, as run.json does. Written
    atomically (a full disk leaves the old file).

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as out:
        ...     means_csv([Row("average", "01", "EN", 7.1)], Path(out) / "means.csv",
        ...               {"average": "defusion 0.1.0 (code e7460ec37b45)"})
        ...     print((Path(out) / "means.csv").read_text(), end="")
        method,rank,images,EN,seconds,build
        average,1.000,1,7.1,,defusion 0.1.0 (code e7460ec37b45)
    """
    _per_method_csv(rows, path, mean_table(rows)[2], builds)


def stds_csv(rows: list[Row], path: Path, builds: dict[str, str] | None = None) -> None:
    """means.csv's companion: the same rows and columns (``builds`` too), each metric's (and the
    seconds') standard deviation over pairs (:func:`std_table`; blank for a method with one value) in
    place of its mean, so that mean ± standard deviation can be reported. Written atomically."""
    _per_method_csv(rows, path, std_table(rows), builds)


#: metrics.csv's description of the seconds column of means.csv and stds.csv (lower is better).
SECONDS_DESCRIPTION = "wall time per pair of a built-in method's fusion (none for published results)"


def metrics_csv(rows: list[Row], path: Path) -> None:
    """One row per measure column of means.csv and stds.csv (the metrics of ``rows``, then the seconds):
    its name, which way is better (``higher`` or ``lower``, as the tables' arrows) and the metrics
    registry's one-line description (blank for a metric it does not know, counted higher-better as
    the tables do), so that a spreadsheet or script reading the bare names knows the direction. Their
    other columns have none: ``method``, ``rank`` and ``images`` name, rank and count, and the last, ``build``
    (:data:`BUILD_COLUMN`), names the defusion build that made a method's rows, no measure with a better
    way. Written atomically.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as out:
        ...     metrics_csv([Row("average", "01", "EN", 7.1), Row("average", "01", "Qcv", 310.0),
        ...                   Row("average", "01", SECONDS, 0.1)], Path(out) / "metrics.csv")
        ...     print((Path(out) / "metrics.csv").read_text(), end="")
        metric,better,description
        EN,higher,entropy of the fused image (bits)
        Qcv,lower,Chen-Varshney CSF-weighted regional distortion
        seconds,lower,wall time per pair of a built-in method's fusion (none for published results)
    """
    from defusion.metrics import METRICS

    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["metric", "better", "description"])
    for metric in mean_table(rows)[1]:
        known = METRICS.get(metric)
        writer.writerow([metric, "higher" if higher_is_better(metric) else "lower",
                         known.description if known else ""])
    writer.writerow([SECONDS, "lower", SECONDS_DESCRIPTION])
    write_bytes_atomically(path, text.getvalue().encode())


def _per_method_csv(rows: list[Row], path: Path, values: dict[tuple[str, str], float],
                    builds: dict[str, str] | None = None) -> None:
    """The layout of means.csv and stds.csv: one row per method by mean rank (blank for an unranked
    one, listed last), its number of images, then ``values`` of every metric and of the seconds, then
    where ``builds`` is given the build that made the method's rows (:data:`BUILD_COLUMN`)."""
    methods, metrics, means = mean_table(rows)
    ranks = table_ranks(rows, methods, metrics, means)
    counts = images_per_method(rows)
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["method", "rank", "images", *metrics, SECONDS, *([BUILD_COLUMN] if builds is not None else [])])
    for m in ranked_order(methods, ranks):
        cells = [values.get((m, k)) for k in [*metrics, SECONDS]]
        writer.writerow([m, f"{ranks[m]:.3f}" if m in ranks else "", counts.get(m, 0),
                         *("" if v is None else f"{v:.6g}" for v in cells),
                         *([builds.get(m, "")] if builds is not None else [])])
    write_bytes_atomically(path, text.getvalue().encode())


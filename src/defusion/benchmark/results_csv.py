"""The rows a benchmark scores, one value per method, image and metric, and their results.csv.

results.csv is what a run leaves and what a resumed run, the reports and the scripts read back:
written atomically, so that a run killed while writing leaves the previous file whole.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from defusion.benchmark.errors import BenchmarkError
from defusion.io.pairs import pair_stem
from defusion.io.writing import write_bytes_atomically

#: The pseudo-metric holding a built-in method's wall time per pair.
SECONDS = "seconds"
#: How results.csv is read: the UTF-8 it is written in whatever the locale's encoding (Windows'
#: cp1252 once misread or refused pairs named in other scripts), a byte-order mark (a spreadsheet's
#: "CSV UTF-8" save) skipped.
RESULTS_ENCODING = "utf-8-sig"


@dataclass
class Row:
    """One score: ``value`` of ``metric`` for ``method``'s result of the pair ``image`` (or its wall time,
    :data:`SECONDS`)."""

    method: str
    image: str
    metric: str
    value: float


def write_results_csv(rows: list[Row], path: Path) -> None:
    """Write ``rows`` atomically: a run killed, or a disk filling, while writing leaves the previous
    file whole and no temporary one (an OSError of one line naming ``path`` says why)."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["method", "image", "metric", "value"])
    for r in rows:
        writer.writerow([r.method, r.image, r.metric, f"{r.value:.6g}"])
    write_bytes_atomically(path, text.getvalue().encode("utf-8"))


def read_results_csv(path: Path) -> list[Row]:
    """Rows of a results.csv written by :func:`write_results_csv` (ValueError if it is not one).

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as out:
        ...     write_results_csv([Row("defusion", "01", "Qabf", 0.51234567), Row("defusion", "01", SECONDS, 1.25)],
        ...                       Path(out) / "results.csv")
        ...     read_results_csv(Path(out) / "results.csv")  # values kept to 6 significant digits
        [Row(method='defusion', image='01', metric='Qabf', value=0.512346), \
Row(method='defusion', image='01', metric='seconds', value=1.25)]
    """
    try:
        with open(path, newline="", encoding=RESULTS_ENCODING) as f:
            # pairs named in composed form (pair_stem), as this run names them, where an earlier one kept
            # the decomposed form a Mac's names came in
            return [Row(r["method"], pair_stem(r["image"]), r["metric"], float(r["value"])) for r in csv.DictReader(f)]
    except (KeyError, TypeError, ValueError, csv.Error, UnicodeDecodeError) as exc:
        raise BenchmarkError(f"{path} is not a defusion results.csv ({exc})") from None

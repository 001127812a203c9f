"""Saving ``defusion bench``'s scores as pairs are scored (OUT/results.csv and RUN_FILE), so that an
interrupted run loses nothing and says how to go on; an earlier run's outputs are removed only then."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from defusion.cli.bench.run_file import RUN_FILE
from defusion.io.notes import plural

if TYPE_CHECKING:
    from defusion.benchmark.runner import Row


#: What ``defusion bench`` writes into OUT (a fresh run removes earlier ones, so none is stale).
OUTPUTS = ("results.csv", "summary.md", "summary.tex", "means.csv", "stds.csv", "metrics.csv", "summary.png",
           "versus.md", "versus.png", RUN_FILE)


def _clear_outputs(out: Path) -> None:
    """Remove an earlier run's outputs from ``out`` (only the files bench writes)."""
    import shutil

    for name in OUTPUTS:
        (out / name).unlink(missing_ok=True)
    if (out / "grids").is_dir():  # not OUT/fused: a later run may score those files with --fused
        shutil.rmtree(out / "grids")


class Saver:
    """Saves OUT/results.csv, with RUN_FILE (what a resume needs beside it), as pairs are scored. A run
    without --resume (given --overwrite where OUT holds results) removes an earlier run's outputs only when
    it saves its first scores: one stopped, or failing, before that leaves them as they were. ``overwrite``:
    whether the command gave --overwrite, which the way to go on (:meth:`progress`) then replaces.
    ``provenance``: RUN_FILE's build entries of the rows as saved
    (:func:`~defusion.cli.bench.run_file.scored_provenance`), updated in it as each pair's are."""

    def __init__(self, out: Path, record: dict, previous: list[Row] | None, overwrite: bool = False,
                 provenance: Callable[[list[Row]], dict] | None = None) -> None:
        self.out, self.record, self.fresh, self.overwrite = out, record, previous is None, overwrite
        self.provenance = provenance
        self.started = False
        self.saved = {r.image for r in previous or []}  # pairs in results.csv as this run knows it
        self.earlier = self.fresh and (out / "results.csv").is_file()

    def start(self) -> None:
        """Before this run's first output: remove an earlier run's (without --resume), make grids/ and
        write RUN_FILE."""
        if self.started:
            return
        if self.fresh:
            _clear_outputs(self.out)
        (self.out / "grids").mkdir(parents=True, exist_ok=True)
        self._write_record()
        self.started = True

    def _write_record(self) -> None:
        """Write RUN_FILE (atomically)."""
        from defusion.io.writing import write_bytes_atomically

        write_bytes_atomically(self.out / RUN_FILE, (json.dumps(self.record) + "\n").encode())

    def save(self, rows: list[Row]) -> None:
        """Write ``rows`` to results.csv (atomically: a failure leaves the last one whole), then RUN_FILE
        where the builds of the rows as saved (``provenance``) differ from what it says: a method whose
        pairs all failed to be scored is then not said to be this build's."""
        from defusion.benchmark.runner import write_results_csv

        self.start()
        write_results_csv(rows, self.out / "results.csv")
        self.saved = {r.image for r in rows}
        if self.provenance is not None:
            scored = self.provenance(rows)
            if any(self.record.get(key) != value for key, value in scored.items()):
                self.record.update(scored)
                self._write_record()

    def progress(self) -> str:
        """What is saved, and how to go on: said when a run is interrupted or cannot write. --resume
        goes on; with --overwrite, in its place (the two together are refused).

        Example:
            >>> saver = Saver(Path("out"), {}, None, overwrite=True)
            >>> saver.saved = {"p1"}
            >>> saver.progress().split(": ", 1)[1]
            'run the same command with --resume in place of --overwrite to go on'
        """
        results = self.out / "results.csv"
        if self.saved:
            count = len(self.saved)
            how = "with --resume in place of --overwrite" if self.overwrite else "with --resume"
            return f"{plural(count, 'pair')} scored and saved in {results}: run the same command {how} to go on"
        if self.earlier and not self.started:
            return f"no pair was scored yet; {results} holds the earlier run's results as they were"
        return "no pair was scored yet; nothing was saved"

"""What a run logs as it trains: ``metrics.csv`` (a row per logged step) and TensorBoard's events.

A resumed run keeps what its log says up to the checkpoint's step and drops what an invocation
killed past it logged, since the resume trains those steps again.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import torch

from defusion.io.atomic import atomic_path

if TYPE_CHECKING:
    from torch.utils.tensorboard import SummaryWriter

    from defusion.data.cud import CUDViews
    from defusion.model.denet import DeNetOutput

#: The run's CSV log, in ``OUT``.
LOG_NAME = "metrics.csv"
#: Columns of metrics.csv; ``samples`` (training samples seen so far, over all processes) is last, so
#: that the columns before it stay where scripts read them by position.
LOG_FIELDS = ("step", "epoch", "lr", "total", "common", "unique1", "unique2", "fused", "images_per_s", "elapsed_s",
              "samples")
#: The files of TensorBoard's logs, which a new run replaces in ``OUT/tb``.
TB_EVENTS = "events.out.tfevents.*"
#: The folder of TensorBoard's logs, in ``OUT``.
TB_FOLDER = "tb"
#: The tag of the preview images in TensorBoard, naming the tiles of a row in order.
_PREVIEW_TAG = "preview/x1_x2_common_u1_u2_fused_x"


def open_log(path: Path, fields: tuple[str, ...], resume_step: int | None) -> tuple[TextIO, csv.DictWriter]:
    """The run's CSV log, open for appending rows. A new run starts it afresh (its folder holds no
    logged steps: :func:`defusion.training.resume.check_run_dir`). A resumed run (``resume_step``: its
    checkpoint's step) keeps the rows up to that step and drops later ones, logged by the invocation
    that went on past the checkpoint before it was killed, which the resume trains again; a loss term
    a ``--config`` given on resume adds becomes a new column (earlier rows empty there), one it drops
    stays. The file is rewritten atomically when that changes it: a kill meanwhile leaves the old one
    whole."""
    if resume_step is None or not path.is_file() or not path.stat().st_size:
        log_file = open(path, "w", newline="", encoding="utf-8")
        log = csv.DictWriter(log_file, list(fields), extrasaction="ignore")
        log.writeheader()
        return log_file, log
    text = path.read_text(encoding="utf-8", errors="replace")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = list(reader.fieldnames or fields)
    rows = list(reader)
    kept = [row for row in rows if _row_step(row) is not None and _row_step(row) <= resume_step]
    columns = header + [f for f in fields if f not in header]
    if len(kept) != len(rows) or columns != header or not text.endswith("\n"):
        with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
            rewritten = csv.DictWriter(f, columns, extrasaction="ignore")
            rewritten.writeheader()
            rewritten.writerows(kept)
    log_file = open(path, "a", newline="", encoding="utf-8")
    return log_file, csv.DictWriter(log_file, columns, extrasaction="ignore")


def _row_step(row: dict) -> int | None:
    """A log row's step; None for a row cut short (a kill while it was written) or not a step's."""
    if None in row.values() or None in row:  # fewer or more cells than columns
        return None
    try:
        return int(row.get("step") or "")
    except ValueError:
        return None


def has_logged_steps(path: Path) -> bool:
    """Whether the CSV log at ``path`` holds a logged step (a header alone, or no file, holds none)."""
    if not path.is_file():
        return False
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        return any(any(cell.strip() for cell in row) for row in list(csv.reader(f))[1:])


def summary_writer(path: Path, resume_step: int | None) -> SummaryWriter | None:
    """TensorBoard's writer; on resume, events logged past the checkpoint's step (by an invocation
    killed before its next checkpoint) are purged, as the log's rows are."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is optional (the train extra): metrics.csv holds the same losses
        print("defusion: note: no TensorBoard logs (tensorboard is not installed: pip install 'defusion[train]'); "
              "metrics.csv holds the losses", file=sys.stderr)
        return None
    return SummaryWriter(str(path), purge_step=None if resume_step is None else resume_step + 1)


def clear_tb(folder: Path) -> None:
    """Delete TensorBoard's event files in a new run's ``folder`` (left by a run killed before it
    logged a step, :func:`defusion.training.resume.check_run_dir`): nothing else there is this run's
    to delete."""
    for events in sorted(folder.rglob(TB_EVENTS)):
        if events.is_file():
            events.unlink()


def preview_row(views: CUDViews, out: DeNetOutput, x: torch.Tensor) -> torch.Tensor:
    """One row for TensorBoard: x1, x2, common, unique1, unique2, fused, x."""
    tiles = [views.x1, views.x2, out.common, out.unique1, out.unique2, out.fused, x]
    return torch.cat([t[0].detach().float().clamp(0, 1).cpu() for t in tiles], dim=-1)


class MetricsLog:
    """Rank 0's logs of a run in ``out``: metrics.csv, and TensorBoard's events where it is installed.

    ``resume_step`` (the checkpoint's step of a resumed run, None for a new one) trims what was
    logged past it (:func:`open_log`, :func:`summary_writer`)."""

    def __init__(self, out: Path, fields: tuple[str, ...], resume_step: int | None) -> None:
        self.writer = summary_writer(out / TB_FOLDER, resume_step)
        self.file, self.rows = open_log(out / LOG_NAME, fields, resume_step)

    def record(self, step: int, epoch: int, lr: float, losses: dict[str, float], rate: float, elapsed_s: float,
               samples: int) -> None:
        """Log a step's losses, learning rate and speed (images a second, over all processes)."""
        self.rows.writerow({"step": step, "epoch": epoch, "lr": lr, **losses, "images_per_s": rate,
                            "elapsed_s": round(elapsed_s, 1), "samples": samples})
        self.file.flush()
        if self.writer:
            for k, v in losses.items():
                self.writer.add_scalar(f"loss/{k}", v, step)
            self.writer.add_scalar("lr", lr, step)
            self.writer.add_scalar("images_per_s", rate, step)

    def preview(self, step: int, views: CUDViews, out: DeNetOutput, x: torch.Tensor) -> None:
        """Show TensorBoard what the network makes of a step's first sample (:func:`preview_row`)."""
        if self.writer:
            self.writer.add_image(_PREVIEW_TAG, preview_row(views, out, x), step)

    def close(self) -> None:
        if self.writer:
            self.writer.close()
        self.file.close()

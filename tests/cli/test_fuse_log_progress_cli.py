"""`defusion fuse` with stderr in a log file (``> log 2>&1``, cron, a scheduler): its progress is whole
lines now and then, not tqdm's ``\\r`` redraws piled on one line (an audit of long jobs: 2.9 KB of them
for 40 pairs); on a terminal it is still tqdm's bar; --no-progress still says none."""

from __future__ import annotations

import itertools
import sys
from types import SimpleNamespace

import pytest

from defusion.cli.main import main
from defusion.io import progress
from defusion.io.images import write_image
from tests.cli.conftest import infrared_visible_folders
from tests.conftest import smooth_image

PAIRS = 12


@pytest.fixture
def folders(tmp_path, rng):
    return infrared_visible_folders(tmp_path, rng, stems=[f"{i:02d}" for i in range(PAIRS)])


@pytest.fixture
def slow_clock(monkeypatch):
    """Each reading of the progress lines' clock is 10 s after the last: a long run, in a second."""
    ticks = itertools.count()
    monkeypatch.setattr(progress, "time", SimpleNamespace(monotonic=lambda: 10.0 * next(ticks)))


def _logged(tmp_path, monkeypatch, *args) -> tuple[int, str]:
    """`defusion fuse ARGS` with stderr a file, as `2> log` makes it: the exit status and the log."""
    log = tmp_path / "log.txt"
    with open(log, "w", encoding="utf-8") as stream, monkeypatch.context() as m:
        m.setattr(sys, "stderr", stream)
        status = main(["fuse", *map(str, args)])
    return status, log.read_text(encoding="utf-8")


def test_a_folder_run_logs_whole_lines_a_bounded_number_of_times(tmp_path, folders, tiny_weights, monkeypatch,
                                                                 slow_clock):
    da, db = folders
    status, log = _logged(tmp_path, monkeypatch, "--a", da, "--b", db, "-o", tmp_path / "out", "--weights",
                          tiny_weights)
    assert status == 0, log
    assert "\r" not in log
    lines = [line for line in log.splitlines() if line.startswith("fusing: ")]
    assert 2 <= len(lines) <= round(1 / progress.LINE_FRACTION) + 1, log
    # a first pair of 10 s (progress.FIRST_LINE_SECONDS or more) is said at once, with the time left at its pace
    assert lines[0] == "fusing: 1/12 pairs (8%), 10 s elapsed, about 110 s left"
    assert lines[1].startswith("fusing: 4/12 pairs (33%), 40 s elapsed, about ") and lines[1].endswith(" left")
    assert lines[-1].startswith(f"fusing: {PAIRS}/{PAIRS} pairs (100%), ")
    assert log.splitlines()[-1].startswith(f"fused {PAIRS} of {PAIRS} pairs into ")


def test_no_progress_still_logs_no_progress(tmp_path, folders, tiny_weights, monkeypatch, slow_clock):
    da, db = folders
    status, log = _logged(tmp_path, monkeypatch, "--a", da, "--b", db, "-o", tmp_path / "out", "--weights",
                          tiny_weights, "--no-progress")
    assert status == 0 and "fusing" not in log and "\r" not in log, log


def test_a_tiled_fusion_logs_its_passes_as_lines(tmp_path, rng, tiny_weights, monkeypatch, slow_clock):
    """A fusion's tiles, as lines where they are due (only then: a bar under a folder run's says no last
    line of its own, as tqdm clears it, so that the log is not a line per pair longer)."""
    a = write_image(tmp_path / "a.png", smooth_image(rng, 128, 192))
    b = write_image(tmp_path / "b.png", smooth_image(rng, 128, 192))
    status, log = _logged(tmp_path, monkeypatch, a, b, "-o", tmp_path / "f.png", "--weights", tiny_weights,
                          "--tile", "64", "--overlap", "16", "--scale", "1")
    assert status == 0 and "\r" not in log, log
    tiles = [line for line in log.splitlines() if line.startswith("fusing: ")]
    assert tiles[0].startswith("fusing: 1/12 passes (8%), 10 s elapsed, about ") and len(tiles) <= 11, log


def test_a_terminal_still_gets_tqdms_bar(tmp_path, folders, tiny_weights, monkeypatch, capsys):
    seen = []

    def terminal(stream: object) -> bool:
        seen.append(stream)
        return True

    monkeypatch.setattr(progress, "is_terminal", terminal)
    da, db = folders
    assert main(["fuse", "--a", str(da), "--b", str(db), "-o", str(tmp_path / "out"), "--weights",
                 str(tiny_weights)]) == 0
    err = capsys.readouterr().err
    assert seen and f"| {PAIRS}/{PAIRS} [" in err and "\r" in err, err

"""A long fusion's progress in a log file (not a terminal): a macro photographer's audit logged its 24 MP
stack's first line, "tiles: 14/168 tiles (8%), 5 min 19 s elapsed, about 58 min 28 s left", only after
5 min 19 s (a line waits for a tenth of the work or QUIET_SECONDS). A slow first step is now said at once
with the time left at its pace, and later lines go at the pace since that step (what came before it,
reading and aligning the sources, is not the work's pace)."""

from __future__ import annotations

import io
import itertools
import types

import pytest

from defusion.cli.main import main
from defusion.io import progress
from defusion.io.images import write_image
from defusion.io.progress import FIRST_LINE_SECONDS, LogProgress, duration
from tests.conftest import smooth_image

#: The audit's stack: 168 tiles of about 23 s on a shared 2-core CPU.
TILES, TILE_S = 168, 23.0


def _clock(times):
    """A clock that reads each of ``times`` in turn."""
    readings = iter(times)
    return lambda: next(readings)


def test_a_slow_first_tile_is_said_at_once_with_the_time_left():
    log = io.StringIO()
    bar = LogProgress(total=TILES, desc="tiles", unit="tile", file=log,
                      clock=_clock(TILE_S * i for i in itertools.count()))
    bar.update()
    assert log.getvalue().splitlines() == [
        f"tiles: 1/{TILES} tiles (0%), 23 s elapsed, about {duration(TILE_S * (TILES - 1))} left"]
    assert "1 h 4 min" in log.getvalue()
    quick = io.StringIO()  # steps of under FIRST_LINE_SECONDS keep the usual rule: nothing yet
    bar = LogProgress(total=TILES, desc="tiles", unit="tile", file=quick,
                      clock=_clock(FIRST_LINE_SECONDS / 2 * i for i in itertools.count()))
    bar.update()
    bar.update()
    assert quick.getvalue() == ""


def test_the_time_left_goes_at_the_pace_after_the_first_step():
    """60 s before the first tile ends (reading, aligning: 37 s), then 23 s a tile: the time left is 23 s a
    tile, not the 41.5 s a tile an average from the start would say."""
    log = io.StringIO()
    bar = LogProgress(total=TILES, desc="tiles", unit="tile", file=log, clock=_clock([0.0, 60.0, 83.0]))
    bar.update()
    bar.update()
    assert bar.line(83.0).endswith(f"about {duration(TILE_S * (TILES - 2))} left")


@pytest.mark.usefixtures("one_torch_thread", "fresh_notes")
def test_a_fusion_logged_to_a_file_says_its_first_tile(tmp_path, rng, tiny_weights, monkeypatch, capsys):
    """stderr is no terminal here (captured): the tiles' first line is the first tile's, each tile taking
    FIRST_LINE_SECONDS on the clock the lines read."""
    ticks = itertools.count()
    monkeypatch.setattr(progress, "time", types.SimpleNamespace(monotonic=lambda: next(ticks) * FIRST_LINE_SECONDS))
    shots = [write_image(tmp_path / f"{n}.png", smooth_image(rng, 96, 128)) for n in "abc"]
    assert main(["fuse", *map(str, shots), "-o", str(tmp_path / "out.png"), "--weights", str(tiny_weights),
                 "--task", "mff", "--tile", "72", "--overlap", "8"]) == 0
    tiles = [line for line in capsys.readouterr().err.splitlines() if line.startswith("fusing: ")]
    assert tiles[0].startswith("fusing: 1/") and "left" in tiles[0]

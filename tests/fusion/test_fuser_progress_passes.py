"""``Fuser.fuse(..., progress=True)`` draws one bar over the network passes, counted as passes whatever
the work: a newcomer's audit saw a "pairs: 0/1" bar where README promised a bar over the tiles, and a
3-shot bracket's passes called "pairs". A bar now says "fusing" and counts "pass"es (``tiles_for``, times
the pairwise fusions, as the web UI counts them), and a log line says "passes", not "passs"."""

from __future__ import annotations

import io

import numpy as np
import pytest

from defusion import FuseOptions, Fuser
from defusion.io.progress import FUSING, PASS_UNIT, LogProgress, pass_progress
from defusion.model.weights import load_weights

#: A pair of this size runs in 6 tiles of TILE network pixels overlapping by OVERLAP at scale 1 (as
#: tests/fusion/test_fuser_progress_bar.py measures it): several passes, each fast for the tiny network.
HEIGHT, WIDTH, TILE, OVERLAP = 100, 150, 64, 16


def _grey(value: int, height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    return np.full((height, width), value, np.uint8)


def test_a_pair_in_one_pass_shows_a_fusing_bar_of_one_pass(tiny_weights, bars):
    """The audit's "pairs: 0/1": a pair untiled is one network pass, and the bar says so."""
    fuser = Fuser(load_weights(tiny_weights), options=FuseOptions(scale=1, tile=0))
    fuser.fuse(_grey(0, 16, 24), _grey(200, 16, 24), progress=True)
    assert [(bar.desc, bar.unit, bar.total, bar.count, bar.closed) for bar in bars] == [
        (FUSING, PASS_UNIT, 1, 1, True)]


@pytest.mark.parametrize("images", [2, 3, 4])
def test_a_tiled_stack_counts_every_pass_in_one_unit(tiny_weights, bars, images):
    """Tiles times pairwise fusions, as the web UI's passes() counts them, all of them in the one unit."""
    fuser = Fuser(load_weights(tiny_weights), options=FuseOptions(scale=1, tile=TILE, overlap=OVERLAP))
    calls = []
    fuser.fuse(*(_grey(40 * (i + 1)) for i in range(images)), on_tile=lambda: calls.append(1), progress=True)
    passes = fuser.tiles_for(HEIGHT, WIDTH) * (images - 1)
    assert [(bar.desc, bar.unit, bar.total, bar.count) for bar in bars] == [(FUSING, PASS_UNIT, passes, passes)]
    assert len(calls) == passes  # on_tile as before: once after each pass


def test_the_bar_on_stderr_reads_fusing_and_reaches_its_total(tiny_weights, capsys, monkeypatch):
    monkeypatch.setattr("defusion.io.progress.is_terminal", lambda stream: True)  # a terminal: tqdm's bar
    fuser = Fuser(load_weights(tiny_weights), options=FuseOptions(scale=1, tile=0))
    fuser.fuse(*(_grey(v, 16, 24) for v in (0, 100, 200)), progress=True)
    err = capsys.readouterr().err
    assert "fusing: 100%" in err and "| 2/2 [" in err and ("pass/s" in err or "s/pass" in err), err
    assert "pairs" not in err


def test_pass_progress_without_show_is_on_tile_itself():
    calls = []

    def on_tile() -> None:
        calls.append(1)

    with pass_progress(3, on_tile) as tick:
        assert tick is on_tile


def test_a_log_line_says_passes():
    log = io.StringIO()
    with LogProgress(total=2, desc=FUSING, unit=PASS_UNIT, file=log) as bar:
        bar.update()
        bar.update()
    assert log.getvalue().startswith("fusing: 2/2 passes (100%), ")

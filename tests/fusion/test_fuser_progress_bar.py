"""A long fusion from Python can show its progress: ``progress=True`` draws a tqdm bar over the network
passes on stderr (closed however the call ends), ``on_tile`` is called after each pass, and both are
documented; a library call stays silent by default."""

from __future__ import annotations

import numpy as np
import pytest

from defusion import FuseOptions, Fuser
from defusion.model.weights import load_weights

#: A pair of this size runs in TILES tiles of TILE network pixels overlapping by OVERLAP at scale 1:
#: several passes, each small enough for the tiny network to run fast.
HEIGHT, WIDTH, TILE, OVERLAP, TILES = 100, 150, 64, 16, 6


@pytest.fixture(scope="module")
def fuser(tiny_weights):
    return Fuser(load_weights(tiny_weights), options=FuseOptions(scale=1, tile=TILE, overlap=OVERLAP))


@pytest.fixture()
def pair():
    return np.zeros((HEIGHT, WIDTH), np.uint8), np.full((HEIGHT, WIDTH), 200, np.uint8)


def test_the_pair_takes_several_passes(fuser):
    assert fuser.tiles_for(HEIGHT, WIDTH) == TILES


def test_progress_draws_a_bar_over_every_tile_on_stderr(fuser, pair, capsys):
    fused = fuser.fuse(*pair, progress=True)
    err = capsys.readouterr().err
    assert fused.shape == (HEIGHT, WIDTH)
    assert f"{TILES}/{TILES}" in err and "fusing" in err


def test_no_progress_by_default(fuser, pair, capsys):
    fuser.fuse(*pair)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(("call", "images", "passes"), [
    ("fuse", 2, TILES), ("fusion", 3, 2 * TILES), ("decompose", 2, TILES)])
def test_the_bar_counts_each_calls_passes_and_is_closed(fuser, pair, bars, call, images, passes):
    getattr(fuser, call)(*(pair * 2)[:images], progress=True)
    assert [(bar.total, bar.count, bar.unit, bar.closed) for bar in bars] == [(passes, passes, "pass", True)]
    assert bars[0].options["file"] is not None  # stderr, not stdout


def test_an_untiled_stack_counts_its_pairwise_passes(tiny_weights, bars):
    fuser = Fuser(load_weights(tiny_weights), options=FuseOptions(scale=1))
    images = [np.full((16, 24), value, np.uint8) for value in (0, 100, 200)]
    fuser.fuse(*images, progress=True)
    assert [(bar.total, bar.count, bar.unit) for bar in bars] == [(2, 2, "pass")]


def test_the_bar_is_closed_when_on_tile_stops_the_fusion(fuser, pair, bars):
    calls = []

    def stop() -> None:
        calls.append(1)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fuser.fuse(*pair, on_tile=stop, progress=True)
    assert calls == [1] and [bar.closed for bar in bars] == [True]


def test_on_tile_is_called_after_each_pass_with_or_without_the_bar(fuser, pair, bars):
    for progress in (False, True):
        calls = []
        fuser.fuse(*pair, on_tile=lambda: calls.append(1), progress=progress)
        assert len(calls) == TILES
    assert len(bars) == 1


def test_selection_with_weights_takes_progress(tiny_weights, pair, bars):
    fuser = Fuser(load_weights(tiny_weights), options=FuseOptions(scale=1, tile=TILE, overlap=OVERLAP,
                                                                  pixels="sources"))
    fuser.fuse_with_weights(*pair, progress=True)
    assert [(bar.total, bar.closed) for bar in bars] == [(TILES, True)]


@pytest.mark.parametrize("call", ["fuse", "fusion", "decompose", "fuse_with_weights"])
def test_on_tile_and_progress_are_documented(call):
    doc = getattr(Fuser, call).__doc__
    assert "on_tile" in doc and "progress" in doc
    assert "tiles_for" in Fuser.fuse.__doc__ and ">>> fused = fuser.fuse(a, b, on_tile=" in Fuser.fuse.__doc__

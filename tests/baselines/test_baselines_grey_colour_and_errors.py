"""The baselines' input contract, as the Fuser's: a grey source beside a colour one is fused in colour
(the grey one as RGB, its channels equal), not refused; what they do refuse is a BaselineError, a
ValueError. (In tests/ rather than tests/baselines/: this change's files carry the errors_contract name.)"""

from __future__ import annotations

import numpy as np
import pytest

from defusion import DefusionError
from defusion.baselines import BASELINES, BaselineError, available_baselines
from defusion.baselines._common import check_pair
from defusion.fusion.color import as_rgb


def _pair(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A grey uint8 source and a colour one of its size, with some structure to fuse."""
    grey = (rng.random((24, 32)) * 255).astype(np.uint8)
    colour = (rng.random((24, 32, 3)) * 255).astype(np.uint8)
    return grey, colour


@pytest.mark.parametrize("name", available_baselines())
def test_a_grey_and_a_colour_source_fuse_in_colour_as_the_grey_one_as_rgb(name, rng):
    grey, colour = _pair(rng)
    fuse = BASELINES[name]
    for a, b in ((grey, colour), (colour, grey)):
        fused = fuse(a, b)
        assert fused.shape == (24, 32, 3) and fused.dtype == np.uint8
        as_given_in_rgb = fuse(as_rgb(a) if a.ndim == 2 else a, as_rgb(b) if b.ndim == 2 else b)
        # one level apart at most: enfuse's result of one pair varies by a level from run to run
        assert np.abs(fused.astype(int) - as_given_in_rgb).max() <= 1


def test_check_pair_gives_a_grey_source_beside_a_colour_one_as_rgb():
    grey = np.full((2, 3), 255, np.uint8)
    a, b, dtype = check_pair(grey, np.zeros((2, 3, 3), np.uint16))
    assert a.shape == b.shape == (2, 3, 3) and float(a.min()) == 1.0 and dtype == np.uint16


@pytest.mark.parametrize("a, b, message", [
    (np.zeros((8, 8)), np.zeros((8, 9, 3)), "source images must have the same height and width"),
    (np.zeros((8, 8)), np.zeros((8, 9)), "source images must have the same height and width"),
    (np.zeros((8, 8)), np.zeros((8, 8, 5)), r"image 2 must be HxW or HxWxC with C in 1, 2, 3, 4 \(grey, grey \+ alpha, "
                                            r"RGB, RGBA\); got shape \(8, 8, 5\)"),
    (np.zeros((0, 8)), np.zeros((0, 8, 3)), "empty image of shape"),
], ids=["sizes differ", "grey sizes differ", "five channels", "empty"])
def test_what_the_baselines_refuse_is_a_baseline_error(a, b, message):
    with pytest.raises(BaselineError, match=message) as caught:
        BASELINES["average"](a.astype(np.float32), b.astype(np.float32))
    assert isinstance(caught.value, DefusionError) and isinstance(caught.value, ValueError)

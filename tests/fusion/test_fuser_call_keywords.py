"""Options given to a fusion call (``fuser.fuse(a, b, scale=2)``) are refused with a library error that
says where they are set (when the Fuser is made, or on a copy: ``with_options``), not Python's bare
TypeError; a misspelt keyword gets a guess. The error is still a TypeError, as before."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from defusion import DefusionError, FuseOptions, Fuser
from defusion.fusion.errors import OptionsError, UnknownOptionError

SIDE = 16


@pytest.fixture()
def pair():
    return np.zeros((SIDE, SIDE), np.uint8), np.full((SIDE, SIDE), 200, np.uint8)


def _refusal(call, *args, **keywords) -> str:
    with pytest.raises(UnknownOptionError) as err:
        call(*args, **keywords)
    assert isinstance(err.value, DefusionError) and isinstance(err.value, TypeError)
    message = str(err.value)
    assert "\n" not in message
    return message


def test_an_option_given_to_fuse_says_where_it_is_set(fuser, pair):
    message = _refusal(fuser.fuse, *pair, scale=2)
    assert message.startswith("Fuser.fuse got scale=2, an option of the Fuser")
    assert "Fuser.from_pretrained(scale=2)" in message and "fuser.with_options(scale=2).fuse(...)" in message


@pytest.mark.parametrize("call", ["fuse", "fusion", "decompose", "fuse_with_weights", "registered", "input_order",
                                  "infrared_source", "measure_palette"])
def test_every_fusion_call_refuses_options_as_fuse_does(fuser, pair, call):
    message = _refusal(getattr(fuser, call), *pair, unique_gain=1.5)
    assert message.startswith(f"Fuser.{call} got unique_gain=1.5, an option")
    assert f"fuser.with_options(unique_gain=1.5).{call}(...)" in message


def test_tiles_for_refuses_an_option_too(fuser):
    assert "fuser.with_options(scale=2)" in _refusal(fuser.tiles_for, 480, 640, scale=2)


def test_a_misspelt_keyword_is_guessed_at(fuser, pair):
    message = _refusal(fuser.fuse, *pair, on_tiles=print)
    assert message == "Fuser.fuse got an unknown keyword on_tiles (did you mean on_tile?); it takes the images, " \
                      "on_tile, progress"
    assert "did you mean scale?" in _refusal(fuser.fuse, *pair, sclae=2)


def test_a_setting_of_the_fuser_says_to_make_it_with_that(fuser, pair):
    message = _refusal(fuser.fuse, *pair, device="cpu", task="mef")
    assert "Fuser.from_pretrained(device='cpu', task='mef')" in message


def test_a_long_value_is_not_repeated(fuser, pair):
    message = _refusal(fuser.fuse, *pair, rig=np.zeros((50, 50)))
    assert "rig=..." in message and "[[" not in message


def test_old_except_clauses_still_catch_it(fuser, pair):
    for builtin in (TypeError, OptionsError, ValueError):
        with pytest.raises(builtin):
            fuser.fuse(*pair, scale=2)


def test_the_calls_keep_their_signatures_and_keywords(fuser, pair):
    assert list(inspect.signature(Fuser.fuse).parameters) == ["self", "images", "on_tile", "progress"]
    assert list(inspect.signature(fuser.tiles_for).parameters) == ["height", "width"]
    assert fuser.tiles_for(height=SIDE, width=SIDE) == 1
    calls = []
    assert fuser.fuse(*pair, on_tile=lambda: calls.append(1)).shape == (SIDE, SIDE) and calls == [1]


def test_with_options_is_a_copy_that_shares_the_network(fuser, pair):
    faster = fuser.with_options(scale=2, unique_gain=1.5)
    assert (faster.options.scale, faster.options.unique_gain) == (2, 1.5)
    assert fuser.options == FuseOptions(scale=1) and faster.model is fuser.model
    assert faster.fuse(*pair).shape == (SIDE, SIDE)  # what the refusal says to do works


def test_with_options_refuses_what_fuse_options_refuse(fuser):
    with pytest.raises(UnknownOptionError, match="did you mean scale"):
        fuser.with_options(sclae=2)
    with pytest.raises(OptionsError, match="unique gain"):
        fuser.with_options(unique_gain=9)

"""An unknown FuseOptions field given by keyword is an OptionsError naming the caller and a close match."""

from __future__ import annotations

import pytest

from defusion.errors import DefusionError
from defusion.fusion.errors import OptionsError
from defusion.fusion.fuser import Fuser
from defusion.fusion.options import FuseOptions, option_names


def test_from_pretrained_unknown_option_names_the_function_and_a_close_match():
    with pytest.raises(OptionsError) as caught:
        Fuser.from_pretrained(uniq_gain=2)
    message = str(caught.value)
    assert message.startswith("Fuser.from_pretrained got an unknown option uniq_gain (did you mean unique_gain?); ")
    assert "FuseOptions fields: tile, overlap," in message and "palette_range" in message
    assert "__init__" not in message
    assert isinstance(caught.value, DefusionError) and isinstance(caught.value, ValueError)
    assert isinstance(caught.value, TypeError)  # as Python's own refusal of the keyword was: `except TypeError` still works


def test_from_pretrained_unknown_option_with_options_given():
    with pytest.raises(OptionsError, match=r"unknown option scal \(did you mean scale\?\)"):
        Fuser.from_pretrained(options=FuseOptions(), scal=1)


def test_from_pretrained_typo_of_its_own_parameter_is_guessed():
    with pytest.raises(OptionsError, match=r"unknown option devise \(did you mean device\?\)"):
        Fuser.from_pretrained(devise="cpu")


def test_several_unknown_options_are_named_together():
    with pytest.raises(OptionsError, match=r"unknown options colr, xyz \(did you mean color\?\)"):
        Fuser.from_pretrained(colr="rgb", xyz=1)


@pytest.mark.parametrize("build, caller", [(FuseOptions.for_task, "FuseOptions.for_task"),
                                           (FuseOptions.paper, "FuseOptions.paper")])
def test_option_builders_refuse_unknown_names(build, caller):
    with pytest.raises(OptionsError, match=f"^{caller} got an unknown option uniq_gain \\(did you mean unique_gain"):
        build(uniq_gain=2)


def test_option_names_are_the_fields():
    assert option_names()[:2] == ("tile", "overlap") and "unique_gain" in option_names()
    assert FuseOptions.for_task("ivf", scale=1).scale == 1  # known names still pass

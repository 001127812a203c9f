"""Fuser.from_pretrained's options, resolved by a pure function before anything loads, and the
parameters its typo guesses know, read from its signature."""

from __future__ import annotations

import inspect

import pytest

from defusion.fusion.errors import FusionTypeError, OptionsError, UnknownOptionError
from defusion.fusion.fuser import _FROM_PRETRAINED_PARAMETERS, Fuser, _resolve_options
from defusion.fusion.options import FuseOptions


def test_a_task_gives_its_defaults_with_fields_on_top():
    assert _resolve_options("ivf", None, {}) == FuseOptions.for_task("ivf")
    assert _resolve_options("ivf", None, {"unique_gain": 1.0}).unique_gain == 1.0
    assert _resolve_options(None, None, {}) == FuseOptions()


def test_options_are_taken_whole_with_fields_on_top_and_none_fields_left_out():
    options = FuseOptions(scale=1, unique_gain=1.5)
    resolved = _resolve_options(None, options, {"unique_gain": 2.0, "tile": None, "scale": None})
    assert resolved == FuseOptions(scale=1, unique_gain=2.0)
    assert options.unique_gain == 1.5  # a copy: the caller's options are left as they were


def test_a_task_and_options_both_are_refused():
    with pytest.raises(OptionsError, match=r"^give task= or options=, not both"):
        _resolve_options("mef", FuseOptions(), {})


def test_options_that_are_no_fuse_options_are_a_type_error():
    with pytest.raises(FusionTypeError, match="^options must be a FuseOptions, got dict$"):
        _resolve_options(None, {"scale": 1}, {})


def test_bad_field_values_are_refused_as_fuse_options_refuses_them():
    with pytest.raises(OptionsError):
        _resolve_options(None, None, {"scale": 0})


@pytest.mark.parametrize("parameter", [name for name, p in inspect.signature(Fuser.from_pretrained).parameters.items()
                                       if p.kind is not p.VAR_KEYWORD])
def test_a_typo_of_any_of_its_own_parameters_is_guessed(parameter):
    """Every parameter, a new one too: the list is read from the signature."""
    assert parameter in _FROM_PRETRAINED_PARAMETERS
    with pytest.raises(UnknownOptionError, match=rf"did you mean {parameter}\?"):
        Fuser.from_pretrained(**{parameter + "s": None})


def test_the_fields_catch_all_is_no_parameter():
    assert "fields" not in _FROM_PRETRAINED_PARAMETERS and "cls" not in _FROM_PRETRAINED_PARAMETERS

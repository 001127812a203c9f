"""The fusion core's words fit who reads them (a review of the Python API round): ``infrared`` past the
images given in the command line's terms under ``defusion`` (``--infrared 3``, from 1) and in Python's
elsewhere; float pixels outside [0, 1] told to divide by 255 only where they are 8-bit levels, not
degrees; a raw frame's stretch said once per fusion, not by the steps run before it on the same frame;
and the web UI's device named as ``defusion ui``'s option."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from defusion.errors import DefusionNote, DefusionWarning
from defusion.fusion.device import resolve_device
from defusion.fusion.errors import FusionInputError, OptionsError
from defusion.io.front_end import reading_for


@pytest.fixture
def pair(rng) -> tuple[np.ndarray, np.ndarray]:
    """A visible 8-bit frame and a thermal camera's 16-bit counts, 7000 to about 9000."""
    visible = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    return visible, (7000 + 8 * visible.mean(axis=2)).astype(np.uint16)


def _notes(call) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [str(w.message) for w in caught if issubclass(w.category, DefusionWarning) and "stretched" in str(w.message)]


def test_infrared_past_the_images_is_said_in_the_command_lines_terms_under_it(fuser, pair):
    colouring = fuser.with_options(palette="inferno", infrared=2)
    with reading_for("cli"), pytest.raises(FusionInputError) as caught:
        colouring.fuse(*pair)
    assert str(caught.value).startswith("--infrared 3 was asked for, but 2 images were given: give "
                                        "--infrared 1 to 2")
    assert "0-based" not in str(caught.value) and "infrared=" not in str(caught.value)
    with pytest.raises(FusionInputError, match=r"^infrared=2 \(0-based: the 3rd image\)"):  # Python's, as before
        colouring.fuse(*pair)


@pytest.mark.parametrize("values, advice", [
    (np.linspace(20, 45, 256), "scale them into [0, 1] first, (x - x.min()) / (x.max() - x.min())"),  # degrees
    (np.linspace(-10, 30, 256), "scale them into [0, 1] first"),
    (np.linspace(0, 1.6, 256), "scale them into [0, 1] first"),  # no levels: not 8-bit data
    (np.round(np.linspace(20, 45, 256)), "scale them into [0, 1] first"),  # whole degrees: 25 levels apart
    (np.round(np.linspace(0, 1.4, 256), 3), "np.clip(x, 0, 1)"),  # a little out: clipped, as before
    (np.round(np.linspace(0, 255, 256)), "divide 8-bit data by 255"),  # OpenCV's astype(float)
    (np.full(256, 200.0), "divide 8-bit data by 255"),  # one level: nothing to scale by
    (np.round(np.linspace(7000, 8972, 256)), "divide 16-bit data by 65535, or pass it as uint16"),
])
def test_float_pixels_are_told_to_divide_by_255_only_where_they_are_8_bit_levels(fuser, values, advice):
    visible = np.zeros((16, 16, 3), np.uint8)
    with pytest.raises(FusionInputError) as caught:
        fuser.fuse(visible, values.reshape(16, 16))
    said = str(caught.value)
    assert advice in said and "\n" not in said
    if "divide" not in advice:
        assert "divide" not in said


def test_a_stretch_is_said_once_by_a_fusion_not_by_the_steps_before_it(fuser, pair):
    colouring = fuser.with_options(palette="inferno")
    assert _notes(lambda: colouring.measure_palette(*pair)) == []  # docs/features.md: measure, then fuse
    assert _notes(lambda: colouring.infrared_source(*pair)) == []
    assert _notes(lambda: fuser.registered(*pair)) == []
    for call in (colouring.fuse, fuser.fusion, fuser.decompose,
                 fuser.with_options(pixels="sources").fuse_with_weights):
        said = _notes(lambda: call(*pair))
        assert len(said) == 1 and said[0].startswith("image 2 holds 16-bit values 7"), said


def test_the_stretch_note_says_how_a_stream_keeps_one_mapping(fuser, pair):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fuser.fuse(*pair)
    said = [str(w.message) for w in caught if w.category is DefusionNote]
    assert len(said) == 1 and "stretch='none' keeps the values as they are" in said[0]
    assert "fuser.with_options(stretch=measure_stretch([a0, b0])) keeps its first frames' mapping" in said[0]
    from defusion.fusion.stretch import measure_stretch  # the API named is real, and it silences the note

    fixed = fuser.with_options(stretch=measure_stretch(list(pair)))
    assert _notes(lambda: fixed.fuse(*pair)) == []


def test_the_web_uis_device_is_named_as_its_commands_option(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with reading_for("ui"), pytest.raises(OptionsError) as caught:
        resolve_device("cuda")
    assert str(caught.value) == ("device cuda (--device cuda of defusion ui) was asked for, but PyTorch sees no CUDA "
                                 "device")

"""What fuse says of pixels it cannot take, audited from a notebook: which image is at fault, and advice
that fits the values (a list passed as one, floats slightly out of [0, 1], 8-bit or 16-bit levels as floats)."""

from __future__ import annotations

import numpy as np
import pytest

from defusion.fusion.errors import FusionInputError, FusionTypeError
from defusion.io.resize import resize_to


def _said(fuser, *images, error=FusionInputError) -> str:
    with pytest.raises(error) as caught:
        fuser.fuse(*images)
    said = str(caught.value)
    assert "\n" not in said and "Traceback" not in said
    return said


@pytest.fixture
def grey(rng) -> np.ndarray:
    return rng.integers(0, 256, (24, 32), dtype=np.uint8)


def test_lists_are_told_to_be_arrays_not_int64(fuser, grey):
    said = _said(fuser, grey.tolist(), grey.tolist(), error=FusionTypeError)
    assert "image 1 as a list" in said and "np.asarray(x, dtype=np.uint8)" in said
    assert "int64 values as an array" in said and not said.endswith("got int64")
    wide = (grey.astype(np.int64) * 257).tolist()  # 16-bit levels in a list
    assert "image 2 as a list" in _said(fuser, grey, wide, error=FusionTypeError)
    assert "np.asarray(x, dtype=np.uint16)" in _said(fuser, grey, wide, error=FusionTypeError)
    assert fuser.fuse(grey, (grey / 255.0).tolist()).shape == grey.shape  # floats in [0, 1] fuse, as before


def test_an_integer_array_is_named_with_the_conversion_that_fits(fuser, grey):
    said = _said(fuser, grey, grey.astype(np.int64), error=FusionTypeError)
    assert "got image 2 of dtype int64: pass x.astype(np.uint8)" in said
    said = _said(fuser, grey, grey > 128, error=FusionTypeError)
    assert "image 2 of dtype bool" in said and "x.astype(np.uint8) * 255" in said
    ragged = _said(fuser, grey, [[0, 1], [2]])
    assert ragged.startswith("image 2 is a list that makes no array of pixels")


def test_the_resize_overshoot_names_its_image_and_says_to_clip(fuser, rng):
    """The audit's case: float images, the second bicubic-enlarged onto the first's size by hand."""
    a = (rng.random((40, 60)) > 0.5).astype(np.float32)
    b = (rng.random((20, 30)) > 0.5).astype(np.float32)
    up = np.asarray(resize_to(b, 40, 60) * 1.2 - 0.1)  # overshooting as a plain bicubic resize does
    said = _said(fuser, a, up)
    assert "in image 2;" in said and "np.clip(x, 0, 1)" in said and "divide 8-bit" not in said
    assert fuser.fuse(a, resize_to(b, 40, 60)).shape == (40, 60)  # the library's own resize fuses


@pytest.mark.parametrize("scale, advice", [
    (255.0, "divide 8-bit data by 255"),
    (8972.0, "divide 16-bit data by 65535, or pass it as uint16"),
    (1e6, "scale them into [0, 1] first"),
])
def test_floats_on_another_scale_are_told_how_to_bring_them_into_0_to_1(fuser, grey, scale, advice):
    # whole levels, as 8-bit or 16-bit data made float: fractions (degrees) are told to scale instead
    said = _said(fuser, grey / 255.0, np.round(grey / 255.0 * scale))
    assert f"to {scale:.4g} in image 2; {advice}" in said


def test_floats_in_minus_1_to_1_are_told_to_map_them(fuser, grey):
    said = _said(fuser, grey / 127.5 - 1.0, grey / 255.0)
    assert "in image 1;" in said and "(x + 1) / 2" in said


def test_nan_names_its_image(fuser, grey):
    holed = grey / 255.0
    holed[2, 3] = np.nan
    said = _said(fuser, grey, holed)
    assert "image 2 holds NaN or infinite values" in said and "np.nan_to_num" in said

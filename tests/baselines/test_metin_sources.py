"""The sources the baselines take and refuse, as the Fuser does: HxWx1 as grey, grey + alpha and RGBA
with alpha dropped (warned of where some pixel is transparent); a path, a list of whole numbers and
other pixel types refused in the Fuser's words (they were refused as 'got shape ()' or unnamed)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from defusion.baselines import BASELINES
from defusion.baselines._common import BaselineError, BaselineTypeError, check_pair
from defusion.errors import DefusionWarning
from defusion.fusion.inputs import checked_images

RNG = np.random.default_rng(5)
A = RNG.integers(0, 256, (16, 20, 3)).astype(np.uint8)
B = RNG.integers(0, 256, (16, 20, 3)).astype(np.uint8)
OPAQUE = np.full((16, 20, 1), 255, np.uint8)


def _warnings(call) -> tuple[object, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [str(w.message) for w in caught if issubclass(w.category, DefusionWarning)]


@pytest.mark.parametrize("name", ["average", "max", "laplacian", "gff"])
def test_rgba_sources_fuse_as_their_rgb_and_opaque_alpha_says_nothing(name):
    fused, said = _warnings(lambda: BASELINES[name](np.concatenate([A, OPAQUE], 2), B))
    np.testing.assert_array_equal(fused, BASELINES[name](A, B))
    assert said == []


def test_transparent_pixels_are_warned_of_naming_the_source():
    alpha = OPAQUE.copy()
    alpha[0, 0] = 0
    _, said = _warnings(lambda: BASELINES["average"](A, np.concatenate([B, alpha], 2)))
    assert len(said) == 1 and said[0].startswith("image 2 has transparent pixels (alpha); alpha is ignored")


def test_hxwx1_and_grey_alpha_fuse_as_grey():
    grey = A[..., 0]
    want = BASELINES["average"](grey, B[..., 0])
    np.testing.assert_array_equal(BASELINES["average"](grey[..., None], B[..., :1]), want)
    np.testing.assert_array_equal(BASELINES["average"](np.dstack([grey, OPAQUE[..., 0]]), B[..., 0]), want)
    assert check_pair(grey[..., None], B)[0].shape == (16, 20, 3)  # beside RGB: as RGB, as the Fuser


@pytest.mark.parametrize("bad", [A > 9, A.astype(np.int32), A.tolist(), (A.astype(np.int32) * 300)],
                         ids=["bool", "int32", "list", "wide"])
def test_pixels_of_another_type_are_refused_in_the_fusers_words(bad):
    with pytest.raises(TypeError) as fuser:
        checked_images([bad, B])
    with pytest.raises(BaselineTypeError) as baseline:
        BASELINES["average"](bad, B)
    assert str(baseline.value) == str(fuser.value)
    assert isinstance(baseline.value, TypeError) and isinstance(baseline.value, ValueError)


def test_a_path_is_refused_as_a_path():
    with pytest.raises(BaselineTypeError) as caught:
        BASELINES["gff"](A, "b.png")
    assert str(caught.value) == "image 2 is a path (b.png); pass pixel arrays: read files with defusion.io.images.read_image"


def test_a_shape_that_is_no_image_says_the_shapes_taken():
    with pytest.raises(BaselineError, match=r"^image 1 must be HxW or HxWxC with C in 1, 2, 3, 4 .*looks channels-first"):
        BASELINES["average"](np.zeros((3, 16, 20), np.uint8), np.zeros((3, 16, 20), np.uint8))

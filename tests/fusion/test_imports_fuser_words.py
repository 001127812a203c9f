"""The Fuser refuses what is no pixel array in the words the metrics and the baselines use, from one
implementation (:func:`defusion.io.arrays.not_pixels`): it said "fuse takes pixel arrays" of a path where
they said "pass pixel arrays", and a tensor of a type NumPy lacks got no advice."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from defusion.baselines import BASELINES
from defusion.fusion.errors import FusionInputError, FusionTypeError
from defusion.fusion.inputs import checked_images
from defusion.io.arrays import not_pixels

GREY = np.random.default_rng(3).integers(0, 256, (8, 10), dtype=np.uint8)


def _quantized() -> torch.Tensor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: quantized tensors are deprecated
        return torch.quantize_per_tensor(torch.rand(8, 10), 0.1, 0, torch.quint8)


@pytest.mark.parametrize("bad, error", [
    ("a.png", FusionTypeError),
    (Path("a.png"), FusionTypeError),
    (GREY.tolist(), FusionTypeError),
    (tuple(map(tuple, GREY.astype(np.int64) * 257)), FusionTypeError),
    (GREY.astype(np.int64), FusionTypeError),
    (GREY > 128, FusionTypeError),
    (GREY.astype(np.complex64), FusionTypeError),
    (torch.from_numpy(GREY.astype(np.int32)), FusionTypeError),
    (_quantized(), FusionTypeError),
    ([[0, 1], [2]], FusionInputError),
], ids=["path", "pathlike", "list", "tuple", "int64", "bool", "complex", "int32-tensor", "quantized-tensor", "ragged"])
def test_the_fuser_says_what_not_pixels_says(bad, error):
    with pytest.raises(error) as caught:
        checked_images([GREY, bad])
    assert str(caught.value) == not_pixels(bad, "image 2")


def test_a_path_is_refused_in_the_same_words_by_the_fuser_and_the_baselines():
    with pytest.raises(FusionTypeError) as fuser:
        checked_images(["a.png", GREY])
    with pytest.raises(TypeError) as baseline:
        BASELINES["average"]("a.png", GREY)
    assert str(fuser.value) == str(baseline.value)
    assert str(fuser.value) == ("image 1 is a path (a.png); pass pixel arrays: read files with "
                                "defusion.io.images.read_image")

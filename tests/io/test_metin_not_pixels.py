"""defusion.io.arrays.not_pixels: the one wording, the Fuser's, for a value that is no pixel array."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from defusion.io.arrays import not_pixels

GREY = np.zeros((4, 5), np.uint8)


@pytest.mark.parametrize("value", [GREY, GREY.astype(np.uint16), GREY.astype(np.float32), GREY[..., None],
                                   [[0.0, 0.5]], np.zeros((4, 5, 7), np.uint8)],
                         ids=["uint8", "uint16", "float32", "hxwx1", "float list", "any shape"])
def test_pixel_arrays_have_nothing_said_of_them(value):
    assert not_pixels(value, "image 1") is None


@pytest.mark.parametrize("value, said", [
    ("v.png", "image 1 is a path (v.png); pass pixel arrays: read files with defusion.io.images.read_image"),
    (Path("v.png"), "image 1 is a path (v.png); pass pixel arrays: read files with defusion.io.images.read_image"),
    (None, "image 1 is a NoneType, no array of pixels; pass a NumPy array, HxW or HxWxC"),
    (3, "image 1 is a int, no array of pixels; pass a NumPy array, HxW or HxWxC"),
    ([[1, 2], [3]], "image 1 is a list that makes no array of pixels (rows of different lengths?); pass a NumPy "
                    "array, HxW or HxWxC"),
    ([[0, 200]], "images must be uint8, uint16 or float in [0, 1]; got image 1 as a list (int64 values as an "
                 "array): pass a NumPy array, np.asarray(x, dtype=np.uint8)"),
    (((0, 4000),), "images must be uint8, uint16 or float in [0, 1]; got image 1 as a tuple (int64 values as an "
                   "array): pass a NumPy array, np.asarray(x, dtype=np.uint16)"),
    (GREY > 0, "images must be uint8, uint16 or float in [0, 1]; got image 1 of dtype bool: pass "
               "x.astype(np.uint8) * 255 (0 and 255)"),
    (GREY.astype(np.int8) - 1, "images must be uint8, uint16 or float in [0, 1]; got image 1 of dtype int8: its "
                               "values (-1 to -1) fit neither 0..255 nor 0..65535: scale them into [0, 1] as "
                               "floats, (x - x.min()) / (x.max() - x.min())"),
    (GREY.astype(complex), "images must be uint8, uint16 or float in [0, 1]; got image 1 of dtype complex128: "
                           "pass pixel values: a NumPy array of uint8, uint16 or float in [0, 1]"),
], ids=["path", "Path", "None", "number", "ragged", "list", "tuple", "bool", "int8", "complex"])
def test_what_is_no_pixel_array_is_said_in_one_line(value, said):
    assert not_pixels(value, "image 1") == said


def test_the_metrics_reading_takes_integers_on_0_255_and_says_so():
    assert not_pixels(GREY.astype(np.int64) + 255, "a", levels=True) is None
    assert not_pixels((GREY.astype(np.int32) + 256), "a", levels=True) == (
        "images must be uint8, uint16, float (in [0, 1] or on 0..255) or integers on 0..255; got a of dtype "
        "int32 with values outside 0..255: pass floats in [0, 1], x / 511 for 9-bit data (/ (2**bits - 1), or / its "
        "maximum): the metrics score uint16 as the 8-bit image it rounds to, which keeps 1 level of its 256..256")


@pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor")
def test_a_tensor_is_told_its_own_conversion():
    torch = pytest.importorskip("torch")
    assert not_pixels(torch.zeros(4, 5, dtype=torch.bfloat16), "image 1") is None
    assert not_pixels(torch.zeros(4, 5, dtype=torch.uint8), "image 1") is None
    assert not_pixels(torch.full((4, 5), 300, dtype=torch.int32), "image 1") == (
        "images must be uint8, uint16 or float in [0, 1]; got image 1 of dtype int32: pass x.to(torch.uint16)")
    quantized = torch.quantize_per_tensor(torch.zeros(4, 5), 0.1, 0, torch.quint8)
    assert not_pixels(quantized, "image 1") == (
        "images must be uint8, uint16 or float in [0, 1]; got image 1 of dtype quint8: pass pixel values: a NumPy "
        "array of uint8, uint16 or float in [0, 1]")

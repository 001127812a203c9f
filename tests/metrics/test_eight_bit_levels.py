"""The metrics' 16-to-8-bit rounding (eight_bit_levels) is io's (io.eight_bits.uint16_to_uint8), bit for
bit, for every input it takes: arrays in either byte order and array-likes (lists, scalars, tensors)."""

from __future__ import annotations

import numpy as np
import pytest

from defusion.io.eight_bits import LEVEL_16BIT, uint16_to_uint8
from defusion.metrics._scale import UINT16_PER_LEVEL, eight_bit_levels


def _old_rule(image) -> np.ndarray:
    """eight_bit_levels as the metrics wrote it before it used io's."""
    wide = np.asarray(image).astype(np.uint32)
    return ((wide + 257 // 2) // 257).astype(np.uint8)


ALL_UINT16 = np.arange(65536, dtype=np.uint16)


@pytest.mark.parametrize("image", [ALL_UINT16, ALL_UINT16.astype(">u2"), ALL_UINT16.reshape(256, 256, 1),
                                   ALL_UINT16[::-3], np.zeros((0, 4), np.uint16)])
def test_arrays_round_as_io_rounds_them(image):
    got = eight_bit_levels(image)
    assert got.dtype == np.uint8 and got.shape == image.shape
    assert np.array_equal(got, _old_rule(image)) and np.array_equal(got, uint16_to_uint8(image))


@pytest.mark.parametrize("like", [[0, 128, 129, 257, 65535], [[1, 2], [300, 65535]], (5, 65535), 65535,
                                  np.uint16(400), np.arange(0, 65536, 7, dtype=np.int32), [3.7, 128.5]])
def test_array_likes_round_as_before(like):
    got = eight_bit_levels(like)
    assert np.array_equal(got, _old_rule(like)) and got.dtype == np.uint8


def test_a_tensor_rounds_as_its_array():
    torch = pytest.importorskip("torch")
    tensor = torch.arange(0, 65536, 5, dtype=torch.int32)
    assert np.array_equal(eight_bit_levels(tensor), _old_rule(tensor.numpy()))


def test_one_level_in_16_bits_is_named_once():
    assert UINT16_PER_LEVEL == LEVEL_16BIT == 257

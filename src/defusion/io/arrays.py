"""Pixel arrays as every API reads them, whatever they came as: a torch tensor as its NumPy array, and
the test for 8-bit values stored in 16 bits, which fusion and the metrics both warn of.

NumPy only: the metrics, and fusion's light modules, import it without PyTorch (a tensor's own
methods convert it, and torch is asked for only where one was given, so it is already loaded).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch is imported only where a tensor is given
    import torch

#: The largest 8-bit value: a uint16 image with none above it holds 8-bit values (:func:`holds_eight_bit_values`).
MAX_8BIT = 255
#: The largest 16-bit value: the full scale raw sensor counts and 16-bit levels are read against.
MAX_16BIT = 65535
#: Float tensor types NumPy has; the others (bfloat16, float8) are read as float32.
_NUMPY_FLOATS = ("torch.float16", "torch.float32", "torch.float64")


def is_uint16(array: np.ndarray) -> bool:
    """Whether ``array`` holds 16-bit unsigned integers, in either byte order (a big-endian TIFF's).

    Example:
        >>> is_uint16(np.zeros(1, ">u2")), is_uint16(np.zeros(1, np.uint8))
        (True, False)
    """
    return array.dtype.kind == "u" and array.dtype.itemsize == 2


def holds_eight_bit_values(image: np.ndarray) -> bool:
    """Whether ``image`` is 16-bit (either byte order) with no value above 255: 8-bit values in 16
    bits (what MATLAB's ``uint16(img)`` writes, ``a.astype(np.uint16)`` gives without ``* 257``, and
    ``cv2.IMREAD_UNCHANGED`` reads back from such a file). Read as 16-bit data it is near black:
    :meth:`defusion.Fuser.fuse` and the metrics' ``as_image`` warn of such an array, and
    ``defusion metrics`` and ``defusion bench`` note such a file, all by this one test.

    Example:
        >>> holds_eight_bit_values(np.array([[0, 255]], np.uint16)), holds_eight_bit_values(np.array([[0, 256]], np.uint16))
        (True, False)
        >>> holds_eight_bit_values(np.array([[0, 255]], np.uint8))  # 8-bit data in 8 bits: nothing to say
        False
    """
    return is_uint16(image) and image.size > 0 and int(image.max()) <= MAX_8BIT


def is_tensor(value: object) -> bool:
    """Whether ``value`` is a torch tensor (subclasses included), asked of torch only where it is
    already imported: no tensor exists otherwise, and this module never imports it.

    Example:
        >>> is_tensor(np.zeros(2))
        False
    """
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def tensor_pixels(tensor: torch.Tensor) -> np.ndarray:
    """A torch tensor's values as a NumPy array: detached from autograd, copied to the CPU (from
    CUDA or any other device), and bfloat16 or float8 (types NumPy lacks) as float32; the array
    shares a CPU tensor's memory, as ``Tensor.numpy`` does. A dtype NumPy cannot hold (a quantized
    one) raises ``TypeError``, for the caller to say in its own words.

    Example:
        >>> import torch
        >>> tensor_pixels(torch.ones(2, 2, dtype=torch.bfloat16, requires_grad=True)).dtype
        dtype('float32')
    """
    values = tensor.detach().cpu()
    if values.dtype.is_floating_point and str(values.dtype) not in _NUMPY_FLOATS:
        values = values.float()
    return values.numpy()


__all__ = ["MAX_8BIT", "MAX_16BIT", "holds_eight_bit_values", "is_tensor", "is_uint16", "tensor_pixels"]

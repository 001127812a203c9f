"""Pixel arrays as every API reads them, whatever they came as: a torch tensor as its NumPy array, the
test for 8-bit values stored in 16 bits, which fusion and the metrics both warn of, and the one wording
for a value that is no pixel array at all (a path, a list, a bool array: :func:`not_pixels`).

NumPy only: the metrics, and fusion's light modules, import it without PyTorch (a tensor's own
methods convert it, and torch is asked for only where one was given, so it is already loaded).
"""

from __future__ import annotations

import os
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
#: Integer tensor types every API takes as pixels as they are (:func:`not_pixels`).
_TENSOR_PIXELS = ("torch.uint8", "torch.uint16")
#: What fusion (the Fuser, the baselines) takes as pixels: the first clause where others are refused.
PIXEL_TYPES = "images must be uint8, uint16 or float in [0, 1]"
#: What the metrics take as pixels (:func:`not_pixels` with ``levels=True``): fusion's, floats on 0..255 and
#: any integer type holding 0..255 too (see docs/metrics.md).
LEVEL_TYPES = "images must be uint8, uint16, float (in [0, 1] or on 0..255) or integers on 0..255"
#: Python sequences of values, which NumPy makes int64 or float64 arrays: told to make an array.
_SEQUENCES = (list, tuple)


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


def not_pixels(value: object, name: str, levels: bool = False) -> str | None:
    """Why ``value``, the image called ``name``, is no array of pixels, as one error line that says what
    to pass instead; None where it is one (its shape and value range are the caller's to check). Refused:
    a path (read the file first), what makes no array (``None``, a number, rows of different lengths),
    and pixels of a type fusion does not take (:data:`PIXEL_TYPES`: bool, complex, int32, ...; a list of
    whole numbers, which NumPy makes int64, said to be a list). ``levels``: the metrics' reading
    (:data:`LEVEL_TYPES`), which also takes any integer type whose values lie on 0..255. The Fuser
    (:mod:`defusion.fusion.inputs`), the baselines and the metrics all refuse by it: one thing said.

    Example:
        >>> not_pixels("fused.png", "fused")
        'fused is a path (fused.png); pass pixel arrays: read files with defusion.io.images.read_image'
        >>> not_pixels([[0, 200]], "image 1")
        'images must be uint8, uint16 or float in [0, 1]; got image 1 as a list (int64 values as an array): pass a NumPy array, np.asarray(x, dtype=np.uint8)'
        >>> not_pixels([[0, 200]], "a", levels=True) is None, not_pixels(np.zeros((2, 2)), "b") is None
        (True, True)
    """
    if isinstance(value, (str, os.PathLike)):
        return f"{name} is a path ({value}); pass pixel arrays: read files with defusion.io.images.read_image"
    if is_tensor(value):
        if value.dtype.is_floating_point or str(value.dtype) in _TENSOR_PIXELS:  # read without a copy
            return None
        try:
            array = tensor_pixels(value)
        except TypeError:  # a type NumPy cannot hold (quantized): no values to go by
            dtype = str(value.dtype).removeprefix("torch.")
            return f"{_taken(levels)}; got {name} of dtype {dtype}: {_type_advice(None)}"
    else:
        try:
            array = np.asarray(value)
        except (TypeError, ValueError):  # nested lists of unequal lengths: NumPy's own message is no help
            return (f"{name} is a {type(value).__name__} that makes no array of pixels (rows of different "
                    "lengths?); pass a NumPy array, HxW or HxWxC")
        if array.ndim == 0 and not isinstance(value, np.ndarray):  # None, a number: no image at all
            return f"{name} is a {type(value).__name__}, no array of pixels; pass a NumPy array, HxW or HxWxC"
    return _type_problem(array, name, _given(value), levels)


def _taken(levels: bool) -> str:
    """What is taken as pixels: the metrics' types (``levels``) or fusion's."""
    return LEVEL_TYPES if levels else PIXEL_TYPES


def _given(value: object) -> str:
    """What the caller passed as an image, for advice on converting it: ``"tensor"``, ``"list"`` or
    ``"tuple"`` (of values), else ``"array"``."""
    if is_tensor(value):
        return "tensor"
    return type(value).__name__ if isinstance(value, _SEQUENCES) else "array"


def _type_problem(array: np.ndarray, name: str, given: str, levels: bool) -> str | None:
    """Why ``array`` (what the caller ``given`` passed, as an array) holds no pixel type taken, or None."""
    kind = array.dtype.kind
    if kind == "f" or (kind == "u" and array.dtype.itemsize in (1, 2)):
        return None
    low, high = (int(array.min()), int(array.max())) if kind in "iu" and array.size else (0, 0)
    if levels and kind in "iu" and 0 <= low and high <= MAX_8BIT:
        return None
    listed = given in ("list", "tuple")
    got = f"as a {given} ({array.dtype} values as an array)" if listed else f"of dtype {array.dtype}"
    if levels and kind in "iu":
        got += f" with values outside 0..{MAX_8BIT}"
    return f"{_taken(levels)}; got {name} {got}: {_type_advice(array, given, levels)}"


def _type_advice(array: np.ndarray | None, given: str = "array", levels: bool = False) -> str:
    """What to pass instead of ``array``, pixels of a type not taken (None: values NumPy cannot hold), by
    its values (uint8 where they fit 0..255, uint16 where they fit 0..65535) and by what the caller
    ``given`` passed (an ``"array"``, a ``"tensor"``, a ``"list"`` or ``"tuple"``): the conversion it has.
    For the metrics (``levels``), values past 255 are told floats in [0, 1]: the metrics score a uint16
    image as the 8-bit image it rounds to, which would make 12-bit data (0..4095) levels 0..16.

    Example:
        >>> _type_advice(np.array([True])), _type_advice(np.array([0, 4095], np.int32), "tensor")
        ('pass x.astype(np.uint8) * 255 (0 and 255)', 'pass x.to(torch.uint16)')
        >>> print(_type_advice(np.array([0, 4095], np.int32), levels=True))  # doctest: +NORMALIZE_WHITESPACE
        pass floats in [0, 1], x / 4095 for 12-bit data (/ (2**bits - 1), or / its maximum): the metrics score
        uint16 as the 8-bit image it rounds to, which keeps 17 levels of its 0..4095
    """
    if array is None or array.dtype.kind not in "biu":  # complex, text, objects: no pixel values to go by
        return f"pass pixel values: a NumPy array of {PIXEL_TYPES.removeprefix('images must be ')}"
    low, high = (int(array.min()), int(array.max())) if array.dtype.kind != "b" and array.size else (0, MAX_8BIT)
    fits = "uint8" if 0 <= low and high <= MAX_8BIT else "uint16" if 0 <= low and high <= MAX_16BIT else None
    if fits is None:
        return (f"its values ({low} to {high}) fit neither 0..{MAX_8BIT} nor 0..{MAX_16BIT}: scale them into "
                "[0, 1] as floats, (x - x.min()) / (x.max() - x.min())")
    if levels and fits == "uint16":  # uint16 would be scored as 8 bits: high / 257 levels left
        bits = high.bit_length()
        x = "a NumPy array, np.asarray(x)" if given in ("list", "tuple") else "x"
        kept = round(high / (MAX_16BIT / MAX_8BIT)) - round(low / (MAX_16BIT / MAX_8BIT)) + 1
        return (f"pass floats in [0, 1], {x} / {2**bits - 1} for {bits}-bit data (/ (2**bits - 1), or / its maximum): "
                f"the metrics score uint16 as the 8-bit image it rounds to, which keeps {kept} "
                f"level{'' if kept == 1 else 's'} of its {low}..{high}")
    convert = (f"a NumPy array, np.asarray(x, dtype=np.{fits})" if given in ("list", "tuple")
               else f"x.to(torch.{fits})" if given == "tensor" else f"x.astype(np.{fits})")
    return f"pass {convert}" + (f" * {MAX_8BIT} (0 and {MAX_8BIT})" if array.dtype.kind == "b" else "")


__all__ = ["LEVEL_TYPES", "MAX_8BIT", "MAX_16BIT", "PIXEL_TYPES", "holds_eight_bit_values", "is_tensor", "is_uint16",
           "not_pixels", "tensor_pixels"]

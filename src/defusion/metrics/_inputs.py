"""One image checked and read as the metrics take it: an ``HxW`` or ``HxWx3`` array on 0..255.

Conventions (see ``docs/metrics.md``):

* Images are numpy arrays or CPU/GPU torch tensors (detached, read on the CPU; bfloat16 as float32),
  ``HxW`` (grey) or ``HxWx3`` (RGB), channels last; ``HxWx1`` is treated as grey. A channels-first
  shape (``CxHxW``, ``1xCxHxW``) is refused with a line saying how to pass it, never transposed.
* Metrics are defined on the 0..255 scale, as VIFB's MATLAB code (0..255 doubles): ``uint8``
  inputs are used as they are, float inputs on 0..255 too (up to ``LEVEL_SLACK`` outside it, kept
  as they are). ``uint16`` images are rounded to the 8-bit image they stand for
  (:func:`~defusion.metrics._scale.eight_bit_levels`), so that they score exactly as that image does,
  as VIFB scores 8-bit files; one whose values are all <= 255 (8-bit values in 16 bits) scores near
  black, with a ``UserWarning`` naming it. Float images whose values all lie in [0, 1] (what
  :class:`defusion.Fuser` returns for such sources; up to ``FLOAT_SLACK`` outside it, clipped) are
  brought to that scale (x * 255), each image on its own. So a 0..255 float image whose values all
  lie in [0, 1.5] is read as a [0, 1] one.
  An image whose scaled values all lie within half its float type's precision of a grey level is
  snapped to those levels (:func:`~defusion.metrics._scale.snap_levels`), so a float16 or float32
  copy of an 8-bit image scores as that image; any other image is left as it is.
  Float images on any other scale (0..65535, -128..127, -1..1, ...) raise ``ValueError``: no single
  reading of them is safe.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from defusion.errors import DefusionWarning, caller_stacklevel, channels_first_hint
from defusion.io.arrays import MAX_8BIT, holds_eight_bit_values, is_tensor, is_uint16
from defusion.metrics._cache import first_time
from defusion.metrics._errors import MetricInputError
from defusion.metrics._scale import eight_bit_levels, float_range_problem, float_scale, snap_levels

if TYPE_CHECKING:  # torch is imported only where a tensor is given
    import torch

#: The smallest side (in pixels) of an image the metrics take.
MIN_SIDE = 2


def _warn_eight_bit_values(image: object, name: str) -> None:
    """Warn that input ``name`` holds 8-bit values in 16 bits (:func:`holds_eight_bit_values`): once
    per input within a :func:`~defusion.metrics._cache.shared_inputs` block (one ``compute_metrics``
    call), not per metric."""
    if not first_time(("eight-bit values warned", name), image):
        return
    warnings.warn(f"{name}: a uint16 image whose values are all <= {MAX_8BIT} (8-bit values in 16 bits?) is "
                  f"scored as 16-bit data, near black; pass it as uint8 (.astype(np.uint8)) to score its 8-bit "
                  "values", DefusionWarning, stacklevel=caller_stacklevel())


def _tensor_array(img: torch.Tensor, name: str) -> tuple[NDArray, float]:
    """A torch tensor as a numpy array (detached, on the CPU; bfloat16 and the other float types numpy
    lacks as float32) and the machine epsilon of its own dtype, for :func:`snap_levels`."""
    import torch  # already imported: ``img`` is one of its tensors

    from defusion.io.arrays import tensor_pixels  # the fusion core reads a tensor so too

    eps = float(torch.finfo(img.dtype).eps) if img.dtype.is_floating_point else 0.0
    try:
        return tensor_pixels(img), eps
    except TypeError:
        raise MetricInputError(f"{name}: expected a uint8, uint16 or float tensor, got dtype "
                               f"{str(img.dtype).removeprefix('torch.')}") from None


def _numpy(img: ArrayLike, name: str) -> tuple[NDArray, float]:
    """``img`` as a numpy array, and the machine epsilon of the float type it came in (0 for integers)."""
    if is_tensor(img):
        return _tensor_array(img, name)
    arr = np.asarray(img)
    return arr, float(np.finfo(arr.dtype).eps) if np.issubdtype(arr.dtype, np.floating) else 0.0


def _shape_problem(shape: tuple[int, ...]) -> str:
    """Why an array of ``shape`` is no ``HxW`` or ``HxWx3`` image, saying how to pass a channels-first
    one (``CxHxW``, ``1xCxHxW``) rather than guessing its layout."""
    return f"expected an HxW or HxWx3 array, got shape {shape}{channels_first_hint(shape, (1, 3))}"


def as_image(img: ArrayLike, name: str = "image") -> NDArray:
    """Check one image and return it as an ``HxW`` or ``HxWx3`` array (dtype kept), except that
    ``uint16`` images come back as the uint8 image they round to (:func:`eight_bit_levels`; with a
    ``UserWarning`` naming ``name`` where all its values are <= 255) and
    float images in [0, 1] as float64 on 0..255 (a low-precision copy of an 8-bit image snapped to
    its levels: :func:`snap_levels`). A torch tensor is read as its numpy array (detached,
    on the CPU, bfloat16 as float32); a channels-first shape is refused, saying how to pass it.

    Floats must lie in [0, 1] (give or take ``FLOAT_SLACK``, clipped) or on 0..255 (give or take
    ``LEVEL_SLACK``): a 0..255 float image whose values all lie in [0, 1.5] is read as [0, 1], and
    any other range raises ``ValueError`` rather than giving a number on the wrong scale.

    Example:
        >>> as_image(np.array([[0.0, 1.0], [0.5, 1.0]])).tolist()
        [[0.0, 255.0], [127.5, 255.0]]
    """
    arr, eps = _numpy(img, name)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] != 3):
        raise MetricInputError(f"{name}: {_shape_problem(arr.shape)}")
    numeric = np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    if arr.dtype == bool or not numeric:
        raise MetricInputError(f"{name}: expected a uint8, uint16 or float array, got dtype {arr.dtype}")
    if arr.shape[0] < MIN_SIDE or arr.shape[1] < MIN_SIDE:
        raise MetricInputError(f"{name}: image too small ({arr.shape[1]}x{arr.shape[0]}, W x H; the metrics need "
                               f"at least {MIN_SIDE}x{MIN_SIDE})")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)):
            raise MetricInputError(f"{name}: contains NaN or infinite values")
        lo, hi = float(arr.min()), float(arr.max())
        scale = float_scale(lo, hi)
        if scale is None:
            raise MetricInputError(f"{name}: {float_range_problem(lo, hi)}")
        if scale != 1:  # [0, 1], the Fuser's float convention
            return snap_levels(np.clip(arr.astype(np.float64), 0, 1) * scale, eps)
    elif is_uint16(arr):
        if holds_eight_bit_values(arr):
            _warn_eight_bit_values(img, name)
        return eight_bit_levels(arr)
    elif arr.dtype != np.uint8 and (arr.min() < 0 or arr.max() > MAX_8BIT):
        raise MetricInputError(f"{name}: {arr.dtype} values outside 0..255; pass uint8, uint16 or float images")
    return arr

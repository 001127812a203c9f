"""One image checked and read as the metrics take it: an ``HxW`` or ``HxWx3`` array on 0..255.

Conventions (see ``docs/metrics.md``):

* Images are numpy arrays or CPU/GPU torch tensors (detached, read on the CPU; bfloat16 as float32),
  ``HxW`` (grey) or ``HxWx3`` (RGB), channels last; ``HxWx1`` is treated as grey. A channels-first
  shape (``CxHxW``, ``1xCxHxW``) is refused with a line saying how to pass it, never transposed.
  Alpha (``HxWx2``, ``HxWx4``) is refused, unlike the Fuser, which drops it: a score of an image
  with transparent pixels would depend on what they hide, and ``defusion bench`` reports a method whose
  result has alpha rather than scoring it; drop it yourself (``x[..., :3]``). A path, a list that makes no
  array, or a type no image has (bool, complex) is refused in the Fuser's words
  (:func:`~defusion.io.arrays.not_pixels`).
* Metrics are defined on the 0..255 scale, as VIFB's MATLAB code (0..255 doubles): ``uint8``
  inputs are used as they are, float inputs on 0..255 too (up to ``LEVEL_SLACK`` outside it, kept
  as they are). ``uint16`` images are rounded to the 8-bit image they stand for
  (:func:`~defusion.metrics._scale.eight_bit_levels`), so that they score exactly as that image does,
  as VIFB scores 8-bit files; one whose values are all <= 255 (8-bit values in 16 bits) scores near
  black, with a ``UserWarning`` naming it. Float images whose values all lie in [0, 1] (what
  :class:`defusion.Fuser` returns for such sources; up to ``FLOAT_SLACK`` outside it, clipped) are
  brought to that scale (x * 255), each image on its own. So a 0..255 float image whose values all
  lie in [0, 1.5] is read as a [0, 1] one. Either reading that may not be the caller's is warned of
  (a ``DefusionWarning``, once per input and call; a ``defusion: warning:`` line naming the file under a
  ``defusion`` command, :func:`input_warnings`): values clipped to [0, 1] (by how much), and a float
  image read on 0..255 whose maximum is under ``DIM_LEVELS`` (a [0, 1] image pushed past 1.5, surely).
  An image whose scaled values all lie within half its float type's precision of a grey level is
  snapped to those levels (:func:`~defusion.metrics._scale.snap_levels`), so a float16 or float32
  copy of an 8-bit image scores as that image; any other image is left as it is.
  Float images on any other scale (0..65535, -128..127, -1..1, ...) raise ``ValueError``: no single
  reading of them is safe.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Callable, Iterator

import numpy as np
from numpy.typing import ArrayLike, NDArray

from defusion.errors import channels_first_hint
from defusion.io.arrays import MAX_8BIT, holds_eight_bit_values, is_tensor, is_uint16, not_pixels
from defusion.io.front_end import current_front_end
from defusion.io.notes import warn
from defusion.io.unit_floats import FLOAT_RANGE_TOLERANCE
from defusion.metrics._cache import first_time
from defusion.metrics._errors import MetricInputError
from defusion.metrics._scale import FLOAT_SLACK, eight_bit_levels, float_range_problem, float_scale, snap_levels

if TYPE_CHECKING:  # torch is imported only where a tensor is given
    import torch

#: The smallest side (in pixels) of an image the metrics take.
MIN_SIDE = 2
#: A float image read on 0..255 (its maximum past ``1 + FLOAT_SLACK``) whose maximum is under this many grey
#: levels is warned of: black to the eye, two levels in the histogram metrics (EN <= 1 bit), so no 8-bit
#: image anyone scores, but what a [0, 1] image scaled up a little gives (the shipped mff pair's maximum
#: x 1.6 scores EN 0.67 and Qabf 0.0005; x 1.0, 7.67 and 0.61).
DIM_LEVELS = 2.0

#: What the metrics' warnings about an input are about (the ``what`` :func:`input_warnings` is told).
EIGHT_BIT_VALUES, FLOATS_CLIPPED, FLOATS_AS_LEVELS = "eight-bit values", "floats clipped", "floats read as levels"
#: Where those warnings go (:func:`input_warnings`): ``None`` says them (:func:`defusion.io.notes.warn`).
_TELL: ContextVar[Callable[[str, str, str], None] | None] = ContextVar("defusion_metrics_tell", default=None)


@contextmanager
def input_warnings(tell: Callable[[str, str, str], None]) -> Iterator[None]:
    """Inside the block, give the metrics' warnings about an input to ``tell(label, what, message)``
    (``label``: ``fused``, ``a``, ``b``, ...; ``what``: :data:`FLOATS_CLIPPED`, :data:`FLOATS_AS_LEVELS`
    or :data:`EIGHT_BIT_VALUES`) rather than saying them: for a front end that names the input its own
    way (``defusion metrics`` its file, ``defusion bench`` the method and pair, once per method).

    Example:
        >>> told = []
        >>> with input_warnings(lambda label, what, message: told.append((label, what))):
        ...     _ = as_image(np.array([[0.0, 1.3], [0.5, 1.0]]), "fused")
        >>> told
        [('fused', 'floats clipped')]
    """
    token = _TELL.set(tell)
    try:
        yield
    finally:
        _TELL.reset(token)


def _say_of_input(image: object, name: str, what: str, message: str) -> None:
    """Say ``message`` about input ``name`` (a warning: :func:`defusion.io.notes.warn`, so one
    ``defusion: warning:`` line under the ``defusion`` command and a ``DefusionWarning`` in Python), or
    give it to the front end's :func:`input_warnings`: once per input within a
    :func:`~defusion.metrics._cache.shared_inputs` block (one ``compute_metrics`` call), not per metric."""
    if not first_time((what, name), image):
        return
    tell = _TELL.get()
    if tell is None:
        warn(f"{name}: {message}")
    else:
        tell(name, what, message)


def _in_files() -> bool:
    """Whether the user reads files (a ``defusion`` command, its web UI): advice is then said in their
    words (save it as 8-bit), not Python's (``x.astype(np.uint8)``)."""
    return current_front_end() != "python"


def _warn_eight_bit_values(image: object, name: str) -> None:
    """Warn that input ``name`` holds 8-bit values in 16 bits (:func:`holds_eight_bit_values`)."""
    fix = "save it as 8-bit" if _in_files() else "pass it as uint8 (.astype(np.uint8))"
    _say_of_input(image, name, EIGHT_BIT_VALUES,
                  f"a uint16 image whose values are all <= {MAX_8BIT} (8-bit values in 16 bits?) is scored as 16-bit "
                  f"data, near black; {fix} to score its 8-bit values")


def _tensor_array(img: torch.Tensor) -> tuple[NDArray, float]:
    """A torch tensor as a numpy array (detached, on the CPU; bfloat16 and the other float types numpy
    lacks as float32) and the machine epsilon of its own dtype, for :func:`snap_levels`."""
    import torch  # already imported: ``img`` is one of its tensors

    from defusion.io.arrays import tensor_pixels  # the fusion core reads a tensor so too

    eps = float(torch.finfo(img.dtype).eps) if img.dtype.is_floating_point else 0.0
    return tensor_pixels(img), eps  # a type numpy lacks was refused first (not_pixels)


def _numpy(img: ArrayLike) -> tuple[NDArray, float]:
    """``img`` as a numpy array, and the machine epsilon of the float type it came in (0 for integers)."""
    if is_tensor(img):
        return _tensor_array(img)
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
    on the CPU, bfloat16 as float32); a channels-first shape is refused, saying how to pass it, and
    alpha (``HxWx2``, ``HxWx4``) too; a path, or a type no image has, in the Fuser's words
    (:func:`~defusion.io.arrays.not_pixels`).

    Floats must lie in [0, 1] (give or take ``FLOAT_SLACK``, clipped) or on 0..255 (give or take
    ``LEVEL_SLACK``): a 0..255 float image whose values all lie in [0, 1.5] is read as [0, 1], and
    any other range raises ``ValueError`` rather than giving a number on the wrong scale. A reading
    that may not be the caller's is warned of, once per input in a ``compute_metrics`` call
    (:func:`_warn_float_reading`).

    Example:
        >>> as_image(np.array([[0.0, 1.0], [0.5, 1.0]])).tolist()
        [[0.0, 255.0], [127.5, 255.0]]
    """
    problem = not_pixels(img, name, levels=True)
    if problem:
        raise MetricInputError(problem)
    arr, eps = _numpy(img)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] != 3):
        raise MetricInputError(f"{name}: {_shape_problem(arr.shape)}")
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
        _warn_float_reading(img, name, lo, hi, scale)
        if scale != 1:  # [0, 1], the Fuser's float convention
            return snap_levels(np.clip(arr.astype(np.float64), 0, 1) * scale, eps)
    elif is_uint16(arr):
        if holds_eight_bit_values(arr):
            _warn_eight_bit_values(img, name)
        return eight_bit_levels(arr)
    return arr


def _warn_float_reading(image: object, name: str, lo: float, hi: float, scale: float) -> None:
    """Warn (:func:`_say_of_input`: once per input ``name`` in a call) where the rule's reading of float
    values from ``lo`` to ``hi`` (:func:`float_scale`: ``scale``) may not be the caller's: clipped to
    [0, 1] by more than rounding (:data:`FLOAT_RANGE_TOLERANCE`), saying by how much, or read on 0..255
    while no brighter than :data:`DIM_LEVELS`. Nothing said otherwise. The fix is said in the user's
    words: a Python caller's (``np.clip(x, 0, 1)``), or a command's, whose user saves files.

    Example:
        >>> from defusion.io.notes import collecting
        >>> with collecting() as said:
        ...     _warn_float_reading(None, "fused", 0.0, 1.0, 255.0)  # a [0, 1] image: nothing to say
        ...     _warn_float_reading(None, "fused", -0.2, 1.3, 255.0)
        >>> [line.split(";")[0] for line in said]
        ['warning: fused: float values span -0.2..1.3, up to 0.3 outside [0, 1], clipped to it to be scored as a [0, 1] image']
    """
    files = _in_files()
    if scale == MAX_8BIT and (lo < -FLOAT_RANGE_TOLERANCE or hi > 1 + FLOAT_RANGE_TOLERANCE):
        what = FLOATS_CLIPPED
        fix = (f"save it clipped to 0..1 where that is meant, or as 8-bit where its values are levels on 0..{MAX_8BIT}"
               if files else f"clip them first (np.clip(x, 0, 1)) where that is meant, or where they are levels on "
                             f"0..{MAX_8BIT} divide them by {MAX_8BIT} (or pass them as uint8)")
        message = (f"float values span {lo:.4g}..{hi:.4g}, up to {max(-lo, hi - 1):.3g} outside [0, 1], clipped to "
                   f"it to be scored as a [0, 1] image; {fix}")
    elif scale == 1 and hi < DIM_LEVELS:
        what = FLOATS_AS_LEVELS
        fix = (f"where it is a [0, 1] image, save it clipped to 0..1; where it is levels on 0..{MAX_8BIT}, save it "
               "as 8-bit to say so" if files else
               f"where it is a [0, 1] image, clip it first (np.clip(x, 0, 1)); where it is levels on 0..{MAX_8BIT}, "
               "pass it as uint8 to say so")
        message = (f"float values span {lo:.4g}..{hi:.4g}, their maximum more than {FLOAT_SLACK:g} past 1, so read "
                   f"as levels on 0..{MAX_8BIT}, near black; {fix}")
    else:
        return
    _say_of_input(image, name, what, message)

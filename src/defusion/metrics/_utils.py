"""Shared plumbing for the fusion metrics: input checks, channel handling, MATLAB-like helpers.

Conventions (see ``docs/metrics.md``):

* Images are numpy arrays or CPU/GPU torch tensors (detached, read on the CPU; bfloat16 as float32),
  ``HxW`` (grey) or ``HxWx3`` (RGB), channels last; ``HxWx1`` is treated as grey. A channels-first
  shape (``CxHxW``, ``1xCxHxW``) is refused with a line saying how to pass it, never transposed.
* Metrics are defined on the 0..255 scale, as VIFB's MATLAB code (0..255 doubles): ``uint8``
  inputs are used as they are, float inputs on 0..255 too (up to ``LEVEL_SLACK`` outside it, kept
  as they are). ``uint16`` images are rounded to the 8-bit image they stand for
  (:func:`eight_bit_levels`), so that they score exactly as that image does, as VIFB scores 8-bit
  files; one whose values are all <= 255 (8-bit values in 16 bits) scores near black, with a
  ``UserWarning`` naming it. Float images whose values all lie in [0, 1] (what
  :class:`defusion.Fuser` returns for such sources; up to ``FLOAT_SLACK`` outside it, clipped) are
  brought to that scale (x * 255), each image on its own. So a 0..255 float image whose values all
  lie in [0, 1.5] is read as a [0, 1] one.
  An image whose scaled values all lie within half its float type's precision of a grey level is
  snapped to those levels (:func:`snap_levels`), so a float16 or float32 copy of an 8-bit image
  scores as that image; any other image is left as it is.
  Float images on any other scale (0..65535, -128..127, -1..1, ...) raise ``ValueError``: no single
  reading of them is safe.
* Metrics that compare the fused image with the sources are computed per colour channel of the
  fused image and averaged (VIFB's rule); a 1-channel source is used for every channel. When the
  fused image is grey and a source is RGB, the source is converted with MATLAB's ``rgb2gray``.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache, wraps
import sys
from typing import Iterator
import warnings

import numpy as np
from numpy.typing import ArrayLike, NDArray

from defusion.errors import DefusionError, caller_stacklevel as _caller_level, channels_first_hint
# defined there, fusion's warning of them too, and still importable from here
from defusion.io.arrays import MAX_8BIT, holds_eight_bit_values, is_uint16 as _is_uint16

Float = NDArray[np.float64]


class MetricNameError(DefusionError, KeyError):
    """A metric name the registry does not know (a KeyError, as before this class existed)."""

    def __str__(self) -> str:
        """The message as it is: ``KeyError`` would quote it (``'unknown metric(s) ...'``)."""
        return Exception.__str__(self)


class MetricInputError(DefusionError, ValueError):
    """An image the metrics refuse: not HxW or HxWx3, too small, not finite, floats on no scale they
    take, or images of different sizes (a ValueError, as before this class existed)."""


#: How far a float image may stray outside [0, 1] (an unclamped network output) and still be read
#: as a [0, 1] image (clipped): on the 0..255 scale such an image would be black.
FLOAT_SLACK = 0.5
#: How far (in grey levels) a float image on 0..255 may stray outside it and still be taken as
#: it is: half a grey level, i.e. values that round into 0..255. Anything further is on another
#: scale, or needs clipping by the caller.
LEVEL_SLACK = 0.5
#: One 8-bit grey level in 16-bit units (65535 / 255): a uint16 value x stands for level x / 257.
UINT16_PER_LEVEL = 257
#: MATLAB ``rgb2gray`` weights (from the inverse of the NTSC YIQ transform).
RGB2GRAY = (0.298936021293775, 0.587043074451121, 0.114020904255103)


#: Conversions already done inside one ``compute_metrics`` call, keyed by function and the
#: identities of the (live, unmodified) input arrays; ``None`` outside such a call.
_CACHE: ContextVar[dict | None] = ContextVar("defusion_metrics_cache", default=None)


@contextmanager
def shared_inputs() -> Iterator[None]:
    """Within this block, repeated input conversions of the same array objects are reused
    (nested blocks share the outermost block's conversions)."""
    if _CACHE.get() is not None:
        yield
        return
    token = _CACHE.set({})
    try:
        yield
    finally:
        _CACHE.reset(token)


def _cached(fn):
    """Memoise ``fn(*arrays)`` by argument identity while ``shared_inputs`` is active.

    Results are made read-only so that no metric can alter what another one reads."""

    @wraps(fn)
    def wrapper(*args):
        cache = _CACHE.get()
        if cache is None:
            return fn(*args)
        key = (fn.__name__,) + tuple(x if isinstance(x, str) else id(x) for x in args)
        if key not in cache:
            out = fn(*args)
            for arr in out if isinstance(out, tuple) else (out,):
                arr.flags.writeable = False
            cache[key] = (out, args)  # keep the inputs alive so that their ids stay unique
        return cache[key][0]

    return wrapper


def matlab_round(x: ArrayLike) -> Float:
    """Round half away from zero, as MATLAB's ``round`` (numpy rounds half to even)."""
    x = np.asarray(x, dtype=np.float64)
    r = np.floor(np.abs(x) + 0.5)
    return np.copysign(r, x, out=r)


def eight_bit_levels(image: NDArray) -> NDArray[np.uint8]:
    """A ``uint16`` image as the 8-bit image it stands for: x / 257 rounded to the nearest level
    (in exact integer arithmetic; no x / 257 lies half-way between two levels). The one conversion
    of 16-bit data to the 0..255 scale: :func:`as_image` applies it to arrays, ``defusion metrics``
    and ``defusion bench`` to 16-bit files (:func:`defusion.benchmark.runner.read_scored`), so a
    16-bit image scores exactly as its 8-bit rounding everywhere.

    Example:
        >>> eight_bit_levels(np.array([0, 128, 129, 257, 65535], np.uint16)).tolist()
        [0, 0, 1, 1, 255]
    """
    wide = np.asarray(image).astype(np.uint32)
    return ((wide + UINT16_PER_LEVEL // 2) // UINT16_PER_LEVEL).astype(np.uint8)


def _warn_eight_bit_values(image: object, name: str) -> None:
    """Warn that input ``name`` holds 8-bit values in 16 bits (:func:`holds_eight_bit_values`): once
    per input within a :func:`shared_inputs` block (one ``compute_metrics`` call), not per metric."""
    cache = _CACHE.get()
    if cache is not None:
        key = ("eight-bit values warned", name, id(image))
        if key in cache:
            return
        cache[key] = (None, (image,))  # keep the input alive so that its id stays unique
    warnings.warn(f"{name}: a uint16 image whose values are all <= {MAX_8BIT} (8-bit values in 16 bits?) is "
                  f"scored as 16-bit data, near black; pass it as uint8 (.astype(np.uint8)) to score its 8-bit "
                  "values", UserWarning, stacklevel=_caller_level())


def size_mismatch(sizes: dict[str, tuple[int, ...]]) -> str | None:
    """The one line refusing images whose heights and widths differ, sizes given as ``{name: shape}``
    and said as W x H (as everywhere else in defusion); ``None`` where they agree.

    Example:
        >>> size_mismatch({"fused": (40, 64), "a": (64, 64), "b": (64, 64)})
        'size mismatch (W x H): fused 64x40, a 64x64, b 64x64'
    """
    if len({tuple(shape[:2]) for shape in sizes.values()}) <= 1:
        return None
    return "size mismatch (W x H): " + ", ".join(f"{name} {shape[1]}x{shape[0]}" for name, shape in sizes.items())


def source_labels(count: int) -> list[str]:
    """What ``count`` sources are called in messages, as ``defusion metrics`` calls them: ``a``, ``b``,
    then ``source 3``, ...

    Example:
        >>> source_labels(4)
        ['a', 'b', 'source 3', 'source 4']
    """
    return ["a", "b", *(f"source {i}" for i in range(3, count + 1))][:count]


def is_tensor(img: object) -> bool:
    """Whether ``img`` is a torch tensor (subclasses included: torchvision's tv_tensors), asked of torch
    only where it is already imported, so that the metrics never import it (they run without it)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(img, torch.Tensor)


def _tensor_array(img, name: str) -> tuple[NDArray, float]:
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


#: Slack on :func:`snap_levels`' half-ulp test: the float64 product x * 255 adds its own rounding.
_SNAP_SLACK = 1e-9


def snap_levels(levels: Float, eps: float) -> Float:
    """``levels`` (a [0, 1] float image scaled to 0..255, in float64) set to whole grey levels, in
    place, where it is a low-precision copy of an 8-bit image: every value lies within half a unit in
    the last place of its input dtype (machine epsilon ``eps``) of a level, which is how k / 255 is
    stored. Such a copy would otherwise floor levels a bin low in the histogram metrics (131 of 256
    for float16) and break Qabf's exact ``g_S == g_F`` test. An image with any value further from a
    level (real in-between values: a blend, a network's output) is left exactly as it is.

    Example:
        >>> k = np.arange(256.0)
        >>> x = (k / 255).astype(np.float16).astype(np.float64) * 255
        >>> int((np.floor(x) != k).sum()), int((snap_levels(x, 2.0**-10) != k).sum())
        (131, 0)
        >>> y = ((k + 0.2) / 255).astype(np.float16).astype(np.float64) * 255  # between levels
        >>> bool(np.array_equal(snap_levels(y.copy(), 2.0**-10), y))
        True
    """
    whole = np.round(levels)
    values = np.maximum(np.abs(levels) / 255, np.finfo(np.float64).tiny)
    half_ulp = 255 * eps * np.exp2(np.floor(np.log2(values))) / 2  # of the input dtype, at each value
    if np.all(np.abs(levels - whole) <= half_ulp + _SNAP_SLACK):
        np.copyto(levels, whole)
    return levels


def as_image(img: ArrayLike, name: str = "image") -> NDArray:
    """Check one image and return it as an ``HxW`` or ``HxWx3`` array (dtype kept), except that
    ``uint16`` images come back as the uint8 image they round to (:func:`eight_bit_levels`; with a
    ``UserWarning`` naming ``name`` where all its values are <= 255) and
    float images in [0, 1] as float64 on 0..255 (a low-precision copy of an 8-bit image snapped to
    its levels: :func:`snap_levels`). A torch tensor is read as its numpy array (detached,
    on the CPU, bfloat16 as float32); a channels-first shape is refused, saying how to pass it.

    Floats must lie in [0, 1] (give or take ``FLOAT_SLACK``, clipped) or on 0..255 (give or take
    ``LEVEL_SLACK``): a 0..255 float image whose values all lie in [0, 1.5] is read as [0, 1], and
    any other range raises ``ValueError`` rather than giving a number on the wrong scale."""
    arr, eps = _numpy(img, name)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] != 3):
        raise MetricInputError(f"{name}: {_shape_problem(arr.shape)}")
    numeric = np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    if arr.dtype == bool or not numeric:
        raise MetricInputError(f"{name}: expected a uint8, uint16 or float array, got dtype {arr.dtype}")
    if arr.shape[0] < 2 or arr.shape[1] < 2:
        raise MetricInputError(f"{name}: image too small ({arr.shape[1]}x{arr.shape[0]}, W x H; the metrics need at least 2x2)")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(np.isfinite(arr)):
            raise MetricInputError(f"{name}: contains NaN or infinite values")
        lo, hi = float(arr.min()), float(arr.max())
        scale = float_scale(lo, hi)
        if scale is None:
            raise MetricInputError(f"{name}: {float_range_problem(lo, hi)}")
        if scale != 1:  # [0, 1], the Fuser's float convention
            return snap_levels(np.clip(arr.astype(np.float64), 0, 1) * scale, eps)
    elif _is_uint16(arr):
        if holds_eight_bit_values(arr):
            _warn_eight_bit_values(img, name)
        return eight_bit_levels(arr)
    elif arr.dtype != np.uint8 and (arr.min() < 0 or arr.max() > 255):
        raise MetricInputError(f"{name}: {arr.dtype} values outside 0..255; pass uint8, uint16 or float images")
    return arr


def float_scale(lo: float, hi: float) -> float | None:
    """What float values from ``lo`` to ``hi`` are multiplied by to be on the 0..255 scale: 255
    where they lie in [0, 1] (give or take ``FLOAT_SLACK``: then clipped to it), 1 where they lie on
    0..255 (give or take ``LEVEL_SLACK``); None for any other range, which no one reading suits.
    The rule :func:`as_image` applies, and :func:`defusion.io.images.read_image` for files read to
    be scored, so that a float file scores as its array does.

    Example:
        >>> float_scale(0.0, 1.0), float_scale(60.0, 187.0), float_scale(-5.0, 40.0)
        (255.0, 1.0, None)
    """
    if lo >= -FLOAT_SLACK and hi <= 1 + FLOAT_SLACK:
        return 255.0
    if lo >= -LEVEL_SLACK and hi <= 255 + LEVEL_SLACK:
        return 1.0
    return None


def float_range_problem(lo: float, hi: float) -> str:
    """Why float values from ``lo`` to ``hi`` (:func:`float_scale` None) cannot be scored, for an error line.

    Example:
        >>> float_range_problem(-5.0, 40.0).split(";")[0]
        'float values span -5..40, neither 0..1 nor 0..255 (the two float scales the metrics take)'
    """
    return (f"float values span {lo:.6g}..{hi:.6g}, neither 0..1 nor 0..255 (the two float scales the metrics "
            "take); rescale or clip the image to one of them")


def rgb2gray(img: NDArray) -> Float:
    """MATLAB ``rgb2gray``: luma with the weights above, rounded when the input holds 8-bit levels: an
    integer image (MATLAB's rule for the uint8 images VIFB reads), or a float copy of one (whole levels
    after :func:`as_image`'s scaling and :func:`snap_levels`), so that such a copy scores as its image.

    Example:
        >>> rgb = np.array([[[200, 10, 30]]], np.uint8)
        >>> rgb2gray(rgb).item(), rgb2gray(rgb.astype(np.float64)).item(), round(rgb2gray(rgb + 0.25).item(), 3)
        (69.0, 69.0, 69.328)
    """
    grey = unrounded_gray(img)
    if np.issubdtype(img.dtype, np.integer) or np.array_equal(img, np.round(img)):
        grey = matlab_round(grey)
    return grey


def unrounded_gray(img: NDArray) -> Float:
    """MATLAB ``rgb2gray(double(img))``: the luma, never rounded (what ``metricsQp.m`` computes)."""
    return np.tensordot(img.astype(np.float64), np.asarray(RGB2GRAY), axes=([2], [0]))


@_cached
def to_gray(img: ArrayLike, name: str = "image") -> Float:
    """One ``HxW`` float64 plane: the image itself if grey, else its MATLAB ``rgb2gray``."""
    arr = as_image(img, name)
    return arr.astype(np.float64) if arr.ndim == 2 else rgb2gray(arr)


@_cached
def planes(fused: ArrayLike) -> Float:
    """The fused image as a ``(C, H, W)`` float64 stack (C = 1 or 3)."""
    arr = as_image(fused, "fused")
    return _stack(arr)


def _stack(arr: NDArray) -> Float:
    """``HxW`` or ``HxWxC`` -> C-contiguous float64 ``(C, H, W)`` (fast reductions/filters)."""
    return np.ascontiguousarray(arr[None] if arr.ndim == 2 else np.moveaxis(arr, 2, 0), dtype=np.float64)


@_cached
def triplet(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> tuple[Float, Float, Float]:
    """``(F, A, B)`` as ``(C, H, W)`` float64 stacks with VIFB's channel rules.

    C is the fused image's channel count. A 1-channel source (or an RGB one with R = G = B) is
    repeated (as a view) for every channel; an RGB source with a grey fused image is converted
    with MATLAB ``rgb2gray``.
    """
    F, (A, B) = fused_and_sources(fused, a, b)
    return F, A, B


def fused_and_sources(fused: ArrayLike, *sources: ArrayLike) -> tuple[Float, list[Float]]:
    """``(F, [S1, S2, ...])`` as :func:`triplet` gives a pair's, for any number of sources (a
    bracket or focus stack); the sources are labelled ``a``, ``b``, then ``source 3``, ... in errors.

    Example:
        >>> x = np.zeros((4, 5, 3), np.uint8)
        >>> F, srcs = fused_and_sources(x, x[..., 0], x, x)
        >>> F.shape, [s.shape for s in srcs]
        ((3, 4, 5), [(3, 4, 5), (3, 4, 5), (3, 4, 5)])
    """
    f = as_image(fused, "fused")
    labels = ["a", "b", *(f"source {i}" for i in range(3, len(sources) + 1))][:len(sources)]
    srcs = [as_image(s, label) for s, label in zip(sources, labels)]
    mismatch = size_mismatch({"fused": f.shape, **{label: s.shape for label, s in zip(labels, srcs)}})
    if mismatch:
        raise MetricInputError(mismatch)
    F = planes(f)
    out = []
    for s in srcs:
        if s.ndim == 3 and F.shape[0] == 1:
            s = rgb2gray(s)
        if s.ndim == 3 and np.array_equal(s[..., 0], s[..., 1]) and np.array_equal(s[..., 0], s[..., 2]):
            s = s[..., 0]  # R = G = B: one plane, shared by every channel (same values, less work)
        out.append(np.broadcast_to(_stack(s), F.shape))
    return F, out


def hist256(x: Float) -> NDArray[np.int64]:
    """Histograms of 256 grey levels (values floored and clipped to 0..255), one per leading index."""
    idx = np.clip(np.floor(x), 0, 255).astype(np.int64).reshape(x.shape[0], -1)
    offs = (np.arange(x.shape[0]) * 256)[:, None]
    return np.bincount((idx + offs).ravel(), minlength=256 * x.shape[0]).reshape(x.shape[0], 256)


# --------------------------------------------------------------------------- filters


def uniq(x: Float) -> Float:
    """``x[:1]`` when the planes of a ``(C, H, W)`` stack are one repeated plane, else ``x``.

    Work on a repeated source plane (a grey IR image used for every fused channel) is then done
    once; numpy broadcasting restores the channel axis in later arithmetic."""
    return x[:1] if x.ndim == 3 and x.shape[0] > 1 and x.strides[0] == 0 else x


@lru_cache(maxsize=32)
def gaussian_1d(size: int, sigma: float) -> Float:
    """Normalised 1-D Gaussian; ``outer(g, g)`` equals MATLAB ``fspecial('gaussian', size, sigma)``."""
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-(x * x) / (2.0 * sigma * sigma))
    return g / g.sum()


def correlate_sep(x: Float, g_rows: Float, g_cols: Float) -> Float:
    """Separable 'same'-size correlation over the last two axes with zero padding.

    ``g_rows`` runs down the rows (vertical), ``g_cols`` along them; both odd-length, centred.
    Uses OpenCV's double-precision separable filter (about 2x faster than scipy.ndimage)."""
    import cv2

    flat = x.reshape((-1,) + x.shape[-2:])
    out = np.empty(flat.shape)
    for i, plane in enumerate(flat):
        out[i] = cv2.sepFilter2D(np.ascontiguousarray(plane), cv2.CV_64F, g_cols, g_rows,
                                 borderType=cv2.BORDER_CONSTANT)
    return out.reshape(x.shape)


def filter_valid(x: Float, g: Float) -> Float:
    """MATLAB ``filter2(outer(g, g), x, 'valid')`` over the last two axes (g odd-length)."""
    r = len(g) // 2
    y = correlate_sep(x, g, g)
    return y[..., r:y.shape[-2] - r, r:y.shape[-1] - r]


def sobel(x: Float, mode: str = "constant") -> tuple[Float, Float]:
    """Correlations with ``[-1 0 1; -2 0 2; -1 0 1]`` (dx) and its transpose (dy), 'same' size.

    ``mode``: 'constant' (zero padding, MATLAB filter2/conv2), 'nearest' (replicate, imfilter
    'replicate') or 'mirror' (reflection without repeating the edge pixel). Exact for integers.
    """
    pad = {"constant": "constant", "nearest": "edge", "mirror": "reflect"}[mode]
    p = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(1, 1), (1, 1)], mode=pad)
    v = p[..., :-2, :] + 2.0 * p[..., 1:-1, :] + p[..., 2:, :]  # vertical [1 2 1]
    h = p[..., :, :-2] + 2.0 * p[..., :, 1:-1] + p[..., :, 2:]  # horizontal [1 2 1]
    return v[..., :, 2:] - v[..., :, :-2], h[..., 2:, :] - h[..., :-2, :]


def box_sum_valid(x: Float, w: int) -> Float:
    """Sum over every ``w x w`` window ('valid'), via an integral image: exact for integer data."""
    s = np.zeros(x.shape[:-2] + (x.shape[-2] + 1, x.shape[-1] + 1))
    s[..., 1:, 1:] = x.cumsum(-2).cumsum(-1)
    return s[..., w:, w:] - s[..., :-w, w:] - s[..., w:, :-w] + s[..., :-w, :-w]


def freqspace(h: int, w: int) -> tuple[Float, Float]:
    """MATLAB ``freqspace([h, w], 'meshgrid')``: (u, v) grids in [-1, 1), zero at index n//2."""
    fx = (np.arange(w) - w // 2) * (2.0 / w)
    fy = (np.arange(h) - h // 2) * (2.0 / h)
    return np.meshgrid(fx, fy)


def filter_freq_even(x: Float, centred_response: Float) -> Float:
    """``ifft2(ifftshift(fftshift(fft2(x)) .* H))`` for a real image and an *even* real response.

    H sampled on MATLAB's ``freqspace`` grid as a function of the radius only is even
    (``H(-k) = H(k)``, the Nyquist row/column being its own partner), so the exact result is
    real: MATLAB's complex output differs only by rounding noise (~1e-16 relative) in its
    imaginary part. Computed with real FFTs."""
    h, w = x.shape[-2:]
    half = np.fft.ifftshift(centred_response, axes=(-2, -1))[..., : w // 2 + 1]
    return np.fft.irfft2(np.fft.rfft2(x) * half, s=(h, w))


def normalize255(x: Float) -> Float:
    """Z. Liu's ``normalize1``: stretch each ``HxW`` plane to 0..255 and round (MATLAB round).

    A plane that is all zeros is returned as is; another constant plane gives NaN, as in MATLAB.
    """
    lo = x.min(axis=(-2, -1), keepdims=True)
    hi = x.max(axis=(-2, -1), keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = matlab_round((x - lo) / (hi - lo) * 255.0)
    zero = ((hi == 0) & (lo == 0)).reshape(-1)
    if zero.any():
        out = out.copy()
        flat_x = x.reshape((-1,) + x.shape[-2:])
        flat_o = out.reshape((-1,) + x.shape[-2:])
        flat_o[zero] = flat_x[zero]
    return out


def downsample2(x: Float) -> Float:
    """MATLAB ``imfilter(x, ones(2)/4, 'symmetric', 'same')`` then ``x(1:2:end, 1:2:end)``."""
    h, w = x.shape[-2:]
    pad = [(0, 0)] * (x.ndim - 2) + [(0, 1), (0, 1)]
    p = np.pad(x, pad, mode="edge")
    s = p[..., :-1, :-1] + p[..., 1:, :-1] + p[..., :-1, 1:] + p[..., 1:, 1:]
    return (s / 4.0)[..., 0:h:2, 0:w:2]

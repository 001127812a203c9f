"""VIFB's channel rules: the fused image and its sources as ``(C, H, W)`` float64 stacks, C being the
fused image's channel count.

Metrics that compare the fused image with the sources are computed per colour channel of the fused
image and averaged; a 1-channel source is used for every channel (a broadcast view: one plane
repeated, see :func:`collapse_repeated_planes`). When the fused image is grey and a source is RGB,
the source is converted with MATLAB's ``rgb2gray``: rounded where it holds 8-bit levels, as MATLAB
converts the uint8 images VIFB reads, but unrounded for Qabf, whose ``metricsQabf.m`` converts
``double(img)``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from defusion.metrics._cache import cached, source_cached
from defusion.metrics._errors import check_same_size, source_labels
from defusion.metrics._inputs import as_image
from defusion.metrics._matlab import Float, rgb2gray


@cached
def to_gray(img: ArrayLike, name: str = "image") -> Float:
    """One ``HxW`` float64 plane: the image itself if grey, else its MATLAB ``rgb2gray``.

    Example:
        >>> to_gray(np.array([[[200, 10, 30]] * 2] * 2, np.uint8)).tolist()
        [[69.0, 69.0], [69.0, 69.0]]
    """
    return _gray(img, name)


@source_cached
def source_gray(source: ArrayLike, label: str) -> Float:
    """:func:`to_gray` of a source, kept as a source's own quantity
    (:func:`~defusion.metrics._cache.source_cached`): once per call, or per
    ``shared_inputs(sources=True)`` block, never from an earlier call on a buffer refilled since.

    Example:
        >>> source_gray(np.array([[[200, 10, 30]] * 2] * 2, np.uint8), "a").tolist()
        [[69.0, 69.0], [69.0, 69.0]]
    """
    return _gray(source, label)


def _gray(img: ArrayLike, name: str) -> Float:
    """:func:`to_gray`'s plane, uncached."""
    arr = as_image(img, name)
    return arr.astype(np.float64) if arr.ndim == 2 else rgb2gray(arr)


@cached
def planes(fused: ArrayLike) -> Float:
    """The fused image as a ``(C, H, W)`` float64 stack (C = 1 or 3).

    Example:
        >>> planes(np.zeros((4, 5, 3), np.uint8)).shape
        (3, 4, 5)
    """
    arr = as_image(fused, "fused")
    return _stack(arr)


def _stack(arr: NDArray) -> Float:
    """``HxW`` or ``HxWxC`` -> C-contiguous float64 ``(C, H, W)`` (fast reductions/filters)."""
    return np.ascontiguousarray(arr[None] if arr.ndim == 2 else np.moveaxis(arr, 2, 0), dtype=np.float64)


@cached
def triplet(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> tuple[Float, Float, Float]:
    """``(F, A, B)`` as ``(C, H, W)`` float64 stacks with VIFB's channel rules.

    C is the fused image's channel count. A 1-channel source (or an RGB one with R = G = B) is
    repeated (as a view) for every channel; an RGB source with a grey fused image is converted
    with MATLAB ``rgb2gray``.

    Example:
        >>> x = np.zeros((4, 5, 3), np.uint8)
        >>> [s.shape for s in triplet(x, x[..., 0], x)]
        [(3, 4, 5), (3, 4, 5), (3, 4, 5)]
    """
    F, (A, B) = fused_and_sources(fused, a, b)
    return F, A, B


def fused_and_sources(fused: ArrayLike, *sources: ArrayLike, to_grey: Callable[[NDArray], Float] = rgb2gray
                      ) -> tuple[Float, list[Float]]:
    """``(F, [S1, S2, ...])`` as :func:`triplet` gives a pair's, for any number of sources (a
    bracket or focus stack); the sources are labelled ``a``, ``b``, then ``source 3``, ... in errors.
    ``to_grey`` converts an RGB source for a grey fused image: :func:`~defusion.metrics._matlab.rgb2gray`
    (rounded, as MATLAB converts the uint8 images most of VIFB's metrics take), or
    :func:`~defusion.metrics._matlab.unrounded_gray` for a metric whose code converts ``double(img)``
    (``metricsQabf.m``). An RGB source with R = G = B is its one plane as it is, never converted: its
    ``rgb2gray`` up to the last bit of a double (the weights' sum rounds below 1), which would break
    Qabf's exact ``g_S == g_F`` test where the fused image copies it.

    Example:
        >>> x = np.zeros((4, 5, 3), np.uint8)
        >>> F, srcs = fused_and_sources(x, x[..., 0], x, x)
        >>> F.shape, [s.shape for s in srcs]
        ((3, 4, 5), [(3, 4, 5), (3, 4, 5), (3, 4, 5)])
        >>> from defusion.metrics._matlab import unrounded_gray
        >>> rgb = np.array([[[200, 10, 30]] * 2] * 2, np.uint8)
        >>> grey = [fused_and_sources(rgb[..., 0], rgb, rgb, to_grey=f)[1][0] for f in (rgb2gray, unrounded_gray)]
        >>> [round(g.item(0), 3) for g in grey]
        [69.0, 69.078]
    """
    F = planes(fused)  # of the input as given (checked and scaled once): the very array EN, SD, ... read
    labels = source_labels(len(sources))
    srcs = [_source_image(s, label) for s, label in zip(sources, labels)]
    check_same_size(F.shape[1:], [s.shape for s in srcs])
    return F, [source_stack(s, F.shape[0], to_grey) for s in srcs]


@source_cached
def _source_image(source: ArrayLike, label: str) -> NDArray:
    """:func:`as_image` of a source, once per call or ``shared_inputs(sources=True)`` block
    (:func:`~defusion.metrics._cache.source_cached`): the same array object for every metric (and, in
    such a block, every fused image) scored against it, which the sources' own quantities
    (:func:`source_stack`, then each metric's) are cached by."""
    return as_image(source, label)


@source_cached
def source_stack(s: NDArray, channels: int, to_grey: Callable[[NDArray], Float] = rgb2gray) -> Float:
    """A source image (checked: :func:`as_image`) as a ``(channels, H, W)`` float64 stack for a fused
    image of ``channels`` planes, with :func:`fused_and_sources`' rules (a grey or R = G = B source one
    broadcast plane; an RGB one for a grey fused image converted by ``to_grey``). Cached
    (:func:`~defusion.metrics._cache.source_cached`), so that in one call, or a
    ``shared_inputs(sources=True)`` block, a source is one stack object, whatever metric or fused image it
    is compared with: each metric's quantities of the source alone are cached by it.

    Example:
        >>> source_stack(np.zeros((4, 5), np.uint8), 3).strides[0]  # one plane, repeated
        0
    """
    if s.ndim == 3 and np.array_equal(s[..., 0], s[..., 1]) and np.array_equal(s[..., 0], s[..., 2]):
        s = s[..., 0]  # R = G = B: one plane, shared by every channel (same values, less work)
    if s.ndim == 3 and channels == 1:
        s = to_grey(s)
    return np.broadcast_to(_stack(s), (channels, *s.shape[:2]))


def collapse_repeated_planes(x: Float) -> Float:
    """``x[:1]`` when the planes of a ``(C, H, W)`` stack are one repeated plane (a broadcast view,
    as :func:`fused_and_sources` makes of a grey source), else ``x`` itself.

    Work on a repeated source plane (a grey IR image used for every fused channel) is then done
    once; numpy broadcasting restores the channel axis in later arithmetic.

    Example:
        >>> grey = np.broadcast_to(np.zeros((1, 4, 5)), (3, 4, 5))
        >>> collapse_repeated_planes(grey).shape, collapse_repeated_planes(np.zeros((3, 4, 5))).shape
        ((1, 4, 5), (3, 4, 5))
    """
    return x[:1] if x.ndim == 3 and x.shape[0] > 1 and x.strides[0] == 0 else x

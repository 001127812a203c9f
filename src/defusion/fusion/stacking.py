"""Fusing two or more images pairwise: the order they are fused in (``options.order``), where a
stack splits into the two parts fused last (``options.stack``), a part's fusion, and per-source
weights put back in the caller's order. :meth:`defusion.fusion.fuser.Fuser.fusion` runs the pairs.

Example:
    >>> import numpy as np
    >>> order = input_ranking([np.full(4, 0.5), np.full(4, 0.2), np.full(4, 0.8)], "bright-first")
    >>> order, [float(w[0]) for w in unrank([np.full(1, 0.8), np.full(1, 0.5), np.full(1, 0.2)], order)]
    ([2, 0, 1], [0.5, 0.2, 0.8])
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from defusion.fusion.errors import OptionsError
from defusion.fusion.options import INPUT_ORDERS, InputOrder, StackOrder


def input_ranking(inputs: list[np.ndarray], order: InputOrder = "given") -> list[int]:
    """The indices of ``inputs`` in ``order`` (INPUT_ORDERS): as given, or stably sorted by mean
    brightness (``exposure``: a pair darker first, more brightest first).

    Example:
        >>> input_ranking([np.full(4, 0.5), np.full(4, 0.2), np.full(4, 0.8)], "bright-first")
        [2, 0, 1]
    """
    if order not in INPUT_ORDERS:
        raise OptionsError(f"unknown input order {order!r}; use one of {', '.join(INPUT_ORDERS)}")
    if order == "given":
        return list(range(len(inputs)))
    if order == "exposure":
        order = "dark-first" if len(inputs) == 2 else "bright-first"
    brightness = [_brightness(im) for im in inputs]
    return sorted(range(len(inputs)), key=lambda i: -brightness[i] if order == "bright-first" else brightness[i])


def _brightness(image: np.ndarray) -> float:
    """The mean of ``image``'s values; of a plane repeated in three channels (a grey network input,
    :func:`defusion.fusion.color.grey_rgb`) taken over the three stored, as before such inputs shared
    one plane: the same float sum, so the same order of a stack (a mean's rounding depends on how the
    values lie in memory)."""
    if image.ndim == 3 and image.strides[-1] == 0:
        image = np.ascontiguousarray(image)
    return float(np.mean(image))


def split_point(count: int, stack: StackOrder) -> int:
    """How many of ``count`` images (in fusion order) go into the first of the two parts fused last:
    all but the last (``sequential``: each image fused into the result so far), or the larger half
    (``balanced``: a tree).

    Example:
        >>> split_point(5, "sequential"), split_point(5, "balanced"), split_point(4, "balanced")
        (4, 3, 2)
    """
    return count - 1 if stack == "sequential" else (count + 1) // 2


class Stacked(NamedTuple):
    """A (partial) fusion of a stack: the HxWx3 network-input image it gives (None for the whole
    stack's with pixels="sources", whose fused pixels are the sources' own, weighed), and with
    pixels="sources" each input's HxW weight in it (None: the network's reconstruction)."""

    image: np.ndarray | None
    weights: list[np.ndarray] | None


def unrank(weights: list[np.ndarray], order: list[int]) -> list[np.ndarray]:
    """Weights listed in fusion ``order`` back in the callers' order of the images.

    Example:
        >>> order = [2, 0, 1]  # the third image fused first (input_ranking's "bright-first")
        >>> [float(w[0]) for w in unrank([np.full(1, 0.7), np.full(1, 0.1), np.full(1, 0.2)], order)]
        [0.1, 0.2, 0.7]
    """
    unranked: list[np.ndarray] = [np.empty(0)] * len(order)
    for weight, index in zip(weights, order):
        unranked[index] = weight
    return unranked


__all__ = ["Stacked", "input_ranking", "split_point", "unrank"]

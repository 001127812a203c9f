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


def unrank(weights: list[np.ndarray], order: list[int], count: int | None = None) -> list[np.ndarray]:
    """Weights listed in fusion ``order`` back in the callers' order of the images; of ``count`` images
    (default: as many as ``order`` lists), those ``order`` left out (:func:`without_flat`) weighing zero.

    Example:
        >>> order = [2, 0, 1]  # the third image fused first (input_ranking's "bright-first")
        >>> [float(w[0]) for w in unrank([np.full(1, 0.7), np.full(1, 0.1), np.full(1, 0.2)], order)]
        [0.1, 0.2, 0.7]
        >>> [float(w[0]) for w in unrank([np.full(1, 0.7), np.full(1, 0.3)], [2, 0], 3)]  # the second left out
        [0.3, 0.0, 0.7]
    """
    count = len(order) if count is None else count
    zero = np.zeros(weights[0].shape, np.float32) if weights else np.empty(0)
    unranked: list[np.ndarray] = [zero] * count
    for weight, index in zip(weights, order):
        unranked[index] = weight
    return unranked


#: A shot whose luminance spans less than this (from its 1st to its 99th percentile, of [0, 1]) is one
#: value: a misfire (no flash, the lens cap, a blown frame). 4/255: JPEG noise on a black or white frame
#: spans 0-2 levels, a real photo's smoothest (fog, a grey card under light falloff) more than 4.
FLAT_SPREAD = 4 / 255
#: Pixels between the samples that measure a shot's spread (a percentile of every pixel costs a sort).
FLAT_SAMPLING = 4


def is_flat(image: np.ndarray) -> bool:
    """Whether ``image`` (HxW or HxWxC float in [0, 1]) is (nearly) one value: FLAT_SPREAD.

    Example:
        >>> is_flat(np.zeros((8, 8, 3))), is_flat(np.linspace(0, 1, 64).reshape(8, 8))
        (True, False)
    """
    sample = np.asarray(image)[::FLAT_SAMPLING, ::FLAT_SAMPLING]
    if sample.ndim == 3:
        sample = sample[..., :3].mean(axis=2)
    if not sample.size:
        return False
    low, high = np.percentile(sample, [1, 99])
    return bool(high - low < FLAT_SPREAD)


def without_flat(inputs: list[np.ndarray], order: list[int]) -> tuple[list[int], list[int]]:
    """``order`` (:func:`input_ranking`'s) without the focus stack's flat shots (:func:`is_flat`), and those
    left out: a flat shot has no detail to give, yet the network's unique projection of it is not flat,
    and won focus choices in a stack's smooth areas (black patches in the fused image). All are kept
    where fewer than two others would be left.

    Example:
        >>> shots = [np.random.default_rng(0).random((8, 8)), np.zeros((8, 8)), np.eye(8)]
        >>> without_flat(shots, [0, 1, 2])
        ([0, 2], [1])
        >>> without_flat(shots[:2], [0, 1])  # a pair: nothing to choose from
        ([0, 1], [])
    """
    flat = [index for index in order if is_flat(inputs[index])]
    if len(order) - len(flat) < 2:
        return list(order), []
    return [index for index in order if index not in flat], flat


def flat_warning(names: list[str], flat: list[int]) -> str | None:
    """One line naming the shots :func:`without_flat` left out (``names``: all shots', in the order
    given), for the CLI's notes; None where none was.

    Example:
        >>> flat_warning(["IMG_1.jpg", "black.jpg", "IMG_3.jpg"], [1])
        'black.jpg is (nearly) one value, a misfire?: left out of the focus choice'
    """
    if not flat:
        return None
    which = ", ".join(names[i] for i in flat)
    return f"{which} {'is' if len(flat) == 1 else 'are'} (nearly) one value, a misfire?: left out of the focus choice"


__all__ = ["Stacked", "FLAT_SPREAD", "flat_warning", "input_ranking", "is_flat", "split_point", "unrank",
           "without_flat"]

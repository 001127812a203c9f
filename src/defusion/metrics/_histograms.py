"""Grey-level histograms of the histogram metrics (MI, MI-bits, NMI, Qncie, TE): the min-max stretch to
0..255 their MATLAB code applies first, the 256x256 joint histogram of two level images, and entropies.

Each metric keeps its own order of operations where the MATLAB code it follows differs: VIFB's MI
(``information``) takes the marginals from the normalised joint histogram, MEFB's NMI and Qncie
(:func:`joint_entropies`) from the counts, which can differ in the last bits (a flat fused image's MI
reads about 1e-15 by the first, exactly 0 by the second); sharing the pieces leaves every value as it
was, to the last bit.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from numpy.typing import NDArray

from defusion.metrics._cache import source_cached
from defusion.metrics._channels import collapse_repeated_planes
from defusion.metrics._matlab import GREY_LEVELS, Float, matlab_round

__all__ = ["TOP_LEVEL", "joint_entropies", "joint_histogram", "shannon", "source_levels", "stretch_levels"]

#: The top grey level, 255: what a stretched plane's maximum becomes.
TOP_LEVEL = GREY_LEVELS - 1


def stretch_levels(x: Float) -> NDArray[np.int64]:
    """Each ``HxW`` plane min-max stretched to 0..255 and MATLAB-rounded, as integer levels.

    Why: VIFB's ``mutinf`` (MI) and Liu's ``normalize1`` (MEFB's NMI, Qncie, TE) stretch each image so
    first, so that the histograms use the full range whatever the image's contrast. A constant plane
    becomes all 0 (Liu's ``normalize1`` keeps an all-zero plane so and gives NaN for another constant
    one, on which MATLAB's histogram then fails); either way it holds no information.

    Example:
        >>> stretch_levels(np.array([[10.0, 15.0, 20.0]])).tolist()  # 127.5 rounds half away from 0
        [[0, 128, 255]]
        >>> stretch_levels(np.full((2, 2), 7.0)).tolist()
        [[0, 0], [0, 0]]
    """
    lo = x.min(axis=(-2, -1), keepdims=True)
    hi = x.max(axis=(-2, -1), keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        stretched = np.where(hi > lo, (x - lo) / (hi - lo), 0.0)
    return matlab_round(stretched * TOP_LEVEL).astype(np.int64)


@source_cached
def source_levels(S: Float) -> NDArray[np.int64]:
    """:func:`stretch_levels` of a source stack (a repeated plane once): the same whatever fused image it
    is compared with, and for MI, NMI, Qncie and TE alike, so computed once per source in a
    call (or ``shared_inputs(sources=True)`` block).

    Example:
        >>> source_levels(np.broadcast_to(np.array([[[10.0, 20.0]]]), (3, 1, 2))).tolist()
        [[[0, 255]]]
    """
    return stretch_levels(collapse_repeated_planes(S))


def joint_histogram(x: NDArray[np.int64], y: NDArray[np.int64]) -> NDArray[np.int64]:
    """The 256x256 joint histogram of two level images (integers 0..255): cell ``(i, j)`` counts the
    pixels where ``x`` is ``i`` and ``y`` is ``j``. Over the last two axes: of ``(C, H, W)`` stacks
    (broadcast against each other, so a repeated source plane can be passed once), one per plane.

    Why: the joint distribution every histogram metric of a source and the fused image starts from;
    plane by plane, so that the work memory is one plane's whatever the channels.

    Example:
        >>> x, y = np.array([[0, 0, 255]]), np.array([[1, 1, 1]])
        >>> h = joint_histogram(x, y)
        >>> h.shape, h[0, 1].item(), h[255, 1].item(), h.sum().item()
        ((256, 256), 2, 1, 3)
        >>> joint_histogram(np.zeros((3, 2, 2), np.int64), np.zeros((1, 2, 2), np.int64)).shape
        (3, 256, 256)
    """
    x, y = np.broadcast_arrays(x, y)
    out = np.empty(x.shape[:-2] + (GREY_LEVELS, GREY_LEVELS), np.int64)
    for plane in np.ndindex(x.shape[:-2]):  # one empty index for a single HxW image
        pairs = (x[plane] * GREY_LEVELS + y[plane]).ravel()
        out[plane] = np.bincount(pairs, minlength=GREY_LEVELS * GREY_LEVELS).reshape(GREY_LEVELS, GREY_LEVELS)
    return out


def shannon(p: Float, log: Callable[[Float], Float] = np.log2) -> float:
    """Shannon entropy of probabilities ``p``, in the unit of ``log`` (``np.log2``: bits, ``np.log``:
    nats), summed over the non-zero ones in their order.

    Why: summing only those makes the joint entropy of an image with itself the very number its own
    entropy is (the same terms in the same order), so that MI and NMI of F = A = B are exact.

    Example:
        >>> shannon(np.array([0.5, 0.0, 0.5]))
        1.0
        >>> round(shannon(np.full(4, 0.25), np.log), 6)  # ln 4
        1.386294
    """
    p = p[p > 0]
    return float(-(p * log(p)).sum())


def joint_entropies(joint: NDArray[np.int64], log: Callable[[Float], Float] = np.log2) -> tuple[float, float, float]:
    """``(H(x), H(y), H(x, y))`` of a joint histogram of counts (:func:`joint_histogram`), in the unit
    of ``log`` (bits by default), the marginals summed from the counts.

    Why: MEFB's NMI and Qncie (Liu's code); marginal counts, not sums of probabilities, so that a flat
    image's entropy and its MI with anything are exactly 0.

    Example:
        >>> x = np.array([[0, 0, 255, 255]])
        >>> joint_entropies(joint_histogram(x, x))  # one bit each: two levels, half and half
        (1.0, 1.0, 1.0)
        >>> joint_entropies(joint_histogram(x, np.array([[0, 255, 0, 255]])))  # independent: MI 1 + 1 - 2 = 0
        (1.0, 1.0, 2.0)
    """
    n = joint.sum()
    return shannon(joint.sum(axis=1) / n, log), shannon(joint.sum(axis=0) / n, log), shannon(joint.ravel() / n, log)

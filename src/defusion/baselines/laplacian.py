"""Laplacian-pyramid fusion (Burt & Adelson 1983; Burt & Kolczynski 1993).

Each source is split into a Laplacian pyramid (P. J. Burt and E. H. Adelson,
"The Laplacian pyramid as a compact image code", IEEE Trans. Commun. 1983);
detail levels are fused by choosing the coefficient with the larger absolute
value, the coarsest (base) level is averaged, and the pyramid is collapsed
(P. J. Burt and R. J. Kolczynski, "Enhanced image capture through fusion",
ICCV 1993, with the simple choose-max selection rule).  For RGB the choice is
made on the luma of the coefficients and applied to all three channels, and
no pixel comes out more colourful than both sources (:func:`~defusion.baselines._common.cap_chroma`).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from defusion.baselines._common import cap_chroma, check_pair, choose_max_abs, finish


def auto_levels(height: int, width: int, max_levels: int = 5, min_size: int = 8) -> int:
    """Number of detail levels so that the base level stays at least ``min_size`` pixels.

    Example:
        >>> auto_levels(480, 640), auto_levels(37, 51), auto_levels(4, 4)
        (5, 2, 0)
    """
    side = min(height, width)
    if side < 2 * min_size:
        return 0
    return max(0, min(max_levels, int(math.floor(math.log2(side / min_size)))))


def laplacian_pyramid(image: np.ndarray, levels: int) -> list[np.ndarray]:
    """Laplacian pyramid with ``levels`` detail levels plus the Gaussian base (last).

    Works for any size: ``cv2.pyrUp`` is told the exact size of the finer level.
    """
    pyramid = []
    current = image
    for _ in range(levels):
        down = cv2.pyrDown(current)
        up = cv2.pyrUp(down, dstsize=(current.shape[1], current.shape[0]))
        pyramid.append(current - up.reshape(current.shape))
        current = down
    pyramid.append(current)
    return pyramid


def collapse_pyramid(pyramid: list[np.ndarray]) -> np.ndarray:
    """Invert :func:`laplacian_pyramid`."""
    current = pyramid[-1]
    for detail in reversed(pyramid[:-1]):
        up = cv2.pyrUp(current, dstsize=(detail.shape[1], detail.shape[0]))
        current = up.reshape(detail.shape) + detail
    return current


def fuse_laplacian(a: np.ndarray, b: np.ndarray, levels: int | None = None) -> np.ndarray:
    """Laplacian-pyramid fusion: max-abs on detail levels, mean on the base.

    ``levels`` defaults to :func:`auto_levels` of the image size (at most 5).  No pixel comes out more
    colourful than both sources (:func:`~defusion.baselines._common.cap_chroma`): the choice
    mixes the two pyramids, whose colour near coloured objects would otherwise tint them.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).random((37, 51)).astype(np.float32)
        >>> bool(np.allclose(fuse_laplacian(x, x), x, atol=1e-5))
        True
    """
    a, b, dtype = check_pair(a, b)
    if levels is None:
        levels = auto_levels(a.shape[0], a.shape[1])
    pa = laplacian_pyramid(a, levels)
    pb = laplacian_pyramid(b, levels)
    fused = [choose_max_abs(da, db) for da, db in zip(pa[:-1], pb[:-1])]
    fused.append(0.5 * (pa[-1] + pb[-1]))
    return finish(cap_chroma(collapse_pyramid(fused), a, b), dtype)

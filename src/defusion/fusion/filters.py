"""Edge-aware filters on NumPy images, shared by the fusion core and the classical baselines."""

from __future__ import annotations

import cv2
import numpy as np


def _box(image: np.ndarray, r: int) -> np.ndarray:
    """Normalised (2r+1)x(2r+1) mean filter, reflecting at the borders."""
    return cv2.boxFilter(image, -1, (2 * r + 1, 2 * r + 1), normalize=True, borderType=cv2.BORDER_REFLECT)


def guided_filter(guide: np.ndarray, src: np.ndarray, r: int, eps: float) -> np.ndarray:
    """Grey-guidance guided filter of He et al. built from box filters.

    ``guide`` and ``src`` are ``HxW`` float32; all four local means are computed
    in one multi-channel box filter call.

    Example:
        >>> import numpy as np
        >>> g = np.random.default_rng(0).random((20, 30)).astype(np.float32)
        >>> bool(np.allclose(guided_filter(g, g, 2, 1e-8), g, atol=1e-3))
        True
    """
    guide = guide.astype(np.float32, copy=False)
    src = src.astype(np.float32, copy=False)
    stack = np.ascontiguousarray(np.stack([guide, src, guide * src, guide * guide], axis=2))
    mean_i, mean_p, corr_ip, corr_ii = np.moveaxis(_box(stack, r), 2, 0)
    var_i = corr_ii - mean_i * mean_i
    a = (corr_ip - mean_i * mean_p) / (var_i + eps)
    b = mean_p - a * mean_i
    mean_ab = _box(np.ascontiguousarray(np.stack([a, b], axis=2)), r)
    return mean_ab[..., 0] * guide + mean_ab[..., 1]

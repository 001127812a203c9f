"""Edge-aware filters on NumPy images, shared by the fusion core and the classical baselines."""

from __future__ import annotations

import cv2
import numpy as np


def _box(image: np.ndarray, r: int) -> np.ndarray:
    """Normalised (2r+1)x(2r+1) mean filter, reflecting at the borders."""
    return cv2.boxFilter(image, -1, (2 * r + 1, 2 * r + 1), normalize=True, borderType=cv2.BORDER_REFLECT)


def guided_filter(guide: np.ndarray, src: np.ndarray, r: int, eps: float) -> np.ndarray:
    """Grey-guidance guided filter of He et al. built from box filters.

    ``guide`` and ``src`` are ``HxW`` float32. Each local mean is its own box filter call (the
    same values as one multi-channel call: OpenCV filters the channels alike), and each
    temporary goes once used: a few HxW planes at a time rather than two HxWx4 stacks.

    Example:
        >>> import numpy as np
        >>> g = np.random.default_rng(0).random((20, 30)).astype(np.float32)
        >>> bool(np.allclose(guided_filter(g, g, 2, 1e-8), g, atol=1e-3))
        True
    """
    guide = np.ascontiguousarray(guide.astype(np.float32, copy=False))
    src = np.ascontiguousarray(src.astype(np.float32, copy=False))
    mean_i, mean_p = _box(guide, r), _box(src, r)
    var_i = _box(guide * guide, r) - mean_i * mean_i
    a = (_box(guide * src, r) - mean_i * mean_p) / (var_i + eps)
    del var_i, src
    b = mean_p - a * mean_i
    del mean_p, mean_i
    mean_a = _box(a, r)
    del a
    return mean_a * guide + _box(b, r)

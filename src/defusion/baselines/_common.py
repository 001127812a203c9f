"""Shared input checks and helpers for the classical fusion baselines.

Every baseline takes two registered float images in [0, 1] with the same
layout, either ``HxW`` (grey) or ``HxWx3`` (RGB), and returns the same shape as
float32 in [0, 1].  These helpers keep that contract in one place.

Example:
    >>> import numpy as np
    >>> a, b = check_pair(np.zeros((2, 3)), np.ones((2, 3)))
    >>> a.dtype, b.shape
    (dtype('float32'), (2, 3))
"""

from __future__ import annotations

import numpy as np

#: Rec. 601 luma weights, the same convention as ``defusion.fusion.color``.
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def check_pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate a source pair and return float32 copies-or-views of both.

    Raises ``ValueError`` unless both are ``HxW`` or ``HxWx3`` with identical shapes.
    """
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"source images must have the same shape, got {a.shape} and {b.shape}")
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] == 3)):
        raise ValueError(f"expected HxW (grey) or HxWx3 (RGB) images, got shape {a.shape}")
    if a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"empty image of shape {a.shape}")
    return (np.ascontiguousarray(a, dtype=np.float32), np.ascontiguousarray(b, dtype=np.float32))


def finish(image: np.ndarray) -> np.ndarray:
    """Clip to [0, 1] and return a contiguous float32 array."""
    return np.ascontiguousarray(np.clip(image, 0.0, 1.0), dtype=np.float32)


def luma(image: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of an ``HxWx3`` array (returned unchanged for ``HxW``).

    Linear, so it also maps colour pyramid or wavelet coefficients to the
    coefficients of the luma image.
    """
    if image.ndim == 2:
        return image
    return image @ LUMA_WEIGHTS.astype(image.dtype, copy=False)


def choose_max_abs(ca: np.ndarray, cb: np.ndarray) -> np.ndarray:
    """Pick per pixel the coefficient with the larger absolute luma activity.

    For colour coefficients the decision is taken on the luma of the
    coefficients and applied to all channels, so colours are never mixed from
    the two sources within one pixel (per-channel decisions cause colour
    fringes).  Ties go to ``ca``.
    """
    take_a = np.abs(luma(ca)) >= np.abs(luma(cb))
    if ca.ndim == 3:
        take_a = take_a[..., None]
    return np.where(take_a, ca, cb)

"""Shared input checks and helpers for the classical fusion baselines.

Every baseline takes two registered images with the same layout, either ``HxW``
(grey) or ``HxWx3`` (RGB), each uint8, uint16 or float in [0, 1] (as
:class:`~defusion.fusion.fuser.Fuser` takes them), fuses them as float32 in
[0, 1], and returns the same shape in the inputs' type and range: uint8 in,
uint8 out; uint16 (with uint8) in, uint16 out; any float in, float32 out
(:func:`defusion.fusion.color.output_dtype`).  These helpers keep that contract
in one place: :func:`check_pair` on the way in, :func:`finish` on the way out.

Example:
    >>> import numpy as np
    >>> a, b, dtype = check_pair(np.zeros((2, 3), np.uint8), np.full((2, 3), 255, np.uint8))
    >>> a.dtype, float(b.max()), dtype
    (dtype('float32'), 1.0, dtype('uint8'))
    >>> finish(0.5 * (a + b), dtype).tolist()
    [[128, 128, 128], [128, 128, 128]]
"""

from __future__ import annotations

import numpy as np

from defusion.fusion.color import LUMA_WEIGHTS, from_float, output_dtype, to_float


def check_pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.dtype]:
    """Validate a source pair; return both as contiguous float32 in [0, 1] and the output type.

    Integer images are scaled to [0, 1] (uint8 by 255, uint16 by 65535), so every
    baseline computes on one scale whatever it is given.  Raises ``ValueError``
    unless both are ``HxW`` or ``HxWx3`` with identical shapes (or for float values
    outside [0, 1]), ``TypeError`` for types other than uint8, uint16 and float.
    """
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"source images must have the same shape, got {a.shape} and {b.shape}")
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] == 3)):
        raise ValueError(f"expected HxW (grey) or HxWx3 (RGB) images, got shape {a.shape}")
    if a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"empty image of shape {a.shape}")
    dtype = output_dtype(a, b)
    return np.ascontiguousarray(to_float(a)), np.ascontiguousarray(to_float(b)), dtype


def finish(image: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Clip a float result to [0, 1] and return it as a contiguous ``dtype`` array.

    ``dtype`` is the one :func:`check_pair` returned: integer types are scaled
    back (and rounded), floats come back as float32.
    """
    return np.ascontiguousarray(from_float(image, dtype))


def luma(image: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of an ``HxWx3`` array (returned unchanged for ``HxW``).

    Linear, so it also maps colour pyramid or wavelet coefficients to the
    coefficients of the luma image.  The weights are the fusion core's
    (:data:`defusion.fusion.color.LUMA_WEIGHTS`), so a baseline's luma is the Y
    the Fuser fuses.

    Example:
        >>> from defusion.fusion.color import rgb_to_ycbcr
        >>> rgb = np.array([[[1.0, 0.5, 0.25]]], np.float32)
        >>> bool(np.isclose(luma(rgb)[0, 0], rgb_to_ycbcr(rgb)[0, 0, 0]))
        True
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

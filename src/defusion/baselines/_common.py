"""Shared input checks and helpers for the classical fusion baselines.

Every baseline takes two registered images of one size, each ``HxW`` (grey) or
``HxWxC`` with C 1 to 4 (grey, grey + alpha, RGB, RGBA: alpha dropped, with a warning
where some pixel is transparent), each uint8, uint16 or float in [0, 1] (as
:class:`~defusion.fusion.fuser.Fuser` takes them, refused in its words; a grey one beside an RGB one
is fused as RGB, its three channels equal), fuses them as float32 in [0, 1],
and returns their shape (RGB for such a pair) in the inputs' type and range: uint8 in,
uint8 out; uint16 (with uint8) in, uint16 out; any float in, float32 out
(:func:`defusion.fusion.color.output_dtype`).  These helpers keep that contract
in one place: :func:`check_pair` on the way in, :func:`finish` on the way out.
What they refuse is a :class:`BaselineError` (a ValueError; a path or pixels of another type, a
:class:`BaselineTypeError`, a TypeError too); an unknown name, an
:class:`UnknownBaselineError` (a KeyError); a baseline that cannot run here, a
:class:`BaselineRunError` (a RuntimeError): each a :class:`~defusion.errors.DefusionError`.

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

from defusion.errors import DefusionError, channels_first_hint
from defusion.fusion.color import LUMA_WEIGHTS, as_rgb, from_float, output_dtype, to_float
from defusion.io.arrays import is_tensor, not_pixels, tensor_pixels
from defusion.io.front_end import transparent_warning
from defusion.io.levels import opaque_alpha
from defusion.io.notes import warn

#: The least colour strength :func:`cap_chroma` divides by, so that a grey pixel's 0 is no division by zero.
_CHROMA_EPS = 1e-12
#: Channels an ``HxWxC`` source may have, as the Fuser's (:mod:`defusion.fusion.inputs`): grey, grey +
#: alpha, RGB, RGBA; alpha is dropped (:func:`_without_alpha`).
_CHANNELS = (1, 2, 3, 4)
#: The channel counts that end in alpha: grey + alpha, RGBA.
_WITH_ALPHA = (2, 4)


class BaselineError(DefusionError, ValueError):
    """Images or settings a baseline refuses: not HxW or HxWx3, of different sizes, empty (a
    ValueError, as before this class existed)."""


class BaselineTypeError(BaselineError, TypeError):
    """A source a baseline refuses for what it is: a path, a list of whole numbers, pixels of a type other
    than uint8, uint16 and float (a TypeError, as such pixels raised before this class existed, and a
    :class:`BaselineError`, a ValueError, as a path did)."""


class UnknownBaselineError(DefusionError, KeyError):
    """A baseline name that is not registered (a KeyError, as before this class existed)."""

    def __str__(self) -> str:
        """The message as it is: ``KeyError`` would quote it (``'unknown baseline ...'``)."""
        return Exception.__str__(self)


class BaselineRunError(DefusionError, RuntimeError):
    """A baseline that cannot run here (the program or package it needs is missing) or whose program
    failed (a RuntimeError, as before this class existed)."""


def check_pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.dtype]:
    """Validate a source pair; return both as contiguous float32 in [0, 1] and the output type.

    Integer images are scaled to [0, 1] (uint8 by 255, uint16 by 65535), so every
    baseline computes on one scale whatever it is given.  A grey image beside an RGB
    one comes back as RGB, its three channels equal (:func:`~defusion.fusion.color.as_rgb`),
    as the Fuser fuses such a pair in colour; ``HxWx1`` is grey, and alpha is dropped
    (:func:`_without_alpha`).  Raises :class:`BaselineError` (a ValueError)
    unless both are ``HxW`` or ``HxWxC`` (C 1 to 4) of one height and width (or for float values
    outside [0, 1]), a :class:`BaselineTypeError` (a TypeError too) for a path or types other than
    uint8, uint16 and float, in the Fuser's words (:func:`~defusion.io.arrays.not_pixels`).

    Example:
        >>> grey, rgb = np.zeros((2, 3), np.uint8), np.zeros((2, 3, 3), np.uint8)
        >>> [x.shape for x in check_pair(grey, rgb)[:2]]
        [(2, 3, 3), (2, 3, 3)]
    """
    a, b = _source(a, "image 1"), _source(b, "image 2")
    if a.shape[:2] != b.shape[:2]:
        raise BaselineError(f"source images must have the same height and width, got shapes {a.shape} and {b.shape}")
    if a.shape[0] < 1 or a.shape[1] < 1:
        raise BaselineError(f"empty image of shape {a.shape}")
    if a.ndim != b.ndim:  # one grey, one RGB: both RGB, as the Fuser fuses them
        a, b = (as_rgb(a) if a.ndim == 2 else a), (as_rgb(b) if b.ndim == 2 else b)
    dtype = output_dtype(a, b)
    return np.ascontiguousarray(to_float(a)), np.ascontiguousarray(to_float(b)), dtype


def _source(image: object, name: str) -> np.ndarray:
    """Source ``name`` as an ``HxW`` or ``HxWx3`` array (a tensor as its values on the CPU, ``HxWx1`` as
    grey, alpha dropped); refused as the Fuser refuses it: what is no pixel array
    (:class:`BaselineTypeError`), a shape that is no image (:class:`BaselineError`).

    Example:
        >>> _source(np.full((2, 3, 4), 255, np.uint8), "image 1").shape  # RGBA, all opaque: nothing to say
        (2, 3, 3)
    """
    problem = not_pixels(image, name)
    if problem:
        raise BaselineTypeError(problem)
    array = tensor_pixels(image) if is_tensor(image) else np.asarray(image)
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in _CHANNELS)):
        raise BaselineError(f"{name} must be HxW or HxWxC with C in {', '.join(map(str, _CHANNELS))} (grey, "
                            f"grey + alpha, RGB, RGBA); got shape {array.shape}"
                            f"{channels_first_hint(array.shape, _CHANNELS)}")
    array = _without_alpha(array, name)
    return array[..., 0] if array.ndim == 3 and array.shape[2] == 1 else array


def _without_alpha(image: np.ndarray, name: str) -> np.ndarray:
    """``image`` without its alpha channel (grey + alpha as grey, RGBA as RGB), warned of as the Fuser
    warns (:func:`~defusion.io.front_end.transparent_warning`) where some pixel is transparent: it is
    fused as its colour values. An image without alpha comes back as it is."""
    if image.ndim != 3 or image.shape[2] not in _WITH_ALPHA:
        return image
    if image[..., -1].min() < opaque_alpha(image.dtype):
        warn(transparent_warning(name))
    return image[..., :-1]


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


def cap_chroma(fused: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``fused`` with each pixel's colour no stronger than the more colourful source's there, its luma
    kept: the colour strength of a pixel is its channels' largest offset from its luma.

    Why: a multi-scale fusion takes each pixel's detail coefficients from one source and its base
    from both; near a coloured object those coefficients carry that object's colour, which cancels
    within one source's pyramid but not in the mix, so a black background beside a blue object,
    neutral in both exposures, came out blue. A pixel's colour can come from the sources only: where
    the fused one is stronger than both, it is shrunk towards its luma, hue kept. ``a`` and ``b`` are
    the float sources (:func:`check_pair`); grey (``HxW``) images come back unchanged.

    Example:
        >>> a, b = np.zeros((1, 2, 3), np.float32), np.zeros((1, 2, 3), np.float32)
        >>> a[0, 1] = b[0, 1] = (0.0, 0.0, 1.0)  # pixel 0 black, pixel 1 blue
        >>> fused = np.array([[[0.0, 0.0, 0.1], [0.0, 0.0, 0.9]]], np.float32)
        >>> [[round(float(v), 4) for v in pixel] for pixel in cap_chroma(fused, a, b)[0]]
        [[0.0114, 0.0114, 0.0114], [0.0, 0.0, 0.9]]
    """
    if fused.ndim == 2:
        return fused
    y = luma(fused)[..., None]
    offset = fused - y
    strength = np.abs(offset).max(axis=2)
    limit = np.maximum(_chroma_strength(a), _chroma_strength(b))
    over = strength > limit
    if not over.any():
        return fused
    factor = limit / np.maximum(strength, _CHROMA_EPS)
    return np.where(over[..., None], y + offset * factor[..., None], fused).astype(fused.dtype, copy=False)


def _chroma_strength(image: np.ndarray) -> np.ndarray:
    """Each pixel's largest channel offset from its luma: 0 for grey (``HxW``, or R = G = B)."""
    if image.ndim == 2:
        return np.zeros(image.shape, np.float32)
    return np.abs(image - luma(image)[..., None]).max(axis=2)

"""MATLAB's filters as the benchmarks' code applies them, over the last two axes of a stack: Gaussian
windows, separable and 'valid' filtering, Sobel, window sums, frequency-domain filtering on
``freqspace``'s grid, and the stretch and 2x decimation between scales."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from defusion.metrics._matlab import Float, matlab_round


@lru_cache(maxsize=32)
def gaussian_1d(size: int, sigma: float) -> Float:
    """Normalised 1-D Gaussian; ``outer(g, g)`` equals MATLAB ``fspecial('gaussian', size, sigma)``."""
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-(x * x) / (2.0 * sigma * sigma))
    return g / g.sum()


def correlate_sep(x: Float, g_rows: Float, g_cols: Float) -> Float:
    """Separable 'same'-size correlation over the last two axes with zero padding.

    ``g_rows`` runs down the rows (vertical), ``g_cols`` along them; both odd-length, centred.
    Uses OpenCV's double-precision separable filter (about 2x faster than scipy.ndimage)."""
    import cv2

    flat = x.reshape((-1,) + x.shape[-2:])
    out = np.empty(flat.shape)
    for i, plane in enumerate(flat):
        out[i] = cv2.sepFilter2D(np.ascontiguousarray(plane), cv2.CV_64F, g_cols, g_rows,
                                 borderType=cv2.BORDER_CONSTANT)
    return out.reshape(x.shape)


def filter_valid(x: Float, g: Float) -> Float:
    """MATLAB ``filter2(outer(g, g), x, 'valid')`` over the last two axes (g odd-length)."""
    r = len(g) // 2
    y = correlate_sep(x, g, g)
    return y[..., r:y.shape[-2] - r, r:y.shape[-1] - r]


def sobel(x: Float, mode: str = "constant") -> tuple[Float, Float]:
    """Correlations with ``[-1 0 1; -2 0 2; -1 0 1]`` (dx) and its transpose (dy), 'same' size.

    ``mode``: 'constant' (zero padding, MATLAB filter2/conv2), 'nearest' (replicate, imfilter
    'replicate') or 'mirror' (reflection without repeating the edge pixel). Exact for integers.
    """
    pad = {"constant": "constant", "nearest": "edge", "mirror": "reflect"}[mode]
    p = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(1, 1), (1, 1)], mode=pad)
    v = p[..., :-2, :] + 2.0 * p[..., 1:-1, :] + p[..., 2:, :]  # vertical [1 2 1]
    h = p[..., :, :-2] + 2.0 * p[..., :, 1:-1] + p[..., :, 2:]  # horizontal [1 2 1]
    return v[..., :, 2:] - v[..., :, :-2], h[..., 2:, :] - h[..., :-2, :]


def box_sum_valid(x: Float, w: int) -> Float:
    """Sum over every ``w x w`` window ('valid'), via an integral image: exact for integer data."""
    s = np.zeros(x.shape[:-2] + (x.shape[-2] + 1, x.shape[-1] + 1))
    s[..., 1:, 1:] = x.cumsum(-2).cumsum(-1)
    return s[..., w:, w:] - s[..., :-w, w:] - s[..., w:, :-w] + s[..., :-w, :-w]


def freqspace(h: int, w: int) -> tuple[Float, Float]:
    """MATLAB ``freqspace([h, w], 'meshgrid')``: (u, v) grids in [-1, 1), zero at index n//2."""
    fx = (np.arange(w) - w // 2) * (2.0 / w)
    fy = (np.arange(h) - h // 2) * (2.0 / h)
    return np.meshgrid(fx, fy)


def filter_freq_even(x: Float, centred_response: Float) -> Float:
    """``ifft2(ifftshift(fftshift(fft2(x)) .* H))`` for a real image and an *even* real response.

    H sampled on MATLAB's ``freqspace`` grid as a function of the radius only is even
    (``H(-k) = H(k)``, the Nyquist row/column being its own partner), so the exact result is
    real: MATLAB's complex output differs only by rounding noise (~1e-16 relative) in its
    imaginary part. Computed with real FFTs."""
    h, w = x.shape[-2:]
    half = np.fft.ifftshift(centred_response, axes=(-2, -1))[..., : w // 2 + 1]
    return np.fft.irfft2(np.fft.rfft2(x) * half, s=(h, w))


def normalize255(x: Float) -> Float:
    """Z. Liu's ``normalize1``: stretch each ``HxW`` plane to 0..255 and round (MATLAB round).

    A plane that is all zeros is returned as is; another constant plane gives NaN, as in MATLAB.
    """
    lo = x.min(axis=(-2, -1), keepdims=True)
    hi = x.max(axis=(-2, -1), keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = matlab_round((x - lo) / (hi - lo) * 255.0)
    zero = ((hi == 0) & (lo == 0)).reshape(-1)
    if zero.any():
        out = out.copy()
        flat_x = x.reshape((-1,) + x.shape[-2:])
        flat_o = out.reshape((-1,) + x.shape[-2:])
        flat_o[zero] = flat_x[zero]
    return out


def downsample2(x: Float) -> Float:
    """MATLAB ``imfilter(x, ones(2)/4, 'symmetric', 'same')`` then ``x(1:2:end, 1:2:end)``."""
    h, w = x.shape[-2:]
    pad = [(0, 0)] * (x.ndim - 2) + [(0, 1), (0, 1)]
    p = np.pad(x, pad, mode="edge")
    s = p[..., :-1, :-1] + p[..., 1:, :-1] + p[..., :-1, 1:] + p[..., 1:, 1:]
    return (s / 4.0)[..., 0:h:2, 0:w:2]

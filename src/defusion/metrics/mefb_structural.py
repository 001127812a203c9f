"""MEFB's SSIM-based metrics beyond Qy: Qc (Cvejic) and Qw (Piella-Heijmans), as MEFB's MATLAB code.

Both follow MEFB's ``metricsQc.m`` and ``metricsQw.m`` (xingchenzhang/MEFB, which wrap Z. Liu's
``metricCvejic.m`` and ``metricPeilla.m`` from the toolbox of Liu, Blasch et al., TPAMI 34(1), 2012):

* ``Qc``: Cvejic et al. (2005): Yang's SSIM maps (7x7 Gaussian, sigma 1.5, C1 = C2 = 2e-16, 'valid')
  of (A, F) and (B, F) mixed by ``w = cov(A,F) / (cov(A,F) + cov(B,F))``; where ``w < 0`` the window
  scores 0, where ``w > 1`` it scores 1 (the code's rule, not a clipped weight); NaN windows left out.
* ``Qw``: Piella & Heijmans (2003), MEFB's ``sw = 3`` branch: the *weighted* fusion quality index
  computed on Prewitt edge-magnitude images (zero-padded 3x3 filters), with Wang's SSIM
  (11x11 Gaussian, sigma 1.5, K = (0.01, 0.03), L = 255, 'valid') and saliency = local variance:
  ``sum c(w) (lambda SSIM(F,A) + (1 - lambda) SSIM(F,B))``, ``lambda = s_A / (s_A + s_B)``,
  ``c = max(s_A, s_B) / sum max(s_A, s_B)``; edge exponent alpha = 1.

Per colour channel of the fused image and averaged (the package's rule; see ``docs/metrics.md``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from defusion.metrics._cache import source_cached
from defusion.metrics._channels import collapse_repeated_planes, triplet
from defusion.metrics._filters import filter_valid, gaussian_1d
from defusion.metrics._matlab import Float
from defusion.metrics.mefb import _covariance, _moments, _ssim_yang, mean_of_kept, yang_windows
from defusion.metrics.structural import SSIM_K1, SSIM_K2, check_size

__all__ = ["qc", "qw"]

#: Qw's SSIM: Wang's ``ssim_index`` defaults (11x11 Gaussian window, sigma 1.5, K, L = 255).
QW_WIN = 11
QW_SIGMA = 1.5
QW_C1 = (SSIM_K1 * 255.0) ** 2
QW_C2 = (SSIM_K2 * 255.0) ** 2
#: ``metricPeilla.m`` adds this to both saliencies where both are 0, so that lambda = 1/2 there.
QW_FLAT_SALIENCY = 0.5


def qc(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> float:
    """Qc: Cvejic, Loza, Bull & Canagarajah's similarity metric (2005), as MEFB's ``metricsQc.m``.

    Why: each window of F should resemble the source it takes more after, judged by covariance:
    ``w SSIM(A,F) + (1 - w) SSIM(B,F)``, ``w = cov(A,F) / (cov(A,F) + cov(B,F))``, with Yang's SSIM
    (7x7 Gaussian, C = 2e-16, 'valid'). As the MATLAB code, a window with ``w < 0`` scores 0 and
    one with ``w > 1`` scores 1, so swapping A and B changes those windows (0 <-> 1); windows with
    ``w`` undefined (0 / 0, e.g. a flat F) are left out. Up to 1 (F = A = B gives exactly 1).
    Needs 11x11 pixels (MEFB's ``ssim_yang``). RGB: mean over channels.

    >>> import numpy as np
    >>> x = np.random.default_rng(0).integers(0, 256, (24, 24)).astype(np.uint8)
    >>> qc(x, x, x)
    1.0
    """
    F, A, B, g, ma, mb, mf = yang_windows(fused, a, b, "Qc")
    af, bf = filter_valid(A * F, g), filter_valid(B * F, g)
    cov_a, cov_b = _covariance(ma, mf, af), _covariance(mb, mf, bf)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = cov_a / (cov_a + cov_b)
        sim = w * _ssim_yang(ma, mf, af) + (1 - w) * _ssim_yang(mb, mf, bf)
    sim = np.where(w < 0, 0.0, np.where(w > 1, 1.0, sim))
    return mean_of_kept(sim, ~np.isnan(sim))


def prewitt_magnitude(x: Float) -> Float:
    """``sqrt(X^2 + Y^2)``, X and Y MATLAB ``filter2([1 0 -1; 1 0 -1; 1 0 -1], x, 'same')`` and its
    transpose ``[1 1 1; 0 0 0; -1 -1 -1]`` (zero padding), over the last two axes, as ``metricPeilla.m``.

    Example:
        >>> prewitt_magnitude(np.array([[0.0, 0, 9], [0, 0, 9], [0, 0, 9]]))[1]
        array([ 0., 27.,  0.])
    """
    p = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(1, 1), (1, 1)])
    down = p[..., :-2, :] + p[..., 1:-1, :] + p[..., 2:, :]  # sums of 3 rows
    across = p[..., :, :-2] + p[..., :, 1:-1] + p[..., :, 2:]  # sums of 3 columns
    gx = down[..., :, :-2] - down[..., :, 2:]
    gy = across[..., :-2, :] - across[..., 2:, :]
    return np.sqrt(gx * gx + gy * gy)


def _ssim_wang(x: tuple[Float, Float, Float], y: tuple[Float, Float, Float], xy: Float) -> Float:
    """Wang's ``ssim_index`` map (K = (0.01, 0.03), L = 255) from moments and the window mean of x*y."""
    (mx, vx, _), (my, vy, _) = x, y
    cov = _covariance(x, y, xy)
    return ((2 * mx * my + QW_C1) * (2 * cov + QW_C2)) / ((mx * mx + my * my + QW_C1) * (vx + vy + QW_C2))


@source_cached
def _qw_source(S: Float) -> tuple[Float, tuple[Float, Float, Float]]:
    """A source stack's Prewitt magnitude (a repeated plane once) and its 11x11 Gaussian-window moments:
    the same whatever fused image it is compared with, so computed once per source in a
    ``shared_inputs`` block."""
    e = prewitt_magnitude(collapse_repeated_planes(S))
    return e, _moments(e, gaussian_1d(QW_WIN, QW_SIGMA))


def qw(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> float:
    """Qw: Piella & Heijmans' weighted fusion quality index (ICIP 2003) on edge images, as MEFB's ``metricsQw.m``.

    Why: Wang's SSIM of F with each source, mixed window by window by the sources' saliency (local
    variance), counted more where a source is salient, and measured on the edge-magnitude images
    (MEFB runs ``metricPeilla.m``'s edge-dependent branch, ``sw = 3``, alpha = 1):
    ``sum c (lambda SSIM(F',A') + (1 - lambda) SSIM(F',B'))``, X' the zero-padded Prewitt magnitude,
    ``lambda = s_A' / (s_A' + s_B')``, ``c = max(s_A', s_B') / sum max(s_A', s_B')``, SSIM with an
    11x11 Gaussian window, L = 255, 'valid'. Where both saliencies are 0 each gets 0.5 (the code's
    rule). Up to 1 (F = A = B). Needs 11x11 pixels. RGB: mean over channels.

    >>> import numpy as np
    >>> x = np.random.default_rng(0).integers(0, 256, (24, 24)).astype(np.uint8)
    >>> round(qw(x, x, x), 12)
    1.0
    """
    F, A, B = triplet(fused, a, b)
    check_size(*F.shape[-2:], QW_WIN, "Qw")
    g = gaussian_1d(QW_WIN, QW_SIGMA)
    (ea, ma), (eb, mb) = _qw_source(A), _qw_source(B)
    ef = prewitt_magnitude(F)
    mf = _moments(ef, g)
    s_fa = _ssim_wang(mf, ma, filter_valid(ef * ea, g))
    s_fb = _ssim_wang(mf, mb, filter_valid(ef * eb, g))
    sal_a, sal_b = ma[1], mb[1]
    both_flat = (sal_a + sal_b) == 0
    sal_a, sal_b = sal_a + QW_FLAT_SALIENCY * both_flat, sal_b + QW_FLAT_SALIENCY * both_flat
    lam = sal_a / (sal_a + sal_b)
    top = np.maximum(sal_a, sal_b)
    weight = top / top.sum(axis=(-2, -1), keepdims=True)
    return float(np.mean((weight * (lam * s_fa + (1 - lam) * s_fb)).sum(axis=(-2, -1))))

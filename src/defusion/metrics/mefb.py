"""The multi-focus fusion metrics MEFB's toolkit adds to VIFB's: NMI, Qncie and Qy.

All three follow MEFB's MATLAB code (``metricsNMI.m``, ``metricsQncie.m``, ``metricsQy.m``), which
wraps Z. Liu's implementations from the toolbox of Liu, Blasch et al. (TPAMI 34(1), 2012):

* ``NMI``: Hossny et al. (2008), ``2 (MI(A,F) / (H(A) + H(F)) + MI(B,F) / (H(B) + H(F)))`` in bits,
  each image min-max stretched to 0..255 and rounded first (``normalize1``), 256x256 joint histogram.
* ``Qncie``: Wang, Shen & Jin (2008), nonlinear correlation information entropy of (A, B, F): the
  eigenvalues of the 3x3 matrix of nonlinear correlation coefficients (MI in bits / 8 on the
  stretched images), entropy in base 256.
* ``Qy``: Yang et al. (2008), SSIM maps with a 7x7 Gaussian window (sigma 1.5), C1 = C2 = 2e-16,
  'valid' borders; where SSIM(A, B) >= 0.75 the variance-weighted mean of SSIM(A, F) and SSIM(B, F),
  elsewhere their maximum; windows where A and B are both flat are left out.

Per colour channel of the fused image and averaged (the package's rule; see ``docs/metrics.md``).
The rest of MEFB's set: FMI and TE in ``mefb_information``, Qc and Qw in ``mefb_structural``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from defusion.metrics._cache import source_cached
from defusion.metrics._channels import collapse_repeated_planes, triplet
from defusion.metrics._filters import filter_valid, gaussian_1d
from defusion.metrics._histograms import joint_entropies, joint_histogram, shannon, source_levels, stretch_levels
from defusion.metrics._matlab import GREY_LEVELS, Float
from defusion.metrics.structural import check_size

__all__ = ["nmi", "qncie", "qy", "mean_of_kept", "yang_windows"]

#: Qy's SSIM window (``fspecial('gaussian', 7, 1.5)``) and constants, as Liu's ``metricYang.m``.
QY_WIN = 7
QY_SIGMA = 1.5
QY_C = 2e-16
#: Where SSIM(A, B) reaches this, the sources are taken as redundant (weighted mean), else
#: complementary (maximum).
QY_REDUNDANT = 0.75
#: ``ssim_yang`` refuses images under 11 pixels a side (its ``M < 11 | N < 11`` test).
QY_MIN_SIZE = 11
#: Qncie's number of variables (A, B, F): the size of its correlation matrix.
_K = 3
#: Qncie's logarithms are in base 256, the grey levels: bits divided by log2(256) = 8.
_LOG2_LEVELS = float(np.log2(GREY_LEVELS))


def _mutual_information(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MI in bits per plane of two ``(C, H, W)`` level stacks (broadcast) and the sum of the two
    marginal entropies (NMI's denominator)."""
    hx, hy, hxy = np.array([joint_entropies(joint) for joint in joint_histogram(x, y)]).T
    return hx + hy - hxy, hx + hy


def nmi(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> float:
    """NMI: Hossny's normalised mutual information ``2 (MI(A,F) / (H(A)+H(F)) + MI(B,F) / (H(B)+H(F)))``.

    Why: Qu's MI grows with the images' own entropy; dividing each term by the entropies makes it
    a share of the information (Hossny et al. 2008). From 0 to 2 (F = A = B). Bits, each image
    stretched to 0..255 and rounded first, as MEFB's ``metricsNMI.m``. NaN where a source and the
    fused image are both flat (0 / 0). RGB: mean over channels.

    >>> import numpy as np
    >>> x = np.random.default_rng(0).integers(0, 256, (32, 32)).astype(np.uint8)
    >>> nmi(x, x, x)  # exactly
    2.0
    >>> round(nmi(x, x, 255 - x), 12)  # a negative holds the same information
    2.0
    """
    F, A, B = triplet(fused, a, b)
    lf = stretch_levels(F)
    mi_a, h_a = _mutual_information(source_levels(A), lf)
    mi_b, h_b = _mutual_information(source_levels(B), lf)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.mean(2 * (mi_a / h_a + mi_b / h_b)))


def _ncc(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Liu's nonlinear correlation coefficient per plane: MI in bits / log2(256), so MI in base 256."""
    return _mutual_information(x, y)[0] / _LOG2_LEVELS


@source_cached
def _sources_ncc(A: Float, B: Float) -> np.ndarray:
    """:func:`_ncc` of two source stacks' levels: the same whatever fused image is scored against them,
    so computed once per pair of sources in a call (or ``shared_inputs(sources=True)``) block."""
    return _ncc(source_levels(A), source_levels(B))


def qncie(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> float:
    """Qncie: nonlinear correlation information entropy of A, B and F (Wang, Shen & Jin 2008).

    Why: how much the three images share, all pairs at once: 1 - H_R, H_R the base-256 entropy of
    ``lambda_i / 3``, the eigenvalues of the 3x3 matrix of nonlinear correlation coefficients
    (``NCC = MI / 8`` in bits on the stretched images). As MEFB's ``metricsQncie.m``; from
    1 - log2(3)/8 (unrelated images) to 1 (identical ones using all 256 levels equally).
    Eigenvalues that rounding makes negative count as 0. RGB: mean over channels.

    >>> import numpy as np
    >>> ramp = np.random.default_rng(0).permutation(256).reshape(16, 16).astype(np.uint8)
    >>> round(qncie(ramp, ramp, ramp), 12)
    1.0
    """
    F, A, B = triplet(fused, a, b)
    la, lb, lf = source_levels(A), source_levels(B), stretch_levels(F)
    ab, af, bf = np.broadcast_arrays(_sources_ncc(A, B), _ncc(la, lf), _ncc(lb, lf))
    one = np.ones_like(ab)
    r = np.stack([np.stack([one, ab, af], -1), np.stack([ab, one, bf], -1), np.stack([af, bf, one], -1)], -2)
    share = np.clip(np.linalg.eigvalsh(r), 0, None) / _K
    hr = np.array([shannon(s) for s in share]) / _LOG2_LEVELS
    return float(np.mean(1 - hr))


def _flat_windows(x: Float, w: int) -> np.ndarray:
    """Where every ``w x w`` window ('valid') of each plane of a stack holds one value (min = max)."""
    import cv2

    kernel = np.ones((w, w), np.uint8)
    r = w // 2
    flat = np.empty(x.shape[:-2] + (x.shape[-2] - 2 * r, x.shape[-1] - 2 * r), bool)
    for i, plane in enumerate(x.reshape((-1,) + x.shape[-2:])):
        lo, hi = cv2.erode(plane, kernel), cv2.dilate(plane, kernel)
        flat.reshape((-1,) + flat.shape[-2:])[i] = (lo == hi)[r:-r, r:-r]
    return flat


def _moments(x: Float, g: Float) -> tuple[Float, Float, Float]:
    """Gaussian-window mean and variance ('valid') of a stack, and where the window is flat.

    The variance of a flat window is set to exactly 0: ``E[x^2] - mu^2`` leaves rounding noise
    (~1e-12) there, which Qy's tiny constants (2e-16) would turn into arbitrary SSIM values."""
    mu = filter_valid(x, g)
    flat = _flat_windows(x, len(g))
    return mu, np.where(flat, 0.0, filter_valid(x * x, g) - mu * mu), flat


def _covariance(x: tuple[Float, Float, Float], y: tuple[Float, Float, Float], xy: Float) -> Float:
    """Window covariance from two images' moments (:func:`_moments`) and the window mean of their
    product, exactly 0 where either window is flat (no rounding noise for tiny constants to amplify)."""
    (mx, _, fx), (my, _, fy) = x, y
    return np.where(fx | fy, 0.0, xy - mx * my)


def _ssim_yang(x: tuple[Float, Float, Float], y: tuple[Float, Float, Float], xy: Float) -> Float:
    """Liu's ``ssim_yang`` map from two images' moments and the window mean of their product."""
    (mx, vx, _), (my, vy, _) = x, y
    cov = _covariance(x, y, xy)
    return ((2 * mx * my + QY_C) * (2 * cov + QY_C)) / ((mx * mx + my * my + QY_C) * (vx + vy + QY_C))


class YangWindows(NamedTuple):
    """The images Qy and Qc compare (VIFB's channel rules; a repeated source plane once) and their
    Gaussian-window moments (:func:`_moments`), as Liu's ``ssim_yang`` takes them."""

    F: Float
    A: Float
    B: Float
    g: Float
    ma: tuple[Float, Float, Float]
    mb: tuple[Float, Float, Float]
    mf: tuple[Float, Float, Float]


def yang_windows(fused: ArrayLike, a: ArrayLike, b: ArrayLike, name: str) -> YangWindows:
    """What Qy and Qc start from: the images, checked to be at least ``QY_MIN_SIZE`` a side (``name``
    says whose need it is), and their 7x7 Gaussian-window moments."""
    F, A, B = triplet(fused, a, b)
    check_size(*F.shape[-2:], QY_MIN_SIZE, name)
    g = gaussian_1d(QY_WIN, QY_SIGMA)
    (A, ma), (B, mb) = _yang_source(A), _yang_source(B)
    return YangWindows(F, A, B, g, ma, mb, _moments(F, g))


@source_cached
def _yang_source(S: Float) -> tuple[Float, tuple[Float, Float, Float]]:
    """A source stack as Qy and Qc compare it (a repeated plane once) and its 7x7 Gaussian-window
    moments: the same whatever fused image it is compared with, so computed once per source in a
    ``shared_inputs`` block."""
    x = collapse_repeated_planes(S)
    return x, _moments(x, gaussian_1d(QY_WIN, QY_SIGMA))


def mean_of_kept(values: Float, kept: Float) -> float:
    """Per channel the mean of the windows ``kept`` (MATLAB's filter of NaN windows), then over the
    channels; NaN where a channel keeps none, as MATLAB's ``mean2([])``.

    Example:
        >>> values = np.array([[[1.0, 3.0], [5.0, np.nan]]])
        >>> mean_of_kept(values, ~np.isnan(values))
        3.0
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.mean(np.where(kept, values, 0.0).sum(axis=(-2, -1)) / kept.sum(axis=(-2, -1))))


def qy(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> float:
    """Qy: Yang et al.'s SSIM-based fusion metric (Information Fusion 9(2), 2008), as MEFB's ``metricsQy.m``.

    Why: where the sources look alike (SSIM(A, B) >= 0.75, 7x7 windows) the fused image should be
    like both, weighted by their local variances; where they differ (one in focus, one blurred) it
    should be like the better of the two. SSIM with a 7x7 Gaussian window (sigma 1.5),
    C1 = C2 = 2e-16, 'valid' borders; windows where A and B are both flat (0 / 0 weights) are left
    out, as MATLAB's NaN filter does. Up to 1 (F = A = B). Needs 11x11 pixels. RGB: mean over channels.

    >>> import numpy as np
    >>> x = np.random.default_rng(0).integers(0, 256, (24, 24)).astype(np.uint8)
    >>> qy(x, x, x)
    1.0
    """
    F, A, B, g, ma, mb, mf = yang_windows(fused, a, b, "Qy")
    s_ab = _ssim_yang(ma, mb, filter_valid(A * B, g))
    s_af = _ssim_yang(ma, mf, filter_valid(A * F, g))
    s_bf = _ssim_yang(mb, mf, filter_valid(B * F, g))
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = ma[1] / (ma[1] + mb[1])  # NaN where A and B are both flat
    redundant = s_ab >= QY_REDUNDANT
    q = np.where(redundant, weight * s_af + (1 - weight) * s_bf, np.maximum(s_af, s_bf))
    return mean_of_kept(q, np.broadcast_to(~np.isnan(weight), q.shape))

"""Structural-similarity metrics: SSIM (VIFB), MS-SSIM, MEF-SSIM and its multi-scale form.

* ``SSIM``: Wang et al. (2004) with an 11x11 Gaussian window (sigma 1.5), 'valid' borders,
  C1 = (K1*255)^2, C2 = (K2*255)^2 (``SSIM_K1``, ``SSIM_K2``), as VIFB's ``metricsSsim.m``; VIFB reports
  ``SSIM(A, F) + SSIM(B, F)`` (up to 2). ``SSIM-mean`` is the same divided by 2.
* ``MS-SSIM``: Wang, Simoncelli & Bovik (2003), 5 scales, weights
  ``MS_SSIM_WEIGHTS``, as Wang's ``msssim.m``; summed over the two sources.
* ``MEF-SSIM`` / ``MS-MEF-SSIM``: Ma, Zeng & Wang (2015), TIP 24(11), the authors'
  ``mef_ssim.m`` / ``mef_ms_ssim.m`` (K: ``MEF_SSIM_K``, 3 scales); on grey images.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from defusion.metrics._cache import source_cached
from defusion.metrics._channels import collapse_repeated_planes, source_gray, to_gray, triplet
from defusion.metrics._errors import MetricInputError, check_same_size, source_labels
from defusion.metrics._filters import box_sum_valid, downsample2, filter_valid, gaussian_1d
from defusion.metrics._matlab import Float

__all__ = ["SSIM_K1", "SSIM_K2", "ssim", "ssim_mean", "ms_ssim", "mef_ssim", "ms_mef_ssim", "check_size"]

_WIN = 11
_SIGMA = 1.5
_EPS = float(np.finfo(np.float64).eps)  # MATLAB eps
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
#: SSIM's K1 and K2: its constants are C1 = (K1 L)^2 and C2 = (K2 L)^2 for values on 0..L, Wang et
#: al. (2004) and VIFB's ``metricsSsim.m`` (the training loss's SSIM uses them on 0..1, L = 1).
SSIM_K1 = 0.01
#: SSIM's K2 (see ``SSIM_K1``).
SSIM_K2 = 0.03
#: MEF-SSIM's K: C = (K * 255)^2, Ma, Zeng & Wang's ``mef_ssim.m``.
MEF_SSIM_K = 0.03
#: Added to each patch's signal strength ``||x_k - mu_k||`` in MEF-SSIM (``mef_ssim.m``), so that a
#: flat patch still has a weight.
MEF_SSIM_STRENGTH_OFFSET = 0.001
#: The cap on MEF-SSIM's structure-consistency exponent ``p = tan(pi R / 2)`` (``mef_ssim.m``'s
#: ``p(p > 10) = 10``).
MEF_SSIM_MAX_EXPONENT = 10.0


def _moments(x: Float) -> tuple[Float, Float]:
    """Gaussian-window mean and variance ('valid') of a stack (a repeated plane done once)."""
    x = collapse_repeated_planes(x)
    g = gaussian_1d(_WIN, _SIGMA)
    mu = filter_valid(x, g)
    return mu, filter_valid(x * x, g) - mu * mu


@source_cached
def _source_moments(S: Float) -> tuple[Float, Float]:
    """:func:`_moments` of a source stack: the same whatever fused image it is compared with, so
    computed once per source in a call (or ``shared_inputs(sources=True)``) block."""
    return _moments(S)


def _ssim_maps(
    x: Float, y: Float, y_moments: tuple[Float, Float] | None = None, k1: float = SSIM_K1, k2: float = SSIM_K2,
    x_moments: tuple[Float, Float] | None = None,
) -> tuple[Float, Float]:
    """SSIM and contrast-structure maps ('valid') of two ``(C, H, W)`` stacks (their :func:`_moments`
    where given: ``x_moments``, ``y_moments``)."""
    c1, c2 = (k1 * 255.0) ** 2, (k2 * 255.0) ** 2
    mx, sxx = x_moments if x_moments is not None else _moments(x)
    my, syy = y_moments if y_moments is not None else _moments(y)
    sxy = filter_valid(collapse_repeated_planes(x) * collapse_repeated_planes(y), gaussian_1d(_WIN, _SIGMA)) - mx * my
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    lum = (2 * mx * my + c1) / (mx * mx + my * my + c1)
    return lum * cs, cs


def check_size(h: int, w: int, need: int, what: str) -> None:
    """Refuse (:class:`MetricInputError`) an ``h x w`` image under ``need`` pixels a side, which the
    metric ``what`` cannot score (its window or its scales need them).

    Example:
        >>> check_size(8, 12, 11, "SSIM")
        Traceback (most recent call last):
        ...
        defusion.metrics._errors.MetricInputError: SSIM needs images of at least 11x11 pixels, got 12x8 (WxH)
    """
    if min(h, w) < need:
        raise MetricInputError(f"{what} needs images of at least {need}x{need} pixels, got {w}x{h} (WxH)")




def ssim(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> float:
    """SSIM (VIFB): ``SSIM(A, F) + SSIM(B, F)``, each the mean of the 'valid' SSIM map.

    Why: structure/luminance/contrast preservation (Wang et al. 2004). VIFB sums over the two
    sources, so identical images give 2; see ``ssim_mean`` for the mean. RGB: mean over channels.

    >>> import numpy as np
    >>> x = np.random.default_rng(0).integers(0, 256, (24, 24)).astype(np.uint8)
    >>> round(ssim(x, x, x), 12)
    2.0
    """
    F, A, B = triplet(fused, a, b)
    check_size(*F.shape[-2:], _WIN, "SSIM")
    fm = _moments(F)
    sa = _ssim_maps(A, F, fm, x_moments=_source_moments(A))[0].mean(axis=(-2, -1))
    sb = _ssim_maps(B, F, fm, x_moments=_source_moments(B))[0].mean(axis=(-2, -1))
    return float((sa + sb).mean())


def ssim_mean(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> float:
    """SSIM-mean: ``(SSIM(A, F) + SSIM(B, F)) / 2`` (in [-1, 1]); otherwise as ``ssim``.

    >>> import numpy as np
    >>> x = np.random.default_rng(0).integers(0, 256, (24, 24)).astype(np.uint8)
    >>> round(ssim_mean(x, x, x), 12)
    1.0
    """
    return ssim(fused, a, b) / 2.0


def _ms_ssim_pair(x: Float, y: Float) -> np.ndarray:
    """Wang's multi-scale SSIM of two ``(C, H, W)`` stacks, one value per plane."""
    w = np.asarray(MS_SSIM_WEIGHTS)
    levels = len(w)
    cs_means, last = [], None
    x, y = collapse_repeated_planes(x), collapse_repeated_planes(y)
    for lev in range(levels):
        s_map, cs_map = _ssim_maps(x, y)
        if lev == levels - 1:
            last = s_map.mean(axis=(-2, -1))
        else:
            cs_means.append(cs_map.mean(axis=(-2, -1)))
            x, y = downsample2(x), downsample2(y)
    # Negative terms (anti-correlated structure, common for IR at coarse scales) are clamped to 0
    # as tf.image.ssim_multiscale and pytorch_msssim do; Wang's MATLAB would return a complex value.
    terms = np.maximum(np.stack(cs_means + [last]), 0.0)
    return np.prod(terms ** w[:, None], axis=0)


def ms_ssim(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> float:
    """MS-SSIM: ``MS-SSIM(A, F) + MS-SSIM(B, F)`` (Wang, Simoncelli & Bovik 2003), up to 2.

    5 scales (2x2 mean + decimation between scales, symmetric border), product of the contrast-
    structure means at scales 1-4 and the SSIM mean at scale 5 raised to the standard weights;
    negative per-scale terms are clamped to 0 (as TensorFlow and pytorch_msssim do; IR and fused
    images are often anti-correlated at coarse scales). Summed over the sources like VIFB's SSIM.
    Needs at least 176 pixels per side. Note: the MATLAB toolbox of Tang et al. reports as
    "MS_SSIM" the MEF variant (our ``MS-MEF-SSIM``).

    >>> import numpy as np
    >>> x = np.random.default_rng(0).integers(0, 256, (176, 176)).astype(np.uint8)
    >>> round(ms_ssim(x, x, x), 12)
    2.0
    """
    F, A, B = triplet(fused, a, b)
    check_size(*F.shape[-2:], _WIN * 16, "MS-SSIM (5 scales)")
    return float((_ms_ssim_pair(A, F) + _ms_ssim_pair(B, F)).mean())


# MEF-SSIM ---------------------------------------------------------------------------------


def _mef_ssim_value(seq: Float, f: Float, k: float = MEF_SSIM_K) -> float:
    """Single-scale MEF-SSIM of a ``(K, H, W)`` source stack and an ``HxW`` fused image.

    Vectorised form of Ma et al.'s per-patch loop: the desired patch is
    ``r = c_max * sum_k w_k (x_k - mu_k) / ||.||`` with ``w_k`` from the patch contrasts and the
    structure-consistency exponent ``p = tan(pi R / 2)``; its Gaussian-weighted statistics are
    linear/quadratic in the source statistics, so everything reduces to window sums.
    """
    n = _WIN * _WIN
    kk = seq.shape[0]
    # uniform-window sums (exact for integer-valued images)
    s1 = box_sum_valid(seq, _WIN)
    cross = np.empty((kk, kk) + s1.shape[1:])
    for i in range(kk):
        for j in range(i, kk):
            c = (n * box_sum_valid(seq[i] * seq[j], _WIN) - s1[i] * s1[j]) / n
            cross[i, j] = cross[j, i] = c
    var_n = np.maximum(np.stack([cross[i, i] for i in range(kk)]), 0.0)  # ||x_k - mu_k||^2
    ed = np.sqrt(var_n) + MEF_SSIM_STRENGTH_OFFSET
    tot = seq.sum(axis=0)
    t1, t2 = box_sum_valid(tot, _WIN), box_sum_valid(tot * tot, _WIN)
    num = np.sqrt(np.maximum(n * t2 - t1 * t1, 0.0) / n)
    den = np.sqrt(var_n).sum(axis=0)
    r = (num + _EPS) / (den + _EPS)
    r[r > 1] = 1 - _EPS
    r[r < 0] = _EPS
    p = np.minimum(np.tan(np.pi / 2 * r), MEF_SSIM_MAX_EXPONENT)
    wmap = (ed / _WIN) ** p + _EPS
    wmap /= wmap.sum(axis=0)
    coef = wmap / ed  # a_k: weight of (x_k - mu_k) in the un-normalised desired patch
    norm2 = np.einsum("i...,j...,ij...->...", coef, coef, cross)
    norm = np.sqrt(np.maximum(norm2, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(norm > 0, ed.max(axis=0) / norm, 0.0)
    # Gaussian-weighted (co)variances over the same 11x11 windows
    g = gaussian_1d(_WIN, _SIGMA)
    gx = filter_valid(seq, g)
    gf = filter_valid(f, g)
    var_f = filter_valid(f * f, g) - gf * gf
    sig1 = np.zeros_like(gf)
    sig12 = np.zeros_like(gf)
    for i in range(kk):
        sig12 += coef[i] * (filter_valid(seq[i] * f, g) - gx[i] * gf)
        for j in range(i, kk):
            cov = filter_valid(seq[i] * seq[j], g) - gx[i] * gx[j]
            sig1 += (1.0 if i == j else 2.0) * coef[i] * coef[j] * cov
    sig1 *= scale * scale
    sig12 *= scale
    c = (k * 255.0) ** 2
    q = (2 * sig12 + c) / (sig1 + var_f + c)
    return float(q.mean())


def _mef_inputs(fused: ArrayLike, *sources: ArrayLike) -> tuple[Float, Float]:
    f = to_gray(fused, "fused")
    labels = source_labels(len(sources))
    grey = [source_gray(s, label) for s, label in zip(sources, labels)]  # a source's own: never an earlier call's
    check_same_size(f.shape, [g.shape for g in grey])
    return np.stack(grey), f


def mef_ssim(fused: ArrayLike, a: ArrayLike, b: ArrayLike, *more: ArrayLike) -> float:
    """MEF-SSIM: single-scale MEF structural similarity (Ma, Zeng & Wang 2015), in [-1, 1].

    Defined for any number of exposures: pass a whole bracket as ``a, b, *more``.

    Builds, per 11x11 patch, the "desired" patch from the sources (highest contrast, structure a
    weighted mix of the sources' normalised structures) and compares the fused patch with it by
    the SSIM contrast-structure term (Gaussian window, C = (K*255)^2, ``MEF_SSIM_K``). Colour images are
    converted with MATLAB ``rgb2gray`` first, as MEFB does.

    >>> import numpy as np
    >>> x = np.random.default_rng(3).integers(0, 256, (24, 24)).astype(np.uint8)
    >>> round(mef_ssim(x, x, x), 9)  # identical sources and fused image
    1.0
    """
    seq, f = _mef_inputs(fused, a, b, *more)
    check_size(*f.shape, _WIN, "MEF-SSIM")
    return _mef_ssim_value(seq, f)


def ms_mef_ssim(fused: ArrayLike, a: ArrayLike, b: ArrayLike, *more: ArrayLike) -> float:
    """MS-MEF-SSIM: multi-scale MEF-SSIM, ``prod_l Q_l ^ w_l`` over 3 scales (``mef_ms_ssim.m``).

    Weights (0.0448, 0.2856, 0.3001) normalised to sum 1; 2x2 mean + decimation between scales.
    This is what MEFB's ``metricsMEF_SSIM.m`` reports as "MEF-SSIM". Needs at least 44 pixels
    per side. Like :func:`mef_ssim`, takes any number of exposures.

    >>> import numpy as np
    >>> x = np.random.default_rng(3).integers(0, 256, (48, 48)).astype(np.uint8)
    >>> round(ms_mef_ssim(x, x, x), 9)
    1.0
    """
    seq, f = _mef_inputs(fused, a, b, *more)
    w = np.array(MS_SSIM_WEIGHTS[:3])
    w = w / w.sum()
    check_size(*f.shape, _WIN * 4, "MS-MEF-SSIM (3 scales)")
    qs = []
    for lev in range(len(w)):
        qs.append(_mef_ssim_value(seq, f))
        if lev < len(w) - 1:
            seq, f = downsample2(seq), downsample2(f)
    with np.errstate(invalid="ignore"):
        return float(np.prod(np.asarray(qs) ** w))

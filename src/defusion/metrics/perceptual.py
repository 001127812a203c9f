"""Human-visual-system based metrics: Qcb (Chen-Blum), Qcv (Chen-Varshney), VIF (VIFF), VIFp.

* ``Qcb`` and ``Qcv`` follow VIFB's ``metricsQcb.m`` / ``metricsQcv.m`` (Z. Liu's
  ``metricChenBlum.m`` / ``metricChen.m``). Their frequency-domain CSF filtering returns complex
  arrays in MATLAB whose imaginary parts are rounding noise (the responses are even); the real
  results are computed here with real FFTs.
* ``VIF`` is VIFF, Han et al. (2013), as MEFB's ``metricsVIF.m`` (the author's code).
* ``VIFp`` is Sheikh & Bovik's multi-scale pixel-domain VIF, summed over the two sources.

All are per colour channel of the fused image, averaged (a 1-channel source is reused).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from defusion.metrics._cache import cached, source_cached
from defusion.metrics._channels import collapse_repeated_planes, triplet
from defusion.metrics._errors import MetricInputError
from defusion.metrics._filters import (
    correlate_sep,
    filter_freq_even,
    filter_valid,
    freqspace,
    gaussian_1d,
    normalize255,
    sobel,
)
from defusion.metrics._matlab import Float

__all__ = ["qcb", "qcv", "vif", "vifp"]

# Qcb's contrast-sensitivity function, a difference of Gaussians of the radial frequency r,
# exp(-(r / f0)^2) - a exp(-(r / f1)^2), as VIFB's ``metricsQcb.m`` (Liu's ``metricChenBlum.m``) sets it.
#: Qcb's frequency scale: ``freqspace``'s grid times H / 30 and W / 30 (the viewing condition).
QCB_FREQ_SCALE = 30.0
#: Qcb's f0: the width of the CSF's centre Gaussian.
QCB_F0 = 15.3870
#: Qcb's a: the weight of the CSF's surround Gaussian.
QCB_A = 0.7622
#: Qcb's f1: the width of the CSF's surround Gaussian.
QCB_F1 = 1.3456
#: Qcb's local contrast ``|G_2 * I / G_4 * I - 1|``: the sigma of its centre Gaussian (``metricsQcb.m``).
QCB_SIGMA_CENTRE = 2.0
#: The sigma of the local contrast's surround Gaussian.
QCB_SIGMA_SURROUND = 4.0
#: The radius of both Gaussians' window: Liu's un-normalised 31x31 one.
QCB_WINDOW_RADIUS = 15
#: Qcb's Z in the contrast map ``C^p / (C^q + Z)`` (k = h = 1, p = 3, q = 2), ``metricsQcb.m``.
QCB_Z = 1e-4

# Qcv's contrast-sensitivity function: Mannos & Sakrison's a (b + c r) exp(-(c r)^d) of the radial
# frequency r, as VIFB's ``metricsQcv.m`` (Liu's ``metricChen.m``) sets it.
#: Qcv's frequency scale: ``freqspace``'s grid times H / 8 and W / 8 (the viewing condition).
QCV_FREQ_SCALE = 8.0
#: Mannos-Sakrison's a: the CSF's gain.
QCV_CSF_A = 2.6
#: Mannos-Sakrison's b: the CSF's offset.
QCV_CSF_B = 0.0192
#: Mannos-Sakrison's c: the CSF's frequency factor.
QCV_CSF_C = 0.144
#: Mannos-Sakrison's d: the CSF's exponent.
QCV_CSF_D = 1.1
#: Qcv's regions: 16x16 blocks (``metricsQcv.m``'s ``blkproc`` window).
QCV_BLOCK = 16

#: VIF's (VIFF's) visual noise variance sigma_n^2, Han et al. (2013) as MEFB's ``metricsVIF.m``
#: (``sq = 0.005 * 255 * 255``).
VIF_NOISE_VAR = 0.005 * 255 * 255
#: VIF's weights of its 4 scales, ``metricsVIF.m``'s ``p = [1, 0, 0.15, 1] ./ 2.15`` (their sum).
VIF_SCALE_WEIGHTS = tuple(w / 2.15 for w in (1.0, 0.0, 0.15, 1.0))
#: Added to both of VIF's per-scale sums (``metricsVIF.m``), so that a flat scale divides no zero.
VIF_SUM_EPS = 1e-7
#: VIF's and VIFp's Gaussian windows, one per scale 1..4: ``N = 2^(4 - scale + 1) + 1`` (17, 9, 5, 3), as
#: Sheikh & Bovik's ``vifp_mscale.m`` and MEFB's ``metricsVIF.m`` size them.
VIF_WINDOWS = tuple(2 ** (4 - scale + 1) + 1 for scale in range(1, 5))
#: A window's size over its Gaussian's sigma: ``fspecial('gaussian', N, N / 5)`` (``vifp_mscale.m``).
VIF_WINDOW_PER_SIGMA = 5.0
#: VIFp's noise variance sigma_n^2, Sheikh & Bovik's ``vifp_mscale.m``.
VIFP_NOISE_VAR = 2.0
#: The GSM statistics' floor for a degenerate (flat) region, Sheikh & Bovik's ``vifp_mscale.m``.
GSM_EPS = 1e-10


# Qcb -------------------------------------------------------------------------------------


def _gauss_filter_same(x: Float, sigma: float) -> Float:
    """``filter2(G, x, 'same')`` with Liu's un-normalised 31x31 Gaussian (zero padding)."""
    t = np.arange(-QCB_WINDOW_RADIUS, QCB_WINDOW_RADIUS + 1, dtype=np.float64)
    e = np.exp(-(t * t) / (2 * sigma * sigma))
    return correlate_sep(x, e, e) * (1.0 / (2 * np.pi * sigma * sigma))


def _local_contrast_power(x: Float) -> Float:
    """Chen-Blum's masked local contrast ``C^3 / (C^2 + Z)`` of ``C = |G_2 * I / G_4 * I - 1|``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.abs(_gauss_filter_same(x, QCB_SIGMA_CENTRE) / _gauss_filter_same(x, QCB_SIGMA_SURROUND) - 1.0)
    c2 = c * c
    return c2 * c / (c2 + QCB_Z)  # k=h=1, p=3, q=2


@cached
def _qcb_csf(h: int, w: int) -> Float:
    """Qcb's contrast-sensitivity response on an ``h x w`` image's ``freqspace`` grid (a DoG of the
    radial frequency); the same for every image of that size, so computed once in a ``shared_inputs`` block."""
    u, v = freqspace(h, w)
    r = np.sqrt((u * (w / QCB_FREQ_SCALE)) ** 2 + (v * (h / QCB_FREQ_SCALE)) ** 2)
    return np.exp(-((r / QCB_F0) ** 2)) - QCB_A * np.exp(-((r / QCB_F1) ** 2))


@source_cached
def _qcb_contrast(S: Float, sd: Float) -> Float:
    """A source stack's masked local contrast after Qcb's CSF ``sd`` (:func:`_qcb_csf`; a repeated plane
    once): the same whatever fused image it is compared with, so computed once per source in a
    ``shared_inputs`` block."""
    return _local_contrast_power(filter_freq_even(normalize255(collapse_repeated_planes(S)), sd))


def qcb(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> float:
    """Qcb: Chen-Blum (2009) contrast-preservation quality, VIFB's implementation.

    Images are stretched to 0..255 and rounded, filtered by a DoG contrast-sensitivity function
    in the frequency domain (f0, f1, a: ``QCB_F0``, ``QCB_F1``, ``QCB_A``; frequency scale
    ``H / QCB_FREQ_SCALE``, ``W / QCB_FREQ_SCALE``), then local contrast ``|G_2 * I / G_4 * I - 1|``
    is mapped by ``C^3 / (C^2 + Z)`` (``QCB_Z``).
    Preservation ratios of each source are averaged with saliency weights ``C_S^2``; result is
    the mean of the quality map. Higher is better. RGB: mean over channels.

    >>> import numpy as np
    >>> x = np.random.default_rng(4).integers(0, 256, (32, 32)).astype(np.uint8)
    >>> round(qcb(x, x, x), 9)
    1.0
    """
    F, A, B = triplet(fused, a, b)
    sd = _qcb_csf(*F.shape[-2:])
    ca, cb = _qcb_contrast(A, sd), _qcb_contrast(B, sd)
    cf = _local_contrast_power(filter_freq_even(normalize255(F), sd))
    with np.errstate(divide="ignore", invalid="ignore"):
        qaf = np.minimum(ca, cf) / np.maximum(ca, cf)  # = (ca/cf if ca < cf else cf/ca)
        qbf = np.minimum(cb, cf) / np.maximum(cb, cf)
        ca2, cb2 = ca * ca, cb * cb
        q = (ca2 * qaf + cb2 * qbf) / (ca2 + cb2)  # saliency weights lambda_S = C_S^2 / sum
    return float(q.mean(axis=(-2, -1)).mean())


# Qcv -------------------------------------------------------------------------------------


def _block_sums(x: Float) -> Float:
    """Sums over ``QCV_BLOCK`` x ``QCV_BLOCK`` blocks, partial edge blocks included (MATLAB
    ``blkproc`` zero-pads)."""
    h, w = x.shape[-2:]
    x = np.add.reduceat(x, np.arange(0, w, QCV_BLOCK), axis=-1)
    return np.add.reduceat(x, np.arange(0, h, QCV_BLOCK), axis=-2)


@cached
def _qcv_csf(h: int, w: int) -> Float:
    """Qcv's Mannos-Sakrison response on an ``h x w`` image's ``freqspace`` grid; the same for every image
    of that size, so computed once in a ``shared_inputs`` block."""
    u, v = freqspace(h, w)
    r = np.sqrt((u * (w / QCV_FREQ_SCALE)) ** 2 + (v * (h / QCV_FREQ_SCALE)) ** 2)
    return QCV_CSF_A * (QCV_CSF_B + QCV_CSF_C * r) * np.exp(-((QCV_CSF_C * r) ** QCV_CSF_D))


@source_cached
def _qcv_source(S: Float) -> tuple[Float, Float]:
    """A source stack stretched to 0..255 (a repeated plane once) and its regions' saliency (block sums
    of Sobel strength^5): the same whatever fused image it is compared with, so computed once per source
    in a call (or ``shared_inputs(sources=True)``) block."""
    s = normalize255(collapse_repeated_planes(S))
    gx, gy = sobel(s)
    m2 = gx * gx + gy * gy
    return s, _block_sums(m2 * m2 * np.sqrt(m2))  # strength ** 5


def qcv(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> float:
    """Qcv: Chen-Varshney (2007) perceptual distortion, VIFB's implementation; lower is better.

    Images are stretched to 0..255 and rounded. Region saliency = sum of Sobel strength^5 over
    16x16 blocks; distortion = mean over each block of the squared source-minus-fused difference
    filtered by the Mannos-Sakrison CSF (``QCV_CSF_*``; frequency scale ``H / QCV_FREQ_SCALE``,
    ``W / QCV_FREQ_SCALE``). Result:
    ``sum(lam_A D_A + lam_B D_B) / sum(lam_A + lam_B)``; partial edge blocks count as 256
    pixels, as with ``blkproc``. (MATLAB's filtered difference is complex, but its imaginary
    part is rounding noise: the CSF response is even, so the real result is used.)
    RGB: mean over channels.

    >>> import numpy as np
    >>> x = np.random.default_rng(5).integers(0, 256, (32, 32)).astype(np.uint8)
    >>> qcv(x, x, x)
    0.0
    """
    F, A, B = triplet(fused, a, b)
    nf = normalize255(F)
    theta_m = _qcv_csf(*F.shape[-2:])
    num, den = 0.0, 0.0
    for s, lam in (_qcv_source(A), _qcv_source(B)):
        df = filter_freq_even(s - nf, theta_m)
        dist = _block_sums(df * df) / float(QCV_BLOCK * QCV_BLOCK)
        num = num + (lam * dist).sum(axis=(-2, -1))
        den = den + lam.sum(axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return float((num / den).mean())


# VIF -------------------------------------------------------------------------------------


@source_cached
def _vif_reference_scales(S: Float) -> tuple[tuple[Float, Float, Float], ...]:
    """Per scale (1..4) of a reference (source) stack, a repeated plane once: the image at that scale, its
    window means and its variances ``sigma1^2`` (clamped at 0), as :func:`_vif_scales` computes them. The
    same whatever fused image it is compared with, so computed once per source in a call (or
    ``shared_inputs(sources=True)``) block, for VIF and VIFp both."""
    ref = collapse_repeated_planes(S)
    out = []
    for scale, n in enumerate(VIF_WINDOWS, start=1):
        win = gaussian_1d(n, n / VIF_WINDOW_PER_SIGMA)
        if scale > 1:
            ref = filter_valid(ref, win)[..., ::2, ::2]
        mu1 = filter_valid(ref, win)
        out.append((ref, mu1, np.maximum(filter_valid(ref * ref, win) - mu1 * mu1, 0.0)))
    return tuple(out)


def _vif_scales(S: Float, dist: Float) -> list[tuple[Float, Float, Float]]:
    """Per scale (1..4): Sheikh & Bovik's pixel-domain GSM statistics ``(g, sigma1^2, sv^2)`` of a reference
    (source) stack ``S`` and a distorted (fused) one.

    Gaussian windows ``VIF_WINDOWS`` (17, 9, 5, 3; sigma = size / 5), 'valid' filtering, decimation
    by 2 after filtering with the current window before scales 2-4; the usual clamps for degenerate
    regions."""
    out = []
    for (scale, n), (ref, mu1, s1) in zip(enumerate(VIF_WINDOWS, start=1), _vif_reference_scales(S)):
        win = gaussian_1d(n, n / VIF_WINDOW_PER_SIGMA)
        if scale > 1:
            dist = filter_valid(dist, win)[..., ::2, ::2]
        mu2 = filter_valid(dist, win)
        s2 = np.maximum(filter_valid(dist * dist, win) - mu2 * mu2, 0.0)
        s12 = filter_valid(ref * dist, win) - mu1 * mu2
        s1, s2 = (np.broadcast_to(v, s12.shape).copy() for v in (s1, s2))
        g = s12 / (s1 + GSM_EPS)
        sv = s2 - g * s12
        low1 = s1 < GSM_EPS
        g[low1] = 0
        sv[low1] = s2[low1]
        s1[low1] = 0
        low2 = s2 < GSM_EPS
        g[low2] = 0
        sv[low2] = 0
        neg = g < 0
        sv[neg] = s2[neg]
        g[neg] = 0
        sv[sv <= GSM_EPS] = GSM_EPS
        out.append((g, s1, sv))
    return out


def vif(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> float:
    """VIF: VIFF, the fusion VIF of Han, Cai, Cao & Xu (2013), as MEFB's ``metricsVIF.m``.

    Sheikh-Bovik GSM statistics at 4 scales with visual noise ``VIF_NOISE_VAR``; per pixel the source
    with the smaller gain g is used; per scale ``sum(VID + eps) / sum(VIND + eps)`` (``VIF_SUM_EPS``),
    combined with weights ``VIF_SCALE_WEIGHTS``. Higher is better. RGB: mean over channels (MEFB uses
    only the first fused channel when both sources are grey; here every channel is used).

    >>> import numpy as np
    >>> x = np.random.default_rng(6).integers(0, 256, (96, 96)).astype(np.uint8)
    >>> round(vif(x, x, x), 9)
    1.0
    """
    F, A, B = triplet(fused, a, b)
    _check_vif_size(*F.shape[-2:])
    sq = VIF_NOISE_VAR
    total = 0.0
    for i, ((g1, s1a, sv1), (g2, s1b, sv2)) in enumerate(zip(_vif_scales(A, F), _vif_scales(B, F))):
        vid1 = np.log10(1 + g1**2 * s1a / (sv1 + sq))
        vid2 = np.log10(1 + g2**2 * s1b / (sv2 + sq))
        vind1, vind2 = np.log10(1 + s1a / sq), np.log10(1 + s1b / sq)
        pick1 = g1 < g2
        vid = np.where(pick1, vid1, vid2)
        vind = np.where(pick1, vind1, vind2)
        vid_sum, vind_sum = (vid + VIF_SUM_EPS).sum(axis=(-2, -1)), (vind + VIF_SUM_EPS).sum(axis=(-2, -1))
        total = total + VIF_SCALE_WEIGHTS[i] * vid_sum / vind_sum
    return float(np.mean(total))


def smallest_side(windows: tuple[int, ...]) -> int:
    """The smallest image side at which every scale of :func:`_vif_scales` has statistics (at least one
    pixel): scale k's image must hold its window, and it comes from the previous scale's by a 'valid'
    filter with scale k's window ``w`` and decimation by 2 (``ceil((m - w + 1) / 2)`` of ``m`` pixels),
    worked back from the last scale. Below it, the reference code sums an empty scale (0 / 0: NaN).

    Example:
        >>> smallest_side(VIF_WINDOWS), smallest_side((33, 17, 9, 5))  # the code's windows; twice as large
        (41, 81)
    """
    need = windows[-1]
    for window, next_window in zip(windows[-2::-1], windows[:0:-1]):
        need = max(window, 2 * need + next_window - 2)
    return need


#: The smallest side VIF and VIFp take: where the last of the 4 scales (``VIF_WINDOWS``) still holds its window.
VIF_MIN_SIDE = smallest_side(VIF_WINDOWS)


def _check_vif_size(h: int, w: int, metric: str = "VIF") -> None:
    """Refuse images too small for VIF's and VIFp's 4 scales, in one line."""
    if min(h, w) < VIF_MIN_SIDE:
        raise MetricInputError(f"{metric} needs images of at least {VIF_MIN_SIDE}x{VIF_MIN_SIDE} pixels, got {w}x{h} (WxH)")


def vifp(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> float:
    """VIFp: ``VIF(A, F) + VIF(B, F)``, Sheikh & Bovik's multi-scale pixel-domain VIF.

    ``vifp_mscale.m`` with sigma_n^2 = ``VIFP_NOISE_VAR``; each term is ``sum_scales sum log10(1 + g^2 s1 /
    (sv + 2)) / sum_scales sum log10(1 + s1 / 2)``. Summed over the sources (as in the MATLAB
    toolbox of Tang et al.). RGB: mean over channels.

    >>> import numpy as np
    >>> x = np.random.default_rng(6).integers(0, 256, (96, 96)).astype(np.uint8)
    >>> round(vifp(x, x, x), 9)
    2.0
    """
    F, A, B = triplet(fused, a, b)
    _check_vif_size(*F.shape[-2:], metric="VIFp")
    res = 0.0
    for S in (A, B):
        num, den = 0.0, 0.0
        for g, s1, sv in _vif_scales(S, F):
            num = num + np.log10(1 + g**2 * s1 / (sv + VIFP_NOISE_VAR)).sum(axis=(-2, -1))
            den = den + np.log10(1 + s1 / VIFP_NOISE_VAR).sum(axis=(-2, -1))
        res = res + num / den
    return float(np.mean(res))

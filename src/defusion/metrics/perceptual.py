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

from defusion.metrics._utils import (
    MetricInputError,
    Float,
    correlate_sep,
    sobel,
    filter_freq_even,
    filter_valid,
    freqspace,
    gaussian_1d,
    normalize255,
    triplet,
    uniq,
)

__all__ = ["qcb", "qcv", "vif", "vifp"]


# Qcb -------------------------------------------------------------------------------------


def _gauss_filter_same(x: Float, sigma: float) -> Float:
    """``filter2(G, x, 'same')`` with Liu's un-normalised 31x31 Gaussian (zero padding)."""
    t = np.arange(-15, 16, dtype=np.float64)
    e = np.exp(-(t * t) / (2 * sigma * sigma))
    return correlate_sep(x, e, e) * (1.0 / (2 * np.pi * sigma * sigma))


def _local_contrast_power(x: Float) -> Float:
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.abs(_gauss_filter_same(x, 2.0) / _gauss_filter_same(x, 4.0) - 1.0)
    c2 = c * c
    return c2 * c / (c2 + 1e-4)  # k=h=1, p=3, q=2, Z=1e-4


def qcb(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> float:
    """Qcb: Chen-Blum (2009) contrast-preservation quality, VIFB's implementation.

    Images are stretched to 0..255 and rounded, filtered by a DoG contrast-sensitivity function
    in the frequency domain (f0=15.3870, f1=1.3456, a=0.7622; frequency scale H/30, W/30),
    then local contrast ``|G_2 * I / G_4 * I - 1|`` is mapped by ``C^3 / (C^2 + 1e-4)``.
    Preservation ratios of each source are averaged with saliency weights ``C_S^2``; result is
    the mean of the quality map. Higher is better. RGB: mean over channels.

    >>> import numpy as np
    >>> x = np.random.default_rng(4).integers(0, 256, (32, 32)).astype(np.uint8)
    >>> round(qcb(x, x, x), 9)
    1.0
    """
    F, A, B = triplet(fused, a, b)
    h, w = F.shape[-2:]
    u, v = freqspace(h, w)
    r = np.sqrt((u * (w / 30.0)) ** 2 + (v * (h / 30.0)) ** 2)
    sd = np.exp(-((r / 15.3870) ** 2)) - 0.7622 * np.exp(-((r / 1.3456) ** 2))
    ca, cb, cf = (_local_contrast_power(filter_freq_even(normalize255(uniq(x)), sd)) for x in (A, B, F))
    with np.errstate(divide="ignore", invalid="ignore"):
        qaf = np.minimum(ca, cf) / np.maximum(ca, cf)  # = (ca/cf if ca < cf else cf/ca)
        qbf = np.minimum(cb, cf) / np.maximum(cb, cf)
        ca2, cb2 = ca * ca, cb * cb
        q = (ca2 * qaf + cb2 * qbf) / (ca2 + cb2)  # saliency weights lambda_S = C_S^2 / sum
    return float(q.mean(axis=(-2, -1)).mean())


# Qcv -------------------------------------------------------------------------------------


def _block_sum16(x: Float) -> Float:
    """Sums over 16x16 blocks, partial edge blocks included (MATLAB ``blkproc`` zero-pads)."""
    h, w = x.shape[-2:]
    x = np.add.reduceat(x, np.arange(0, w, 16), axis=-1)
    return np.add.reduceat(x, np.arange(0, h, 16), axis=-2)


def qcv(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> float:
    """Qcv: Chen-Varshney (2007) perceptual distortion, VIFB's implementation; lower is better.

    Images are stretched to 0..255 and rounded. Region saliency = sum of Sobel strength^5 over
    16x16 blocks; distortion = mean over each block of the squared source-minus-fused difference
    filtered by the Mannos-Sakrison CSF (frequency scale H/8, W/8). Result:
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
    h, w = F.shape[-2:]
    na, nb, nf = normalize255(uniq(A)), normalize255(uniq(B)), normalize255(F)
    u, v = freqspace(h, w)
    r = np.sqrt((u * (w / 8.0)) ** 2 + (v * (h / 8.0)) ** 2)
    theta_m = 2.6 * (0.0192 + 0.144 * r) * np.exp(-((0.144 * r) ** 1.1))
    num, den = 0.0, 0.0
    for s in (na, nb):
        gx, gy = sobel(s)
        m2 = gx * gx + gy * gy
        lam = _block_sum16(m2 * m2 * np.sqrt(m2))  # strength ** 5
        df = filter_freq_even(s - nf, theta_m)
        dist = _block_sum16(df * df) / 256.0
        num = num + (lam * dist).sum(axis=(-2, -1))
        den = den + lam.sum(axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return float((num / den).mean())


# VIF -------------------------------------------------------------------------------------


def _vif_scales(ref: Float, dist: Float):
    """Per scale (1..4): Sheikh & Bovik's pixel-domain GSM statistics ``(g, sigma1^2, sv^2)``.

    Gaussian windows of size 33, 17, 9, 5 (sigma = size/5), 'valid' filtering, decimation by 2
    after filtering with the current window; the usual clamps for degenerate regions."""
    out = []
    for scale in range(1, 5):
        n = 2 ** (4 - scale + 1) + 1
        win = gaussian_1d(n, n / 5.0)
        if scale > 1:
            ref = filter_valid(ref, win)[..., ::2, ::2]
            dist = filter_valid(dist, win)[..., ::2, ::2]
        mu1, mu2 = filter_valid(ref, win), filter_valid(dist, win)
        s1 = np.maximum(filter_valid(ref * ref, win) - mu1 * mu1, 0.0)
        s2 = np.maximum(filter_valid(dist * dist, win) - mu2 * mu2, 0.0)
        s12 = filter_valid(ref * dist, win) - mu1 * mu2
        s1, s2 = (np.broadcast_to(v, s12.shape).copy() for v in (s1, s2))
        g = s12 / (s1 + 1e-10)
        sv = s2 - g * s12
        low1 = s1 < 1e-10
        g[low1] = 0
        sv[low1] = s2[low1]
        s1[low1] = 0
        low2 = s2 < 1e-10
        g[low2] = 0
        sv[low2] = 0
        neg = g < 0
        sv[neg] = s2[neg]
        g[neg] = 0
        sv[sv <= 1e-10] = 1e-10
        out.append((g, s1, sv))
    return out


def vif(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> float:
    """VIF: VIFF, the fusion VIF of Han, Cai, Cao & Xu (2013), as MEFB's ``metricsVIF.m``.

    Sheikh-Bovik GSM statistics at 4 scales with visual noise 0.005*255^2; per pixel the source
    with the smaller gain g is used; per scale ``sum(VID + 1e-7) / sum(VIND + 1e-7)``, combined
    with weights (1, 0, 0.15, 1) / 2.15. Higher is better. RGB: mean over channels (MEFB uses
    only the first fused channel when both sources are grey; here every channel is used).

    >>> import numpy as np
    >>> x = np.random.default_rng(6).integers(0, 256, (96, 96)).astype(np.uint8)
    >>> round(vif(x, x, x), 9)
    1.0
    """
    F, A, B = triplet(fused, a, b)
    _check_vif_size(*F.shape[-2:])
    A, B = uniq(A), uniq(B)
    sq = 0.005 * 255 * 255
    p = np.array([1.0, 0.0, 0.15, 1.0]) / 2.15
    total = 0.0
    for i, ((g1, s1a, sv1), (g2, s1b, sv2)) in enumerate(zip(_vif_scales(A, F), _vif_scales(B, F))):
        vid1 = np.log10(1 + g1**2 * s1a / (sv1 + sq))
        vid2 = np.log10(1 + g2**2 * s1b / (sv2 + sq))
        vind1, vind2 = np.log10(1 + s1a / sq), np.log10(1 + s1b / sq)
        pick1 = g1 < g2
        vid = np.where(pick1, vid1, vid2)
        vind = np.where(pick1, vind1, vind2)
        total = total + p[i] * (vid + 1e-7).sum(axis=(-2, -1)) / (vind + 1e-7).sum(axis=(-2, -1))
    return float(np.mean(total))


#: The smallest side VIF and VIFp take: 'valid' windows 33, 17, 9, 5 with a filter + decimation before scales 2-4.
VIF_MIN_SIDE = 81


def _check_vif_size(h: int, w: int, metric: str = "VIF") -> None:
    if min(h, w) < VIF_MIN_SIDE:
        raise MetricInputError(f"{metric} needs images of at least {VIF_MIN_SIDE}x{VIF_MIN_SIDE} pixels, got {w}x{h} (WxH)")


def vifp(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> float:
    """VIFp: ``VIF(A, F) + VIF(B, F)``, Sheikh & Bovik's multi-scale pixel-domain VIF.

    ``vifp_mscale.m`` with sigma_n^2 = 2; each term is ``sum_scales sum log10(1 + g^2 s1 /
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
    for S in (uniq(A), uniq(B)):
        num, den = 0.0, 0.0
        for g, s1, sv in _vif_scales(S, F):
            num = num + np.log10(1 + g**2 * s1 / (sv + 2.0)).sum(axis=(-2, -1))
            den = den + np.log10(1 + s1 / 2.0).sum(axis=(-2, -1))
        res = res + num / den
    return float(np.mean(res))

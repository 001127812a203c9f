"""Gradient and edge metrics: SF, AG, EI (fused image only) and Qabf, Nabf (edge transfer).

SF, AG, EI and Qabf follow VIFB's MATLAB code exactly, quirks included (documented per function);
Nabf follows B. K. Shreyamsha Kumar's ``objective_fusion_perform_fn.m``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from defusion.metrics._cache import source_cached
from defusion.metrics._channels import collapse_repeated_planes, fused_and_sources, planes, triplet
from defusion.metrics._filters import sobel
from defusion.metrics._matlab import Float, unrounded_gray

__all__ = ["spatial_frequency", "average_gradient", "edge_intensity", "qabf", "nabf"]

# Qabf's two sigmoids, Xydeas & Petrovic (2000) as VIFB's ``metricsQabf.m`` sets them:
# Qg = Tg / (1 + exp(kg (G - Dg))) of the relative edge strength G, Qa likewise of the orientation A.
#: Qabf's Tg: the strength sigmoid's peak.
QABF_TG = 0.9994
#: Qabf's kg: the strength sigmoid's slope.
QABF_KG = -15.0
#: Qabf's Dg: the strength sigmoid's centre.
QABF_DG = 0.5
#: Qabf's Ta: the orientation sigmoid's peak.
QABF_TA = 0.9879
#: Qabf's ka: the orientation sigmoid's slope.
QABF_KA = -22.0
#: Qabf's Da: the orientation sigmoid's centre.
QABF_DA = 0.8

# Nabf's constants, as B. K. Shreyamsha Kumar's ``objective_fusion_perform_fn.m`` sets them (Td, wt_min,
# Lg, Nrg, kg, sigmag, Nra, ka, sigmaa); its sigmoids are Nrg / (1 + exp(-kg (G - sigmag))), Nra likewise.
#: Nabf's Td: a source gradient at least this strong (0..255 scale) weighs ``g ** NABF_WEIGHT_EXP``.
NABF_EDGE_MIN = 2.0
#: Nabf's wt_min: the weight of a weaker source gradient.
NABF_WEIGHT_MIN = 0.001
#: Nabf's Lg: the exponent of an edge's weight.
NABF_WEIGHT_EXP = 1.5
#: Nabf's Nrg: the strength sigmoid's peak.
NABF_NRG = 0.9999
#: Nabf's kg: the strength sigmoid's slope.
NABF_KG = 19.0
#: Nabf's sigmag: the strength sigmoid's centre.
NABF_SIGMA_G = 0.5
#: Nabf's Nra: the orientation sigmoid's peak.
NABF_NRA = 0.9995
#: Nabf's ka: the orientation sigmoid's slope.
NABF_KA = 22.0
#: Nabf's sigmaa: the orientation sigmoid's centre.
NABF_SIGMA_A = 0.5

def spatial_frequency(fused: ArrayLike, a: ArrayLike | None = None, b: ArrayLike | None = None) -> float:
    """SF: ``sqrt(RF^2 + CF^2)``, RF/CF = root mean squared row/column first differences.

    Why: overall activity level / sharpness (Eskicioglu & Fisher 1995). VIFB quirk, kept: an
    ``HxWx3`` image is indexed as 2-D, i.e. the three channels are laid side by side
    (``H x 3W``), so the sums include the two seams between channels and the divisor is
    ``H * 3W``. Both sums are divided by ``H * W`` (not by the number of differences).

    >>> import numpy as np
    >>> spatial_frequency(np.full((5, 5), 9, np.uint8))
    0.0
    >>> spatial_frequency(np.array([[0, 1], [0, 1]], np.uint8))  # RF^2 = 2/4
    0.7071067811865476
    """
    F = planes(fused)
    g = np.concatenate(list(F), axis=1)  # H x (C*W), channel 0 first: MATLAB's 2-D view
    m, n = g.shape
    rf = (np.diff(g, axis=1) ** 2).sum() / (m * n)
    cf = (np.diff(g, axis=0) ** 2).sum() / (m * n)
    return float(np.sqrt(rf + cf))


def average_gradient(fused: ArrayLike, a: ArrayLike | None = None, b: ArrayLike | None = None) -> float:
    """AG: mean of ``sqrt((dx^2 + dy^2) / 2)``, sums divided by ``(H-1)(W-1)`` as in VIFB.

    Gradients are MATLAB ``gradient`` (central differences inside, one-sided at the border),
    equal to ``numpy.gradient``. Why: detail / texture richness (Cui et al. 2015). RGB: mean
    over channels.

    >>> import numpy as np
    >>> average_gradient(np.full((4, 4), 3.0))
    0.0
    >>> ramp = np.tile(np.arange(5.0), (5, 1))   # dx = 1 everywhere, dy = 0
    >>> round(average_gradient(ramp), 6)          # 25 * sqrt(1/2) / 16
    1.104854
    """
    F = planes(fused)
    gy, gx = np.gradient(F, axis=(1, 2))
    s = np.sqrt((gx * gx + gy * gy) / 2.0)
    r, c = F.shape[-2:]
    return float((s.sum(axis=(-2, -1)) / ((r - 1) * (c - 1))).mean())


def edge_intensity(fused: ArrayLike, a: ArrayLike | None = None, b: ArrayLike | None = None) -> float:
    """EI: mean Sobel gradient magnitude of the fused image (replicate border, as VIFB).

    Why: edge strength (Rajalingam & Priya 2018). Mean over all pixels and channels.

    >>> import numpy as np
    >>> edge_intensity(np.full((4, 4), 200, np.uint8))
    0.0
    """
    F = planes(fused)
    dx, dy = sobel(F, mode="nearest")  # fspecial('sobel') and its transpose, up to sign
    return float(np.sqrt(dx * dx + dy * dy).mean())


# Qabf ------------------------------------------------------------------------------------

def _strength_angle_conv(x: Float) -> tuple[Float, Float]:
    """VIFB's Sobel: ``Sx = conv2(x, [-1 0 1; -2 0 2; -1 0 1], 'same')``,
    ``Sy = conv2(x, [1 2 1; 0 0 0; -1 -2 -1], 'same')`` (true convolutions, zero padding).

    Returns strength and angle ``atan(Sy / Sx)``, or pi/2 where ``Sx == 0`` (VIFB's rule)."""
    dx, dy = sobel(x)
    sx, sy = -dx, dy  # convolution flips the kernels
    g = np.sqrt(sx * sx + sy * sy)
    with np.errstate(divide="ignore", invalid="ignore"):
        ang = np.where(sx == 0, np.pi / 2, np.arctan(sy / sx))
    return g, ang


def _qabf_edge_preservation(gs: Float, as_: Float, gf: Float, af: Float) -> Float:
    """Qabf's per-pixel preservation ``Qg * Qa`` of a source's edges (strength ``gs``, angle ``as_``)
    in the fused image's (``gf``, ``af``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        # VIFB: ratio of the smaller to the larger strength, but gF itself when they are equal
        g = np.where(gs == gf, gf, np.minimum(gs, gf) / np.maximum(gs, gf))
    ang = 1.0 - np.abs(as_ - af) / (np.pi / 2)
    with np.errstate(over="ignore"):
        return (QABF_TG / (1.0 + np.exp(QABF_KG * (g - QABF_DG)))
                * (QABF_TA / (1.0 + np.exp(QABF_KA * (ang - QABF_DA)))))


@source_cached
def _qabf_source_edges(S: Float) -> tuple[Float, Float]:
    """A source stack's Qabf edge strength and angle (a repeated plane once): the same whatever fused
    image it is compared with, so computed once per source in a call
    (or ``shared_inputs(sources=True)``) block."""
    return _strength_angle_conv(collapse_repeated_planes(S) * 255.0)


def qabf(fused: ArrayLike, a: ArrayLike, b: ArrayLike, *more: ArrayLike) -> float:
    """Qabf: Xydeas & Petrovic (2000) edge-information transfer, VIFB's implementation.

    Sobel strength g and orientation alpha of A, B, F; per pixel the preservation
    ``Q^{SF} = Qg(G^{SF}) * Qa(A^{SF})`` (sigmoids with VIFB's Tg, kg, Dg, Ta, ka, Da: ``QABF_TG``
    ... ``QABF_DA``), then ``sum(Q^{AF} g_A + Q^{BF} g_B) / sum(g_A + g_B)``; weights L = 1.
    VIFB quirks kept: images are scaled by 255 (``255*im2double`` of 0..255 doubles), and where
    ``g_S == g_F`` the relative strength is set to ``g_F`` rather than 1. RGB: mean over channels.
    With a grey fused image an RGB source is converted as ``metricsQabf.m`` converts it,
    ``rgb2gray(double(img))``: unrounded (:func:`~defusion.metrics._matlab.unrounded_gray`), where
    the other metrics round the ``rgb2gray`` of an 8-bit image as MATLAB does for VIFB's uint8 images.

    Defined for any number of sources (a focus stack or bracket: ``a, b, *more``), as Xydeas and
    Petrovic's normalisation reads: ``sum_S sum Q^{SF} g_S / sum_S sum g_S``, each source's edges
    weighted by their strength; for two sources exactly the pair's value.

    >>> import numpy as np
    >>> x = np.random.default_rng(1).integers(0, 256, (16, 16)).astype(np.uint8)
    >>> round(qabf(x, x, x), 4)  # identical images: Tg * Ta / (1 + exp(ka * (1 - Da)))
    0.9753
    >>> round(qabf(x, x, x, x), 4)  # a third copy changes nothing
    0.9753
    """
    F, sources = fused_and_sources(fused, a, b, *more, to_grey=unrounded_gray)  # metricsQabf.m: double, then rgb2gray
    gf, af = _strength_angle_conv(F * 255.0)
    num = den = 0.0
    for S in sources:
        gs, as_ = _qabf_source_edges(S)
        num = num + _qabf_edge_preservation(gs, as_, gf, af) * gs
        den = den + gs
    num, den = num.sum(axis=(-2, -1)), den.sum(axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return float((num / den).mean())


# Nabf ------------------------------------------------------------------------------------


def _sobel_kumar(x: Float) -> tuple[Float, Float]:
    """Kumar's ``sobel_fn``: kernels / 8 on a mirror-extended image; returns (gv, gh)."""
    dx, dy = sobel(x, mode="mirror")
    return dx / 8.0, dy / 8.0


@source_cached
def _nabf_source_edges(S: Float) -> tuple[Float, Float, Float]:
    """A source stack's Nabf gradient strength, angle and weight (a repeated plane once): the same
    whatever fused image it is compared with, so computed once per source in a call (or
    ``shared_inputs(sources=True)``) block."""
    gv, gh = _sobel_kumar(collapse_repeated_planes(S))
    g = np.sqrt(gh**2 + gv**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        ang = np.where((gv == 0) & (gh == 0), 0.0, np.arctan(gv / gh))
    return g, ang, np.where(g >= NABF_EDGE_MIN, g**NABF_WEIGHT_EXP, NABF_WEIGHT_MIN)


def nabf(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> float:
    """Nabf: modified fusion-artifact measure (Shreyamsha Kumar 2013); lower is better.

    Petrovic-style preservation ``Q^{SF} = sqrt(Qg * Qa)`` (Kumar's Nrg, kg, sigma_g, Nra, ka,
    sigma_a: ``NABF_NRG`` ... ``NABF_SIGMA_A``); weights ``w_S = g_S^Lg`` where ``g_S >= Td`` else
    wt_min (``NABF_WEIGHT_EXP``, ``NABF_EDGE_MIN``, ``NABF_WEIGHT_MIN``);
    artifacts counted where the fused gradient exceeds both sources':
    ``sum(N * ((1 - Q^{AF}) w_A + (1 - Q^{BF}) w_B)) / sum(w_A + w_B)``. Gradients use Kumar's
    Sobel / 8 on 0..255 data (the threshold Td assumes that scale). RGB: mean over channels.

    >>> import numpy as np
    >>> x = np.random.default_rng(2).integers(0, 256, (16, 16)).astype(np.uint8)
    >>> nabf(x, x, x)  # a copy of the sources creates no artifacts
    0.0
    """
    F, A, B = triplet(fused, a, b)
    gvf, ghf = _sobel_kumar(F)
    gf = np.sqrt(ghf**2 + gvf**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        af = np.where((gvf == 0) & (ghf == 0), 0.0, np.arctan(gvf / ghf))
    terms, wsum, strengths = 0.0, 0.0, []
    for S in (A, B):
        g, ang, w = _nabf_source_edges(S)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where((g == 0) | (gf == 0), 0.0, np.where(g > gf, gf / g, g / gf))
        aa = np.abs(np.abs(ang - af) - np.pi / 2) * 2 / np.pi
        with np.errstate(over="ignore"):
            q = np.sqrt(NABF_NRG / (1 + np.exp(-NABF_KG * (rel - NABF_SIGMA_G)))
                        * (NABF_NRA / (1 + np.exp(-NABF_KA * (aa - NABF_SIGMA_A)))))
        terms = terms + (1 - q) * w
        wsum = wsum + w
        strengths.append(g)
    na = (gf > strengths[0]) & (gf > strengths[1])
    val = (na * terms).sum(axis=(-2, -1)) / wsum.sum(axis=(-2, -1))
    return float(val.mean())

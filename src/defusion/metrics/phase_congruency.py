"""Qp: Zhao, Laganiere & Liu's phase-congruency fusion metric (IJICIC 3(6), 2007), as MEFB computes it.

MEFB's ``metricsQp.m`` runs Z. Liu's ``metricZhao.m`` on Liu's ``myphasecong3.m``, a revision of
Kovesi's ``phasecong3.m`` (PC_2 phase congruency from log-Gabor filters built in the frequency
domain, with Kovesi's defaults: 4 scales, 6 orientations, minimum wavelength 3, ratio 2.1,
sigmaOnf 0.55, dThetaOnSigma 1.2, k = 2, cutOff 0.5, g = 10). For each of A, B and F it takes
the phase congruency map ``pc`` and the maximum and minimum moments ``M`` and ``m`` of the phase
congruency covariance (edge and corner strength); each feature of F is compared with that of A,
of B and of their pointwise "max" source by a Gaussian-windowed correlation over the feature
pixels (``pc > 0.1``), and ``Qp = P_pc * P_M * P_m`` (the paper's exponents alpha = beta = gamma = 1).

Quirks of the MATLAB code kept (they change numbers): the low-pass filter that bounds the
log-Gabor filters is centred with ``fftshift`` (not ``ifftshift``), so on an odd-sized image its
centre is one bin off the zero frequency; the radius grid divides by ``n - 1`` for odd sizes and
by ``n`` for even ones; the noise threshold is re-estimated per orientation from the median of the
smallest scale's squared amplitude; the 1e-4 "epsilon" guards are added where Kovesi adds them
(and not in the per-orientation PC, which is 0 / 0 = NaN where every filter response is exactly
0); images are used on the 0..255 scale, an RGB source with a grey fused image converted by
``rgb2gray`` *after* ``double()`` (unrounded). Per colour channel of the fused image and averaged
(the package's rule; see ``docs/metrics.md``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from defusion.metrics._channels import collapse_repeated_planes, triplet
from defusion.metrics._filters import correlate_sep, gaussian_1d
from defusion.metrics._inputs import as_image
from defusion.metrics._matlab import Float, matlab_round, unrounded_gray
from defusion.metrics.structural import check_size

__all__ = ["PhaseCongruency", "log_gabor_bank", "phase_congruency", "qp"]

#: Kovesi's ``phasecong3`` defaults, which ``myphasecong3`` keeps and ``metricZhao`` uses.
PC_NSCALE = 4
PC_NORIENT = 6
PC_MIN_WAVELENGTH = 3.0
PC_MULT = 2.1
PC_SIGMA_ON_F = 0.55
PC_DTHETA_ON_SIGMA = 1.2
PC_K = 2.0
PC_CUTOFF = 0.5
PC_G = 10.0
#: Kovesi's guard against division by zero (added to denominators on any image scale).
PC_EPSILON = 1e-4
#: The Butterworth low-pass filter every log-Gabor filter is multiplied by: radius and order.
PC_LOWPASS_CUTOFF = 0.45
PC_LOWPASS_ORDER = 15
#: Kovesi's empirical rescaling of the PC_1 noise threshold to suit the PC_2 measure.
PC_NOISE_PC2_RESCALE = 1.7

#: ``metricZhao``: a pixel is a feature where its phase congruency exceeds this.
QP_FEATURE_THRESHOLD = 0.1
#: ``metricZhao``'s correlation window (``fspecial('gaussian', 11, 1.5)``, 'same', zero padding).
QP_WIN = 11
QP_SIGMA = 1.5
#: ``metricZhao``'s C1 = C2 = C3, added to the covariance and to the product of the deviations.
QP_C = 1e-4


class PhaseCongruency(NamedTuple):
    """``myphasecong3``'s outputs, each shaped as the input: the PC_2 phase congruency (0..1), the
    orientation in integer degrees 0..180 (0: vertical edge), and the maximum (edge strength) and
    minimum (corner strength) moments of the phase congruency covariance."""

    pc: Float
    orientation: Float
    M: Float
    m: Float


def _radius_grid(n: int) -> Float:
    """``myphasecong3``'s normalised frequencies along one axis: ``(-(n-1)/2 .. (n-1)/2) / (n - 1)``
    for odd ``n``, ``(-n/2 .. n/2 - 1) / n`` for even ``n`` (zero at index ``n // 2``)."""
    if n % 2:
        return (np.arange(n) - (n - 1) / 2) / max(n - 1, 1)
    return (np.arange(n) - n / 2) / n


def lowpass_filter(rows: int, cols: int) -> Float:
    """Kovesi's ``lowpassfilter([rows cols], 0.45, 15)``: ``1 / (1 + (r / 0.45)^30)``, r on a grid
    divided by the size (centre at ``fix(n/2)``), moved with ``fftshift``, as the MATLAB code.

    For an odd size ``fftshift`` puts the centre at the last index, not at 0 as ``ifftshift``
    would: the filter is one bin off the frequency grid there, a quirk kept.

    Example:
        >>> lp = lowpass_filter(4, 5)
        >>> float(lp[0, 4]), float(lp[0, 0]) < 1  # odd width: the centre is the last column
        (1.0, True)
    """
    x = (np.arange(1, cols + 1) - (cols // 2 + 1)) / cols
    y = (np.arange(1, rows + 1) - (rows // 2 + 1)) / rows
    radius = np.sqrt(x[None, :] ** 2 + y[:, None] ** 2)
    return np.fft.fftshift(1.0 / (1.0 + (radius / PC_LOWPASS_CUTOFF) ** (2 * PC_LOWPASS_ORDER)))


def log_gabor_bank(rows: int, cols: int) -> tuple[Float, Float]:
    """The radial log-Gabor components ``(nscale, rows, cols)`` (low-pass filtered, 0 at the zero
    frequency) and angular components ``(norient, rows, cols)``, zero frequency at ``[0, 0]``, as
    ``myphasecong3`` builds them; the filter of scale s and orientation o is their product.

    Example:
        >>> radial, spread = log_gabor_bank(16, 16)
        >>> radial.shape, spread.shape, float(radial[:, 0, 0].max()), float(spread[:, 0, 1].round(6)[0])
        ((4, 16, 16), (6, 16, 16), 0.0, 1.0)
    """
    x, y = np.meshgrid(_radius_grid(cols), _radius_grid(rows))
    radius = np.sqrt(x * x + y * y)
    radius[rows // 2, cols // 2] = 1.0  # so that log(radius) is finite; undone below
    theta = np.fft.ifftshift(np.arctan2(-y, x))
    radius = np.fft.ifftshift(radius)
    centre_freqs = 1.0 / (PC_MIN_WAVELENGTH * PC_MULT ** np.arange(PC_NSCALE))
    log_r = np.log(radius[None] / centre_freqs[:, None, None])
    radial = np.exp(-(log_r**2) / (2 * math.log(PC_SIGMA_ON_F) ** 2)) * lowpass_filter(rows, cols)
    radial[:, 0, 0] = 0.0
    sin_t, cos_t = np.sin(theta), np.cos(theta)
    theta_sigma = math.pi / PC_NORIENT / PC_DTHETA_ON_SIGMA
    spread = np.empty((PC_NORIENT, rows, cols))
    for o in range(PC_NORIENT):
        angle = o * math.pi / PC_NORIENT
        ds = sin_t * math.cos(angle) - cos_t * math.sin(angle)
        dc = cos_t * math.cos(angle) + sin_t * math.sin(angle)
        spread[o] = np.exp(-(np.arctan2(ds, dc) ** 2) / (2 * theta_sigma**2))
    return radial, spread


def _noise_sums(filters: Float) -> tuple[float, float]:
    """``sum(sum(EstSumAn2))`` and ``sum(sum(EstSumAiAj))`` of ``myphasecong3`` for one orientation's
    filters ``(nscale, H, W)``: the sums over pixels of ``f_s^2`` and of ``f_i f_j`` (i < j), where
    ``f_s = real(ifft2(filter_s)) * sqrt(H W)``. By Parseval these are the same sums of the
    filters' even parts ``(H(k) + H(-k)) / 2`` in the frequency domain, so no FFT is needed."""
    flipped = np.roll(filters[:, ::-1, ::-1], 1, axis=(-2, -1))  # H(-k), indices taken modulo the size
    even = ((filters + flipped) / 2).reshape(len(filters), -1)
    gram = even @ even.T
    return float(np.trace(gram)), float(np.triu(gram, 1).sum())


def _noise_threshold(amplitude0: Float, smallest: Float, sums: tuple[float, float]) -> float:
    """Kovesi's noise threshold T for one orientation (already divided by 1.7 for PC_2): the noise
    power from the median of the smallest scale's squared amplitude (a Rayleigh-distributed noise
    energy's mean is ``-median / log(0.5)``), over that filter's summed square."""
    mean_e2n = -float(np.median(amplitude0**2)) / math.log(0.5)
    noise_power = mean_e2n / float(np.sum(smallest**2))
    sum_an2, sum_aiaj = sums
    tau = math.sqrt((2 * noise_power * sum_an2 + 4 * noise_power * sum_aiaj) / 2)  # Rayleigh parameter
    mean_energy, sigma_energy = tau * math.sqrt(math.pi / 2), math.sqrt((2 - math.pi / 2) * tau**2)
    return (mean_energy + PC_K * sigma_energy) / PC_NOISE_PC2_RESCALE


def _one_plane(spectrum: np.ndarray, radial: Float, spread: Float, sums: list[tuple[float, float]]
               ) -> PhaseCongruency:
    """``myphasecong3`` of one image given its ``fft2``, the filter bank and the noise sums."""
    shape = spectrum.shape
    total_energy, total_an = np.zeros(shape), np.zeros(shape)
    covx2, covy2, covxy = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    for o in range(PC_NORIENT):
        filters = radial * spread[o]
        eo = np.fft.ifft2(spectrum * filters)  # (nscale, H, W): even (real) and odd (imaginary) responses
        even, odd = eo.real, eo.imag
        amplitude = np.abs(eo)
        sum_an, sum_e, sum_o = amplitude.sum(axis=0), even.sum(axis=0), odd.sum(axis=0)
        x_energy = np.sqrt(sum_e**2 + sum_o**2) + PC_EPSILON
        mean_e, mean_o = sum_e / x_energy, sum_o / x_energy
        energy = (even * mean_e + odd * mean_o - np.abs(even * mean_o - odd * mean_e)).sum(axis=0)
        energy = np.maximum(energy - _noise_threshold(amplitude[0], filters[0], sums[o]), 0.0)
        width = sum_an / (amplitude.max(axis=0) + PC_EPSILON) / PC_NSCALE
        weighted = 1.0 / (1.0 + np.exp((PC_CUTOFF - width) * PC_G)) * energy  # sigmoid weight x energy
        total_an += sum_an
        total_energy += weighted
        with np.errstate(invalid="ignore", divide="ignore"):
            pc_o = weighted / sum_an  # no epsilon here, as in the MATLAB code
        angle = o * math.pi / PC_NORIENT
        cx, cy = pc_o * math.cos(angle), pc_o * math.sin(angle)
        covx2 += cx * cx
        covy2 += cy * cy
        covxy += cx * cy
    covx2, covy2, covxy = covx2 / (PC_NORIENT / 2), covy2 / (PC_NORIENT / 2), covxy / PC_NORIENT
    denom = np.sqrt(covxy**2 + (covx2 - covy2) ** 2) + PC_EPSILON
    orientation = matlab_round(np.arctan2(covxy / denom, (covx2 - covy2) / denom) / 2 * 180 / math.pi)
    orientation = np.where(orientation < 0, orientation + 180, orientation)
    return PhaseCongruency(total_energy / (total_an + PC_EPSILON), orientation,
                           (covy2 + covx2 + denom) / 2, (covy2 + covx2 - denom) / 2)


def _spectrum(plane: Float) -> np.ndarray:
    """``fft2(plane)``, with a flat plane's exactly 0 away from the zero frequency: every filter is 0
    there, so its responses are exactly 0 (an FFT of a constant leaves ~1e-12 noise at some sizes,
    which the amplitude-normalised phase congruency would turn into arbitrary features)."""
    spectrum = np.fft.fft2(plane)
    if plane.min() == plane.max():
        spectrum[...] = 0
        spectrum[0, 0] = plane.sum()
    return spectrum


def phase_congruency(x: ArrayLike) -> PhaseCongruency:
    """Liu's ``myphasecong3`` (Kovesi's PC_2 phase congruency with its covariance moments) of a grey
    image ``HxW`` or a stack ``(..., H, W)`` of them, on the scale given (metricZhao: 0..255).

    Why: phase congruency marks features (edges, corners, lines) wherever the Fourier components
    agree in phase, whatever the contrast; ``M`` and ``m`` say how edge-like and corner-like.
    Filters built once for the stack; per orientation one inverse FFT of all scales at once.

    A flat image has no feature: ``pc`` 0, but ``M`` and ``m`` NaN (each orientation's PC is 0 / 0).

    Example:
        >>> img = np.zeros((32, 32)); img[:, 16:] = 200  # a vertical step edge, with noise
        >>> img += np.random.default_rng(0).normal(0, 10, img.shape)
        >>> pc = phase_congruency(img)
        >>> bool(pc.pc[16, 16] > 0.5 > 0.1 > pc.pc[16, 8]), bool(pc.M[16, 16] > pc.m[16, 16] > 0)
        (True, True)
        >>> int(pc.orientation[16, 16]), int(phase_congruency(img.T).orientation[16, 16])  # degrees
        (2, 88)
    """
    stack = np.asarray(x, dtype=np.float64)
    rows, cols = stack.shape[-2:]
    radial, spread = log_gabor_bank(rows, cols)
    sums = [_noise_sums(radial * spread[o]) for o in range(PC_NORIENT)]
    planes = stack.reshape((-1, rows, cols))
    out = [_one_plane(_spectrum(p), radial, spread, sums) for p in planes]
    return PhaseCongruency(*(np.stack(maps).reshape(stack.shape) for maps in zip(*out)))


def _correlation(feats: tuple[Float, Float, Float, Float], masks: tuple[Float, Float, Float]) -> Float:
    """``metricZhao``'s ``correlation_coeffcient`` per leading index: for the features of A, B, the
    max source (each zeroed off its feature mask) against F's (not masked), the windowed
    ``(cov + C) / (sqrt(|var_S var_F|) + C)`` on each mask, 0 off it, the largest of the three
    (NaN left out, as MATLAB's ``max``), summed and divided by the max source's feature count."""
    *sources, f = feats
    sources = [mask * s for mask, s in zip(masks, sources)]  # products, so that a NaN spreads as in MATLAB
    g = gaussian_1d(QP_WIN, QP_SIGMA)
    windowed = correlate_sep(np.stack([*sources, f, *(s * s for s in sources), f * f, *(s * f for s in sources)]), g, g)
    mu, mu_f, sq, sq_f, cross = windowed[:3], windowed[3], windowed[4:7], windowed[7], windowed[8:]
    var, var_f, cov = sq - mu * mu, sq_f - mu_f * mu_f, cross - mu * mu_f
    with np.errstate(invalid="ignore"):
        score = np.where(np.stack(masks) > 0, (cov + QP_C) / (np.sqrt(np.abs(var * var_f)) + QP_C), mu * 0)
    best = np.fmax(np.fmax(score[0], score[1]), score[2])
    with np.errstate(invalid="ignore", divide="ignore"):  # no feature pixel: 0 / 0 = NaN, as MATLAB
        return best.sum(axis=(-2, -1)) / masks[2].sum(axis=(-2, -1))


def _qp_triplet(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> tuple[Float, Float, Float]:
    """``triplet``'s ``(F, A, B)``, except that with a grey fused image an RGB source is converted
    by ``rgb2gray`` of its doubles, unrounded, as ``metricsQp.m`` (which casts before converting)."""
    F, A, B = triplet(fused, a, b)
    if F.shape[0] == 1:
        arrays = [as_image(a, "a"), as_image(b, "b")]
        A, B = (unrounded_gray(s)[None] if s.ndim == 3 else t for s, t in zip(arrays, (A, B)))
    return F, A, B


def qp(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> float:
    """Qp: Zhao, Laganiere & Liu's phase-congruency metric (IJICIC 2007), as MEFB's ``metricsQp.m``.

    Why: a good fusion keeps the sources' features, measured absolutely by phase congruency
    (contrast-invariant): the product of three scores, for the phase congruency ``pc`` and the
    maximum and minimum moments ``M`` and ``m``, each the mean over the feature pixels
    (``pc > 0.1`` in A or B) of the largest windowed correlation (11x11 Gaussian, C = 1e-4) of F's
    map with A's, B's or the map of whichever source has the larger ``pc`` there. Up to 1; F = A = B
    scores a little below 1 where a window straddles the feature mask (the sources' maps are zeroed
    off it, F's is not). NaN where A and B have no feature pixel (flat). Needs 11x11 pixels (its
    window). RGB: mean over channels.

    >>> y, x = np.mgrid[0:48, 0:48]
    >>> img = (128 + 100 * np.sign(np.sin(x / 6.0)) * np.sign(np.cos(y / 9.0))).astype(np.uint8)
    >>> left, right = img.copy(), img.copy()
    >>> left[:, 24:], right[:, :24] = 128, 128  # each source misses one half
    >>> round(qp(img, img, img), 4), round(qp(img, left, right), 4), round(qp(left, left, right), 4)
    (0.9803, 0.6543, 0.4478)
    """
    F, A, B = _qp_triplet(fused, a, b)
    check_size(*F.shape[-2:], QP_WIN, "Qp")  # smaller, no pixel is a feature: NaN, said as "flat"
    A, B = collapse_repeated_planes(A), collapse_repeated_planes(B)
    maps = phase_congruency(np.concatenate([F, A, B]))  # one filter bank for every plane
    split = np.cumsum([len(F), len(A)])
    F, A, B = (PhaseCongruency(*parts) for parts in zip(*(np.split(x, split) for x in maps)))
    pc_a, pc_b = np.broadcast_arrays(A.pc, F.pc)[0], np.broadcast_arrays(B.pc, F.pc)[0]
    pick = (pc_a > pc_b).astype(np.float64)
    masks = ((pc_a > QP_FEATURE_THRESHOLD) * 1.0, (pc_b > QP_FEATURE_THRESHOLD) * 1.0,
             ((pick * pc_a + (1 - pick) * pc_b) > QP_FEATURE_THRESHOLD) * 1.0)
    product = np.ones(F.pc.shape[0])
    for field in ("pc", "M", "m"):
        fa, fb, ff = getattr(A, field), getattr(B, field), getattr(F, field)
        fa, fb = np.broadcast_to(fa, ff.shape), np.broadcast_to(fb, ff.shape)
        product = product * _correlation((fa, fb, pick * fa + (1 - pick) * fb, ff), masks)
    return float(np.mean(product))

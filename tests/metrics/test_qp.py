"""Qp (``defusion.metrics.phase_congruency``), as MEFB's ``metricsQp.m`` (Liu's ``metricZhao.m`` on
``myphasecong3.m``) defines it: slow loop-by-loop transcriptions of the MATLAB code, its maximum, a
ranking on the shipped focus pair, colour and input conventions, registry."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from defusion.metrics import DEFAULT_METRICS, METRICS, compute_each, compute_metrics, metric_names
from defusion.metrics import phase_congruency as pcmod
from defusion.metrics._filters import gaussian_1d
from defusion.metrics._matlab import RGB2GRAY, rgb2gray
from defusion.metrics.phase_congruency import _correlation, lowpass_filter, phase_congruency, qp
from tests.metrics._mefb_inputs import A, B, EXAMPLES, F, textured_image


# ---------------------------------------------------------- slow transcriptions of the MATLAB code


def _shift(x: np.ndarray, forward: bool) -> np.ndarray:
    """MATLAB ``fftshift`` (circshift by floor(n/2)) or ``ifftshift`` (by -floor(n/2))."""
    k = 1 if forward else -1
    return np.roll(x, (k * (x.shape[0] // 2), k * (x.shape[1] // 2)), axis=(0, 1))


def slow_phasecong(im: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``myphasecong3`` statement by statement: loops over orientations and scales, the noise sums
    from ``real(ifft2(filter)) * sqrt(rows cols)`` as the code does (no Parseval)."""
    nscale, norient, min_wl, mult, sigma_on_f, dtheta_on_sigma, k, cut_off, g = 4, 6, 3, 2.1, 0.55, 1.2, 2.0, 0.5, 10
    eps = 0.0001
    theta_sigma = math.pi / norient / dtheta_on_sigma
    rows, cols = im.shape
    imagefft = np.fft.fft2(im)
    zero = np.zeros((rows, cols))
    total_energy, total_sum_an, covx2, covy2, covxy = zero.copy(), zero.copy(), zero.copy(), zero.copy(), zero.copy()
    xr = (np.arange(cols) - (cols - 1) / 2) / (cols - 1) if cols % 2 else np.arange(-cols // 2, cols // 2) / cols
    yr = (np.arange(rows) - (rows - 1) / 2) / (rows - 1) if rows % 2 else np.arange(-rows // 2, rows // 2) / rows
    x, y = np.meshgrid(xr, yr)
    radius = np.sqrt(x**2 + y**2)
    radius[rows // 2, cols // 2] = 1
    theta = np.arctan2(-y, x)
    radius, theta = _shift(radius, False), _shift(theta, False)
    sintheta, costheta = np.sin(theta), np.cos(theta)
    lx = (np.ones((rows, 1)) * np.arange(1, cols + 1) - (cols // 2 + 1)) / cols
    ly = (np.arange(1, rows + 1)[:, None] * np.ones((1, cols)) - (rows // 2 + 1)) / rows
    lp = _shift(1 / (1.0 + (np.sqrt(lx**2 + ly**2) / 0.45) ** (2 * 15)), True)
    log_gabor = []
    for s in range(nscale):
        fo = 1.0 / (min_wl * mult**s)
        lg = np.exp((-(np.log(radius / fo)) ** 2) / (2 * math.log(sigma_on_f) ** 2)) * lp
        lg[0, 0] = 0
        log_gabor.append(lg)
    spread = []
    for o in range(norient):
        angl = o * math.pi / norient
        ds = sintheta * math.cos(angl) - costheta * math.sin(angl)
        dc = costheta * math.cos(angl) + sintheta * math.sin(angl)
        spread.append(np.exp((-np.abs(np.arctan2(ds, dc)) ** 2) / (2 * theta_sigma**2)))
    for o in range(norient):
        angl = o * math.pi / norient
        sum_e, sum_o, sum_an, energy = zero.copy(), zero.copy(), zero.copy(), zero.copy()
        eo, ifft_filters = [], []
        for s in range(nscale):
            filt = log_gabor[s] * spread[o]
            ifft_filters.append(np.real(np.fft.ifft2(filt)) * math.sqrt(rows * cols))
            eo.append(np.fft.ifft2(imagefft * filt))
            an = np.abs(eo[s])
            sum_an, sum_e, sum_o = sum_an + an, sum_e + eo[s].real, sum_o + eo[s].imag
            if s == 0:
                em_n, max_an = np.sum(filt**2), an
            else:
                max_an = np.maximum(max_an, an)
        x_energy = np.sqrt(sum_e**2 + sum_o**2) + eps
        mean_e, mean_o = sum_e / x_energy, sum_o / x_energy
        for s in range(nscale):
            e, od = eo[s].real, eo[s].imag
            energy = energy + e * mean_e + od * mean_o - np.abs(e * mean_o - od * mean_e)
        mean_e2n = -np.median(np.abs(eo[0]).ravel() ** 2) / math.log(0.5)
        noise_power = mean_e2n / em_n
        est_sum_an2 = sum(f**2 for f in ifft_filters)
        est_sum_aiaj = zero.copy()
        for si in range(nscale - 1):
            for sj in range(si + 1, nscale):
                est_sum_aiaj = est_sum_aiaj + ifft_filters[si] * ifft_filters[sj]
        est2 = 2 * noise_power * est_sum_an2.sum() + 4 * noise_power * est_sum_aiaj.sum()
        tau = math.sqrt(est2 / 2)
        t = (tau * math.sqrt(math.pi / 2) + k * math.sqrt((2 - math.pi / 2) * tau**2)) / 1.7
        energy = np.maximum(energy - t, zero)
        width = sum_an / (max_an + eps) / nscale
        weight = 1.0 / (1 + np.exp((cut_off - width) * g))
        total_sum_an += sum_an
        total_energy += weight * energy
        pc_o = weight * energy / sum_an
        covx, covy = pc_o * math.cos(angl), pc_o * math.sin(angl)
        covx2, covy2, covxy = covx2 + covx**2, covy2 + covy**2, covxy + covx * covy
    pc = total_energy / (total_sum_an + eps)
    covx2, covy2, covxy = covx2 / (norient / 2), covy2 / (norient / 2), covxy / norient
    denom = np.sqrt(covxy**2 + (covx2 - covy2) ** 2) + eps
    orient = np.arctan2(covxy / denom, (covx2 - covy2) / denom) / 2
    orient = np.sign(orient) * np.floor(np.abs(orient * 180 / math.pi) + 0.5)  # MATLAB round
    orient = np.where(orient < 0, orient + 180, orient)
    return pc, orient, (covy2 + covx2 + denom) / 2, (covy2 + covx2 - denom) / 2


def slow_zhao(im1: np.ndarray, im2: np.ndarray, fused: np.ndarray) -> float:
    """``metricZhao`` on grey planes, with ``scipy.ndimage.correlate`` as ``filter2(..., 'same')``."""
    (pc1, _, M1, m1), (pc2, _, M2, m2), (pcf, _, Mf, mf) = (slow_phasecong(x.astype(np.float64))
                                                         for x in (im1, im2, fused))
    mask = pc1 > pc2
    pc_max, M_max, m_max = (mask * u + (~mask) * v for u, v in ((pc1, pc2), (M1, M2), (m1, m2)))
    masks = pc1 > 0.1, pc2 > 0.1, pc_max > 0.1
    window = np.outer(gaussian_1d(11, 1.5), gaussian_1d(11, 1.5))

    def filt(x):
        return ndimage.correlate(x, window, mode="constant")

    def coeff(i1, i2, imax, imf):
        out = []
        for mk, im in zip(masks, (i1, i2, imax)):
            im = mk * im
            mu, muf = filt(im), filt(imf)
            var, varf, cov = filt(im * im) - mu * mu, filt(imf * imf) - muf * muf, filt(im * imf) - mu * muf
            res = mu * 0
            res[mk] = (cov[mk] + 0.0001) / (np.sqrt(np.abs(var[mk] * varf[mk])) + 0.0001)
            out.append(res)
        return np.nanmax(np.stack(out), axis=0).sum() / masks[2].sum()

    return coeff(pc1, pc2, pc_max, pcf) * coeff(M1, M2, M_max, Mf) * coeff(m1, m2, m_max, mf)


@pytest.mark.parametrize("shape", [(24, 32), (17, 22), (15, 13)])
def test_phase_congruency_matches_the_loop_transcription(shape):
    """Odd and even sizes: the radius grid's (n - 1) divisor and the low-pass filter's fftshift."""
    x = textured_image(*shape, seed=3).astype(np.float64)
    ours = phase_congruency(x)
    pc, orient, M, m = slow_phasecong(x)
    np.testing.assert_allclose(ours.pc, pc, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours.M, M, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours.m, m, rtol=0, atol=1e-10)
    assert np.mean(ours.orientation == orient) > 0.99  # rounding to whole degrees may flip a tie
    stacked = phase_congruency(np.stack([x, x[::-1]]))  # a stack: each plane as on its own
    np.testing.assert_array_equal(stacked.M[1], phase_congruency(x[::-1]).M)


@pytest.mark.parametrize("shape", [(26, 20), (17, 23)])
def test_qp_matches_the_loop_transcription_of_metric_zhao(shape):
    a, b = textured_image(*shape, seed=4), textured_image(*shape, seed=5)
    f = np.maximum(a, b)
    assert qp(f, a, b) == pytest.approx(slow_zhao(a, b, f), abs=1e-10)
    assert qp(a, a, b) == pytest.approx(slow_zhao(a, b, a), abs=1e-10)


def test_lowpass_filter_is_centred_by_fftshift_as_kovesi_wrote_it():
    """The quirk kept: for an odd size its peak lands on the last index, not the zero frequency."""
    even, odd = lowpass_filter(8, 8), lowpass_filter(9, 9)
    assert even[0, 0] == even.max() and odd[-1, -1] == odd.max() > odd[0, 0]


# ---------------------------------------------------------------------- values, maximum, ranking


def test_correlation_is_one_where_every_pixel_is_a_feature():
    """The definition's maximum: F's map equal to the sources' with no pixel masked scores exactly 1."""
    x = textured_image(seed=6).astype(np.float64)[None] / 255
    ones = np.ones_like(x)
    assert _correlation((x, x, x, x), (ones, ones, ones)) == pytest.approx([1.0], abs=1e-12)
    # the code's quirk: where F's map is 0 over the whole window, C / C = 1 whatever the sources' maps
    assert _correlation((x, x, x, 0 * x), (ones, ones, ones)) == pytest.approx([1.0], abs=1e-12)


def test_identical_images_score_highest_and_at_most_one():
    """F = A = B is near 1, not 1: the sources' maps are zeroed off the feature mask, F's are not."""
    best = qp(A, A, A)
    assert 0.9 < best <= 1 + 1e-12
    for other in (F, B, np.maximum(A, B), (A // 2 + 64).astype(np.uint8)):
        assert qp(other, A, A) < best


def test_a_sharpness_choice_fusion_of_the_focus_pair_beats_it_blurred():
    """The figures docs/metrics.md quotes (shipped 600x400 pair, RGB)."""
    import cv2

    a = np.asarray(Image.open(EXAMPLES / "mff_near.png").convert("RGB"))
    b = np.asarray(Image.open(EXAMPLES / "mff_far.png").convert("RGB"))

    def sharpness(x):
        grey = cv2.cvtColor(x, cv2.COLOR_RGB2GRAY).astype(np.float64)
        return cv2.GaussianBlur(cv2.Laplacian(grey, cv2.CV_64F) ** 2, (0, 0), 5)

    choice = np.where((sharpness(a) >= sharpness(b))[..., None], a, b)
    sharp, blurred = qp(choice, a, b), qp(cv2.GaussianBlur(choice, (0, 0), 2), a, b)
    assert (sharp, blurred) == pytest.approx((0.8432, 0.2957), abs=5e-4)


def test_symmetric_in_a_and_b():
    assert qp(F, A, B) == pytest.approx(qp(F, B, A), abs=1e-12)


def test_flat_images_give_nan_and_a_flat_plane_no_features():
    flat = np.full_like(A, 90)
    assert math.isnan(qp(flat, A, B)) and math.isnan(qp(F, flat, flat))
    pc = phase_congruency(np.full((37, 53), 7.0))  # a size where fft2 of a constant leaves ~1e-11 noise
    assert not pc.pc.any() and np.isnan(pc.M).all()


# ------------------------------------------------------------------------------- colour, inputs


def test_rgb_fused_with_grey_sources_is_the_mean_over_its_channels():
    """The package's per-channel rule (MEFB would score the red channel alone here)."""
    rgb = np.stack([F, A, B], axis=2)
    assert qp(rgb, A, B) == pytest.approx(np.mean([qp(rgb[..., k], A, B) for k in range(3)]), abs=1e-12)


def test_rgb_sources_pair_channel_with_channel_and_equal_channels_are_grey():
    f3, a3, b3 = np.stack([F, A, B], 2), np.stack([A, B, F], 2), np.stack([B, F, A], 2)
    assert qp(f3, a3, b3) == pytest.approx(np.mean([qp(f3[..., k], a3[..., k], b3[..., k]) for k in range(3)]),
                                           abs=1e-12)
    assert qp(f3, np.repeat(A[..., None], 3, axis=2), B) == pytest.approx(qp(f3, A, B), abs=1e-12)


def test_grey_fused_with_rgb_source_uses_unrounded_rgb2gray():
    """``metricsQp.m`` casts to double before ``rgb2gray``: the grey source is not rounded."""
    rgb = np.stack([A, B, F], axis=2)
    unrounded = rgb.astype(np.float64) @ np.asarray(RGB2GRAY)
    assert qp(F, rgb, B) == pytest.approx(qp(F, unrounded, B), abs=1e-12)
    assert abs(qp(F, rgb, B) - qp(F, rgb2gray(rgb), B)) > 1e-6  # the rounded grey scores otherwise


def test_uint8_uint16_and_float_inputs_agree():
    want = qp(F, A, B)
    assert qp(F / 255.0, A / 255.0, (B / 255.0).astype(np.float32)) == pytest.approx(want, abs=1e-12)
    assert qp(*(x.astype(np.uint16) * 257 for x in (F, A, B))) == pytest.approx(want, abs=1e-12)
    assert qp(F.astype(np.float64), A, B) == want


# ------------------------------------------------------------------------------------- registry


def test_registered_higher_is_better_and_out_of_the_default_set():
    spec = METRICS["Qp"]
    assert spec.fn is qp and spec.higher_is_better and not spec.in_default
    assert metric_names("qp") == ["Qp"] and "Qp" not in DEFAULT_METRICS
    assert "Qp" not in compute_metrics(F, A, B)
    assert compute_metrics(F, A, B, ["Qp"]) == {"Qp": qp(F, A, B)}
    values, skipped = compute_each(F[:11, :12], [A[:11, :12], B[:11, :12]], ["Qp"])  # 11x11 or more
    assert list(values) == ["Qp"] and not skipped
    values, skipped = compute_each(F[:4, :5], [A[:4, :5], B[:4, :5]], ["Qp"])  # smaller: skipped, said why
    assert not values and "at least 11x11" in skipped["Qp"]


def test_docstring_examples():
    result = doctest.testmod(pcmod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 5 and result.failed == 0


def test_qp_refuses_images_smaller_than_its_window():
    """4x4 noise has no feature pixel: it gave NaN, said as "flat or identical images", which it is not."""
    x = np.random.default_rng(0).integers(0, 256, (4, 4)).astype(np.uint8)
    with pytest.raises(ValueError, match="Qp needs images of at least 11x11"):
        qp(x, x, x)

"""Unit tests of defusion.metrics on small synthetic images: identities, symmetries, conventions."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from defusion.io.float_scales import LEVEL_SLACK
from defusion.metrics import DEFAULT_METRICS, METRICS, VIFB_METRICS, MetricInputError, compute_metrics
from defusion.metrics import gradient, information, perceptual, statistics, structural
from defusion.metrics._cache import shared_inputs
from defusion.metrics._channels import to_gray
from defusion.metrics._filters import downsample2, filter_freq_even, filter_valid, freqspace, gaussian_1d
from defusion.metrics._inputs import as_image
from defusion.metrics._matlab import matlab_round, rgb2gray

RNG = np.random.default_rng(1234)


def smooth_image(h: int = 48, w: int = 56, seed: int = 0) -> np.ndarray:
    """A uint8 test image with structure at several scales (not just noise)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = 128 + 60 * np.sin(x / 5.0 + seed) * np.cos(y / 7.0) + 30 * np.sin((x + y) / 13.0)
    return np.clip(base + rng.normal(0, 8, (h, w)), 0, 255).astype(np.uint8)


A = smooth_image(seed=1)
B = smooth_image(seed=2)
F = ((A.astype(np.float64) + B) / 2).round().astype(np.uint8)
BIG = 192  # big enough for every metric (MS-SSIM needs 176)
A_BIG, B_BIG = smooth_image(BIG, BIG, 3), smooth_image(BIG, BIG, 4)
F_BIG = np.maximum(A_BIG, B_BIG)

#: Every registered metric, read from the registry so that one added is tested too (a copied list
#: once failed on any addition). That none is dropped or renamed unseen: docs/metrics.md's table
#: names each one (tests/test_registries_documented.py).
ALL_NAMES = list(METRICS)
#: VIFB's 13 metrics in its order, as its paper and code name them.
VIFB_13 = ["EN", "SD", "SF", "AG", "EI", "MI", "CE", "PSNR", "RMSE", "Qabf", "Qcb", "Qcv", "SSIM"]
#: The metrics where lower is better (the docs' "better" column gives every metric's direction and
#: tests/test_registries_documented.py holds METRICS to it).
LOWER_IS_BETTER = {"CE", "RMSE", "Qcv", "Nabf", "RMSE-standard"}
#: A refusal of an image too small for a metric names the side it needs.
NEEDS_SIDE = re.compile(r"at least (\d+)x\1 pixels")


# ------------------------------------------------------------------------------ registry


def test_registry_names_and_specs():
    assert list(VIFB_METRICS) == VIFB_13 == list(METRICS)[:13]
    for name, spec in METRICS.items():
        assert callable(spec.fn) and isinstance(spec.higher_is_better, bool) and spec.description
    lower = {n for n, s in METRICS.items() if not s.higher_is_better}
    assert LOWER_IS_BETTER <= lower
    assert not lower & set(VIFB_13) - LOWER_IS_BETTER


def test_compute_metrics_matches_direct_calls_and_defaults_to_all_but_the_slow_ones():
    res = compute_metrics(F_BIG, A_BIG, B_BIG)
    assert list(res) == list(DEFAULT_METRICS) == [n for n in METRICS if n != "Qp"]
    for name, value in res.items():
        direct = METRICS[name].fn(F_BIG, A_BIG, B_BIG)
        assert isinstance(value, float)
        assert value == pytest.approx(direct, rel=1e-12, abs=1e-12), name


def test_compute_metrics_unknown_name():
    with pytest.raises(KeyError, match="unknown metric"):
        compute_metrics(F, A, B, names=["EN", "nope"])


def test_shared_inputs_are_not_modified():
    f, a, b = F_BIG.copy(), A_BIG.copy(), B_BIG.copy()
    compute_metrics(f, a, b)
    assert np.array_equal(f, F_BIG) and np.array_equal(a, A_BIG) and np.array_equal(b, B_BIG)


def test_nested_shared_inputs_share_the_outer_conversions():
    with shared_inputs():
        outer = to_gray(A)
        with shared_inputs():
            assert to_gray(A) is outer
        assert to_gray(A) is outer
    assert to_gray(A) is not outer  # outside any block nothing is kept


# ------------------------------------------------------------------------------ inputs


def test_input_validation():
    with pytest.raises(ValueError, match="HxW or HxWx3"):
        statistics.psnr(np.zeros((4, 4, 2)), A[:4, :4], B[:4, :4])
    with pytest.raises(ValueError, match="size mismatch"):
        statistics.psnr(F, A[:-1], B)
    bad = F.astype(float)
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        information.entropy(bad)
    with pytest.raises(ValueError, match=r"uint8, uint16, float .*; got fused of dtype bool: pass x.astype\(np.uint8\)"):
        information.entropy(F > 100)


def test_small_images_rejected_by_multiscale_metrics():
    small = np.zeros((40, 40), np.uint8)
    for fn in (structural.ms_mef_ssim, structural.ms_ssim, perceptual.vif, perceptual.vifp):
        with pytest.raises(ValueError, match="at least"):
            fn(small, small, small)


def test_uint8_and_float_inputs_agree():
    for name in ALL_NAMES:
        fn = METRICS[name].fn
        u = fn(F_BIG, A_BIG, B_BIG)
        f = fn(F_BIG.astype(np.float64), A_BIG.astype(np.float32), B_BIG.astype(np.float64))
        assert u == pytest.approx(f, rel=1e-9, abs=1e-12), name


def test_hxwx1_is_grey():
    assert information.entropy(F[..., None]) == information.entropy(F)
    assert structural.ssim(F[..., None], A[..., None], B) == structural.ssim(F, A, B)


MEAN_BIG = ((A_BIG.astype(int) + B_BIG) // 2).astype(np.uint8)
RGB_F_BIG = np.stack([F_BIG, np.minimum(A_BIG, B_BIG), MEAN_BIG], axis=2)


def test_rgb_fused_is_mean_over_channels_with_grey_sources_broadcast():
    rgb = RGB_F_BIG
    per_channel = [n for n in ALL_NAMES if n not in ("SF", "MEF-SSIM", "MS-MEF-SSIM")]
    for name in per_channel:
        fn = METRICS[name].fn
        expected = np.mean([fn(rgb[..., k], A_BIG, B_BIG) for k in range(3)])
        assert fn(rgb, A_BIG, B_BIG) == pytest.approx(expected, rel=1e-9, abs=1e-12), name


def test_rgb_source_with_equal_channels_equals_grey_source():
    rgb_f = RGB_F_BIG
    b3 = np.repeat(B_BIG[..., None], 3, axis=2)
    for name in ALL_NAMES:
        fn = METRICS[name].fn
        assert fn(rgb_f, A_BIG, b3) == pytest.approx(fn(rgb_f, A_BIG, B_BIG), rel=1e-12, abs=1e-12), name


def test_grey_fused_with_rgb_source_uses_matlab_rgb2gray():
    rgb_a = np.stack([A, B, F], axis=2)
    grey = rgb2gray(rgb_a)
    assert grey.dtype == np.float64 and np.array_equal(grey, np.round(grey))
    expected = 0.298936021293775 * A + 0.587043074451121 * B + 0.114020904255103 * F
    assert np.abs(grey - expected).max() <= 0.5
    assert statistics.psnr(F, rgb_a, B) == statistics.psnr(F, grey, B)


def test_matlab_round_is_half_away_from_zero():
    assert list(matlab_round([0.5, 1.5, 2.5, -0.5, -2.5, 2.4999])) == [1, 2, 3, -1, -3, 2]


@pytest.mark.parametrize("shape", [(12, 16), (13, 17), (12, 17)])
def test_even_csf_filter_matches_matlab_complex_form(shape):
    x = RNG.integers(0, 256, shape).astype(np.float64)
    u, v = freqspace(*shape)
    h = np.exp(-np.sqrt((u * 3) ** 2 + (v * 2) ** 2))
    full = np.fft.ifft2(np.fft.ifftshift(np.fft.fftshift(np.fft.fft2(x)) * h))
    ours = filter_freq_even(x, h)
    assert np.abs(full.imag).max() < 1e-10
    assert np.allclose(ours, full.real, rtol=0, atol=1e-10)


def test_freqspace_matches_matlab_definition():
    u, v = freqspace(4, 5)
    assert np.allclose(u[0], [-4 / 5, -2 / 5, 0, 2 / 5, 4 / 5])  # odd n: [-n+1:2:n-1]/n
    assert np.allclose(v[:, 0], [-1, -0.5, 0, 0.5])  # even n: [-n:2:n-2]/n


# ------------------------------------------------------------------------------ information


def test_entropy_identities():
    assert information.entropy(np.full((9, 9), 77, np.uint8)) == 0.0
    assert information.entropy(np.arange(256, dtype=np.uint8).reshape(16, 16)) == 8.0
    two = np.zeros((4, 4), np.uint8)
    two[:2] = 200
    assert information.entropy(two) == 1.0
    rgb = np.stack([np.full((4, 4), 3, np.uint8), two, two], axis=2)  # channels 0, 1, 1 bit
    assert information.entropy(rgb) == pytest.approx(2 / 3)


def test_mutual_information_of_identical_images():
    en = information.entropy(F)
    assert information.mutual_information_bits(F, F, F) == pytest.approx(2 * en, rel=1e-12)
    full_range = np.arange(256, dtype=np.uint8).reshape(16, 16)  # min-max stretch is identity
    assert information.mutual_information(full_range, full_range, full_range) == pytest.approx(
        2 * information.entropy(full_range) * math.log(2), rel=1e-12)  # VIFB MI is in nats


def test_mutual_information_vifb_stretches_contrast():
    # VIFB stretches each image to 0..255: a gain/offset change leaves MI(X, F) unchanged
    dim = F.astype(np.float64) * 0.5 + 10
    assert information.mutual_information(F, dim, dim) == pytest.approx(
        information.mutual_information(F, F, F), rel=1e-12)


def test_cross_entropy():
    assert information.cross_entropy(F, F, F) == 0.0
    assert information.cross_entropy(F, A, B) > 0
    assert information.cross_entropy(F, A, B) == pytest.approx(information.cross_entropy(F, B, A))


# ------------------------------------------------------------------------------ statistics


def test_sd_psnr_rmse():
    assert statistics.standard_deviation(np.full((5, 5), 9, np.uint8)) == 0.0
    assert statistics.standard_deviation(F) == pytest.approx(F.astype(float).std())
    for fn in (statistics.psnr, statistics.rmse, statistics.psnr_standard, statistics.rmse_standard):
        assert fn(F, A, B) == pytest.approx(fn(F, B, A), rel=1e-14)  # symmetric in the sources
    assert statistics.rmse(F, F, F) == 0.0
    assert statistics.psnr_standard(F, F, F) == math.inf
    # VIFB's "mse" is sqrt(SSE)/(H*W): for a constant difference d, sqrt(N d^2)/N = d/sqrt(N)
    z, d = np.zeros((10, 10)), np.full((10, 10), 10.0)
    assert statistics.rmse(z, d, d) == pytest.approx(1.0)
    assert statistics.psnr(z, d, d) == pytest.approx(20 * math.log10(255.0))
    assert statistics.rmse_standard(z, d, d) == pytest.approx(10.0)


def test_cc_and_scd():
    assert statistics.correlation_coefficient(F, F, F) == pytest.approx(1.0)
    lin = 0.5 * F + 3  # floats must stay on 0..255
    assert statistics.correlation_coefficient(F, lin, lin) == pytest.approx(1.0)
    assert statistics.correlation_coefficient(F, A, B) == pytest.approx(
        statistics.correlation_coefficient(F, B, A))
    a, b = A / 2.0, B / 2.0  # so that a + b stays on 0..255
    assert statistics.scd(a + b, a, b) == pytest.approx(2.0)
    assert -2.0 <= statistics.scd(F, A, B) <= 2.0


# ------------------------------------------------------------------------------ gradient


def test_sf_ag_ei_basics():
    const = np.full((8, 8), 50, np.uint8)
    half = F / 2.0  # room on 0..255 for the offset and the gain below
    for fn in (gradient.spatial_frequency, gradient.average_gradient, gradient.edge_intensity):
        assert fn(const) == 0.0
        assert fn(half + 20) == pytest.approx(fn(half))  # offset invariant
        assert fn(2.0 * half) == pytest.approx(2 * fn(half))  # linear in contrast
    ramp = np.tile(np.arange(6.0), (6, 1))
    assert gradient.average_gradient(ramp) == pytest.approx(36 * math.sqrt(0.5) / 25)


def test_sf_rgb_uses_channels_side_by_side():
    # constant channels 0, 100, 200: only the two seams between channels contribute (VIFB quirk)
    h, w = 4, 5
    rgb = np.stack([np.full((h, w), v, np.uint8) for v in (0, 100, 200)], axis=2)
    expected = math.sqrt(h * (100**2 + 100**2) / (h * 3 * w))
    assert gradient.spatial_frequency(rgb) == pytest.approx(expected)


def test_qabf_and_nabf():
    q = gradient.qabf(F, A, B)
    assert 0 <= q <= 1
    assert q == pytest.approx(gradient.qabf(F, B, A), rel=1e-12)
    same = gradient.qabf(A, A, A)
    assert same == pytest.approx(0.9994 * 0.9879 / (1 + math.exp(-22 * 0.2)), rel=1e-6)
    assert gradient.nabf(A, A, A) == 0.0
    noisy = np.clip(F + RNG.normal(0, 25, F.shape), 0, 255)
    assert gradient.nabf(noisy, A, B) > gradient.nabf(F, A, B)  # noise adds artifacts


# ------------------------------------------------------------------------------ structural


def test_ssim_identities():
    assert structural.ssim(A, A, A) == pytest.approx(2.0, abs=1e-12)
    assert structural.ssim_mean(A, A, A) == pytest.approx(1.0, abs=1e-12)
    assert structural.ssim(F, A, B) == pytest.approx(structural.ssim(F, B, A), rel=1e-12)
    assert structural.ssim_mean(F, A, B) == pytest.approx(structural.ssim(F, A, B) / 2)


def test_ssim_matches_scikit_image():
    skm = pytest.importorskip("skimage.metrics")
    ref = skm.structural_similarity(A.astype(float), F.astype(float), data_range=255,
                                    gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
    assert structural.ssim_mean(F, A, A) == pytest.approx(ref, rel=1e-9)


def test_ms_ssim():
    assert structural.ms_ssim(A_BIG, A_BIG, A_BIG) == pytest.approx(2.0, abs=1e-9)
    v = structural.ms_ssim(F_BIG, A_BIG, B_BIG)
    assert 0 <= v <= 2 and v == pytest.approx(structural.ms_ssim(F_BIG, B_BIG, A_BIG))
    # anti-correlated structure: negative per-scale terms are clamped, so the pair scores 0
    assert structural.ms_ssim(A_BIG, 255 - A_BIG, 255 - A_BIG) == 0.0


def _mef_ssim_loop(seq: np.ndarray, f: np.ndarray, k: float = 0.03) -> float:
    """Straightforward per-patch MEF-SSIM (Ma et al. 2015) to check the vectorised version."""
    eps = np.finfo(float).eps
    g = gaussian_1d(11, 1.5)
    win = np.outer(g, g).ravel()
    c = (k * 255) ** 2
    n_src, h, w = seq.shape
    q = []
    for i in range(h - 10):
        for j in range(w - 10):
            x = seq[:, i:i + 11, j:j + 11].reshape(n_src, -1)
            y = f[i:i + 11, j:j + 11].ravel()
            mu = x.mean(axis=1, keepdims=True)
            xc = x - mu
            ed = np.linalg.norm(xc, axis=1) + 0.001
            s = x.sum(axis=0)
            r = (np.linalg.norm(s - s.mean()) + eps) / (np.linalg.norm(xc, axis=1).sum() + eps)
            r = min(max(r, eps), 1 - eps) if (r > 1 or r < 0) else r
            p = min(math.tan(math.pi / 2 * r), 10.0)
            wts = (ed / 11) ** p + eps
            wts /= wts.sum()
            rb = (wts[:, None] * xc / ed[:, None]).sum(axis=0)
            if np.linalg.norm(rb) > 0:
                rb = rb / np.linalg.norm(rb) * ed.max()
            m1, m2 = (win * rb).sum(), (win * y).sum()
            s1 = (win * (rb - m1) ** 2).sum()
            s2 = (win * (y - m2) ** 2).sum()
            s12 = (win * (rb - m1) * (y - m2)).sum()
            q.append((2 * s12 + c) / (s1 + s2 + c))
    return float(np.mean(q))


def test_mef_ssim_vectorised_equals_patch_loop():
    a, b, f = A[:20, :24], B[:20, :24], F[:20, :24]
    a = a.copy()
    a[:12, :12] = 40  # a flat patch in one source
    ref = _mef_ssim_loop(np.stack([a, b]).astype(float), f.astype(float))
    assert structural.mef_ssim(f, a, b) == pytest.approx(ref, rel=1e-9)


def test_mef_ssim_of_a_three_exposure_bracket_equals_patch_loop_in_any_order():
    a, b, f = A[:20, :24], B[:20, :24], F[:20, :24]
    c = np.clip(a.astype(int) + 60, 0, 255).astype(np.uint8)  # a third, brighter exposure
    ref = _mef_ssim_loop(np.stack([a, b, c]).astype(float), f.astype(float))
    assert structural.mef_ssim(f, a, b, c) == pytest.approx(ref, rel=1e-9)
    assert structural.mef_ssim(f, c, a, b) == pytest.approx(ref, rel=1e-12)
    assert 0 < structural.ms_mef_ssim(F, A, B, np.clip(A.astype(int) + 60, 0, 255)) <= 1


def test_mef_ssim_identities_and_symmetry():
    assert structural.mef_ssim(A, A, A) == pytest.approx(1.0, abs=1e-9)
    assert structural.mef_ssim(F, A, B) == pytest.approx(structural.mef_ssim(F, B, A), rel=1e-12)
    assert structural.ms_mef_ssim(A, A, A) == pytest.approx(1.0, abs=1e-9)
    v = structural.ms_mef_ssim(F, A, B)
    assert 0 < v <= 1


def test_downsample2_matches_matlab_imfilter_symmetric():
    x = np.arange(15.0).reshape(3, 5)
    out = downsample2(x)
    # rows (0,1) and (2,2); columns (0,1), (2,3), (4,4)
    assert out.shape == (2, 3)
    assert out[0, 0] == (0 + 1 + 5 + 6) / 4 and out[1, 2] == 14 and out[0, 2] == (4 + 9) / 2


# ------------------------------------------------------------------------------ perceptual


def test_qcb_qcv():
    assert perceptual.qcb(A, A, A) == pytest.approx(1.0, abs=1e-12)
    assert perceptual.qcv(A, A, A) == 0.0
    assert 0 < perceptual.qcb(F, A, B) <= 1
    assert perceptual.qcb(F, A, B) == pytest.approx(perceptual.qcb(F, B, A), rel=1e-12)
    assert perceptual.qcv(F, A, B) == pytest.approx(perceptual.qcv(F, B, A), rel=1e-12)
    assert perceptual.qcv(F, A, B) > 0
    # both are invariant to a contrast stretch of any input (Liu's normalize1 comes first)
    stretched = (F.astype(float) - F.min()) * 255.0 / (F.max() - F.min())
    assert perceptual.qcv(stretched, A, B) == pytest.approx(perceptual.qcv(F, A, B), rel=1e-12)


def test_vif_vifp():
    assert perceptual.vif(A_BIG, A_BIG, A_BIG) == pytest.approx(1.0, abs=1e-6)
    assert perceptual.vifp(A_BIG, A_BIG, A_BIG) == pytest.approx(2.0, abs=1e-6)
    assert perceptual.vifp(F_BIG, A_BIG, B_BIG) == pytest.approx(perceptual.vifp(F_BIG, B_BIG, A_BIG))
    blurred = filter_valid(F_BIG.astype(float), gaussian_1d(5, 2.0))
    crop = (slice(2, -2), slice(2, -2))
    assert perceptual.vifp(blurred, A_BIG[crop], B_BIG[crop]) < perceptual.vifp(
        F_BIG[crop], A_BIG[crop], B_BIG[crop])


# ------------------------------------------------------------------------------ all metrics


@pytest.mark.parametrize("name", ALL_NAMES)
def test_every_metric_is_finite_on_real_like_images(name):
    value = METRICS[name].fn(F_BIG, A_BIG, B_BIG)
    assert isinstance(value, float) and math.isfinite(value)


def test_stack_metrics_take_any_number_of_sources_and_refuse_pairwise_ones():
    from defusion.metrics import ANY_SOURCE_METRICS, compute_metrics, compute_stack_metrics, mef_ssim

    rng = np.random.default_rng(5)
    a, b, c = (rng.integers(0, 256, (48, 48)).astype(np.uint8) for _ in range(3))
    fused = ((a.astype(int) + b + c) // 3).astype(np.uint8)
    values = compute_stack_metrics(fused, [a, b, c])
    assert list(values) == list(ANY_SOURCE_METRICS)
    assert values["MEF-SSIM"] == pytest.approx(mef_ssim(fused, a, b, c))
    # with a pair it is compute_metrics, pairwise metrics included
    assert compute_stack_metrics(fused, [a, b], ["EN", "Qabf"]) == compute_metrics(fused, a, b, ["EN", "Qabf"])
    with pytest.raises(ValueError, match="MI compares the fused image with two sources; with 3 sources"):
        compute_stack_metrics(fused, [a, b, c], ["EN", "Qabf", "MI"])
    with pytest.raises(ValueError, match="at least two sources"):
        compute_stack_metrics(fused, [a])
    # a set gives what applies to three sources, a metric named alone is still refused
    with pytest.warns(UserWarning, match="left out for 3 sources"):
        assert list(compute_stack_metrics(fused, [a, b, c], "vifb")) == ["EN", "SD", "SF", "AG", "EI", "Qabf"]
    with pytest.raises(ValueError, match="MI compares"):
        compute_stack_metrics(fused, [a, b, c], "vifb,MI")


def test_fusers_float_and_16_bit_conventions_score_like_8_bit():
    """The Fuser returns float [0, 1] for float sources and uint16 for 16-bit ones: both once scored
    as if on 0..255 (EN 0.08 and SSIM 0.03 for a good fusion)."""
    from defusion.metrics import compute_metrics

    rng = np.random.default_rng(5)
    a = (rng.random((40, 48)) * 255).round().astype(np.uint8)
    b = (rng.random((40, 48)) * 255).round().astype(np.uint8)
    f = ((a.astype(int) + b) // 2).astype(np.uint8)
    names = ["EN", "SSIM", "Qabf", "MI", "SD"]
    want = compute_metrics(f, a, b, names)
    as_float = compute_metrics(f / 255.0, a / 255.0, b / 255.0, names)
    mixed = compute_metrics(f / 255.0, a, b, names)
    as_16 = compute_metrics(*(x.astype(np.uint16) * 257 for x in (f, a, b)), names)
    for name in names:
        assert as_float[name] == pytest.approx(want[name], rel=1e-6), name
        assert mixed[name] == pytest.approx(want[name], rel=1e-6), name
        assert as_16[name] == pytest.approx(want[name], rel=1e-6), name
    with pytest.raises(ValueError, match="outside 0..255"):
        compute_metrics(f.astype(np.int32) * 4, a, b, ["EN"])


def test_a_float_image_a_little_outside_0_1_is_still_read_as_0_1():
    """One pixel at 1.02 once made the whole image count as 0..255 (Qabf 0.62 became 0.0004)."""
    from defusion.metrics import compute_metrics

    rng = np.random.default_rng(6)
    a, b = (rng.integers(0, 256, (32, 40)).astype(np.uint8) for _ in range(2))
    f = ((a.astype(int) + b) // 2).astype(np.uint8)
    want = compute_metrics(f, a, b, "EN, Qabf, SSIM")
    over = f / 255.0
    over[0, 0], over[0, 1] = 1.02, -0.01
    with pytest.warns(UserWarning, match=r"fused: float values span -0.01..1.02, up to 0.02 outside \[0, 1\], clipped"):
        got = compute_metrics(over, a, b, "en,qabf,ssim")
    for name in want:
        assert got[name] == pytest.approx(want[name], rel=1e-2), name  # two pixels moved
    with pytest.raises(KeyError, match="no metric named"):
        compute_metrics(f, a, b, "")


@pytest.mark.parametrize("scale, shift", [(257.0, 0.0), (1.0, -128.0), (1 / 127.5, -1.0)],
                         ids=["x257", "signed", "minus1_1"])
def test_float_images_on_another_scale_are_refused_not_misread(scale, shift):
    """257 x a uint8 triple once scored EN 0.0 and SSIM 0.91 (5.85 and 1.33 on 0..255), and
    -128..127 gave a negative SSIM: floats must be in [0, 1] or on 0..255."""
    f, a, b = (x.astype(np.float64) * scale + shift for x in (F_BIG, A_BIG, B_BIG))
    found = re.escape(f"fused: float values span {f.min():.6g}..{f.max():.6g}, neither 0..1 nor 0..255")
    with pytest.raises(ValueError, match=found):
        compute_metrics(f, a, b, ["EN", "SSIM", "PSNR", "VIF"])
    with pytest.raises(ValueError, match="a: float values span"):
        structural.ssim(F_BIG, a, B_BIG)
    with pytest.raises(ValueError, match="rescale or clip"):
        information.entropy(f)


def test_float_images_on_0_255_may_stray_half_a_grey_level_and_are_taken_as_they_are():
    f = F_BIG.astype(np.float64)
    f[0, 0], f[0, 1] = -LEVEL_SLACK, 255 + LEVEL_SLACK
    assert np.array_equal(as_image(f), f)  # not clipped, not rescaled
    nudged = F_BIG + 0.25  # within the slack at 255; EN floors it to the same grey levels
    assert compute_metrics(nudged, A_BIG, B_BIG, ["EN"]) == compute_metrics(F_BIG, A_BIG, B_BIG, ["EN"])
    for beyond in (-LEVEL_SLACK - 0.1, 255 + LEVEL_SLACK + 0.1):
        g = F_BIG.astype(np.float64)
        g[5, 5] = beyond
        with pytest.raises(ValueError, match="neither 0..1 nor 0..255"):
            as_image(g, "fused")


def test_a_dark_0_255_float_image_within_1_5_is_read_as_0_1_as_documented():
    dark = (F_BIG > 128).astype(np.float64)  # 0..255 values 0 and 1: read as black and white
    assert as_image(dark).max() == 255.0
    assert statistics.standard_deviation(dark, A, B) == pytest.approx(
        statistics.standard_deviation(dark * 255, A, B))


def left_out_as_too_small(got: dict[str, float], *images: np.ndarray) -> set[str]:
    """The default metrics missing from ``got``, checked to be there only because each, named,
    refuses these images with MetricInputError as smaller than the side it names (whatever metrics
    are registered: every one is computed or says why not)."""
    side = min(images[0].shape[:2])
    left_out = set(DEFAULT_METRICS) - set(got)
    for name in left_out:
        with pytest.raises(MetricInputError, match=NEEDS_SIDE) as caught:
            compute_metrics(*images, [name])
        assert int(NEEDS_SIDE.search(str(caught.value)).group(1)) > side, (name, str(caught.value))
    return left_out


def test_default_metrics_leave_out_those_a_small_image_cannot_take():
    """compute_metrics(x, x, x) once raised MS-SSIM's size error for any image under 176 px."""
    from defusion.metrics import ANY_SOURCE_METRICS, compute_stack_metrics

    got = compute_metrics(F, A, B)  # 48x56: VIF and VIFp take it (41 px a side), MS-SSIM not
    assert left_out_as_too_small(got, F, A, B) == {"MS-SSIM"} and {"VIF", "VIFp"} <= set(got)
    assert got == compute_metrics(F, A, B, list(got))  # the same values as when named
    tiny = compute_metrics(F[:8, :8], A[:8, :8], B[:8, :8])
    assert {"MS-SSIM", "VIF", "VIFp", "MS-MEF-SSIM", "SSIM", "SSIM-mean", "MEF-SSIM", "Qy", "Qc",
            "Qw"} <= left_out_as_too_small(tiny, F[:8, :8], A[:8, :8], B[:8, :8])
    stack = compute_stack_metrics(F[:40, :40], [A[:40, :40], B[:40, :40], F[:40, :40]])
    assert list(stack) == [n for n in ANY_SOURCE_METRICS if n != "MS-MEF-SSIM"]
    with pytest.raises(ValueError, match="MS-SSIM .* at least 176x176"):  # named: still an error
        compute_metrics(F, A, B, ["EN", "MS-SSIM"])


def test_default_metrics_still_refuse_bad_images():
    """Only a metric's own size limit is skipped, never an input no metric can take."""
    from defusion.metrics import compute_stack_metrics

    with pytest.raises(ValueError, match="size mismatch"):
        compute_metrics(F, A[:-1], B)
    with pytest.raises(ValueError, match="b: float values span"):  # named as the argument
        compute_metrics(F, A, B * 300.0)
    with pytest.raises(ValueError, match="HxW or HxWx3"):
        compute_metrics(np.zeros((48, 56, 2)), A, B)
    with pytest.raises(ValueError, match="at least two sources"):
        compute_stack_metrics(F, [A])


def test_mefb_names_its_twenty_metrics_and_mixes_with_others():
    from defusion.metrics import MEFB_METRICS, METRICS, metric_names

    assert len(MEFB_METRICS) == 20 and set(MEFB_METRICS) <= set(METRICS)
    assert "MEF-SSIM" not in MEFB_METRICS and "MS-MEF-SSIM" in MEFB_METRICS  # MEFB's index has 3 scales
    names = metric_names("EN, MEFB, vifb")
    assert names[0] == "EN" and len(names) == len(set(MEFB_METRICS) | {"EN"} | set(metric_names("vifb")))
    with pytest.raises(KeyError, match="known: vifb, mefb, EN"):
        metric_names("mefbb")

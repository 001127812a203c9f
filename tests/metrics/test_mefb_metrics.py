"""NMI, Qncie and Qy (``defusion.metrics.mefb``), as MEFB's ``metricsNMI.m``, ``metricsQncie.m`` and
``metricsQy.m`` define them: exact identities, hand-computed cases, a window-by-window reference
for Qy, symmetry, ranking on the shipped focus pair, input handling, registry and CLI."""

from __future__ import annotations

import doctest
import json
import math

import cv2
import numpy as np
import pytest
from PIL import Image

from defusion.benchmark.runner import TASK_METRICS
from defusion.metrics import METRICS, MetricInputError, compute_each, compute_metrics, mefb
from defusion.metrics.mefb import nmi, qncie, qy
from defusion.metrics.mefb_information import fmi, te
from defusion.metrics.mefb_structural import qc, qw
from tests.metrics._mefb_inputs import A, B, EXAMPLES, F, run_metrics_cli, textured_image

NAMES = ["NMI", "Qncie", "Qy"]
FNS = [nmi, qncie, qy]
#: Every MEFB metric but Qp (tests/metrics/test_qp.py): the colour and input conventions they share.
EVERY_FN = [*FNS, fmi, te, qc, qw]


def bits(*p: float) -> float:
    return -sum(q * math.log2(q) for q in p if q > 0)


@pytest.fixture(scope="module")
def focus_pair():
    """The shipped focus pair, a good fusion (pixel maximum) and a worse one (that, blurred)."""
    a = np.asarray(Image.open(EXAMPLES / "mff_near.png").convert("RGB"))
    b = np.asarray(Image.open(EXAMPLES / "mff_far.png").convert("RGB"))
    good = np.maximum(a, b)
    return good, cv2.GaussianBlur(good, (0, 0), 3), a, b


# ------------------------------------------------------------------------- identities, by hand


@pytest.mark.parametrize("image", [A, np.stack([A, B, F], axis=2)])
def test_identical_images_give_nmi_2_and_qy_1_exactly(image):
    assert nmi(image, image, image) == 2.0
    assert qy(image, image, image) == 1.0


def test_nmi_of_a_small_case_by_hand():
    """Images already spanning 0..255 (the stretch leaves them): H(A) = H(B) = 1, H(F) = H(3/4, 1/4),
    H(A, F) = H(B, F) = H(1/2, 1/4, 1/4) = 1.5."""
    a = np.array([[0, 0], [255, 255]], np.uint8)
    b = np.array([[0, 255], [0, 255]], np.uint8)
    f = np.array([[0, 0], [0, 255]], np.uint8)
    mi = 1 + bits(0.75, 0.25) - 1.5
    want = 2 * (2 * mi / (1 + bits(0.75, 0.25)))
    assert nmi(f, a, b) == pytest.approx(want, abs=1e-15)
    assert want == pytest.approx(0.687422, abs=1e-6)


def test_nmi_stretches_each_image_first_and_a_flat_fused_image_scores_0():
    """normalize1: a gain and an offset that merge no grey levels do not matter; a flat image (which
    MATLAB's normalize1 turns into NaN unless it is all 0) holds no information: 0 against a textured
    source, NaN against a flat one."""
    assert nmi(F * 0.5 + 20, A, B) == nmi(F, A, B)
    assert nmi(np.full_like(F, 90), A, B) == 0.0
    assert math.isnan(nmi(np.full_like(F, 90), np.full_like(A, 3), np.full_like(B, 200)))


def test_qncie_of_identical_images_by_hand():
    """NCC(X, X) = H(X) / 8, so R = [[1, c, c], [c, 1, c], [c, c, 1]] with eigenvalues 1 + 2c, 1 - c,
    1 - c; an image using all 256 levels equally (c = 1) gives exactly the maximum, 1."""
    c = bits(*np.bincount(A.ravel(), minlength=256) / A.size) / 8
    lam = np.array([1 + 2 * c, 1 - c, 1 - c]) / 3
    want = 1 - bits(*lam) / 8
    assert qncie(A, A, A) == pytest.approx(want, abs=1e-12)
    assert 0.8 < want < 1
    levels = np.random.default_rng(5).permutation(256).reshape(16, 16).astype(np.uint8)
    assert qncie(levels, levels, levels) == pytest.approx(1.0, abs=1e-12)


def test_qncie_of_pairwise_independent_images_is_its_minimum():
    """Every pair of these 2x2 images has MI 0, so R is the identity: 1 - log_256(3)."""
    a = np.array([[0, 0], [255, 255]], np.uint8)
    b = np.array([[0, 255], [0, 255]], np.uint8)
    f = np.array([[0, 255], [255, 0]], np.uint8)
    assert qncie(f, a, b) == pytest.approx(1 - math.log2(3) / 8, abs=1e-12)


# ---------------------------------------------------------------- Qy against a direct reference


def _qy_reference(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """metricsQy.m's definition window by window: SSIM with a 7x7 Gaussian (sigma 1.5), C = 2e-16."""
    x = np.arange(7) - 3.0
    g = np.exp(-(x[:, None] ** 2 + x[None] ** 2) / (2 * 1.5**2))
    g /= g.sum()
    f, a, b = (np.asarray(v, np.float64) for v in (f, a, b))
    c = 2e-16

    def stats(p, q):
        mp, mq = (g * p).sum(), (g * q).sum()
        vp, vq = (g * (p - mp) ** 2).sum(), (g * (q - mq) ** 2).sum()
        cov = (g * (p - mp) * (q - mq)).sum()
        return ((2 * mp * mq + c) * (2 * cov + c)) / ((mp**2 + mq**2 + c) * (vp + vq + c)), vp, vq

    vals = []
    for i in range(f.shape[0] - 6):
        for j in range(f.shape[1] - 6):
            pa, pb, pf = (v[i:i + 7, j:j + 7] for v in (a, b, f))
            s_ab, va, vb = stats(pa, pb)
            s_af, s_bf = stats(pa, pf)[0], stats(pb, pf)[0]
            if va + vb == 0:
                continue
            w = va / (va + vb)
            vals.append(w * s_af + (1 - w) * s_bf if s_ab >= 0.75 else max(s_af, s_bf))
    return float(np.mean(vals))


def test_qy_matches_a_window_by_window_transcription_of_its_definition():
    a, b = textured_image(20, 24, 7), textured_image(20, 24, 8)
    b[:, :12] = a[:, :12]  # sources alike on the left (weighted mean), unlike on the right (maximum)
    f = np.maximum(a, b)
    assert qy(f, a, b) == pytest.approx(_qy_reference(f, a, b), abs=1e-9)


def test_qy_leaves_out_windows_where_both_sources_are_flat():
    """Rounding noise in E[x^2] - mu^2 would give such windows arbitrary values; they are 0 / 0
    weights, left out as MATLAB leaves out NaN. All windows flat: NaN."""
    a, b = textured_image(20, 24, 7), textured_image(20, 24, 8)
    a[:10, :12] = 77
    b[:10, :12] = 140
    f = ((a.astype(int) + b) // 2).astype(np.uint8)
    assert qy(f, a, b) == pytest.approx(_qy_reference(f, a, b), abs=1e-9)
    flat = np.full((16, 16), 9, np.uint8)
    assert math.isnan(qy(textured_image(16, 16), flat, flat + 1))


def test_qy_needs_11x11_pixels_as_ssim_yang():
    x = textured_image(10, 30)
    with pytest.raises(MetricInputError, match=r"Qy needs images of at least 11x11 pixels, got 30x10 \(WxH\)"):
        qy(x, x, x)
    values, skipped = compute_each(x, [x, x], NAMES)
    assert list(values) == ["NMI", "Qncie"] and list(skipped) == ["Qy"]
    assert "Qy" not in compute_metrics(x, x, x) and {"NMI", "Qncie"} <= set(compute_metrics(x, x, x))


# ------------------------------------------------------------------- symmetry, ranking, colour


@pytest.mark.parametrize("fn", FNS)
def test_symmetric_in_a_and_b(fn, focus_pair):
    good, _, a, b = focus_pair
    assert fn(F, A, B) == pytest.approx(fn(F, B, A), abs=1e-12)
    assert fn(good, a, b) == pytest.approx(fn(good, b, a), abs=1e-12)


def test_a_better_fusion_of_the_shipped_focus_pair_scores_higher(focus_pair):
    good, blurred, a, b = focus_pair
    better, worse = compute_metrics(good, a, b, NAMES), compute_metrics(blurred, a, b, NAMES)
    assert all(better[n] > worse[n] for n in NAMES), (better, worse)
    assert 1.0 < better["NMI"] < 2 and 0.8 < better["Qncie"] < 1 and 0.7 < better["Qy"] < 1


@pytest.mark.parametrize("fn", EVERY_FN)
def test_rgb_fused_with_grey_sources_is_the_mean_over_its_channels(fn):
    """The package's per-channel rule (MEFB would score the red channel alone here)."""
    rgb = np.stack([F, A, B], axis=2)
    assert fn(rgb, A, B) == pytest.approx(np.mean([fn(rgb[..., k], A, B) for k in range(3)]), abs=1e-12)


@pytest.mark.parametrize("fn", EVERY_FN)
def test_rgb_sources_are_scored_channel_by_channel_and_grey_ones_like_equal_channels(fn):
    """RGB fused and sources: channel k of F against channel k of each source, as MEFB's wrappers."""
    f3, a3, b3 = np.stack([F, A, B], 2), np.stack([A, B, F], 2), np.stack([B, F, A], 2)
    want = np.mean([fn(f3[..., k], a3[..., k], b3[..., k]) for k in range(3)])
    assert fn(f3, a3, b3) == pytest.approx(want, abs=1e-12)
    assert fn(f3, np.repeat(A[..., None], 3, axis=2), B) == pytest.approx(fn(f3, A, B), abs=1e-12)


# ------------------------------------------------------------------------------- input handling


@pytest.mark.parametrize("fn", EVERY_FN)
def test_uint16_and_float_inputs_score_as_their_8_bit_image(fn):
    want = fn(F, A, B)
    assert fn(F.astype(np.uint16) * 257, A.astype(np.uint16) * 257, B.astype(np.uint16) * 257) == want
    assert fn(F / 255.0, A / 255.0, (B / 255.0).astype(np.float32)) == pytest.approx(want, abs=1e-12)
    assert fn(F.astype(np.float64), A, B) == want


@pytest.mark.parametrize("fn", EVERY_FN)
def test_bad_inputs_are_refused_by_as_image(fn):
    with pytest.raises(MetricInputError, match="neither 0..1 nor 0..255"):
        fn(F.astype(np.float64) * 4, A, B)
    with pytest.raises(MetricInputError, match="size mismatch"):
        fn(F[:30], A, B)
    with pytest.raises(MetricInputError, match="channels-first"):
        fn(np.stack([F] * 3), A, B)


# ------------------------------------------------------------------------- registry, CLI, docs


def test_registered_higher_is_better_and_in_no_task_default():
    assert all(METRICS[n].higher_is_better and METRICS[n].description for n in NAMES)
    assert [METRICS[n].fn for n in NAMES] == FNS
    assert not any(set(NAMES) & set(names) for names in TASK_METRICS.values())


def test_cli_names_them(tmp_path, capsys):
    for name, image in {"f": F, "a": A, "b": B}.items():
        Image.fromarray(image).save(tmp_path / f"{name}.png")
    paths = [str(tmp_path / f"{n}.png") for n in "fab"]
    assert run_metrics_cli([*paths, "--names", "NMI,Qy,Qncie", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)["metrics"]
    assert list(got) == ["NMI", "Qy", "Qncie"]
    assert got == pytest.approx(compute_metrics(F, A, B, ["NMI", "Qy", "Qncie"]), abs=1e-12)


def test_docstring_examples():
    result = doctest.testmod(mefb, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 4 and result.failed == 0

"""FMI, TE, Qc and Qw (``defusion.metrics.mefb_information`` / ``mefb_structural``), as MEFB's
``metricsFMI.m``, ``metricsTE.m``, ``metricsQc.m`` and ``metricsQw.m`` define them: identities,
hand-computed cases, slow loop-by-loop transcriptions of the MATLAB code, the code's asymmetries,
colour, input handling, registry and CLI."""

from __future__ import annotations

import doctest
import json
import math

import numpy as np
import pytest
from PIL import Image

from defusion.benchmark.runner import TASK_METRICS
from defusion.metrics import METRICS, MetricInputError, compute_each, compute_metrics
from defusion.metrics import mefb_information, mefb_structural
from defusion.metrics.mefb_information import TE_Q, fmi, matlab_sobel_edges, te
from defusion.metrics.mefb_structural import qc, qw
from tests.metrics._mefb_inputs import A, B, EXAMPLES, F, run_metrics_cli, textured_image

NAMES = ["FMI", "TE", "Qc", "Qw"]
FNS = [fmi, te, qc, qw]
EPS = float(np.finfo(np.float64).eps)


# ------------------------------------------------------------------- slow MATLAB transcriptions


def _normalize1(x: np.ndarray) -> np.ndarray:
    """Liu's normalize1 (a constant image as all 0, as the package's NMI)."""
    x = x.astype(np.float64)
    lo, hi = x.min(), x.max()
    if hi == lo:
        return np.zeros(x.shape, np.int64)
    return np.floor((x - lo) / (hi - lo) * 255 + 0.5).astype(np.int64)


def _tsallis_loops(im1: np.ndarray, im2: np.ndarray, q: float) -> float:
    """Liu's tsallis.m, loop by loop: h(im1+1, im2+1), im1_marg = sum(h), im2_marg = sum(h')."""
    h = np.zeros((256, 256))
    for i in range(im1.shape[0]):
        for j in range(im1.shape[1]):
            h[im1[i, j], im2[i, j]] += 1
    h /= h.sum()
    im1_marg = h.sum(axis=0)  # MATLAB sum(h): over the rows
    im2_marg = h.T.sum(axis=0)
    result = 0.0
    for i in range(256):
        for j in range(256):
            buff = im1_marg[i] * im2_marg[j]
            if buff != 0:
                result += h[i, j] ** q / buff ** (q - 1)
    return (1 - result) / (1 - q)


def _te_reference(f, a, b) -> float:
    fn, an, bn = (_normalize1(v) for v in (f, a, b))
    return _tsallis_loops(an, fn, 1.85) + _tsallis_loops(bn, fn, 1.85)


def _edge_loops(x: np.ndarray) -> np.ndarray:
    """MATLAB edge(x) (Sobel, automatic threshold, thinning), pixel by pixel as edge.m's portable code."""
    x = x.astype(np.float64)
    m, n = x.shape
    p = np.pad(x, 1, mode="edge")
    op = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]]) / 8
    bx, by = np.zeros((m, n)), np.zeros((m, n))
    for r in range(m):
        for c in range(n):
            win = p[r:r + 3, c:c + 3]
            bx[r, c] = (win * op.T).sum()  # imfilter: correlation
            by[r, c] = (win * op).sum()
    b = bx * bx + by * by
    cutoff = 4 * b.sum() / b.size
    bx, by = abs(bx), abs(by)
    e = np.zeros((m, n), bool)
    for r in range(m):
        for c in range(n):
            b1 = True if c - 1 < 0 else b[r, c - 1] <= b[r, c]
            b2 = True if c + 1 > n - 1 else b[r, c] > b[r, c + 1]
            b3 = True if r - 1 < 0 else b[r - 1, c] <= b[r, c]
            b4 = True if r + 1 > m - 1 else b[r, c] > b[r + 1, c]
            e[r, c] = b[r, c] > cutoff and ((bx[r, c] >= by[r, c] - EPS * 100 and b1 and b2)
                                            or (by[r, c] >= bx[r, c] - EPS * 100 and b3 and b4))
    return e


def _rescaled(sub: np.ndarray) -> np.ndarray:
    return np.ones((3, 3)) if sub.max() == sub.min() else (sub - sub.min()) / (sub.max() - sub.min())


def _plogp(p: float) -> float:
    return 0.0 if p == 0 else -p * math.log2(abs(p))  # real(-p log2 p), p < 0 included


def _fmi_window(s_sub: np.ndarray, f_sub: np.ndarray) -> float:
    """One term of fmi.m for rescaled windows, loop by loop (cells 1..9 in column-major order)."""
    sp = s_sub.flatten("F") / s_sub.sum()
    fp = f_sub.flatten("F") / f_sub.sum()
    sc, fc = np.zeros(9), np.zeros(9)
    sc[0], fc[0] = sp[0], fp[0]
    for i in range(1, 9):
        sc[i] = sp[i] + sc[i - 1]
        fc[i] = fp[i] + fc[i - 1]
    # MATLAB's sum is no running sum (which makes nine 1/9 into 1 + 2^-52): fsum, correctly rounded
    st, ft = sp - math.fsum(sp) / 9, fp - math.fsum(fp) / 9
    num = math.fsum(st * ft)
    c = 0.0 if num == 0 else num / math.sqrt(math.fsum(st * st) * math.fsum(ft * ft))
    es = e2s = ef = e2f = 0.0
    for i in range(9):
        es += (i + 1) * sp[i]
        e2s += (i + 1) ** 2 * sp[i]
        ef += (i + 1) * fp[i]
        e2f += (i + 1) ** 2 * fp[i]
    sd_s, sd_f = math.sqrt(e2s - es**2), math.sqrt(e2f - ef**2)
    if c >= 0:
        bound = lambda u, v: 0.5 * (u + v - abs(u - v))  # noqa: E731
        skip = c == 0 or sd_s == 0 or sd_f == 0
    else:
        bound = lambda u, v: 0.5 * (u + v - 1 + abs(u + v - 1))  # noqa: E731
        skip = sd_s == 0 or sd_f == 0
    if skip:
        mix = 0.0
    else:
        cov = 0.0
        for i in range(9):
            for j in range(9):
                cov += bound(fc[i], sc[j]) - fc[i] * sc[j]
        mix = c / (cov / (sd_f * sd_s))
    joint = 0.0
    for i in range(9):
        for j in range(9):
            up = bound(fc[i], sc[j])
            if i > 0:
                up -= bound(fc[i - 1], sc[j])
            if j > 0:
                up -= bound(fc[i], sc[j - 1])
            if i > 0 and j > 0:
                up += bound(fc[i - 1], sc[j - 1])
            joint += _plogp(mix * up + (1 - mix) * fp[i] * sp[j])
    hs, hf = sum(_plogp(v) for v in sp), sum(_plogp(v) for v in fp)
    mi = hs + hf - joint
    return 0.0 if mi == 0 else 2 * mi / (hs + hf)


def _fmi_reference(f, a, b) -> float:
    """fmi(A, B, F) of MEFB (feature 'edge', w = 3), window by window, F's window rescaled in place."""
    ea, eb, ef = (_edge_loops(v).astype(np.float64) for v in (a, b, f))
    vals = []
    for p in range(ea.shape[0] - 2):
        for q in range(ea.shape[1] - 2):
            a_sub, b_sub, f_sub = (v[p:p + 3, q:q + 3] for v in (ea, eb, ef))
            if np.array_equal(a_sub, f_sub):
                fmi_af = 1.0
            else:
                fmi_af = _fmi_window(_rescaled(a_sub), _rescaled(f_sub))
                f_sub = _rescaled(f_sub)  # what the (B, F) term then sees
            fmi_bf = 1.0 if np.array_equal(b_sub, f_sub) else _fmi_window(_rescaled(b_sub), _rescaled(f_sub))
            vals.append((fmi_af + fmi_bf) / 2)
    return float(np.mean(vals))


def _gauss(size: int) -> np.ndarray:
    x = np.arange(size) - (size - 1) / 2
    g = np.exp(-(x[:, None] ** 2 + x[None] ** 2) / (2 * 1.5**2))
    return g / g.sum()


def _window_stats(g, p, q, c1, c2):
    """SSIM with constants c1, c2, the variances and the covariance of one window pair."""
    mp, mq = (g * p).sum(), (g * q).sum()
    vp, vq = (g * (p - mp) ** 2).sum(), (g * (q - mq) ** 2).sum()
    cov = (g * (p - mp) * (q - mq)).sum()
    return ((2 * mp * mq + c1) * (2 * cov + c2)) / ((mp**2 + mq**2 + c1) * (vp + vq + c2)), vp, vq, cov


def _qc_reference(f, a, b) -> tuple[float, int, int, int]:
    """metricsQc.m window by window; also the numbers of kept windows, of w < 0 and of w > 1."""
    g, c = _gauss(7), 2e-16
    f, a, b = (np.asarray(v, np.float64) for v in (f, a, b))
    vals, below, above = [], 0, 0
    for i in range(f.shape[0] - 6):
        for j in range(f.shape[1] - 6):
            pa, pb, pf = (v[i:i + 7, j:j + 7] for v in (a, b, f))
            s_af, _, _, cov_a = _window_stats(g, pa, pf, c, c)
            s_bf, _, _, cov_b = _window_stats(g, pb, pf, c, c)
            if cov_a + cov_b == 0:
                continue  # NaN, left out (no such window in the images used)
            w = cov_a / (cov_a + cov_b)
            if w < 0:
                vals.append(0.0)
                below += 1
            elif w > 1:
                vals.append(1.0)
                above += 1
            else:
                vals.append(w * s_af + (1 - w) * s_bf)
    return float(np.mean(vals)), len(vals), below, above


def _prewitt_loops(x: np.ndarray) -> np.ndarray:
    p = np.pad(np.asarray(x, np.float64), 1)
    fx = np.array([[1, 0, -1]] * 3, np.float64)
    out = np.zeros(x.shape)
    for r in range(x.shape[0]):
        for c in range(x.shape[1]):
            win = p[r:r + 3, c:c + 3]
            out[r, c] = math.hypot((win * fx).sum(), (win * fx.T).sum())
    return out


def _qw_reference(f, a, b) -> float:
    """metricsQw.m (sw = 3) window by window on the Prewitt magnitude images."""
    g, c1, c2 = _gauss(11), (0.01 * 255) ** 2, (0.03 * 255) ** 2
    ef, ea, eb = (_prewitt_loops(v) for v in (f, a, b))
    num = den = 0.0
    for i in range(f.shape[0] - 10):
        for j in range(f.shape[1] - 10):
            pa, pb, pf = (v[i:i + 11, j:j + 11] for v in (ea, eb, ef))
            _, sa, sb, _ = _window_stats(g, pa, pb, c1, c2)
            if sa + sb == 0:
                sa = sb = 0.5
            lam = sa / (sa + sb)
            s_fa, s_fb = _window_stats(g, pf, pa, c1, c2)[0], _window_stats(g, pf, pb, c1, c2)[0]
            num += max(sa, sb) * (lam * s_fa + (1 - lam) * s_fb)
            den += max(sa, sb)
    return num / den


# --------------------------------------------------------------------------- against the loops


def test_edge_maps_match_a_pixel_by_pixel_transcription_of_matlab_edge():
    for x in (textured_image(14, 17, 3), np.random.default_rng(4).integers(0, 256, (9, 12)).astype(np.uint8)):
        assert np.array_equal(matlab_sobel_edges(x.astype(np.float64)[None])[0], _edge_loops(x))


def test_fmi_matches_a_window_by_window_transcription_of_fmi_m():
    rng = np.random.default_rng(11)
    a, b = textured_image(12, 13, 5), textured_image(12, 13, 6)
    f = np.maximum(a, b)
    f[:4, :5] = 128  # an edgeless patch of F: rescaled in place, then compared with B
    noise = rng.integers(0, 256, (11, 12)).astype(np.uint8)
    for fused, sa, sb in ((f, a, b), (noise, a[:11, :12], b[:11, :12])):
        assert fmi(fused, sa, sb) == pytest.approx(_fmi_reference(fused, sa, sb), abs=1e-12)


def test_te_matches_a_loop_transcription_of_tsallis_m():
    a, b = textured_image(12, 14, 7), textured_image(12, 14, 8)
    f = ((a.astype(int) + b) // 2).astype(np.uint8)
    assert te(f, a, b) == pytest.approx(_te_reference(f, a, b), rel=1e-12)


def test_qc_matches_a_window_by_window_transcription_and_its_asymmetry_is_the_clipping():
    """A window with w < 0 scores 0 in the given order and 1 (w' = 1 - w > 1) in the swapped one."""
    a, b = textured_image(18, 20, 9), textured_image(18, 20, 10)
    f = np.clip(a.astype(int) - b + 128, 0, 255).astype(np.uint8)  # F unlike B: covariances of both signs
    want, kept, below, above = _qc_reference(f, a, b)
    assert qc(f, a, b) == pytest.approx(want, abs=1e-10)
    assert below + above > 0  # the case is exercised
    assert qc(f, b, a) - qc(f, a, b) == pytest.approx((below - above) / kept, abs=1e-10)


def test_qw_matches_a_window_by_window_transcription():
    a, b = textured_image(16, 18, 11), textured_image(16, 18, 12)
    f = ((a.astype(int) + 2 * b) // 3).astype(np.uint8)
    assert qw(f, a, b) == pytest.approx(_qw_reference(f, a, b), abs=1e-12)


# ------------------------------------------------------------------------- identities, by hand


@pytest.mark.parametrize("image", [A, np.stack([A, B, F], axis=2)])
def test_identical_images_give_the_maximum_1(image):
    assert fmi(image, image, image) == 1.0
    assert qc(image, image, image) == 1.0
    assert qw(image, image, image) == pytest.approx(1.0, abs=1e-12)


def test_te_of_identical_images_by_hand():
    """F = A = B: the swapped marginals coincide, I_q = (1 - sum p^(2-q)) / (1 - q) for each source."""
    p = np.bincount(A.ravel(), minlength=256)
    p = p[p > 0] / A.size  # the stretch to 0..255 moves levels apart, never merges them: the same p
    want = 2 * (1 - (p ** (2 - TE_Q)).sum()) / (1 - TE_Q)
    assert te(A, A, A) == pytest.approx(want, rel=1e-12)


def test_te_of_a_2x2_case_by_hand_divides_by_the_marginals_as_liu_s_code_takes_them():
    """A (3/4 black), F (1/4 black), B = F. Joint (A, F): (0,0) 1/4, (0,255) 1/2, (255,255) 1/4; the
    code divides cell (i, j) by p_F(i) p_A(j): 3/16, 1/16, 3/16 (the textbook p_A(i) p_F(j) gives
    9/16 for the middle one)."""
    a = np.array([[0, 0], [0, 255]], np.uint8)
    f = np.array([[0, 255], [255, 255]], np.uint8)
    q = TE_Q

    def i_q(cells):
        return (1 - sum(p**q / d ** (q - 1) for p, d in cells)) / (1 - q)

    t_af = i_q([(1 / 4, 3 / 16), (1 / 2, 1 / 16), (1 / 4, 3 / 16)])
    t_ff = (1 - (1 / 4) ** (2 - q) - (3 / 4) ** (2 - q)) / (1 - q)
    assert te(f, a, f) == pytest.approx(t_af + t_ff, rel=1e-12)
    textbook = i_q([(1 / 4, 3 / 16), (1 / 2, 9 / 16), (1 / 4, 3 / 16)])
    assert abs(te(f, a, f) - (textbook + t_ff)) > 0.1


def test_fmi_of_edgeless_images_is_1_and_f_s_window_is_rescaled_in_place_as_fmi_m():
    """A has a vertical step (an edge column 8), B and F are flat (no edge). In the 3 of 14 window
    columns that see A's edge, the (A, F) term turns F's window into ones, which then no longer
    equals B's (zeros): its term is 0 instead of 1. Swapping A and B leaves F's window alone."""
    step = np.repeat(np.array([[0] * 8 + [200] * 8], np.uint8), 10, axis=0)
    flat, dark = np.full_like(step, 70), np.full_like(step, 20)
    assert matlab_sobel_edges(step[None].astype(float))[0].sum(axis=0).tolist() == [0] * 8 + [10] + [0] * 7
    assert fmi(flat, dark, dark) == 1.0
    assert fmi(flat, dark, step) - fmi(flat, step, dark) == pytest.approx(0.5 * 3 / 14, abs=1e-12)


def test_qc_and_qw_need_11x11_pixels_and_fmi_3x3():
    x = textured_image(10, 30)
    for fn, name in ((qc, "Qc"), (qw, "Qw")):
        with pytest.raises(MetricInputError, match=rf"{name} needs images of at least 11x11 pixels, got 30x10"):
            fn(x, x, x)
    with pytest.raises(MetricInputError, match=r"FMI needs images of at least 3x3 pixels, got 30x2"):
        fmi(x[:2], x[:2], x[:2])
    values, skipped = compute_each(x, [x, x], NAMES)
    assert list(values) == ["FMI", "TE"] and list(skipped) == ["Qc", "Qw"]


# ------------------------------------------------------------------- symmetry, ranking, colour


@pytest.mark.parametrize("fn", [te, qw])
def test_symmetric_in_a_and_b(fn):
    assert fn(F, A, B) == pytest.approx(fn(F, B, A), abs=1e-12)


def test_fmi_qc_and_qw_rank_a_blurred_fusion_of_the_shipped_focus_pair_lower_and_te_does_not():
    """The figures docs/metrics.md quotes (TE favours the blurred image's concentrated histogram)."""
    import cv2

    a = np.asarray(Image.open(EXAMPLES / "mff_near.png").convert("RGB"))
    b = np.asarray(Image.open(EXAMPLES / "mff_far.png").convert("RGB"))
    good = np.maximum(a, b)
    better, worse = compute_metrics(good, a, b, NAMES), compute_metrics(cv2.GaussianBlur(good, (0, 0), 3), a, b, NAMES)
    assert better == pytest.approx({"FMI": 0.858, "TE": 112.4, "Qc": 0.753, "Qw": 0.768}, abs=5e-4, rel=1e-3)
    assert worse == pytest.approx({"FMI": 0.839, "TE": 139.8, "Qc": 0.529, "Qw": 0.0795}, abs=5e-4, rel=1e-3)


# Colour and input conventions: one parametrized set over every MEFB metric, in test_mefb_metrics.py.


# ------------------------------------------------------------------------- registry, CLI, docs


def test_registered_higher_is_better_in_the_default_set_and_in_no_bench_default():
    assert [METRICS[n].fn for n in NAMES] == FNS
    assert all(METRICS[n].higher_is_better and METRICS[n].description for n in NAMES)
    # Together and in their documented order, whatever is registered after them (docs/metrics.md's
    # table follows METRICS: tests/test_registries_documented.py).
    order = list(METRICS)
    assert order[order.index(NAMES[0]):][:len(NAMES)] == NAMES
    assert set(NAMES) <= set(compute_metrics(F, A, B))
    assert not any(set(NAMES) & set(names) for names in TASK_METRICS.values())


def test_cli_names_them(tmp_path, capsys):
    for name, image in {"f": F, "a": A, "b": B}.items():
        Image.fromarray(image).save(tmp_path / f"{name}.png")
    paths = [str(tmp_path / f"{n}.png") for n in "fab"]
    assert run_metrics_cli([*paths, "--names", "qw,FMI,te,Qc", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)["metrics"]
    assert list(got) == ["Qw", "FMI", "TE", "Qc"]
    assert got == pytest.approx(compute_metrics(F, A, B, list(got)), abs=1e-12)


@pytest.mark.parametrize("module", [mefb_information, mefb_structural])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 3 and result.failed == 0

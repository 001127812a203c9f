"""VIF and VIFp refused images under 81 pixels a side, the limit of windows 33, 17, 9, 5, while the
code (as ``vifp_mscale.m`` and MEFB's ``metricsVIF.m``) uses windows 17, 9, 5, 3, whose four scales
all fit from 41 pixels: 41-80 px patches lost VIF, and ``compute_metrics`` dropped it from its
default set. Checked against an independent transcription of the MATLAB code, with MATLAB's
``filter2(..., 'valid')`` (empty when the window does not fit)."""

from __future__ import annotations

import numpy as np
import pytest

from defusion.metrics import DEFAULT_METRICS, compute_metrics, vif, vifp
from defusion.metrics.perceptual import VIF_MIN_SIDE

#: The smallest side every scale fits, worked out by hand: scale 4 needs 3 pixels (its window), so
#: scale 3 needs 2 * 3 + 3 - 2 = 7 (filter 'valid' with 3, keep every second), scale 2 needs
#: 2 * 7 + 5 - 2 = 17 and scale 1 needs 2 * 17 + 9 - 2 = 41.
SMALLEST = 41
#: VIF's visual noise, scale weights and sums' epsilon (MEFB's metricsVIF.m); VIFp's noise (vifp_mscale.m).
VIF_NOISE, VIF_WEIGHTS, VIF_EPS, VIFP_NOISE = 0.005 * 255 * 255, np.array([1, 0, 0.15, 1]) / 2.15, 1e-7, 2.0
#: The GSM statistics' floor (vifp_mscale.m).
GSM_EPS = 1e-10


def _window(n: int) -> np.ndarray:
    """``fspecial('gaussian', n, n / 5)``."""
    t = np.arange(n) - (n - 1) / 2
    g = np.exp(-(t[:, None] ** 2 + t[None, :] ** 2) / (2 * (n / 5) ** 2))
    return g / g.sum()


def _filter_valid(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``filter2(w, x, 'valid')``: empty where ``w`` does not fit."""
    n = w.shape[0]
    rows, cols = x.shape[0] - n + 1, x.shape[1] - n + 1
    if rows < 1 or cols < 1:
        return np.zeros((max(rows, 0), max(cols, 0)))
    out = np.zeros((rows, cols))
    for i in range(n):
        for j in range(n):
            out += w[i, j] * x[i:i + rows, j:j + cols]
    return out


def _gsm(ref: np.ndarray, dist: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``vifp_mscale.m``'s per-scale ``(g, sigma1_sq, sv_sq)``."""
    out = []
    for scale in range(1, 5):
        w = _window(2 ** (4 - scale + 1) + 1)
        if scale > 1:
            ref, dist = _filter_valid(ref, w)[::2, ::2], _filter_valid(dist, w)[::2, ::2]
        mu1, mu2 = _filter_valid(ref, w), _filter_valid(dist, w)
        s1 = np.maximum(_filter_valid(ref * ref, w) - mu1 * mu1, 0)
        s2 = np.maximum(_filter_valid(dist * dist, w) - mu2 * mu2, 0)
        s12 = _filter_valid(ref * dist, w) - mu1 * mu2
        g = s12 / (s1 + GSM_EPS)
        sv = s2 - g * s12
        low = s1 < GSM_EPS
        g[low], sv[low], s1[low] = 0, s2[low], 0
        low = s2 < GSM_EPS
        g[low], sv[low] = 0, 0
        neg = g < 0
        sv[neg], g[neg] = s2[neg], 0
        sv[sv <= GSM_EPS] = GSM_EPS
        out.append((g, s1, sv))
    return out


def _reference_vif(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    total = 0.0
    for weight, (g1, s1a, sv1), (g2, s1b, sv2) in zip(VIF_WEIGHTS, _gsm(a, f), _gsm(b, f)):
        pick = g1 < g2
        vid1, vid2 = (np.log10(1 + g ** 2 * s1 / (sv + VIF_NOISE)) for g, s1, sv in ((g1, s1a, sv1), (g2, s1b, sv2)))
        vid = np.where(pick, vid1, vid2)
        vind = np.where(pick, np.log10(1 + s1a / VIF_NOISE), np.log10(1 + s1b / VIF_NOISE))
        with np.errstate(invalid="ignore"):
            total += weight * (vid + VIF_EPS).sum() / (vind + VIF_EPS).sum()
    return total


def _reference_vifp(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    total = 0.0
    for s in (a, b):
        stats = _gsm(s, f)
        num = sum(np.log10(1 + g ** 2 * s1 / (sv + VIFP_NOISE)).sum() for g, s1, sv in stats)
        den = sum(np.log10(1 + s1 / VIFP_NOISE).sum() for _, s1, _ in stats)
        total += num / den
    return total


def _triplet(rng: np.random.Generator, h: int, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two structured uint8 sources and a noisy blend of them, ``h`` x ``w``."""
    y, x = np.mgrid[0:h, 0:w]
    a = np.clip(128 + 60 * np.sin(x / 5) * np.cos(y / 7) + rng.normal(0, 8, (h, w)), 0, 255).astype(np.uint8)
    b = np.clip(128 + 50 * np.cos(x / 4 + y / 9) + rng.normal(0, 8, (h, w)), 0, 255).astype(np.uint8)
    f = np.clip((a / 2 + b / 2) + rng.normal(0, 3, (h, w)), 0, 255).astype(np.uint8)
    return f, a, b


@pytest.mark.parametrize("shape", [(SMALLEST, SMALLEST), (SMALLEST, 57), (57, SMALLEST), (SMALLEST + 1, 80)])
def test_vif_and_vifp_compute_from_41_pixels_as_the_matlab_code(rng, shape):
    f, a, b = _triplet(rng, *shape)
    ref = [np.asarray(x, np.float64) for x in (f, a, b)]
    assert VIF_MIN_SIDE == SMALLEST
    assert vif(f, a, b) == pytest.approx(_reference_vif(*ref), rel=1e-9)
    assert vifp(f, a, b) == pytest.approx(_reference_vifp(*ref), rel=1e-9)


@pytest.mark.parametrize("shape", [(SMALLEST - 1, SMALLEST), (SMALLEST, SMALLEST - 1)])
def test_under_41_pixels_the_last_scale_is_empty_and_both_refuse_naming_41(rng, shape):
    f, a, b = _triplet(rng, *shape)
    assert _gsm(a.astype(float), f.astype(float))[-1][0].size == 0  # MATLAB would divide 0 by 0 there
    for fn, name in ((vif, "VIF"), (vifp, "VIFp")):
        with pytest.raises(ValueError, match=f"^{name} needs images of at least 41x41 pixels, got "):
            fn(f, a, b)


def test_the_default_set_keeps_vif_on_a_64_pixel_patch(rng):
    f, a, b = _triplet(rng, 64, 64)
    values = compute_metrics(f, a, b)
    assert {"VIF", "VIFp"} <= set(values) and set(DEFAULT_METRICS) - set(values) == {"MS-SSIM"}

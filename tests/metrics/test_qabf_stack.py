"""Qabf over any number of sources (a focus stack or bracket): the pair's normalisation extended."""

import warnings

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from defusion.metrics import ANY_SOURCE_METRICS, compute_stack_metrics, qabf
from defusion.metrics.gradient import _qabf_edge_preservation, _strength_angle_conv

rng = np.random.default_rng(7)


def _scene(shape=(48, 64)) -> np.ndarray:
    return gaussian_filter(rng.random(shape) * 255, 1.0)


def _by_hand(fused: np.ndarray, *sources: np.ndarray) -> float:
    """sum_S sum Q^{SF} g_S / sum_S sum g_S, one grey plane, written out."""
    gf, af = _strength_angle_conv(fused.astype(float)[None] * 255.0)
    num = den = 0.0
    for s in sources:
        gs, as_ = _strength_angle_conv(s.astype(float)[None] * 255.0)
        num += float((_qabf_edge_preservation(gs, as_, gf, af) * gs).sum())
        den += float(gs.sum())
    return num / den


def test_three_sources_match_the_written_out_sum_and_ignore_their_order():
    a, b, c, f = (_scene() for _ in range(4))
    assert qabf(f, a, b, c) == pytest.approx(_by_hand(f, a, b, c), rel=1e-12)
    assert qabf(f, c, a, b) == pytest.approx(qabf(f, a, b, c), rel=1e-12)


def test_two_sources_keep_the_pair_value():
    a, b, f = (_scene() for _ in range(3))
    assert qabf(f, a, b) == pytest.approx(_by_hand(f, a, b), rel=1e-12)


def test_a_stack_fused_from_each_sharp_band_beats_a_blurred_one():
    truth = _scene((60, 60))
    bands = [slice(0, 20), slice(20, 40), slice(40, 60)]
    stack = []
    for band in bands:  # three shots, each sharp in one band of rows, blurred elsewhere
        shot = gaussian_filter(truth, 3.0)
        shot[band] = truth[band]
        stack.append(shot)
    picked = qabf(truth, *stack)
    blurred = qabf(gaussian_filter(truth, 3.0), *stack)
    first_two = qabf(truth, *stack[:2])  # the band only the third shot holds sharp still counts
    assert picked > blurred + 0.1
    assert picked > 0.5 and first_two > 0.3


def test_stack_metrics_include_qabf_and_colour_follows_the_pair_rule():
    a, b, c = (np.stack([_scene()] * 3, axis=-1).astype(np.uint8) for _ in range(3))
    fused = ((a.astype(int) + b + c) // 3).astype(np.uint8)
    values = compute_stack_metrics(fused, [a, b, c])
    assert "Qabf" in ANY_SOURCE_METRICS and "Qabf" in values
    assert values["Qabf"] == pytest.approx(qabf(fused[..., 0], a[..., 0], b[..., 0], c[..., 0]), rel=1e-12)


def test_a_source_of_another_size_is_named():
    a = _scene()
    with pytest.raises(ValueError, match="source 3"):
        qabf(a, a, a, a[:40])


def test_a_set_with_three_sources_warns_of_the_pairwise_metrics_it_leaves_out():
    """The CLI notes them and --json lists them; from Python they were dropped without a word."""
    a, b, c, f = (_scene((96, 96)).astype(np.uint8) for _ in range(4))
    with pytest.warns(UserWarning, match=r"^13 metrics of the set compare with a pair and are left out for 3 "
                                         r"sources: .*\bVIF$") as caught:
        values = compute_stack_metrics(f, [a, b, c], "mefb")
    assert "VIF" not in values and "MS-MEF-SSIM" in values
    assert caught[0].filename == __file__  # the user's line, not the library's
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compute_stack_metrics(f, [a, b], "mefb")  # a pair: every metric, nothing said

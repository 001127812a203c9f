"""defusion.benchmark.compare: paired, image-by-image comparisons of methods."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from scipy.stats import wilcoxon

import defusion.benchmark.compare as compare
from defusion.benchmark.compare import paired_comparisons, versus_markdown, versus_summary
from defusion.benchmark.runner import SECONDS, Row


def test_module_example_runs():
    assert doctest.testmod(compare).failed == 0


def _rows(method, metric, values, images=None):
    images = images or [f"p{i}" for i in range(len(values))]
    return [Row(method, image, metric, float(v)) for image, v in zip(images, values)]


def test_wins_follow_the_metrics_direction():
    # CE is lower-is-better: the reference's smaller values are wins
    rows = _rows("ours", "CE", [1, 1, 3, 2]) + _rows("base", "CE", [2, 2, 2, 2])
    (c,) = paired_comparisons(rows, "ours")
    assert (c.wins, c.ties, c.losses, c.n) == (2, 1, 1, 4)
    assert c.mean_difference == pytest.approx(-0.25) and c.better and not c.worse


def test_p_value_is_scipys_wilcoxon_on_the_common_images_only():
    rng = np.random.default_rng(0)
    ours, base = rng.normal(1, 1, 12), rng.normal(0, 1, 12)
    rows = _rows("ours", "Qabf", ours) + _rows("base", "Qabf", base[:10])  # base lacks p10, p11
    rows += [Row("ours", "p0", SECONDS, 3.0)]  # timings are not a metric
    (c,) = paired_comparisons(rows, "ours")
    assert c.n == 10 and c.metric == "Qabf"
    assert c.p_value == pytest.approx(wilcoxon(ours[:10] - base[:10]).pvalue)


def test_identical_results_have_no_p_value_and_are_not_significant():
    rows = _rows("ours", "SSIM", [0.5, 0.6, 0.7]) + _rows("base", "SSIM", [0.5, 0.6, 0.7])
    (c,) = paired_comparisons(rows, "ours")
    assert (c.wins, c.ties, c.losses) == (0, 3, 0)
    assert math.isnan(c.p_value) and not c.significant and not c.better and not c.worse


def test_methods_with_no_common_image_are_left_out_and_an_unknown_reference_is_an_error():
    rows = _rows("ours", "EN", [1, 2], ["a", "b"]) + _rows("base", "EN", [1, 2], ["c", "d"])
    assert paired_comparisons(rows, "ours") == []
    with pytest.raises(ValueError, match="no results of 'theirs'"):
        paired_comparisons(rows, "theirs")


def test_versus_table_marks_significance_and_summarises():
    n = 20
    ours = np.linspace(0.5, 0.7, n)
    rows = _rows("ours", "Qabf", ours) + _rows("ours", "SD", np.full(n, 30.0))
    rows += _rows("base", "Qabf", ours - 0.05) + _rows("base", "SD", np.full(n, 31.0))
    rows += _rows("noisy", "Qabf", ours + np.where(np.arange(n) % 2, 0.01, -0.01)) + _rows("noisy", "SD", np.full(n, 30.0))
    text = versus_markdown(rows, "ours", "IVF: test")
    assert "| base | 20 | 1 (1) / 1 (1) of 2 | 20/0/0** | 0/0/20** |" in text
    assert "| noisy | 20 | 0 (0) / 0 (0) of 2 | 10/0/10 | 0/20/0 |" in text
    assert versus_summary(rows, "ours")[0] == (
        "ours vs base: better on 1 of 2 metrics (1 significantly), worse on 1 (1 significantly)")


def test_versus_chart_draws_one_cell_per_method_and_metric(tmp_path):
    from PIL import Image

    from defusion.benchmark.compare import versus_chart

    n = 12
    rows = _rows("ours", "Qabf", np.linspace(0.5, 0.7, n)) + _rows("ours", "SD", np.full(n, 30.0))
    for other, shift in (("base", 0.05), ("strong", -0.05)):
        rows += _rows(other, "Qabf", np.linspace(0.5, 0.7, n) - shift) + _rows(other, "SD", np.full(n, 31.0))
    versus_chart(rows, "ours", tmp_path / "v.png", "IVF: test")
    chart = np.asarray(Image.open(tmp_path / "v.png").convert("RGB")).astype(int)
    better = (chart[..., 2] > chart[..., 0] + 40).mean()  # cividis's dark blue end: ours better
    worse = (chart[..., 0] > chart[..., 2] + 100).mean()  # its yellow end: ours worse
    assert better > 0.02 and worse > 0.02  # ours better than base on Qabf, worse on SD and against strong


def test_a_rescaled_metric_counts_once_in_the_summaries():
    """SSIM-mean is SSIM halved: a method better on SSIM is better on both, which is one measure."""
    n = 10
    ours = np.linspace(1.2, 1.4, n)
    rows = _rows("ours", "SSIM", ours) + _rows("ours", "SSIM-mean", ours / 2) + _rows("ours", "EN", np.full(n, 7.0))
    rows += _rows("base", "SSIM", ours - 0.1) + _rows("base", "SSIM-mean", (ours - 0.1) / 2)
    rows += _rows("base", "EN", np.full(n, 7.2))
    text = versus_markdown(rows, "ours")
    assert "| base | 10 | 1 (1) / 1 (1) of 2 |" in text  # SSIM's win once, EN's loss
    assert "10/0/0** | 10/0/0** | 0/0/10**" in text  # both columns still shown
    assert "SSIM-mean and SSIM" in text
    assert versus_summary(rows, "ours")[0].startswith("ours vs base: better on 1 of 2 metrics")

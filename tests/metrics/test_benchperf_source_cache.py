"""The sources' own quantities (Sobel edges, window statistics, histogram levels, VIF's pyramids, ...) are
computed once per ``shared_inputs(sources=True)`` block, as ``defusion bench`` scores every method of a pair in one,
not once per fused image; and the scores stay exactly what each metric gives alone.

From a performance audit: about 3 s of 26 s per pair went to recomputing the sources' quantities for
every method of the pair.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import defusion.metrics as metrics_package
from defusion.metrics import METRICS, compute_each, shared_inputs
from defusion.metrics import _cache, _filters, _histograms, gradient, information, mefb, mefb_information
from defusion.metrics import mefb_structural, perceptual, structural

#: Large enough for every metric (MS-SSIM needs 176 pixels a side), small enough for Qp to be quick.
SIZE = (180, 190)

#: The filters and level maps of the sources' own quantities, in every module that calls them.
_COUNTED = ("sobel", "correlate_sep", "filter_valid", "filter_freq_even", "normalize255", "stretch_levels",
            "prewitt_magnitude", "matlab_sobel_edges", "window_codes")
_MODULES = (_filters, _histograms, gradient, information, mefb, mefb_information, mefb_structural, perceptual,
            structural)

#: Metrics that compare the fused image with quantities of the sources alone, now computed once per block.
SOURCE_WORK = ("Qabf", "Nabf", "Qcb", "Qcv", "SSIM", "VIF", "VIFp", "MI", "NMI", "TE", "Qncie", "FMI", "Qy", "Qc",
               "Qw")


def _smooth(rng, shape):
    x = rng.integers(0, 256, shape).astype(np.float64)
    return np.clip((x + np.roll(x, 1, 0) + np.roll(x, 1, 1)) / 3, 0, 255).astype(np.uint8)


def _pairs(rng):
    """A few pairs as the bench reads them: grey, grey stored as RGB, RGB with grey, [0, 1] floats."""
    grey = (_smooth(rng, SIZE), rng.integers(0, 256, SIZE).astype(np.uint8))
    stored_rgb = tuple(np.repeat(x[..., None], 3, 2) for x in (_smooth(rng, SIZE), _smooth(rng, SIZE)))
    colour = (rng.integers(0, 256, (*SIZE, 3)).astype(np.uint8), _smooth(rng, SIZE))
    floats = (_smooth(rng, SIZE) / 255.0, rng.integers(0, 256, (*SIZE, 3)).astype(np.uint8))
    return {"grey": grey, "grey stored as RGB": stored_rgb, "RGB and grey": colour, "floats": floats}


def _fused(rng, a, b):
    """Methods' results of a pair: a mean, a maximum, an RGB blend and noise."""
    fa = a.astype(np.float64) * (255.0 if a.dtype != np.uint8 else 1.0)
    fb = b.astype(np.float64) * (255.0 if b.dtype != np.uint8 else 1.0)
    fa, fb = (x.mean(axis=2) if x.ndim == 3 else x for x in (fa, fb))
    blend = np.round(0.7 * fa + 0.3 * fb).astype(np.uint8)
    return [np.round((fa + fb) / 2).astype(np.uint8), np.maximum(fa, fb).astype(np.uint8),
            np.repeat(blend[..., None], 3, 2), rng.integers(0, 256, (*SIZE, 3)).astype(np.uint8)]


def _same(x: float, y: float) -> bool:
    return x == y or (math.isnan(x) and math.isnan(y))


def test_scores_in_one_block_are_bit_identical_to_each_metric_alone(rng):
    """Every metric, every method of a few pairs: scored bench's way (one block per pair) and each alone."""
    for name, (a, b) in _pairs(rng).items():
        fused = _fused(rng, a, b)
        with shared_inputs(sources=True):  # as the bench's _scores: one block per pair, every method in it
            together = [compute_each(f, [a, b], list(METRICS)) for f in fused]
        for f, (values, skipped) in zip(fused, together):
            assert not skipped, (name, skipped)
            alone = {metric: spec.fn(f, a, b) for metric, spec in METRICS.items()}  # no block: nothing cached
            differ = {m: (values[m], alone[m]) for m in METRICS if not _same(values[m], alone[m])}
            assert not differ, (name, differ)


@pytest.fixture
def filter_calls(monkeypatch) -> list[str]:
    """The names of the counted filters (:data:`_COUNTED`) as they are called, from any metric module."""
    calls: list[str] = []
    for module in _MODULES:
        for name in _COUNTED:
            real = getattr(module, name, None)
            if real is None:
                continue

            def counted(*args, _real=real, _name=name, **kwargs):
                calls.append(_name)
                return _real(*args, **kwargs)

            monkeypatch.setattr(module, name, counted)
    return calls


@pytest.mark.parametrize("metric", SOURCE_WORK)
def test_a_sources_own_quantities_are_computed_once_per_block(metric, rng, filter_calls):
    a, b = _pairs(rng)["grey"]
    first, second = _fused(rng, a, b)[:2]
    with shared_inputs(sources=True):  # as the bench's: the sources never change in place
        compute_each(first, [a, b], [metric])
        on_first = len(filter_calls)
        compute_each(second, [a, b], [metric])
        on_second = len(filter_calls) - on_first
    assert on_first > 0 and on_second < on_first, (on_first, on_second)
    # never a global cache: nothing outlives the block (no other pair's values)
    assert _cache._CACHE.get() is None and _cache._SOURCES.get() is None
    filter_calls.clear()
    compute_each(second, [a, b], [metric])  # a block of its own: the sources' quantities computed again
    assert len(filter_calls) == on_first


def test_a_sources_cached_quantities_are_read_only_and_leave_its_array_writeable(rng):
    a, b = _pairs(rng)["grey"]
    with shared_inputs(sources=True):
        compute_each(_fused(rng, a, b)[0], [a, b], ["Qabf", "SSIM"])
        stack = metrics_package._channels.source_stack(metrics_package._channels._source_image(a, "a"), 1)
        edges = gradient._qabf_source_edges(stack)
    assert all(not x.flags.writeable for x in edges)
    assert a.flags.writeable and b.flags.writeable  # the caller's arrays as they were


def test_helpers_of_one_name_in_two_modules_are_cached_apart():
    """The cache key names a function by module and name: structural._moments is not mefb._moments."""
    calls = []

    def make(tag):
        def helper(x):
            calls.append(tag)
            return np.asarray(x) + len(tag)
        helper.__module__ = f"tests.{tag}"
        return _cache.cached(helper)

    first, second = make("one"), make("three")
    x = np.zeros(2)
    with shared_inputs():
        assert first(x).tolist() == [3.0, 3.0] and second(x).tolist() == [5.0, 5.0]
    assert calls == ["one", "three"]

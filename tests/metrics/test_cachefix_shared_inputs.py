"""What a ``shared_inputs`` block shares, and what it must not.

From a review: the sources' own quantities (edges, window statistics, levels, the checked source itself)
were kept by the source array's identity for a whole plain ``shared_inputs()`` block, so a loop refilling
one pair of source buffers in place per frame (as docs/metrics.md suggests the block for) scored every
frame by the first frame's sources (SSIM 0.0115 for 1.395 alone). A plain block now keeps them one call
long; ``shared_inputs(sources=True)``, the bench's, shares them between calls. ``@cached`` dropped keyword
arguments (``source_stack(s, 1, to_grey=...)`` raised TypeError); and fused_and_sources held a second
float64 copy of each fused image beside ``planes``'.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from defusion.metrics import DEFAULT_METRICS, METRICS, compute_each, compute_metrics, shared_inputs
from defusion.metrics import _cache, _channels
from defusion.metrics._channels import fused_and_sources, planes, source_stack, triplet
from defusion.metrics._matlab import rgb2gray, unrounded_gray

SIZE = (48, 48)  # large enough for every default metric but MS-SSIM (176 a side)
NAMES = [n for n in DEFAULT_METRICS if n != "MS-SSIM"]


def _frames(rng, count: int = 3, colour: bool = False) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(a, b, fused) per frame, each frame's sources unlike the last's."""
    shape = (*SIZE, 3) if colour else SIZE
    frames = []
    for _ in range(count):
        a, b = rng.integers(0, 256, shape, dtype=np.uint8), rng.integers(0, 256, SIZE, dtype=np.uint8)
        grey_a = a.mean(axis=2) if colour else a
        frames.append((a, b, ((grey_a.astype(int) + b) // 2).astype(np.uint8)))
    return frames


def _same(x: dict[str, float], y: dict[str, float]) -> bool:
    return x.keys() == y.keys() and all(x[k] == y[k] or (math.isnan(x[k]) and math.isnan(y[k])) for k in x)


@pytest.mark.parametrize("colour", [False, True], ids=["grey", "rgb_source"])
def test_source_buffers_refilled_in_place_in_a_plain_block_score_as_each_frame_alone(rng, colour):
    frames = _frames(rng, colour=colour)
    a, b = np.empty_like(frames[0][0]), np.empty_like(frames[0][1])  # one buffer per source, as a video reader's
    in_block = []
    with shared_inputs():
        for fa, fb, fused in frames:
            a[:], b[:] = fa, fb
            in_block.append(compute_metrics(fused, a, b, names=NAMES))
    alone = [compute_metrics(fused, fa, fb, names=NAMES) for fa, fb, fused in frames]
    for k, (got, want) in enumerate(zip(in_block, alone)):
        assert _same(got, want), (k, {n: (got[n], want[n]) for n in NAMES if got[n] != want[n]})


def test_metrics_called_directly_in_a_plain_block_read_refilled_sources_afresh(rng):
    frames = _frames(rng, 2)
    a, b = np.empty_like(frames[0][0]), np.empty_like(frames[0][1])
    with shared_inputs():
        for fa, fb, fused in frames:
            a[:], b[:] = fa, fb
            for name in ("SSIM", "Qabf", "MI", "MEF-SSIM"):
                assert METRICS[name].fn(fused, a, b) == METRICS[name].fn(fused, fa.copy(), fb.copy()), name


def test_a_sources_block_shares_the_sources_quantities_between_calls_and_a_plain_one_per_call(rng, sobel_passes):
    """Qabf's Sobel pass on each source: once per sources=True block (the bench's speed-up), once per call in a
    plain block (the call's own block still shares them between its metrics)."""
    calls = sobel_passes
    (a, b, _), = _frames(rng, 1)
    fused = [rng.integers(0, 256, SIZE, dtype=np.uint8) for _ in range(3)]

    def sobel_passes(block) -> int:
        calls.clear()
        with block:
            for f in fused:
                compute_each(f, [a, b], ["Qabf", "Nabf"])
        return len(calls)

    assert sobel_passes(shared_inputs(sources=True)) == 2 + 3  # each source once, each fused image once
    assert sobel_passes(shared_inputs()) == 3 * (2 + 1)  # per call: its two sources and its fused image
    assert _cache._SOURCES.get() is None and _cache._CACHE.get() is None  # nothing outlives a block


def test_blocks_nest_sharing_sources_only_where_one_says_so():
    x = np.arange(16, dtype=np.uint8).reshape(4, 4)
    with shared_inputs():
        assert _cache._SOURCES.get() is None  # a plain block keeps no source's quantities outside a call
        with shared_inputs(sources=True):
            outer = _cache._SOURCES.get()
            assert outer is not None
            with shared_inputs(), _cache.one_call():  # nested blocks and calls share the sources block's
                assert _cache._SOURCES.get() is outer
                stack = source_stack(x, 1)
            assert source_stack(x, 1) is stack
        assert _cache._SOURCES.get() is None


def test_cached_helpers_take_keyword_arguments_and_bind_defaults(rng):
    rgb = rng.integers(0, 256, (*SIZE, 3), dtype=np.uint8)
    want = np.broadcast_to(unrounded_gray(rgb)[None], (1, *SIZE))
    assert np.array_equal(source_stack(rgb, 1, to_grey=unrounded_gray), want)  # outside a block
    with shared_inputs(sources=True):
        by_keyword = source_stack(rgb, 1, to_grey=unrounded_gray)
        assert np.array_equal(by_keyword, want)
        assert source_stack(rgb, 1, unrounded_gray) is by_keyword  # one call, however it is spelled
        default = source_stack(rgb, 1)
        assert source_stack(rgb, 1, rgb2gray) is default and source_stack(rgb, channels=1) is default
        assert default is not by_keyword
        with pytest.raises(TypeError):
            source_stack(rgb, 1, colours=3)  # a wrong argument is refused as the function would refuse it


def test_the_fused_image_is_one_array_for_every_metric_scaled_once(rng):
    (a, b, _), = _frames(rng, 1, colour=True)
    fused = rng.integers(0, 256, (*SIZE, 3), dtype=np.uint8)
    with shared_inputs():
        F = planes(fused)
        assert triplet(fused, a, b)[0] is F and fused_and_sources(fused, a, b, to_grey=unrounded_gray)[0] is F
        dark = rng.random(SIZE) * 0.004  # a [0, 1] image under 1.5/255: once scaled by 255 twice
        assert np.allclose(fused_and_sources(dark, a[..., 0], b)[0][0], dark * 255)
        with pytest.raises(ValueError, match=r"^size mismatch \(W x H\): fused 48x48, a 48x48, b 40x48$"):
            _channels.fused_and_sources(fused, a, b[:, :40])

"""A fusion's memory beside the network's: its whole-image buffers. ``defusion fuse`` of a 6 MP JPEG pair
peaked at 1.2 GB plus 107-128 bytes per source pixel (cli/job_size.PEAK_MEMORY_FIT before), from full-size float
copies: two per uint8 source converted, HxWx3 YCbCr temporaries of every colour conversion, grey network
inputs stored three times, clipped copies of inputs already in [0, 1], the tiler's four projections summed
(and divided into a second set) where a fusion uses one or two, the float sources kept for a result that
returns the fused image alone. These hold the numpy-side peaks (tracemalloc sees NumPy's buffers, not
PyTorch's) under bounds, and the values the same as the whole-image computations gave."""

from __future__ import annotations

import gc
import tracemalloc
import weakref
from typing import Callable

import numpy as np
import pytest
import torch

from defusion.fusion import color, filters, tiling
from defusion.fusion.fuser import Fuser
from defusion.fusion.network_pass import project
from defusion.fusion.options import FuseOptions
from defusion.fusion.selection import decision_map, pair_weights
from defusion.model.registry import create_model

#: An image over BAND_PIXELS (two bands and more), small enough for a quick test.
HEIGHT, WIDTH = 600, 800
PIXELS = HEIGHT * WIDTH


def _peak(function: Callable[[], object]) -> float:
    """The most bytes of NumPy buffers (and other Python allocations) ``function`` held at once, per pixel
    of an HEIGHT x WIDTH image."""
    gc.collect()
    tracemalloc.start()
    try:
        function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / PIXELS


@pytest.fixture
def small_bands(monkeypatch):
    """Bands of a few rows: at this test's image size the default bands are a third of the image each."""
    monkeypatch.setattr(color, "BAND_PIXELS", 1 << 14)


@pytest.fixture(scope="module")
def rgb() -> np.ndarray:
    return np.random.default_rng(0).random((HEIGHT, WIDTH, 3), dtype=np.float32)


@pytest.fixture(scope="module")
def pair() -> tuple[np.ndarray, np.ndarray]:
    """Two 8-bit colour images, smooth enough that the network and the decision map see structure."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    base = np.stack([np.sin(x / 37) * np.cos(y / 23), np.cos(x / 19), np.sin((x + y) / 41)], axis=2)
    noise = np.random.default_rng(1).normal(0, 0.05, base.shape)
    a = np.clip((base * 0.35 + 0.4 + noise) * 255, 0, 255).astype(np.uint8)
    b = np.clip((base[::-1] * 0.3 + 0.6 + noise) * 255, 0, 255).astype(np.uint8)
    return a, b


def test_to_float_makes_one_float_copy():
    image = np.random.default_rng(2).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    floats = color.to_float(image)
    assert floats.dtype == np.float32 and np.array_equal(floats, image.astype(np.float32) / 255.0)
    assert _peak(lambda: color.to_float(image)) < 12 * 1.25  # the float32 result alone (was two: 24 B/px)
    sixteen = image.astype(np.uint16) * 257
    assert np.array_equal(color.to_float(sixteen), sixteen.astype(np.float32) / 65535)


def test_by_rows_gives_the_whole_image_values(rgb):
    assert np.array_equal(color.by_rows(color.rgb_to_ycbcr, rgb), color.rgb_to_ycbcr(rgb))
    assert np.array_equal(color.by_rows(color.rgb_to_ycbcr, rgb[:3]), color.rgb_to_ycbcr(rgb[:3]))  # one band
    empty = np.zeros((0, 5, 3), np.float32)
    assert color.by_rows(color.rgb_to_ycbcr, empty).shape == (0, 5, 3)
    assert color.from_float(np.array([0.0, 0.5, 1.0], np.float32), np.dtype(np.uint8)).tolist() == [0, 128, 255]


@pytest.mark.parametrize("band_pixels", [1 << 10, color.BAND_PIXELS])
def test_colour_conversions_keep_their_values_in_bands(rgb, band_pixels, monkeypatch):
    monkeypatch.setattr(color, "BAND_PIXELS", band_pixels)
    other = rgb[::-1, ::-1].copy()
    assert np.array_equal(color.luminance(rgb), color.rgb_to_ycbcr(rgb)[..., 0])
    colours = [color.rgb_to_ycbcr(s) for s in (rgb, other)]  # blend_chroma as one whole-image computation
    weights = [np.abs(c[..., 1:] - 0.5).sum(axis=2, keepdims=True) + 1e-3 for c in colours]
    whole = sum(w * c for w, c in zip(weights, colours)) / sum(weights)
    blended = color.blend_chroma([rgb, other])
    assert blended.dtype == np.float32 and np.array_equal(blended, whole)
    luma = rgb[..., 1]
    scale = np.clip(luma / np.maximum(blended[..., 0], 1e-3), 0.0, 1.0)[..., None]
    reference = color.ycbcr_to_rgb(np.dstack([luma, 0.5 + (blended[..., 1:] - 0.5) * scale]))
    assert np.array_equal(color.with_chroma(luma, blended), reference)
    assert np.array_equal(color.from_float(rgb, np.dtype(np.uint8)),
                          (np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8))


def test_colour_conversions_hold_no_whole_image_temporaries(rgb, small_bands):
    other = rgb[::-1, ::-1].copy()
    blended = color.blend_chroma([rgb, other])
    # results (B/px): luminance 4, blend_chroma 12, with_chroma 12, uint8 3; bands add under 1 B/px here.
    # Whole-image, they peaked at 24, 60, 48 and 15
    assert _peak(lambda: color.luminance(rgb)) < 4 + 3
    assert _peak(lambda: color.blend_chroma([rgb, other])) < 12 + 4
    assert _peak(lambda: color.with_chroma(rgb[..., 1], blended)) < 12 + 4
    assert _peak(lambda: color.from_float(rgb, np.dtype(np.uint8))) < 3 + 3


def test_luminance_lets_the_ycbcr_temporary_go():
    image = np.random.default_rng(3).random((20, 30, 3), dtype=np.float32)  # one band
    y = color.luminance(image)
    assert y.base is None and np.array_equal(y, color.rgb_to_ycbcr(image)[..., 0])  # no view of HxWx3


def test_grey_rgb_is_a_view_with_as_rgbs_values():
    grey = np.random.default_rng(4).random((5, 7), dtype=np.float32)
    view = color.grey_rgb(grey)
    assert np.shares_memory(view, grey) and not view.flags.writeable
    assert np.array_equal(view, color.as_rgb(grey))
    assert np.array_equal(view.mean(axis=2), color.as_rgb(grey).mean(axis=2))  # Prepared.finish's grey


def _old_guided_filter(guide: np.ndarray, src: np.ndarray, r: int, eps: float) -> np.ndarray:
    """guided_filter as it was, its four means from one 4-channel box filter."""
    stack = np.ascontiguousarray(np.stack([guide, src, guide * src, guide * guide], axis=2))
    mean_i, mean_p, corr_ip, corr_ii = np.moveaxis(filters._box(stack, r), 2, 0)
    a = (corr_ip - mean_i * mean_p) / (corr_ii - mean_i * mean_i + eps)
    b = mean_p - a * mean_i
    mean_ab = filters._box(np.ascontiguousarray(np.stack([a, b], axis=2)), r)
    return mean_ab[..., 0] * guide + mean_ab[..., 1]


def test_guided_filter_keeps_its_values_with_fewer_temporaries(rgb):
    guide, src = rgb[..., 0].copy(), (rgb[..., 1] > 0.5).astype(np.float32)
    assert np.array_equal(filters.guided_filter(guide, src, 4, 1e-3), _old_guided_filter(guide, src, 4, 1e-3))
    assert _peak(lambda: filters.guided_filter(guide, src, 4, 1e-3)) < 36  # was 56 B/px: two HxWx4 stacks


def test_decision_map_is_pair_weights_in_steps(rgb):
    a, b = rgb, rgb[::-1].copy()
    ua, ub = np.ascontiguousarray(rgb[:, ::-1]), rgb * 0.5
    guide = (a.mean(axis=2) + b.mean(axis=2)) / 2
    assert np.array_equal(pair_weights(ua, ub, a, b), decision_map(ua.mean(axis=2), ub.mean(axis=2), guide))


def test_run_tiled_divides_its_own_sums(monkeypatch):
    made: list[torch.Tensor] = []
    zeros = torch.zeros

    def recording_zeros(*args, **kwargs):
        made.append(zeros(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(torch, "zeros", recording_zeros)
    x = torch.rand(1, 3, 100, 150)
    outs = tiling.run_tiled(lambda a, b: [a, b * 0.5], x, x, (48, 80), 16)
    monkeypatch.undo()
    assert all(any(out is sums for sums in made) for out in outs)  # no second set made by dividing
    assert torch.allclose(outs[0], x) and torch.allclose(outs[1], x * 0.5)


class _Identity:
    """A network returning its inputs as its four projections (common, unique1, unique2, fused)."""

    def __call__(self, x1: torch.Tensor, x2: torch.Tensor, **gains: float) -> list[torch.Tensor]:
        return [(x1 + x2) / 2, x1, x2, (x1 + x2) / 2]


@pytest.mark.parametrize("options", [FuseOptions(scale=1, tile=128, overlap=16), FuseOptions(tile=0)])
def test_project_sums_only_the_projections_kept(options, monkeypatch):
    rng = np.random.default_rng(5)
    a, b = rng.random((200, 300, 3), dtype=np.float32), rng.random((200, 300, 3), dtype=np.float32)
    whole = project(_Identity(), options, torch.device("cpu"), False, a, b)
    made: list[tuple[int, ...]] = []
    zeros = torch.zeros

    def recording_zeros(*args, **kwargs):
        tensor = zeros(*args, **kwargs)
        made.append(tuple(tensor.shape))
        return tensor

    monkeypatch.setattr(torch, "zeros", recording_zeros)
    kept = project(_Identity(), options, torch.device("cpu"), False, a, b, keep=("fused",))
    monkeypatch.undo()
    assert kept.common is None and kept.unique1 is None and kept.unique2 is None
    assert np.array_equal(kept.fused, whole.fused)
    if options.tile:  # one projection summed over the tiles (and the weights), not four
        assert made == [(1, 1, 200, 300), (1, 3, 200, 300)]
    picked = project(_Identity(), options, torch.device("cpu"), False, a, b, keep=("unique2", "unique1"))
    assert np.array_equal(picked.unique1, whole.unique1) and np.array_equal(picked.unique2, whole.unique2)
    with pytest.raises(ValueError):
        project(_Identity(), options, torch.device("cpu"), False, a, b, keep=("fusion",))


def test_project_takes_a_grey_input_without_copying_it():
    grey = np.random.default_rng(6).random((40, 48), dtype=np.float32)
    seen: list[torch.Tensor] = []

    def network(x1: torch.Tensor, x2: torch.Tensor, **gains: float) -> list[torch.Tensor]:
        seen.append(x1)
        return [x1, x1, x2, x2]

    out = project(network, FuseOptions(scale=1, tile=0), torch.device("cpu"), False, color.grey_rgb(grey),
                  color.as_rgb(grey))
    assert seen[0].stride(1) == 0  # one plane seen as three
    if np.lib.NumpyVersion(np.__version__) >= "2.0.0":  # NumPy 1.x exports no read-only array: a plane's copy
        assert seen[0].data_ptr() == torch.from_numpy(grey).data_ptr()
    assert np.array_equal(out.common, color.as_rgb(grey)) and np.array_equal(out.unique2, color.as_rgb(grey))


class _Watching:
    """The tiny network, checking at each pass whether the float sources made so far are still alive."""

    def __init__(self) -> None:
        self.net = create_model("defusion-tiny").eval()
        self.sources: list[weakref.ref] = []
        self.alive_at_pass: list[int] = []

    def to(self, device: torch.device) -> "_Watching":
        return self

    def eval(self) -> "_Watching":
        return self

    def __call__(self, x1: torch.Tensor, x2: torch.Tensor, **gains: float):
        gc.collect()
        self.alive_at_pass.append(sum(ref() is not None for ref in self.sources))
        return self.net(x1, x2, **gains)


@pytest.mark.parametrize("pixels, kept", [("network", 0), ("sources", 2)])
def test_fuse_lets_the_float_sources_go_before_the_network(pair, monkeypatch, pixels, kept):
    watching = _Watching()
    to_float = color.to_float

    def watched(image: np.ndarray) -> np.ndarray:
        floats = to_float(image)
        watching.sources.append(weakref.ref(floats))
        return floats

    monkeypatch.setattr(color, "to_float", watched)
    fuser = Fuser(watching, options=FuseOptions(scale=1, tile=0, pixels=pixels))
    fused = fuser.fuse(*pair)
    assert watching.alive_at_pass == [kept]  # pixels="sources" weighs the sources' own pixels: kept
    watching.sources.clear(), watching.alive_at_pass.clear()
    result = fuser.fusion(*pair)
    assert watching.alive_at_pass == [2] and len(result.sources) == 2  # Fusion.sources returns them
    assert np.array_equal(result.fused, fused)


@pytest.mark.parametrize("fields, bound", [({}, 60), ({"pixels": "sources"}, 80), ({"order": "exposure"}, 60)])
def test_fuse_numpy_peak_per_pixel(pair, fields, bound, small_bands):
    """Before: 124 B/px (network pixels, either order) and 169 (pixels="sources") of NumPy buffers for a
    colour pair; now 47 and 61: the float sources, grey inputs and blended chroma (network), or the
    sources and the decision map's steps (pixels="sources")."""
    fuser = Fuser(create_model("defusion-tiny"), options=FuseOptions(scale=1, tile=256, overlap=16, **fields))
    fused = fuser.fuse(*pair)
    assert fused.shape == pair[0].shape and fused.dtype == np.uint8
    assert _peak(lambda: fuser.fuse(*pair)) < bound

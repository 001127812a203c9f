"""A stream of raw thermal frames keeps one stretch (audit: a hot object entering a corner darkened
an unchanged region from 125 to 68 grey levels in one frame, or switched the stretch off)."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from defusion.fusion.fuser import Fuser, FuseOptions
from defusion.fusion.stretch import FixedStretch, measure_stretch, stretch_sources
from defusion.fusion.video import fuse_videos
from defusion.fusion.video.steady_fuser import fixed_for_stream
from tests.conftest import smooth_image

H, W = 48, 64
#: The frame the hot object enters in, and where (a corner, far from the region compared).
ENTERS = 3
PATCH = (slice(H - 12, H), slice(W - 12, W))
REGION = (slice(0, H // 2), slice(0, W // 2))
#: Counts of a warm object (the range stays narrow) and a hot one (widens it past NARROW_SPAN).
WARM, HOT = 12_000, 40_000


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """One intra-op thread: the machine's few cores are shared (see tests/conftest.py)."""


def _thermal_stream(rng, n: int = 5, hot: int = WARM) -> list[np.ndarray]:
    """Raw 16-bit frames of a still scene (counts 7000..9000); an object of ``hot`` counts enters
    the corner in frame ENTERS."""
    scene = (7000 + 2000 * (smooth_image(rng, H, W, 1) / 255.0)).astype(np.uint16)
    frames = [scene.copy() for _ in range(n)]
    for frame in frames[ENTERS:]:
        frame[PATCH] = hot
    return frames


def _spread(fused: list[np.ndarray]) -> float:
    """Largest change, in 8-bit grey levels, of the unchanged region across the fused frames."""
    region = np.stack([f[REGION].astype(np.float64) / 257.0 for f in fused])
    return float((region.max(axis=0) - region.min(axis=0)).max())


@pytest.mark.parametrize("hot", [WARM, HOT])
def test_a_fixed_stretch_keeps_the_mapping_where_auto_changes_it(rng, hot):
    frames = _thermal_stream(rng, hot=hot)
    fixed = measure_stretch(frames[:1])
    assert fixed is not None and fixed.sources == (0,)
    floats = lambda frame, stretch: stretch_sources([frame], [frame / 65535.0], stretch)[0][0]  # noqa: E731
    auto = [floats(f, "auto")[REGION] for f in frames]
    kept = [floats(f, fixed)[REGION] for f in frames]
    assert np.abs(auto[ENTERS] - auto[0]).max() > 0.1  # the defect: per-frame mapping darkens the rest
    assert all(np.array_equal(k, kept[0]) for k in kept) and np.array_equal(kept[0], auto[0])


def test_a_fused_stream_with_a_fixed_stretch_stays_within_one_grey_level(rng, lively_weights):
    thermal, visible = _thermal_stream(rng), smooth_image(rng, H, W, 1)
    auto = Fuser.from_pretrained(lively_weights, device="cpu", runtime="torch", scale=1, tile=0)
    steady = replace(auto, options=replace(auto.options, stretch=measure_stretch([thermal[0], visible])))
    assert _spread([auto.fuse(t, visible) for t in thermal]) > 5  # per call: the region jumps
    assert _spread([steady.fuse(t, visible) for t in thermal]) <= 1.0
    assert np.array_equal(steady.fuse(thermal[0], visible), auto.fuse(thermal[0], visible))  # auto unchanged


def test_defusion_video_measures_the_stretch_on_the_first_frames(rng, tmp_path, lively_weights):
    thermal, visible = _thermal_stream(rng, hot=HOT), smooth_image(rng, H, W, 1)
    for name, frames in (("ir", thermal), ("vis", [visible] * len(thermal))):
        (tmp_path / name).mkdir()
        for i, frame in enumerate(frames):
            cv2.imwrite(str(tmp_path / name / f"f{i}.png"), frame)
    fuser = Fuser.from_pretrained(lively_weights, device="cpu", runtime="torch", scale=1, tile=0)
    result = fuse_videos(fuser, tmp_path / "ir", tmp_path / "vis", tmp_path / "out", progress=False)
    fused = [cv2.imread(str(path), cv2.IMREAD_UNCHANGED) for path in sorted((tmp_path / "out").glob("*.png"))]
    assert result.frames == len(thermal) and fused[0].dtype == np.uint16
    assert _spread(fused) <= 1.0
    assert np.array_equal(fused[0], fuser.fuse(thermal[0], visible))  # the first frame as fuse gives it


def test_a_fixed_stretch_is_checked():
    assert FuseOptions(stretch=FixedStretch((1,), 0.1, 0.2)).stretch.sources == (1,)
    for bad in (((), 0.1, 0.2), ((0,), 0.3, 0.2), ((0,), -0.1, 0.2), ((-1,), 0.1, 0.2), ((0, 0), 0.1, 0.2)):
        with pytest.raises(ValueError, match="fixed stretch"):
            FixedStretch(*bad)
    with pytest.raises(ValueError, match="unknown stretch"):
        FuseOptions(stretch="always")
    frame = np.full((8, 8), 7000, np.uint16)
    with pytest.raises(ValueError, match="maps source 2, but 1 images"):
        stretch_sources([frame], [frame / 65535.0], FixedStretch((1,), 0.1, 0.2))
    assert measure_stretch([frame, frame.astype(np.uint8)]) is None  # flat or 8-bit: nothing to stretch


def test_a_flat_first_frame_does_not_switch_the_stretch_off_for_the_stream(rng, tmp_path, lively_weights):
    """Measured on the first frame alone, a shutter (NUC) frame, flat, fixed "none" for every frame."""
    thermal, visible = _thermal_stream(rng, hot=HOT), smooth_image(rng, H, W, 1)
    thermal[0] = np.full((H, W), 7000, np.uint16)  # the camera's shutter closed for the first frame
    for name, frames in (("ir", thermal), ("vis", [visible] * len(thermal))):
        (tmp_path / name).mkdir()
        for i, frame in enumerate(frames):
            cv2.imwrite(str(tmp_path / name / f"f{i}.png"), frame)
    fuser = Fuser.from_pretrained(lively_weights, device="cpu", runtime="torch", scale=1, tile=0)
    fuse_videos(fuser, tmp_path / "ir", tmp_path / "vis", tmp_path / "out", progress=False)
    fused = [cv2.imread(str(path), cv2.IMREAD_UNCHANGED) for path in sorted((tmp_path / "out").glob("*.png"))]
    assert np.array_equal(fused[1], fuser.fuse(thermal[1], visible))  # the first raw frame, stretched as fuse does
    assert _spread(fused[1:]) <= 1.0  # and that stretch kept when the hot object enters


def _palette_spread(fused: list[np.ndarray]) -> float:
    """Largest change, in 8-bit levels of any channel, of the unchanged region across palette frames."""
    region = np.stack([f[REGION].astype(np.float64) / 257.0 for f in fused])
    return float((region.max(axis=0) - region.min(axis=0)).max())


def test_a_palettes_range_is_kept_for_a_stream(rng, lively_weights):
    """Audit: the palette's 1-99% range was measured per frame, so a hot object entering recoloured
    the unchanged background; FuseOptions.palette_range keeps one (Fuser.measure_palette)."""
    thermal, visible = _thermal_stream(rng, hot=HOT), smooth_image(rng, H, W)
    auto = Fuser.from_pretrained(lively_weights, device="cpu", runtime="torch", scale=1, tile=0, palette="inferno",
                                 stretch=measure_stretch([visible, thermal[0]]))
    span = auto.measure_palette(visible, thermal[0])
    steady = replace(auto, options=replace(auto.options, palette_range=span))
    assert _palette_spread([auto.fuse(visible, t) for t in thermal]) > 20  # per call: the background recoloured
    assert _palette_spread([steady.fuse(visible, t) for t in thermal]) <= 2.0  # the fusion's detail, drawn over it
    assert np.array_equal(steady.fuse(visible, thermal[0]), auto.fuse(visible, thermal[0]))  # the first: as fuse
    flat = np.full((H, W), 7000, np.uint16)  # a shutter frame spans nothing
    assert auto.measure_palette(visible, flat) is None
    for bad in ((0.5, 0.2), (0.1,), (-0.1, 0.5), (0.1, float("nan")), "hot"):
        with pytest.raises(ValueError, match="palette_range"):
            FuseOptions(palette_range=bad)
    assert FuseOptions(palette_range=[np.float32(0.25), 1]).palette_range == (0.25, 1.0)


def test_defusion_video_keeps_the_palettes_range_and_infrared_image(rng, tmp_path, lively_weights):
    thermal, visible = _thermal_stream(rng, hot=HOT), smooth_image(rng, H, W)
    thermal[0] = np.full((H, W), 7000, np.uint16)  # a shutter frame first: nothing to measure yet
    for name, frames in (("vis", [visible] * len(thermal)), ("ir", thermal)):
        (tmp_path / name).mkdir()
        for i, frame in enumerate(frames):
            cv2.imwrite(str(tmp_path / name / f"f{i}.png"), frame)
    fuser = Fuser.from_pretrained(lively_weights, device="cpu", runtime="torch", scale=1, tile=0, palette="inferno")
    seen = []
    fuse_videos(fuser, tmp_path / "vis", tmp_path / "ir", tmp_path / "out", progress=False,
                on_first=lambda paths, frames: seen.append((paths, len(frames))))
    assert seen == [([tmp_path / "vis", tmp_path / "ir"], 2)]
    fused = [cv2.imread(str(path), cv2.IMREAD_UNCHANGED) for path in sorted((tmp_path / "out").glob("*.png"))]
    bgr = visible[..., ::-1]  # cv2 wrote the RGB array as BGR
    assert np.array_equal(fused[1], fuser.fuse(bgr, thermal[1])[..., ::-1])  # the first raw frame, as fuse colours it
    assert _palette_spread(fused[1:]) <= 2.0  # and that range kept when the hot object enters
    per_frame = [fuser.fuse(bgr, t) for t in thermal[1:]]
    assert _palette_spread(per_frame) > 20
    steady = fixed_for_stream(fuser, fuser, [bgr, thermal[1]])  # what the video keeps from its first raw frame
    assert steady.options.infrared == 1 and isinstance(steady.options.stretch, FixedStretch)
    assert steady.options.palette_range == steady.measure_palette(bgr, thermal[1])


def test_a_shutter_frame_first_fixes_neither_the_stretch_nor_the_infrared_image(tiny_weights):
    """Two raw cameras whose thermal stream opens on a shutter (NUC) frame: fixed on it, the video
    would colour the visible camera and never stretch the thermal one (a review's finding)."""
    from defusion.fusion.fuser import Fuser
    from defusion.fusion.stretch import FixedStretch
    from defusion.fusion.video.steady_fuser import fixed_for_stream

    rng = np.random.default_rng(0)
    vis12 = (rng.random((48, 64)) * 4000).astype(np.uint16)
    ir = (7000 + rng.random((48, 64)) * 2000).astype(np.uint16)
    shutter = np.full((48, 64), 7400, np.uint16)
    fuser = Fuser.from_pretrained(tiny_weights, threads=1, palette="inferno")
    steady = fixed_for_stream(fuser, fuser, [vis12, shutter])
    assert steady.options.infrared is None and steady.options.stretch == "auto"
    steady = fixed_for_stream(fuser, steady, [vis12, ir])
    assert steady.options.infrared == 1 and isinstance(steady.options.stretch, FixedStretch)
    assert steady.options.stretch.sources == (0, 1)

"""A thermal video opening on a shutter (NUC) frame that carries a few counts of noise (audit: 8000 to
8002 counts) fixes neither its stretch nor its palette on it: the first frame with content does, as
for an exactly flat one; and fuse_videos says on which frame (``on_measured``)."""

from __future__ import annotations

import numpy as np
import pytest

from defusion.fusion.fuser import Fuser
from defusion.fusion.stretch import FixedStretch, measure_stretch
from defusion.fusion.video import fuse_videos
from defusion.fusion.video.steady_fuser import SHUTTER_SPAN, fixed_for_stream, holds_shutter_frame
from defusion.io.images import read_image, write_image
from tests.conftest import smooth_image

H, W = 48, 64
#: The audit's shutter frame: one value and 0-2 counts of noise.
SHUTTER, NOISE = 8000, 3


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """One intra-op thread: the machine's few cores are shared (see tests/conftest.py)."""


def _scene(rng) -> np.ndarray:
    """A raw thermal frame: counts 7000..9000."""
    return (7000 + 2000 * (smooth_image(rng, H, W, 1) / 255.0)).astype(np.uint16)


def _shutter(rng) -> np.ndarray:
    return (SHUTTER + rng.integers(0, NOISE, (H, W))).astype(np.uint16)


def test_a_noisy_shutter_frame_is_told_from_a_scene(rng):
    scene, shutter = _scene(rng), _shutter(rng)
    hot_pixel = shutter.copy()
    hot_pixel[3, 4], hot_pixel[5, 6] = 40_000, 0  # a hot and a dead pixel: still a shutter frame
    assert holds_shutter_frame([shutter]) and holds_shutter_frame([hot_pixel])
    assert holds_shutter_frame([scene, np.full((H, W), 7400, np.uint16)])  # exactly flat, as before
    assert not holds_shutter_frame([scene, smooth_image(rng, H, W)])
    low = (SHUTTER + rng.integers(0, round(2 * SHUTTER_SPAN * 65535), (H, W))).astype(np.uint16)
    assert not holds_shutter_frame([low])  # a band twice the bound: a (dull) scene
    dark = rng.integers(0, NOISE, (H, W)).astype(np.uint8)  # an 8-bit night frame: display values, kept
    assert not holds_shutter_frame([dark])


def test_a_noisy_shutter_frame_first_fixes_neither_stretch_nor_palette(rng, tiny_weights):
    visible, scene, shutter = smooth_image(rng, H, W), _scene(rng), _shutter(rng)
    fuser = Fuser.from_pretrained(tiny_weights, threads=1, palette="inferno")
    steady = fixed_for_stream(fuser, fuser, [visible, shutter])
    assert steady.options.stretch == "auto" and steady.options.palette_range is None
    assert steady.options.infrared is None
    steady = fixed_for_stream(fuser, steady, [visible, scene])
    assert steady.options.stretch == measure_stretch([visible, scene]) and steady.options.infrared == 1
    assert steady.options.palette_range == steady.measure_palette(visible, scene)
    assert fixed_for_stream(fuser, steady, [visible, shutter]) is steady  # fixed: a later shutter frame keeps it


def _folders(tmp_path, rng, first: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    visible = [smooth_image(rng, H, W)] * 4
    thermal = [first] + [_scene(rng) for _ in range(3)]
    for i, (vis, ir) in enumerate(zip(visible, thermal)):
        write_image(tmp_path / "vis" / f"frame{i}.png", vis)
        write_image(tmp_path / "ir" / f"frame{i}.png", ir)
    return visible, thermal


def test_fuse_videos_fixes_a_shutter_opened_stream_on_its_first_frame_with_content(rng, tmp_path, lively_weights):
    visible, thermal = _folders(tmp_path, rng, _shutter(rng))
    fuser = Fuser.from_pretrained(lively_weights, device="cpu", runtime="torch", scale=1, tile=0, palette="inferno")
    measured = []
    fuse_videos(fuser, tmp_path / "vis", tmp_path / "ir", tmp_path / "out", progress=False,
                on_measured=lambda paths, frames, index: measured.append((paths, index)))
    assert measured == [([tmp_path / "vis", tmp_path / "ir"], 1)]
    steady = fixed_for_stream(fuser, fuser, [visible[1], thermal[1]])  # what a clip opening on frame 1 keeps
    assert isinstance(steady.options.stretch, FixedStretch)
    fused = [read_image(tmp_path / "out" / f"frame_{i:06d}.png") for i in range(1, 4)]
    for frame, ir, vis in zip(fused, thermal[1:], visible[1:]):
        assert np.array_equal(frame, steady.fuse(vis, ir))  # not a two-level image of a 2-count band


def test_fuse_videos_says_the_first_frames_are_measured_on_where_no_shutter_frame_opens(rng, tmp_path, tiny_weights):
    _folders(tmp_path, rng, _scene(rng))
    fuser = Fuser.from_pretrained(tiny_weights, threads=1)
    measured = []
    fuse_videos(fuser, tmp_path / "ir", tmp_path / "vis", tmp_path / "out", progress=False,
                on_measured=lambda paths, frames, index: measured.append((len(frames), index)))
    assert measured == [(2, 0)]

"""Float frames (radiometric TIFFs in degrees) in `defusion video` keep one mapping for the stream
(audit: read each on its own, from its minimum to its maximum, a hot object entering the view
dimmed the background from 151 to 109 grey levels, while a raw 16-bit stream kept one mapping),
and `defusion video` says so once, as `defusion fuse` says it of its float sources."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import tifffile

from defusion.fusion.video import open_frames
from defusion.io.images import read_image
from tests.conftest import smooth_image
from tests.video.conftest import run_video_cli as _cli

H, W = 48, 64
#: Frames of the stream, and the one a hot object enters in (a corner, far from the region compared).
FRAMES, ENTERS = 4, 2
PATCH = (slice(H - 12, H), slice(W - 12, W))
REGION = (slice(0, H // 2), slice(0, W // 2))
#: The scene's temperatures (degrees) and the hot object's, far over them.
COOL, WARM, HOT = 18.0, 42.0, 120.0


def _scene(rng) -> np.ndarray:
    """A still scene in degrees, COOL to WARM."""
    return (COOL + (WARM - COOL) * smooth_image(rng, H, W, 1) / 255.0).astype(np.float32)


def _float_folder(path: Path, frames: list[np.ndarray]) -> Path:
    path.mkdir()
    for i, frame in enumerate(frames):
        tifffile.imwrite(path / f"f{i}.tif", frame)
    return path


def _hot_stream(rng) -> list[np.ndarray]:
    """The scene in every frame; the hot object in the corner from frame ENTERS."""
    scene = _scene(rng)
    frames = [scene.copy() for _ in range(FRAMES)]
    for frame in frames[ENTERS:]:
        frame[PATCH] = HOT
    return frames


def _spread(frames: list[np.ndarray]) -> float:
    """Largest change, in 8-bit grey levels, of the unchanged region across ``frames`` (16-bit)."""
    region = np.stack([f[REGION].astype(np.float64) / 257.0 for f in frames])
    return float((region.max(axis=0) - region.min(axis=0)).max())


def test_a_float_stream_is_read_by_the_first_frames_range(rng, tmp_path):
    folder = _float_folder(tmp_path / "ir", _hot_stream(rng))
    source = open_frames(folder)
    frames = list(source.frames())
    assert all(frame.dtype == np.uint16 for frame in frames)
    assert np.array_equal(frames[0], read_image(folder / "f0.tif"))  # the first as `defusion fuse` reads it
    assert _spread(frames) == 0  # the background keeps its level when the hot object enters
    assert (frames[ENTERS][PATCH] == 65535).all()  # hotter than the first frame: clipped at white
    values = read_image(folder / "f0.tif", floats="values")
    assert source.float_file == folder / "f0.tif"
    assert source.float_span == (float(values.min()), float(values.max()))


def test_a_flat_first_float_frame_fixes_no_range(rng, tmp_path):
    """A thermal camera's shutter frame tells no range: read as `defusion fuse` reads it (black),
    and the range is measured on the next frame."""
    stream = _hot_stream(rng)
    folder = _float_folder(tmp_path / "ir", [np.full((H, W), 30.0, np.float32), *stream])
    frames = list(open_frames(folder).frames())
    assert not frames[0].any()
    assert np.array_equal(frames[1], read_image(folder / "f1.tif"))
    assert _spread(frames[1:]) == 0


def test_float_frames_in_0_1_are_kept_as_they_are(rng, tmp_path):
    frames = [np.clip(_scene(rng) / 50.0, 0, 1) for _ in range(2)]
    folder = _float_folder(tmp_path / "ir", frames)
    source = open_frames(folder)
    read = list(source.frames())
    assert source.float_span == (0.0, 1.0)
    assert all(np.array_equal(r, read_image(folder / f"f{i}.tif")) for i, r in enumerate(read))


def test_defusion_video_keeps_the_background_of_a_float_stream_and_says_so_once(rng, tmp_path, lively_weights,
                                                                                capsys):
    infrared = _float_folder(tmp_path / "ir", _hot_stream(rng))
    visible = tmp_path / "vis"
    visible.mkdir()
    scene = smooth_image(rng, H, W, 1)
    for i in range(FRAMES):
        cv2.imwrite(str(visible / f"f{i}.png"), scene)
    status, err = _cli(capsys, infrared, visible, "-o", tmp_path / "out", "--weights", lively_weights,
                       "--device", "cpu", "--runtime", "torch", "--no-progress", "--tile", "0")
    assert status == 0, err
    fused = [cv2.imread(str(path), cv2.IMREAD_UNCHANGED) for path in sorted((tmp_path / "out").glob("*.png"))]
    assert len(fused) == FRAMES and _spread(fused) <= 1.0
    assert err.count("holds float values") == 1, err
    assert (f"defusion: note: {infrared / 'f0.tif'} holds float values" in err
            and f"every frame of {infrared} by that range" in err
            and "(--stretch does not apply to float frames)" in err), err

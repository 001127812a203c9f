"""A clip opening on a shutter (NUC) or blank frame: the inputs' order and the alignment and deghost
references are decided on the first pair with content, as the stretch and palette are (steady_fuser's
holds_shutter_frame), not on the flat frame; `defusion video` says on which frame it decided the order."""

from __future__ import annotations

import cv2
import numpy as np
from defusion.fusion.fuser import Fuser
from defusion.fusion.video import fuse_videos
from tests.conftest import smooth_image
from tests.video.conftest import run_video_cli as _cli
from tests.video.test_video import H, W, _spy, _write_folder

#: A blank frame opening the first input: one value, as a shutter frame (white: brighter than the
#: other input's first frame, where every later frame of it is darker).
BLANK = 255


def _clip(tmp_path, first=None) -> tuple:
    """Folders a (darker: gain 0.3) and b (gain 1) of one smooth scene, 4 frames, a's first ``first``."""
    scene = smooth_image(np.random.default_rng(3), H, W).astype(float)
    dark = [np.clip(scene * 0.3, 0, 255).astype(np.uint8)] * 4
    if first is not None:
        dark[0] = np.full((H, W, 3), first, np.uint8)
    tmp_path.mkdir(exist_ok=True)
    return _write_folder(tmp_path / "a", dark), _write_folder(tmp_path / "b", [scene.astype(np.uint8)] * 4)


def _read(path) -> np.ndarray:
    return cv2.imread(str(path))


def test_a_sorted_order_is_decided_on_the_first_pair_with_content(tmp_path, tiny_weights):
    a, b = _clip(tmp_path, first=BLANK)
    mef = Fuser.from_pretrained(tiny_weights, device="cpu", runtime="torch", task="mef", scale=1)
    given = Fuser.from_pretrained(tiny_weights, device="cpu", runtime="torch", task="mef", scale=1, order="given")
    measured = []
    fuse_videos(mef, a, b, tmp_path / "mef", progress=False,
                on_measured=lambda paths, frames, index: measured.append((paths, index)))
    fuse_videos(given, a, b, tmp_path / "given", progress=False)  # a (the darker once it has content) first
    assert measured == [([a, b], 1)]
    for i in range(1, 4):
        name = f"frame_{i:06d}.png"
        assert np.array_equal(_read(tmp_path / "mef" / name), _read(tmp_path / "given" / name)), name
    fa, fb = (_read(folder / "f1.png")[..., ::-1] for folder in (a, b))
    assert not np.array_equal(mef.fuse(fa, fb), given.fuse(fb, fa))  # the blank frame's order would differ


def test_deghosts_reference_is_decided_on_the_first_pair_with_content(tmp_path, tiny_weights, monkeypatch):
    a, b = _clip(tmp_path, first=128)  # mid-grey: the best exposed, were a blank frame a picture
    fuser = Fuser.from_pretrained(tiny_weights, device="cpu", runtime="torch", scale=1, deghost=True)
    seen = _spy(monkeypatch, "deghost")
    fuse_videos(fuser, a, b, tmp_path / "out", progress=False)
    assert seen[-3:] == [1] * 3, repr(seen)  # b, the best exposed once a has content


def test_the_video_says_on_which_frame_the_order_was_decided(tmp_path, tiny_weights, capsys):
    args = ("--weights", tiny_weights, "--device", "cpu", "--no-progress", "--scale", 1, "--task", "mef")
    a, b = _clip(tmp_path / "blank", first=BLANK)
    status, err = _cli(capsys, a, b, "-o", tmp_path / "out", *args)
    assert status == 0, err
    assert (f"defusion: note: the inputs' order ({a} first) decided on frame 1, the first with content, and kept for "
            "the whole video: the frames before it hold (nearly) one value, as a thermal camera's shutter (NUC) frame "
            "does, and were each fused as it came") in err.splitlines()
    a, b = _clip(tmp_path / "content")
    status, err = _cli(capsys, a, b, "-o", tmp_path / "out2", *args)
    assert status == 0 and "decided on frame" not in err, err
    a, b = _clip(tmp_path / "ivf", first=BLANK)  # the order given at ivf's defaults: nothing decided, nothing said
    status, err = _cli(capsys, a, b, "-o", tmp_path / "out3", *args[:-2])
    assert status == 0 and "decided on frame" not in err, err

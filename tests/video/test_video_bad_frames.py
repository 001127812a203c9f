"""A frame that cannot be fused mid-clip (a truncated PNG, a frame of another size) no longer stops
`defusion video`: the pair is skipped and said in one line (the first SHOWN_BAD_PAIRS, then once), a
video repeats the frame fused before it, a folder leaves its file out, the last line counts them and
the exit status is 1, as `defusion fuse`'s folder runs; a run of frames of another size (a camera
change) stops the run, keeping what was fused."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from defusion.cli.video import _frame_files
from defusion.fusion.fuser import Fuser
from defusion.fusion.video import fuse_videos
from defusion.fusion.video.bad_pairs import SHOWN_BAD_PAIRS, SIZE_CHANGE_RUN
from defusion.fusion.video.sinks import VideoSink
from tests.video.conftest import run_video_cli as _cli
from tests.video.test_video import H, W, _frames, _read_video, _write_folder


@pytest.fixture
def fuser(tiny_weights) -> Fuser:
    return Fuser.from_pretrained(tiny_weights, device="cpu", scale=1)


def _truncate(path) -> None:
    """Cut ``path`` (a PNG) in half, as a copy or a recording stopped midway leaves it."""
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def _names(folder) -> list[str]:
    return sorted(p.name for p in folder.glob("frame_*.png"))


def _pixels(path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)


def test_a_truncated_frame_is_skipped_and_the_rest_fused(tmp_path, tiny_weights, capsys):
    a = _write_folder(tmp_path / "a", _frames(6, 0))
    b = _write_folder(tmp_path / "b", _frames(6, 1))
    args = ("--weights", tiny_weights, "--device", "cpu", "--no-progress", "--scale", 1)
    status, err = _cli(capsys, a, b, "-o", tmp_path / "whole", *args)  # the clip as it was recorded
    assert status == 0, err
    _truncate(a / "f2.png")
    status, err = _cli(capsys, a, b, "-o", tmp_path / "out", *args)
    warning, last = err.splitlines()
    assert status == 1
    assert warning.startswith(f"defusion: warning: skipped frame 2 (frame_000002.png left out of {tmp_path / 'out'}): "
                              f"{a / 'f2.png'}: cannot decode") and "truncated" in warning
    assert last.startswith("fused 5 frames in") and last.endswith(
        "could not fuse 1 pair (frame 2: see the warnings above), their frames left out")
    assert _names(tmp_path / "out") == [f"frame_{i:06d}.png" for i in (0, 1, 3, 4, 5)]  # numbers kept
    for name in _names(tmp_path / "out"):  # the frames after it as the whole clip's
        assert np.array_equal(_pixels(tmp_path / "out" / name), _pixels(tmp_path / "whole" / name)), name


def test_a_video_keeps_its_timing_and_its_fused_frames(tmp_path, tiny_weights, capsys):
    a = _write_folder(tmp_path / "a", _frames(6, 0))
    b = _write_folder(tmp_path / "b", _frames(6, 1))
    _truncate(b / "f4.png")
    out = tmp_path / "fused.mp4"
    status, err = _cli(capsys, a, b, "-o", out, "--weights", tiny_weights, "--device", "cpu", "--no-progress",
                       "--scale", 1)
    assert status == 1 and "skipped frame 4 (the frame fused before it repeated in its place): " in err
    assert "each replaced by the frame fused before it" in err.splitlines()[-1]
    assert _read_video(out)[:2] == (6, (H, W)) and not list(tmp_path.glob(".*partial*"))


def test_a_video_sink_repeats_the_frame_before_one_left_out(tmp_path):
    def levels(path) -> list[int]:
        """Each frame's level, 50 or 200 (the codec moves them a few levels)."""
        cap, found = cv2.VideoCapture(str(path)), []
        while (got := cap.read())[0]:
            found.append(50 if got[1].mean() < 125 else 200)
        cap.release()
        return found

    for cut, expected in ((False, [50, 50, 50, 200, 200]), (True, [50, 50, 50, 200])):
        sink = VideoSink(tmp_path / f"cut{cut}.mp4", 10.0)
        for step in (50, None, None, 200, None):
            sink.leave_out() if step is None else sink.write(np.full((H, W, 3), step, np.uint8))
        sink.finish(cut=cut)  # cut: a run stopped there ends on its last fused frame
        assert levels(tmp_path / f"cut{cut}.mp4") == expected


def test_lines_are_bounded_and_every_bad_pair_counted(tmp_path, fuser):
    count = SHOWN_BAD_PAIRS + 5
    a = _write_folder(tmp_path / "a", _frames(count + 2, 0, h=8, w=8))
    b = _write_folder(tmp_path / "b", _frames(count + 2, 1, h=8, w=8))
    for i in range(1, count + 1):
        (a / f"f{i}.png").write_bytes(b"")  # an empty file: a frame the recorder never wrote
    warnings: list[str] = []
    result = fuse_videos(fuser, a, b, tmp_path / "out", progress=False, warn=warnings.append)
    assert result.frames == 2 and result.failed == tuple(range(1, count + 1))
    assert len(warnings) == SHOWN_BAD_PAIRS + 1 and "empty file (0 bytes)" in warnings[0]
    assert warnings[-1] == (f"skipped frame {SHOWN_BAD_PAIRS + 1} too, and any more that cannot be fused without a "
                            f"line each ({SHOWN_BAD_PAIRS} said above): the last line counts them")


def test_frames_of_another_size_from_some_frame_on_stop_the_run(tmp_path, tiny_weights, capsys):
    """A camera change: not a stray frame, so not skipped to the end of the clip; what was fused is kept."""
    changed = 3
    frames = _frames(changed, 1) + _frames(SIZE_CHANGE_RUN + 2, 1, h=H + 16, w=W + 16)
    a = _write_folder(tmp_path / "a", _frames(len(frames), 0))
    b = _write_folder(tmp_path / "b", frames)
    for out in (tmp_path / "frames", tmp_path / "fused.mp4"):
        status, err = _cli(capsys, a, b, "-o", out, "--weights", tiny_weights, "--device", "cpu", "--no-progress",
                           "--scale", 1)
        lines = err.splitlines()
        assert status == 2 and len(lines) == SIZE_CHANGE_RUN + 1, err
        assert lines[-1] == (f"defusion: error: stopped at frame {changed}: {SIZE_CHANGE_RUN} pairs in a row from it "
                             "on hold a frame of another size than its input's first (see the lines above): another "
                             f"camera, or another camera mode? {changed} frames fused before it kept in {out}; fuse "
                             f"the frames from {changed} on as a clip of their own")
    assert _names(tmp_path / "frames") == [f"frame_{i:06d}.png" for i in range(changed)]
    assert _read_video(tmp_path / "fused.mp4")[:2] == (changed, (H, W))  # ends on its last fused frame


def test_a_left_out_frame_is_fused_by_skip_existing_once_repaired(tmp_path, fuser):
    a = _write_folder(tmp_path / "a", _frames(5, 0))
    b = _write_folder(tmp_path / "b", _frames(5, 1))
    whole = fuse_videos(fuser, a, b, tmp_path / "whole", progress=False)
    shutil.copy(a / "f2.png", tmp_path / "f2.png")
    _truncate(a / "f2.png")
    out = tmp_path / "out"
    out.mkdir()
    (out / "frame_000002.png").write_bytes(b"an earlier run's")
    result = fuse_videos(fuser, a, b, out, progress=False, warn=lambda said: None)
    assert (result.frames, result.failed) == (4, (2,)) and _names(out) == _names(tmp_path / "whole")[:2] + [
        "frame_000003.png", "frame_000004.png"]  # the earlier run's frame 2 removed: the folder holds this run's
    assert list(_frame_files(out)) == _names(out)  # the gap does not end the frames an interrupt counts
    shutil.copy(tmp_path / "f2.png", a / "f2.png")
    result = fuse_videos(fuser, a, b, out, progress=False, skip_existing=True)
    assert (result.frames, result.skipped, result.failed, whole.frames) == (1, 4, (), 5)
    for name in _names(tmp_path / "whole"):
        assert np.array_equal(_pixels(out / name), _pixels(tmp_path / "whole" / name)), name


def test_a_bad_pair_before_a_kept_frame_is_kept_as_it_is(tmp_path, fuser):
    """With skip_existing, a frame already fused stays whatever its sources have become since."""
    a = _write_folder(tmp_path / "a", _frames(4, 0))
    b = _write_folder(tmp_path / "b", _frames(4, 1))
    fuse_videos(fuser, a, b, tmp_path / "out", progress=False)
    before = (tmp_path / "out" / "frame_000001.png").read_bytes()
    _truncate(b / "f1.png")
    result = fuse_videos(fuser, a, b, tmp_path / "out", progress=False, skip_existing=True)
    assert (result.frames, result.skipped, result.failed) == (0, 4, ())
    assert (tmp_path / "out" / "frame_000001.png").read_bytes() == before


def test_a_lone_bad_pair_is_no_camera_change(tmp_path, fuser):
    """Frames of another size with fused pairs between them never add up to a stop."""
    frames = _frames(2 * SIZE_CHANGE_RUN, 1)
    for i in range(1, len(frames), 2):
        frames[i] = _frames(1, 1, h=H + 16, w=W + 16)[0]
    a = _write_folder(tmp_path / "a", _frames(len(frames), 0))
    b = _write_folder(tmp_path / "b", frames)
    result = fuse_videos(fuser, a, b, tmp_path / "out", progress=False, warn=lambda said: None)
    assert result.failed == tuple(range(1, len(frames), 2)) and result.frames == SIZE_CHANGE_RUN


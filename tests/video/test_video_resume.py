"""What a stopped video fusion leaves, and going on from it: a video's hidden partial file that an
earlier run left (killed, or stopped during its cleanup) is removed when the next run of the same output
starts; a frame folder's frames are kept with ``skip_existing``."""

from __future__ import annotations

import numpy as np
import pytest

from defusion.fusion.fuser import Fuser
from defusion.fusion.video import VideoError, fuse_videos
from defusion.fusion.video.sinks import FrameSink, VideoSink, partial_path
from tests.video.test_video import _frames, _read_video, _write_folder


@pytest.fixture
def folders(tmp_path):
    return _write_folder(tmp_path / "a", _frames(4, 0)), _write_folder(tmp_path / "b", _frames(4, 1))


@pytest.fixture
def fuser(tiny_weights) -> Fuser:
    return Fuser.from_pretrained(tiny_weights, device="cpu", scale=1)


def test_an_earlier_runs_partial_video_is_removed_and_said(tmp_path, folders, fuser):
    out = tmp_path / "fused.mp4"
    left = partial_path(out)
    left.write_bytes(b"\0" * 44)  # what a killed run left: a header, no frame
    other = tmp_path / ".fused.partial.avi"  # another output's: not this run's to remove
    other.write_bytes(b"\0" * 44)
    warnings: list[str] = []
    result = fuse_videos(fuser, *folders, out, progress=False, warn=warnings.append)
    assert warnings == [f"removed {left}, the unfinished video an earlier run of -o {out} left (stopped before it was "
                        "complete)"]
    assert result.frames == 4 and _read_video(out)[0] == 4
    assert not left.exists() and other.exists()


def test_a_sink_with_no_partial_file_says_nothing(tmp_path):
    warnings: list[str] = []
    VideoSink(tmp_path / "v.mp4", 10.0, warnings.append).abort()
    assert warnings == [] and list(tmp_path.iterdir()) == []


def test_skip_existing_keeps_the_frames_there_and_counts_them(tmp_path, folders, fuser):
    whole = fuse_videos(fuser, *folders, tmp_path / "whole", progress=False)
    out = tmp_path / "out"
    out.mkdir()
    for name in ("frame_000000.png", "frame_000002.png"):  # frames kept, even with a gap between them
        (out / name).write_bytes(b"kept")
    result = fuse_videos(fuser, *folders, out, progress=False, skip_existing=True)
    assert (whole.frames, whole.skipped) == (4, 0) and (result.frames, result.skipped) == (2, 2)
    assert (out / "frame_000000.png").read_bytes() == b"kept" == (out / "frame_000002.png").read_bytes()
    for name in ("frame_000001.png", "frame_000003.png"):
        assert (out / name).read_bytes() == (tmp_path / "whole" / name).read_bytes()


def test_without_skip_existing_every_frame_is_fused_again(tmp_path, folders, fuser):
    out = tmp_path / "out"
    out.mkdir()
    (out / "frame_000000.png").write_bytes(b"old")
    result = fuse_videos(fuser, *folders, out, progress=False)
    assert (result.frames, result.skipped) == (4, 0) and (out / "frame_000000.png").read_bytes() != b"old"


def test_skip_existing_is_refused_for_a_video_file(tmp_path, folders, fuser):
    with pytest.raises(VideoError, match="a video is written only once complete"):
        fuse_videos(fuser, *folders, tmp_path / "fused.mp4", progress=False, skip_existing=True)
    assert not (tmp_path / "fused.mp4").exists()


def test_a_frame_sink_keeps_only_the_frames_there_when_it_started(tmp_path):
    (tmp_path / "frame_000001.png").write_bytes(b"kept")
    (tmp_path / "frame_1.png").write_bytes(b"not a frame's name")
    sink = FrameSink(tmp_path, print, skip_existing=True)
    there = []
    for _ in range(3):
        there.append(sink.already_there())
        if there[-1]:
            sink.skip()
        else:
            sink.write(np.zeros((4, 4), np.uint8))
    assert there == [False, True, False]
    assert (tmp_path / "frame_000001.png").read_bytes() == b"kept"
    assert not FrameSink(tmp_path, print).already_there()  # without skip_existing, nothing is kept

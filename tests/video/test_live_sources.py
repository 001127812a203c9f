"""Live inputs of `fuse_videos` (a stream URL, a capture device, ``cam:N``): how they are told from files,
opened (a ``file://`` URL as the file it names; fake cameras through the ``open_capture`` seam), fused until they end,
``max_frames`` or Ctrl-C (the output then finished, playable), and refused in one line where they cannot
be opened."""

from __future__ import annotations

import re
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from defusion.fusion.fuser import Fuser
from defusion.fusion.video import VideoError, VideoInterrupted, fuse_videos, open_frames
from defusion.fusion.video import live
from defusion.fusion.video.live import OPEN_TIMEOUT_S, LiveSource, cannot_open, live_spec
from defusion.fusion.video.sinks import partial_path
from tests.conftest import free_port
from tests.video.test_video import _frames, _read_video, _write_video


#: Seconds a fake camera that keeps pace waits for the fusion to ask for a frame before it ends its stream:
#: far over any test's fusion of one pair, so that only a test that never asks again meets it.
PACE_WAIT_S = 60


class FakeCapture:
    """A camera as cv2.VideoCapture shows it: ``frames`` (BGR) one per read, then reads fail (the stream
    ended); ``endless`` repeats them forever; ``on_read(n)`` is called on the n-th read (from 1).

    Read by a :class:`~defusion.fusion.video.live.NewestFrameReader` (a camera, a real-time stream), it sends
    each frame when the fusion asks for one (``wanted``), as a camera whose pace the fusion keeps up with:
    every frame is fused, in order, none skipped (a read answered at once would skip all but the newest,
    as a camera far faster than the fusion); ``keeps_pace=False`` answers at once."""

    def __init__(self, frames: list[np.ndarray], fps: float = 30.0, endless: bool = False, on_read=None,
                 opened: bool = True, keeps_pace: bool = True) -> None:
        self.frames, self.fps, self.endless, self.on_read, self.opened = frames, fps, endless, on_read, opened
        self.keeps_pace = keeps_pace
        self.reads, self.released = 0, False

    def isOpened(self) -> bool:
        return self.opened

    def read(self):
        reader = threading.current_thread()
        if self.keeps_pace and isinstance(reader, live.NewestFrameReader):
            asked = reader.wanted.wait(PACE_WAIT_S)
            reader.wanted.clear()  # one frame per demand
            if not asked or reader.stopping.is_set():
                return False, None
        self.reads += 1
        if self.on_read is not None:
            self.on_read(self.reads)
        index = self.reads - 1
        if self.endless:
            index %= len(self.frames)
        if index >= len(self.frames):
            return False, None
        return True, self.frames[index].copy()

    def get(self, prop: int) -> float:
        return self.fps if prop == cv2.CAP_PROP_FPS else 0.0

    def release(self) -> None:
        self.released = True


@pytest.fixture
def cameras(monkeypatch) -> dict[object, FakeCapture]:
    """Fake cameras by what OpenCV would open (an index, a device path, a URL): put one in the dict."""
    plugged: dict[object, FakeCapture] = {}

    def open_capture(spec):
        return plugged.get(spec.target, FakeCapture([], opened=False))

    monkeypatch.setattr(live, "open_capture", open_capture)
    return plugged


@pytest.fixture
def fuser(tiny_weights, one_torch_thread) -> Fuser:
    return Fuser.from_pretrained(tiny_weights, device="cpu", scale=1)


# -- how an input is told to be live ------------------------------------------------------------
@pytest.mark.parametrize("url", ["rtsp://127.0.0.1:8554/cam", "rtsps://cam.local/live", "http://10.0.0.7/video.mjpg",
                                 "https://example.org/a.m3u8", "udp://@:5000", "srt://host:9000"])
def test_anything_written_scheme_colon_slash_slash_is_a_url_kept_as_written(url):
    spec = live_spec(url)
    assert (spec.kind, spec.target, spec.name) == ("url", url, url)


def test_a_camera_is_written_cam_n_and_a_device_by_its_path():
    assert live_spec("cam:0")[:2] == ("index", 0) and live_spec("cam:12")[:2] == ("index", 12)
    assert live_spec("/dev/video3")[:2] == ("device", "/dev/video3")  # not there: still a camera (unplugged)
    if sys.platform.startswith("linux"):
        assert live_spec("/dev/null")[:2] == ("device", "/dev/null")  # any character device
        assert live_spec(Path("/dev/video3"))[:2] == ("device", "/dev/video3")


@pytest.mark.parametrize("text", ["0", "1", "clip.mp4", "frames/", "./cam:0", "C://clips/a.mp4", "C:\\clips\\a.mp4",
                                  "rtsp:/folded.mp4", "/dev/videos", "camera:0"])
def test_files_and_folders_are_not_live(text):
    assert live_spec(text) is None


@pytest.mark.parametrize("text", ["cam:", "cam:x", "cam:-1", "cam:0.5"])
def test_a_cam_without_an_index_says_how_to_write_one(text):
    with pytest.raises(VideoError) as caught:
        live_spec(text)
    assert str(caught.value) == (f"{text}: a camera is written cam:N, N its index from 0 (cam:0 the first); "
                                 f"a file so named is ./{text}")


def test_a_urls_password_is_not_said():
    spec = live_spec("rtsp://admin:s3cret@10.0.0.7:554/Streaming/101")
    assert spec.target == "rtsp://admin:s3cret@10.0.0.7:554/Streaming/101"  # opened as written
    assert spec.name == "rtsp://admin:***@10.0.0.7:554/Streaming/101" and spec.name.name == spec.name
    assert live_spec("rtsp://admin@host/x").name == "rtsp://admin@host/x"


# -- opening --------------------------------------------------------------------------------------
def test_a_file_url_opens_as_the_file_it_names(tmp_path):
    clip = _write_video(tmp_path / "clip.mp4", _frames(5, 0), fps=12.0)
    source = open_frames(clip.as_uri())
    try:
        assert not isinstance(source, LiveSource) and not source.live  # a file waits for the fusion
        assert source.path == clip
        assert (source.count, source.size, source.fps) == (5, (64, 48), 12.0)
        assert len(list(source.frames())) == 5
    finally:
        source.close()


def test_a_closed_port_fails_fast_in_one_line_naming_the_url():
    url = f"rtsp://127.0.0.1:{free_port()}/cam"
    start = time.monotonic()
    with pytest.raises(VideoError) as caught:
        open_frames(url)
    assert time.monotonic() - start < OPEN_TIMEOUT_S
    message = str(caught.value)
    assert message.startswith(f"{url}: cannot open the stream: is the URL right, and its server reachable from here")
    assert "\n" not in message


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="device files and the video group are Linux's")
def test_a_camera_that_cannot_be_opened_says_what_to_check(tmp_path, monkeypatch, cameras):
    with pytest.raises(VideoError) as caught:  # no camera plugged in (the fixture's), no /dev/video97
        open_frames("/dev/video97")
    assert str(caught.value) == ("/dev/video97: cannot open the camera: no /dev/video97; is the camera plugged in? "
                                 "(ls /dev/video* lists the capture devices present)")
    assert cannot_open(live_spec("cam:97")).startswith("cam:97: cannot open the camera: no /dev/video97;")
    device = tmp_path / "video0"  # there, but not ours to open
    device.write_bytes(b"")
    monkeypatch.setattr(live.os, "access", lambda path, mode: False)  # (root may open anything)
    said = cannot_open(live.LiveSpec("device", str(device), live.LiveName(str(device))))
    assert said == (f"{device}: cannot open the camera: permission denied on {device}; add yourself to its group, "
                    "video on most systems (sudo usermod -aG video $USER, then log in again)")


def test_a_camera_that_opens_but_sends_nothing_is_said(cameras):
    cameras[0] = FakeCapture([])
    with pytest.raises(VideoError, match=r"^cam:0: opened, but it sent no frame") as caught:
        open_frames("cam:0")
    assert cameras[0].released and "\n" not in str(caught.value)


# -- fusing ---------------------------------------------------------------------------------------
def test_two_live_sources_are_fused_as_they_come_until_one_ends(tmp_path, fuser, cameras):
    cameras[0] = FakeCapture(_frames(6, 0), fps=9.0)
    cameras[1] = FakeCapture(_frames(4, 1), fps=9.0)
    warnings: list[str] = []
    out = tmp_path / "rig.mp4"
    result = fuse_videos(fuser, "cam:0", "cam:1", out, progress=False, warn=warnings.append)
    assert result.frames == 4 and _read_video(out)[0] == 4 and _read_video(out)[2] == pytest.approx(9.0)
    assert warnings[0] == ("cam:1 stopped sending frames (the stream ended or stalled) after 4 frames, before the "
                           "other input; fused the first 4")
    assert cameras[0].released and cameras[1].released


def test_max_frames_stops_an_endless_stream(tmp_path, fuser, cameras):
    cameras[0] = FakeCapture(_frames(3, 0), endless=True)
    cameras["/dev/video5"] = FakeCapture(_frames(3, 1), endless=True)
    result = fuse_videos(fuser, "cam:0", "/dev/video5", tmp_path / "frames", max_frames=7, progress=False)
    assert result.frames == 7 and len(list((tmp_path / "frames").glob("frame_*.png"))) == 7
    assert cameras[0].reads == 7  # none read past the last fused


@pytest.mark.parametrize("name", ["fused.mp4", "frames"])
def test_ctrl_c_mid_stream_finishes_the_output_with_the_frames_fused(tmp_path, fuser, cameras, name):
    def stop(reads: int) -> None:
        if reads == 5:  # Ctrl-C while the stream sends its fifth frame: four fused
            raise KeyboardInterrupt

    cameras[0] = FakeCapture(_frames(3, 0), endless=True, on_read=stop)
    cameras[1] = FakeCapture(_frames(3, 1), endless=True)
    out = tmp_path / name
    with pytest.raises(VideoInterrupted) as caught:
        fuse_videos(fuser, "cam:0", "cam:1", out, progress=False, warn=lambda said: None)
    assert (caught.value.frames, caught.value.kept) == (4, out) and caught.value.seconds > 0
    if name == "fused.mp4":
        assert _read_video(out)[:2] == (4, (48, 64)) and not partial_path(out).exists()  # playable, in place
    else:
        assert sorted(p.name for p in out.iterdir()) == [f"frame_{i:06d}.png" for i in range(4)]
    assert cameras[0].released and cameras[1].released


def test_ctrl_c_while_a_source_opens_leaves_nothing_open_nor_written(tmp_path, fuser, cameras):
    def stop(reads: int) -> None:
        raise KeyboardInterrupt  # while the second camera sends its first frame (opening can take seconds)

    cameras[0] = FakeCapture(_frames(3, 0), endless=True)
    cameras[1] = FakeCapture(_frames(3, 1), endless=True, on_read=stop)
    with pytest.raises(KeyboardInterrupt):
        fuse_videos(fuser, "cam:0", "cam:1", tmp_path / "fused.mp4", progress=False)
    assert cameras[0].released and cameras[1].released
    assert list(tmp_path.iterdir()) == []


def test_skip_existing_is_refused_with_a_live_input(tmp_path, fuser, cameras):
    with pytest.raises(VideoError, match="a live input .* cannot be rewound"):
        fuse_videos(fuser, "cam:0", "cam:1", tmp_path / "frames", skip_existing=True, progress=False)


def test_a_fusion_slower_than_the_stream_says_the_video_plays_faster(tmp_path, fuser, cameras):
    cameras[0] = FakeCapture(_frames(3, 0), fps=999.0)  # no CPU fuses 999 frames/s
    cameras[1] = FakeCapture(_frames(3, 1), fps=999.0)
    warnings: list[str] = []
    fuse_videos(fuser, "cam:0", "cam:1", tmp_path / "fused.mp4", progress=False, warn=warnings.append)
    assert len(warnings) == 1 and re.fullmatch(
        r"fused [\d.]+ frames/s, under the output's 999 fps: a live input does not wait for the fusion, .* faster than "
        r"it happened; --fps [\d.]+ plays it at about the pace it was fused", warnings[0])
    warnings.clear()
    cameras[0], cameras[1] = FakeCapture(_frames(3, 0), fps=999.0), FakeCapture(_frames(3, 1), fps=999.0)
    fuse_videos(fuser, "cam:0", "cam:1", tmp_path / "frames", progress=False, warn=warnings.append)
    assert warnings == []  # frames have no rate to play at

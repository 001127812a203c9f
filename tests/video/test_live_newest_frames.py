"""A camera or real-time stream (it does not wait for the fusion) read on a thread of its own for its newest
frame: a fusion slower than the camera fuses the present, the frames sent meanwhile skipped and counted
(said once at the end), never a backlog; a file-like input still read in order, every frame; the reader
stopped at the end and on Ctrl-C; the inputs opened before the model loads (an unplugged camera said at
once, the camera drained meanwhile); and one camera given twice, however written, refused in one line.

The cameras here send a frame when the test says (:class:`ScriptedCamera`), and each step waits, bounded,
for the reader to have stored it: nothing depends on how fast a thread runs."""

from __future__ import annotations

import os
import queue
import re
import signal
import sys
import threading
import time

import numpy as np
import pytest

from defusion.cli import video as video_cli
from defusion.fusion.video import VideoError, VideoInterrupted, fuse_videos, fusing, live
from defusion.fusion.video.live import LiveSource, live_spec
from defusion.fusion.video.sources import bgr_to_rgb
from tests.video.conftest import run_video_cli
from tests.video.test_live_review import CountedCapture
from tests.video.test_live_sources import FakeCapture
from tests.video.test_video import _frames, _read_video

#: Seconds any step waits for a reader's thread: far over any read here, so only a broken reader meets it.
BOUND_S = 30
#: Seconds a camera's read takes at most when it has no frame to send, stopping or not: a frame's time at 30 fps.
FRAME_S = 1 / 30
#: The frames' size (H, W), as the other video tests' (:func:`tests.video.test_video._frames`).
SHAPE = (48, 64, 3)


class ScriptedCamera(FakeCapture):
    """A camera whose frames (each one grey value) arrive when the test sends them (:meth:`send`), the first
    on opening; :meth:`end` ends its stream. ``reader`` is the thread that reads it, once ``reading``."""

    def __init__(self, first: int = 0, fps: float = 30.0) -> None:
        super().__init__([], fps=fps, keeps_pace=False)
        self.reader: live.NewestFrameReader | None = None
        self.reading = threading.Event()  # set once ``reader`` is
        self._sent: queue.Queue[int | None] = queue.Queue()
        self._entered = threading.Condition()
        self._entries = 0  # read() calls begun: one past a frame means that frame was stored
        self._put = 1
        self._sent.put(first)

    def read(self):
        with self._entered:
            self._entries += 1
            self._entered.notify_all()
        if isinstance(threading.current_thread(), live.NewestFrameReader):
            self.reader = threading.current_thread()
            self.reading.set()
        deadline = time.monotonic() + BOUND_S
        while True:  # nothing sent: the read returns within a frame's time, to find its reader stopping
            try:
                value = self._sent.get(timeout=FRAME_S)
                break
            except queue.Empty:
                if (self.reader is not None and self.reader.stopping.is_set()) or time.monotonic() > deadline:
                    return False, None
        if value is None:
            return False, None
        self.reads += 1
        return True, np.full(SHAPE, value, np.uint8)

    def send(self, *values: int) -> None:
        """Send ``values``, one frame each, returning once the reader holds each (it began its next read)."""
        for value in values:
            self._sent.put(value)
            self._put += 1
            with self._entered:
                assert self._entered.wait_for(lambda: self._entries > self._put, BOUND_S), "the reader stopped"

    def end(self) -> None:
        self._sent.put(None)


class Plugged(dict):
    """Fake cameras by what OpenCV would open (an index, a URL); ``opened`` lists what was opened, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[object] = []


@pytest.fixture
def cameras(monkeypatch) -> Plugged:
    """Fake cameras: put one in the dict; the others cannot be opened."""
    plugged = Plugged()

    def open_capture(spec):
        plugged.opened.append(spec.target)
        return plugged.get(spec.target, FakeCapture([], opened=False))

    monkeypatch.setattr(live, "open_capture", open_capture)
    return plugged


@pytest.fixture
def fused_values(monkeypatch) -> list[tuple[int, int]]:
    """The grey values of each pair fused, in order."""
    pairs: list[tuple[int, int]] = []
    fuse = fusing._SteadyStream.fuse

    def recorded(self, index, frame_a, frame_b):
        pairs.append((int(frame_a.flat[0]), int(frame_b.flat[0])))
        return fuse(self, index, frame_a, frame_b)

    monkeypatch.setattr(fusing._SteadyStream, "fuse", recorded)
    return pairs


def _grey(frame: np.ndarray) -> int:
    return int(frame.flat[0])


# -- the newest frame, the others skipped and counted ---------------------------------------------
def test_a_camera_gives_its_newest_frame_and_counts_those_skipped_where_a_file_served_gives_every_one(cameras):
    cameras[0] = camera = ScriptedCamera(first=10)
    source = LiveSource(live_spec("cam:0"), max_pixels=10**7)
    try:
        frames = source.frames()
        assert _grey(next(frames)) == 10
        camera.send(11, 12, 13)  # sent while the fusion fused the first
        assert _grey(next(frames)) == 13 and (source.skipped, source.received) == (2, 4)
        camera.send(14)
        assert _grey(next(frames)) == 14 and (source.skipped, source.received) == (2, 5)
        camera.end()
        assert next(frames, None) is None
    finally:
        source.close()
    assert camera.released and not camera.reader.is_alive()
    # an http(s) file (it reports its frame count) waits: every frame, in order, however fast it answers
    cameras["http://host/a.mp4"] = CountedCapture(_frames(5, 0), count=5, keeps_pace=False)
    served = LiveSource(live_spec("http://host/a.mp4"), max_pixels=10**7)
    try:
        assert [_grey(frame) for frame in served.frames()] == [_grey(bgr_to_rgb(f)) for f in _frames(5, 0)]
        assert (served.real_time, served.skipped) == (False, 0)
    finally:
        served.close()


def test_each_pair_of_two_cameras_takes_the_newest_of_each_and_the_skipped_are_said_once(tmp_path, fuser, cameras,
                                                                                         notes, fused_values):
    cameras[0], cameras[1] = ScriptedCamera(first=0), ScriptedCamera(first=100)

    def slow_fusion(paths, frames) -> None:  # while the first pair is fused, each camera sends three more
        cameras[0].send(1, 2, 3)
        cameras[1].send(101, 102, 103)
        cameras[0].end()
        cameras[1].end()

    warnings: list[str] = []
    result = fuse_videos(fuser, "cam:0", "cam:1", tmp_path / "frames", progress=False, warn=warnings.append,
                         on_first=slow_fusion)
    assert result.frames == 2 and fused_values == [(0, 100), (3, 103)]
    assert warnings == []
    pace = r"fusion ran at [\d.]+(e[+-]\d+)? fps"
    assert len(notes) == 3 and notes[0].startswith("cam:0 and cam:1 are live")
    for name, said in zip(("cam:0", "cam:1"), notes[1:]):
        assert re.fullmatch(rf"{name}: 2 of 4 frames skipped to keep up \(each pair fused took its newest\): {pace}",
                            said), said
    assert all(camera.released and not camera.reader.is_alive() for camera in (cameras[0], cameras[1]))


def test_the_pace_warning_says_the_frames_were_skipped_not_queued(tmp_path, fuser, cameras, notes):
    cameras[0], cameras[1] = FakeCapture(_frames(3, 0), fps=999.0), FakeCapture(_frames(3, 1), fps=999.0)
    warnings: list[str] = []
    fuse_videos(fuser, "cam:0", "cam:1", tmp_path / "fused.mp4", progress=False, warn=warnings.append)
    assert len(warnings) == 1 and "each pair fused took its newest frame, those it sent meanwhile skipped" in \
        warnings[0] and "queued" not in warnings[0], warnings


# -- stopping ---------------------------------------------------------------------------------------
def test_ctrl_c_while_waiting_for_a_cameras_frame_stops_its_reader_and_keeps_the_video(tmp_path, fuser, cameras):
    cameras[0], cameras[1] = ScriptedCamera(first=0), ScriptedCamera(first=100)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C as a command has it (conftest restores)

    def interrupt_once_waiting() -> None:  # Ctrl-C once the fusion waits for cam:0's second frame, never sent
        if cameras[0].reading.wait(BOUND_S) and cameras[0].reader.wanted.wait(BOUND_S):
            signal.raise_signal(signal.SIGINT)  # reaches this thread: the fusion's must notice it itself

    helper = threading.Thread(target=interrupt_once_waiting)
    out = tmp_path / "fused.mp4"
    with pytest.raises(VideoInterrupted) as caught:
        helper.start()
        fuse_videos(fuser, "cam:0", "cam:1", out, progress=False, warn=lambda said: None)
    helper.join(BOUND_S)
    assert (caught.value.frames, caught.value.kept) == (1, out) and _read_video(out)[0] == 1
    for camera in (cameras[0], cameras[1]):
        assert camera.released and not camera.reader.is_alive()


# -- one camera twice ---------------------------------------------------------------------------------
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="cam:N is /dev/videoN on Linux (V4L2)")
@pytest.mark.parametrize("a, b, said", [
    ("cam:0", "/dev/video0", "cam:0 and /dev/video0 are the same camera (cam:0 opens /dev/video0): a camera streams "
                             "to one reader at a time, and fused with itself gains nothing; give two cameras (ls "
                             "/dev/video* lists the capture devices present)"),
    ("/dev/video3", "cam:3", "/dev/video3 and cam:3 are the same camera (cam:3 opens /dev/video3): a camera streams "
                             "to one reader at a time, and fused with itself gains nothing; give two cameras (ls "
                             "/dev/video* lists the capture devices present)"),
    ("cam:2", "cam:2", "cam:2 is given twice: a camera streams to one reader at a time, and fused with itself gains "
                       "nothing; give two cameras (ls /dev/video* lists the capture devices present)"),
])
def test_one_camera_given_twice_however_written_is_refused_before_either_opens(tmp_path, fuser, cameras, a, b, said):
    with pytest.raises(VideoError) as caught:
        fuse_videos(fuser, a, b, tmp_path / "fused.mp4", progress=False)
    assert str(caught.value) == said and cameras.opened == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="character devices and their links are Linux's")
def test_a_link_to_a_device_and_the_device_are_one_camera_for_the_command(tmp_path, tiny_weights, capsys, cameras):
    link = tmp_path / "by-id-camera"  # as /dev/v4l/by-id/usb-...-video-index0 links to /dev/videoN
    os.symlink("/dev/null", link)
    status, err = run_video_cli(capsys, link, "/dev/null", "-o", tmp_path / "x.mp4", "--weights", tiny_weights)
    assert (status, err) == (2, f"defusion: error: {link} and /dev/null are the same camera: a camera streams to one "
                                "reader at a time, and fused with itself gains nothing; give two cameras (ls "
                                "/dev/video* lists the capture devices present)\n")
    assert cameras.opened == []


# -- the inputs before the model ------------------------------------------------------------------
def test_an_unplugged_camera_is_said_before_the_model_loads(tmp_path, tiny_weights, capsys, cameras, monkeypatch):
    loaded: list[bool] = []
    monkeypatch.setattr(video_cli, "make_fuser", lambda args, options: loaded.append(True))
    cameras[0] = FakeCapture(_frames(2, 0))
    status, err = run_video_cli(capsys, "cam:0", "cam:7", "-o", tmp_path / "x.mp4", "--weights", tiny_weights)
    assert status == 2 and err.startswith("defusion: error: cam:7: cannot open the camera") and err.count("\n") == 1
    assert loaded == [] and cameras[0].released  # the camera opened first let go


def test_a_model_that_fails_to_load_lets_the_opened_cameras_go(tmp_path, tiny_weights, capsys, cameras):
    cameras[0], cameras[1] = ScriptedCamera(), ScriptedCamera()
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not weights")
    status, err = run_video_cli(capsys, "cam:0", "cam:1", "-o", tmp_path / "x.mp4", "--weights", broken)
    assert status == 2 and err.startswith("defusion: error: ") and err.count("\n") == 1, err
    for camera in (cameras[0], cameras[1]):
        assert camera.released and camera.reading.wait(BOUND_S) and not camera.reader.is_alive()


def test_the_frames_a_camera_sends_while_the_model_loads_are_drained_not_fused_nor_counted(
        tmp_path, tiny_weights, capsys, cameras, monkeypatch, fresh_notes, fused_values):
    cameras[0], cameras[1] = ScriptedCamera(first=0), ScriptedCamera(first=100)
    make_fuser = video_cli.make_fuser

    def slow_load(args, options):  # the cameras send three frames each while the model loads, then end
        cameras[0].send(1, 2, 3)
        cameras[1].send(101, 102, 103)
        cameras[0].end()
        cameras[1].end()
        return make_fuser(args, options)

    monkeypatch.setattr(video_cli, "make_fuser", slow_load)
    out = tmp_path / "frames"
    status, err = run_video_cli(capsys, "cam:0", "cam:1", "-o", out, "--weights", tiny_weights, "--no-progress")
    assert status == 0 and fused_values == [(3, 103)], err  # the present, not a backlog from before the fusion
    assert "skipped to keep up" not in err and len(list(out.glob("frame_*.png"))) == 1



def test_a_mistyped_weights_file_is_said_before_a_camera_is_opened(tmp_path, capsys, cameras):
    """A review: with the inputs opened first, a --weights naming nothing waited for the streams (21 s on two
    silent udp:// addresses) before the model's load said it."""
    cameras[0] = FakeCapture(_frames(2, 0))
    status, err = run_video_cli(capsys, "cam:0", "cam:1", "-o", tmp_path / "x.mp4", "--weights",
                                tmp_path / "typo.safetensors")
    assert status == 2 and err == f"defusion: error: weights file not found: {tmp_path / 'typo.safetensors'}\n"
    assert cameras.opened == []


class _StalledCapture:
    """A capture whose read blocks until ``go`` is set, then ends the stream; counts its releases."""

    def __init__(self) -> None:
        self.go, self.reading, self.releases = threading.Event(), threading.Event(), 0

    def read(self):
        self.reading.set()
        self.go.wait(BOUND_S)
        return False, None

    def release(self) -> None:
        self.releases += 1


def test_a_second_ctrl_c_while_a_stalled_reader_stops_still_lets_the_capture_go(monkeypatch):
    """A review: the release was decided after the wait for the reader, so an interrupt in that wait
    left the camera held for good."""
    capture = _StalledCapture()
    reader = live.NewestFrameReader(capture, np.zeros(SHAPE, np.uint8), "cam:0")
    reader.start()
    assert capture.reading.wait(BOUND_S)

    def interrupted(timeout=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(reader, "join", interrupted)
    with pytest.raises(KeyboardInterrupt):
        reader.stop()
    capture.go.set()  # the stalled read returns at last
    threading.Thread.join(reader, BOUND_S)
    assert not reader.is_alive() and capture.releases == 1


def test_a_stopped_reader_whose_thread_ended_leaves_the_release_to_its_caller():
    capture = _StalledCapture()
    capture.go.set()
    reader = live.NewestFrameReader(capture, np.zeros(SHAPE, np.uint8), "cam:0")
    reader.start()
    reader.join(BOUND_S)
    assert reader.stop() is True and capture.releases == 0

"""`defusion video` with live inputs (a stream URL, /dev/videoN, cam:N): one error line naming a source that
cannot be opened as written (a URL once lost a slash through Path, and every one was "no such file or
folder"); progress with no total; Ctrl-C or SIGTERM finishing a playable output; --max-frames stopping."""

from __future__ import annotations

import re
import signal

import cv2
import pytest

from defusion.cli.main import main
from defusion.fusion.video import live
from tests.conftest import free_port
from tests.video.test_live_sources import FakeCapture
from tests.video.test_video import _frames, _read_video, _write_video

#: The note said once where both inputs are live.
NOT_SYNCHRONISED = ("defusion: note: cam:0 and cam:1 are live: their frames are paired as each delivers them, not by "
                    "time (nothing synchronises them), so a pair's two frames may be a frame or more apart; cameras "
                    "triggered together (a rig's sync cable) pair the same moments\n")


@pytest.fixture
def cameras(monkeypatch) -> dict[object, FakeCapture]:
    """Fake cameras by index (cam:N): put one in the dict; the others cannot be opened."""
    plugged: dict[object, FakeCapture] = {}
    monkeypatch.setattr(live, "open_capture", lambda spec: plugged.get(spec.target, FakeCapture([], opened=False)))
    return plugged


@pytest.fixture(autouse=True)
def _fresh(fresh_notes, one_torch_thread):
    """Each test's notes said as in a fresh process; one torch thread."""


def _video(capsys, *args) -> tuple[int, str]:
    status = main(["video", *map(str, args)])
    return status, capsys.readouterr().err


def test_an_unreachable_url_is_one_line_naming_it_as_written(tmp_path, tiny_weights, capsys):
    clip = _write_video(tmp_path / "b.mp4", _frames(2, 0))
    url = f"rtsp://127.0.0.1:{free_port()}/cam"
    status, err = _video(capsys, url, clip, "-o", tmp_path / "x.mp4", "--weights", tiny_weights, "--no-progress")
    assert status == 2
    assert err == (f"defusion: error: {url}: cannot open the stream: is the URL right, and its server reachable from "
                   "here (waited up to 10 s)? A camera's RTSP URL often needs its path and credentials: "
                   "rtsp://user:password@host:554/path\n")


def test_a_missing_capture_device_and_a_misspelt_camera_are_said(tmp_path, tiny_weights, capsys, cameras):
    clip = _write_video(tmp_path / "b.mp4", _frames(2, 0))
    status, err = _video(capsys, "/dev/video97", clip, "-o", tmp_path / "x.mp4", "--weights", tiny_weights,
                         "--no-progress")
    assert status == 2 and err.startswith("defusion: error: /dev/video97: cannot open the camera")
    assert err.count("\n") == 1 and "no such file or folder" not in err
    status, err = _video(capsys, "cam:first", clip, "-o", tmp_path / "x.mp4", "--weights", tiny_weights)
    assert (status, err) == (2, "defusion: error: cam:first: a camera is written cam:N, N its index from 0 (cam:0 the "
                                "first); a file so named is ./cam:first\n")
    assert not (tmp_path / "x.mp4").exists()


def test_live_progress_counts_frames_and_their_pace_with_no_total(tmp_path, tiny_weights, capsys, cameras):
    cameras[0] = FakeCapture(_frames(5, 0), fps=10.0)
    cameras[1] = FakeCapture(_frames(5, 1), fps=10.0)
    out = tmp_path / "rig.mp4"
    status, err = _video(capsys, "cam:0", "cam:1", "-o", out, "--weights", tiny_weights)
    assert status == 0
    assert err.count(NOT_SYNCHRONISED) == 1
    assert re.search(r"^fusing: 5 frames, \d+ s elapsed, \d+\.\d\d frames/s$", err, re.M), err
    assert re.search(rf"^fused 5 frames in [\d.]+ s \([\d.]+ frames/s\) into {re.escape(str(out))}", err, re.M)
    assert _read_video(out)[0] == 5


def test_max_frames_stops_endless_cameras(tmp_path, tiny_weights, capsys, cameras):
    cameras[0] = FakeCapture(_frames(2, 0), endless=True)
    cameras[1] = FakeCapture(_frames(2, 1), endless=True)
    out = tmp_path / "frames"
    status, err = _video(capsys, "cam:0", "cam:1", "-o", out, "--weights", tiny_weights, "--max-frames", "3",
                         "--no-progress")
    assert status == 0 and "fused 3 frames in" in err
    assert sorted(path.name for path in out.glob("frame_*.png")) == [f"frame_{i:06d}.png" for i in range(3)]


@pytest.mark.parametrize("stop, status", [(KeyboardInterrupt, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_mid_stream_leaves_a_playable_video(tmp_path, tiny_weights, capsys, cameras, stop, status):
    def arrive(reads: int) -> None:
        if reads == 5:  # while the fifth frame is read: four fused
            if stop is KeyboardInterrupt:
                raise KeyboardInterrupt
            signal.raise_signal(stop)  # as `kill` or a service manager sends it: main() makes it an interrupt

    cameras[0] = FakeCapture(_frames(3, 0), endless=True, on_read=arrive)
    cameras[1] = FakeCapture(_frames(3, 1), endless=True)
    out = tmp_path / "rig.mp4"
    got, err = _video(capsys, "cam:0", "cam:1", "-o", out, "--weights", tiny_weights, "--no-progress")
    assert got == status
    assert re.search(rf"^defusion: interrupted; fused 4 frames in [\d.]+ s \([\d.]+ frames/s\) into "
                     rf"{re.escape(str(out))}, a playable video: a live input runs until stopped, so stopping it ends "
                     r"the video there \(--max-frames N stops after N\)$", err, re.M), err
    frames, size, fps = _read_video(out)
    assert (frames, size, fps) == (4, (48, 64), 30.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rig.mp4"]  # no partial file left
    cap = cv2.VideoCapture(str(out))
    assert cap.isOpened() and cap.get(cv2.CAP_PROP_FRAME_COUNT) == 4
    cap.release()


def test_a_stream_with_no_frame_rate_runs_at_25_fps_and_says_so(tmp_path, tiny_weights, capsys, cameras):
    cameras[0] = FakeCapture(_frames(2, 0), fps=0.0)
    cameras[1] = FakeCapture(_frames(2, 1), fps=0.0)
    out = tmp_path / "rig.mp4"
    status, err = _video(capsys, "cam:0", "cam:1", "-o", out, "--weights", tiny_weights, "--no-progress")
    assert status == 0 and _read_video(out)[2] == 25.0
    assert f"defusion: note: neither input reports a frame rate: {out} runs at 25 fps (--fps sets it)\n" in err


def test_skip_existing_is_refused_with_a_live_input(tmp_path, tiny_weights, capsys, cameras):
    status, err = _video(capsys, "cam:0", "cam:1", "-o", tmp_path / "frames", "--weights", tiny_weights,
                         "--skip-existing")
    assert (status, err) == (2, "defusion: error: --skip-existing goes on from an interrupted run's frames, but a live "
                                "input (a stream or a camera) cannot be rewound to them: write to a new folder\n")

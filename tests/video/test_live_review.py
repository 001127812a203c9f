"""A review of the live inputs of `defusion video`: a URL's password and query credentials hidden in
what is said (FFmpeg splits user info at the last ``@`` before the path); a ``file://`` URL opened as the
file or folder it names, not as a live source; an http(s) URL opened as a stream, but warned of (its
pace, its pairing) only where it does not wait for the fusion (it reports no frame count), as a camera
or a real-time protocol's stream always is."""

from __future__ import annotations

import functools
import http.server
import re
import threading
from pathlib import Path

import cv2
import pytest

from defusion.fusion.video import VideoError, fuse_videos, live, open_frames
from defusion.fusion.video.live import (REAL_TIME_SCHEMES, LiveSource, cannot_open, file_url_path, hide_secrets,
                                        live_spec)
from tests.conftest import free_port
from tests.video.conftest import run_video_cli
from tests.video.test_live_sources import FakeCapture
from tests.video.test_video import _frames, _read_video, _write_video


class CountedCapture(FakeCapture):
    """A fake stream that reports a frame count (``count``; 0 or less: none), as FFmpeg does of a file."""

    def __init__(self, *args, count: float = 0.0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.count = count

    def get(self, prop: int) -> float:
        return self.count if prop == cv2.CAP_PROP_FRAME_COUNT else super().get(prop)


@pytest.fixture
def streams(monkeypatch) -> dict[object, FakeCapture]:
    """Fake streams by what OpenCV would open (a URL, an index): put one in the dict."""
    plugged: dict[object, FakeCapture] = {}
    monkeypatch.setattr(live, "open_capture", lambda spec: plugged.get(spec.target, FakeCapture([], opened=False)))
    return plugged


# -- a URL's secrets, hidden in what is said ------------------------------------------------------
@pytest.mark.parametrize("url, said", [
    ("rtsp://admin:p@ss@127.0.0.1:1/x", "rtsp://admin:***@127.0.0.1:1/x"),  # FFmpeg: the last @ before the path
    ("rtsp://admin:pa/ss@10.0.0.1/live", "rtsp://admin:***@10.0.0.1/live"),  # a slash in the password
    ("rtsp://admin:pa?ss@10.0.0.1/live", "rtsp://admin:***@10.0.0.1/live"),
    ("rtsp://admin:12/34@10.0.0.1/live", "rtsp://admin:***@10.0.0.1/live"),  # digits, then a slash: not a port
    ("rtsp://me@mail.org:pw@10.0.0.1/live", "rtsp://me@mail.org:***@10.0.0.1/live"),  # an @ in the user name
    ("rtsp://admin:p@ss/w0rd@10.0.0.1/live", "rtsp://admin:***@10.0.0.1/live"),  # an @ and a slash
    ("rtsp://admin:pw@10.0.0.1/clips/a@b", "rtsp://admin:***@b"),  # a path's @ is not told from a password's
    ("rtsp://admin@10.0.0.1:554/clips/a@b", "rtsp://admin@10.0.0.1:554/clips/a@b"),  # no password: a port
    ("rtsp://admin@host/x", "rtsp://admin@host/x"),  # no password
    ("rtsp://host/clips/a@b", "rtsp://host/clips/a@b"),  # an @ in the path, after the host
    # ... after a port: not told from a dotted user's password of digits and a slash, so hidden (a review:
    # rtsp://john.doe:2024/x@cam.local/live was said whole)
    ("rtsp://10.0.0.1:554/clips/a@b", "rtsp://10.0.0.1:***@b"),
    ("rtsp://john.doe:2024/x@cam.local/live", "rtsp://john.doe:***@cam.local/live"),
    ("rtsp://10.0.0.1:554/clips/a", "rtsp://10.0.0.1:554/clips/a"),  # a port, no @ at all
    ("rtsp://192.168.1.10:554/user=admin_password=tlJw_channel=1.sdp",
     "rtsp://192.168.1.10:554/user=admin_password=***_channel=1.sdp"),  # a credential in the path
    ("rtsp://cam.local/live;password=hunter2", "rtsp://cam.local/live;password=***"),
    ("udp://@:5000", "udp://@:5000"),
    ("http://cam/video.cgi?user=admin&pwd=secret", "http://cam/video.cgi?user=admin&pwd=***"),
    ("http://cam/snap?Password=a%26b&resolution=640x480&api_key=k1#top",
     "http://cam/snap?Password=***&resolution=640x480&api_key=***#top"),
    ("https://host/a.m3u8?X-Amz-Signature=ab12&token=t&passwd=p&auth=a&secret=s&sig=g",
     "https://host/a.m3u8?X-Amz-Signature=***&token=***&passwd=***&auth=***&secret=***&sig=***"),
    ("http://u:pw@cam/v.cgi?pass=x", "http://u:***@cam/v.cgi?pass=***"),
])
def test_a_urls_secrets_are_hidden_in_what_is_said_and_the_rest_kept_as_written(url, said):
    spec = live_spec(url)
    assert (spec.target, spec.name, hide_secrets(url)) == (url, said, said)  # opened as written, said hidden


def test_no_secret_reaches_an_error_line():
    url = "rtsp://admin:p@ss/w0rd@127.0.0.1:1/x?token=t0ken"
    for said in (cannot_open(live_spec(url)), str(pytest.raises(VideoError, open_frames, url).value)):
        assert "ss" not in said.split("@127")[0][len("rtsp://admin"):] and "w0rd" not in said and "t0ken" not in said
        assert said.startswith("rtsp://admin:***@127.0.0.1:1/x?token=***: cannot open the stream")


# -- file:// URLs: the file or folder they name ---------------------------------------------------
def test_a_file_url_names_a_path_not_a_live_source(tmp_path):
    assert live_spec("file:///clips/a.mp4") is None and live_spec("FILE:///clips/a.mp4") is None
    assert file_url_path("file:///clips/a%20b.mp4") == Path("/clips/a b.mp4")
    assert file_url_path("file://localhost/clips/a.mp4") == Path("/clips/a.mp4")
    assert file_url_path("clips/a.mp4") is None and file_url_path("http://cam/a.mp4") is None


@pytest.mark.skipif(__import__("os").name == "nt", reason="Windows opens another host's file (UNC)")
@pytest.mark.parametrize("url, said", [
    ("file://server/share/a.mp4", "file://server/share/a.mp4: names a file on another host (server); give its path as "
                                  "mounted here"),
    ("file://", "file://: names no file; write file:///path/to/clip.mp4, or the path itself"),
])
def test_a_file_url_that_names_no_file_here_is_one_line(url, said):
    with pytest.raises(VideoError) as caught:
        open_frames(url)
    assert str(caught.value) == said


def test_a_file_url_of_a_clip_and_of_a_folder_fuse_as_their_paths_do(tmp_path, fuser, notes):
    clip = _write_video(tmp_path / "my clip.mp4", _frames(3, 0), fps=999.0)  # no CPU fuses 999 frames/s
    folder = tmp_path / "ir"
    folder.mkdir()
    for index, frame in enumerate(_frames(3, 1)):
        cv2.imwrite(str(folder / f"f{index}.png"), frame)
    warnings: list[str] = []
    result = fuse_videos(fuser, clip.as_uri(), folder.as_uri(), tmp_path / "fused.mp4", progress=False,
                         warn=warnings.append)
    assert result.frames == 3 and _read_video(tmp_path / "fused.mp4")[0] == 3
    assert warnings == [] and notes == []  # no pace warning, no "is live" note: a file waits


def test_skip_existing_goes_on_from_a_file_urls_frames(tmp_path, fuser):
    clip_a = _write_video(tmp_path / "a.mp4", _frames(4, 0))
    clip_b = _write_video(tmp_path / "b.mp4", _frames(4, 1))
    out = tmp_path / "frames"
    fuse_videos(fuser, clip_a.as_uri(), clip_b.as_uri(), out, max_frames=2, progress=False)
    result = fuse_videos(fuser, clip_a.as_uri(), clip_b, out, skip_existing=True, progress=False)
    assert (result.frames, result.skipped) == (2, 2)


def test_the_command_takes_a_file_url_as_its_path(tmp_path, tiny_weights, capsys):
    clip_a = _write_video(tmp_path / "a.mp4", _frames(2, 0))
    clip_b = _write_video(tmp_path / "b.mp4", _frames(2, 1))
    out = tmp_path / "frames"
    status, err = run_video_cli(capsys, clip_a.as_uri(), clip_b, "-o", out, "--weights", tiny_weights,
                                "--no-progress", "--skip-existing")
    assert status == 0 and "is live" not in err and len(list(out.glob("frame_*.png"))) == 2
    missing = tmp_path / "gone.mp4"
    status, err = run_video_cli(capsys, missing.as_uri(), clip_b, "-o", tmp_path / "x.mp4", "--weights", tiny_weights)
    assert (status, err) == (2, f"defusion: error: {missing}: no such file or folder\n")
    status, err = run_video_cli(capsys, clip_b.as_uri(), clip_b, "-o", tmp_path / "y.mp4", "--weights", tiny_weights,
                                "--no-progress")
    assert status == 0 and f"defusion: warning: {clip_b} and {clip_b} are the same file" in err


# -- http(s): a stream, warned of only where it does not wait ------------------------------------
def test_an_http_video_file_opens_as_a_stream_that_waits(tmp_path):
    _write_video(tmp_path / "clip.mp4", _frames(5, 0), fps=12.0)
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        source = open_frames(f"http://127.0.0.1:{server.server_address[1]}/clip.mp4")
        try:
            assert isinstance(source, LiveSource) and source.live and source.real_time is False
            assert len(list(source.frames())) == 5
        finally:
            source.close()
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # no request lines among the test's output
        pass


def test_real_time_sources_are_named_with_why():
    assert {"rtsp", "rtsps", "rtmp", "srt", "udp", "tcp"} <= REAL_TIME_SCHEMES
    assert not {"http", "https", "file"} & REAL_TIME_SCHEMES


def test_an_http_file_is_neither_noted_live_nor_warned_slow(tmp_path, fuser, streams, notes):
    url = "http://cam.local/clips/day.mp4"
    streams[url] = CountedCapture(_frames(3, 0), fps=999.0, count=3)
    clip = _write_video(tmp_path / "b.mp4", _frames(3, 1), fps=999.0)
    warnings: list[str] = []
    result = fuse_videos(fuser, url, clip, tmp_path / "fused.mp4", progress=False, warn=warnings.append)
    assert result.frames == 3 and warnings == [] and notes == []


def test_an_http_stream_of_no_frame_count_is_warned_of_without_advice_that_slows_a_file(tmp_path, fuser, streams,
                                                                                         notes):
    url = "http://cam.local/video.mjpg"
    streams[url] = CountedCapture(_frames(3, 0), fps=999.0, count=0)
    clip = _write_video(tmp_path / "b.mp4", _frames(3, 1), fps=999.0)
    warnings: list[str] = []
    fuse_videos(fuser, url, clip, tmp_path / "fused.mp4", progress=False, warn=warnings.append)
    assert notes == [f"{url} is live: its frames are paired with {clip}'s as they come, not by time"]
    assert len(warnings) == 1 and re.fullmatch(
        rf"fused [\d.]+ frames/s, under the output's 999 fps: if {re.escape(url)} is a live stream \(not a video file "
        r"served\), it does not wait for the fusion, so .* faster than it happened; for such a stream, --fps [\d.]+ "
        rf"plays it at about the pace it was fused \(and {re.escape(str(clip))}'s frames slower than at its own rate: it "
        r"waits\); if it is a video file served, it waited for the fusion: leave --fps as it is",
        warnings[0]), warnings[0]


@pytest.mark.parametrize("url", ["rtsp://cam.local/live", "srt://cam.local:9000", "cam:0"])
def test_a_camera_or_real_time_stream_is_warned_of_even_where_it_reports_a_count(tmp_path, fuser, streams, notes,
                                                                                  url):
    streams[0 if url == "cam:0" else url] = CountedCapture(_frames(3, 0), fps=999.0, count=3)
    clip = _write_video(tmp_path / "b.mp4", _frames(3, 1), fps=999.0)
    warnings: list[str] = []
    fuse_videos(fuser, url, clip, tmp_path / "fused.mp4", progress=False, warn=warnings.append)
    assert notes == [f"{url} is live: its frames are paired with {clip}'s as they come, not by time"]
    assert len(warnings) == 1 and re.fullmatch(
        r"fused [\d.]+ frames/s, under the output's 999 fps: a live input does not wait for the fusion, .* faster than "
        rf"it happened; --fps [\d.]+ plays it at about the pace it was fused \(and {re.escape(str(clip))}'s frames "
        r"slower than at its own rate: it waits\)", warnings[0]), warnings[0]


def test_skip_existing_goes_on_from_an_http_file_but_not_a_stream_of_no_count(tmp_path, fuser, streams):
    clip = _write_video(tmp_path / "b.mp4", _frames(3, 1))
    out = tmp_path / "frames"
    streams["https://host/a.mp4"] = CountedCapture(_frames(3, 0), count=3)
    fuse_videos(fuser, "https://host/a.mp4", clip, out, max_frames=1, progress=False)
    streams["https://host/a.mp4"] = CountedCapture(_frames(3, 0), count=3)
    result = fuse_videos(fuser, "https://host/a.mp4", clip, out, skip_existing=True, progress=False)
    assert (result.frames, result.skipped) == (2, 1)
    streams["https://host/a.mjpg"] = stream = CountedCapture(_frames(3, 0), count=0)
    with pytest.raises(VideoError) as caught:
        fuse_videos(fuser, "https://host/a.mjpg", clip, out, skip_existing=True, progress=False)
    assert str(caught.value) == (f"cannot skip existing frames in {out}: https://host/a.mjpg is a live stream (it "
                                 "reports no frame count), which cannot be rewound to the frames an earlier run "
                                 "fused; write to a new folder")
    assert stream.released


def test_the_command_refuses_skip_existing_early_only_for_what_never_waits(tmp_path, tiny_weights, capsys, streams):
    clip = _write_video(tmp_path / "b.mp4", _frames(2, 1))
    status, err = run_video_cli(capsys, "rtsp://cam.local/live", clip, "-o", tmp_path / "f1", "--weights",
                                tiny_weights, "--skip-existing")
    assert (status, err) == (2, "defusion: error: --skip-existing goes on from an interrupted run's frames, but a "
                                "live input (a stream or a camera) cannot be rewound to them: write to a new folder\n")
    streams["http://host/a.mp4"] = CountedCapture(_frames(2, 0), count=2)
    status, err = run_video_cli(capsys, "http://host/a.mp4", clip, "-o", tmp_path / "f2", "--weights", tiny_weights,
                                "--skip-existing", "--no-progress")
    assert status == 0 and len(list((tmp_path / "f2").glob("frame_*.png"))) == 2


def test_an_http_video_files_interrupt_is_said_as_a_files_with_how_to_go_on(tmp_path, tiny_weights, capsys,
                                                                            monkeypatch, fresh_notes):
    """A review: stopping a run on an http(s) video FILE (it reports its frame count and waits) said "a live
    input runs until stopped", hiding that --skip-existing goes on from there."""
    import cv2

    from defusion.cli.main import main
    from defusion.fusion.video import live
    from tests.video.test_live_sources import FakeCapture
    from tests.video.test_video import _frames, _write_video

    class HttpFile(FakeCapture):
        def get(self, prop):
            return float(len(self.frames)) if prop == cv2.CAP_PROP_FRAME_COUNT else super().get(prop)

    def stop_at_fourth(count):
        if count == 4:
            raise KeyboardInterrupt

    monkeypatch.setattr(live, "open_capture", lambda spec: HttpFile(_frames(8, 0), fps=10.0, on_read=stop_at_fourth))
    clip = _write_video(tmp_path / "b.mp4", _frames(8, 1))
    args = ["video", "http://example.org/clip.mp4", str(clip), "-o", str(tmp_path / "frames"),
            "--weights", str(tiny_weights), "--no-progress"]
    assert main(args) == 130
    err = capsys.readouterr().err
    assert "a live input runs until stopped" not in err and "--skip-existing" in err, err

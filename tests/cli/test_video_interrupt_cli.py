"""`defusion video` interrupted: it says what became of the frames fused (a video's discarded, a frame
folder's kept), on a line of its own."""

from __future__ import annotations

import os

import pytest

from defusion.cli.main import main
from defusion.fusion.fuser import Fuser
from defusion.io.images import write_image
from tests.conftest import smooth_image


@pytest.fixture
def frame_folders(tmp_path, rng):
    for name in ("a", "b"):
        for i in range(6):
            write_image(tmp_path / name / f"{i:03d}.png", smooth_image(rng, 24, 32))
    return tmp_path / "a", tmp_path / "b"


#: What an interrupted video says after its discarded frames: how a long job becomes resumable.
RESUMABLE = ("to make a long job resumable, write frames instead (-o DIR/): an interrupted run then goes on where it "
             "stopped with --skip-existing")


def _interrupt_at(monkeypatch, call: int) -> None:
    """Make Fuser.fuse raise KeyboardInterrupt at its ``call``-th frame (from 1)."""
    real, calls = Fuser.fuse, []

    def fuse(self, *images, **kwargs):
        calls.append(1)
        if len(calls) == call:
            raise KeyboardInterrupt
        return real(self, *images, **kwargs)

    monkeypatch.setattr(Fuser, "fuse", fuse)


def _video(capsys, a, b, out, weights) -> tuple[int, str]:
    status = main(["video", str(a), str(b), "-o", str(out), "--weights", str(weights), "--no-progress"])
    return status, capsys.readouterr().err


def test_an_interrupted_video_says_its_frames_were_discarded(tmp_path, frame_folders, tiny_weights, monkeypatch,
                                                              capsys, one_torch_thread):
    out = tmp_path / "fused.mp4"
    _interrupt_at(monkeypatch, 3)
    status, err = _video(capsys, *frame_folders, out, tiny_weights)
    assert status == 130
    assert err == (f"defusion: interrupted; 2 fused frames were discarded: a video is written only once complete; "
                   f"{RESUMABLE}\n")
    assert sorted(os.listdir(tmp_path)) == ["a", "b"]  # no partial video
    _interrupt_at(monkeypatch, 2)
    status, err = _video(capsys, *frame_folders, out, tiny_weights)
    assert status == 130
    assert err == (f"defusion: interrupted; 1 fused frame was discarded: a video is written only once complete; "
                   f"{RESUMABLE}\n")


def test_a_video_interrupted_before_its_first_frame_says_none_was_fused(tmp_path, frame_folders, tiny_weights,
                                                                         monkeypatch, capsys, one_torch_thread):
    out = tmp_path / "fused.mp4"
    out.write_bytes(b"an earlier video")
    _interrupt_at(monkeypatch, 1)
    status, err = _video(capsys, *frame_folders, out, tiny_weights)
    assert status == 130
    assert err == f"defusion: interrupted; no frame was fused yet; {out} is left as it was\n"
    assert out.read_bytes() == b"an earlier video"


def test_an_interrupted_frame_folder_says_which_frames_are_kept(tmp_path, rng, frame_folders, tiny_weights,
                                                                 monkeypatch, capsys, one_torch_thread):
    out = tmp_path / "frames"
    for i in range(5):  # an earlier, longer run's frames
        write_image(out / f"frame_{i:06d}.png", smooth_image(rng, 24, 32))
    _interrupt_at(monkeypatch, 3)
    status, err = _video(capsys, *frame_folders, out, tiny_weights)
    assert status == 130
    assert err == (f"defusion: interrupted; the 2 frames fused are kept in {out} (frame_000000.png to "
                   "frame_000001.png); the 3 after them are an earlier run's: run the same command with "
                   "--skip-existing to fuse the rest (it keeps those too: remove them first if that run was not "
                   "this command)\n")
    _interrupt_at(monkeypatch, 1)
    status, err = _video(capsys, *frame_folders, tmp_path / "new", tiny_weights)
    assert status == 130
    assert err == f"defusion: interrupted; no frame was fused yet; {tmp_path / 'new'} holds no new frame\n"

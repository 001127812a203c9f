"""`defusion video` when Windows refuses to replace or remove an output file another program holds
open (WinError 32), emulated on Linux by refusing os.replace / Path.unlink on those paths: the fused
work is kept and said where, never deleted."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from defusion.fusion.video.sinks import kept_path, partial_path
from tests.video.conftest import run_video_cli as _cli

H, W = 32, 48
#: Frames in each input.
FRAMES = 3
#: What Windows says when a player holds the output open (ERROR_SHARING_VIOLATION).
IN_USE = "The process cannot access the file because it is being used by another process"


def _frames(n: int, seed: int) -> list[np.ndarray]:
    base = np.random.default_rng(seed).integers(0, 256, (H, W, 3), dtype=np.uint8)
    return [np.roll(base, 3 * i, axis=1) for i in range(n)]


def _write_folder(path: Path, frames: list[np.ndarray]) -> Path:
    path.mkdir()
    for i, frame in enumerate(frames):
        cv2.imwrite(str(path / f"f{i}.png"), frame)
    return path


def _count_frames(path: Path) -> int:
    cap, n = cv2.VideoCapture(str(path)), 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n


@pytest.fixture
def inputs(tmp_path) -> tuple[Path, Path]:
    return _write_folder(tmp_path / "a", _frames(FRAMES, 0)), _write_folder(tmp_path / "b", _frames(FRAMES, 1))


def _in_use(path: Path) -> PermissionError:
    return PermissionError(13, IN_USE, str(path))


def test_a_video_that_cannot_replace_the_output_is_kept_and_said(inputs, tmp_path, tiny_weights, capsys, monkeypatch):
    out = tmp_path / "fused.mp4"
    out.write_bytes(b"the video a player has open")
    real_replace = os.replace

    def replace(src, dst, *args, **kwargs):
        if os.path.abspath(dst) == str(out):
            raise _in_use(out)
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    status, err = _cli(capsys, *inputs, "-o", out, "--weights", tiny_weights, "--device", "cpu", "--no-progress")
    assert status != 0
    lines = [line for line in err.splitlines() if "error" in line]
    assert len(lines) == 1 and "Traceback" not in err, err
    kept = kept_path(out)  # visible: the next run removes a hidden partial file as unfinished
    assert f"cannot replace {out}" in lines[0] and "open in another program?" in lines[0], lines[0]
    assert f"the fused video is at {kept}" in lines[0], lines[0]
    assert _count_frames(kept) == FRAMES and not partial_path(out).exists()  # the whole fused video, playable
    assert out.read_bytes() == b"the video a player has open"
    # a second run that meets the same lock keeps the first run's video and its own, partial, as it is
    status, err = _cli(capsys, *inputs, "-o", out, "--weights", tiny_weights, "--device", "cpu", "--no-progress")
    assert status != 0 and f"the fused video is at {partial_path(out)}" in err, err
    assert _count_frames(kept) == FRAMES and _count_frames(partial_path(out)) == FRAMES


def test_frames_an_earlier_run_left_that_cannot_be_removed_are_said_not_an_error(inputs, tmp_path, tiny_weights,
                                                                                 capsys, monkeypatch):
    out = tmp_path / "fused"
    out.mkdir()
    stale = [out / f"frame_{i:06d}.png" for i in range(FRAMES, FRAMES + 2)]  # an earlier, longer run's
    for path in stale:
        path.write_bytes(b"an earlier run's frame")
    real_unlink = Path.unlink

    def unlink(self, *args, **kwargs):
        if self == stale[-1]:  # open in a viewer
            raise _in_use(self)
        return real_unlink(self, *args, **kwargs)

    monkeypatch.setattr(Path, "unlink", unlink)
    status, err = _cli(capsys, *inputs, "-o", out, "--weights", tiny_weights, "--device", "cpu", "--no-progress")
    assert status == 0, err
    assert sorted(p.name for p in out.glob("frame_*.png")) == [f"frame_{i:06d}.png" for i in range(FRAMES)] + [
        stale[-1].name]
    assert f"removed 1 frame left in {out} by an earlier, longer run ({stale[0].name})" in err, err
    assert f"cannot remove 1 frame left in {out} by an earlier, longer run ({stale[-1].name})" in err, err
    assert "open in another program?" in err and f"fused {FRAMES} frames" in err

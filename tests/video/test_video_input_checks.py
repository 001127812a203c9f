"""`defusion video` on what user audits found: a frame size that changes midway (once written as
"fused 6 frames" into an mp4 of 5; now skipped, its place kept), inputs of different frame rates, frames an earlier run left in
the output folder, and --onnx."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from defusion.cli.fuse.fused_settings import SETTINGS_FILE
from defusion.fusion.fuser import Fuser
from defusion.fusion.video import VideoError, fuse_videos
from defusion.fusion.video.sinks import VideoSink
from tests.video.test_video import H, W, _cli, _frames, _read_video, _write_folder, _write_video


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """One intra-op thread: the machine's few cores are shared (see tests/conftest.py)."""


@pytest.fixture
def fuser(tiny_weights) -> Fuser:
    return Fuser.from_pretrained(tiny_weights, device="cpu", scale=1)


def _odd_third_frame(seed: int) -> list[np.ndarray]:
    """Six frames, the third of another size (as a camera that switched resolution)."""
    frames = _frames(6, seed)
    frames[2] = _frames(1, seed, h=H + 16, w=W + 16)[0]
    return frames


@pytest.mark.parametrize("output", ["fused.mp4", "frames"])
def test_a_frame_of_another_size_is_skipped_naming_it(output, tmp_path, tiny_weights, capsys):
    """One odd frame is skipped, not the rest of the clip (a run of them stops it: tests/video/test_video_bad_frames.py)."""
    a = _write_folder(tmp_path / "a", _odd_third_frame(0))
    b = _write_folder(tmp_path / "b", _odd_third_frame(1))
    out = tmp_path / output
    status, err = _cli(capsys, a, b, "-o", out, "--weights", tiny_weights, "--device", "cpu", "--no-progress",
                       "--scale", 1)
    warning, last = err.splitlines()
    assert status == 1 and warning.startswith("defusion: warning: skipped frame 2 "), err
    assert f"{a / 'f2.png'} (frame 2) is {W + 16}x{H + 16}" in warning and f"{W}x{H}" in warning
    assert last.startswith("fused 5 frames in") and "could not fuse 1 pair (frame 2:" in last
    if output == "fused.mp4":  # the frame before it in its place: the video keeps its inputs' timing
        assert _read_video(out)[:2] == (6, (H, W)) and not list(tmp_path.glob(".*partial*"))
    else:  # its file left out: the frames after it keep their numbers
        assert sorted(p.name for p in out.glob("frame_*.png")) == [f"frame_{i:06d}.png" for i in (0, 1, 3, 4, 5)]


def test_a_video_sink_refuses_a_frame_it_would_drop(tmp_path):
    sink = VideoSink(tmp_path / "v.mp4", 10.0)
    sink.write(np.zeros((H, W, 3), np.uint8))
    with pytest.raises(VideoError, match=f"cannot write a {W + 16}x{H}.*{W}x{H} frames"):
        sink.write(np.zeros((H, W + 16, 3), np.uint8))
    sink.write(np.zeros((H, W, 3), np.uint8))
    sink.finish()
    assert _read_video(tmp_path / "v.mp4")[:2] == (2, (H, W))


def test_different_frame_rates_warn_that_frames_pair_by_index(tmp_path, fuser):
    slow = _write_video(tmp_path / "a10.mp4", _frames(3, 0), fps=10.0)
    fast = _write_video(tmp_path / "b30.mp4", _frames(3, 1), fps=30.0)
    warnings: list[str] = []
    result = fuse_videos(fuser, slow, fast, tmp_path / "o.mp4", progress=False, warn=warnings.append)
    assert result.frames == 3 and len(warnings) == 1
    assert "a10.mp4 runs at 10 fps" in warnings[0] and "b30.mp4 at 30 fps" in warnings[0]
    assert "paired by index" in warnings[0] and "output runs at 10 fps (" in warnings[0]
    assert _read_video(tmp_path / "o.mp4")[2] == pytest.approx(10.0)
    warnings.clear()
    fuse_videos(fuser, slow, fast, tmp_path / "p.mp4", fps=30.0, progress=False, warn=warnings.append)
    assert "output runs at 30 fps (as asked)" in warnings[0]
    warnings.clear()
    same = _write_video(tmp_path / "c10.mp4", _frames(3, 2), fps=10.0)
    folder = _write_folder(tmp_path / "frames", _frames(3, 3))  # a folder has no frame rate
    fuse_videos(fuser, slow, same, tmp_path / "q.mp4", progress=False, warn=warnings.append)
    fuse_videos(fuser, fast, folder, tmp_path / "r.mp4", progress=False, warn=warnings.append)
    assert warnings == []


def test_frames_an_earlier_longer_run_left_are_removed_and_said(tmp_path, tiny_weights, capsys):
    a = _write_folder(tmp_path / "a", _frames(8, 0))
    b = _write_folder(tmp_path / "b", _frames(8, 1))
    out = tmp_path / "fused"
    argv = (a, b, "-o", out, "--weights", tiny_weights, "--device", "cpu", "--no-progress", "--scale", 1)
    assert _cli(capsys, *argv)[0] == 0
    (out / "frame_2.png").write_bytes(b"not ours")  # near the pattern, not of it: left alone
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    status, err = _cli(capsys, *argv, "--max-frames", 2)
    assert status == 0, err
    assert sorted(p.name for p in out.iterdir()) == [SETTINGS_FILE, "frame_000000.png", "frame_000001.png",
                                                     "frame_2.png", "notes.txt"]  # the settings record kept
    assert "warning: removed 6 frames left in" in err and "(frame_000002.png to frame_000007.png)" in err
    assert "this run's 2 only" in err and "fused 2 frames" in err
    status, err = _cli(capsys, *argv, "--max-frames", 2)  # nothing left over: nothing said
    assert status == 0 and "removed" not in err


def test_video_runs_an_onnx_export_as_fuse_does(tmp_path, tiny_weights, capsys):
    from defusion.model.weights import load_weights
    from defusion.fusion.export import export_onnx

    onnx_path = export_onnx(load_weights(tiny_weights), tmp_path / "tiny.onnx")
    a = _write_folder(tmp_path / "a", _frames(2, 0))
    b = _write_folder(tmp_path / "b", _frames(2, 1))
    common = (a, b, "--device", "cpu", "--no-progress", "--scale", 1)
    status, err = _cli(capsys, *common, "-o", tmp_path / "onnx", "--onnx", onnx_path)
    assert status == 0, err
    assert _cli(capsys, *common, "-o", tmp_path / "torch", "--weights", tiny_weights)[0] == 0
    for i in range(2):
        name = f"frame_{i:06d}.png"
        via_onnx, via_torch = (cv2.imread(str(tmp_path / d / name)).astype(int) for d in ("onnx", "torch"))
        assert via_onnx.shape == (H, W, 3) and np.abs(via_onnx - via_torch).max() <= 1
    for extra, message in ((["--weights", tiny_weights], "--weights, --half and --runtime do not apply"),
                           (["--runtime", "torch"], "--weights, --half and --runtime do not apply"),
                           ([], "ONNX model not found")):
        onnx = tmp_path / "missing.onnx" if not extra else onnx_path
        status, err = _cli(capsys, *common, "-o", tmp_path / "x", "--onnx", onnx, *extra)
        assert status == 2 and message in err and err.count("\n") == 1, err


def test_the_same_input_twice_is_warned_about(tmp_path, tiny_weights, capsys):
    a = _write_folder(tmp_path / "a", _frames(2, 0))
    status, err = _cli(capsys, a, a, "-o", tmp_path / "out", "--weights", tiny_weights, "--device", "cpu",
                       "--no-progress", "--scale", 1)
    assert status == 0 and "are the same folder: each frame is fused with itself" in err


def test_hidden_files_in_a_frame_folder_are_left_out_and_named(tmp_path, tiny_weights, capsys):
    a = _write_folder(tmp_path / "a", _frames(2, 0))
    b = _write_folder(tmp_path / "b", _frames(2, 1))
    (a / "._frame0.png").write_bytes(b"\x00\x05\x16\x07 Mac OS X")  # what macOS writes beside each file on a card
    status, err = _cli(capsys, a, b, "-o", tmp_path / "out", "--weights", tiny_weights, "--device", "cpu",
                       "--no-progress", "--scale", 1)
    assert status == 0, err
    assert f"1 hidden file in {a} left out (._frame0.png)" in err and "not frames" in err and "fused 2 frames" in err

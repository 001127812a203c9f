"""`defusion video`: fusing tiny videos and frame folders frame by frame, and its errors."""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import pytest

from defusion.cli import video as video_cli
from defusion.cli.errors import run_guarded
from defusion.fusion.deghost import reference_index
from defusion.fusion.fuser import Fuser
from defusion.fusion.video import VideoError, VideoInterrupted, fuse_videos, open_frames, output_kind
from defusion.io.notes import as_lines
from defusion.model.weights import WeightsError

H, W = 48, 64


def _frames(n: int, seed: int, h: int = H, w: int = W) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    return [np.roll(base, 3 * i, axis=1) for i in range(n)]


def _write_video(path: Path, frames: list[np.ndarray], fps: float = 10.0) -> Path:
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    assert writer.isOpened()
    for f in frames:
        writer.write(f)
    writer.release()
    return path


def _write_folder(path: Path, frames: list[np.ndarray]) -> Path:
    path.mkdir()
    for i, f in enumerate(frames):  # unpadded names: natural order must put 2 before 10
        cv2.imwrite(str(path / f"f{i}.png"), f)
    return path


def _read_video(path: Path) -> tuple[int, tuple[int, int], float]:
    cap = cv2.VideoCapture(str(path))
    n, size = 0, None
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        n, size = n + 1, frame.shape[:2]
    fps = cap.get(cv2.CAP_PROP_FPS)
    cap.release()
    return n, size, fps


def _parse(*argv):
    parser = argparse.ArgumentParser()
    video_cli.add_arguments(parser)
    return parser.parse_args([str(a) for a in argv])


def _cli(capsys, *argv) -> tuple[int, str]:
    with as_lines():  # what the library says, said as the command says it (as under main())
        status = run_guarded(lambda: video_cli.run(_parse(*argv)), video_cli.EXPECTED_ERRORS)
    return status, capsys.readouterr().err


@pytest.fixture
def videos(tmp_path):
    return (_write_video(tmp_path / "a.mp4", _frames(10, 0)), _write_video(tmp_path / "b.mp4", _frames(10, 1)))


def test_module_contract():
    assert isinstance(video_cli.HELP, str) and video_cli.HELP
    assert callable(video_cli.add_arguments) and callable(video_cli.run)
    assert WeightsError in video_cli.EXPECTED_ERRORS and issubclass(VideoError, video_cli.EXPECTED_ERRORS)


def test_two_videos_to_mp4(videos, tmp_path, tiny_weights, capsys):
    out = tmp_path / "out" / "fused.mp4"
    status, err = _cli(capsys, *videos, "-o", out, "--weights", tiny_weights, "--device", "cpu", "--no-progress")
    assert status == 0, err
    n, size, fps = _read_video(out)
    assert (n, size) == (10, (H, W)) and fps == pytest.approx(10.0)
    assert "fused 10 frames" in err and "frames/s" in err
    assert not list(out.parent.glob(".*partial*"))


def test_frame_folders_to_png_folder(tmp_path, tiny_weights, capsys):
    a = _write_folder(tmp_path / "a", _frames(12, 0))
    b = _write_folder(tmp_path / "b", _frames(12, 1))
    out = tmp_path / "frames"
    status, err = _cli(capsys, a, b, "-o", out, "--weights", tiny_weights, "--device", "cpu",
                       "--max-frames", 5, "--no-progress")
    assert status == 0, err
    written = sorted(out.glob("*.png"))
    assert [p.name for p in written] == [f"frame_{i:06d}.png" for i in range(5)]
    assert cv2.imread(str(written[0])).shape == (H, W, 3)


def test_folders_match_in_natural_order(tmp_path):
    frames = _frames(12, 0)
    src = open_frames(_write_folder(tmp_path / "a", frames))
    assert src.count == 12 and src.size == (W, H)
    read = list(src.frames())
    assert all((r[..., ::-1] == f).all() for r, f in zip(read, frames))  # f10 after f9, not after f1


def test_video_with_frame_folder_and_grey_frames(videos, tmp_path, tiny_weights):
    grey = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in _frames(10, 2)]
    folder = _write_folder(tmp_path / "ir", grey)
    fuser = Fuser.from_pretrained(tiny_weights, device="cpu")
    result = fuse_videos(fuser, videos[0], folder, tmp_path / "mixed.avi", progress=False)
    assert result.frames == 10 and result.fps > 0
    assert _read_video(tmp_path / "mixed.avi")[:2] == (10, (H, W))


def test_different_lengths_fuse_the_common_length_and_warn(tmp_path, tiny_weights, capsys):
    a = _write_video(tmp_path / "a.mp4", _frames(10, 0))
    b = _write_video(tmp_path / "b.mp4", _frames(7, 1))
    out = tmp_path / "fused.mp4"
    status, err = _cli(capsys, a, b, "-o", out, "--weights", tiny_weights, "--device", "cpu", "--no-progress")
    assert status == 0, err
    assert "warning" in err and "fusing the common 7" in err
    assert _read_video(out)[0] == 7


def test_different_frame_sizes_is_one_line(tmp_path, tiny_weights, capsys):
    a = _write_video(tmp_path / "a.mp4", _frames(3, 0))
    b = _write_video(tmp_path / "b.mp4", _frames(3, 1, h=32, w=40))
    out = tmp_path / "fused.mp4"
    status, err = _cli(capsys, a, b, "-o", out, "--weights", tiny_weights, "--device", "cpu", "--no-progress")
    assert status == 2 and err.count("\n") == 1
    assert "64x48" in err and "40x32" in err and "differ in size" in err
    assert not out.exists() and not list(tmp_path.glob(".*partial*"))


@pytest.mark.parametrize("case, message", [
    ("missing", "no such file"),
    ("garbage", "cannot read a frame"),
    ("empty_folder", "no frames"),
    ("bad_output", "cannot write"),
    ("max_frames", "--max-frames"),
])
def test_bad_input_is_one_line(case, message, videos, tmp_path, tiny_weights, capsys):
    a, b = videos
    out = tmp_path / "fused.mp4"
    if case == "missing":
        b = tmp_path / "nothing.mp4"
    elif case == "garbage":
        b = tmp_path / "garbage.mp4"
        b.write_bytes(b"not a video at all" * 10)
    elif case == "empty_folder":
        b = tmp_path / "empty"
        b.mkdir()
    elif case == "bad_output":
        out = tmp_path / "fused.gif"
    extra = ["--max-frames", 0] if case == "max_frames" else []
    status, err = _cli(capsys, a, b, "-o", out, "--weights", tiny_weights, "--device", "cpu", "--no-progress",
                       *extra)
    assert status == 2 and err.startswith("defusion: error:") and err.count("\n") == 1, err
    assert message in err
    assert not out.exists()


def _snapshot(path: Path) -> dict[str, bytes]:
    """Every file under ``path`` (or the file itself) and its bytes."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {str(p): p.read_bytes() for p in files}


@pytest.mark.parametrize("spelling", ["same", "dotdot", "symlink", "second"])
def test_output_that_is_an_input_video_is_refused(spelling, videos, tmp_path, tiny_weights, capsys):
    a, b = videos
    before = _snapshot(tmp_path)
    if spelling == "same":
        out = a
    elif spelling == "dotdot":
        (tmp_path / "sub").mkdir()
        out = tmp_path / "sub" / ".." / a.name
    elif spelling == "symlink":
        out = tmp_path / "link.mp4"
        out.symlink_to(a)
        before = _snapshot(a)
    else:
        out = b
    status, err = _cli(capsys, a, b, "-o", out, "--weights", tiny_weights, "--device", "cpu", "--no-progress")
    assert status == 2 and err.startswith("defusion: error:") and err.count("\n") == 1, err
    assert "is one of the inputs" in err
    assert {k: v for k, v in _snapshot(tmp_path).items() if k in before} == before  # inputs untouched
    assert not list(tmp_path.glob(".*partial*"))


@pytest.mark.parametrize("spelling", ["same", "dotdot", "symlink", "second"])
def test_output_folder_that_is_an_input_folder_is_refused(spelling, tmp_path, tiny_weights, capsys):
    a = _write_folder(tmp_path / "vfa", _frames(3, 0))
    b = _write_folder(tmp_path / "vfb", _frames(3, 1))
    before = _snapshot(tmp_path)
    out = {"same": a, "dotdot": a / ".." / "vfa", "second": b, "symlink": tmp_path / "link"}[spelling]
    if spelling == "symlink":
        out.symlink_to(a, target_is_directory=True)
    status, err = _cli(capsys, a, b, "-o", out, "--weights", tiny_weights, "--device", "cpu", "--no-progress")
    assert status == 2 and err.startswith("defusion: error:") and err.count("\n") == 1, err
    assert "is a source folder" in err
    assert _snapshot(a) == {k: v for k, v in before.items() if k.startswith(str(a))}
    assert _snapshot(b) == {k: v for k, v in before.items() if k.startswith(str(b))}


def test_output_folder_beside_the_input_folders_is_fine(tmp_path, tiny_weights, capsys):
    a = _write_folder(tmp_path / "vfa", _frames(2, 0))
    b = _write_folder(tmp_path / "vfb", _frames(2, 1))
    status, err = _cli(capsys, a, b, "-o", tmp_path / "vfa_fused", "--weights", tiny_weights, "--device", "cpu",
                       "--no-progress")
    assert status == 0, err
    assert len(list((tmp_path / "vfa_fused").glob("frame_*.png"))) == 2


def test_output_kind():
    assert output_kind(Path("x.MP4")) == "video" and output_kind(Path("frames")) == "frames"
    with pytest.raises(VideoError, match="cannot write"):
        output_kind(Path("x.png"))


def test_a_sorting_fuser_keeps_the_first_frames_order_for_the_whole_video(tmp_path, tiny_weights):
    """Exposure streams whose brightness crosses over: task mef sorts the first frames (darker
    first) and keeps that order, so the pair order cannot flip, and flicker, mid-video."""
    scene = _frames(1, 0)[0].astype(float)
    gains_a, gains_b = (1.6, 1.6, 0.3, 0.3), (0.5, 0.5, 1.4, 1.4)  # a brighter first, then darker
    a = _write_folder(tmp_path / "a", [np.clip(scene * g, 0, 255).astype(np.uint8) for g in gains_a])
    b = _write_folder(tmp_path / "b", [np.clip(scene * g, 0, 255).astype(np.uint8) for g in gains_b])
    mef, given = (Fuser.from_pretrained(tiny_weights, device="cpu", task="mef", order=o) for o in ("exposure", "given"))
    fuse_videos(mef, a, b, tmp_path / "mef", progress=False)
    fuse_videos(given, b, a, tmp_path / "given_swapped", progress=False)  # b (darker at first) first throughout
    for i in range(4):
        name = f"frame_{i:06d}.png"
        assert np.array_equal(cv2.imread(str(tmp_path / "mef" / name)), cv2.imread(str(tmp_path / "given_swapped" / name)))
    # frame by frame, sorting would have flipped the pair at frame 2
    fa, fb = (cv2.imread(str(folder / "f2.png"))[..., ::-1] for folder in (a, b))
    assert mef.input_order(fa, fb) == [0, 1] and not np.array_equal(mef.fuse(fa, fb), given.fuse(fb, fa))


def test_a_camera_rig_fuses_frames_of_different_sizes(tmp_path, tiny_weights, capsys):
    from defusion.fusion.rig import Rig, RigCamera

    rig = Rig((W, H), (RigCamera((W // 2, H // 2), ((0.5, 0, -0.25), (0, 0.5, -0.25), (0, 0, 1))),), "similarity")
    rig.save(tmp_path / "rig.json")
    a = _write_folder(tmp_path / "vis", _frames(3, 0))
    b = _write_folder(tmp_path / "ir", _frames(3, 1, h=H // 2, w=W // 2))
    out = tmp_path / "fused"
    status, err = _cli(capsys, a, b, "-o", out, "--weights", tiny_weights, "--device", "cpu", "--no-progress",
                       "--rig", tmp_path / "rig.json")
    assert status == 0, err
    assert [cv2.imread(str(p)).shape for p in sorted(out.glob("*.png"))] == [(H, W, 3)] * 3
    status, err = _cli(capsys, b, a, "-o", tmp_path / "swapped", "--weights", tiny_weights, "--device", "cpu",
                       "--no-progress", "--rig", tmp_path / "rig.json")
    assert status == 2 and "calibrated" in err and err.count("\n") == 1


def _exposures(tmp_path: Path, name: str, gains: tuple[float, ...], shift: int = 0) -> Path:
    """A frame folder of one smooth scene at ``gains``, framed ``shift`` px to the right."""
    from tests.conftest import smooth_image

    scene = smooth_image(np.random.default_rng(3), H, W + 8).astype(float)[:, shift:shift + W]
    return _write_folder(tmp_path / name, [np.clip(scene * g, 0, 255).astype(np.uint8) for g in gains])


def _spy(monkeypatch, name: str) -> list:
    """The ``reference`` each call of the fusion core's ``name`` (align_images, deghost) gets."""
    import defusion.fusion.fuser as fuser_module

    seen, step = [], getattr(fuser_module, name)
    monkeypatch.setattr(fuser_module, name, lambda images, *args, reference=None, **kwargs:
                        seen.append(reference) or step(images, *args, reference=reference, **kwargs))
    return seen


def test_an_aligned_bracket_video_is_framed_on_the_best_exposed_as_fuse_frames_it(tmp_path, tiny_weights):
    """The video fused its pairs as given, darker first, and so aligned onto the darker frame where
    defusion fuse --task mef --align aligns onto the best exposed."""
    a = _exposures(tmp_path, "a", (1.0, 1.0), shift=3)  # the best exposed, brighter: fused second
    b = _exposures(tmp_path, "b", (0.3, 0.3))
    mef = Fuser.from_pretrained(tiny_weights, device="cpu", runtime="torch", task="mef", align="translation")
    fuse_videos(mef, a, b, tmp_path / "out", progress=False)
    fa, fb = (cv2.imread(str(folder / "f0.png"))[..., ::-1] for folder in (a, b))
    assert mef.fusion(fa, fb).frame == 0 and mef.input_order(fa, fb) == [1, 0]
    assert np.array_equal(cv2.imread(str(tmp_path / "out" / "frame_000000.png"))[..., ::-1], mef.fuse(fa, fb))


@pytest.mark.parametrize("task, spied", [("mef", "align_images"), ("mef", "deghost"), (None, "deghost")])
def test_the_frame_and_deghosts_reference_stay_the_first_frames_choice(tmp_path, tiny_weights, monkeypatch,
                                                                         task, spied):
    """Per frame, the best exposed flips from b to a at frame 2: the registration's frame and
    deghost's reference would flip with it, and the framing jump."""
    a = _exposures(tmp_path, "a", (0.3, 0.3, 0.9, 0.9))  # always the darker: fused first
    b = _exposures(tmp_path, "b", (1.0, 1.0, 1.9, 1.9))  # the best exposed at first only
    fuser = Fuser.from_pretrained(tiny_weights, device="cpu", runtime="torch", task=task, align="translation",
                                  deghost=True)
    frames = [[cv2.imread(str(folder / f"f{i}.png"))[..., ::-1] / 255.0 for folder in (a, b)] for i in range(4)]
    assert [reference_index(pair) for pair in frames] == [1, 1, 0, 0]
    seen = _spy(monkeypatch, spied)
    fuse_videos(fuser, a, b, tmp_path / "out", progress=False)
    # the first call sorts the first frames (fuse's own choice: None, deghost picks it); then b throughout
    assert seen[0] in (1, None) and seen[1:] == [1] * 4, seen


@pytest.mark.parametrize("out", ["fused.mp4", "frames"])
def test_an_interrupt_says_how_many_frames_were_fused(out, tmp_path, tiny_weights, monkeypatch):
    """Ctrl-C at the third frame: a KeyboardInterrupt still, that says the two fused before it."""
    a = _write_folder(tmp_path / "a", _frames(5, 0))
    b = _write_folder(tmp_path / "b", _frames(5, 1))
    real, calls = Fuser.fuse, []

    def fuse(self, *images, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(self, *images, **kwargs)

    monkeypatch.setattr(Fuser, "fuse", fuse)
    fuser = Fuser.from_pretrained(tiny_weights, device="cpu")
    with pytest.raises(KeyboardInterrupt) as interrupt:
        fuse_videos(fuser, a, b, tmp_path / out, progress=False)
    assert isinstance(interrupt.value, VideoInterrupted) and interrupt.value.frames == 2


def test_a_palette_colours_a_lossy_grey_infrared_video_and_says_when_it_guessed(tmp_path, tiny_weights, capsys):
    """Audit: an mp4's grey frames are off R = G = B by a few levels, so the palette was drawn from the
    visible video; and defusion video never said which image it took for the infrared one."""
    smooth = [cv2.GaussianBlur(f, (0, 0), 2) for f in _frames(3, 1)]  # a codec keeps smooth frames close
    grey = [cv2.cvtColor(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR) for f in smooth]
    visible, infrared = _write_video(tmp_path / "vis.mp4", _frames(3, 0)), _write_video(tmp_path / "ir.mp4", grey)
    decoded = next(open_frames(infrared).frames())
    assert decoded.ndim == 3 and not np.array_equal(decoded[..., 0], decoded[..., 2])  # lossy: not exactly grey
    fuser = Fuser.from_pretrained(tiny_weights, device="cpu", scale=1, palette="hot")
    assert fuser.infrared_source(next(open_frames(visible).frames()), decoded) == (1, None)
    common = ("--weights", tiny_weights, "--device", "cpu", "--scale", 1, "--palette", "hot", "--no-progress")
    status, err = _cli(capsys, visible, infrared, "-o", tmp_path / "out1", *common)
    assert status == 0 and "--palette colours" not in err, err  # certain: the only grey one
    other = _write_video(tmp_path / "ir2.mp4", grey[::-1])
    status, err = _cli(capsys, infrared, other, "-o", tmp_path / "out2", *common)
    assert status == 0 and f"note: --palette colours {tmp_path / 'ir2.mp4'} as the infrared image (all are grey)" in err


def test_raw_thermal_frames_say_once_the_stretch_the_video_keeps(tmp_path, tiny_weights, capsys):
    """Audit: defusion fuse says which raw 16-bit frames it stretches and from which counts; defusion
    video said nothing of the mapping it keeps for the whole video."""
    from defusion.fusion.stretch import describe_stretch

    ramp = np.linspace(0, 1, H * W).reshape(H, W)
    ir = [(7000 + 1152 * ramp).astype(np.uint16) for _ in range(3)]
    ir[2][:30, :30] = 12000  # a hot object enters: the kept mapping is the first frame's
    visible = _frames(3, 0)
    said = describe_stretch(["ir", "vis"], [ir[0], visible[0]])
    status, err = _cli(capsys, _write_folder(tmp_path / "ir", ir), _write_folder(tmp_path / "vis", visible),
                       "-o", tmp_path / "out", "--weights", tiny_weights, "--device", "cpu", "--no-progress")
    assert status == 0, err
    assert err.count("defusion: note: ir holds 16-bit values") == 1, err
    assert f"defusion: note: {said[0]} (--stretch none keeps the values as they are)" in err
    status, err = _cli(capsys, tmp_path / "ir", tmp_path / "vis", "-o", tmp_path / "out2", "--weights", tiny_weights,
                       "--device", "cpu", "--no-progress", "--stretch", "none")
    assert status == 0 and "16-bit values" not in err, err

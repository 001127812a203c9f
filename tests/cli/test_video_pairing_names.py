"""`defusion video` on frame folders: a frame deleted from one folder shifts every later pair by one
(audit: only "fusing the common 11" was said, though the names showed which frame was missing), and a
thermal folder opening on a noisy shutter (NUC) frame says the stretch of the frame it is measured on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from defusion.cli.main import main
from defusion.fusion.video.pairing import misnumbered_pair
from defusion.io.images import write_image
from tests.conftest import smooth_image

H, W = 24, 32
#: Frames in each input.
N = 5


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """One intra-op thread: the machine's few cores are shared (see tests/conftest.py)."""


def _names(*stems: object, suffix: str = ".png") -> list[Path]:
    return [Path("f") / f"{stem}{suffix}" for stem in stems]


def test_misnumbered_pair_reads_frame_numbers_and_names():
    assert misnumbered_pair(_names("vis_0001", "vis_0002", "vis_0004"), _names("ir_1", "ir_2", "ir_3")) == 2
    assert misnumbered_pair(_names("vis_0001", "vis_0002", "vis_0003"), _names("ir_1", "ir_2", "ir_3")) is None
    assert misnumbered_pair(_names("a", "c", "d"), _names("a", "b", "c", "d")) == 1  # equal names, no numbers
    assert misnumbered_pair(_names("a", "b"), _names("x", "y")) is None  # names that say nothing of the pairing
    assert misnumbered_pair(_names(0, 1, 2, 4), _names(0, 1, 2, 3, 4), pairs=3) is None  # past --max-frames
    assert misnumbered_pair(_names("1a", "1b", "2"), _names(1, 2, 3)) is None  # a number twice: names say nothing
    assert misnumbered_pair(_names(0, 1, 2), _names(0, 1, 2), pairs=0) is None


def _video(capsys, a: Path, b: Path, out: Path, weights: Path, *extra: str) -> tuple[int, str]:
    status = main(["video", str(a), str(b), "-o", str(out), "--weights", str(weights), "--no-progress", *extra])
    return status, capsys.readouterr().err


def _folder(folder: Path, frames: list[np.ndarray], numbers: list[int]) -> Path:
    for frame, number in zip(frames, numbers):
        write_image(folder / f"frame{number}.png", frame)
    return folder


def test_a_frame_missing_from_one_folder_is_named_before_fusing(tmp_path, rng, tiny_weights, capsys):
    frames = [smooth_image(rng, H, W) for _ in range(N)]
    vis = _folder(tmp_path / "vis", frames, list(range(N)))
    ir = _folder(tmp_path / "ir", frames, [0, 1, 3, 4])  # frame 2 deleted
    status, err = _video(capsys, vis, ir, tmp_path / "out", tiny_weights)
    assert status == 0, err
    said = f"warning: frame 2 pairs {vis / 'frame2.png'} with {ir / 'frame3.png'}: a frame missing from one folder?"
    assert err.count(said) == 1, err
    assert err.index(said) < err.index("fused 4 frames"), err
    status, err = _video(capsys, vis, _folder(tmp_path / "whole", frames, list(range(N))), tmp_path / "out2",
                         tiny_weights)
    assert status == 0 and "pairs" not in err, err


def _thermal(rng, first: np.ndarray) -> list[np.ndarray]:
    scenes = [(7000 + 2000 * (smooth_image(rng, H, W, 1) / 255.0)).astype(np.uint16) for _ in range(N - 1)]
    return [first, *scenes]


@pytest.mark.parametrize("noise", [3, 1], ids=["noisy_shutter", "flat_shutter"])
def test_the_stretch_measured_past_a_shutter_frame_is_said(tmp_path, rng, tiny_weights, capsys, noise):
    shutter = (8000 + rng.integers(0, noise, (H, W))).astype(np.uint16)  # 8000-8002, or exactly 8000
    vis = _folder(tmp_path / "vis", [smooth_image(rng, H, W)] * N, list(range(N)))
    ir = _folder(tmp_path / "ir", _thermal(rng, shutter), list(range(N)))
    status, err = _video(capsys, vis, ir, tmp_path / "out", tiny_weights, "--palette", "inferno")
    assert status == 0, err
    notes = [line for line in err.splitlines() if "stretched to the full range" in line]
    assert len(notes) == 1 and "holds 16-bit values 8000" not in notes[0], err
    assert notes[0].startswith("defusion: note: ir holds 16-bit values 7"), err
    assert "; measured on frame 1, the first with content: the frames before it hold (nearly) one value" in notes[0]

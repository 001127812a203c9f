"""`defusion video -o DIR/ --skip-existing`: an interrupted run goes on where it stopped (at 0.1 frames/s
for 640x480, a long clip takes hours; an audit found every rerun starting again from frame 0), and writes
the frames an uninterrupted run writes."""

from __future__ import annotations

import numpy as np
import pytest

from defusion.cli.main import main
from defusion.io.images import write_image
from tests.cli.test_video_interrupt_cli import _interrupt_at  # KeyboardInterrupt at the call-th frame
from tests.conftest import smooth_image

#: Frames in each input.
N = 6


@pytest.fixture
def brightening_folders(tmp_path, rng):
    """Colour frames and grey (infrared) frames that brighten frame by frame: a palette's range is
    fixed on the first frames, so frames fused without them would come out otherwise."""
    visible, infrared = smooth_image(rng, 24, 32), smooth_image(rng, 24, 32, channels=1)
    for i in range(N):
        gain = 0.4 + 0.1 * i
        write_image(tmp_path / "a" / f"{i:03d}.png", (visible * gain).astype(np.uint8))
        write_image(tmp_path / "b" / f"{i:03d}.png", (infrared * gain).astype(np.uint8))
    return tmp_path / "a", tmp_path / "b"


def _video(capsys, folders, out, weights, *extra: str) -> tuple[int, str]:
    status = main(["video", *map(str, folders), "-o", str(out), "--weights", str(weights), "--no-progress",
                   "--palette", "inferno", *extra])
    return status, capsys.readouterr().err


def _frames(folder) -> dict[str, bytes]:
    """The frame files (not the hidden record of the settings they were fused with)."""
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if not path.name.startswith(".")}


def test_an_interrupted_frame_folder_goes_on_and_matches_an_uninterrupted_run(
        tmp_path, brightening_folders, tiny_weights, monkeypatch, capsys, one_torch_thread):
    status, err = _video(capsys, brightening_folders, tmp_path / "whole", tiny_weights)
    assert status == 0, err
    out = tmp_path / "resumed"
    _interrupt_at(monkeypatch, 3)
    status, err = _video(capsys, brightening_folders, out, tiny_weights)
    assert status == 130 and err.endswith("run the same command with --skip-existing to fuse the rest\n"), err
    assert len(_frames(out)) == 2
    _interrupt_at(monkeypatch, 2)  # the second frame fused: frame 3
    status, err = _video(capsys, brightening_folders, out, tiny_weights, "--skip-existing")
    assert status == 130
    assert err.endswith(f"the 1 frame fused is kept in {out} (frame_000002.png), beside the 2 already there; "
                        "run the same command to fuse the rest\n"), err
    monkeypatch.undo()
    status, err = _video(capsys, brightening_folders, out, tiny_weights, "--skip-existing")
    assert status == 0, err
    last = err.rstrip("\n").split("\n")[-1]
    assert last.startswith("fused 3 frames in ") and last.endswith(f"into {out}; skipped the 3 already there"), err
    assert _frames(out) == _frames(tmp_path / "whole")


def test_skip_existing_fuses_nothing_again(tmp_path, brightening_folders, tiny_weights, monkeypatch, capsys,
                                           one_torch_thread):
    out = tmp_path / "frames"
    assert _video(capsys, brightening_folders, out, tiny_weights)[0] == 0
    _interrupt_at(monkeypatch, 1)  # any fusion would be interrupted
    status, err = _video(capsys, brightening_folders, out, tiny_weights, "--skip-existing")
    assert status == 0, err
    assert err.rstrip("\n").split("\n")[-1].endswith(f"into {out}; skipped the {N} already there")


@pytest.mark.parametrize("out", ["fused.mp4", "clip.avi"])
def test_skip_existing_with_a_video_file_is_refused_in_one_line(out, tmp_path, brightening_folders, tiny_weights,
                                                                 capsys):
    status, err = _video(capsys, brightening_folders, tmp_path / out, tiny_weights, "--skip-existing")
    assert status == 2
    assert err == (f"defusion: error: --skip-existing is for a folder of frames (-o DIR/): {tmp_path / out}, a "
                   "video, is written only once complete, so an interrupted one leaves nothing to go on from\n")


def test_skip_existing_with_other_settings_is_refused_as_fuse_refuses_it(tmp_path, brightening_folders, tiny_weights,
                                                                         capsys, one_torch_thread):
    """A frame folder records its settings (as fuse's folder runs do): a rerun with another --scale would
    have kept the earlier frames beside new ones of other settings, unsaid (a review's finding)."""
    from defusion.cli.fuse.fused_settings import SETTINGS_FILE

    out = tmp_path / "frames"
    status, err = _video(capsys, brightening_folders, out, tiny_weights, "--scale", "1", "--max-frames", "2")
    assert status == 0, err
    assert (out / SETTINGS_FILE).is_file()
    status, err = _video(capsys, brightening_folders, out, tiny_weights, "--scale", "2", "--skip-existing")
    assert status == 2 and err.strip().splitlines() == [
        f"defusion: error: --skip-existing: the 2 frames already in {out} were fused with other settings (--scale 1, "
        "now 2): give another -o, or leave out --skip-existing to fuse every frame again with these"]
    status, err = _video(capsys, brightening_folders, out, tiny_weights, "--scale", "1", "--skip-existing")
    assert status == 0 and "skipped the 2 already there" in err


def test_an_interrupted_rerun_with_other_settings_leaves_the_earlier_ones_recorded(
        tmp_path, brightening_folders, tiny_weights, monkeypatch, capsys, one_torch_thread):
    """The frames after the interruption are the earlier run's: going on with the new settings is refused,
    and a whole run settles the folder on its own (before, the record held the latest run's alone)."""
    out = tmp_path / "frames"
    assert _video(capsys, brightening_folders, out, tiny_weights, "--scale", "1")[0] == 0
    _interrupt_at(monkeypatch, 2)
    assert _video(capsys, brightening_folders, out, tiny_weights, "--scale", "2")[0] == 130
    monkeypatch.undo()
    status, err = _video(capsys, brightening_folders, out, tiny_weights, "--scale", "2", "--skip-existing")
    assert status == 2 and "were fused with other settings (--scale 1, now 2)" in err, err
    assert _video(capsys, brightening_folders, out, tiny_weights, "--scale", "2")[0] == 0
    status, err = _video(capsys, brightening_folders, out, tiny_weights, "--scale", "2", "--skip-existing")
    assert status == 0 and f"skipped the {N} already there" in err, err

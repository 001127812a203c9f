"""`defusion video` with its progress bar drawn: what it says of the first frames (which image --palette
colours) is a line of its own, said before the bar, not glued to the bar's line and redrawn under it
(a newcomer's audit); a warning found inside the bar is written above it."""

from __future__ import annotations

import sys

import pytest

from defusion.cli.main import main
from defusion.io.images import write_image
from tests.conftest import smooth_image


@pytest.fixture
def colour_frame_folders(tmp_path, rng):
    """Two folders of three colour frames: --palette has to guess which one is the infrared image."""
    for name in ("a", "b"):
        for i in range(3):
            write_image(tmp_path / name / f"{i:03d}.png", smooth_image(rng, 24, 32))
    return tmp_path / "a", tmp_path / "b"


def test_the_palette_note_is_a_whole_line_before_the_bar(tmp_path, colour_frame_folders, tiny_weights, capsys,
                                                         one_torch_thread):
    status = main(["video", *map(str, colour_frame_folders), "-o", str(tmp_path / "out"), "--weights",
                   str(tiny_weights), "--palette", "inferno"])  # the bar drawn: no --no-progress
    err = capsys.readouterr().err
    assert status == 0, err
    lines = err.split("\n")  # as a log file holds them: the bar's redraws are "\r"s within one line
    said = [line for line in lines if "--palette colours" in line]
    assert len(said) == 1 and said[0].startswith("defusion: note: --palette colours "), err
    assert lines.index(said[0]) < next(i for i, line in enumerate(lines) if "fusing" in line), err


def test_a_warning_inside_the_bar_is_written_above_it(capsys):
    from tqdm import tqdm

    from defusion.fusion.video.fusing import _warn_on_stderr

    with tqdm(total=3, desc="fusing", file=sys.stderr) as bar:
        bar.update()
        _warn_on_stderr("b.mp4 ended after 1 frames, before the other input; fused the first 1")
    shown = [line.split("\r")[-1] for line in capsys.readouterr().err.split("\n")]  # what a terminal shows
    assert "defusion: warning: b.mp4 ended after 1 frames, before the other input; fused the first 1" in shown, shown

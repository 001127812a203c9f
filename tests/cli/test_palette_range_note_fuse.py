"""``defusion fuse --palette`` says the infrared values its colours span, in the form ``--palette-range``
takes, as ``defusion video`` does (one wording, :func:`defusion.cli.fuse.fusion_notes.palette_range_note`):
a still image fused with ``--palette jet`` never said it, so another image could not be coloured alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from defusion.cli.fuse.fusion_notes import palette_range_note
from defusion.cli.main import main
from defusion.fusion.choices import palette_span_text
from defusion.io.images import read_image, write_image
from tests.conftest import smooth_image

H, W = 24, 32
#: What the note starts with, fuse's and video's.
SPANS = "--palette spans infrared values"


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """One intra-op thread: the machine's few cores are shared (see tests/conftest.py)."""


def _pair(folder: Path, rng) -> list[Path]:
    folder.mkdir(exist_ok=True)
    return [write_image(folder / "vis.png", smooth_image(rng, H, W)),
            write_image(folder / "ir.png", smooth_image(rng, H, W, channels=1))]


def _fuse(paths: list[Path], out: Path, weights: Path, *options: str) -> int:
    return main(["fuse", *map(str, paths), "-o", str(out), "--weights", str(weights), "--no-progress", "--scale", "1",
                 "--palette", "jet", *options])


def _noted(err: str) -> list[str]:
    return [line for line in err.splitlines() if SPANS in line]


def test_a_still_image_notes_the_range_its_palette_spans(tmp_path, rng, tiny_weights, capsys, fresh_notes):
    from defusion.fusion.fuser import Fuser

    paths = _pair(tmp_path / "p", rng)
    assert _fuse(paths, tmp_path / "f.png", tiny_weights) == 0
    measured = Fuser.from_pretrained(tiny_weights, device="cpu", scale=1, palette="jet").measure_palette(
        *(read_image(p) for p in paths))
    text = palette_span_text(measured)
    assert _noted(capsys.readouterr().err) == [
        f"defusion: note: {SPANS} {text.replace(',', ' to ')} (measured on these images); --palette-range {text} "
        "colours another run alike"]
    assert _fuse(paths, tmp_path / "again.png", tiny_weights, "--palette-range", text) == 0  # as the note says
    assert not _noted(capsys.readouterr().err)  # given, not measured
    first, again = read_image(tmp_path / "f.png"), read_image(tmp_path / "again.png")
    assert np.abs(first.astype(int) - again.astype(int)).max() <= 1
    assert main(["fuse", *map(str, paths), "-o", str(tmp_path / "plain.png"), "--weights", str(tiny_weights),
                 "--no-progress", "--scale", "1"]) == 0
    assert not _noted(capsys.readouterr().err)  # no palette, no range


def test_one_wording_for_fuse_and_video():
    """The function fuse says it through gives video's line as video says it (tests/cli/test_palette_range_cli.py)."""
    assert palette_range_note((0.2, 0.6), "the first frames", ", kept for the whole video") == (
        f"{SPANS} 0.2 to 0.6 (measured on the first frames), kept for the whole video; --palette-range 0.2,0.6 "
        "colours another run alike")
    assert palette_range_note(None, "these images") is None

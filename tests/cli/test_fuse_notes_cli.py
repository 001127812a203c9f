"""`defusion fuse` saying what --align and --deghost found: a photographer's audit could not tell
whether either did anything without inspecting pixels."""

from __future__ import annotations

import re

import numpy as np
import pytest

from defusion.cli.main import main
from defusion.io.images import write_image
from tests.conftest import smooth_image

#: How far (px) the second shot of the synthetic bracket is framed from the first.
SHIFT = 3


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """One intra-op thread: the machine's few cores are shared (see tests/conftest.py)."""


def _fuse(*args) -> int:
    return main(["fuse", *map(str, args), "--no-progress", "--scale", "1"])


def _handheld(folder, rng, prefix: str) -> list:
    """Two shots of one scene in ``folder``, the second framed SHIFT px to the right (names unique per
    test: a note is said once per process)."""
    scene = smooth_image(rng, 72, 96)
    shots = (scene[4:68, 4:92], scene[4:68, 4 + SHIFT:92 + SHIFT])
    return [write_image(folder / f"{prefix}_{i}.png", shot) for i, shot in enumerate(shots)]


def _moved_block(tmp_path, rng, prefix: str) -> list:
    """A dark and a bright exposure of one scene, in the bright one a block moved 40 px to the right."""
    scene = smooth_image(rng, 96, 128).astype(np.float32) / 255.0 * 0.8 + 0.1
    dark, bright = np.clip(scene * 0.5, 0, 1), np.clip(scene * 1.5, 0, 1)
    bright[30:60, 60:90] = bright[30:60, 20:50]
    return [write_image(tmp_path / f"{prefix}_{name}.png", np.rint(x * 255).astype(np.uint8))
            for name, x in (("dark", dark), ("bright", bright))]


def test_align_notes_the_shift_it_found(tmp_path, rng, tiny_weights, capsys):
    first, second = _handheld(tmp_path, rng, "shifted")
    assert _fuse(first, second, "--align", "translation", "-o", tmp_path / "f.png", "--weights", tiny_weights) == 0
    err = capsys.readouterr().err
    found = re.search(r"defusion: note: aligned shifted_1\.png onto shifted_0\.png: shift ([\d.]+) px\n", err)
    assert found, err
    assert float(found.group(1)) == pytest.approx(SHIFT, abs=0.5)
    assert "deghost" not in err and err.count("note:") == 1


def test_deghost_notes_the_share_it_replaced(tmp_path, rng, tiny_weights, capsys):
    dark, bright = _moved_block(tmp_path, rng, "block")
    assert _fuse(dark, bright, "--deghost", "-o", tmp_path / "f.png", "--weights", tiny_weights) == 0
    err = capsys.readouterr().err
    found = re.search(r"defusion: note: deghost replaced ([\d.]+)% of block_\w+\.png's pixels \(what moved\)\n", err)
    assert found, err
    assert float(found.group(1)) > 0 and "aligned" not in err


def test_align_and_deghost_say_a_line_each_and_a_still_bracket_says_nothing_moved(tmp_path, rng, tiny_weights,
                                                                                    capsys):
    first, second = _handheld(tmp_path, rng, "still")
    assert _fuse(first, second, "--align", "affine", "--deghost", "-o", tmp_path / "f.png",
                 "--weights", tiny_weights) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("defusion: note:")]
    assert len(notes) == 2, notes
    assert re.fullmatch(r"defusion: note: aligned still_1\.png onto still_0\.png: corners moved [\d.]+ px \(shift "
                        r"[\d.]+ px, rotation [\d.]+\N{DEGREE SIGN}, zoom [+-][\d.]+%\)", notes[0]), notes
    assert notes[1] == "defusion: note: deghost found nothing that moved among still_0.png, still_1.png"


def test_neither_option_says_nothing_of_registration(tmp_path, rng, tiny_weights, capsys):
    first, second = _handheld(tmp_path, rng, "plain")
    assert _fuse(first, second, "-o", tmp_path / "f.png", "--weights", tiny_weights) == 0
    err = capsys.readouterr().err
    assert "aligned" not in err and "deghost" not in err and "note:" not in err


def test_a_folder_run_sums_up_registration_naming_the_group_that_moved_most(tmp_path, rng, tiny_weights, capsys):
    """A line per group would bury a card of brackets; one summary names where to look."""
    card = tmp_path / "card"
    _handheld(card, rng, "IMG_a")  # framed SHIFT px apart
    scene = smooth_image(rng, 64, 88)
    for i in range(2):  # a still pair: nothing to align, nothing moved
        write_image(card / f"IMG_b_{i}.png", scene)
    assert _fuse("--stacks", card, "--group", "2", "--align", "translation", "--deghost", "-o", tmp_path / "out",
                 "--weights", tiny_weights) == 0
    err = capsys.readouterr().err
    assert (tmp_path / "out" / "IMG_a_0-IMG_a_1.png").exists(), err
    found = re.search(r"defusion: aligned 2 groups: shifts up to ([\d.]+) px \(IMG_a_0-IMG_a_1\), median [\d.]+ px\n",
                      err)
    assert found and float(found.group(1)) == pytest.approx(SHIFT, abs=0.5), err
    assert re.search(r"defusion: deghost (replaced up to [\d.]+% of a source's pixels \(IMG_a_0-IMG_a_1\); nothing "
                     r"moved in 1 of 2 groups|found nothing that moved in 2 groups)\n", err), err
    assert "note: aligned" not in err  # no line per group


def test_a_folder_run_without_registration_sums_up_nothing(tmp_path, rng, tiny_weights, capsys):
    card = tmp_path / "card"
    _handheld(card, rng, "IMG")
    assert _fuse("--stacks", card, "--group", "2", "-o", tmp_path / "out", "--weights", tiny_weights) == 0
    err = capsys.readouterr().err
    assert "aligned" not in err and "deghost" not in err


def test_the_registration_summary_counts_one_pair_in_the_singular():
    from defusion.cli.fuse.fusion_notes import registration_summary

    assert registration_summary({"a": (None, 0.2)}, "pairs", "none") == [
        "deghost replaced up to 20.0% of a source's pixels (a); nothing moved in 0 of 1 pair"]
    assert registration_summary({"a": (None, 0.2), "b": (None, 0.0)}, "groups", "none")[0].endswith(
        "nothing moved in 1 of 2 groups")

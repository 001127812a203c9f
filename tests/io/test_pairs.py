"""Folders of pairs: every format read_image reads is paired; what else a folder holds is said."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from defusion.cli.fuse.fused_settings import SETTINGS_FILE

from defusion.errors import DefusionNote, DefusionWarning
from defusion.io.pairs import PairsError, left_out, match_pairs


def _said(caught: list[warnings.WarningMessage]) -> str:
    """What a Python caller was told (defusion's warnings), one ``kind: message`` a line, ``note`` for a
    DefusionNote, ``warning`` for a DefusionWarning: what the command says after ``defusion: ``."""
    return "".join(f"{'note' if issubclass(w.category, DefusionNote) else 'warning'}: {w.message}\n"
                   for w in caught if issubclass(w.category, DefusionWarning))


def _touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"")


def test_gif_heic_and_raw_files_are_paired_like_single_images(tmp_path):
    """Folder mode once matched only data.dataset's suffixes and passed these over silently."""
    _touch(tmp_path / "a", "01.gif", "02.HEIC", "03.dng", "04.pgm")
    _touch(tmp_path / "b", "01.gif", "02.heic", "03.png", "04.tga")
    pairs, unmatched = match_pairs(tmp_path / "a", tmp_path / "b")
    names = [(stem, a.name, b.name) for stem, a, b in pairs]
    assert names == [("01", "01.gif", "01.gif"), ("02", "02.HEIC", "02.heic"), ("03", "03.dng", "03.png"),
                     ("04", "04.pgm", "04.tga")]
    assert unmatched == []


def test_hidden_files_other_files_and_subfolders_are_left_out_and_said(tmp_path, recwarn):
    _touch(tmp_path / "a", "08.png", "._08.png", ".DS_Store", "notes.txt", "scene.psd")
    _touch(tmp_path / "b", "08.png", "._08.png")
    (tmp_path / "a" / "more").mkdir()
    pairs, unmatched = match_pairs(tmp_path / "a", tmp_path / "b")
    assert [stem for stem, _, _ in pairs] == ["08"] and unmatched == []  # no hidden "._08" pair
    err = _said(recwarn.list)
    a = tmp_path / "a"
    assert f"note: {a}: left out 2 other files, not images defusion reads: notes.txt, scene.psd" in err
    assert f"note: {a}: left out 1 hidden file: ._08.png" in err
    assert f"note: {a}: left out subfolders, not searched: more/" in err
    assert ".DS_Store" not in err  # never an image: not worth a line
    assert left_out(tmp_path / "b") == [left_out(a)[1]]


def test_names_that_differ_only_in_case_are_said_once_with_what_to_do(tmp_path, recwarn):
    """From an audit: vi/carLight.jpg and ir/carlight.jpg gave two unrelated 'no partner' lines."""
    _touch(tmp_path / "vi", "carLight.jpg", "kettle.jpg", "fight.jpg")
    _touch(tmp_path / "ir", "carlight.jpg", "kettle.jpg", "snow.jpg")
    pairs, unmatched = match_pairs(tmp_path / "vi", tmp_path / "ir")
    assert [stem for stem, _, _ in pairs] == ["kettle"]  # matched exactly, as before
    assert unmatched == ["carLight", "carlight", "fight", "snow"]
    err = _said(recwarn.list)
    assert "not paired, as their names differ only in case: carLight and carlight" in err
    assert "case included: rename one of each" in err and "fight" not in err and len(err.splitlines()) == 1


def test_a_folder_without_images_says_what_it_holds(tmp_path):
    """It once said 'no pairs: no file stem is in both', as if the names were the problem."""
    _touch(tmp_path / "a", "01.psd", "02.xcf")
    _touch(tmp_path / "b", "01.png", "02.png")
    (tmp_path / "empty").mkdir()
    with pytest.raises(PairsError, match=r"no images in .*a; it holds 2 other files, not images defusion reads: "
                                         r"01\.psd, 02\.xcf \(it reads PNG, JPEG"):
        match_pairs(tmp_path / "a", tmp_path / "b")
    with pytest.raises(PairsError, match="no images in .*empty; it is empty"):
        match_pairs(tmp_path / "b", tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="folder not found"):
        match_pairs(tmp_path / "b", tmp_path / "missing")


def test_folder_mode_fuses_gif_pairs_and_no_hidden_ones(tmp_path, rng, tiny_weights, capsys):
    from defusion.cli.main import main

    for folder, value in (("a", 60), ("b", 190)):
        (tmp_path / folder).mkdir()
        Image.fromarray(np.full((24, 32), value, np.uint8)).save(tmp_path / folder / "01.gif")
        Image.fromarray((rng.random((24, 32)) * 255).astype(np.uint8)).save(tmp_path / folder / "02.png")
        (tmp_path / folder / "._02.png").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    out = tmp_path / "out"
    assert main(["fuse", "--a", str(tmp_path / "a"), "--b", str(tmp_path / "b"), "-o", str(out), "--weights",
                 str(tiny_weights), "--no-progress"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [SETTINGS_FILE, "01.png", "02.png"]  # the run's settings beside
    assert "fused 2 of 2 pairs" in capsys.readouterr().err

    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "01.txt").write_text("not an image", encoding="utf-8")
    assert main(["fuse", "--a", str(tmp_path / "c"), "--b", str(tmp_path / "b"), "-o", str(tmp_path / "out2"),
                 "--weights", str(tiny_weights), "--no-progress"]) == 2
    assert "defusion: error: no images in" in capsys.readouterr().err

"""A method's results by file pattern: `{stem}` stands for the pair (defusion bench --fused NAME=PATTERN)."""

from __future__ import annotations

import pytest

from defusion.io.pairs import PairsError, check_stem_pattern, results_by_stem, results_folder


def test_a_pattern_keys_the_files_it_matches_by_the_pair_in_them(tmp_path):
    for name in ("01_mine.png", "02_mine.png", "01_theirs.png", "01_MINE.png", "._03_mine.png", "_mine.png",
                 "01_mine.png.txt"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "04_mine.png").mkdir()  # a folder: no result
    found = results_by_stem(tmp_path / "{stem}_mine.png")
    assert found == {"01": tmp_path / "01_mine.png", "02": tmp_path / "02_mine.png"}  # exact, no hidden file
    assert results_by_stem(tmp_path / "fused_{stem}.png") == {}
    assert results_folder(tmp_path / "{stem}_mine.png") == tmp_path and results_folder(tmp_path) == tmp_path
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "01.jpg").write_bytes(b"")
    assert results_by_stem(tmp_path / "x") == {"01": tmp_path / "x" / "01.jpg"}  # a folder: as before


def test_a_pattern_that_can_name_no_image_is_refused(tmp_path):
    check_stem_pattern(tmp_path / "{stem}_mine.PNG")  # any case of a read extension
    with pytest.raises(PairsError, match=r"end it with an image file's extension, e.g. \{stem\}_mine.png "):
        check_stem_pattern(tmp_path / "{stem}_mine.txt")  # the wrong extension replaced, not kept (.txt.png)
    with pytest.raises(PairsError, match=r"e.g. \{stem\}_mine.png "):
        check_stem_pattern(tmp_path / "{stem}_mine")
    with pytest.raises(PairsError, match=r"put \{stem\} once, in the file's name"):
        check_stem_pattern(tmp_path / "{stem}" / "mine.png")
    with pytest.raises(FileNotFoundError, match="folder not found"):
        check_stem_pattern(tmp_path / "missing" / "{stem}.png")


# {ext}: results stored with mixed extensions (MFIFB's <scene>_<METHOD>.<ext> of .jpg, .png and .bmp)


def test_an_ext_pattern_matches_any_image_extension_defusion_reads(tmp_path):
    for name in ("lytro_01_CNN.jpg", "lytro_02_CNN.png", "aymaz_01_CNN.BMP", "lytro_01_DPRL.png",
                 "lytro_03_CNN.txt", "._lytro_04_CNN.png", "lytro_05_CNN.jpg.txt"):
        (tmp_path / name).write_bytes(b"")
    found = results_by_stem(tmp_path / "{stem}_CNN.{ext}")
    assert found == {"lytro_01": tmp_path / "lytro_01_CNN.jpg", "lytro_02": tmp_path / "lytro_02_CNN.png",
                     "aymaz_01": tmp_path / "aymaz_01_CNN.BMP"}  # no other method, non-image or hidden file
    assert results_by_stem(tmp_path / "{stem}_CNN.jpg") == {"lytro_01": tmp_path / "lytro_01_CNN.jpg"}  # as before
    check_stem_pattern(tmp_path / "{stem}_CNN.{ext}")
    assert results_folder(tmp_path / "{stem}_CNN.{ext}") == tmp_path


def test_an_ext_pattern_matching_two_files_of_a_pair_is_refused_naming_both(tmp_path):
    for name in ("01_mine.jpg", "01_mine.png", "02_mine.png"):
        (tmp_path / name).write_bytes(b"")
    with pytest.raises(PairsError, match=r"2 files match for the pair 01: 01_mine.jpg and 01_mine.png in .*; "
                                         r"remove one, or give the extension in place of \{ext\}") as caught:
        results_by_stem(tmp_path / "{stem}_mine.{ext}")
    assert "\n" not in str(caught.value)
    assert results_by_stem(tmp_path / "{stem}_mine.png") == {"01": tmp_path / "01_mine.png",
                                                             "02": tmp_path / "02_mine.png"}


def test_ext_anywhere_but_the_extension_is_refused(tmp_path):
    for pattern in ("{stem}{ext}", "{stem}_{ext}.png", "{stem}.{ext}.png", "{ext}_{stem}.{ext}"):
        with pytest.raises(PairsError, match=r"\{ext\} stands for the extension: end the file's name with \.\{ext\}"):
            check_stem_pattern(tmp_path / pattern)
    with pytest.raises(PairsError, match=r"put \{stem\} once"):
        check_stem_pattern(tmp_path / "mine.{ext}")  # {ext} alone: a pattern, not a missing folder
    with pytest.raises(PairsError, match=r"e.g. \{stem\}_mine.png \(or .\{ext\} for any"):
        check_stem_pattern(tmp_path / "{stem}_mine.txt")  # the refusal names the other form

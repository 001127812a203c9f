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

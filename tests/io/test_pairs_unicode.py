"""Pairing by stem across Unicode spellings and case: macOS lists ``café`` decomposed (e + a combining
accent), other systems composed, and two pairs whose names differ only in case are one file on
Windows and macOS."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from defusion.io.pairs import case_clashes, images_by_stem, match_pairs, results_by_stem, stem_clashes

COMPOSED = unicodedata.normalize("NFC", "café")
DECOMPOSED = unicodedata.normalize("NFD", "café")


def _touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"")


def test_a_decomposed_name_pairs_with_the_composed_one(tmp_path):
    """A folder copied from a Mac (NFD) once never paired with one written elsewhere (NFC): 'no pairs'."""
    assert COMPOSED != DECOMPOSED
    _touch(tmp_path / "a", f"{DECOMPOSED}.png")
    _touch(tmp_path / "b", f"{COMPOSED}.png")
    pairs, unmatched = match_pairs(tmp_path / "a", tmp_path / "b")
    assert [(stem, a.name, b.name) for stem, a, b in pairs] == [(COMPOSED, f"{DECOMPOSED}.png", f"{COMPOSED}.png")]
    assert unmatched == []


def test_results_named_decomposed_are_found_by_folder_and_by_pattern(tmp_path):
    """A method's results written on a Mac are the results of the pairs named composed."""
    _touch(tmp_path / "mine", f"{DECOMPOSED}.png")
    _touch(tmp_path / "theirs", f"{DECOMPOSED}_theirs.png", f"{DECOMPOSED}_any.jpg")
    assert list(results_by_stem(tmp_path / "mine")) == [COMPOSED]
    assert list(results_by_stem(tmp_path / "theirs" / "{stem}_theirs.png")) == [COMPOSED]
    assert list(results_by_stem(tmp_path / "theirs" / "{stem}_any.{ext}")) == [COMPOSED]
    # a pattern typed decomposed (in a Mac's terminal) finds results named composed
    _touch(tmp_path / "typed", f"01_{COMPOSED}.png")
    assert list(results_by_stem(tmp_path / "typed" / f"{{stem}}_{DECOMPOSED}.png")) == ["01"]


def test_both_spellings_in_one_folder_are_one_stem_said_as_a_clash(tmp_path):
    """Linux can hold both: one stem, the last in name order used, said as two files of one stem."""
    _touch(tmp_path / "a", f"{COMPOSED}.png", f"{DECOMPOSED}.png")
    assert list(images_by_stem(tmp_path / "a")) == [COMPOSED]
    [clash] = stem_clashes(tmp_path / "a")
    assert clash.startswith(f"{COMPOSED}: 2 files")


def test_stems_equal_but_for_case_clash_once_each():
    assert case_clashes(["Scene", "kettle", "scene", "Kettle2"]) == [("Scene", "scene")]
    assert case_clashes(["STRASSE", "straße"]) == [("STRASSE", "straße")]  # case folded, not lowered
    assert case_clashes([f"{COMPOSED.upper()}", DECOMPOSED]) == [(COMPOSED.upper(), DECOMPOSED)]
    assert case_clashes(["01", "02"]) == []

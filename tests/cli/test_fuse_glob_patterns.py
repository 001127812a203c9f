"""``defusion fuse 'data/b5_*.jpg'``: a pattern the shell left unexpanded (Windows' cmd and PowerShell
never expand one) is expanded by defusion itself (audit: it said "give at least two images")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from defusion.cli.errors import UserError
from defusion.cli.fuse.path_checks import expand_patterns
from defusion.cli.main import main
from defusion.io.images import read_image, write_image
from tests.conftest import smooth_image


def _fuse(*args) -> int:
    return main(["fuse", *map(str, args), "--no-progress", "--scale", "1"])


def _shots(rng: np.random.Generator, folder: Path, names: list[str]) -> None:
    folder.mkdir(exist_ok=True)
    for name in names:
        write_image(folder / name, smooth_image(rng, 24, 32))


def test_a_pattern_is_expanded_to_its_files_sorted_and_a_file_named_like_one_is_itself(rng, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _shots(rng, tmp_path / "data", ["b5_2.jpg", "b5_0.jpg", "b5_1.jpg", "other.jpg", "b5_[1].jpg"])
    assert expand_patterns([Path("data/b5_?.jpg")]) == [Path(f"data/b5_{i}.jpg") for i in range(3)]
    assert expand_patterns([Path("data/b5_[01].jpg"), Path("data/other.jpg")]) == [
        Path("data/b5_0.jpg"), Path("data/b5_1.jpg"), Path("data/other.jpg")]
    assert expand_patterns([Path("data/b5_[1].jpg")]) == [Path("data/b5_[1].jpg")]  # the file, not b5_1.jpg
    with pytest.raises(UserError, match=r"^data/x_\*\.jpg: no such file, and no file matches it as a pattern$"):
        expand_patterns([Path("data/x_*.jpg")])


def test_fuse_expands_a_quoted_pattern_as_a_shell_would(rng, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _shots(rng, tmp_path / "data", ["b5_2.jpg", "b5_0.jpg", "b5_1.jpg"])
    assert _fuse("data/b5_*.jpg", "-o", "g.png") == 0, capsys.readouterr().err
    assert _fuse("data/b5_0.jpg", "data/b5_1.jpg", "data/b5_2.jpg", "-o", "h.png") == 0
    np.testing.assert_array_equal(read_image(tmp_path / "g.png"), read_image(tmp_path / "h.png"))


@pytest.mark.parametrize("given, said", [
    (["data/b5_*.jpg"], "data/b5_*.jpg: no such file, and no file matches it as a pattern"),
    (["data/b5_*.jpg", "data/a.jpg"], "data/b5_*.jpg: no such file, and no file matches it as a pattern"),
    (["data/a*.jpg"], "give at least two images to fuse (or --a DIR --b DIR, or --stacks DIR); data/a*.jpg matches "
                      "only data/a.jpg"),
])
def test_a_pattern_that_matches_too_little_says_so(rng, tmp_path, monkeypatch, capsys, given, said):
    monkeypatch.chdir(tmp_path)
    _shots(rng, tmp_path / "data", ["a.jpg"])
    assert _fuse(*given, "-o", "g.jpg", "--task", "mef") == 2
    err = capsys.readouterr().err
    assert err == f"defusion: error: {said}\n", err


def test_a_folder_above_the_pattern_is_taken_as_named_even_with_brackets(rng, tmp_path, monkeypatch):
    """A review: `shots [1]/*.png` (a Windows folder name) matched nothing, its brackets read as a class."""
    monkeypatch.chdir(tmp_path)
    _shots(rng, tmp_path / "shots [1]", ["b.png", "a.png"])
    assert expand_patterns([Path("shots [1]/*.png")]) == [Path("shots [1]/a.png"), Path("shots [1]/b.png")]

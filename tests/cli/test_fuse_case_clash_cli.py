"""`defusion fuse --a --b`: pairs whose fused images would be one file on Windows and macOS (names that
differ only in case) are refused before the model loads; names spelt with composed and decomposed
accents (a Mac's) pair, and are fused under the composed one."""

from __future__ import annotations

import argparse
import unicodedata

import numpy as np

from defusion.cli.fuse.folder_jobs import pair_jobs
from defusion.io.images import write_image
from tests.cli.conftest import one_error_line, run_fuse

GREY = np.full((16, 16), 100, np.uint8)


def _folders(tmp_path, names_a, names_b):
    for folder, names in (("a", names_a), ("b", names_b)):
        (tmp_path / folder).mkdir()
        for name in names:
            write_image(tmp_path / folder / name, GREY)
    return tmp_path / "a", tmp_path / "b"


def test_pairs_one_file_apart_from_case_are_refused_in_one_line(tmp_path, capsys, fuse_calls):
    """Scene.png and scene.jpg in --a (and --b) were once fused into Scene.png and scene.png: one file on
    Windows and macOS, the second over the first, while the run said 'fused 2 of 2'."""
    a, b = _folders(tmp_path, ["Scene.png", "scene.jpg"], ["Scene.png", "scene.jpg"])
    assert run_fuse("--a", a, "--b", b, "-o", tmp_path / "out", "--weights", tmp_path / "none.safetensors") == 2
    err = one_error_line(capsys)
    assert f"{a / 'Scene.png'} and {a / 'scene.jpg'} would be fused into one file" in err
    assert "differ only in case" in err and "rename one of them and its partner in" in err
    assert fuse_calls == [] and not (tmp_path / "out").exists()  # refused before anything is made


def _args(a, b, tmp_path) -> argparse.Namespace:
    return argparse.Namespace(dir_a=a, dir_b=b, output=tmp_path / "out", format="png")


def test_a_case_twin_without_a_partner_is_no_clash(tmp_path, capsys):
    """Only pairs make fused images: scene.jpg with no partner in --b writes nothing to clash with."""
    a, b = _folders(tmp_path, ["Scene.png", "scene.jpg"], ["Scene.png"])
    jobs, lone = pair_jobs(_args(a, b, tmp_path))
    assert [stem for stem, _ in jobs] == ["Scene"] and lone == [str(a / "scene.jpg")]


def test_a_mac_named_pair_is_paired_and_named_composed(tmp_path):
    composed, decomposed = unicodedata.normalize("NFC", "café"), unicodedata.normalize("NFD", "café")
    a, b = _folders(tmp_path, [f"{decomposed}.png"], [f"{composed}.png"])
    jobs, lone = pair_jobs(_args(a, b, tmp_path))
    assert jobs == [(composed, [a / f"{decomposed}.png", b / f"{composed}.png"])] and lone == []


def test_an_output_an_earlier_run_named_decomposed_counts_as_fused(tmp_path):
    """Before pairs were named composed, a Mac's café.png was fused as its decomposed name: a rerun with
    --skip-existing fused it again beside the old file."""
    from defusion.cli.fuse.file_names import already_fused

    composed, decomposed = unicodedata.normalize("NFC", "café"), unicodedata.normalize("NFD", "café")
    out = tmp_path / "out"
    out.mkdir()
    write_image(out / f"{decomposed}.png", GREY)
    args = argparse.Namespace(output=out, format="png", components=None, source_map=None, compare=None)
    assert already_fused(composed, args) and not already_fused("other", args)

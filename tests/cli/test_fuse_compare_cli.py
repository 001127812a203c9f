"""`defusion fuse --compare SHEET`: the sources and the fused image side by side in one labelled picture,
one per pair or group in folder modes; a path it cannot write is refused in one line before any fusing."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from defusion.io.images import read_image, write_image
from defusion.io.sheets import SHEET_GAP, SHEET_TILE_SIDE
from tests.cli.conftest import one_error_line, run_fuse
from tests.conftest import smooth_image

#: The sources' size (HxW): their tiles are SHEET_TILE_SIDE wide and this much of it high.
SIZE = (24, 32)
TILE_HEIGHT = round(SHEET_TILE_SIDE * SIZE[0] / SIZE[1])
#: Rows at the top of a tile its label is drawn in.
LABEL_BAND = 32


@pytest.fixture
def pair(tmp_path, rng):
    a = write_image(tmp_path / "vis.png", smooth_image(rng, *SIZE))
    b = write_image(tmp_path / "ir.png", smooth_image(rng, *SIZE, channels=1))
    return a, b


@pytest.fixture
def folders(tmp_path, rng):
    da, db = tmp_path / "vi", tmp_path / "ir"
    for stem in ("01", "02"):
        write_image(da / f"{stem}.png", smooth_image(rng, *SIZE))
        write_image(db / f"{stem}.png", smooth_image(rng, *SIZE, channels=1))
    return da, db




def _sheet_of(count: int) -> tuple[int, int]:
    """The size of a one-row sheet of ``count`` tiles of SIZE's sources."""
    return count * SHEET_TILE_SIDE + (count - 1) * SHEET_GAP, TILE_HEIGHT


def test_a_pair_s_sheet_is_a_labelled_jpeg_beside_the_fused_image(pair, tmp_path, lively_weights, capsys):
    out, sheet = tmp_path / "f.png", tmp_path / "sheets" / "compare.jpg"
    assert run_fuse(*pair, "-o", out, "--weights", lively_weights, "--compare", sheet) == 0
    assert capsys.readouterr().err.endswith(f"wrote {out} and {sheet} (made the folder {sheet.parent}, which did "
                                            "not exist)\n")
    with Image.open(sheet) as im:
        assert (im.format, im.size) == ("JPEG", _sheet_of(3))
        pixels = np.asarray(im.convert("L")).astype(int)
    fused = read_image(out)
    assert fused.shape[:2] == SIZE
    for index in range(3):  # each tile labelled: a black box and white text in its top band
        band = pixels[:LABEL_BAND, index * (SHEET_TILE_SIDE + SHEET_GAP):][:, :SHEET_TILE_SIDE]
        assert band.min() < 40 and band.max() > 215
    # the fused tile is the fused image: its middle row, away from the label, shrunk back to the fused width
    fused_tile = pixels[:, 2 * (SHEET_TILE_SIDE + SHEET_GAP):]
    grey = np.asarray(Image.fromarray(fused).convert("L").resize((SHEET_TILE_SIDE, TILE_HEIGHT))).astype(int)
    assert np.abs(fused_tile[LABEL_BAND:] - grey[LABEL_BAND:]).mean() < 6


def test_a_png_suffix_writes_a_png_and_the_fused_label_names_the_options(pair, tmp_path, tiny_weights,
                                                                         monkeypatch):
    from defusion.fusion import provenance

    labels, real = [], provenance.labelled_sheet
    monkeypatch.setattr(provenance, "labelled_sheet", lambda sources, fused, made_by: (labels.append(
        ([name for name, _ in sources], provenance.fused_label(made_by))), real(sources, fused, made_by))[1])
    plain, tasked = tmp_path / "plain.png", tmp_path / "tasked.png"
    assert run_fuse(*pair, "-o", tmp_path / "f.png", "--weights", tiny_weights, "--compare", plain) == 0
    assert run_fuse(*pair, "-o", tmp_path / "g.png", "--weights", tiny_weights, "--compare", tasked,
                    "--task", "ivf") == 0
    with Image.open(plain) as a, Image.open(tasked) as b:
        assert a.format == b.format == "PNG" and a.size == b.size == _sheet_of(3)
    assert labels == [(["vis.png", "ir.png"], "fused: --weights tiny.safetensors"),
                      (["vis.png", "ir.png"], "fused: --task ivf --weights tiny.safetensors")]


def test_16_bit_grey_sources_are_shown_in_8_bits(tmp_path, tiny_weights):
    ramp = np.linspace(0, 65535, SIZE[0] * SIZE[1]).reshape(SIZE).astype(np.uint16)
    a, b = write_image(tmp_path / "a.png", ramp), write_image(tmp_path / "b.png", ramp[::-1].copy())
    sheet = tmp_path / "s.png"
    assert run_fuse(a, b, "-o", tmp_path / "f.png", "--weights", tiny_weights, "--compare", sheet) == 0
    tile = np.asarray(Image.open(sheet))[LABEL_BAND:, :SHEET_TILE_SIDE]
    expected = np.asarray(Image.fromarray((ramp / 257).round().astype(np.uint8)).resize(
        (SHEET_TILE_SIDE, TILE_HEIGHT), Image.NEAREST))[LABEL_BAND:]
    assert np.abs(tile[..., 0].astype(int) - expected).mean() < 3  # its own ramp, not its low byte's stripes


def test_folder_modes_write_one_sheet_per_pair_or_group(folders, tmp_path, tiny_weights, capsys):
    da, db = folders
    sheets = tmp_path / "sheets"
    assert run_fuse("--a", da, "--b", db, "-o", tmp_path / "fused", "--weights", tiny_weights, "--compare", sheets) == 0
    assert sorted(p.name for p in sheets.iterdir()) == ["01.jpg", "02.jpg"]
    assert Image.open(sheets / "01.jpg").size == _sheet_of(3)
    assert f"the folders {tmp_path / 'fused'} and {sheets}" in capsys.readouterr().err
    groups = tmp_path / "groups"
    assert run_fuse("--stacks", da, "--group", "2", "-o", tmp_path / "stacked", "--weights", tiny_weights,
                 "--compare", groups) == 0
    assert [p.name for p in groups.iterdir()] == ["01-02.jpg"]


def test_skip_existing_fuses_again_a_pair_whose_sheet_is_missing(folders, tmp_path, tiny_weights, fuse_calls):
    da, db = folders
    args = ["--a", da, "--b", db, "-o", tmp_path / "fused", "--weights", tiny_weights]
    assert run_fuse(*args) == 0 and len(fuse_calls) == 2
    assert run_fuse(*args, "--skip-existing", "--compare", tmp_path / "sheets") == 0
    assert len(fuse_calls) == 4 and len(list((tmp_path / "sheets").iterdir())) == 2
    assert run_fuse(*args, "--skip-existing", "--compare", tmp_path / "sheets") == 0
    assert len(fuse_calls) == 4  # every pair's outputs there: nothing fused


@pytest.mark.parametrize("compare, message", [
    ("s.gif", "cannot write --compare {tmp}/s.gif: a sheet is JPEG or PNG, use one of .jpg, .jpeg, .png"),
    ("s", "cannot write --compare {tmp}/s: a sheet is JPEG or PNG, use one of .jpg, .jpeg, .png"),
    (".", "--compare {tmp}: is a folder; give an image path such as {tmp}/compare.jpg"),
    ("f.png", "--compare {tmp}/f.png: is an input or another output; choose another path"),
    ("vis.png", "--compare {tmp}/vis.png: is an input or another output; choose another path"),
])
def test_a_sheet_path_it_cannot_write_is_one_line_before_fusing(compare, message, pair, tmp_path, tiny_weights,
                                                                fuse_calls, capsys):
    assert run_fuse(*pair, "-o", tmp_path / "f.png", "--weights", tiny_weights, "--compare", tmp_path / compare) == 2
    assert one_error_line(capsys) == f"defusion: error: {message.format(tmp=tmp_path)}"
    assert not fuse_calls and not (tmp_path / "f.png").exists()


@pytest.mark.parametrize("option, part, extra, message", [
    ("--compare", "common", (),
     "--compare {tmp}/parts/common.png: is an input or another output; choose another path"),
    ("--source-map", "common", ("--pixels", "sources"),
     "--source-map {tmp}/parts/common.png: is one of the parts --components writes; choose another path"),
    # --task mff takes the pixels from the sources by default: --components also writes the decision map
    ("--compare", "weight_a", ("--task", "mff"),
     "--compare {tmp}/parts/weight_a.png: is an input or another output; choose another path"),
    ("--source-map", "weight_a", ("--task", "mff"),
     "--source-map {tmp}/parts/weight_a.png: is one of the parts --components writes; choose another path"),
])
def test_a_sheet_or_map_over_a_component_part_is_refused(option, part, extra, message, pair, tmp_path, tiny_weights,
                                                         fuse_calls, capsys):
    """--components parts/ writes parts/common.png (and weight_a.png): a sheet or map of that name would
    overwrite it."""
    assert run_fuse(*pair, "-o", tmp_path / "f.png", "--weights", tiny_weights, "--components", tmp_path / "parts",
                    *extra, option, tmp_path / "parts" / f"{part}.png") == 2
    assert one_error_line(capsys) == f"defusion: error: {message.format(tmp=tmp_path)}"
    assert not fuse_calls


@pytest.mark.parametrize("compare, message", [
    ("file.jpg", "--compare {tmp}/file.jpg: is a file; with --a/--b or --stacks it names a folder (one sheet per "
                 "pair or group)"),
    ("fused", "--compare {tmp}/fused: is a source or output folder; give the sheets their own folder"),
    ("vi", "--compare {tmp}/vi: is a source or output folder; give the sheets their own folder"),
])
def test_a_folder_run_s_sheet_path_is_refused_in_one_line(compare, message, folders, tmp_path, tiny_weights,
                                                          fuse_calls, capsys):
    da, db = folders
    (tmp_path / "file.jpg").write_bytes(b"")
    assert run_fuse("--a", da, "--b", db, "-o", tmp_path / "fused", "--weights", tiny_weights,
                 "--compare", tmp_path / compare) == 2
    assert one_error_line(capsys) == f"defusion: error: {message.format(tmp=tmp_path)}"
    assert not fuse_calls


def test_the_light_pixels_rule_agrees_with_the_fusion_cores_tasks():
    """path_checks reads where the pixels come from without importing the core (PyTorch): the same answer."""
    import argparse

    from defusion.cli.fuse.path_checks import pixels_from
    from defusion.fusion.options import TASK_OPTIONS

    for task, options in TASK_OPTIONS.items():
        assert pixels_from(argparse.Namespace(pixels=None, task=task)) == options.get("pixels", "network")

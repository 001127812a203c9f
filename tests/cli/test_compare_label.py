"""A compare sheet's fused tile is labelled by the options that shaped it (those off the task's defaults,
and the weights where not the shipped ones), wrapped to the tile; the web UI's sheet by the same function."""

from __future__ import annotations

import numpy as np

from defusion.io.images import write_image
from defusion.fusion.provenance import fused_label, wrapped
from defusion.io.sheets import SHEET_TILE_SIDE, label_font
from tests.cli.conftest import run_fuse
from tests.conftest import smooth_image


def test_the_fused_label_names_the_gain_and_the_weights(tmp_path, rng, tiny_weights, monkeypatch):
    from defusion.fusion import provenance

    pair = []
    for name in ("under.png", "over.png"):
        write_image(tmp_path / name, smooth_image(rng, 32, 48))
        pair.append(tmp_path / name)
    labels, real = [], provenance.labelled_sheet
    monkeypatch.setattr(provenance, "labelled_sheet",
                        lambda sources, fused, made_by: (labels.append(fused_label(made_by)),
                                                         real(sources, fused, made_by))[1])
    assert run_fuse(*pair, "-o", tmp_path / "f.png", "--task", "mef", "--unique-gain", "1.7", "--weights",
                    tiny_weights, "--compare", tmp_path / "sheet.jpg") == 0
    assert labels == ["fused: --task mef --unique-gain 1.7 --weights tiny.safetensors"]
    assert (tmp_path / "sheet.jpg").is_file()


def test_a_long_label_is_wrapped_to_the_tile_width():
    from PIL import Image, ImageDraw

    font = label_font()
    label = "fused: --task mef --unique-gain 1.7 --align homography --deghost --weights weights.safetensors"
    lines = wrapped(label, SHEET_TILE_SIDE // 2, font).split("\n")
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    assert len(lines) > 1 and " ".join(lines) == label
    assert all(draw.textlength(line, font=font) <= SHEET_TILE_SIDE // 2 for line in lines)


def test_the_web_ui_s_sheet_is_labelled_the_same_way(tiny_weights, monkeypatch):
    from defusion.fusion.fuser import Fuser
    from defusion.fusion import provenance
    from defusion.fusion.provenance import MadeBy
    from defusion.ui import image_output

    said = []
    monkeypatch.setattr(provenance, "wrapped", lambda label, width, font=None: (said.append(label), label)[1])
    fuser = Fuser.from_pretrained(tiny_weights, device="cpu", runtime="torch", task="mef", unique_gain=1.7)
    grey = np.zeros((30, 40), np.uint8)
    data = image_output.sheet_jpeg([("a.png", grey), ("b.png", grey)], grey, MadeBy.of(fuser, tiny_weights, "mef"))
    assert data.startswith(b"\xff\xd8") and said == ["fused: --task mef --unique-gain 1.7 --weights tiny.safetensors"]

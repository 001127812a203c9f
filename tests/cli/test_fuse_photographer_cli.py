"""`defusion fuse` as a photographer's audit used it: a bracket fused with the general defaults, a
shot tagged turned, two cards numbered alike, a card's DCIM folder, 16-bit brackets written as
JPEG, focus breathing, and a folder given as an image."""

from __future__ import annotations

import re
from datetime import datetime

import cv2
import numpy as np
import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from defusion.cli.fuse.fused_settings import SETTINGS_FILE
from defusion.cli.main import main
from defusion.io.images import read_image, write_image
from defusion.io.notes import as_lines
from tests.conftest import REPO, smooth_image

#: A bracket's exposure times (s) and biases (EV), as an AEB camera writes them.
BRACKET = (((1, 1000), -2), ((1, 250), 0), ((1, 62), 2))
#: How much a focus stack's far shot is drawn larger (focus breathing).
BREATHING = 1.04


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """One intra-op thread: the machine's few cores are shared (see tests/conftest.py)."""


def _fuse(*args) -> int:
    return main(["fuse", *map(str, args), "--no-progress", "--scale", "1"])


def _shot(path, pixels: np.ndarray, taken: datetime | None = None, exposure=None, orientation: int | None = None):
    """A JPEG as a camera writes it: capture time, exposure time and bias, orientation in its EXIF."""
    exif = Image.Exif()
    details = exif.get_ifd(0x8769)
    if taken is not None:
        details[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
    if exposure is not None:
        details[0x829A] = IFDRational(*exposure[0])
        details[0x9204] = IFDRational(exposure[1], 1)
    if orientation is not None:
        exif[0x0112] = orientation
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, exif=exif, quality=95)
    return path


def _bracket(folder, rng, prefix: str, taken: datetime | None = None, exposures=BRACKET, turned: int | None = None):
    """Three exposures of one scene in ``folder`` (``turned``: that shot tagged EXIF orientation 6)."""
    scene = smooth_image(rng, 24, 32).astype(np.float32)
    paths = []
    for i, (exposure, gain) in enumerate(zip(exposures, (0.4, 1.0, 1.8))):
        pixels = np.clip(scene * gain, 0, 255).astype(np.uint8)
        paths.append(_shot(folder / f"{prefix}_{i:04d}.JPG", pixels, taken, exposure,
                           orientation=6 if i == turned else None))
    return paths


# A. a bracket fused with the general defaults blows out its highlights: --task mef is suggested

def test_a_bracket_without_task_is_told_to_add_task_mef(tmp_path, rng, tiny_weights, capsys):
    shots = _bracket(tmp_path / "one", rng, "BRK")
    assert _fuse(*shots, "-o", tmp_path / "f.png", "--weights", tiny_weights) == 0
    err = capsys.readouterr().err
    assert "BRK_0000.JPG, BRK_0001.JPG, BRK_0002.JPG shows an exposure bracket" in err, err
    assert "add --task mef" in err
    _bracket(tmp_path / "card", rng, "CRD")
    assert _fuse("--stacks", tmp_path / "card", "--group", "3", "-o", tmp_path / "out", "--weights", tiny_weights) == 0
    assert "CRD_0000.JPG, CRD_0001.JPG, CRD_0002.JPG shows an exposure bracket" in capsys.readouterr().err


def test_a_bracket_with_a_task_and_a_focus_stack_are_not_told(tmp_path, rng, tiny_weights, capsys):
    shots = _bracket(tmp_path / "mef", rng, "MEF")
    assert _fuse(*shots, "-o", tmp_path / "f.png", "--task", "mef", "--weights", tiny_weights) == 0
    same = ((1, 125), 0)
    stack = _bracket(tmp_path / "mff", rng, "MFF", exposures=(same, same, same))
    assert _fuse(*stack, "-o", tmp_path / "g.png", "--weights", tiny_weights) == 0
    assert "exposure bracket" not in capsys.readouterr().err


def test_an_infrared_and_visible_pair_is_not_told_to_add_task_mef(tmp_path, rng, tiny_weights, capsys):
    """Review: a phone's photograph and a FLIR frame (two cameras, each exposed for its own sensor)
    were said to be an exposure bracket, even with --palette; a pair of one camera's, fused with
    --palette, --infrared or --rig, is no bracket either."""
    scene = smooth_image(rng, 24, 32)

    def camera(path, model, exposure):
        exif = Image.Exif()
        exif[0x0110] = model
        exif.get_ifd(0x8769)[0x829A] = IFDRational(*exposure)
        Image.fromarray(scene).save(path, exif=exif, quality=95)
        return path

    vis, ir = camera(tmp_path / "vis.jpg", "Phone", (1, 1000)), camera(tmp_path / "ir.jpg", "FLIR", (1, 30))
    for extra in ((), ("--palette", "inferno")):
        assert _fuse(vis, ir, "-o", tmp_path / "o.png", "--weights", tiny_weights, *extra) == 0
        assert "exposure bracket" not in capsys.readouterr().err
    same = camera(tmp_path / "ir2.jpg", "Phone", (1, 30))  # one camera's frames: only the options say infrared
    for extra in (("--palette", "inferno"), ("--palette", "inferno", "--infrared", "2")):
        assert _fuse(vis, same, "-o", tmp_path / "o.png", "--weights", tiny_weights, *extra) == 0
        assert "exposure bracket" not in capsys.readouterr().err
    assert _fuse(vis, same, "-o", tmp_path / "o.png", "--weights", tiny_weights) == 0
    assert "exposure bracket" in capsys.readouterr().err  # without them, one camera's two exposures are a bracket


def test_no_bracket_note_with_a_rig_or_an_infrared_image(tmp_path, rng, capsys):
    """--rig (a calibrated rig: several cameras) and --infrared never get the bracket note, whatever the EXIF."""
    import argparse

    from defusion.cli.fuse.advice import note_shots

    shots = _bracket(tmp_path, rng, "RIG")
    plain = dict(task=None, pixels=None, palette=None, infrared=None, rig=None)
    with as_lines():  # as defusion fuse says them
        for given in (dict(rig=tmp_path / "rig.json"), dict(palette="inferno", infrared=2), dict(palette="inferno")):
            note_shots(argparse.Namespace(**{**plain, **given}), [shots], "network")
            assert "exposure bracket" not in capsys.readouterr().err, given
        note_shots(argparse.Namespace(**plain), [shots], "network")
    assert "exposure bracket" in capsys.readouterr().err  # the same shots without them: a bracket


# B. one shot tagged turned: named, and --resize (a turned ghost) not suggested

def test_a_shot_tagged_turned_unlike_the_others_is_named_and_resize_not_suggested(tmp_path, rng, tiny_weights,
                                                                                   capsys):
    shots = _bracket(tmp_path, rng, "UP", turned=1)
    assert _fuse(*shots, "-o", tmp_path / "f.jpg", "--task", "mef", "--weights", tiny_weights) == 2
    err = capsys.readouterr().err
    assert "UP_0001.JPG is tagged with EXIF orientation 6 (turned a quarter) unlike UP_0000.JPG, UP_0002.JPG" in err
    assert "it is 24x32, the others 32x24 (WxH)" in err and "--resize" not in err, err
    assert not (tmp_path / "f.jpg").exists()


def test_a_shot_turned_in_its_pixels_is_named_too(tmp_path, rng, tiny_weights, capsys):
    scene = smooth_image(rng, 24, 32)
    a = write_image(tmp_path / "wide.png", scene)
    b = write_image(tmp_path / "tall.png", np.ascontiguousarray(np.rot90(scene)))
    assert _fuse(a, b, "-o", tmp_path / "f.png", "--weights", tiny_weights) == 2
    err = capsys.readouterr().err
    assert "tall.png is turned a quarter against the others" in err and "--resize" not in err, err


# C. two cards whose cameras numbered their files alike

def test_another_cards_bracket_named_alike_is_neither_written_over_nor_skipped(tmp_path, rng, tiny_weights, capsys):
    first, second = tmp_path / "card1", tmp_path / "card2"
    _bracket(first, rng, "IMG", taken=datetime(2026, 5, 1, 10))
    _bracket(second, rng, "IMG", taken=datetime(2026, 5, 1, 12))
    out = tmp_path / "out"
    options = ("-o", out, "--task", "mef", "--weights", tiny_weights)
    assert _fuse("--stacks", first, *options) == 0
    kept = (out / "IMG_0000-IMG_0002.png").read_bytes()
    assert _fuse("--stacks", second, "--skip-existing", *options) == 0
    err = capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == [SETTINGS_FILE, "IMG_0000-IMG_0002.png",
                                                     "IMG_0000-IMG_0002_20260501-120000.png"]
    assert (out / "IMG_0000-IMG_0002.png").read_bytes() == kept  # the first card's result stays
    assert "was fused from other shots (taken 2026-05-01 10:00:00)" in err and "already fused" not in err, err
    assert _fuse("--stacks", second, "--skip-existing", *options) == 0  # the same card again: left
    assert "all 1 group already fused" in capsys.readouterr().err
    assert _fuse("--stacks", second, *options) == 0  # ... or written over, under its own name
    assert _fuse("--stacks", first, *options) == 0
    assert len(list(out.iterdir())) == 3  # the two groups, and SETTINGS_FILE


# D. a card given whole, its shots in DCIM/100CANON

def test_a_card_whose_shots_are_in_a_subfolder_names_it(tmp_path, rng, tiny_weights, capsys):
    card = tmp_path / "sdcard"
    _bracket(card / "DCIM" / "100CANON", rng, "IMG")
    (card / "MISC").mkdir()
    assert _fuse("--stacks", card, "-o", tmp_path / "out", "--weights", tiny_weights) == 2
    err = capsys.readouterr().err
    assert "its subfolder DCIM/100CANON holds 3 images" in err, err
    assert f"point at that folder instead, {card / 'DCIM' / '100CANON'}" in err


# E. 16 bits written as JPEG: said once for a folder, with the --format that keeps them

def test_sixteen_bit_groups_written_as_jpeg_are_warned_once_with_format(tmp_path, rng, tiny_weights, capsys,
                                                                        fresh_notes):
    card = tmp_path / "t16card"
    for group in "abc":
        scene = smooth_image(rng, 24, 32).astype(np.uint16) * 257
        for i, gain in enumerate((0.5, 1.0)):
            write_image(card / f"{group}_{i}.png", (scene * gain).astype(np.uint16))
    assert _fuse("--stacks", card, "--group", "2", "--task", "mef", "--format", "jpg", "-o", tmp_path / "out",
                 "--weights", tiny_weights) == 0
    err = capsys.readouterr().err
    assert err.count("holds 8 bits") == 1, err
    assert "(--format png or --format tif keeps 16 bits)" in err and "write .png" not in err


# F. focus breathing: the corners' move and the zoom, not a turn

def test_align_says_how_far_a_breathing_focus_stacks_corners_moved_and_its_zoom(tmp_path, tiny_weights, capsys):
    near = cv2.resize(read_image(REPO / "src" / "defusion" / "examples" / "mff_near.png"), (180, 120),
                      interpolation=cv2.INTER_AREA)
    h, w = near.shape[:2]
    zoom = cv2.getRotationMatrix2D((w / 2, h / 2), 0.0, BREATHING)
    far = cv2.warpAffine(near, zoom, (w, h), borderMode=cv2.BORDER_REPLICATE)
    a, b = write_image(tmp_path / "breath_0.png", near), write_image(tmp_path / "breath_1.png", far)
    assert _fuse(a, b, "--task", "mff", "--align", "affine", "-o", tmp_path / "f.png", "--weights", tiny_weights) == 0
    err = capsys.readouterr().err
    found = re.search(r"aligned breath_1\.png onto breath_0\.png: corners moved ([\d.]+) px \(shift ([\d.]+) px, "
                      r"rotation ([\d.]+)\N{DEGREE SIGN}, zoom ([+-][\d.]+)%\)", err)
    assert found, err
    corners, shift, rotation, percent = map(float, found.groups())
    assert corners == pytest.approx((BREATHING - 1) * np.hypot(w, h) / 2, rel=0.2)
    assert abs(percent) == pytest.approx((BREATHING - 1) * 100, abs=0.5)
    assert shift < 0.5 and rotation < 0.1


# G. a folder given as an image

@pytest.mark.parametrize("given, said", [
    (["c3"], "c3 is a folder: to fuse the brackets or stacks in it use --stacks c3"),
    (["c3", "s3"], "c3 and s3 are folders: to fuse the pairs in them (matched by file name) use --a c3 --b s3"),
])
def test_a_folder_given_as_an_image_says_which_option_fuses_it(given, said, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for name in given:
        (tmp_path / name).mkdir()
    assert _fuse(*given, "-o", "f.jpg") == 2
    err = capsys.readouterr().err
    assert said in err and "at least two images" not in err and "is not a file" not in err, err


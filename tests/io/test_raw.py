"""Camera raw files: developed to 16-bit sRGB by rawpy, brackets kept apart, bounds and errors."""

from __future__ import annotations

import builtins

import numpy as np
import pytest

from defusion.io.errors import ImageReadError
from defusion.io.images import read_image
from defusion.io.pixel_bound import ImageTooLargeError
from defusion.io.raw import RAW_EXTRA
from tests.io.raw_files import gradient_scene, write_dng

pytest.importorskip("rawpy")
pytest.importorskip("tifffile")


def test_a_dng_develops_to_upright_16_bit_srgb_with_its_colours(tmp_path):
    image = read_image(write_dng(tmp_path / "shot.dng", gradient_scene()))
    assert image.shape == (64, 96, 3) and image.dtype == np.uint16
    red, green = image[..., 0].astype(float), image[..., 1].astype(float)
    assert red[:, -8:].mean() > red[:, :8].mean() + 20000  # red rises left to right
    assert green[-8:].mean() > green[:8].mean() + 20000  # green top to bottom


def test_a_darker_exposure_stays_darker(tmp_path):
    bright = read_image(write_dng(tmp_path / "ev0.dng", gradient_scene()))
    dark = read_image(write_dng(tmp_path / "ev-2.dng", gradient_scene(gain=0.25)))
    assert dark.mean() < 0.6 * bright.mean()  # no automatic brightening: the bracket keeps its exposures


def test_raw_bounds_and_errors_are_one_line(tmp_path, monkeypatch):
    path = write_dng(tmp_path / "shot.dng", gradient_scene())
    with pytest.raises(ImageTooLargeError, match="96x64"):
        read_image(path, max_pixels=1000)
    (tmp_path / "broken.nef").write_bytes(b"\x00" * 400)
    with pytest.raises(ImageReadError, match=r"broken\.nef: cannot read as a camera raw file"):
        read_image(tmp_path / "broken.nef")
    real_import = builtins.__import__

    def no_rawpy(name, *args, **kwargs):
        if name == "rawpy":
            raise ImportError("no rawpy")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_rawpy)
    with pytest.raises(ImageReadError, match="needs rawpy") as info:
        read_image(path)
    assert RAW_EXTRA in str(info.value)


def test_a_raw_bracket_fuses_from_the_command_line(tmp_path, tiny_weights):
    from defusion.cli.main import main

    files = [write_dng(tmp_path / f"ev{ev}.dng", gradient_scene(gain=g)) for ev, g in ((0, 1.0), (-2, 0.25))]
    out = tmp_path / "fused.png"
    assert main(["fuse", *map(str, files), "-o", str(out), "--task", "mef", "--weights", str(tiny_weights),
                 "--no-progress"]) == 0
    fused = read_image(out)
    assert fused.shape == (64, 96, 3) and fused.dtype == np.uint16  # 16 bits in, 16 bits out


def test_a_raw_upload_decodes_like_the_file(tmp_path):
    from defusion.serving.decode import UnsupportedImageError, decode_image

    path = write_dng(tmp_path / "shot.dng", gradient_scene())
    np.testing.assert_array_equal(decode_image(path.read_bytes(), "IMG_1.DNG"), read_image(path))
    with pytest.raises(UnsupportedImageError):
        decode_image(b"plain text, not a picture", "notes.txt")


def test_a_raw_files_capture_time_groups_it_with_its_bracket(tmp_path):
    from datetime import datetime

    from defusion.io.shots import list_shots, read_shot

    path = write_dng(tmp_path / "card" / "IMG_0001.DNG", gradient_scene(), taken="2026:12:05 09:30:01")
    assert list_shots(tmp_path / "card") == [path]
    assert read_shot(path).taken == datetime(2026, 12, 5, 9, 30, 1)


def test_a_card_shot_raw_plus_jpeg_fuses_each_bracket_once_from_the_raw_files(tmp_path, tiny_weights, capsys):
    from PIL import Image

    from defusion.cli.main import main

    card = tmp_path / "card"
    for i, (gain, second) in enumerate(((1.0, 0), (0.25, 0), (1.0, 30), (0.25, 30)), start=1):
        write_dng(card / f"IMG_{i}.DNG", gradient_scene(gain=gain), taken=f"2026:12:05 09:30:{second:02d}")
        Image.new("RGB", (96, 64)).save(card / f"IMG_{i}.JPG")  # the camera's JPEG of the same shot
    out = tmp_path / "out"
    assert main(["fuse", "--stacks", str(card), "-o", str(out), "--weights", str(tiny_weights), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert sorted(p.name for p in out.glob("*.png")) == ["IMG_1-IMG_2.png", "IMG_3-IMG_4.png"]
    assert "4 JPEG (or other) files beside raw files" in err and "4 shots in 2 groups by capture time" in err

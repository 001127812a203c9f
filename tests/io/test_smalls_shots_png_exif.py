"""Grouping shots reads a PNG's capture time and exposure without decoding its pixels.

A PNG may hold its eXIf chunk after its pixel chunks (IDAT): Pillow's ``getexif()`` then decodes the whole
image to reach it (0.3 s for 12 MP, per shot and per read). :mod:`defusion.io.shots` read a shot's EXIF
so; it now reads it as :func:`defusion.io.metadata.read_metadata` does, past the pixel chunks by their
headers (:func:`defusion.io.metadata.header_exif`), and gets the same tags."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import datetime

import numpy as np
import pytest
from PIL import Image, ImageFile

from defusion.io import shots

MAKE, MODEL, ORIENTATION, EXIF_IFD = 0x010F, 0x0110, 0x0112, 0x8769
DATETIME_ORIGINAL, SUBSEC_ORIGINAL, EXPOSURE_TIME, EXPOSURE_BIAS = 0x9003, 0x9291, 0x829A, 0x9204
TAKEN = datetime(2026, 12, 5, 10, 30, 15, 250000)
#: The shot's exposure: 1/250 s at -2 EV.
EXPOSURE_S, BIAS_EV = 1 / 250, -2.0


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _exif_after_pixels() -> bytes:
    """A PNG whose eXIf chunk (a camera, a quarter turn, a capture time, an exposure) follows its IDAT,
    just before IEND, where Pillow reads it only on decoding."""
    exif = Image.Exif()
    exif[MAKE], exif[MODEL], exif[ORIENTATION] = "Canon", "EOS R5", 6
    details = exif.get_ifd(EXIF_IFD)
    details[DATETIME_ORIGINAL], details[SUBSEC_ORIGINAL] = TAKEN.strftime("%Y:%m:%d %H:%M:%S"), "25"
    details[EXPOSURE_TIME], details[EXPOSURE_BIAS] = EXPOSURE_S, BIAS_EV
    buffer = io.BytesIO()
    Image.fromarray((np.random.default_rng(0).random((60, 80, 3)) * 255).astype(np.uint8)).save(buffer, "PNG")
    png = buffer.getvalue()
    end = png.rindex(b"IEND") - 4  # IEND's length field
    assert png.index(b"IDAT") < end and b"eXIf" not in png
    return png[:end] + _chunk(b"eXIf", exif.tobytes()) + png[end:]


@pytest.fixture
def decodes(monkeypatch) -> list[str]:
    """Each image decoded (Pillow's ImageFile.load), by format: none is, reading a shot's header."""
    found: list[str] = []
    load = ImageFile.ImageFile.load

    def counted(im):
        found.append(im.format)
        return load(im)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counted)
    return found


@pytest.fixture
def shot(tmp_path):
    path = tmp_path / "IMG_0001.png"
    path.write_bytes(_exif_after_pixels())
    return path


def test_the_chunk_lies_after_the_pixels_where_pillow_decodes_to_read_it(shot):
    with Image.open(shot) as im:
        assert "exif" not in im.info  # the header alone does not hold it
        assert im.getexif()[MAKE] == "Canon"  # Pillow's own read, by decoding


def test_read_shot_gives_the_time_and_exposure_without_decoding(shot, decodes):
    found = shots.read_shot(shot)
    assert found.taken == TAKEN and found.exposure_s == pytest.approx(EXPOSURE_S) and found.readable
    assert decodes == []


def test_shot_settings_and_orientation_without_decoding(shot, decodes):
    settings = shots.shot_settings(shot)
    assert settings.camera == ("Canon", "EOS R5")
    assert settings.exposure_s == pytest.approx(EXPOSURE_S) and settings.bias_ev == BIAS_EV
    assert shots.exif_orientation(shot) == 6 and shots.camera_model(shot) == ("Canon", "EOS R5")
    assert decodes == []


def test_an_upload_says_its_exposure_without_decoding(shot, decodes):
    settings = shots.upload_settings(shot.read_bytes(), shot.name)
    assert settings.exposure_s == pytest.approx(EXPOSURE_S) and settings.bias_ev == BIAS_EV
    assert decodes == []


def test_a_bracket_of_such_pngs_groups_by_its_times(tmp_path, decodes):
    """Two scenes of two shots each, all with their eXIf after the pixels: grouped by time, as JPEGs are."""
    png = _exif_after_pixels()
    for i in range(4):
        stamp = TAKEN.replace(second=TAKEN.second + (0 if i < 2 else 30)).strftime("%Y:%m:%d %H:%M:%S").encode()
        (tmp_path / f"IMG_{i}.png").write_bytes(png.replace(TAKEN.strftime("%Y:%m:%d %H:%M:%S").encode(), stamp))
    groups = shots.group_by_time([shots.read_shot(p) for p in shots.list_shots(tmp_path)])
    assert [[p.name for p in g] for g in groups] == [["IMG_0.png", "IMG_1.png"], ["IMG_2.png", "IMG_3.png"]]
    assert "PNG" not in decodes  # list_shots' check that each opens reads its header alone too

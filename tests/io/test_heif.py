"""HEIC/HEIF inputs (phones' brackets and focus series): read upright with pillow-heif, one clear
error naming the extra without it."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from defusion.io import heif
from defusion.io.errors import ImageReadError
from defusion.io.images import read_image
from defusion.io.metadata import read_metadata

pillow_heif = pytest.importorskip("pillow_heif", reason="HEIF needs the 'heif' extra (pillow-heif)")


def _scene() -> Image.Image:
    y, x = np.mgrid[0:48, 0:64]
    return Image.fromarray(np.dstack([x * 4, y * 5, np.full_like(x, 90)]).astype(np.uint8))


def _save(path, orientation: int = 1) -> None:
    heif.register_heif()
    exif = Image.Exif()
    exif[0x0112], exif[0x010F] = orientation, "Apple"
    _scene().save(path, quality=95, exif=exif.tobytes())


def test_heic_reads_upright_like_the_same_photo_as_jpeg(tmp_path):
    _save(tmp_path / "shot.heic", orientation=6)
    exif = Image.Exif()
    exif[0x0112] = 6
    _scene().save(tmp_path / "shot.jpg", quality=95, exif=exif.tobytes())
    heic, jpeg = read_image(tmp_path / "shot.heic"), read_image(tmp_path / "shot.jpg")
    assert heic.shape == jpeg.shape == (64, 48, 3) and heic.dtype == np.uint8  # turned once, the same way
    assert np.abs(heic.astype(int) - jpeg).mean() < 4  # both lossy, the same picture
    meta = read_metadata(tmp_path / "shot.heic")
    exif = Image.Exif()
    exif.load(meta.exif)
    assert exif[0x010F] == "Apple" and exif[0x0112] == 1


def test_without_pillow_heif_a_heic_input_says_what_to_install(tmp_path, monkeypatch):
    _save(tmp_path / "shot.heic")
    monkeypatch.setattr(heif, "_registered", False)  # as if pillow-heif were not installed
    Image.init()  # every plugin registered first: registering into the stand-in list would lose them with it
    monkeypatch.setattr(Image, "ID", [name for name in Image.ID if "HEIF" not in name.upper()])
    with pytest.raises(ImageReadError, match=r"HEIC/HEIF image; reading it needs pillow-heif: pip install"):
        read_image(tmp_path / "shot.heic")
    from defusion.serving.decode import UnsupportedImageError, decode_image

    with pytest.raises(UnsupportedImageError, match=r"IMG_1\.HEIC: a HEIC/HEIF image.*defusion\[heif\]"):
        decode_image((tmp_path / "shot.heic").read_bytes(), "IMG_1.HEIC")

"""An ops audit: an image over Pillow's decompression-bomb threshold (twice ``Image.MAX_IMAGE_PIXELS``) was
refused as "bomb.png: 3600.0 MP, over the limit of 16.0 MP" (Pillow's count, rounded, no size), where one
under it read "10000x10000 is 100,000,000 pixels, over the limit of 16,000,000 pixels": both now give the
header's width x height and exact counts."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from defusion.io.images import read_image
from defusion.io.pixel_bound import ImageTooLargeError, bomb_error

#: Pillow's default MAX_IMAGE_PIXELS (it refuses twice this), which reading with a larger bound raises for
#: the whole process: set back here, so that the image below meets Pillow's error, not our header check.
PILLOW_DEFAULT_BOUND = 89_478_485
#: Over twice that: Pillow's DecompressionBombError.
WIDTH, HEIGHT = 20_000, 9_000


@pytest.fixture(autouse=True)
def _pillows_default_bound(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", PILLOW_DEFAULT_BOUND)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """A PNG whose header says ``width`` x ``height`` grey pixels, holding a few bytes of them only."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + _chunk(b"IEND", b""))


def test_reading_names_the_size_and_exact_counts(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(bomb_png())
    with pytest.raises(ImageTooLargeError) as caught:
        read_image(path, max_pixels=16_000_000)
    assert caught.value.detail == "20000x9000 is 180,000,000 pixels, over the limit of 16,000,000 pixels"


def test_an_image_under_the_threshold_is_said_alike(tmp_path):
    path = tmp_path / "big.png"
    path.write_bytes(bomb_png(10_000, 5_000))  # 50 MP: under Pillow's threshold, our own header check
    with pytest.raises(ImageTooLargeError) as caught:
        read_image(path, max_pixels=16_000_000)
    assert caught.value.detail == "10000x5000 is 50,000,000 pixels, over the limit of 16,000,000 pixels"


def test_without_a_readable_header_pillows_count_is_said_exactly():
    bomb = Image.DecompressionBombError("Image size (400000000 pixels) exceeds limit")
    assert bomb_error(Path("gone.png"), bomb, 100_000_000).detail == (
        "400,000,000 pixels, over the limit of 100,000,000 pixels")


def test_the_server_answers_the_size_too(client):
    files = {"a": ("bomb.png", bomb_png(), "image/png"), "b": ("b.png", bomb_png(), "image/png")}
    r = client.post("/v1/fuse", files=files)
    assert r.status_code == 413
    assert r.json()["detail"].startswith(
        "field 'a': bomb.png: 20000x9000 is 180,000,000 pixels, over the limit of 16,000,000 pixels (the server's "
        "--max-pixels")

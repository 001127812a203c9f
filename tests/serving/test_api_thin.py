"""The server charges the pixels a fusion runs: a side under the network's stride padded to it. An audit: a
200000x1 pair took 177 s and 7.6 GB against 23.5 s and 1.3 GB for 448x448, and the default 16 MP bound
let a 16,000,000x1 upload (a PNG of 16 KB) through, 8x the pixels of a 16 MP square once padded."""

from __future__ import annotations

import io

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

import defusion.serving.upload_images as upload_images
from defusion.model.denet import SIZE_MULTIPLE
from defusion.serving.api import Limits, create_app, encode_png
from defusion.serving.limits import DEFAULT_SERVER_MAX_PIXELS, PAD_MULTIPLE, charged_pixels, too_many_pixels
from tests.serving.test_api import _assert_error, files


def _png(width: int, height: int) -> bytes:
    """A grey PNG of zeros, written by Pillow (libpng refuses rows over 1,000,000 pixels)."""
    buffer = io.BytesIO()
    Image.new("L", (width, height)).save(buffer, "PNG")
    return buffer.getvalue()


def test_charged_pixels_pad_a_side_under_the_stride_as_a_fusion_does():
    assert PAD_MULTIPLE == SIZE_MULTIPLE
    assert charged_pixels(4000, 3000) == 12_000_000 and charged_pixels(4000, 4000) == DEFAULT_SERVER_MAX_PIXELS
    assert charged_pixels(4001, 3999) == 4001 * 3999  # a photo at the bound is not refused for its padding
    assert charged_pixels(16_000_000, 1) == charged_pixels(1, 16_000_000) == 128_000_000
    assert too_many_pixels(4000, 4000, DEFAULT_SERVER_MAX_PIXELS) is None
    assert too_many_pixels(16_000_000, 1, DEFAULT_SERVER_MAX_PIXELS) == (
        "16000000x1 is 16,000,000 pixels, run as 128,000,000 (a side under 8 padded to 8), over the "
        "limit of 16,000,000 pixels")


def test_a_16_megapixel_row_is_refused_with_the_413_of_a_too_large_image(client):
    row = _png(16_000_000, 1)
    assert len(row) < 20_000
    r = client.post("/v1/fuse", files=files(row, row))
    detail = _assert_error(r, 413, "--max-pixels")
    assert detail == ("field 'a': a.png: 16000000x1 is 16,000,000 pixels, run as 128,000,000 (a side under 8 "
                      "padded to 8), over the limit of 16,000,000 pixels (the server's --max-pixels or "
                      "DEFUSION_MAX_PIXELS)")


def test_padding_counts_at_a_small_bound_and_own_pixels_are_said_as_before(fuser):
    with TestClient(create_app(fuser, Limits(max_pixels=1000))) as c:
        thin = _png(1000, 1)  # 1,000 pixels, at the bound; 8,000 once padded
        _assert_error(c.post("/v1/fuse", files=files(thin, thin)), 413, "1000x1 is 1,000 pixels, run as 8,000")
        over = _png(40, 30)  # over on its own pixels: the message it always had
        assert _assert_error(c.post("/v1/fuse", files=files(over, over)), 413) == (
            "field 'a': a.png: 40x30 is 1,200 pixels, over the limit of 1,000 pixels (the server's --max-pixels or "
            "DEFUSION_MAX_PIXELS)")
    with TestClient(create_app(fuser, Limits(max_pixels=32 * 32))) as c:
        within = encode_png(np.full((30, 33), 128, np.uint8))  # 990 pixels, charged as they are (sides over 8)
        assert c.post("/v1/fuse", files=files(within, within)).status_code == 200


def test_the_decoded_size_is_charged_where_the_header_does_not_tell(fuser, monkeypatch):
    monkeypatch.setattr(upload_images, "header_size", lambda data, name: None)
    thin = _png(1000, 1)
    with TestClient(create_app(fuser, Limits(max_pixels=1000))) as c:
        _assert_error(c.post("/v1/fuse", files=files(thin, thin)), 413, "field 'a'", "run as 8,000")

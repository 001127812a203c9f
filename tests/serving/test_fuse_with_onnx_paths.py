"""fuse_with_onnx's 16-bit files through OpenCV where a name holds characters outside Windows' code
page: cv2.imread/imwrite take only ANSI paths there, so the files are read and written in memory."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from defusion.serving import fuse_with_onnx


@pytest.fixture
def ansi_only_opencv(monkeypatch):
    """cv2.imread/imwrite failing as they do on Windows for a path outside the code page."""
    monkeypatch.setattr(cv2, "imread", lambda *args, **kwargs: None)
    monkeypatch.setattr(cv2, "imwrite", lambda *args, **kwargs: False)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16_bit_colour_is_read_and_written_under_a_name_in_japanese(tmp_path, ansi_only_opencv, suffix):
    rng = np.random.default_rng(0)
    image = rng.random((9, 13, 3), dtype=np.float32)
    path = str(tmp_path / f"\u6771\u4eac{suffix}")
    fuse_with_onnx.write(path, image, sixteen_bit=True)
    read, sixteen_bit = fuse_with_onnx.read(path)
    assert sixteen_bit and read.shape == image.shape and np.abs(read - image).max() <= 1 / 65535


def test_output_in_a_code_page_escapes_a_name_it_cannot_encode(monkeypatch):
    import io
    import sys

    stdout = io.TextIOWrapper(io.BytesIO(), encoding="cp1252")  # Windows, redirected to a file
    monkeypatch.setattr(sys, "stdout", stdout)
    fuse_with_onnx._tolerate_unencodable()
    print("wrote \u6771\u4eac.png")  # it raised UnicodeEncodeError after the image was written
    stdout.flush()
    assert stdout.buffer.getvalue() == b"wrote \\u6771\\u4eac.png\n"

"""Uploads of a format defusion does not read (an EPS sent as a.png) are refused as unsupported (415)
from their first bytes, never handed to Pillow's plugin for them: no Ghostscript, no server path."""

from __future__ import annotations

import subprocess
import tempfile

import pytest
from PIL import EpsImagePlugin

from defusion.serving.decode import UnsupportedImageError, decode_image, header_size

#: The security audit's 64-byte EPS.
EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 64 64\nshowpage\n%%EOF\n"


def test_an_eps_upload_is_unsupported_in_one_line_naming_the_upload_only(monkeypatch):
    """It ran Ghostscript on the temporary file, and a failing gs put that file's path and gs's
    output file in the 400's detail."""
    started: list = []

    def no_process(args, *_, **__):
        started.append(args)
        raise OSError("a subprocess was started")

    monkeypatch.setattr(subprocess, "Popen", no_process)
    monkeypatch.setattr(EpsImagePlugin, "gs_binary", "gs")  # as where Ghostscript is installed
    assert header_size(EPS, "a.png") is None
    with pytest.raises(UnsupportedImageError) as refused:
        decode_image(EPS, "a.png")
    message = str(refused.value)
    assert message.startswith("a.png: not an image defusion reads (it holds EPS data?); defusion reads PNG")
    assert "\n" not in message and tempfile.gettempdir() not in message and "defusion-upload" not in message
    assert started == []

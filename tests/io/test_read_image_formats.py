"""Only the formats defusion reads reach Pillow: an EPS named ``.png`` (which Pillow would hand to
Ghostscript) is refused from its first bytes; and an animation's frames are counted only so far."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from PIL import EpsImagePlugin, GifImagePlugin, Image

from defusion.io import notes
from defusion.io.formats import held_format, open_image
from defusion.io.frames import _FRAMES_COUNTED
from defusion.io.images import ImageFormatError, read_image
from defusion.io.metadata import ImageMetadata, read_metadata
from defusion.io.probes import header_size, opens_as_image, stores_floats
from defusion.io.shots import read_shot, shot_settings

#: The security audit's 64-byte EPS: Pillow renders it by running Ghostscript on the file.
EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 64 64\nshowpage\n%%EOF\n"


@pytest.fixture
def started(monkeypatch) -> list:
    """The commands any subprocess is started with here, none of them run; Pillow believes Ghostscript
    is installed (as it is on many desktops and servers), so its EPS plugin would start it."""
    calls: list = []

    def no_process(args, *_, **__):
        calls.append(args)
        raise OSError("a subprocess was started")

    monkeypatch.setattr(subprocess, "Popen", no_process)
    monkeypatch.setattr(EpsImagePlugin, "gs_binary", "gs")
    return calls


@pytest.fixture
def eps_png(tmp_path):
    """An EPS file named evil.png."""
    path = tmp_path / "evil.png"
    path.write_bytes(EPS)
    return path


def test_an_eps_named_png_is_refused_in_one_line_and_ghostscript_never_starts(eps_png, started):
    """Pillow opened any format it recognised: the audit's EPS named .png ran Ghostscript, and a failing
    gs gave a traceback (CLI) or a server path in the message (server)."""
    with pytest.raises(ImageFormatError) as refused:
        read_image(eps_png)
    message = str(refused.value)
    assert message.startswith(f"{eps_png}: not an image defusion reads (it holds EPS data?); defusion reads PNG")
    assert "\n" not in message and started == []


def test_the_header_readers_do_not_open_other_formats_either(eps_png, started):
    """header_size, opens_as_image, stores_floats, the metadata and the shot readers opened every
    format too (Pillow parses an EPS header in its own code): now none of them sees it as an image."""
    assert header_size(eps_png) is None and header_size(EPS) is None
    assert not opens_as_image(eps_png) and not stores_floats(eps_png)
    assert read_metadata(eps_png) == ImageMetadata() and read_metadata(EPS) == ImageMetadata()
    assert read_shot(eps_png).readable is False
    assert shot_settings(eps_png) == (None, None, None, None)
    assert started == []


def test_a_file_of_no_known_format_is_still_not_an_image(tmp_path):
    path = tmp_path / "notes.png"
    path.write_bytes(b"plain text, not an image at all")
    with pytest.raises(Exception) as refused:
        read_image(path)
    assert str(refused.value) == f"{path}: not an image, or a format that cannot be read"
    assert not isinstance(refused.value, ImageFormatError) and held_format(path) is None


@pytest.mark.parametrize("fmt, suffix", [("PNG", ".png"), ("JPEG", ".jpg"), ("TIFF", ".tif"), ("BMP", ".bmp"),
                                         ("WEBP", ".webp"), ("GIF", ".gif"), ("PPM", ".ppm"), ("TGA", ".tga"),
                                         ("MPO", ".jpg")])
def test_every_format_defusion_documents_is_still_read(tmp_path, fmt, suffix):
    """Each of READ_FORMATS' Pillow formats opens through the allow-list, a camera's MPO (a JPEG with
    a second picture) as the JPEG it is."""
    image = Image.fromarray(np.full((6, 8, 3), 90, np.uint8))
    path = tmp_path / f"x{suffix}"
    image.save(path, fmt, **({"save_all": True, "append_images": [image]} if fmt == "MPO" else {}))
    with open_image(path) as im:
        assert im.format == fmt
    assert read_image(path).shape[:2] == (6, 8) and header_size(path) == (8, 6)


def _gif(path, frames: int) -> None:
    """A 2x2 GIF of ``frames`` frames, each unlike the last (so Pillow keeps them all)."""
    images = [Image.fromarray(np.full((2, 2), i % 2 * 200 + i % 7, np.uint8)) for i in range(frames)]
    images[0].save(path, save_all=True, append_images=images[1:])


def test_a_gifs_frames_are_counted_only_so_far(tmp_path, monkeypatch):
    """Pillow's n_frames walks every frame: a 22 MB GIF of 1.5 million one-pixel frames took 15 s to
    count, for a warning. The count stops at _FRAMES_COUNTED and says "or more"."""
    path = tmp_path / "many.gif"
    _gif(path, _FRAMES_COUNTED + 5)
    with Image.open(path) as im:
        assert im.n_frames == _FRAMES_COUNTED + 5  # the file does hold them all

    def walked(self):
        raise AssertionError("every frame walked to count them")

    monkeypatch.setattr(GifImagePlugin.GifImageFile, "n_frames", property(walked))
    with notes.collecting() as said:
        assert read_image(path).shape[:2] == (2, 2)
    assert any(f"{path} holds {_FRAMES_COUNTED} or more frames; only the first is read" in line for line in said)


@pytest.mark.parametrize("frames", [2, 7, _FRAMES_COUNTED - 1])
def test_a_gif_under_the_cap_says_its_own_count(tmp_path, frames):
    path = tmp_path / "few.gif"
    _gif(path, frames)
    with notes.collecting() as said:
        read_image(path)
    assert any(f"{path} holds {frames} frames; only the first is read" in line for line in said), said


#: A hand-built GIF89a: a 1x1 logical screen with a 2-colour global table (black, white).
_GIF_HEAD = b"GIF89a" + b"\x01\x00\x01\x00" + b"\x80\x00\x00" + b"\x00\x00\x00\xff\xff\xff"


def _gif_frame(index: int) -> bytes:
    """One 1x1 frame of colour ``index``: a graphic control extension (so Pillow keeps each frame), the
    image descriptor, then LZW data (clear code, the index, end: 3-bit codes) in one sub-block."""
    control = b"!\xf9\x04\x00\x0a\x00\x00\x00"
    return control + b",\x00\x00\x00\x00\x01\x00\x01\x00\x00" + b"\x02\x02" + bytes([0x44 | index << 3, 0x01]) + b"\x00"


@pytest.mark.parametrize("padding", [b"\x00", b"\x00" * 10_000])  # a stray byte; a run longer than a read
def test_padding_between_a_gifs_blocks_does_not_stop_the_count(tmp_path, padding):
    """The counter stopped at a zero byte between blocks (which Pillow steps over): the frames after it
    went uncounted and a GIF of several frames read with no warning."""
    path = tmp_path / "padded.gif"
    path.write_bytes(_GIF_HEAD + padding.join(_gif_frame(i % 2) for i in range(3)) + padding + b";")
    with Image.open(path) as im:
        assert im.n_frames == 3  # what a decoder makes of it
    with notes.collecting() as said:
        assert read_image(path).shape[:2] == (1, 1)
    assert any(f"{path} holds 3 frames; only the first is read" in line for line in said), said


def test_a_padded_gif_is_still_counted_only_so_far(tmp_path):
    path = tmp_path / "padded_many.gif"
    path.write_bytes(_GIF_HEAD + b"".join(b"\x00" + _gif_frame(i % 2) for i in range(_FRAMES_COUNTED + 5)))  # no trailer
    with notes.collecting() as said:
        read_image(path)
    assert any(f"{path} holds {_FRAMES_COUNTED} or more frames" in line for line in said), said

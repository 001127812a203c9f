"""One rule for float pixels that reading stretches (io.float_pixels.float_stretched), and the span that asks it
(float_span): ``defusion fuse`` and the web UI say it from these, reading follows it."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
import tifffile
from PIL import Image

from defusion.io.float_pixels import describe_float_stretch, float_stretched
from defusion.io.images import read_image
from defusion.io.probes import float_span

#: A thermal frame in degrees Celsius: 20 to 45.
DEGREES = (20 + 25 * np.linspace(0, 1, 30 * 40).reshape(30, 40)).astype(np.float32)


def _tiff_bytes(values: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, values.astype(np.float32))
    return buffer.getvalue()


@pytest.mark.parametrize("span, stretched", [((0.0, 1.0), False), ((0.25, 0.5), False), ((20.0, 45.0), True),
                                             ((-0.5, 0.5), True), ((0.0, 255.0), True)])
def test_reading_stretches_exactly_what_the_rule_says(tmp_path, span, stretched):
    values = np.array([[span[0], span[1]], [span[0], span[1]]], np.float32)
    path = tmp_path / "f.tif"
    tifffile.imwrite(path, values)
    read = read_image(path)
    assert float_stretched(*span) is stretched
    assert (read.min(), read.max()) == ((0, 65535) if stretched else (round(span[0] * 65535), round(span[1] * 65535)))
    assert (describe_float_stretch("f.tif", float_span(path)) is not None) is stretched


def test_float_span_reads_paths_and_bytes_and_only_floats(tmp_path):
    path = tmp_path / "ir.tif"
    tifffile.imwrite(path, DEGREES)
    assert float_span(path) == float_span(_tiff_bytes(DEGREES)) == (20.0, 45.0)
    tifffile.imwrite(tmp_path / "i16.tif", np.full((4, 5), 300, np.uint16))
    ok, png = cv2.imencode(".png", np.zeros((4, 5), np.uint8))
    assert float_span(tmp_path / "i16.tif") is None and float_span(png.tobytes()) is None
    assert float_span(tmp_path / "missing.tif") is None and float_span(b"II*\x00junk") is None


def test_a_float_tiff_only_pillow_decodes_has_its_span_too(tmp_path):
    """An LZW float TIFF: tifffile needs imagecodecs for it, Pillow reads (and reading stretches) it."""
    path = tmp_path / "lzw.tif"
    Image.fromarray(DEGREES, mode="F").save(path, compression="tiff_lzw")
    assert float_span(path) == float_span(path.read_bytes()) == (20.0, 45.0)
    assert read_image(path).max() == 65535


def test_float_span_leaves_out_what_reading_refuses(tmp_path):
    path = tmp_path / "big.tif"
    tifffile.imwrite(path, DEGREES)
    assert float_span(path, max_pixels=DEGREES.size - 1) is None  # over the bound: reading refuses it
    tifffile.imwrite(tmp_path / "nan.tif", np.array([[np.nan, 3.0]], np.float32))
    assert float_span(tmp_path / "nan.tif") is None  # reading refuses non-finite values


@pytest.mark.parametrize("colours, alpha", [((0.0, 0.5), 255.0), ((20.0, 45.0), 1.0)])
def test_the_span_leaves_out_alpha_as_reading_does(tmp_path, colours, alpha):
    """An RGBA float TIFF: its alpha plane is not pixels, so it must not decide the note (it said 0 to 255
    for colours in 0..0.5, read unstretched, and 1 to 45 for colours stretched over 20..45)."""
    rgb = np.linspace(*colours, 8 * 10 * 3).reshape(8, 10, 3).astype(np.float32)
    rgba = np.dstack([rgb, np.full((8, 10), alpha, np.float32)])
    path = tmp_path / "rgba.tif"
    tifffile.imwrite(path, rgba, photometric="rgb", extrasamples=["unassalpha"])
    assert float_span(path) == pytest.approx(colours)
    read = read_image(path)
    stretched = float_stretched(*colours)
    assert (describe_float_stretch("rgba.tif", float_span(path)) is not None) is stretched
    assert read.max() == (65535 if stretched else round(colours[1] * 65535))


def test_a_constant_float_frame_is_said_to_read_as_black(tmp_path):
    path = tmp_path / "flat.tif"
    tifffile.imwrite(path, np.full((6, 7), 30.0, np.float32))
    assert read_image(path).max() == 0
    assert describe_float_stretch("flat.tif", float_span(path)) == \
        "flat.tif holds one float value, 30, everywhere (not 0 to 1): read as black"


def test_the_web_uis_span_has_no_limit_of_its_own(monkeypatch):
    """The page decodes an upload within its own DEFUSION_MAX_PIXELS first; the note must not stop at the
    CLI's default 100 MP where that is raised."""
    from defusion.io.formats import DEFAULT_MAX_PIXELS
    from defusion.ui import fusion_notes

    asked = []

    def spy(data, max_pixels=DEFAULT_MAX_PIXELS):
        asked.append(max_pixels)
        return float_span(data, max_pixels=max_pixels)

    monkeypatch.setattr(fusion_notes, "float_span", spy)  # the name the page's float_range calls
    assert float_span(_tiff_bytes(DEGREES), max_pixels=10) is None  # a limit the 30x40 frame is over
    assert fusion_notes.float_range(_tiff_bytes(DEGREES)) == pytest.approx((20.0, 45.0))
    assert asked and asked[0] > 1000 * DEFAULT_MAX_PIXELS  # no limit of its own, not the CLI's default


def test_the_float_probe_leaves_the_warning_filters_alone(monkeypatch):
    """float_span's Pillow probe ran under a warnings.catch_warnings() with an ignore-all filter: not
    thread-safe (the server probes uploads in a thread pool), racing another it could leave that filter
    installed for the process. The probe now reads under the filters as they are."""
    import types

    import defusion.io.probes as probes

    buffer = io.BytesIO()
    Image.fromarray(np.array([[20.0, 30.0], [40.0, 35.0]], np.float32)).save(buffer, format="TIFF")

    def no_catch_warnings(*args, **kwargs):
        raise AssertionError("a catch_warnings() in the probe")

    # the module's own view of `warnings` (pytest's is left alone): any catch_warnings() there fails
    monkeypatch.setattr(probes, "warnings", types.SimpleNamespace(catch_warnings=no_catch_warnings), raising=False)
    def tifffile_fails(*args):
        raise ValueError("compressed: tifffile lacks imagecodecs")  # then Pillow's probe reads it

    monkeypatch.setattr(probes, "tiff_floats", tifffile_fails)
    assert float_span(buffer.getvalue()) == (20.0, 40.0)

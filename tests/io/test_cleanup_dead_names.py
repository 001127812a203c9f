"""Public names that nothing called are gone (each superseded): io.shots' exposure_settings (shot_settings
reads the exposure with the camera and size), io.images' pillow_levels (Fuser.fuse reads Pillow images
itself, as read_image reads their files) and the command's recorded_settings (recorded_runs); and, before
0.1.0's release, names only tests called or that only repeated another module's: the tiler's square
covering tile (smallest_covering_shape's larger side), the server's parse_stretch (read_stretch), its
per-format longest sides (io.formats.MAX_SIDES), ``defusion serve``'s UVICORN_OPTIONS, and io.images'
copies of io.formats', io.writing's, io.pixel_bound's, io.float_pixels' and io.probes' names (each importable
from its own module)."""

from __future__ import annotations

import importlib

import pytest

#: Modules gone whole: re-exports of an import path never released.
GONE_MODULES = ("defusion.serving.export",)


@pytest.mark.parametrize("module, name", [("defusion.io.shots", "exposure_settings"),
                                          ("defusion.io.images", "pillow_levels"),
                                          ("defusion.cli.fuse.fused_settings", "recorded_settings"),
                                          ("defusion.fusion.tiling", "smallest_covering_tile"),
                                          ("defusion.serving.stream", "parse_stretch"),
                                          ("defusion.serving.answer_format", "WEBP_MAX_SIDE"),
                                          ("defusion.serving.answer_format", "JPEG_MAX_SIDE"),
                                          ("defusion.serving.answer_format", "PNG_MAX_SIDE"),
                                          ("defusion.cli.serve", "UVICORN_OPTIONS"),
                                          ("defusion.io.icc", "_matrix_profile_for_doctest"),
                                          *(("defusion.io.images", name) for name in (
                                              "DEFAULT_JPEG_QUALITY", "FULL_CHROMA_QUALITY", "SIXTEEN_BIT_SUFFIXES",
                                              "WRITABLE_SUFFIXES", "check_path", "check_writable_folder",
                                              "write_bytes_atomically", "PYTHON_LIMIT_HINT", "RAISE_LIMIT_HINT",
                                              "ImageTooLargeError", "FloatRangeError", "describe_float_stretch",
                                              "float_stretched", "float_to_uint16", "stream_float_span", "float_span",
                                              "header_size", "opens_as_image", "stores_floats"))])
def test_a_dead_name_is_gone(module, name):
    if module == "defusion.serving.answer_format":
        pytest.importorskip("fastapi")
    found = importlib.import_module(module)
    assert not hasattr(found, name) and name not in getattr(found, "__all__", ())


def test_an_answer_format_has_no_unused_longest_side():
    """Format.max_side repeated io.formats.MAX_SIDES, which too_wide reads by the format's suffix."""
    pytest.importorskip("fastapi")
    from defusion.serving.answer_format import FORMATS

    assert not any(hasattr(spec, "max_side") for spec in FORMATS.values())


@pytest.mark.parametrize("module", GONE_MODULES)
def test_a_dead_module_is_gone(module):
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(module)

""":func:`read_image` gives the caller an array of its own (writable: ``a[0, 0] = 0`` works and
``torch.from_numpy`` does not warn), copying only what decoding left read-only; and refuses an
unknown ``floats`` reading as a library error."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

from defusion import DefusionError
from defusion.io import images
from defusion.io.images import ReadOptionError, read_image

#: Sides of the files written: small.
HEIGHT, WIDTH = 6, 5


def _saved(tmp_path, name: str, pixels: np.ndarray, mode: str | None = None):
    path = tmp_path / name
    if name.endswith(".tif"):
        tifffile.imwrite(path, pixels)
    else:
        image = Image.fromarray(pixels)
        (image.convert(mode) if mode else image).save(path)
    return path


def _files(tmp_path, rng) -> dict[str, tuple]:
    """One file of each kind of decode, and how it is read: (path, floats)."""
    rgb = rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    grey16 = rng.integers(0, 65536, (HEIGHT, WIDTH), dtype=np.uint16)
    floats = rng.random((HEIGHT, WIDTH), dtype=np.float32)
    return {
        "grey": (_saved(tmp_path, "grey.png", rgb[..., 0]), "stretch"),
        "rgb": (_saved(tmp_path, "rgb.png", rgb), "stretch"),
        "rgb jpeg": (_saved(tmp_path, "rgb.jpg", rgb), "stretch"),
        "palette": (_saved(tmp_path, "palette.png", rgb, mode="P"), "stretch"),
        "one bit": (_saved(tmp_path, "bits.png", rgb[..., 0], mode="1"), "stretch"),
        "16-bit grey": (_saved(tmp_path, "grey16.png", grey16), "stretch"),
        "float tiff as values": (_saved(tmp_path, "float.tif", floats), "values"),
        "float tiff as levels": (_saved(tmp_path, "float.tif", floats), "levels"),
        "float tiff stretched": (_saved(tmp_path, "float.tif", floats), "stretch"),
    }


def test_every_decoded_array_is_writable_and_goes_to_torch_without_a_warning(tmp_path, rng):
    for kind, (path, floats) in _files(tmp_path, rng).items():
        array = read_image(path, floats=floats)
        assert array.flags.writeable, kind
        array[0, 0] = 0  # would raise "assignment destination is read-only"
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # torch warns of a read-only array
            torch.from_numpy(array)


def test_a_float_image_read_through_pillow_as_values_is_writable(tmp_path, rng, monkeypatch):
    """Pillow's mode F (tifffile unused): np.asarray of it wraps the image's bytes, read-only."""
    path = _saved(tmp_path, "float.tif", rng.random((HEIGHT, WIDTH), dtype=np.float32))
    monkeypatch.setattr(images, "from_tifffile", lambda *args: None)
    for floats in ("values", "levels"):
        assert read_image(path, floats=floats).flags.writeable, floats


def test_an_array_already_writable_is_not_copied_again():
    fresh = np.zeros((2, 2), np.uint8)
    assert images._writable(fresh) is fresh
    frozen = np.frombuffer(bytes(4), np.uint8)
    copied = images._writable(frozen)
    assert copied.flags.writeable and not np.shares_memory(copied, frozen)


def test_an_unknown_float_reading_is_a_library_error_and_a_value_error(tmp_path, rng):
    path = _saved(tmp_path, "grey.png", rng.integers(0, 256, (HEIGHT, WIDTH), dtype=np.uint8))
    with pytest.raises(ReadOptionError, match="unknown float reading 'bad'; use one of stretch, levels") as caught:
        read_image(path, floats="bad")
    assert isinstance(caught.value, DefusionError) and isinstance(caught.value, ValueError)

"""Findings of a developer-seat audit of the Python API: 8-bit values in 16 bits warned of, torch
tensors and Pillow palette images taken as their pixels, and refusals that are library errors."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

import defusion
from defusion import DefusionError, FuseOptions, Fuser
from defusion.fusion import stretch
from defusion.fusion.errors import FusionInputError, FusionTypeError, UnknownOptionError
from defusion.io.images import read_image
from tests.conftest import smooth_image

#: The sides of the test images: small, the tiny network runs them in one pass.
SIDE = 24


def _fused_warnings(fuser: Fuser, *images) -> list[warnings.WarningMessage]:
    """The warnings one fuse call gives, each shown (none filtered as said before)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fuser.fuse(*images)
    return [w for w in caught if issubclass(w.category, UserWarning)]


def test_colour_uint16_holding_8_bit_values_is_warned_of_once_per_argument_at_the_callers_line(fuser, rng):
    """``a.astype(np.uint16)`` without ``* 257`` fuses near black: say so, naming the argument, at the
    line that called fuse (as the metrics' as_image does)."""
    a, b = smooth_image(rng, SIDE, SIDE), smooth_image(rng, SIDE, SIDE)
    both = _fused_warnings(fuser, a.astype(np.uint16), b.astype(np.uint16))
    assert [str(w.message).split(":")[0] for w in both] == ["image 1", "image 2"]
    assert "8-bit values in 16 bits" in str(both[0].message) and ".astype(np.uint8)" in str(both[0].message)
    assert {w.filename for w in both} == {__file__}  # the caller's line, not the library's
    second = _fused_warnings(fuser, a, b.astype(">u2"))  # either byte order
    assert [str(w.message).split(":")[0] for w in second] == ["image 2"]


def test_other_uint16_inputs_are_not_warned_of(fuser, rng):
    """Full-range 16-bit colour and 8-bit arrays fuse as they should: nothing to say. Grey 16-bit frames
    of 8-bit values are stretched as raw sensor data, as their narrow band suggests, and that is said
    (silent until an audit: test_api2_stretch_said)."""
    a, b = smooth_image(rng, SIDE, SIDE), smooth_image(rng, SIDE, SIDE)
    grey_a, grey_b = (smooth_image(rng, SIDE, SIDE, channels=1).astype(np.uint16) for _ in range(2))
    for images in ((a.astype(np.uint16) * 257, b.astype(np.uint16) * 257), (a, b)):
        assert _fused_warnings(fuser, *images) == []
    said = _fused_warnings(fuser, grey_a, grey_b)
    message = str(said[0].message)
    assert len(said) == 1 and message.startswith("image 1, image 2 hold 16-bit values")  # one mapping for both
    assert "stretched by one mapping onto the full range" in message and "only values up to 255" in message


def test_tensors_that_require_grad_or_are_bfloat16_fuse_as_their_values(fuser, rng):
    a, b = (smooth_image(rng, SIDE, SIDE).astype(np.float32) / 255 for _ in range(2))
    expected = fuser.fuse(a, b)
    grad = torch.from_numpy(a).requires_grad_()
    np.testing.assert_array_equal(fuser.fuse(grad, torch.from_numpy(b)), expected)
    halves = [torch.from_numpy(x).bfloat16() for x in (a, b)]
    np.testing.assert_array_equal(fuser.fuse(*halves), fuser.fuse(*(h.float().numpy() for h in halves)))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_tensors_fuse_as_their_values(fuser, rng):
    a, b = smooth_image(rng, SIDE, SIDE), smooth_image(rng, SIDE, SIDE)
    np.testing.assert_array_equal(fuser.fuse(torch.from_numpy(a).cuda(), torch.from_numpy(b).cuda()), fuser.fuse(a, b))


def test_a_tensor_of_a_type_numpy_lacks_is_a_fusion_type_error(fuser, rng):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: quantized tensors are deprecated
        quantized = torch.quantize_per_tensor(torch.rand(SIDE, SIDE), 0.1, 0, torch.quint8)
    with pytest.raises(FusionTypeError, match="got image 1 of dtype quint8"):
        fuser.fuse(quantized, smooth_image(rng, SIDE, SIDE, channels=1))


def test_a_palette_image_fuses_as_its_colours_not_its_indices(fuser, rng):
    rgb = Image.fromarray(smooth_image(rng, SIDE, SIDE))
    palette = rgb.quantize(16)
    other = smooth_image(rng, SIDE, SIDE)
    fused = fuser.fuse(palette, other)
    assert fused.shape == (SIDE, SIDE, 3)
    np.testing.assert_array_equal(fused, fuser.fuse(np.asarray(palette.convert("RGB")), other))
    one_bit = Image.fromarray(smooth_image(rng, SIDE, SIDE, channels=1)).convert("1")  # booleans, as L
    np.testing.assert_array_equal(fuser.fuse(one_bit, other), fuser.fuse(np.asarray(one_bit.convert("L")), other))


def test_pillow_images_of_32_bit_integers_or_floats_fuse_as_read_image_reads_such_files(fuser, rng, tmp_path):
    """Mode I (a 16-bit PNG from older Pillow) and F (a float TIFF) were refused as int32/float32."""
    other = smooth_image(rng, SIDE, SIDE, channels=1)
    counts = (smooth_image(rng, SIDE, SIDE, channels=1).astype(np.int32) * 200 + 1000)  # 16-bit counts
    as_integers = Image.fromarray(counts).convert("I")
    np.testing.assert_array_equal(fuser.fuse(as_integers, other), fuser.fuse(counts.astype(np.uint16), other))
    degrees = Image.fromarray(counts.astype(np.float32) / 100 - 5)  # a radiometric frame, degrees Celsius
    degrees.save(tmp_path / "frame.tif")
    with Image.open(tmp_path / "frame.tif") as opened:  # a float file's own image: read as read_image reads it
        fused = fuser.fuse(opened, other)
    np.testing.assert_array_equal(fused, fuser.fuse(read_image(tmp_path / "frame.tif"), other))
    assert fused.dtype == np.uint16  # stretched over 16 bits, as the file is
    # made in memory, float pixels are the caller's values, taken as the same array is: degrees refused
    # (tests/fusion/test_inputs_pillow_float.py)
    with pytest.raises(FusionInputError, match=r"^float images must be in \[0, 1\], got values from 5 to "):
        fuser.fuse(degrees, other)
    eight_bit = Image.fromarray(other).convert("I")  # 8-bit values in 32 bits: 8-bit, not near black
    np.testing.assert_array_equal(fuser.fuse(eight_bit, other), fuser.fuse(other, other))
    Image.fromarray(np.full((SIDE, SIDE), np.nan, np.float32)).save(tmp_path / "broken.tif")
    with Image.open(tmp_path / "broken.tif") as broken, \
            pytest.raises(FusionInputError, match="^image 1: a float image holding NaN or infinite values$"):
        fuser.fuse(broken, other)


def test_none_is_named_as_none_not_as_a_shape(fuser, rng):
    with pytest.raises(FusionInputError, match="image 1 must be HxW or HxWxC .*; got NoneType$"):
        fuser.fuse(None, smooth_image(rng, SIDE, SIDE))


def test_a_fuser_of_no_network_is_a_fusion_type_error():
    with pytest.raises(FusionTypeError, match="model must be a network .*got NoneType") as caught:
        Fuser(None)
    assert isinstance(caught.value, DefusionError) and isinstance(caught.value, TypeError)


def test_fuse_options_refuses_an_unknown_keyword_as_from_pretrained_does():
    with pytest.raises(UnknownOptionError, match=r"FuseOptions got an unknown option sclae \(did you mean scale\?\)"):
        FuseOptions(sclae=2)
    with pytest.raises(TypeError):  # still the TypeError Python's own refusal was
        FuseOptions(sclae=2)
    assert "scale" in inspect.signature(FuseOptions).parameters  # the signature stays the fields'
    assert FuseOptions(scale=1).scale == 1


def test_the_stretch_module_lists_its_public_names():
    """docs/features.md sends users to measure_stretch and FixedStretch there."""
    defined = {name for name, value in vars(stretch).items()
               if not name.startswith("_") and getattr(value, "__module__", None) == stretch.__name__}
    assert {"measure_stretch", "FixedStretch", "stretch_sources"} <= set(stretch.__all__)
    assert defined <= set(stretch.__all__), defined - set(stretch.__all__)


def test_dir_of_the_package_names_each_public_name_once():
    assert defusion.Fuser is Fuser  # loaded: now in the module's globals too
    names = dir(defusion)
    assert len(names) == len(set(names)) and "Fuser" in names


def test_list_models_says_what_it_lists_and_lists_what_create_model_builds():
    assert "create_model" in (defusion.list_models.__doc__ or "")  # help() had nothing to say
    names = defusion.list_models()
    assert "defusion" in names and "defusion-tiny" in names
    assert all(type(defusion.create_model(name)).__name__ for name in names)  # each one builds

"""A Pillow float image made in memory (mode 'F') fuses as the same NumPy float32 array does. Before, it took
the rule for float files (a thermal TIFF in degrees): any range but [0, 1] stretched from its own minimum to
its maximum, each source on its own (a bracket's exposure difference erased), where the array is refused; and
even one in [0, 1] came back uint16, not float32. A float file opened with Pillow keeps read_image's rule."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from defusion.errors import DefusionNote
from defusion.fusion.errors import FusionInputError
from defusion.io.images import read_image

#: Sides of the test images: small, one network pass.
HEIGHT, WIDTH = 16, 24
#: A thermal frame's span, in degrees.
DEGREES = (20.0, 45.0)


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """One intra-op thread: the machine's few cores are shared (see tests/conftest.py)."""


def _grey_pair(rng) -> tuple[np.ndarray, np.ndarray]:
    """Two 8-bit grey shots, dark and brighter (values 34 to 111 and more)."""
    scene = rng.random((HEIGHT, WIDTH))
    return (34 + scene * 77).astype(np.uint8), (90 + scene * 120).astype(np.uint8)


def _refusal(fuser, *images) -> str:
    with pytest.raises(FusionInputError) as caught:
        fuser.fuse(*images)
    return str(caught.value)


def test_a_pillow_float_image_out_of_0_to_1_is_refused_as_its_array_is(fuser, rng, capsys):
    a, b = _grey_pair(rng)
    said = _refusal(fuser, Image.fromarray(a).convert("F"), Image.fromarray(b).convert("F"))
    assert said == _refusal(fuser, a.astype(np.float32), b.astype(np.float32))
    assert said.startswith("float images must be in [0, 1]") and "\n" not in said
    assert "stretched" not in capsys.readouterr().err  # no note of a stretch that no longer happens


def test_a_float_file_opened_with_pillow_keeps_read_images_rule(fuser, rng, tmp_path, fresh_notes):
    """A float TIFF in degrees: stretched from its range, as read_image reads it (the documented rule),
    while the same values made in memory are refused, as their array is."""
    scene = rng.random((HEIGHT, WIDTH))
    degrees = (DEGREES[0] + scene * (DEGREES[1] - DEGREES[0])).astype(np.float32)
    path = tmp_path / "thermal.tif"
    tifffile.imwrite(path, degrees)
    visible = (scene * 255).astype(np.uint8)
    opened = Image.open(path)
    assert opened.mode == "F"
    with pytest.warns(DefusionNote, match="stretched from its minimum to its maximum"):
        np.testing.assert_array_equal(fuser.fuse(visible, opened), fuser.fuse(visible, read_image(path)))
    assert _refusal(fuser, visible, Image.fromarray(degrees)) == _refusal(fuser, visible, degrees)


def test_a_pillow_float_image_in_0_to_1_fuses_as_float32_as_its_array_does(fuser, rng, capsys):
    a, b = (shot / np.float32(255) for shot in _grey_pair(rng))
    pa, pb = Image.fromarray(a), Image.fromarray(b)
    assert pa.mode == pb.mode == "F"
    fused = fuser.fuse(pa, pb)
    assert fused.dtype == np.float32
    np.testing.assert_array_equal(fused, fuser.fuse(a, b))
    assert capsys.readouterr().err == ""


def test_a_pillow_float_image_holding_nan_is_refused_as_its_array_is(fuser, rng):
    a, b = (shot / np.float32(255) for shot in _grey_pair(rng))
    a[3, 4] = np.nan
    assert _refusal(fuser, Image.fromarray(a), Image.fromarray(b)) == _refusal(fuser, a, b)


"""Dim colour is colour: :func:`defusion.fusion.color.is_grey` measured every image's channel spread against
the full scale (GREY_SPREAD, 4 levels of 8 bits: 1028 in 16 bits, 0.0157 as floats), so a dim linear 16-bit
or float colour image, all of its colour within that, came back grey from ``fuse`` (and ``defusion fuse``),
its colour silently dropped. 8-bit data (uint8, 8-bit levels scaled to 16 bits or divided by 255) keeps the
full-scale rule, which lets a grey image decoded from a lossy codec, its channels a few levels apart, stay
grey; other 16-bit and float data is measured against its own brightest value."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from defusion.cli.main import main
from defusion.fusion import color
from defusion.io.images import read_image
from tests.conftest import smooth_image

#: Sides of the test images: small, one network pass.
HEIGHT, WIDTH = 24, 32
#: Linear 16-bit values of a dim bracket: the brightest about this many counts of 65535 (the audit's 1000).
DIM_COUNTS = 1000
#: A display image's gamma: linear values are its levels to this power.
GAMMA = 2.2
#: A dim float image: the 8-bit image scaled to at most this (the audit's 0.012).
DIM_FLOAT = 0.012


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """One intra-op thread: the machine's few cores are shared (see tests/conftest.py)."""


def _bracket(rng) -> tuple[np.ndarray, np.ndarray]:
    """Two 8-bit colour shots of one scene, dark and bright."""
    scene = smooth_image(rng, HEIGHT, WIDTH).astype(np.float32)
    return (scene * 0.4).astype(np.uint8), np.clip(scene * 1.2, 0, 255).astype(np.uint8)


def _dim_linear(shot: np.ndarray) -> np.ndarray:
    """An 8-bit shot as dim linear 16-bit data, as the audit made it."""
    return ((shot / 255) ** GAMMA * DIM_COUNTS).astype(np.uint16)


def _lossy_grey(rng, top: int) -> np.ndarray:
    """A grey 8-bit image up to ``top`` stored in three channels a codec left up to 3 levels apart."""
    grey = np.repeat(rng.integers(top // 4, top - 1, (HEIGHT, WIDTH, 1)), 3, axis=2)
    grey[::3, ::2, 0] += 2
    grey[1::5, ::3, 2] -= 1
    return grey.astype(np.uint8)


def test_dim_16_bit_and_float_colour_is_not_grey_and_lossy_grey_still_is(rng):
    dark, bright = _bracket(rng)
    dim = _dim_linear(bright)
    assert np.ptp(dim.astype(int), axis=2).max() < color.GREY_SPREAD * 65535  # all within the full-scale limit
    assert not color.is_grey(dim) and not color.is_grey(color.to_float(dim))
    assert not color.is_grey(bright / 255 * DIM_FLOAT)
    assert not color.is_grey(bright.astype(np.uint16))  # 8-bit values in 16 bits
    assert color.plan_mode([color.to_float(_dim_linear(dark)), color.to_float(dim)]) == "luma"
    # the full scale asked for by name still answers as before
    assert color.is_grey(dim, scale=65535)
    # what GREY_SPREAD is for (tests/fusion/test_color.py) is kept: a codec's rounding is levels of 8 bits, so
    # 8-bit data stays measured against its full scale, bright or dim, whatever type it is held in
    for top in (255, 60):
        grey = _lossy_grey(rng, top)
        assert np.ptp(grey.astype(int), axis=2).max() == 3
        for held in (grey, grey.astype(np.uint16) * 257, grey / np.float32(255), grey / 255.0,
                     color.to_float(grey.astype(np.uint16) * 257), grey.astype(np.uint16)):
            assert color.is_grey(held), (top, held.dtype)


def test_exact_grey_and_big_colour_answer_as_before(rng):
    dim_grey = np.repeat(_dim_linear(_bracket(rng)[1])[..., :1], 3, axis=2)
    assert color.is_grey(dim_grey) and color.is_grey(color.to_float(dim_grey))
    assert not color.is_grey(smooth_image(rng, HEIGHT, WIDTH))
    # an opaque alpha (full scale) does not set a dim image's brightness
    dim = _dim_linear(_bracket(rng)[1])
    assert not color.is_grey(np.dstack([dim, np.full(dim.shape[:2], 65535, np.uint16)]))


@pytest.mark.filterwarnings("ignore:image 1. a colour uint16 image whose values are all")  # the dim shot's
def test_dim_colour_brackets_fuse_in_colour(fuser, rng):
    dark, bright = _bracket(rng)
    fused = fuser.fuse(_dim_linear(dark), _dim_linear(bright))
    assert fused.shape == (HEIGHT, WIDTH, 3) and fused.dtype == np.uint16
    assert np.ptp(fused.astype(int), axis=2).max() > 0
    floats = fuser.fuse(dark / 255 * DIM_FLOAT, bright / 255 * DIM_FLOAT)
    assert floats.shape == (HEIGHT, WIDTH, 3) and floats.dtype == np.float32
    with pytest.warns(UserWarning, match="8-bit values in 16 bits"):  # warned of, and in colour
        assert fuser.fuse(dark.astype(np.uint16), bright.astype(np.uint16)).shape == (HEIGHT, WIDTH, 3)


def test_defusion_fuse_writes_a_dim_16_bit_colour_bracket_in_colour(tmp_path, rng, tiny_weights, capsys, fresh_notes):
    paths = []
    for name, shot in zip("ab", _bracket(rng)):
        paths.append(tmp_path / f"{name}.tif")
        assert cv2.imwrite(str(paths[-1]), cv2.cvtColor(_dim_linear(shot), cv2.COLOR_RGB2BGR))
    out = tmp_path / "fused.tif"
    code = main(["fuse", *map(str, paths), "--task", "mef", "-o", str(out), "--weights", str(tiny_weights),
                 "--scale", "1", "--no-progress"])
    assert code == 0
    # the dark shot's values are all <= 255: a line naming its file, as the command says things
    assert "defusion: warning: a.tif: a colour uint16 image whose values are all <= 255" in capsys.readouterr().err
    fused = read_image(out)
    assert fused.shape == (HEIGHT, WIDTH, 3) and fused.dtype == np.uint16

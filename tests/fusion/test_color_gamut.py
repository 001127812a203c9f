"""A fused luminance brighter than the photo's colour allows: the chroma shrinks towards grey, keeping
the hue and Y, rather than each RGB channel clipping on its own (a colour audit: skin went yellow)."""
import cv2
import numpy as np

from defusion.fusion import color


def _hue(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(rgb, np.float32), cv2.COLOR_RGB2HSV)[..., 0]


def test_a_skin_tone_on_a_bright_fused_luminance_keeps_its_hue_and_luminance():
    skin = np.broadcast_to(np.array([0.76, 0.59, 0.51], np.float32), (2, 2, 3))  # the checker's light skin
    bright = np.full((2, 2), 0.9, np.float32)  # a warm infrared target: Y 0.9, R would be 1.11
    fused = color.with_chroma(bright, color.blend_chroma([skin, bright]))
    assert np.abs(_hue(fused) - _hue(skin)).max() < 0.5  # degrees; per-channel clipping: 3.5
    assert np.allclose(color.luminance(fused), 0.9, atol=1e-4)  # clipping R lost 0.03 of Y
    assert np.isclose(fused.max(), 1.0) and fused.min() > 0.0  # on the cube's face, not past it


def test_colours_inside_the_cube_are_as_they_were_and_y_past_white_is_white():
    rng = np.random.default_rng(0)
    rgb = rng.random((16, 16, 3), dtype=np.float32)
    assert np.allclose(color.ycbcr_to_rgb(color.rgb_to_ycbcr(rgb)), rgb, atol=1e-5)
    over = color.rgb_to_ycbcr(rgb)
    over[..., 0] = 1.2  # Y itself past white: clipped to white (per-channel clipping left colour there)
    assert np.allclose(color.ycbcr_to_rgb(over), 1.0, atol=1e-5)
    under = color.rgb_to_ycbcr(rgb)
    under[..., 0] = -0.1
    assert np.allclose(color.ycbcr_to_rgb(under), 0.0, atol=1e-5)


def test_the_gamut_factor_is_the_largest_that_fits():
    rng = np.random.default_rng(1)
    y = rng.random((64, 64), dtype=np.float32)
    chroma = rng.random((64, 64, 2), dtype=np.float32)
    factor = color.gamut_factor(y, chroma)
    assert ((0 <= factor) & (factor <= 1)).all()
    fitted = color.ycbcr_to_rgb(np.dstack([y, chroma]))
    shrunk = (fitted.max(axis=2) > 1 - 1e-4) | (fitted.min(axis=2) < 1e-4)
    assert shrunk[factor < 1].all()  # where it shrank, one channel touches the cube: no smaller than needed


def test_the_standalone_onnx_script_clips_the_gamut_as_the_core_does():
    from defusion.serving.fuse_with_onnx import with_colour

    rng = np.random.default_rng(2)
    visible = rng.random((32, 32, 3), dtype=np.float32)
    bright = np.clip(color.luminance(visible) + 0.4, 0, 1)  # a warm target's fused luminance: out of gamut
    core = color.with_chroma(bright, color.blend_chroma([visible, bright]))
    assert np.abs(with_colour(bright, [visible, bright]) - core).max() < 1e-5

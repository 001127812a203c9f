import numpy as np
import pytest

from defusion.fusion import color


def test_grey_detection():
    rgb = np.random.rand(4, 4, 3)
    assert color.is_grey(rgb[..., 0]) and color.is_grey(np.repeat(rgb[..., :1], 3, axis=2))
    assert not color.is_grey(rgb)


def test_plan_mode_follows_the_colour_rules():
    grey, rgb = np.random.rand(4, 4), np.random.rand(4, 4, 3)
    assert color.plan_mode([grey, grey]) == "grey"
    assert color.plan_mode([grey, rgb]) == "luma"
    assert color.plan_mode([rgb, rgb]) == "luma"  # the benchmarks' choice (docs/benchmarks.md)
    assert color.plan_mode([rgb, rgb], "rgb") == "rgb"
    assert color.plan_mode([grey, rgb], "rgb") == "luma"
    assert color.plan_mode([rgb, rgb], "ycbcr") == "luma"
    with pytest.raises(ValueError):
        color.plan_mode([rgb, rgb], "hsv")


def test_chroma_comes_from_the_colour_source_and_saturation_wins():
    grey = np.full((2, 2), 0.5, np.float32)
    red = np.zeros((2, 2, 3), np.float32)
    red[..., 0] = 1.0
    blended = color.blend_chroma([grey, red])
    assert np.allclose(blended, color.rgb_to_ycbcr(red))
    washed = np.full((2, 2, 3), 0.9, np.float32)
    mix = color.blend_chroma([washed, red])[..., 1:]
    assert np.abs(mix - 0.5).sum() > 0.9 * np.abs(color.rgb_to_ycbcr(red)[..., 1:] - 0.5).sum()


def _hsv_saturation(rgb: np.ndarray) -> np.ndarray:
    return (rgb.max(axis=2) - rgb.min(axis=2)) / np.maximum(rgb.max(axis=2), 1e-6)


def test_a_bracket_fused_darker_than_its_brightest_shot_keeps_the_shots_saturation():
    """A gamma-encoded bracket scales Y and chroma alike; the brightest shot has the most chroma and
    wins the blend, and its chroma on a darker fused luminance would over-saturate (the audit's
    skin patch: saturation 113 fused against 87-91 in every shot)."""
    skin = np.array([0.55, 0.40, 0.32], np.float32)
    shots = [np.broadcast_to(skin * k, (2, 2, 3)).astype(np.float32) for k in (0.5, 1.0, 1.6)]
    fused_luma = color.luminance(shots[1])  # the fused image as bright as the middle shot
    fused = color.with_chroma(fused_luma, color.blend_chroma(shots))
    assert np.allclose(_hsv_saturation(fused), _hsv_saturation(shots[1]), atol=1e-3)
    plain = color.ycbcr_to_rgb(np.dstack([fused_luma, color.blend_chroma(shots)[..., 1:]]))
    assert _hsv_saturation(plain).mean() > 1.1 * _hsv_saturation(shots[1]).mean()  # what it was before


def test_a_warm_target_over_a_dark_visible_scene_gets_no_more_chroma_than_the_visible_image():
    visible = np.broadcast_to(np.array([0.10, 0.12, 0.20], np.float32), (2, 2, 3))
    blended = color.blend_chroma([visible, np.full((2, 2), 0.9, np.float32)])
    fused = color.rgb_to_ycbcr(color.with_chroma(np.full((2, 2), 0.8, np.float32), blended))
    assert np.allclose(fused[..., 1:], color.rgb_to_ycbcr(visible)[..., 1:], atol=1e-5)


def test_dtype_conversions():
    assert color.output_dtype(np.zeros(1, np.uint8), np.zeros(1, np.uint16)) == np.uint16
    assert color.output_dtype(np.zeros(1, np.uint8), np.zeros(1, np.float64)) == np.float32
    x = np.array([0, 1000, 65535], np.uint16)
    assert np.array_equal(color.from_float(color.to_float(x), np.uint16), x)
    with pytest.raises(TypeError):
        color.to_float(np.zeros(2, np.int32))


def test_float_images_outside_zero_one_are_refused():
    """Float data in 0..255 (OpenCV after astype(float)) would otherwise clip to white."""
    with pytest.raises(ValueError, match="divide 8-bit data by 255"):
        color.to_float(np.array([0.0, 128.0, 255.0]))
    with pytest.raises(ValueError, match="must be in"):
        color.to_float(np.array([-0.5, 0.5]))
    assert color.to_float(np.array([0.0, 1.0 + 1e-6])).max() == 1.0  # rounding is tolerated


def test_a_thermal_palette_shows_the_infrared_warmth_with_the_fusions_detail(tiny_weights, rng):
    from defusion.fusion.color import thermal_colours, with_detail
    from defusion.fusion.fuser import FuseOptions, Fuser

    h, w = 32, 48
    infrared = np.zeros((h, w), np.uint8)
    infrared[:, w // 3:] = 110  # lukewarm middle third (red in "hot"), hottest right third (white)
    infrared[:, 2 * w // 3:] = 230
    visible = (rng.random((h, w)) * 255).astype(np.uint8)
    fused = Fuser.from_pretrained(tiny_weights, device="cpu", palette="hot", scale=1).fuse(visible, infrared)
    assert fused.shape == (h, w, 3)  # grey + grey, coloured; the infrared image taken to be the second
    red = fused[..., 0].astype(float)
    assert red[:, w // 3 + 2:2 * w // 3 - 2].mean() > red[:, :w // 3 - 2].mean() + 60  # warm is red, cold dark
    plain = Fuser.from_pretrained(tiny_weights, device="cpu", scale=1).fuse(visible, infrared)
    expected = with_detail(thermal_colours(infrared / 255.0, "hot"), plain / 255.0)
    assert np.abs(fused / 255.0 - expected).max() < 1.5 / 255  # palette of the infrared + the fusion's detail
    with pytest.raises(ValueError, match="pixels='sources'"):
        FuseOptions(palette="hot", pixels="sources")
    with pytest.raises(ValueError, match="unknown palette"):
        FuseOptions(palette="rainbow")


def test_a_palette_colours_the_raw_thermal_frame_whatever_its_place(tiny_weights, rng):
    from defusion.fusion.fuser import Fuser

    visible = (rng.random((32, 48)) * 255).astype(np.uint8)  # grey, as TNO's visible images are
    raw = (7000 + 8 * (rng.random((32, 48)) * 255)).astype(np.uint16)  # a thermal camera's counts
    fuser = Fuser.from_pretrained(tiny_weights, device="cpu", palette="hot", scale=1)
    guessed = fuser.fuse(visible, raw)  # visible first, as a rig gives them
    told = Fuser.from_pretrained(tiny_weights, device="cpu", palette="hot", scale=1, infrared=1).fuse(visible, raw)
    np.testing.assert_array_equal(guessed, told)


def test_a_grey_video_decoded_from_a_lossy_codec_is_grey(tmp_path, rng):
    """Audit: grey infrared frames decoded from an mp4 are R = G = B only to 2 or 3 levels, so the
    palette was drawn from the visible image."""
    import cv2

    grey = (rng.random((48, 64)) * 255).astype(np.uint8)
    path = str(tmp_path / "ir.mp4")
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
    writer.write(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR))
    writer.release()
    ok, decoded = cv2.VideoCapture(path).read()
    assert ok and not np.array_equal(decoded[..., 0], decoded[..., 2])  # the codec's rounding
    assert color.is_grey(decoded) and color.is_grey(decoded / np.float32(255))
    assert color.thermal_source([(rng.random((48, 64, 3)) * 255).astype(np.uint8), decoded]) == (1, True)
    tinted = decoded.copy()
    tinted[10:20, 10:20, 0] = np.clip(tinted[10:20, 10:20, 0].astype(int) + 12, 0, 255)  # a patch of colour
    assert not color.is_grey(tinted)
    # channels 100 counts apart at 7100: grey (within GREY_SPREAD of its own 7100), but not stretched from 2000 counts
    band = np.dstack([np.full((4, 4), 7000 + d, np.uint16) for d in (0, 50, 100)])
    assert color.is_grey(band) and not color.is_grey(band, scale=2000)


def test_a_palette_spans_a_given_range_and_leaves_what_no_infrared_sees_uncoloured():
    ramp = np.tile(np.linspace(0, 1, 101, dtype=np.float32), (4, 1))
    low, high = color.palette_range(ramp)
    assert (round(low, 2), round(high, 2)) == (0.01, 0.99)
    seen = (ramp < 0.5).astype(np.float32)  # a rig: the infrared camera sees the left half
    assert color.palette_range(ramp, seen)[1] < 0.5  # measured on what it sees
    fixed = color.thermal_colours(ramp, "hot", (0.0, 0.5))
    assert fixed[0, 50].tolist() == [1.0, 1.0, 1.0]  # half way up is the palette's top
    weighed = color.thermal_colours(ramp, "hot", seen=seen)
    assert weighed.shape == (4, 101, 4) and np.array_equal(weighed[..., 3], seen)
    fused = np.full((4, 101), 0.25, np.float32)
    out = color.with_detail(weighed, fused)
    assert out.shape == (4, 101, 3) and np.allclose(out[:, 60:], 0.25)  # no false colour: the fused grey
    assert np.ptp(out[0, 40]) > 0.2  # coloured where it sees


def _is_grey_by_numpy(image, scale=None):
    """is_grey's rule as it was written first (per pixel max - min of the channels, in float64)."""
    if image.ndim == 2 or image.shape[2] == 1:
        return True
    rgb = color.native(image[..., :3])
    if scale is None:
        scale = np.iinfo(rgb.dtype).max if np.issubdtype(rgb.dtype, np.integer) else 1.0
    spread = (rgb.max(axis=2).astype(np.float64) - rgb.min(axis=2)).max()
    return bool(np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2])
                or not spread > color.GREY_SPREAD * scale)


def test_is_grey_answers_as_the_per_pixel_spread_does(rng, monkeypatch):
    """The review: is_grey got fast (OpenCV's channel differences, band by band), not different."""
    monkeypatch.setattr(color, "_GREY_BAND_BYTES", 512)  # many bands even on small images
    base = rng.integers(10, 240, (150, 40, 1))
    exact = np.repeat(base, 3, axis=2).astype(np.uint8)
    lossy = exact.copy(); lossy[::3, ::2, 0] += 2; lossy[1::5, ::3, 2] -= 1  # spread 3 levels
    faint = exact.copy(); faint[141, 7, 1] += 5  # one pixel just over GREY_SPREAD, outside the sampled rows
    deep = np.repeat((7000 + 30 * base), 3, axis=2).astype(np.uint16); deep[77, 3, 2] += 40
    cases = [(exact, None, True), (lossy, None, True), (faint, None, False),
             (np.dstack([lossy, np.full(lossy.shape[:2], 255, np.uint8)]), None, True),  # RGBA: alpha ignored
             (color.to_float(lossy), None, True), (color.to_float(faint), None, False),
             (color.to_float(faint).astype(np.float64), None, False),
             (deep, None, True), (deep, 2000.0, False), (deep, 41 / color.GREY_SPREAD, True),
             (deep.astype(">u2"), 2000.0, False), (exact[..., :1], None, True), (exact[..., 0], None, True)]
    for image, scale, grey in cases:
        assert color.is_grey(image, scale) is grey == _is_grey_by_numpy(image, scale), (image.dtype, image.shape, scale)
    # float32 spreads on either side of the limit, to the last bit (at the full scale: by default off the 8-bit
    # grid, 0.5 is measured against the image's own brightest value, tests/fusion/test_color_dim_not_grey.py)
    near = np.full((20, 20, 3), 0.5, np.float32)
    edge = np.float32(0.5) + np.float32(color.GREY_SPREAD)
    answers = set()
    for value in (np.nextafter(edge, 0, dtype=np.float32), edge, np.nextafter(edge, 1, dtype=np.float32)):
        near[9, 9, 0] = value
        answers.add(color.is_grey(near, 1.0))
        assert color.is_grey(near, 1.0) == _is_grey_by_numpy(near, 1.0), value
    assert answers == {True, False}

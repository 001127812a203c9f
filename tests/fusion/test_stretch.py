"""defusion.fusion.stretch: raw 16-bit grey frames (thermal counts) stretched before fusing."""

from __future__ import annotations

import numpy as np
import pytest

from defusion.fusion.fuser import Fuser, FuseOptions
from defusion.fusion.stretch import FixedStretch, is_narrow, measure_stretch, stretch_sources, value_range
from tests.conftest import smooth_image


def _raw(image8: np.ndarray, base: int = 7000, gain: int = 8) -> np.ndarray:
    """An 8-bit grey image as a raw thermal frame: counts in a narrow band of the 16-bit range."""
    return (base + gain * image8.astype(np.int64)).astype(np.uint16)


def test_only_narrow_grey_16_bit_sources_are_raw_frames(rng):
    grey = smooth_image(rng, 40, 50, 1)
    assert is_narrow(_raw(grey))
    assert not is_narrow(grey)  # 8-bit: a display image
    assert not is_narrow(grey.astype(np.uint16) * 257)  # 16-bit over the full range
    assert is_narrow(np.dstack([_raw(grey)] * 3)) and is_narrow(_raw(grey)[..., None])  # grey in any layout
    colour = np.dstack([_raw(grey), _raw(grey, 7100), _raw(grey, 7200)])
    assert not is_narrow(colour)  # colour: never touched
    assert not is_narrow(np.full((8, 8), 7000, np.uint16))  # flat: nothing to stretch


def test_stretch_maps_a_brackets_band_onto_the_full_range_with_one_mapping_for_all(rng):
    grey = smooth_image(rng, 40, 50, 1)
    dark, bright = _raw(grey, 7000), _raw(grey, 9000)  # one sensor, two exposures
    visible = smooth_image(rng, 40, 50)
    images = [dark, bright, visible]
    floats = [dark / 65535.0, bright / 65535.0, visible / 255.0]
    out, stretched = stretch_sources(images, floats, shared=True)  # a bracket: FuseOptions.stretch_shared
    assert stretched == [0, 1] and out[2] is floats[2]
    assert out[0].min() == 0.0 and out[1].max() == 1.0 and out[0].mean() < out[1].mean()  # their relation kept
    lo, hi = value_range(np.concatenate([dark.ravel(), bright.ravel()]) / 65535.0)
    assert hi > lo
    same, none = stretch_sources(images, floats, "none")
    assert none == [] and all(a is b for a, b in zip(same, floats))
    with pytest.raises(ValueError, match="unknown stretch"):
        FuseOptions(stretch="always")


def test_a_raw_thermal_frame_fuses_like_its_8_bit_rendering(rng):
    ir8, visible = smooth_image(rng, 48, 64, 1), smooth_image(rng, 48, 64)
    auto = Fuser.from_pretrained(device="cpu", scale=1, task="ivf")  # the shipped weights
    plain = Fuser(auto.model, options=FuseOptions(scale=1, unique_gain=1.5, stretch="none"))
    reference = auto.fuse(ir8, visible).astype(float)  # 8-bit in, 8-bit out
    scaled = lambda fused: fused.astype(float) / 257.0  # noqa: E731 - 16-bit out
    off = {name: np.abs(scaled(f.fuse(_raw(ir8), visible)) - reference).mean() for name, f in
           (("auto", auto), ("none", plain))}
    assert off["auto"] < 2.0 and off["none"] > 4 * off["auto"], off


def test_two_cameras_raw_frames_are_stretched_each_on_its_own_and_a_bracket_together(rng):
    """Audit: a 12-bit mono visible and a 14-bit thermal frame shared one mapping, each squeezed into
    part of the range (the fusion washed out), and the CLI said each was stretched to the full range."""
    grey = smooth_image(rng, 40, 50, 1)
    visible12, thermal = (grey.astype(np.uint16) * 16), _raw(smooth_image(rng, 40, 50, 1))  # 0-4080, 7000-9040
    images = [visible12, thermal]
    out, stretched = stretch_sources(images, [im / 65535.0 for im in images])
    assert stretched == [0, 1]
    for floats in out:  # each fills the range
        assert floats.min() == 0.0 and floats.max() == 1.0
    fixed = measure_stretch(images)
    assert len(fixed.groups()) == 2 and fixed.mapping(1)[0] * 65535 > 6999
    np.testing.assert_array_equal(stretch_sources(images, [im / 65535.0 for im in images], fixed)[0][1], out[1])
    together, _ = stretch_sources(images, [im / 65535.0 for im in images], shared=True)
    assert together[1].min() > 0.7  # one mapping: the thermal frame squeezed into the top of the range
    assert FuseOptions.for_task("mef").stretch_shared and not FuseOptions.for_task("ivf").stretch_shared
    fused = Fuser.from_pretrained(device="cpu", scale=1, task="ivf").fusion(visible12, thermal)
    assert all(source.min() == 0.0 and source.max() == 1.0 for source in fused.sources)


def test_the_cli_note_says_how_each_raw_frame_was_stretched(rng, capsys, tmp_path):
    from defusion.cli.fuse.fusion_notes import note_stretched

    grey = smooth_image(rng, 40, 50, 1)
    paths, images = [tmp_path / "vis12.png", tmp_path / "ir14.png"], [grey.astype(np.uint16) * 16, _raw(grey)]
    note_stretched(paths, images)
    err = capsys.readouterr().err
    assert err.count("stretched to the full range before fusing, on its own") == 2, err
    note_stretched(paths, images, shared=True)
    err = capsys.readouterr().err
    assert "vis12.png, ir14.png hold 16-bit values" in err and "one mapping" in err and "on its own" not in err


def test_a_fixed_stretch_maps_each_source_its_own_way():
    fixed = FixedStretch((0, 2), (0.0, 0.1), (0.5, 0.2))
    frame = np.full((2, 2), 0.15, np.float32)
    out, stretched = stretch_sources([frame] * 3, [frame] * 3, fixed)
    assert stretched == [0, 2] and out[0][0, 0] == pytest.approx(0.3) and out[2][0, 0] == pytest.approx(0.5)
    assert out[1] is frame
    assert FixedStretch((0, 1), 0.1, 0.2).groups() == [((0, 1), 0.1, 0.2)]
    with pytest.raises(ValueError, match="one per source"):
        FixedStretch((0, 1), (0.1,), 0.2)
    with pytest.raises(ValueError, match="fixed stretch maps low to high"):
        FixedStretch((0, 1), (0.1, 0.3), 0.2)


def test_a_blank_row_or_column_does_not_switch_the_stretch_off(rng):
    """Audit: one telemetry row of zeros (0.4% of a 256-row frame, over the 0.1% tail) put the low end
    of the range at 0, and the thermal band took a fifth of the stretched range."""
    frame = _raw(smooth_image(rng, 64, 80, 1))
    for blank, scene in (((0, slice(None)), frame[1:]), ((slice(None), -1), frame[:, :-1])):
        for value in (0, 65535, 100):
            damaged = frame.copy()
            damaged[blank] = value  # a blank, saturated or telemetry line
            assert value_range(damaged) == value_range(scene), (blank, value)  # the scene's own range
    dead = frame.copy()
    dead.ravel()[:: 97] = 0  # a spike at 0: 1% of the pixels read nothing
    assert value_range(dead)[0] > 6900
    stretched = stretch_sources([damaged], [damaged / 65535.0])[0][0]
    assert stretched[1:].max() == 1.0 and np.median(stretched[1:]) > 0.3
    flat = np.zeros((8, 8), np.uint16)
    assert value_range(flat) == (0.0, 0.0) and not is_narrow(flat)


def test_big_endian_16_bit_frames_fuse_as_native_ones(rng):
    """Audit: a raw frame read from a big-endian file (np.fromfile(..., '>u2')) was refused."""
    from defusion.fusion import color

    raw = _raw(smooth_image(rng, 32, 40, 1))
    swapped = raw.astype(">u2")
    assert is_narrow(swapped) and value_range(swapped) == value_range(raw)
    np.testing.assert_array_equal(color.to_float(swapped), color.to_float(raw))
    assert color.output_dtype(swapped, raw.astype(np.uint8)) == np.uint16
    assert color.output_dtype(np.zeros(2, ">f4")) == np.float32
    fuser = Fuser.from_pretrained(device="cpu", scale=1, task="ivf")
    visible = smooth_image(rng, 32, 40, 1)
    got, want = fuser.fusion(visible, swapped), fuser.fusion(visible, raw)
    assert got.stretched == want.stretched == (1,) and got.fused.dtype == np.uint16
    np.testing.assert_array_equal(got.fused, want.fused)


def test_raw_counts_given_as_floats_are_warned_about(rng):
    """Audit: raw/65535 as float32 was fused nearly flat, the infrared lost, without a word."""
    from defusion.io.notes import collecting

    raw = _raw(smooth_image(rng, 32, 40, 1))
    visible = smooth_image(rng, 32, 40, 1)
    with collecting() as said:
        stretch_sources([visible, raw / np.float32(65535)], [visible / 255.0, raw / 65535.0])
    assert len(said) == 1 and said[0].startswith("warning: image 2 is grey float data") and "uint16" in said[0]
    with collecting() as said:  # 8-bit data over 255 (a dim display image), colour, or a full range: nothing
        dim = (smooth_image(rng, 32, 40, 1) // 8).astype(np.float32) / 255
        full = smooth_image(rng, 32, 40, 1) / np.float32(255)
        colour = np.dstack([raw, raw // 2, raw // 3]) / np.float32(65535)
        for images in ([dim, full], [colour, full]):
            stretch_sources(images, images)
        stretch_sources([raw / np.float32(65535)], [raw / 65535.0], "none")
    assert said == []


def test_a_one_sensor_focus_stack_shares_one_mapping_and_keeps_its_brightness_relation(rng):
    """A review's regression: stretched each on its own, a dim specimen in one slice was brightened
    to match the other; frames whose bands overlap (one sensor) share the mapping unless told apart."""
    from defusion.fusion.fuser import FuseOptions

    bright = (9000 + 1500 * rng.random((40, 50))).astype(np.uint16)
    dim = (9000 + 500 * rng.random((40, 50))).astype(np.uint16)  # the same sensor, a third of the contrast
    floats, stretched = stretch_sources([bright, dim], [bright / 65535.0, dim / 65535.0],
                                        shared=FuseOptions(scale=1).stretch_shared)
    assert stretched == [0, 1] and floats[1].max() < 0.5  # not brightened to the full range
    apart = [(1000 + 3000 * rng.random((40, 50))).astype(np.uint16), bright]  # two cameras' bands
    floats, _ = stretch_sources(apart, [im / 65535.0 for im in apart])
    assert all(f.max() == 1.0 and f.min() == 0.0 for f in floats)
    assert FuseOptions(palette="inferno").stretch_shared is False and FuseOptions.for_task("mef").stretch_shared


def test_value_range_finds_even_lines_from_a_decimated_look_as_the_full_reductions_do(rng):
    """The review: value_range read the whole frame four times to find blank rows and columns."""
    from defusion.fusion.stretch import _varied_lines

    frame = (7000 + rng.integers(0, 2000, (300, 2500))).astype(np.uint16)
    frame[10] = 0  # a blanked row
    frame[20] = 7100; frame[20, 1234] = 7101  # even in every 32nd value, not whole: a scene's row
    frame[:, 40] = 9  # a padding column
    frame[:, 50] = 7100; frame[151, 50] = 7102
    for image in (frame, frame.astype(np.float32) / 65535):
        for axis in (0, 1):
            assert np.array_equal(_varied_lines(image, axis), image.min(axis=axis) != image.max(axis=axis))
        rows, cols = image.min(axis=1) != image.max(axis=1), image.min(axis=0) != image.max(axis=0)
        kept = image[np.ix_(rows, cols)].ravel()
        kept = kept[:: max(1, kept.size // 1_000_000)]
        expected = np.percentile(kept[kept != 0], [0.1, 99.9])
        assert value_range(image) == tuple(float(v) for v in expected)
        assert value_range(np.dstack([image] * 3)) == value_range(image)

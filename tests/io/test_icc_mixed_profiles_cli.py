"""`defusion fuse` on sources of different ICC profiles: fused as if converted to the first colour
source's profile beforehand (the profile the output carries), said in one line."""

from __future__ import annotations

import numpy as np
from PIL import Image

from defusion.io.icc import convert_colours
from defusion.io.images import read_image
from tests.cli.conftest import run_fuse
from tests.conftest import smooth_image
from tests.io.test_icc_mixed_profiles import ADOBE, P3


def _save(path, pixels: np.ndarray, icc: bytes | None = None):
    if pixels.dtype == np.uint16:  # Pillow writes no 16-bit RGB: tifffile does, with the profile
        import tifffile

        tifffile.imwrite(path, pixels, photometric="rgb", iccprofile=icc)
    else:
        Image.fromarray(pixels).save(path, **({"icc_profile": icc} if icc else {}))
    return path


def _bracket(rng, dtype=np.uint8) -> tuple[np.ndarray, np.ndarray]:
    base = smooth_image(rng, 30, 40).astype(float)
    under, over = np.clip(base * 0.5, 0, 255), np.clip(base * 1.4 + 30, 0, 255)
    if dtype == np.uint16:
        return (under * 257).astype(np.uint16), (over * 257).astype(np.uint16)
    return under.astype(np.uint8), over.astype(np.uint8)


def _profile(path) -> bytes | None:
    with Image.open(path) as im:
        return im.info.get("icc_profile")


def test_untagged_srgb_and_display_p3_fuse_as_if_converted_to_srgb_first(tmp_path, rng, tiny_weights, capsys,
                                                                         fresh_notes):
    under, over = _bracket(rng)
    mixed = [_save(tmp_path / "u_srgb.png", under), _save(tmp_path / "o_p3.png", over, P3)]
    assert run_fuse(*mixed, "-o", tmp_path / "f.png", "--task", "mef", "--weights", tiny_weights) == 0
    err = capsys.readouterr().err
    assert err.count("defusion: note: o_p3.png (Display P3) converted to sRGB, the colour space of u_srgb.png (the "
                     "first colour image, untagged), which the fused image takes\n") == 1
    assert _profile(tmp_path / "f.png") is None  # not tagged Display P3: its colours are sRGB's
    one_space = [mixed[0], _save(tmp_path / "o_srgb.png", convert_colours(over, P3, None))]
    assert run_fuse(*one_space, "-o", tmp_path / "g.png", "--task", "mef", "--weights", tiny_weights) == 0
    assert np.array_equal(read_image(tmp_path / "f.png"), read_image(tmp_path / "g.png"))


def test_adobe_rgb_and_display_p3_fuse_in_adobe_rgb_and_carry_it(tmp_path, rng, tiny_weights, capsys, fresh_notes):
    under, over = _bracket(rng)
    mixed = [_save(tmp_path / "u_adobe.png", under, ADOBE), _save(tmp_path / "o_p3.png", over, P3)]
    assert run_fuse(*mixed, "-o", tmp_path / "f.png", "--task", "mef", "--weights", tiny_weights) == 0
    assert ("o_p3.png (Display P3) converted to Adobe RGB (1998), the profile of u_adobe.png (the first colour "
            "image), which the fused image carries") in capsys.readouterr().err
    assert _profile(tmp_path / "f.png") == ADOBE
    one_space = [mixed[0], _save(tmp_path / "o_adobe.png", convert_colours(over, P3, ADOBE), ADOBE)]
    assert run_fuse(*one_space, "-o", tmp_path / "g.png", "--task", "mef", "--weights", tiny_weights) == 0
    assert "converted" not in capsys.readouterr().err  # one space: nothing to convert, nothing said
    assert np.array_equal(read_image(tmp_path / "f.png"), read_image(tmp_path / "g.png"))


def test_sixteen_bit_sources_are_converted_at_sixteen_bits(tmp_path, rng, tiny_weights, capsys, fresh_notes):
    under, over = _bracket(rng, np.uint16)
    mixed = [_save(tmp_path / "u.tif", under), _save(tmp_path / "o_p3.tif", over, P3)]
    assert run_fuse(*mixed, "-o", tmp_path / "f.tif", "--task", "mef", "--weights", tiny_weights) == 0
    assert "o_p3.tif (Display P3) converted to sRGB" in capsys.readouterr().err
    one_space = [mixed[0], _save(tmp_path / "o_srgb.tif", convert_colours(over, P3, None))]
    assert run_fuse(*one_space, "-o", tmp_path / "g.tif", "--task", "mef", "--weights", tiny_weights) == 0
    fused = read_image(tmp_path / "f.tif")
    assert fused.dtype == np.uint16 and np.array_equal(fused, read_image(tmp_path / "g.tif"))


def test_no_metadata_still_converts_and_says_the_output_has_no_profile(tmp_path, rng, tiny_weights, capsys,
                                                                       fresh_notes):
    under, over = _bracket(rng)
    mixed = [_save(tmp_path / "u_adobe.png", under, ADOBE), _save(tmp_path / "o_p3.png", over, P3)]
    assert run_fuse(*mixed, "-o", tmp_path / "f.png", "--task", "mef", "--weights", tiny_weights, "--no-metadata") == 0
    assert ("converted to sRGB, as the fused image is written without a profile (--no-metadata), which is read as "
            "sRGB") in capsys.readouterr().err
    assert _profile(tmp_path / "f.png") is None


def test_a_folder_run_says_it_for_its_first_pair_only(tmp_path, rng, tiny_weights, capsys, fresh_notes):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    for i in range(3):
        under, over = _bracket(rng)
        _save(a / f"p{i}.png", under)
        _save(b / f"p{i}.png", over, P3)
    assert run_fuse("--a", a, "--b", b, "-o", tmp_path / "out", "--task", "mef", "--weights", tiny_weights) == 0
    err = capsys.readouterr().err
    assert err.count("converted to sRGB") == 1 and "later pairs' or groups' sources alike, unsaid" in err
    assert all(_profile(tmp_path / "out" / f"p{i}.png") is None for i in range(3))

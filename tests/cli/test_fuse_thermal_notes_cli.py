"""`defusion fuse` saying two thermal slips that give a plausible picture and no error (a thermal
user's audit): a raw 16-bit frame fused with --stretch none (nearly flat: the fused image is the
visible one, silently), and an infrared + visible pair given infrared first (the output takes the
thermal frame's size; --resize shrinks the visible image to it)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from defusion.cli.main import main
from defusion.io.images import write_image
from tests.conftest import smooth_image

#: The raw frame's 14-bit counts: a narrow band of 0..65535, as a thermal camera writes them.
COLD, WARM = 7188, 8358
#: The visible image's size and the thermal frame's (half of it), HxW.
VISIBLE, THERMAL = (48, 64), (24, 32)


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """One intra-op thread: the machine's few cores are shared (see tests/conftest.py)."""


def _fuse(*args) -> int:
    return main(["fuse", *map(str, args), "--no-progress", "--scale", "1"])


def _raw_frame(rng, shape: tuple[int, int]) -> np.ndarray:
    """A 16-bit grey frame of counts COLD..WARM (a scene's warmth)."""
    grey = smooth_image(rng, *shape, channels=1).astype(np.float64) / 255.0
    return np.rint(COLD + (WARM - COLD) * grey).astype(np.uint16)


def _notes(err: str, words: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("defusion: note:") and words in line]


def test_stretch_none_on_a_raw_frame_says_it_reads_nearly_flat(tmp_path, rng, tiny_weights, capsys):
    vis = write_image(tmp_path / "flat_vis.png", smooth_image(rng, *VISIBLE))
    ir = write_image(tmp_path / "flat_ir16.png", _raw_frame(rng, VISIBLE))
    assert _fuse(vis, ir, "--stretch", "none", "-o", tmp_path / "f.png", "--weights", tiny_weights) == 0
    said = _notes(capsys.readouterr().err, "reads nearly flat")
    assert len(said) == 1, said
    found = re.fullmatch(r"defusion: note: flat_ir16\.png spans only (\d+)\.\.(\d+) of 0\.\.65535 \([\d.]+% of the "
                         r"range\) and reads nearly flat unstretched; drop --stretch none \(or use --stretch auto\) to "
                         r"see its content", said[0])
    assert found, said
    low, high = int(found[1]), int(found[2])
    assert COLD <= low < high <= WARM and high - low > (WARM - COLD) / 2


def test_stretch_auto_or_a_display_image_says_nothing_of_flatness(tmp_path, rng, tiny_weights, capsys):
    vis = write_image(tmp_path / "auto_vis.png", smooth_image(rng, *VISIBLE))
    ir = write_image(tmp_path / "auto_ir16.png", _raw_frame(rng, VISIBLE))
    ir8 = write_image(tmp_path / "auto_ir8.png", smooth_image(rng, *VISIBLE, channels=1))
    assert _fuse(vis, ir, "-o", tmp_path / "f.png", "--weights", tiny_weights) == 0
    assert _fuse(vis, ir8, "--stretch", "none", "-o", tmp_path / "g.png", "--weights", tiny_weights) == 0
    assert not _notes(capsys.readouterr().err, "nearly flat")


@pytest.mark.parametrize("option", [["--task", "ivf"], ["--palette", "inferno"]], ids=["ivf", "palette"])
def test_infrared_first_says_visible_first_and_what_resize_does(tmp_path, rng, tiny_weights, capsys, option):
    name = option[1]
    vis = write_image(tmp_path / f"{name}_vis.png", smooth_image(rng, *VISIBLE))
    ir = write_image(tmp_path / f"{name}_ir8.png", smooth_image(rng, *THERMAL, channels=1))
    out = tmp_path / "f.png"
    assert _fuse(ir, vis, *option, "--resize", "-o", out, "--weights", tiny_weights) == 0
    said = _notes(capsys.readouterr().err, "visible first is the convention")
    assert said == [f"defusion: note: {name}_ir8.png is grey and {name}_vis.png colour: if {name}_ir8.png is the "
                    "infrared image, visible first is the convention (as benchmarked, and as a rig is calibrated); the "
                    f"output takes the first image's size, 32x24, and --resize shrinks {name}_vis.png from 64x48 to "
                    "it; give the visible image first (a grey visible image beside a colour thermal one is given "
                    "rightly so)"], said


def test_infrared_named_settles_the_order(tmp_path, rng, tiny_weights, capsys):
    """From a review: a grey visible camera before a false-colour thermal image was told to swap them."""
    grey = write_image(tmp_path / "mono_vis.png", smooth_image(rng, *VISIBLE, channels=1))
    ironbow = write_image(tmp_path / "ironbow.png", smooth_image(rng, *VISIBLE))
    assert _fuse(grey, ironbow, "--palette", "inferno", "--infrared", "2", "-o", tmp_path / "f.png",
                 "--weights", tiny_weights) == 0
    assert not _notes(capsys.readouterr().err, "visible first")
    assert _fuse(grey, ironbow, "--palette", "inferno", "--infrared", "1", "-o", tmp_path / "g.png",
                 "--weights", tiny_weights) == 0
    said = _notes(capsys.readouterr().err, "visible first")
    assert len(said) == 1 and "mono_vis.png (named the infrared image) comes before ironbow.png" in said[0], said


def test_visible_first_or_no_thermal_option_says_nothing_of_the_order(tmp_path, rng, tiny_weights, capsys):
    vis = write_image(tmp_path / "order_vis.png", smooth_image(rng, *VISIBLE))
    ir = write_image(tmp_path / "order_ir8.png", smooth_image(rng, *VISIBLE, channels=1))
    assert _fuse(vis, ir, "--task", "ivf", "-o", tmp_path / "f.png", "--weights", tiny_weights) == 0
    assert _fuse(ir, vis, "-o", tmp_path / "g.png", "--weights", tiny_weights) == 0  # no --task ivf, no palette
    assert not _notes(capsys.readouterr().err, "visible first")


def test_a_raw_frame_first_says_so_even_beside_a_grey_visible_image(tmp_path, rng, tiny_weights, capsys):
    grey = write_image(tmp_path / "raw_first_vis.png", smooth_image(rng, *VISIBLE, channels=1))
    ir = write_image(tmp_path / "raw_first_ir16.png", _raw_frame(rng, VISIBLE))
    assert _fuse(ir, grey, "--task", "ivf", "-o", tmp_path / "f.png", "--weights", tiny_weights) == 0
    said = _notes(capsys.readouterr().err, "visible first")
    assert len(said) == 1 and "raw_first_ir16.png (a raw thermal frame) comes before raw_first_vis.png (not one)" \
        in said[0] and "the output takes the first image's size, 64x48; give the visible image first" in said[0], said

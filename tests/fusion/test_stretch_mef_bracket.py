"""A grey 16-bit exposure bracket (--task mef) is no raw sensor data: its dark shot is an exposure, not
counts to stretch (photographer audit: EV -4 of a bracket was stretched 4x, brighter than EV 0)."""

from __future__ import annotations

import argparse

import cv2
import numpy as np
import pytest

from defusion.cli.fuse.fusion_notes import note_unstretched
from defusion.cli.main import main
from defusion.fusion.fuser import Fuser, FuseOptions
from defusion.fusion.stretch import describe_stretch, measure_stretch, stretch_sources
from defusion.io.notes import as_lines
from tests.conftest import smooth_image

#: The audit's bracket: EV -4, -2 and 0 of one scene, gamma 2.2, the darkest topping out under a
#: quarter of the 16-bit range (a narrow band), the others filling more of it.
EVS = (-4, -2, 0)
#: The scene's linear exposure at EV 0: the EV -4 shot then tops out at about 15,800 of 65535.
EXPOSURE = 0.7


def _bracket(rng: np.random.Generator, h: int = 48, w: int = 64) -> list[np.ndarray]:
    linear = (smooth_image(rng, h, w, 1) / 255.0) ** 2.2 * EXPOSURE
    return [(np.clip(linear * 2.0 ** ev, 0, 1) ** (1 / 2.2) * 65535).round().astype(np.uint16) for ev in EVS]


def test_a_brackets_dark_shot_is_not_stretched_where_its_brighter_shots_fill_the_range(rng):
    bracket = _bracket(rng)
    assert measure_stretch(bracket) is not None  # alone it looks like raw counts (a narrow band) ...
    shared = FuseOptions.for_task("mef").stretch_shared
    assert measure_stretch(bracket, shared) is None  # ... but one sensor's bracket fills the range
    floats = [im / 65535.0 for im in bracket]
    out, stretched = stretch_sources(bracket, floats, "auto", shared)
    assert stretched == [] and all(a is b for a, b in zip(out, floats))
    assert describe_stretch(["-4.tif", "-2.tif", "0.tif"], bracket, shared) == []  # nothing said stretched


def test_the_api_fuses_a_grey_bracket_as_it_is_and_keeps_its_exposures_order(rng):
    bracket = _bracket(rng)
    fuser = Fuser.from_pretrained(device="cpu", scale=1, task="mef")
    fusion = fuser.fusion(*bracket)
    assert fusion.stretched == ()
    means = sorted(float(source.mean()) for source in fusion.sources)  # as read: the darkest stays darkest
    assert means == pytest.approx(sorted(float(image.mean()) / 65535 for image in bracket), abs=1e-4)


def test_a_raw_bracket_and_two_cameras_frames_are_still_stretched(rng):
    grey = smooth_image(rng, 40, 50, 1).astype(np.int64)
    raw_bracket = [(1000 + 4 * grey).astype(np.uint16), (2000 + 16 * grey).astype(np.uint16)]  # 14-bit counts
    fixed = measure_stretch(raw_bracket, shared=True)
    assert fixed is not None and fixed.sources == (0, 1) and len(fixed.groups()) == 1  # one mapping, as before
    visible16, thermal = (grey * 257).astype(np.uint16), (7000 + 8 * grey).astype(np.uint16)
    assert measure_stretch([visible16, thermal]).sources == (1,)  # no bracket: the thermal frame on its own
    assert measure_stretch([visible16, thermal], shared=False).sources == (1,)


@pytest.mark.parametrize("task, said", [("mef", 0), (None, 1)])
def test_stretch_none_advises_the_stretch_only_where_auto_would_stretch(rng, capsys, tmp_path, fresh_notes, task,
                                                                       said):
    paths = [tmp_path / f"grey16_{ev}.tif" for ev in EVS]
    from defusion.fusion.options import FuseOptions

    args = argparse.Namespace(task=task, order=None, dir_a=None, stacks=None)
    with as_lines():  # as defusion fuse says it
        note_unstretched(paths, _bracket(rng), args, set(), FuseOptions.for_task(task).stretch_shared)
    err = capsys.readouterr().err
    assert err.count("drop --stretch none") == said, err
    assert ("grey16_-4.tif spans only" in err) == bool(said), err


def test_fuse_task_mef_fuses_a_grey_16_bit_bracket_unstretched(rng, capsys, tmp_path, fresh_notes):
    paths = [tmp_path / f"grey16_{ev}.tif" for ev in EVS]
    for path, shot in zip(paths, _bracket(rng)):
        cv2.imwrite(str(path), shot)
    means = {}
    for stretch in ((), ("--stretch", "none"), ("--stretch", "auto")):
        out = tmp_path / f"fused{len(means)}.tif"
        assert main(["fuse", *map(str, paths), "--task", "mef", "-o", str(out), "--scale", "1", "--no-progress",
                     *stretch]) == 0
        err = capsys.readouterr().err
        assert "stretched" not in err and "--stretch none" not in err, err
        means[stretch] = float(cv2.imread(str(out), cv2.IMREAD_UNCHANGED).mean())
    assert len(set(means.values())) == 1, means


def test_a_bracket_with_an_8_bit_shot_beside_its_16_bit_dark_one_is_not_stretched():
    """A review: the shared band was measured over the 16-bit frames alone, so an 8-bit 0 EV shot left the
    dark 16-bit one stretched alone, brighter than it."""
    from defusion.fusion.stretch import measure_stretch

    ev0 = np.linspace(1000, 60000, 64 * 64).reshape(64, 64).astype(np.uint16)
    assert measure_stretch([ev0 // 4, ev0], shared=True) is None
    assert measure_stretch([ev0 // 4, (ev0 / 257).astype(np.uint8)], shared=True) is None
    assert measure_stretch([ev0 // 4, (ev0 / 257).astype(np.uint8)]) is not None  # not a bracket: may be thermal

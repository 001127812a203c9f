"""A thermal engineer's third audit: notes that were false or missing around infrared + visible pairs.

(A) ``--infrared N`` naming no image of the pair said a false order note before its error; (B)
calibrate advised giving "the camera with the narrower view first" whichever order it was given, where
neither view holds the other (a 5:4 thermal camera beside a 16:9 visible one) and where it would put
the infrared camera first, against fuse's convention; (C) a folder of frame pairs is stretched and
coloured pair by pair (flicker), unsaid."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from defusion.cli.main import main
from defusion.fusion.rig import Rig, RigCamera, describe_coverage, map_points
from defusion.fusion.thermal_notes import describe_order
from defusion.io.images import write_image
from tests.conftest import smooth_image

#: A 16:9 visible camera and a 5:4 thermal one (W, H), centred on each other: the thermal camera's
#: view is narrower across (83% of the visible width) and taller (118% of its height).
VISIBLE, THERMAL = (128, 72), (50, 40)
SCALE = 50 / (0.83 * 128)
BESIDE = np.array([[SCALE, 0, THERMAL[0] / 2 - SCALE * VISIBLE[0] / 2],
                   [0, SCALE, THERMAL[1] / 2 - SCALE * VISIBLE[1] / 2], [0, 0, 1]])
#: The raw frame's counts: a narrow band of 0..65535, as a thermal camera writes them.
COLD, WARM = 7000, 9000


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """One intra-op thread: the machine's few cores are shared (see tests/conftest.py)."""


def _run(*args) -> int:
    return main([str(a) for a in args])


def _notes(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("defusion: note:")]


# -- (A) --infrared out of range ------------------------------------------------------------------------

def test_an_infrared_index_naming_no_image_of_the_pair_says_no_order_note():
    grey = np.zeros((24, 32), np.uint8)
    assert describe_order(["vi.png", "ir.png"], [grey, grey], infrared=2) is None
    assert describe_order(["vi.png", "ir.png"], [grey, grey], infrared=0).startswith("vi.png (named the infrared")


def test_fuse_with_infrared_out_of_range_says_only_the_error(tmp_path, rng, tiny_weights, capsys):
    vi = write_image(tmp_path / "tno_vi.png", smooth_image(rng, 24, 32, channels=1))
    ir = write_image(tmp_path / "tno_ir.png", smooth_image(rng, 24, 32, channels=1))
    code = _run("fuse", vi, ir, "--palette", "inferno", "--infrared", 3, "-o", tmp_path / "f.png",
                "--weights", tiny_weights, "--no-progress", "--scale", 1)
    err = capsys.readouterr().err
    assert code != 0 and not (tmp_path / "f.png").exists()
    assert _notes(err) == [], err
    assert [line for line in err.splitlines() if line.strip()] == [
        "defusion: error: --infrared 3 was asked for, but 2 images were given: give --infrared 1 to 2 (the "
        "infrared image's place among them)"], err
    raw = write_image(tmp_path / "raw.png", (7000 + 8 * smooth_image(rng, 24, 32, channels=1).astype(np.uint16)))
    assert _run("fuse", vi, raw, "--palette", "inferno", "--infrared", 3, "-o", tmp_path / "f.png",
                "--weights", tiny_weights, "--no-progress", "--scale", 1) == 2
    err = capsys.readouterr().err
    assert err.startswith("defusion: error: --infrared 3 was asked for") and "stretched" not in err, err


# -- (B) calibrate's coverage advice --------------------------------------------------------------------

def _rig(matrix: np.ndarray, size: tuple[int, int] = VISIBLE, camera: tuple[int, int] = THERMAL) -> Rig:
    return Rig(size, (RigCamera(camera, tuple(tuple(float(v) for v in row) for row in matrix)),), "affine")


def test_coverage_back_is_the_coverage_of_the_other_order():
    rig = _rig(BESIDE)
    swapped = _rig(np.linalg.inv(BESIDE), THERMAL, VISIBLE)
    assert rig.coverage_back() == pytest.approx(swapped.coverage(), abs=0.02)
    assert rig.coverage()[0] == pytest.approx(0.83, abs=0.03)  # the thermal camera is narrower across
    assert rig.coverage_back()[0] == pytest.approx(72 / 85, abs=0.03)  # and taller: neither holds the other


def test_neither_order_covering_the_other_is_said_without_telling_to_swap():
    for rig in (_rig(BESIDE), _rig(np.linalg.inv(BESIDE), THERMAL, VISIBLE)):
        said = rig.coverage_notes()
        assert len(said) == 1 and "each sees part of the scene the other does not" in said[0], said
        assert "first" not in said[0].replace("the first camera's alone", "")


def test_giving_first_is_advised_only_where_it_helps_and_keeps_visible_first():
    inside = np.array([[0.5, 0, -10], [0, 0.5, -7.5], [0, 0, 1]])  # camera 2 sees camera 1's middle only
    rig = _rig(inside, (100, 80), (30, 25))
    assert rig.coverage()[0] < 0.5 and rig.coverage_back()[0] == 1.0
    assert "give camera 2 first" in rig.coverage_notes()[0]
    kept = rig.coverage_notes([True])[0]  # camera 2 the infrared one: visible first, the convention
    assert "give camera 2 first" not in kept and "keep the visible camera first" in kept
    assert describe_coverage(2, 0.95, 0.2) is None  # it sees (nearly) all: nothing to say


@pytest.fixture
def rig_pair(tmp_path, rng):
    """A 16:9 colour visible image, a 5:4 raw 16-bit thermal frame of the same scene (:data:`BESIDE`),
    and marks in both, as x_vis, y_vis, x_ir, y_ir and swapped."""
    scene = smooth_image(rng, VISIBLE[1], VISIBLE[0])
    visible = write_image(tmp_path / "vis.png", scene)
    grey = cv2.warpPerspective(cv2.cvtColor(scene, cv2.COLOR_RGB2GRAY), BESIDE, THERMAL,
                               flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT)
    thermal = write_image(tmp_path / "ir16.png", np.rint(COLD + (WARM - COLD) * (grey / 255.0)).astype(np.uint16))
    marks = np.c_[rng.uniform(16, VISIBLE[0] - 16, 9), rng.uniform(4, VISIBLE[1] - 4, 9)]
    seen = map_points(BESIDE, marks)
    rows = [(a, b, c, d) for (a, b), (c, d) in zip(marks, seen)]
    points, swapped = tmp_path / "ir.csv", tmp_path / "ir_swapped.csv"
    points.write_text("".join("%.2f,%.2f,%.2f,%.2f\n" % row for row in rows), encoding="utf-8")
    swapped.write_text("".join("%.2f,%.2f,%.2f,%.2f\n" % (c, d, a, b) for a, b, c, d in rows), encoding="utf-8")
    return visible, thermal, points, swapped


def test_calibrate_says_neither_view_holds_the_other_in_either_order(rig_pair, tmp_path, capsys):
    visible, thermal, points, swapped = rig_pair
    for images, csv in (((visible, thermal), points), ((thermal, visible), swapped)):
        assert _run("calibrate", *images, "--points", csv, "-o", tmp_path / "rig.json") == 0
        err = capsys.readouterr().err
        assert "narrower view" not in err and "give camera 2 first" not in err, err
        assert [n for n in _notes(err) if "each sees part of the scene the other does not" in n], err


def test_calibrate_given_thermal_first_says_visible_first_as_fuse_does(rig_pair, tmp_path, capsys):
    visible, thermal, points, swapped = rig_pair
    assert _run("calibrate", thermal, visible, "--points", swapped, "-o", tmp_path / "rig.json") == 0
    order = [n for n in _notes(capsys.readouterr().err) if "comes before" in n]
    assert len(order) == 1 and order[0].startswith("defusion: note: ir16.png (a raw thermal frame) comes before "
                                                   "vis.png"), order
    assert "give the visible image first" in order[0] and "x_cam, y_cam before x_ref, y_ref" in order[0]
    assert _run("calibrate", visible, thermal, "--points", points, "-o", tmp_path / "rig.json") == 0
    assert not [n for n in _notes(capsys.readouterr().err) if "comes before" in n]


# -- (C) a folder of frame pairs, each mapped on its own -----------------------------------------------

def _folders(tmp_path, rng, pairs: int, raw: bool):
    a, b = tmp_path / "vis", tmp_path / "ir"
    a.mkdir(), b.mkdir()
    for index in range(pairs):
        write_image(a / f"frame{index}.png", smooth_image(rng, 24, 32))
        grey = smooth_image(rng, 24, 32, channels=1)
        write_image(b / f"frame{index}.png", (COLD + grey.astype(np.uint16) * 8).astype(np.uint16) if raw else grey)
    return a, b


def _fuse_folders(a, b, out, weights, *options) -> int:
    return _run("fuse", "--a", a, "--b", b, "-o", out, "--weights", weights, "--no-progress", "--scale", 1, *options)


@pytest.mark.parametrize("raw, options, said", [
    (True, (), "raw thermal frames are stretched over"),
    (False, ("--palette", "inferno"), "--palette's colours spread over"),
    (True, ("--palette", "inferno"), "raw thermal frames are stretched and --palette's colours spread over"),
])
def test_a_folder_run_says_once_that_each_pair_is_mapped_on_its_own(tmp_path, rng, tiny_weights, capsys,
                                                                     raw, options, said):
    a, b = _folders(tmp_path, rng, 3, raw)
    assert _fuse_folders(a, b, tmp_path / "out", tiny_weights, *options) == 0
    notes = [n for n in _notes(capsys.readouterr().err) if "each pair is fused on its own" in n]
    assert len(notes) == 1 and said in notes[0], notes
    assert f"defusion video {a} {b} -o OUT_DIR/" in notes[0]


def test_a_folder_run_with_one_mapping_to_keep_says_nothing_of_it(tmp_path, rng, tiny_weights, capsys):
    a, b = _folders(tmp_path, rng, 3, raw=False)  # display images, no palette: nothing mapped per pair
    assert _fuse_folders(a, b, tmp_path / "out", tiny_weights) == 0
    assert "each pair is fused on its own" not in capsys.readouterr().err
    assert _fuse_folders(a, b, tmp_path / "out2", tiny_weights, "--stretch", "none") == 0
    assert "each pair is fused on its own" not in capsys.readouterr().err


def test_a_folder_of_one_pair_says_nothing_of_flicker(tmp_path, rng, tiny_weights, capsys):
    a, b = _folders(tmp_path, rng, 1, raw=True)
    assert _fuse_folders(a, b, tmp_path / "out", tiny_weights, "--palette", "inferno") == 0
    assert "each pair is fused on its own" not in capsys.readouterr().err


def test_a_folder_run_says_the_stretch_of_its_first_pair_only(tmp_path, rng, tiny_weights, capsys):
    """A line per pair ("frameN.png holds 16-bit values ...: stretched") buried the progress bar."""
    a, b = _folders(tmp_path, rng, 3, raw=True)
    assert _fuse_folders(a, b, tmp_path / "out", tiny_weights) == 0
    stretched = [n for n in _notes(capsys.readouterr().err) if "stretched to the full range" in n]
    assert len(stretched) == 1 and "frame0.png" in stretched[0] and "other pairs alike, unsaid" in stretched[0]

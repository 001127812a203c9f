"""Rig files with numbers no camera pair has (the security audit's): a RigError of one line when the rig is
read, before anything warps by it. Before, a matrix entry of 1e308 was accepted and OpenCV's
warpPerspective spun without end on it, and a size of Infinity was an OverflowError traceback."""

from __future__ import annotations

import json

import numpy as np
import pytest

from defusion.fusion.calibration import calibrate
from defusion.fusion.rig import MAX_RIG_SIDE, Rig, RigCamera, RigError
from defusion.fusion.rig.warp import coverage_mask, warp_onto_grid

IDENTITY = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]


def _text(matrix=IDENTITY, reference=(96, 64), camera=(96, 64), motion="homography") -> str:
    """A rig file's text with these values (Python's json writes inf as Infinity, as the audit's did)."""
    return json.dumps({"format": "defusion-rig", "version": 1, "motion": motion, "reference": {"size": list(reference)},
                       "cameras": [{"size": list(camera), "matrix": matrix}]})


def _refused(text: str, *words: str) -> str:
    with pytest.raises(RigError) as refused:
        Rig.loads(text, "bad.json")
    message = str(refused.value)
    assert "\n" not in message and message.startswith("bad.json: "), message
    for word in words:
        assert word in message, message
    return message


@pytest.mark.parametrize("reference, camera", [
    ((float("inf"), 64), (96, 64)),  # the audit's: OverflowError: cannot convert float infinity to integer
    ((96, 64), (96, float("-inf"))),
])
def test_a_size_of_infinity_is_a_rig_error(reference, camera):
    _refused(_text(reference=reference, camera=camera), "whole numbers")
    _refused(_text().replace("[96, 64]", "[1e400, 64]", 1), "whole numbers")  # JSON's overflow: inf too


@pytest.mark.parametrize("size", [["96", 64], [96.5, 64], [True, 64]])
def test_a_size_that_is_no_whole_number_is_a_rig_error(size):
    """Before, "96" was taken for 96, 96.5 for 96 and true for 1: sizes no file written by calibrate has."""
    _refused(_text(reference=size), "whole numbers", repr(size))
    assert Rig.loads(_text(reference=[96.0, 64])).size == (96, 64)  # a whole number written as a float is one


@pytest.mark.parametrize("size", [[MAX_RIG_SIDE + 1, 1], [100_000, 100_000], [10**400, 64]])
def test_a_size_larger_than_any_camera_is_a_rig_error(size):
    message = _refused(_text(camera=size), "larger than any camera")
    assert len(message) < 300  # a 400-digit number is not said in full... nor in part: it is no size at all
    assert Rig.loads(_text(reference=(14_204, 10_652), matrix=[[0.045, 0, 0], [0, 0.045, 0], [0, 0, 1]],
                           camera=(640, 512))).size == (14_204, 10_652)  # 150 MP beside a thermal camera


@pytest.mark.parametrize("matrix", [
    [[1e308, 0, 0], [0, 1e308, 0], [0, 0, 1]],  # the audit's: warpPerspective spun for minutes
    [[1e307, 0, 0], [0, 1, 0], [0, 0, 1]],
    [[1, 0, 1e13], [0, 1, 0], [0, 0, 1]],
    [[1e13, 0, 0], [0, 1e13, 0], [0, 0, 1e13]],  # the identity, times 1e13: no warp takes its entries
])
def test_a_matrix_entry_no_warp_takes_is_refused_when_the_rig_is_read(matrix):
    _refused(_text(matrix), "camera 2", "entry", "at most 1e+12")


def test_a_matrix_entry_of_hundreds_of_digits_is_a_rig_error():
    """numpy's OverflowError (int too large to convert to float) was a traceback."""
    _refused(_text().replace("[0, 0, 1]]", "[0, 0, 1" + "0" * 400 + "]]"), "too large")


@pytest.mark.parametrize("matrix, scale", [
    ([[1e4, 0, 0], [0, 1e4, 0], [0, 0, 1]], "1e+04"),
    ([[1e-4, 0, 0], [0, 1e-4, 0], [0, 0, 1]], "0.0001"),
    ([[1e4, 0, 0], [0, 1e-4, 0], [0, 0, 1]], "1e+04"),  # no larger in area, but 10,000 times across
    ([[1, 0, 0], [0, 1, 0], [0.0104, 0, 0.001]], "6.55e+05"),  # near the horizon (w = 0) at the left edge
])
def test_a_scale_no_camera_pair_has_is_refused(matrix, scale):
    _refused(_text(matrix), "camera 2", f"to {scale}", "0.001 to 1000")
    # within the range: a camera of 900 times the resolution, a mirrored one (a beam splitter), a tilted one
    for good in ([[900, 0, 0], [0, 900, 0], [0, 0, 1]], [[-0.5, 0, 95], [0, 0.5, 0], [0, 0, 1]],
                 [[1, 0.05, 0], [0, 1, 0], [2e-3, 1e-3, 1]]):
        assert Rig.loads(_text(good)).cameras[0].matrix[0][0] == good[0][0]


def test_a_camera_far_from_the_first_cameras_view_is_refused():
    _refused(_text([[1, 0, 1e9], [0, 1, 0], [0, 0, 1]]), "camera 2", "1e+09 px outside", "96x64")
    assert Rig.loads(_text([[1, 0, -9000], [0, 1, 0], [0, 0, 1]])).coverage() == [0.0]  # far, yet within reach


def test_a_rig_made_in_python_is_bounded_too():
    with pytest.raises(RigError, match="camera 2: the matrix has an entry of 1e\\+308"):
        Rig((96, 64), (RigCamera((96, 64), ((1e308, 0, 0), (0, 1e308, 0), (0, 0, 1))),), "similarity")
    with pytest.raises(RigError, match="larger than any camera"):
        Rig((2_000_000, 64), (RigCamera((96, 64), ((1, 0, 0), (0, 1, 0), (0, 0, 1))),), "similarity")


def test_the_warp_itself_refuses_a_matrix_it_would_spin_on():
    """The warp's own guard (a caller of warp_onto_grid or coverage_mask, not a Rig): before, this never returned."""
    huge = np.diag([1e308, 1e308, 1.0])
    with pytest.raises(RigError, match="entry of 1e\\+308"):
        coverage_mask(huge, (96, 64), (96, 64))
    with pytest.raises(RigError, match="entry of 1e\\+308"):
        warp_onto_grid(np.zeros((64, 96), np.float32), huge, (96, 64))


def test_calibrate_never_makes_a_rig_the_bounds_refuse(tmp_path):
    """Marks spread over the first image but within a pixel in the other's fit a scale of 1/2000: fit_matrix
    took it (its bound is a determinant of 1e-9), calibrate wrote it, and every later read of the file
    would now refuse it. It is refused where it is fitted instead, so no such file is written."""
    ref = np.array([[10, 10], [1900, 20], [40, 1400], [1880, 1430], [950, 700], [300, 1100]], float)
    src = 5 + ref / 2000
    with pytest.raises(RigError, match="camera 2: the matrix maps one pixel of the first camera to 0.0005"):
        calibrate([np.zeros((1500, 2000)), np.zeros((10, 10))], [(ref, src)], "affine")
    fitted = calibrate([np.zeros((1500, 2000)), np.zeros((1000, 1000))], [(ref, ref / 2)], "affine").rig
    fitted.save(tmp_path / "rig.json")
    assert Rig.load(tmp_path / "rig.json") == fitted  # what it writes, it reads back


@pytest.mark.parametrize("edit, said", [
    ({"version": 10**4000}, "rig file version 1000"),  # JSON takes integers of up to 4300 digits
    ({"motion": "w" * 60_000}, "unknown rig motion 'www"),
    ({"reference": {"size": list(range(30_000))}}, "got [0, 1, 2, 3, 4, 5, ...]"),
])
def test_a_field_of_thousands_of_characters_is_said_in_part(edit, said):
    """One line, but not one of 60 kB: the field's start is enough to find it."""
    data = json.loads(_text())
    data.update(edit)
    message = _refused(json.dumps(data), said)
    assert len(message) < 300, len(message)

"""defusion.fusion.stretch.value_range: only a few even lines at a frame's edges are left out.

Audit: a noise-free thermal ramp (each column one value top to bottom) with a warm block lost every
even column to the "blank or telemetry line" rule, and the note said "its 0.1-99.9th percentiles" of
what was left: 33% of the frame clipped to black.
"""

from __future__ import annotations

import numpy as np

from defusion.fusion.stretch import EDGE_LINES, describe_stretch, is_narrow, value_range


def _percentiles(values: np.ndarray) -> tuple[float, float]:
    """The 0.1st and 99.9th percentiles of all of ``values`` (no 0 in them): what the note says."""
    lo, hi = np.percentile(values.ravel(), [0.1, 99.9])
    return float(lo), float(hi)


def _ramp(h: int = 240, w: int = 320) -> np.ndarray:
    """The audit's frame: a horizontal ramp of 7000-9000 counts, each column one value, a warm block of 11000."""
    frame = np.tile(np.linspace(7000, 9000, w).round().astype(np.uint16), (h, 1))
    frame[100:140, 140:180] = 11000
    return frame


def test_a_ramp_whose_columns_each_hold_one_value_keeps_them_in_its_percentiles():
    frame = _ramp()
    assert value_range(frame) == _percentiles(frame)
    [note] = describe_stretch(["thermal16.png"], [frame])
    assert "clip to black" not in note and "7000-11000" in note
    turned = np.ascontiguousarray(frame.T)  # rows of one value instead
    assert value_range(turned) == _percentiles(turned)


def test_even_lines_within_the_frame_are_the_scenes():
    rng = np.random.default_rng(3)
    frame = (7000 + rng.integers(0, 2000, (128, 160))).astype(np.uint16)
    frame[:, 40:100] = 7000  # a cold object, even from top to bottom: 37% of the values
    frame[60] = 9500  # and a hot wire across
    assert value_range(frame) == _percentiles(frame)
    assert value_range(frame)[0] == 7000


def test_a_long_even_run_at_an_edge_is_the_scenes_too():
    rng = np.random.default_rng(4)
    frame = (8000 + rng.integers(0, 1000, (128, 160))).astype(np.uint16)
    frame[:40] = 7000  # a flat sky over a third of the frame, far over EDGE_LINES of its rows
    assert 40 > EDGE_LINES * 128
    assert value_range(frame) == _percentiles(frame) and value_range(frame)[0] == 7000


def test_telemetry_and_padding_lines_at_the_edges_are_still_left_out():
    rng = np.random.default_rng(5)
    scene = (7000 + rng.integers(0, 2000, (60, 80))).astype(np.uint16)
    lepton = np.vstack([scene, np.full((3, 80), 100, np.uint16)])  # 3 telemetry rows below 60
    assert value_range(lepton) == value_range(scene)
    sides = np.hstack([np.full((60, 2), 65535, np.uint16), scene, np.full((60, 4), 9, np.uint16)])
    assert value_range(sides) == value_range(scene)  # saturated and blank columns, 2 and 4 of 86
    padded = np.full((64, 90), 300, np.uint16)  # padded by one value: 2 rows on top, 2 below, 5 columns each side
    padded[2:-2, 5:-5] = scene
    assert value_range(padded) == value_range(scene) and is_narrow(padded)


def test_a_small_frames_one_telemetry_row_is_still_left_out():
    """A review: under 16 lines, 1/16 of them rounded to no line at all, so a 12-row frame's one
    telemetry row (100 counts) set its range's low end."""
    frame = (7000 + np.arange(12 * 16).reshape(12, 16) * 10).astype(np.uint16)
    frame[-1] = 100
    assert value_range(frame)[0] >= 7000

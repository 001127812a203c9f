"""The two float scales the metrics take ([0, 1] and 0..255), defined in io (defusion.io.float_scales)
so that reading a float file to be scored and showing one follow them without reaching up into
metrics; the metrics' modules still export the names."""

from __future__ import annotations

import numpy as np
import pytest

from defusion.io import float_scales
from defusion.io.display import viewable
from defusion.io.float_scales import FLOAT_SLACK, LEVEL_SLACK, float_range_problem, float_scale
from defusion.metrics import _scale


def test_the_metrics_old_names_are_ios():
    for name in float_scales.__all__:
        assert getattr(_scale, name) is getattr(float_scales, name), name


@pytest.mark.parametrize("lo, hi, scale", [
    (0.0, 1.0, 255.0), (-FLOAT_SLACK, 1 + FLOAT_SLACK, 255.0), (0.0, 1 + FLOAT_SLACK + 1e-9, 1.0),
    (-LEVEL_SLACK, 255 + LEVEL_SLACK, 1.0), (-FLOAT_SLACK - 1e-9, 1.0, None), (0.0, 255 + LEVEL_SLACK + 1e-9, None),
    (-5.0, 40.0, None),
])
def test_float_scale_at_its_edges(lo, hi, scale):
    assert float_scale(lo, hi) == scale


def test_the_line_for_a_range_on_neither_scale():
    assert float_range_problem(-5.0, 40.25) == ("float values span -5..40.25, neither 0..1 nor 0..255 (the two "
                                                "float scales the metrics take); rescale or clip the image to one of them")


def test_display_shows_floats_on_the_scale_they_are_scored_on():
    assert viewable(np.array([[0.0, 0.5, 1.2]])).tolist() == [[0, 128, 255]]  # [0, 1] (slack clipped)
    assert viewable(np.array([[0.0, 60.4, 255.3]])).tolist() == [[0, 60, 255]]  # 0..255
    assert viewable(np.array([[-5.0, 40.0]])).tolist() == [[0, 40]]  # neither: as it is, clipped

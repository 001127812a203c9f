"""The sidebar's gain sliders: their tops are named (under the fusion core's bounds, which they may not
pass), and every starting value the page gives a slider lies on it, for each kind of images at each
unique gain the slider offers (Streamlit refuses a slider whose value is outside its range)."""

from __future__ import annotations

import numpy as np
import pytest

from defusion.fusion.choices import MAX_DETAIL_GAIN, MAX_UNIQUE_GAIN
from defusion.ui.options import (DETAIL_GAIN_RANGE, KINDS, UI_MAX_DETAIL_GAIN, UI_MAX_UNIQUE_GAIN, UNIQUE_GAIN_RANGE,
                                 default_detail_gain, default_unique_gain)


def test_the_sliders_stop_at_their_named_tops_within_the_fusion_cores_bounds():
    assert UNIQUE_GAIN_RANGE[1] == UI_MAX_UNIQUE_GAIN <= MAX_UNIQUE_GAIN
    assert DETAIL_GAIN_RANGE[1] == UI_MAX_DETAIL_GAIN <= MAX_DETAIL_GAIN
    assert UI_MAX_DETAIL_GAIN == 2 * UI_MAX_UNIQUE_GAIN - 1  # MAX_DETAIL_GAIN's rule, at the slider's top


@pytest.mark.parametrize("task", list(KINDS.values()))
def test_every_starting_value_is_on_its_slider(task):
    low, high, step = UNIQUE_GAIN_RANGE
    assert low <= default_unique_gain(task) <= high
    for gain in np.arange(low, high + step / 2, step):
        assert DETAIL_GAIN_RANGE[0] <= default_detail_gain(task, float(gain)) <= DETAIL_GAIN_RANGE[1], (task, gain)

"""The metrics' plumbing, split by purpose: every name of it is defined in the module of its
purpose, and the helpers the split made are what they say."""

from __future__ import annotations

import importlib
import inspect
import re

import numpy as np

from defusion.metrics._cache import first_time, shared_inputs
from defusion.metrics._channels import collapse_repeated_planes, triplet

#: Every public name of the metrics' shared plumbing, by the module that defines it.
HOMES = {
    "defusion.metrics._errors": ["MetricNameError", "MetricInputError", "size_mismatch", "source_labels"],
    "defusion.metrics._cache": ["cached", "first_time", "shared_inputs"],
    "defusion.metrics._histograms": ["TOP_LEVEL", "stretch_levels", "joint_histogram", "shannon", "joint_entropies"],
    "defusion.metrics._scale": ["UINT16_PER_LEVEL", "eight_bit_levels", "snap_levels"],
    "defusion.io.float_scales": ["FLOAT_SLACK", "LEVEL_SLACK", "float_scale", "float_range_problem"],
    "defusion.io.arrays": ["MAX_8BIT", "holds_eight_bit_values", "is_tensor"],
    "defusion.metrics._inputs": ["as_image"],
    "defusion.metrics._channels": ["to_gray", "planes", "triplet", "fused_and_sources", "collapse_repeated_planes"],
    "defusion.metrics._matlab": ["Float", "RGB2GRAY", "matlab_round", "rgb2gray", "unrounded_gray", "hist256"],
    "defusion.metrics._filters": ["gaussian_1d", "correlate_sep", "filter_valid", "sobel", "box_sum_valid",
                                  "freqspace", "filter_freq_even", "normalize255", "downsample2"],
}


def test_every_plumbing_name_is_defined_in_its_home():
    for module, names in HOMES.items():
        home = importlib.import_module(module)
        source = inspect.getsource(home)
        for name in names:
            assert hasattr(home, name), name
            # a def, a class or an assignment at module level: defined there, not imported
            assert re.search(rf"^(def |class )?{name}\b(?! import)", source, re.M), (module, name)


def test_first_time_is_once_per_block_and_always_outside_one():
    x, y = object(), object()
    assert first_time("said", x) and first_time("said", x)  # no block: nothing remembered
    with shared_inputs():
        assert first_time("said", x) and not first_time("said", x)
        assert first_time("said", y) and first_time("other", x)
        with shared_inputs():  # a nested block shares the outer one's memory
            assert not first_time("said", y)
    with shared_inputs():  # a new call starts afresh
        assert first_time("said", x)


def test_collapse_repeated_planes_keeps_one_plane_of_a_broadcast_source_only():
    grey = np.arange(20, dtype=np.uint8).reshape(4, 5)
    rgb = np.stack([grey, grey + 1, grey + 2], axis=-1)
    F, A, B = triplet(rgb, grey, rgb)
    assert collapse_repeated_planes(A).shape == (1, 4, 5)  # the grey source, repeated for 3 channels
    assert collapse_repeated_planes(A) is not A and np.array_equal(collapse_repeated_planes(A)[0], A[2])
    assert collapse_repeated_planes(B) is B and collapse_repeated_planes(F) is F
    assert collapse_repeated_planes(np.zeros((4, 5))).shape == (4, 5)  # one plane: nothing to collapse

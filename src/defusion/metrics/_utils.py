"""The metrics' shared plumbing under its old import path: every name that was defined here, each
now in the small module of its purpose, importable from here as before.

* :mod:`~defusion.metrics._errors`: the errors, and the lines naming images' sizes and labels;
* :mod:`~defusion.metrics._cache`: conversions shared within one ``compute_metrics`` call;
* :mod:`~defusion.metrics._scale`: the 0..255 scale (float scales, 16-bit levels, snapping);
* :mod:`~defusion.metrics._inputs`: one image checked and read (:func:`as_image`);
* :mod:`~defusion.metrics._channels`: VIFB's channel rules (:func:`triplet`, ...);
* :mod:`~defusion.metrics._matlab`: MATLAB's ``round``, ``rgb2gray`` and 256-level histograms;
* :mod:`~defusion.metrics._filters`: MATLAB's filters, in space and frequency.

Example:
    >>> from defusion.metrics import _inputs, _utils
    >>> _utils.as_image is _inputs.as_image
    True
"""

from __future__ import annotations

# fusion's warning of them too, defined in io.arrays and still importable from here
from defusion.io.arrays import MAX_8BIT, holds_eight_bit_values, is_tensor
from defusion.metrics._cache import cached, first_time, shared_inputs
from defusion.metrics._channels import collapse_repeated_planes, fused_and_sources, planes, to_gray, triplet
from defusion.metrics._errors import MetricInputError, MetricNameError, size_mismatch, source_labels
from defusion.metrics._filters import (
    box_sum_valid,
    correlate_sep,
    downsample2,
    filter_freq_even,
    filter_valid,
    freqspace,
    gaussian_1d,
    normalize255,
    sobel,
)
from defusion.metrics._inputs import as_image
from defusion.metrics._matlab import RGB2GRAY, Float, hist256, matlab_round, rgb2gray, unrounded_gray
from defusion.metrics._scale import (
    FLOAT_SLACK,
    LEVEL_SLACK,
    UINT16_PER_LEVEL,
    eight_bit_levels,
    float_range_problem,
    float_scale,
    snap_levels,
)

__all__ = [
    "FLOAT_SLACK", "LEVEL_SLACK", "MAX_8BIT", "RGB2GRAY", "UINT16_PER_LEVEL", "Float", "MetricInputError",
    "MetricNameError", "as_image", "box_sum_valid", "cached", "collapse_repeated_planes", "correlate_sep",
    "downsample2", "eight_bit_levels", "filter_freq_even", "filter_valid", "first_time", "float_range_problem",
    "float_scale", "freqspace", "fused_and_sources", "gaussian_1d", "hist256", "holds_eight_bit_values",
    "is_tensor", "matlab_round", "normalize255", "planes", "rgb2gray", "shared_inputs", "size_mismatch",
    "snap_levels", "sobel", "source_labels", "to_gray", "triplet", "unrounded_gray",
]

"""The metrics that take a list of sources say so when given them as separate arguments, the way
``Fuser.fuse`` takes them: ``compute_stack_metrics(fused, a, b)`` printed ``b``'s pixels as unknown
metric names, ``compute_stack_metrics(fused, a)`` a size mismatch of ``a``'s rows."""

from __future__ import annotations

import numpy as np
import pytest

from defusion import DefusionError
from defusion.metrics import (MetricInputError, MetricNameError, check_images, check_source_count, compute_each,
                              compute_metrics, compute_stack_metrics, metric_names, names_for_sources)

SIDE = 32


@pytest.fixture()
def images():
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (SIDE, SIDE + 8, 3)).astype(np.uint8) for _ in range(4)]


def _message(error: type, call, *args) -> str:
    with pytest.raises(error) as err:
        call(*args)
    assert isinstance(err.value, DefusionError)
    message = str(err.value)
    assert "\n" not in message and "[[" not in message and len(message) < 300
    return message


def test_sources_as_separate_arguments_are_refused_saying_to_pass_one_list(images):
    fused, a, b, _ = images
    for args in ((fused, a, b), (fused, a)):
        message = _message(MetricInputError, compute_stack_metrics, *args)
        assert f"got one ndarray of shape ({SIDE}, {SIDE + 8}, 3) as its sources" in message
        assert "pass the sources as one list: compute_stack_metrics(fused, [a, b])" in message


def test_the_other_calls_taking_a_list_of_sources_refuse_it_alike(images):
    fused, a, b, _ = images
    assert "compute_each(fused, [a, b], names)" in _message(MetricInputError, compute_each, fused, a, ["EN"])
    assert "check_images(fused, [a, b])" in _message(MetricInputError, check_images, fused, a)
    assert "pass len(sources)" in _message(MetricInputError, check_source_count, ["EN"], [a, b])
    assert "pass len(sources)" in _message(MetricInputError, names_for_sources, "EN", [a, b])


def test_an_image_where_the_names_go_is_refused_as_no_names(images):
    fused, a, b, c = images
    message = _message(MetricNameError, compute_metrics, fused, a, b, c)
    assert message.startswith("metric names are strings") and "compute_stack_metrics(fused, [a, b, c], names)" in message
    _message(MetricNameError, compute_stack_metrics, fused, [a, b], ["EN", c])
    _message(MetricNameError, metric_names, c)


def test_lists_and_tuples_of_sources_still_score(images):
    fused, a, b, c = images
    assert compute_stack_metrics(fused, (a, b, c), ["EN"]) == compute_stack_metrics(fused, [a, b, c], "EN")
    assert compute_stack_metrics(fused, [a, b], ["EN", "Qabf"]) == compute_metrics(fused, a, b, ["EN", "Qabf"])
    assert list(compute_each(fused, (a, b), ("EN",))[0]) == ["EN"]
    assert metric_names(("EN", " qabf")) == ["EN", "Qabf"]

"""Run the docstring examples of defusion.metrics (also collected by ``pytest --doctest-modules src``)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "defusion.metrics",
    "defusion.metrics._cache",
    "defusion.metrics._histograms",
    "defusion.metrics._channels",
    "defusion.metrics._errors",
    "defusion.metrics._inputs",
    "defusion.metrics._matlab",
    "defusion.metrics._scale",
    "defusion.metrics.information",
    "defusion.metrics.statistics",
    "defusion.metrics.gradient",
    "defusion.metrics.structural",
    "defusion.metrics.perceptual",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0

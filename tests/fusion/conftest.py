"""Fixtures the fusion tests share."""

from __future__ import annotations

import pytest

from defusion.fusion.fuser import FuseOptions, Fuser
from defusion.model.weights import load_weights


@pytest.fixture(scope="module")
def fuser(tiny_weights) -> Fuser:
    """A Fuser of the tiny test network at scale 1 (a module may define its own ``fuser`` instead)."""
    return Fuser(load_weights(tiny_weights), options=FuseOptions(scale=1))

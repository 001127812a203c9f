"""Fixtures for the serving tests: one CPU thread (lively_weights lives in tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module", autouse=True)
def _one_thread(one_torch_thread):
    """Every test here runs with one intra-op thread (see tests/conftest.py)."""

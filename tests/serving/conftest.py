"""Fixtures for the serving tests: one CPU thread (lively_weights lives in tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module", autouse=True)
def _one_thread(one_torch_thread):
    """Every test here runs with one intra-op thread (see tests/conftest.py)."""


@pytest.fixture(scope="module")
def fuser(lively_weights):
    """The lively tiny weights on the CPU: the server's model in these tests."""
    from defusion.fusion.fuser import Fuser

    return Fuser.from_pretrained(lively_weights, device="cpu")


@pytest.fixture(scope="module")
def client(fuser):
    """A test client of the app at the default limits."""
    from fastapi.testclient import TestClient

    from defusion.serving.api import Limits, create_app

    with TestClient(create_app(fuser, Limits())) as c:
        yield c

"""Fixtures for the web UI tests: one CPU thread, and the app pointed at the tiny weights."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Intra-op threads fight with anything else on a small CPU."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def ui_env(monkeypatch, tiny_weights):
    """The app's settings: tiny weights on the CPU, the default pixel bound."""
    monkeypatch.setenv("DEFUSION_WEIGHTS", str(tiny_weights))
    monkeypatch.setenv("DEFUSION_DEVICE", "cpu")
    monkeypatch.delenv("DEFUSION_MAX_PIXELS", raising=False)
    return monkeypatch

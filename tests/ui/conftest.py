"""Fixtures for the web UI tests: one CPU thread, and the app pointed at the tiny weights."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module", autouse=True)
def _one_thread(one_torch_thread):
    """Every test here runs with one intra-op thread (see tests/conftest.py)."""


@pytest.fixture
def ui_env(monkeypatch, tiny_weights):
    """The app's settings: tiny weights on the CPU, the default pixel bound."""
    monkeypatch.setenv("DEFUSION_WEIGHTS", str(tiny_weights))
    monkeypatch.setenv("DEFUSION_DEVICE", "cpu")
    monkeypatch.delenv("DEFUSION_MAX_PIXELS", raising=False)
    return monkeypatch


@pytest.fixture
def reads(monkeypatch) -> list[object]:
    """The sources each call of read_metadata read, wherever the UI and its page call it from."""
    from defusion.io import metadata
    from defusion.ui import image_output, uploads

    found: list[object] = []
    real = metadata.read_metadata

    def counted(source):
        found.append(source)
        return real(source)

    for module in (metadata, uploads, image_output):
        monkeypatch.setattr(module, "read_metadata", counted, raising=False)
    return found

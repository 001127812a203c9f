"""Fixtures for the serving tests: one CPU thread, a tiny model whose outputs are not all ~0."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from defusion.model.weights import load_weights, save_weights


@pytest.fixture(scope="module", autouse=True)
def _one_thread(one_torch_thread):
    """Every test here runs with one intra-op thread (see tests/conftest.py)."""


@pytest.fixture(scope="session")
def lively_weights(tiny_weights, tmp_path_factory) -> Path:
    """The tiny weights with projection heads re-scaled so outputs span [0, 1].

    Random-init heads have std 1e-3 (all outputs ~0, every image black after clamping), which
    would make parity and image comparisons pass trivially.
    """
    torch.manual_seed(1)
    model = load_weights(tiny_weights)
    for head in (model.common_head, model.unique_head, model.fusion_head):
        torch.nn.init.normal_(head.weight, std=0.05)
        torch.nn.init.constant_(head.bias, 0.5)
    path = tmp_path_factory.mktemp("lively") / "tiny-lively.safetensors"
    save_weights(model, path, metadata={"steps": "0", "note": "tiny, heads re-scaled"})
    return path

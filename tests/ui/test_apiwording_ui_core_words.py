"""What the web UI asks the fusion core is read as the page reads (a review of the Python API round):
the palette's infrared guess leaves no DefusionNote in the Streamlit server's log (the fusion says the
stretch, on the page), and a device the machine lacks is named as ``defusion ui``'s ``--device``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from defusion import FuseOptions, Fuser
from defusion.fusion.errors import OptionsError
from defusion.model.weights import load_weights

pytest.importorskip("streamlit")


def test_the_palettes_guess_leaves_no_note_in_the_servers_log(tiny_weights, rng):
    from defusion.ui.fusion_notes import palette_note

    fuser = Fuser(load_weights(tiny_weights), options=FuseOptions(scale=1, palette="inferno"))
    visible = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    raw = (7000 + rng.random((24, 32)) * 2000).astype(np.uint16)
    counts = raw / np.float32(65535)  # raw counts as floats: the core warns, and both are grey: a guess
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        certain = palette_note(fuser, [visible, raw], ["vis.png", "ir.png"])
        guessed = palette_note(fuser, [visible[..., 0], counts], ["vis.png", "ir.tif"])
    assert certain is None and [str(w.message) for w in caught] == []
    assert guessed.startswith("The palette colours ir.tif as the infrared image (all are grey")


def test_a_missing_gpu_is_named_as_the_ui_commands_option(monkeypatch, tiny_weights):
    from defusion.ui.page import caches

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    caches.model.clear()
    with pytest.raises(OptionsError) as caught:
        caches.model(str(tiny_weights), "cuda")
    assert str(caught.value) == ("device cuda (--device cuda of defusion ui) was asked for, but PyTorch sees no CUDA "
                                 "device")

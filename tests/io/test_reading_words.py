"""The readers' lines say what becomes of an image in its reader's words (``io.front_end.reading_words``):
a benchmark scores results, a training run learns from images, the rest fuse. A researcher's audit:
``defusion bench`` said of an RGBA result "they fuse as their colour values ... to fuse what it shows";
and training reworded io's lines by matching their text, which a wording edit would silently undo."""

from __future__ import annotations

import warnings

import numpy as np
from PIL import Image

from defusion.io.front_end import reading_for
from defusion.io.images import read_image


def _said(path, front_end: str) -> str:
    with warnings.catch_warnings(record=True) as caught, reading_for(front_end):
        warnings.simplefilter("always")
        read_image(path)
    return " | ".join(str(w.message) for w in caught)


def test_an_rgba_image_is_said_in_each_readers_words(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 3] = 128
    path = tmp_path / "logo.png"
    Image.fromarray(rgba, "RGBA").save(path)
    assert "they fuse as their colour values (flatten it onto a background first to fuse what it shows)" in _said(
        path, "cli")
    scored = _said(path, "bench")
    assert "they are scored as their colour values" in scored and "to score what it shows" in scored
    assert "fuse" not in scored
    trained = _said(path, "training")
    assert "training sees their colour values" in trained and "to train on what it shows" in trained


def test_an_animated_image_says_what_to_save_in_each_readers_words(tmp_path):
    frames = [Image.fromarray(np.full((4, 4), v, np.uint8)) for v in (10, 200)]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    assert "(save the one to fuse as an image of its own)" in _said(path, "python")
    assert "(save the one to score as an image of its own)" in _said(path, "bench")
    assert "(save the others as images of their own to train on them)" in _said(path, "training")

"""The UI's Streamlit-free logic: settings, input checks, metrics rows, PNG encoding."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from defusion.io.images import ImageReadError, ImageTooLargeError
from defusion.ui import core


def _png(image: np.ndarray) -> bytes:
    return cv2.imencode(".png", image)[1].tobytes()


def test_settings_from_env():
    assert core.Settings.from_env({}) == core.Settings(None, "auto", core.DEFAULT_UI_MAX_PIXELS)
    env = {core.ENV_WEIGHTS: "w.safetensors", core.ENV_DEVICE: "cpu", core.ENV_MAX_PIXELS: "1000"}
    assert core.Settings.from_env(env) == core.Settings("w.safetensors", "cpu", 1000)
    with pytest.raises(core.InputError, match="whole number"):
        core.Settings.from_env({core.ENV_MAX_PIXELS: "lots"})


def test_tile_option():
    assert [core.tile_option(c) for c in core.TILE_CHOICES] == [None, 0, 256, 512, 768, 1024]


def test_examples_load_as_registered_pairs():
    for name in core.EXAMPLES:
        a, b = core.load_example(name)
        assert a.shape == b.shape and a.dtype == np.uint8


def test_decode_pair_rules():
    a = _png(np.zeros((30, 40), np.uint8))
    b = _png(np.zeros((20, 24, 3), np.uint8))
    x, y = core.decode_pair(a, "a.png", a, "b.png")
    assert x.shape == y.shape == (30, 40)
    with pytest.raises(core.InputError, match=r"a\.png is 40x30, b\.png is 24x20"):
        core.decode_pair(a, "a.png", b, "b.png")
    with pytest.raises(ImageReadError, match="not an image"):
        core.decode_pair(a, "a.png", b"nonsense", "b.png")
    with pytest.raises(ImageTooLargeError, match="over the limit"):
        core.decode_pair(a, "a.png", a, "b.png", max_pixels=100)
    with pytest.raises(core.InputError, match="upload limit"):
        core.decode_pair(a, "a.png", a, "b.png", max_bytes=10)


def test_to_uint8_and_png_keep_depth():
    deep = np.array([[0, 65535], [257, 1000]], dtype=np.uint16)
    assert core.to_uint8(deep).tolist() == [[0, 255], [1, 4]]
    back = cv2.imdecode(np.frombuffer(core.png_bytes(deep), np.uint8), cv2.IMREAD_UNCHANGED)
    assert back.dtype == np.uint16 and (back == deep).all()
    rgb = np.zeros((2, 3, 3), np.uint8)
    rgb[..., 0] = 200  # red
    back = cv2.imdecode(np.frombuffer(core.png_bytes(rgb), np.uint8), cv2.IMREAD_COLOR)
    assert back[0, 0].tolist() == [0, 0, 200]  # BGR on disk: colours not swapped


def test_score_and_rows(rng):
    a = rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)
    b = rng.integers(0, 65536, (24, 24), dtype=np.uint16)
    values = core.score(a, a, b)
    assert list(values) == list(core.METRIC_NAMES)
    rows = core.metric_rows(values)
    assert [r["metric"] for r in rows] == list(core.METRIC_NAMES)
    assert {r["better"] for r in rows} == {"higher"}


def test_digest_sees_every_pixel():
    a = np.zeros((2000, 1000), np.uint8)
    b = a.copy()
    b[1234, 567] = 1
    assert core.digest(a, a) != core.digest(a, b) and core.digest(a, a) == core.digest(a.copy(), a)


def test_download_name():
    assert core.download_name("dir/under.jpg", "over.png") == "fused_under_over.png"

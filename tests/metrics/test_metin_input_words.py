"""What the metrics say of inputs they cannot take or may misread: a path, a list, a type no image
has, in the Fuser's words (:func:`defusion.io.arrays.not_pixels`); float images clipped to [0, 1], or
read on 0..255 while near black, warned of once per call (they were scored silently: x 1.6 gave EN
0.85 for 7.69)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from defusion.errors import DefusionWarning
from defusion.metrics import METRICS, MetricInputError, compute_metrics

RNG = np.random.default_rng(11)
A = RNG.integers(0, 256, (32, 40)).astype(np.uint8)
B = RNG.integers(0, 256, (32, 40)).astype(np.uint8)
F = ((A.astype(int) + B) // 2).astype(np.uint8)
A[0, :2] = F[0, :2] = (0, 255)  # every image spans 0..255
NAMES = ["EN", "SD", "SSIM", "Qabf"]


def _caught(call) -> tuple[object, list[str]]:
    """What ``call()`` returns and the DefusionWarnings it gives."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [str(w.message) for w in caught if issubclass(w.category, DefusionWarning)]


@pytest.mark.parametrize("path", ["fu.png", Path("fu.png")], ids=["str", "Path"])
def test_a_path_is_refused_as_a_path_saying_how_to_read_it(path):
    with pytest.raises(MetricInputError) as caught:
        compute_metrics(path, A, B, names=["EN"])
    assert str(caught.value) == ("fused is a path (fu.png); pass pixel arrays: read files with "
                                 "defusion.io.images.read_image")
    assert isinstance(caught.value, ValueError)
    with pytest.raises(MetricInputError, match=r"^a is a path \(fu.png\)"):
        METRICS["SSIM"].fn(F, path, B)  # a metric called alone says so too


def test_a_list_is_said_to_be_a_list_and_one_of_8_bit_values_is_scored_as_its_array():
    assert compute_metrics(F, A.tolist(), B, NAMES) == compute_metrics(F, A, B, NAMES)
    wide = (B.astype(int) * 4).tolist()
    with pytest.raises(MetricInputError, match=re.escape(
            "got b as a list (int64 values as an array) with values outside 0..255: pass floats in [0, 1], a NumPy "
            "array, np.asarray(x) / 1023 for 10-bit data")):
        compute_metrics(F, A, wide, ["EN"])
    with pytest.raises(MetricInputError, match=r"^fused is a list that makes no array of pixels"):
        compute_metrics([[1, 2], [3]], A, B, ["EN"])


def test_a_bool_image_is_told_what_the_metrics_take_and_how_to_convert_it():
    with pytest.raises(MetricInputError) as caught:
        compute_metrics(F > 100, A, B, ["EN"])
    assert str(caught.value) == ("images must be uint8, uint16, float (in [0, 1] or on 0..255) or integers on "
                                 "0..255; got fused of dtype bool: pass x.astype(np.uint8) * 255 (0 and 255)")


def test_other_integers_on_0_255_are_still_scored_as_uint8():
    assert compute_metrics(F.astype(np.int32), A, B, NAMES) == compute_metrics(F, A, B, NAMES)


def test_floats_pushed_past_1_5_are_warned_of_as_read_on_0_255_once_per_call():
    scored, said = _caught(lambda: compute_metrics(F / 255 * 1.6, A, B, NAMES))
    assert scored["EN"] < 1.5  # the documented rule still reads them on 0..255
    assert len(said) == 1 and said[0].startswith("fused: float values span 0..1.6")
    assert "read as levels on 0..255, near black" in said[0] and "np.clip(x, 0, 1)" in said[0]
    _, said = _caught(lambda: METRICS["EN"].fn(F / 255 * 1.6))  # a metric called alone warns too
    assert len(said) == 1


def test_floats_clipped_to_0_1_are_warned_of_saying_how_far_out():
    over = F / 255 * 1.5
    scored, said = _caught(lambda: compute_metrics(over, A, B, NAMES))
    assert scored == compute_metrics(np.clip(over, 0, 1), A, B, NAMES)
    assert len(said) == 1 and said[0].startswith("fused: float values span 0..1.5, up to 0.5 outside [0, 1], clipped")
    assert "np.clip(x, 0, 1)" in said[0] and "divide them by 255" in said[0]
    _, said = _caught(lambda: compute_metrics(F, A / 255 - 0.2, B, ["EN", "SSIM"]))
    assert len(said) == 1 and said[0].startswith("a: float values span -0.2..0.8, up to 0.2 outside")


@pytest.mark.parametrize("fused", [F / 255, F.astype(np.float64), F / 255 + 5e-4, np.zeros((32, 40))],
                         ids=["0_1", "0_255", "rounding", "black"])
def test_floats_read_as_they_say_are_not_warned_of(fused):
    _, said = _caught(lambda: compute_metrics(fused, A, B, NAMES))
    assert said == []


def test_a_dark_float_fused_image_is_scaled_once_and_not_warned_of():
    """A [0, 1] fused image whose maximum is under 1.5/255 was scaled by 255 twice (checked, then checked
    again as planes), which made SSIM 1.92 and warned of clipping that never happened."""
    import warnings

    from defusion.metrics import compute_metrics

    rng = np.random.default_rng(0)
    a, b = rng.random((32, 32)), rng.random((32, 32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dark = compute_metrics(a * 0.004, a, b, names=["SSIM"])["SSIM"]
    assert 0 <= dark < 0.01, dark

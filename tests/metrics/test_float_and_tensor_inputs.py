"""Inputs the metrics read besides 8-bit arrays: float16/float32 copies of 8-bit images (scored as
those images), torch tensors (detached, bfloat16 read), channels-first shapes (refused with a hint),
and the messages of a wrong metric name."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import defusion
from defusion.metrics import METRICS, MetricInputError, MetricNameError, compute_metrics
from defusion.metrics._inputs import as_image

EXAMPLES = Path(defusion.__file__).parent / "examples"
NAMES = ["EN", "CE", "MI", "Qabf"]


@pytest.fixture(scope="module")
def real():
    """The shipped focus pair and a fusion of it (their pixelwise maximum): real-ish 8-bit images."""
    a = np.asarray(Image.open(EXAMPLES / "mff_near.png").convert("RGB"))
    b = np.asarray(Image.open(EXAMPLES / "mff_far.png").convert("RGB"))
    return np.maximum(a, b), a, b


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_a_float16_or_float32_0_1_copy_of_an_8_bit_image_scores_exactly_as_it(real, dtype):
    """float16 once floored 131 of 256 levels a bin low (EN 7.506 for 7.612) and float32 broke
    Qabf's exact g_S == g_F test (0.60446 for 0.60471)."""
    want = compute_metrics(*real, NAMES)
    copies = [(x / 255).astype(dtype) for x in real]
    assert compute_metrics(*copies, NAMES) == want
    assert compute_metrics(copies[0], *real[1:], NAMES) == want


def test_every_level_of_a_float16_ramp_lands_in_its_own_bin():
    ramp = np.arange(256, dtype=np.uint8).reshape(16, 16)
    levels = as_image((ramp / 255).astype(np.float16))
    assert np.array_equal(levels, ramp.astype(np.float64))
    assert METRICS["EN"].fn((ramp / 255).astype(np.float16)) == 8.0


def test_values_between_levels_stay_where_they_are():
    half = (np.arange(16.0).reshape(4, 4) + 0.5) / 255  # k + 0.5 levels: no level to snap to
    assert np.allclose(as_image(half.astype(np.float32)), half * 255, rtol=0, atol=1e-4)
    fine = np.array([[0.1, 0.2], [0.3, 0.7]])
    assert np.array_equal(as_image(fine), fine * 255)  # float64: as before


def test_a_float16_image_with_values_between_levels_is_left_as_it_is(real):
    """Only a copy of an 8-bit image is snapped: a float16 blend keeps every value, and scores as its
    float64 self to float16's precision (snapping value by value once moved Qabf and MI away from it)."""
    between = ((np.arange(240.0).reshape(16, 15) + 0.2) / 255).astype(np.float16)  # none clipped at 1
    assert np.array_equal(as_image(between), between.astype(np.float64) * 255)
    blend = (0.6 * real[1].astype(np.float64) + 0.4 * real[2]) / 255
    half = blend.astype(np.float16)
    assert np.array_equal(as_image(half), half.astype(np.float64) * 255)
    exact, low = compute_metrics(blend, *real[1:], "Qabf,MI"), compute_metrics(half, *real[1:], "Qabf,MI")
    assert abs(low["Qabf"] - exact["Qabf"]) < 5e-4 and abs(low["MI"] - exact["MI"]) < 2e-3


# ---------------------------------------------------------------------------------- torch tensors


def test_a_tensor_that_requires_grad_scores_as_its_array(real):
    torch = pytest.importorskip("torch")
    want = compute_metrics(*real, NAMES)
    fused = torch.tensor(real[0] / 255.0, requires_grad=True)
    assert compute_metrics(fused, *real[1:], NAMES) == want
    assert METRICS["EN"].fn(fused) == want["EN"]  # a metric called directly, too


@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "float32"])
def test_a_low_precision_tensor_copy_scores_as_the_8_bit_image(real, dtype):
    torch = pytest.importorskip("torch")
    want = compute_metrics(*real, NAMES)
    tensors = [(torch.from_numpy(x.copy()).double() / 255).to(getattr(torch, dtype)) for x in real]
    assert compute_metrics(*tensors, NAMES) == want


@pytest.mark.filterwarnings("ignore:ComplexHalf support is experimental")
def test_a_tensor_of_a_dtype_numpy_lacks_is_read_as_float32_or_refused_in_one_line():
    torch = pytest.importorskip("torch")
    ramp = torch.arange(256, dtype=torch.float32).reshape(16, 16) / 255
    assert 0 < METRICS["EN"].fn(ramp.to(torch.float8_e4m3fn)) < 8  # read, on its coarse levels
    with pytest.raises(MetricInputError, match=r"^images must be uint8, .*; got fused of dtype complex32: pass pixel values"):
        compute_metrics(torch.zeros((8, 8), dtype=torch.complex32), np.zeros((8, 8)), np.zeros((8, 8)), ["EN"])


def test_importing_the_metrics_does_not_import_torch():
    code = "import sys, defusion.metrics; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, encoding="utf-8",
                         check=True).stdout
    assert out.strip() == "False"


# ------------------------------------------------------------------------------- channels first


@pytest.mark.parametrize("shape, hint", [
    ((3, 24, 32), r"\(3, 24, 32\), which looks channels-first \(CxHxW\): pass np.moveaxis\(x, 0, -1\), or x.permute\(1, 2, 0\)"),
    ((1, 24, 32), r"\(1, 24, 32\), which looks channels-first \(CxHxW\): pass np.moveaxis\(x, 0, -1\), or x.permute\(1, 2, 0\)"),
    ((1, 3, 24, 32), r"batch of one channels-first image \(1xCxHxW\): pass np.moveaxis\(x\[0\], 0, -1\), or x\[0\].permute\(1, 2, 0\)"),
    ((1, 1, 24, 32), r"batch of one channels-first image \(1xCxHxW\): pass np.moveaxis\(x\[0\], 0, -1\), or x\[0\].permute\(1, 2, 0\)"),
])
def test_a_channels_first_image_is_refused_saying_how_to_pass_it(shape, hint):
    image = np.zeros(shape, np.uint8)
    grey = np.zeros((24, 32), np.uint8)
    with pytest.raises(MetricInputError, match=r"^fused: expected an HxW or HxWx3 array, got shape " + ".*" + hint):
        compute_metrics(image, grey, grey, ["EN"])
    with pytest.raises(MetricInputError, match="np.moveaxis"):
        METRICS["EN"].fn(image)  # never transposed silently


def test_a_channels_first_tensor_gets_the_hint_and_its_fix_works():
    torch = pytest.importorskip("torch")
    rgb = np.random.default_rng(0).integers(0, 256, (24, 32, 3)).astype(np.uint8)
    chw = torch.from_numpy(rgb).permute(2, 0, 1)
    with pytest.raises(MetricInputError, match="looks channels-first"):
        compute_metrics(chw, rgb, rgb, ["EN"])
    assert compute_metrics(chw.permute(1, 2, 0), rgb, rgb, ["EN"]) == compute_metrics(rgb, rgb, rgb, ["EN"])


def test_other_wrong_shapes_get_no_channels_first_hint():
    with pytest.raises(MetricInputError) as info:
        as_image(np.zeros((24, 32, 4)), "fused")
    assert str(info.value) == "fused: expected an HxW or HxWx3 array, got shape (24, 32, 4)"


# --------------------------------------------------------------------------------------- names


def test_an_unknown_metric_name_prints_without_quotes():
    x = np.zeros((16, 16), np.uint8)
    with pytest.raises(MetricNameError) as info:
        compute_metrics(x, x, x, ["EN", "nope"])
    assert isinstance(info.value, KeyError)
    assert str(info.value).startswith("unknown metric(s) nope; known: vifb, mefb, EN,")
    assert info.value.args[0] == str(info.value)


def test_ce_is_described_as_the_kl_divergence_it_is():
    description = METRICS["CE"].description
    assert "KL" in description and "< 0" in description and "cross entropies" not in description

"""The contract every registered metric keeps, run over the whole registry (``METRICS``), as
tests/baselines does for ``BASELINES``: on smooth grey and RGB images it returns a finite float;
a fusion that copies both sources (F = A = B) scores the metric's best where it has one; numpy
arrays and torch tensors of one image, and uint8 images and their float [0, 1] copies, score
alike; an image too small for it is refused with one line (``MetricInputError``, a
``DefusionError`` and ``ValueError``) naming the side it needs, the side docs/metrics.md gives.

A metric added to ``METRICS`` is tested here at once: say in ``BEST`` what F = A = B scores, or
in ``NO_BEST`` why it has no best.
"""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path

import numpy as np
import pytest

from defusion import DefusionError
from defusion.metrics import METRICS, MetricInputError

REPO = Path(__file__).resolve().parents[2]
METRICS_DOC = REPO / "docs" / "metrics.md"

NAMES = list(METRICS)
#: Image side for the contract: MS-SSIM's minimum, the largest of any metric
#: (test_the_contract_images_are_large_enough_for_it checks it still is).
SIDE = 176
LAYOUTS = ("grey", "rgb")
#: Every image must be at least this large, whatever the metric (``_inputs.as_image``).
GENERAL_MINIMUM = 2
#: How a refusal names the side a metric needs ("at least 11x11").
NEEDS_SIDE = re.compile(r"at least (\d+)x\1\b")
#: docs/metrics.md's list of the metrics that need more than GENERAL_MINIMUM opens with this
#: (then, in parentheses, "MS-SSIM: 176 px per side, VIF/VIFp: 81, ...").
MINIMUMS_START = "Metrics that need larger images than given"
#: Largest side tried while looking for a metric's minimum (a refusal naming more is a failure).
MAX_SIDE = 1024

#: Qabf's best, from its documented sigmoids (docs/metrics.md, Qabf): Q_g saturates at Tg where the
#: strengths are equal (VIFB's quirk) and Q_a(A = 1) = Ta / (1 + exp(ka (1 - Da))).
QABF_TG, QABF_TA, QABF_KA, QABF_DA = 0.9994, 0.9879, -22.0, 0.8
QABF_BEST = QABF_TG * QABF_TA / (1 + math.exp(QABF_KA * (1 - QABF_DA)))

#: What F = A = B scores: the metric's documented best (its maximum, its minimum where lower is better).
BEST: dict[str, float] = {
    "PSNR": math.inf, "PSNR-standard": math.inf, "RMSE": 0.0, "RMSE-standard": 0.0,
    "Qabf": QABF_BEST, "Qcb": 1.0, "Qcv": 0.0, "Nabf": 0.0,
    "SSIM": 2.0, "SSIM-mean": 1.0, "MS-SSIM": 2.0, "MEF-SSIM": 1.0, "MS-MEF-SSIM": 1.0,
    "CC": 1.0, "NMI": 2.0, "Qy": 1.0, "FMI": 1.0, "Qc": 1.0, "Qw": 1.0,
}
#: Metrics with no best that F = A = B reaches, and why.
NO_BEST: dict[str, str] = {
    "EN": "no-reference: a score of F alone, which no fusion bounds",
    "SD": "no-reference: a score of F alone, which no fusion bounds",
    "SF": "no-reference: a score of F alone, which no fusion bounds",
    "AG": "no-reference: a score of F alone, which no fusion bounds",
    "EI": "no-reference: a score of F alone, which no fusion bounds",
    "MI": "F = A = B gives 2 H(F): it grows with the images' entropy, no fixed best",
    "MI-bits": "F = A = B gives 2 H(F): it grows with the images' entropy, no fixed best",
    "TE": "not bounded (docs/metrics.md, TE): grows with the images' histograms",
    "CE": "F = A = B gives 0, but VIFB's CE can be below 0 (docs/metrics.md, CE): 0 is not its best",
    "SCD": "F - B is 0 for F = A = B: its correlation is undefined (nan, documented)",
    "VIF": "F = A = B gives 1, but a contrast-enhanced F scores above it (VIF has no maximum)",
    "VIFp": "F = A = B gives 2, but a contrast-enhanced F scores above it (VIF has no maximum)",
    "Qncie": "F = A = B gives 1 only for a flat histogram (docs/metrics.md, Qncie: NCC(X, X) = H(X) / 8)",
    "Qp": "F = A = B scores a little below its maximum 1 (docs/metrics.md, Qp: masked source maps)",
}
def smooth_plane(side: int, seed: int) -> np.ndarray:
    """A uint8 plane with structure at several scales, some noise, no flat area."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:side, 0:side]
    base = 128 + 60 * np.sin(x / 5.0 + seed) * np.cos(y / 7.0) + 30 * np.sin((x + y) / 13.0)
    return np.clip(base + rng.normal(0, 8, (side, side)), 0, 255).astype(np.uint8)


@functools.cache
def images(layout: str, side: int = SIDE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(fused, a, b)``, uint8, grey or RGB: two smooth sources and their rounded mean."""
    def source(seed: int) -> np.ndarray:
        if layout == "grey":
            return smooth_plane(side, seed)
        return np.stack([smooth_plane(side, seed + 10 * k) for k in range(3)], axis=2)

    a, b = source(1), source(2)
    fused = ((a.astype(np.float64) + b) / 2).round().astype(np.uint8)
    return fused, a, b


@functools.cache
def score(name: str, layout: str) -> float:
    """The metric of the uint8 ``images(layout)``, computed once for the tests that compare with it."""
    return METRICS[name].fn(*images(layout))


@functools.cache
def refusal(name: str, side: int) -> str | None:
    """The metric's ``MetricInputError`` message for grey images ``side`` pixels a side, or None
    where it computes them."""
    try:
        METRICS[name].fn(*(x[:side, :side] for x in images("grey")))
    except MetricInputError as exc:
        return str(exc)
    return None


@functools.cache
def minimum_side(name: str) -> int:
    """The smallest side the metric computes: from 1 pixel up, each refusal's named side tried next."""
    side = 1
    while (message := refusal(name, side)) is not None:
        needed = NEEDS_SIDE.search(message)
        assert needed, f"{name}: refuses a {side}x{side} image without naming the side it needs: {message}"
        assert side < int(needed.group(1)) <= MAX_SIDE, f"{name}: refuses {side}x{side} saying {message}"
        side = int(needed.group(1))
    return side


def documented_minimums() -> dict[str, int]:
    """``{name: side}`` from docs/metrics.md's list of metrics that need more than the general 2x2."""
    text = METRICS_DOC.read_text(encoding="utf-8")
    at = text.find(MINIMUMS_START)
    assert at >= 0, f"{METRICS_DOC.name}: no list of minimum sizes (a sentence starting {MINIMUMS_START!r})"
    opening = text.index("(", at)
    listed = text[opening + 1:text.index(")", opening)]
    sides: dict[str, int] = {}
    for entry in listed.split(","):
        names, _, need = entry.partition(":")
        for name in names.split("/"):
            sides[name.strip()] = int(re.match(r"\s*(\d+)", need).group(1))
    return sides


# --------------------------------------------------------------------------------- the tables


def test_the_tables_name_registered_metrics_once():
    both = set(BEST) & set(NO_BEST)
    assert not both, f"in both BEST and NO_BEST: {', '.join(sorted(both))}"
    stale = [name for name in [*BEST, *NO_BEST] if name not in METRICS]
    assert not stale, f"not in METRICS (renamed or removed?): {', '.join(stale)}"


def test_qabf_best_is_its_documented_sigmoids_at_perfect_transfer():
    assert QABF_BEST == pytest.approx(0.97533, abs=1e-5)


# ------------------------------------------------------------------------------- the contract


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", NAMES)
def test_returns_a_finite_float(name, layout):
    value = score(name, layout)
    assert isinstance(value, float) and math.isfinite(value), (name, layout, value)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", NAMES)
def test_a_fusion_that_copies_both_sources_scores_the_metrics_best(name, layout):
    if name in NO_BEST:
        pytest.skip(NO_BEST[name])
    assert name in BEST, (f"{name}: add what F = A = B scores (its best) to BEST in {Path(__file__).name}, "
                          "or why it has none to NO_BEST")
    x = images(layout)[0]
    assert METRICS[name].fn(x, x, x) == pytest.approx(BEST[name], abs=1e-9)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", NAMES)
def test_torch_tensors_score_as_their_arrays(name, layout):
    torch = pytest.importorskip("torch")
    tensors = [torch.from_numpy(x) for x in images(layout)]
    assert METRICS[name].fn(*tensors) == pytest.approx(score(name, layout), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", NAMES)
def test_a_float_0_1_copy_scores_as_the_8_bit_image(name, layout, dtype):
    """Documented: a float copy of an 8-bit image (``x / 255``) scores exactly as that image (RGB ones
    went through rgb2gray unrounded: MEF-SSIM 0.95957 against 0.96066)."""
    copies = [(x / 255).astype(dtype) for x in images(layout)]
    assert METRICS[name].fn(*copies) == pytest.approx(score(name, layout), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name", ["MI", "TE"])
def test_float_copies_of_rgb_sources_score_as_them_against_a_grey_fused_image(name):
    """RGB sources' grey was unrounded for float copies: against a grey fused image MI went from 0.846
    to 1.282, TE from 0.959 to 4.234."""
    fused, a, b = images("grey")[0], *images("rgb")[1:]
    copies = [(x / 255).astype(np.float32) for x in (fused, a, b)]
    assert METRICS[name].fn(*copies) == pytest.approx(METRICS[name].fn(fused, a, b), rel=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_an_image_too_small_is_refused_in_one_line_naming_the_side_it_needs(name):
    need = minimum_side(name)
    fn = METRICS[name].fn
    with pytest.raises(MetricInputError) as caught:
        fn(*(x[:need - 1, :need - 1] for x in images("grey")))
    message = str(caught.value)
    assert isinstance(caught.value, DefusionError) and isinstance(caught.value, ValueError)
    assert "\n" not in message and f"at least {need}x{need}" in message, message
    named = (name, METRICS[name].same_as or name)  # SSIM-mean is SSIM on another scale
    if need > 2:  # under 2x2 every metric gets the same generic refusal
        assert message.startswith(named), f"{message!r} does not name {name}"  # VIFp's once said VIF
    assert isinstance(fn(*(x[:need, :need] for x in images("grey"))), float)


@pytest.mark.parametrize("name", NAMES)
def test_the_contract_images_are_large_enough_for_it(name):
    assert minimum_side(name) <= SIDE, f"{name} needs {minimum_side(name)} px a side: raise SIDE to it"


@pytest.mark.parametrize("name", NAMES)
def test_docs_give_the_side_it_needs(name):
    need, documented = minimum_side(name), documented_minimums()
    if need == GENERAL_MINIMUM:
        assert name not in documented, (f"{METRICS_DOC.name}: '{MINIMUMS_START} (...)' says {name} needs "
                                        f"{documented[name]} px; it takes any image of {need}x{need} or more")
    else:
        assert documented.get(name) == need, (f"{METRICS_DOC.name}: '{MINIMUMS_START} (...)' should say "
                                              f"{name}: {need} (got {documented.get(name, 'nothing')})")

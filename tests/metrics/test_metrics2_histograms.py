"""The histogram metrics' shared pieces (``defusion.metrics._histograms``): the stretch to 0..255, the
joint histogram and the entropies MI, MI-bits, NMI, Qncie and TE are built from, in one module, with
every value as it was to the last bit."""

from __future__ import annotations

import ast
import doctest
from pathlib import Path

import numpy as np
import pytest

import defusion.metrics.information as information
import defusion.metrics.mefb as mefb
import defusion.metrics.mefb_information as mefb_information
from defusion.metrics import MetricInputError
from defusion.metrics import _histograms as hist
from defusion.metrics._matlab import GREY_LEVELS

#: The metric functions built on the histograms, by the name the registry gives them.
HISTOGRAM_METRICS = {
    "EN": information.entropy, "MI": information.mutual_information, "MI-bits": information.mutual_information_bits,
    "CE": information.cross_entropy, "NMI": mefb.nmi, "Qncie": mefb.qncie, "TE": mefb_information.te,
}

#: Each metric's value (float.hex) on :func:`_cases`, computed by the code before the histograms were
#: shared (one module per benchmark, each with its own stretch and joint histogram): they must not move.
BEFORE = {
    "pair": {"MI": "0x1.08ab3a9ba2194p+3", "MI-bits": "0x1.7dd621fe02012p+3", "NMI": "0x1.9aff66c11ef3fp+0",
             "Qncie": "0x1.ccf79ffffbeb4p-1", "TE": "0x1.a609cf4a8bfddp+6", "EN": "0x1.d240a1bdd3aeep+2",
             "CE": "0x1.d670d2cdde7cap-3"},
    "flat fused": {"MI": "0x1.0000000000000p-48", "MI-bits": "0x1.8000000000000p-48", "NMI": "0x0.0p+0",
                   "Qncie": "0x1.b010b03311dc9p-1", "TE": "-0x1.2b4b4b4b4b4b4p+1", "EN": "0x0.0p+0",
                   "CE": "-0x1.72b310261ab86p-5"},
    "flat source": {"MI": "0x1.0928a9e2e5efap+2", "MI-bits": "0x1.7e8b18c637fe4p+2", "NMI": "0x1.9b74019966065p-1",
                    "Qncie": "0x1.adddfe545213cp-1", "TE": "0x1.cedc73ad658bdp+5", "EN": "0x1.d240a1bdd3aeep+2",
                    "CE": "0x1.c9a953d69b1aap+1"},
    "colour fused, grey sources": {"MI": "0x1.24e0ef8c37245p+3", "MI-bits": "0x1.a688da7606ad9p+3",
                                   "NMI": "0x1.c0a20d2502df3p+0", "Qncie": "0x1.d70b838784183p-1",
                                   "TE": "0x1.6aaea79a7a3b1p+7", "EN": "0x1.decfda4b3d217p+2",
                                   "CE": "0x1.c88e2af14994fp-3"},
    "floats": {"MI": "0x1.08ab3a9ba2194p+3", "MI-bits": "0x1.5ced40e7a9ce6p+3", "NMI": "0x1.9aff66c11ef3fp+0",
               "Qncie": "0x1.ccf79ffffbeb4p-1", "TE": "0x1.a609cf4a8bfddp+6", "EN": "0x1.c8e12a78cf15ep+2",
               "CE": "0x1.fea33864efbe7p-2"},
}


def _cases() -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(2026)
    x = rng.integers(0, 256, (24, 20)).astype(np.uint8)
    y = rng.integers(0, 256, (24, 20)).astype(np.uint8)
    z = ((x.astype(np.int64) + y) // 2).astype(np.uint8)
    flat = np.full((24, 20), 90, np.uint8)
    return {"pair": (z, x, y), "flat fused": (flat, x, y), "flat source": (z, flat, y),
            "colour fused, grey sources": (np.dstack([z, x, 255 - y]), x, y),
            "floats": (z / 255.0 * 0.9 + 0.05, x / 255.0, y / 255.0 * 0.5)}


def test_the_shared_module_s_examples_run():
    result = doctest.testmod(hist, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= len(hist.__all__) and result.failed == 0


@pytest.mark.parametrize("case", list(BEFORE))
def test_every_histogram_metric_keeps_its_value_to_the_last_bit(case):
    """A guard of the refactor: by design these pass on the code before it as after."""
    F, A, B = _cases()[case]
    assert {name: fn(F, A, B).hex() for name, fn in HISTOGRAM_METRICS.items()} == BEFORE[case]


def test_stretch_levels_rounds_half_away_from_zero_per_plane_and_zeroes_a_flat_plane():
    stack = np.stack([np.array([[10.0, 15.0], [20.0, 12.5]]), np.full((2, 2), 3.0), np.array([[0.0, 1.0], [0.5, 1.0]])])
    levels = hist.stretch_levels(stack)
    assert levels.dtype == np.int64
    assert levels.tolist() == [[[0, 128], [255, 64]], [[0, 0], [0, 0]], [[0, 255], [128, 255]]]


def test_the_joint_histogram_counts_each_pair_of_levels_plane_by_plane_broadcast():
    rng = np.random.default_rng(3)
    x = rng.integers(0, GREY_LEVELS, (1, 9, 7))  # one plane, shared by the three of y
    y = rng.integers(0, GREY_LEVELS, (3, 9, 7))
    joint = hist.joint_histogram(x, y)
    assert joint.shape == (3, GREY_LEVELS, GREY_LEVELS) and joint.dtype == np.int64
    for k in range(3):
        expected = np.zeros((GREY_LEVELS, GREY_LEVELS), np.int64)
        np.add.at(expected, (x[0].ravel(), y[k].ravel()), 1)
        assert np.array_equal(joint[k], expected)
    assert hist.joint_histogram(x[0], y[0]).shape == (GREY_LEVELS, GREY_LEVELS)  # a single HxW image


def test_entropies_of_a_flat_image_and_of_an_image_with_itself_are_exact():
    levels = np.random.default_rng(4).integers(0, GREY_LEVELS, (16, 16))
    h, h_again, h_joint = hist.joint_entropies(hist.joint_histogram(levels, levels))
    assert h == h_again == h_joint > 0  # the same terms in the same order: MI = H exactly
    flat = np.zeros_like(levels)
    assert hist.joint_entropies(hist.joint_histogram(levels, flat))[1] == 0
    assert hist.shannon(np.array([0.25, 0.0, 0.75]), np.log) == pytest.approx(-(0.25 * np.log(0.25) + 0.75 * np.log(0.75)))


def _private_imports(module) -> list[str]:
    """``module.name`` for each private name a module imports from another defusion module (the
    underscore modules are the shared plumbing: their names are meant to be imported)."""
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    return [f"{node.module}.{alias.name}" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
            and (node.module or "").startswith("defusion") and not node.module.rsplit(".", 1)[-1].startswith("_")
            for alias in node.names if alias.name.startswith("_")]


@pytest.mark.parametrize("module", [information, mefb, mefb_information], ids=lambda m: m.__name__)
def test_the_histogram_metrics_import_no_private_name_of_another_metric_module(module):
    assert _private_imports(module) == []


@pytest.mark.parametrize("module", [information, mefb, mefb_information], ids=lambda m: m.__name__)
def test_the_joint_histogram_is_built_in_one_place(module):
    """No metric module counts pairs of levels itself: they all use ``_histograms.joint_histogram``."""
    assert "bincount" not in Path(module.__file__).read_text(encoding="utf-8")


def test_the_size_check_the_metric_modules_share_is_public_and_one_line():
    from defusion.metrics.structural import check_size

    check_size(11, 11, 11, "SSIM")  # enough: nothing said
    with pytest.raises(MetricInputError) as refused:
        check_size(8, 12, 11, "SSIM")
    assert str(refused.value) == "SSIM needs images of at least 11x11 pixels, got 12x8 (WxH)"

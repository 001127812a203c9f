"""The results of a fusion (Fusion, Decomposition, Selection) print as one line a field, each array as
its shape, dtype and range, not every pixel (a 300x400 pair's Decomposition printed 122 lines), and
stay NamedTuples: unpacking, indexing, ``_replace`` and equality as before."""

from __future__ import annotations

import numpy as np
import pytest

from defusion import Decomposition, FuseOptions, Fuser, Fusion, Selection
from defusion.fusion import results as results_module
from defusion.model.weights import load_weights
from tests.conftest import smooth_image

#: The audit's pair size: its Decomposition printed 122 lines.
HEIGHT, WIDTH = 300, 400


@pytest.fixture(scope="module")
def results(tiny_weights):
    rng = np.random.default_rng(0)
    a, b = smooth_image(rng, HEIGHT, WIDTH), smooth_image(rng, HEIGHT, WIDTH)
    model = load_weights(tiny_weights)
    fuser = Fuser(model, options=FuseOptions(scale=1, tile=0))
    selecting = Fuser(model, options=FuseOptions(scale=1, tile=0, pixels="sources"))
    return {"fusion": fuser.fusion(a, b), "decomposition": fuser.decompose(a, b),
            "selection": selecting.fuse_with_weights(a, b)}


@pytest.mark.parametrize(("name", "cls"), [("fusion", Fusion), ("decomposition", Decomposition),
                                           ("selection", Selection)])
def test_a_result_prints_one_line_a_field(results, name, cls):
    result = results[name]
    text = repr(result)
    lines = text.splitlines()
    assert lines[0] == f"{cls.__name__}(" and lines[-1] == ")"
    assert [line.split("=")[0].strip() for line in lines[1:-1]] == list(cls._fields)
    assert "[[" not in text and "array(" not in text
    assert lines[1].startswith(f"    fused=({HEIGHT}, {WIDTH}, 3) uint8 [")
    assert str(result) == text


def test_lists_of_arrays_are_described_item_by_item(results):
    line = next(line for line in repr(results["selection"]).splitlines() if line.startswith("    weights="))
    assert line.startswith(f"    weights=[({HEIGHT}, {WIDTH}) float32 [") and line.count("float32") == 2


def test_results_are_still_named_tuples(results):
    fusion = results["fusion"]
    fused, sources, order, *rest = fusion
    assert isinstance(fusion, tuple) and fused is fusion.fused is fusion[0] and order == [0, 1]
    assert len(rest) == len(Fusion._fields) - 3
    assert fusion._replace(frame=1).frame == 1 and fusion == Fusion(*fusion)
    fused, common, unique_a, unique_b, *_ = results["decomposition"]
    assert common.shape == (HEIGHT, WIDTH)  # colour fused as luminance: its parts are grey


@pytest.mark.parametrize(("value", "expected"), [
    (np.array([True, False]), "(2,) bool [0, 1]"),
    (np.array([np.nan, 1.0], np.float32), "(2,) float32 [nan, nan]"),
    (np.array(["a"], object), "(1,) object"),
    ((None, np.eye(2, 3, dtype=np.float32)), "(None, (2, 3) float32 [0, 1])"),
    ([1, 2], "[1, 2]"),
])
def test_described(value, expected):
    assert results_module.described(value) == expected

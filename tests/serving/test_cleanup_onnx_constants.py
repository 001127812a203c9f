"""defusion.serving.fuse_with_onnx copies the fusion core's numbers (it imports nothing of defusion, so that
the file runs alone beside an export): each copy must equal the core's value, or the standalone tool drifts
from ``defusion fuse`` without a test noticing."""

from __future__ import annotations

import numpy as np
import pytest

from defusion.fusion import color, stretch
from defusion.fusion.export import fusion_defaults
from defusion.io.formats import SIXTEEN_BIT_SUFFIXES
from defusion.model.denet import SIZE_MULTIPLE
from defusion.serving import fuse_with_onnx

#: The standalone tool's copy -> the core's value it copies (where the core defines it).
COPIES = {
    "RGB_TO_YCBCR": color._RGB_TO_YCBCR,
    "CHROMA_OFFSET": color._CHROMA_OFFSET,
    "SATURATION_EPS": color._SATURATION_EPS,
    "GREY_SPREAD": color.GREY_SPREAD,
    "EIGHT_BIT_TOLERANCE": color._EIGHT_BIT_GRID_TOLERANCE,
    "NARROW_SPAN": stretch.NARROW_SPAN,
    "RAW_PERCENTILES": (stretch.TAIL_PERCENT, 100 - stretch.TAIL_PERCENT),
    "SIZE_MULTIPLE": SIZE_MULTIPLE,
    "SIXTEEN_BIT_SUFFIXES": SIXTEEN_BIT_SUFFIXES,
}


def same(copy: object, core: object) -> bool:
    """Whether the standalone tool's ``copy`` is the core's value: arrays equal in value and dtype, anything
    else equal."""
    if isinstance(core, np.ndarray):
        return isinstance(copy, np.ndarray) and copy.dtype == core.dtype and np.array_equal(copy, core)
    return copy == core


@pytest.mark.parametrize("name", sorted(COPIES))
def test_each_copied_constant_is_the_cores(name):
    copy = getattr(fuse_with_onnx, name)
    assert same(copy, COPIES[name]), (f"fuse_with_onnx.{name} = {copy!r} but the core's is {COPIES[name]!r}: "
                                      "change the standalone copy to match")


def test_the_fallback_defaults_are_the_cores_general_ones():
    """An export without ``fusion_defaults`` (made before 2026-12-05) fuses at the gains and scale that
    ``defusion fuse`` uses with no --task."""
    assert fuse_with_onnx.GENERAL_DEFAULTS == fusion_defaults()["general"]


def test_a_drifted_copy_is_caught(monkeypatch):
    """The check's teeth: a copy one step off is told apart from the core's."""
    monkeypatch.setattr(fuse_with_onnx, "GREY_SPREAD", 5 / 255)
    assert not same(fuse_with_onnx.GREY_SPREAD, COPIES["GREY_SPREAD"])
    drifted = fuse_with_onnx.RGB_TO_YCBCR.copy()
    drifted[0, 0] = 0.3
    assert not same(drifted, COPIES["RGB_TO_YCBCR"])
    assert not same(fuse_with_onnx.RGB_TO_YCBCR.astype(np.float64), COPIES["RGB_TO_YCBCR"])

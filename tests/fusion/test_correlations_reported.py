"""What registration found of each aligned image's match with the frame comes back with the result
(``Fusion.correlations``, ``Decomposition.correlations``), so that a page or a server can show the
"maybe another scene" note beside its picture, not only in a log."""

from __future__ import annotations

import numpy as np
import pytest

from defusion.fusion.align import LOW_CORRELATION
from tests.fusion.test_align_correlation import _example


@pytest.fixture(scope="module")
def fuser(tiny_weights):
    from defusion.fusion.fuser import Fuser

    return Fuser.from_pretrained(tiny_weights, device="cpu", align="translation", scale=1)


def test_a_fusion_reports_each_aligned_images_correlation_with_the_frame(fuser):
    other = np.ascontiguousarray(_example("mef_over")[::-1, ::-1])  # another picture
    found = fuser.fusion(_example("mef_under"), other, _example("mef_under"))
    assert found.correlations[0] is None and len(found.correlations) == 3
    assert 0.0 < found.correlations[1] < LOW_CORRELATION < 0.9 < found.correlations[2]


def test_a_decomposition_reports_it_and_none_without_alignment(fuser):
    parts = fuser.decompose(_example("mef_under"), _example("mef_over"))
    assert parts.correlations[0] is None and parts.correlations[1] > LOW_CORRELATION
    assert fuser.with_options(align="none").fusion(_example("mef_under"), _example("mef_over")).correlations == ()

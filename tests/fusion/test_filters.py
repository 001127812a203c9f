"""defusion.fusion.filters: the guided filter."""

from __future__ import annotations

import cv2
import numpy as np

from defusion.fusion.filters import guided_filter


def test_guided_filter_keeps_the_boundary_on_the_guides_edge():
    guide = np.zeros((32, 32), np.float32)
    guide[:, 16:] = 1.0
    step = np.zeros_like(guide)
    step[:, 14:] = 1.0  # a map boundary two pixels off the image's edge
    out = guided_filter(guide, step, r=4, eps=1e-4)
    box = cv2.blur(step, (9, 9))
    assert out[:, 16:].min() > 0.99  # the guide's bright side stays whole (a box filter softens it)
    assert box[:, 16:20].min() < 0.9
    assert out[:, 14:16].mean() < 0.5  # the part of the step off the edge is pulled down

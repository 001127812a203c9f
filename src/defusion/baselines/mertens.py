"""Exposure fusion (Mertens, Kautz & Van Reeth 2007) through OpenCV.

T. Mertens, J. Kautz and F. Van Reeth, "Exposure fusion", Pacific Graphics
2007: per-pixel weights from contrast, saturation and well-exposedness,
blended in a Laplacian pyramid.  ``cv2.createMergeMertens`` implements it.

Grey input is replicated to three channels and the result returned grey;
the saturation weight is then set to 0, because the saturation (channel
standard deviation) of a grey pixel is 0 and would zero every weight.
"""

from __future__ import annotations

import cv2
import numpy as np

from defusion.baselines._common import check_pair, finish


def fuse_mertens(
    a: np.ndarray,
    b: np.ndarray,
    contrast_weight: float = 1.0,
    saturation_weight: float = 1.0,
    exposure_weight: float = 1.0,
) -> np.ndarray:
    """Mertens exposure fusion with OpenCV's default weights (all 1).

    Example:
        >>> import numpy as np
        >>> dark = np.full((16, 16), 0.1, np.float32); bright = np.full((16, 16), 0.8, np.float32)
        >>> y = fuse_mertens(dark, bright)
        >>> y.shape, bool(0.1 < y.mean() < 0.8)
        ((16, 16), True)
    """
    a, b, dtype = check_pair(a, b)
    grey = a.ndim == 2
    if grey:
        a = np.repeat(a[..., None], 3, axis=2)
        b = np.repeat(b[..., None], 3, axis=2)
        saturation_weight = 0.0
    merge = cv2.createMergeMertens(contrast_weight, saturation_weight, exposure_weight)
    # OpenCV divides its inputs by 255, so pass float32 on a 0..255 scale (no 8-bit rounding).
    out = merge.process([np.ascontiguousarray(a * 255.0), np.ascontiguousarray(b * 255.0)])
    out = np.asarray(out, dtype=np.float32)
    if grey:
        out = out.mean(axis=2)
    return finish(out, dtype)

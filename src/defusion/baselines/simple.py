"""Pixel-wise baselines: the mean and the maximum of the two sources.

They are the trivial anchors every image-fusion survey reports (e.g. Li, Kang
and Hu, "Pixel-level image fusion: A survey of the state of the art",
Information Fusion 2017): averaging lowers contrast, the maximum keeps bright
targets (infrared) but not dark detail.
"""

from __future__ import annotations

import numpy as np

from defusion.baselines._common import check_pair, finish


def fuse_average(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pixel-wise mean ``(a + b) / 2``.

    Example:
        >>> import numpy as np
        >>> a, b = np.zeros((2, 2), np.float32), np.ones((2, 2), np.float32)
        >>> float(fuse_average(a, b)[0, 0])
        0.5
    """
    a, b, dtype = check_pair(a, b)
    return finish(0.5 * (a + b), dtype)


def fuse_max(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pixel-wise maximum; for RGB the maximum is taken per channel.

    Per-channel maximum is the usual meaning of the "max" rule in the fusion
    literature and keeps the brightest response in every band; it may produce
    a colour present in neither source where the two disagree in hue.

    Example:
        >>> import numpy as np
        >>> a = np.array([[0.2, 0.9]], np.float32); b = np.array([[0.5, 0.1]], np.float32)
        >>> fuse_max(a, b).tolist()
        [[0.5, 0.8999999761581421]]
    """
    a, b, dtype = check_pair(a, b)
    return finish(np.maximum(a, b), dtype)

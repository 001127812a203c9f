"""Resizing that keeps an image's dtype and layout (for ``--resize``)."""

from __future__ import annotations

import cv2
import numpy as np


def resize_to(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize to ``height`` x ``width``: area averaging to shrink, bicubic to enlarge.

    Example:
        >>> resize_to(np.zeros((10, 20), np.uint16), 5, 7).shape
        (5, 7)
    """
    if image.shape[:2] == (height, width):
        return image
    shrink = height * width < image.shape[0] * image.shape[1]
    out = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
    return out.reshape(height, width, *image.shape[2:])

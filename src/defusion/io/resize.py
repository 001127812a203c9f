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


def resize_to_first(images: list[np.ndarray]) -> list[np.ndarray]:
    """``images`` with the others resized to the first's height and width (:func:`resize_to`).

    Example:
        >>> [im.shape for im in resize_to_first([np.zeros((4, 6)), np.zeros((8, 12))])]
        [(4, 6), (4, 6)]
    """
    h, w = images[0].shape[:2]
    return [images[0]] + [resize_to(im, h, w) for im in images[1:]]


def describe_resize(names: list[str], images: list[np.ndarray]) -> str | None:
    """What :func:`resize_to_first` does to ``images`` (named ``names``), in the words every front end
    says it in; None where all are the first's size already.

    Example:
        >>> describe_resize(["a.png", "b.png"], [np.zeros((30, 40)), np.zeros((20, 24))])
        "resized b.png 24x20 -> 40x30 (WxH: a.png's size)"
    """
    from defusion.io.notes import listed

    h, w = images[0].shape[:2]
    resized = [f"{name} {im.shape[1]}x{im.shape[0]}" for name, im in zip(names[1:], images[1:])
               if im.shape[:2] != (h, w)]
    return f"resized {listed(resized)} -> {w}x{h} (WxH: {names[0]}'s size)" if resized else None

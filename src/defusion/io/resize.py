"""Resizing that keeps an image's dtype and layout (for ``--resize``)."""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

#: Pixel types OpenCV's resize does not take (float16: "Unsupported depth of input image"), resized as the
#: type given here and cast back, within the image's own range (:func:`_within`).
_RESIZED_AS = {np.dtype(np.float16): np.float32}
#: How far (relative) resizing may change an image's width / height ratio before it is said to stretch
#: it: rounding an odd size (61x45 onto 60x44) is not a change of shape.
ASPECT_TOLERANCE = 0.02


def changes_aspect(height: int, width: int, onto_height: int, onto_width: int) -> bool:
    """Whether resizing a ``height`` x ``width`` image onto ``onto_height`` x ``onto_width`` stretches
    it (its width / height ratio changes by more than :data:`ASPECT_TOLERANCE`; it is never cropped).

    Example:
        >>> changes_aspect(45, 61, 44, 60), changes_aspect(160, 106, 106, 160)
        (False, True)
    """
    return abs((width / height) / (onto_width / onto_height) - 1) > ASPECT_TOLERANCE


def turned_quarter(sizes: Sequence[tuple[int, int]]) -> tuple[tuple[int, int], list[int]] | None:
    """Where images of ``sizes`` (height, width, as read upright) come in two sizes, one the other
    turned a quarter (width and height swapped), the size most share (a tie: the first's) and the
    indices of those turned against it; else None. Such an image is to be turned, not resized.

    Example:
        >>> turned_quarter([(106, 160), (160, 106)]), turned_quarter([(30, 40), (15, 20)])
        (((106, 160), [1]), None)
    """
    sizes = [tuple(size) for size in sizes]
    kinds = set(sizes)
    if len(kinds) != 2 or {size[::-1] for size in kinds} != kinds:
        return None
    common = max(kinds, key=lambda size: (sizes.count(size), size == sizes[0]))
    return common, [i for i, size in enumerate(sizes) if size != common]  # type: ignore[return-value]


def resize_to(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize to ``height`` x ``width``: area averaging to shrink, bicubic to enlarge. The result
    stays within the values ``image`` holds: bicubic overshoots at sharp edges (a float image in
    [0, 1] came out -0.16 to 1.21, which fusion refuses), so float pixels are clipped to the input's
    own range (:func:`_within`); OpenCV saturates integer pixels to their type's range itself. float16,
    which fusion takes and OpenCV does not, is resized as float32 and cast back.

    Example:
        >>> resize_to(np.zeros((10, 20), np.uint16), 5, 7).shape
        (5, 7)
        >>> edge = np.repeat([[0.0, 0.0, 1.0, 1.0]], 4, axis=0)
        >>> up = resize_to(edge, 8, 8)
        >>> float(up.min()), float(up.max())
        (0.0, 1.0)
        >>> resize_to(edge.astype(np.float16), 8, 8).dtype
        dtype('float16')
    """
    if image.shape[:2] == (height, width):
        return image
    shrink = height * width < image.shape[0] * image.shape[1]
    given = image.dtype.newbyteorder("=")
    resized_as = _RESIZED_AS.get(given, image.dtype)
    out = cv2.resize(image.astype(resized_as, copy=False), (width, height),
                     interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)
    # clipped in the wider type to values the image holds, which the cast back keeps exactly
    return _within(out, image).astype(given, copy=False).reshape(height, width, *image.shape[2:])


def _within(resized: np.ndarray, image: np.ndarray) -> np.ndarray:
    """``resized`` (float pixels) clipped, in place, to the lowest and highest value of ``image``, the
    float image it was resized from; integer pixels, saturated by OpenCV, and pixels of an image that
    holds NaN or infinities (no range to keep: refused by fusion, naming the image) as they are.

    Example:
        >>> _within(np.array([-0.2, 0.5, 1.2]), np.array([0.0, 1.0])).tolist()
        [0.0, 0.5, 1.0]
    """
    if not np.issubdtype(resized.dtype, np.floating) or image.size == 0:
        return resized
    low, high = np.min(image), np.max(image)
    if not (np.isfinite(low) and np.isfinite(high)):
        return resized
    return np.clip(resized, low, high, out=resized)


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

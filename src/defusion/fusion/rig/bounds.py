"""What a rig can be: image sizes no camera exceeds, and matrices that a real pair of cameras has.

A rig file is read from a user's disk or an upload, and a number in it that JSON takes (``Infinity``,
``1e308``, an integer of 400 digits) need not be one a camera has: OpenCV's ``warpPerspective`` spun
for minutes on a matrix entry of 1e307, and ``int(Infinity)`` is an OverflowError. Every
:class:`~defusion.fusion.rig.Rig` is checked here when it is made (read, or fitted by ``defusion
calibrate``, which so never writes a rig this module refuses), before anything warps by it.
"""

from __future__ import annotations

import math
import reprlib
from numbers import Integral, Real
from typing import Any

import numpy as np

from defusion.fusion.rig.errors import RigError

#: The longest side (px) of a rig's image: OpenCV's readers' default bound on a side (imgcodecs'
#: CV_IO_MAX_IMAGE_WIDTH and _HEIGHT, 2**20), over the 1,000,000 px of a PNG defusion writes and 70
#: times the long side of the largest still camera's frame (a 150 MP medium-format back, 14,204 px).
MAX_RIG_SIDE = 2**20
#: The most pixels (W x H) in a rig's image: OpenCV's readers' default bound (CV_IO_MAX_IMAGE_PIXELS,
#: 2**30, 1.07 GP), 7 times that 150 MP frame and 10 times defusion's default --max-pixels.
MAX_RIG_PIXELS = 2**30
#: The largest magnitude of a matrix entry. A real rig's stay far below it (defusion calibrate writes
#: the last entry 1, scales near 1, shifts within the images); times a pixel coordinate (at most
#: MAX_RIG_SIDE) it stays under 1e19, far from a float's overflow (1.8e308), where OpenCV's
#: warpPerspective spun without end (1e307).
MAX_MATRIX_ENTRY = 1e12
#: How many of a camera's pixels one pixel of the first camera spans, in any direction, at its image's
#: corners: a 640 px wide thermal camera beside a 150 MP visible one is 1/22; no pair is 1000 times
#: apart (a 1000 px wide view would then be one pixel of the other's).
RIG_SCALE_RANGE = (1e-3, 1e3)
#: What to do about a matrix these bounds refuse, read from a file or fitted by defusion calibrate.
_AGAIN = "calibrate again (defusion calibrate), with marks of the same scene points in each image"


def checked_size(size: Any) -> tuple[int, int]:
    """``size`` (W, H: two whole numbers, 1 to :data:`MAX_RIG_SIDE`, at most :data:`MAX_RIG_PIXELS` in
    all) as two ints; RigError saying what is wrong otherwise (a size of ``Infinity``, ``"64"``, 1e9 px).

    Example:
        >>> checked_size([640, 512.0])
        (640, 512)
        >>> checked_size([float("inf"), 64])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        defusion.fusion.rig.errors.RigError: an image size must be two whole numbers (W, H), got [inf, 64]
    """
    try:
        values = [] if isinstance(size, (str, bytes, dict)) else list(size)
    except TypeError:  # a number, None: not two of them
        values = []
    if len(values) != 2 or not all(_whole(v) for v in values):
        raise RigError(f"an image size must be two whole numbers (W, H), got {reprlib.repr(size)}")  # a long list cut
    w, h = (int(v) for v in values)
    if min(w, h) < 1:
        raise RigError(f"image sizes must be two positive integers (W, H), got {(w, h)}")
    if max(w, h) > MAX_RIG_SIDE or w * h > MAX_RIG_PIXELS:
        said = f"{w}x{h}" if max(w, h).bit_length() < 64 else f"a side of {len(str(max(w, h)))} digits"
        raise RigError(f"an image size of {said} px is larger than any camera's (at most {MAX_RIG_SIDE:,} px a side "
                       f"and {MAX_RIG_PIXELS:,} px in all); write the cameras' image sizes, or calibrate again")
    return w, h


def _whole(value: object) -> bool:
    """Whether ``value`` is a finite whole number (not a bool, not a string)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        return False
    return isinstance(value, Integral) or (math.isfinite(value) and float(value).is_integer())


def check_matrix_entries(matrix: np.ndarray) -> None:
    """RigError unless ``matrix`` holds finite numbers of magnitude up to :data:`MAX_MATRIX_ENTRY`: what
    a warp can take (OpenCV spun without end on 1e307), checked before anything computes with them.

    Example:
        >>> check_matrix_entries(np.diag([1e308, 1e308, 1.0]))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        defusion.fusion.rig.errors.RigError: the matrix has an entry of 1e+308, over any rig's (at most 1e+12...
    """
    if not np.all(np.isfinite(matrix)):
        raise RigError("the matrix must be 3x3 finite numbers")
    largest = float(np.abs(matrix).max())
    if largest > MAX_MATRIX_ENTRY:
        raise RigError(f"the matrix has an entry of {largest:g}, over any rig's (at most {MAX_MATRIX_ENTRY:g}); "
                       f"{_AGAIN}")


def check_plausible(matrix: np.ndarray, size: tuple[int, int], camera_size: tuple[int, int]) -> None:
    """RigError unless ``matrix`` (3x3, finite, already seen to keep the corners of the first camera's
    ``size`` image in front of the camera, and not singular) is a real pair's: one pixel of the first
    camera spanning :data:`RIG_SCALE_RANGE` of the camera's in every direction at each corner (so the
    perspective keeps the image away from the horizon, w = 0, where that span grows without bound), and
    the corners mapped within that range's top times the first camera's diagonal of the camera's
    ``camera_size`` image (a rig's cameras see one scene). As the corners bound the image (a homography
    in front of the camera keeps the frame a convex quadrilateral), every warped coordinate is bounded.

    Example:
        >>> check_plausible(np.diag([0.5, 0.5, 1.0]), (640, 480), (320, 240))  # half the resolution
        >>> check_plausible(np.diag([1e4, 1e4, 1.0]), (640, 480), (320, 240))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        defusion.fusion.rig.errors.RigError: the matrix maps one pixel of the first camera to 1e+04 of this camera's...
    """
    unit = matrix / matrix[2, 2]  # positive: the corner (0, 0) is in front
    w, h = size
    corners = np.array([[0, 0, 1], [w - 1, 0, 1], [0, h - 1, 1], [w - 1, h - 1, 1]], np.float64) @ unit.T
    depth = corners[:, 2:]
    mapped = corners[:, :2] / depth
    # the Jacobian of p -> (A p + t) / (g . p + 1) at each corner: (A - mapped g^T) / depth
    jacobians = (unit[:2, :2][None] - mapped[:, :, None] * unit[2, :2][None, None]) / depth[:, :, None]
    spans = np.linalg.svd(jacobians, compute_uv=False)
    low, high = RIG_SCALE_RANGE
    worst = float(spans.max()) if spans.max() > high else float(spans.min())
    if not low <= worst <= high:
        raise RigError(f"the matrix maps one pixel of the first camera to {worst:.3g} of this camera's, where a real "
                       f"rig's cameras are within {high:g} times of each other ({low:g} to {high:g}); "
                       f"{_AGAIN}")
    reach = high * math.hypot(w, h)
    camera = np.array(camera_size, np.float64)
    outside = float(np.max(np.maximum(-mapped, mapped - (camera - 1))))
    if outside > reach:
        raise RigError(f"the matrix puts a corner of the first camera's image {outside:.3g} px outside this camera's "
                       f"{camera_size[0]}x{camera_size[1]} image, where a real rig's cameras see one scene (at most "
                       f"{reach:.3g} px here); {_AGAIN}")


__all__ = ["MAX_RIG_SIDE", "MAX_RIG_PIXELS", "MAX_MATRIX_ENTRY", "RIG_SCALE_RANGE", "checked_size",
           "check_matrix_entries", "check_plausible"]

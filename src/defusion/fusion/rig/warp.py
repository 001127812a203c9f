"""Warping a camera's image onto the first camera's pixel grid: resampling it (shrunk first where it
would alias), where it covers that grid (a soft mask, kept for the next frame), and the first image
standing in for it where it does not."""

from __future__ import annotations

import math
from functools import lru_cache

import cv2
import numpy as np

from defusion.fusion.rig.bounds import check_matrix_entries

#: Width of the blend (fraction of the image's short side) where a camera's view ends and the
#: first image stands in for it.
FILL_FEATHER = 0.01
#: A source with more than this many of its pixels per reference pixel is shrunk (area average)
#: before it is warped, so that bilinear warping does not alias.
MAX_WARP_DENSITY = 1.5


def warp_onto_grid(image: np.ndarray, matrix: np.ndarray,
                   size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray | None]:
    """``image`` resampled onto a grid of ``size`` (W, H) whose pixel p is the image's ``matrix @ p``
    (shrunk first where the grid is much coarser than the image, so detail does not alias); and
    where the image covers that grid, a soft HxW mask (:func:`coverage_mask`; None: it covers all of it).

    Example:
        >>> half = np.diag([2.0, 2.0, 1.0])  # a camera of twice the first camera's resolution
        >>> warped, seen = warp_onto_grid(np.full((8, 8), 0.5, np.float32), half, (4, 4))
        >>> warped.shape, float(warped.max()), seen
        ((4, 4), 0.5, None)
    """
    soft = coverage_mask(matrix, (image.shape[1], image.shape[0]), size)
    density = math.sqrt(abs(np.linalg.det(matrix[:2, :2])) / max(matrix[2, 2], 1e-12) ** 2)
    image = np.ascontiguousarray(image, dtype=np.float32)
    if density > MAX_WARP_DENSITY:
        h, w = image.shape[:2]
        shrunk = (max(1, round(w / density)), max(1, round(h / density)))
        kx, ky = shrunk[0] / w, shrunk[1] / h
        image = cv2.resize(image, shrunk, interpolation=cv2.INTER_AREA)
        # pixel centres: x_small = (x + 0.5) * k - 0.5
        matrix = np.array([[kx, 0, 0.5 * kx - 0.5], [0, ky, 0.5 * ky - 0.5], [0, 0, 1]]) @ matrix
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    out = cv2.warpPerspective(image, matrix, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)
    if out.ndim < image.ndim:  # OpenCV drops a trailing channel axis of 1
        out = out[..., None]
    return np.clip(out, 0.0, 1.0), soft


def coverage_mask(matrix: np.ndarray, source_size: tuple[int, int], size: tuple[int, int]) -> np.ndarray | None:
    """Where an image of ``source_size`` (W, H) covers a grid of ``size`` (W, H) whose pixel p is
    its ``matrix @ p``: a soft HxW float32 mask, 1 inside, 0 outside, feathered over FILL_FEATHER
    of the short side inside the edge; None where it covers all of the grid (RigError for a matrix no
    warp can take: :func:`~defusion.fusion.rig.bounds.check_matrix_entries`). Read-only: the masks
    last computed are kept (:meth:`~defusion.fusion.rig.Rig.seen` and every
    :meth:`~defusion.fusion.rig.Rig.apply` of a stream ask again).

    Example:
        >>> shift = np.array([[1.0, 0, 4], [0, 1, 0], [0, 0, 1]])
        >>> soft = coverage_mask(shift, (32, 32), (32, 32))
        >>> soft is coverage_mask(shift.copy(), (32, 32), (32, 32)), soft.flags.writeable, float(soft[:, -1].max())
        (True, False, 0.0)
    """
    check_matrix_entries(np.asarray(matrix, np.float64))  # what OpenCV can warp by (a Rig's are checked when made)
    key = tuple(float(v) for v in np.asarray(matrix, np.float64).ravel())
    return _cached_coverage(key, (int(source_size[0]), int(source_size[1])), (int(size[0]), int(size[1])))


#: How many coverage masks :func:`coverage_mask` keeps (each HxW float32 on the first camera's grid).
_COVERAGE_CACHE = 2


@lru_cache(maxsize=_COVERAGE_CACHE)
def _cached_coverage(key: tuple[float, ...], source_size: tuple[int, int], size: tuple[int, int]) -> np.ndarray | None:
    """:func:`coverage_mask` of the matrix whose 9 values (row by row) are ``key``."""
    matrix = np.array(key, np.float64).reshape(3, 3)
    covered = cv2.warpPerspective(np.ones((source_size[1], source_size[0]), np.float32), matrix, size,
                                  flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT,
                                  borderValue=0)
    # bilinear sampling of the mask reads 0.5 exactly at the image's outer edge (half a pixel out
    # from its outermost centres), so this is "within the camera's pixels"
    seen = covered >= 0.5
    if seen.all():
        return None
    feather = max(1.0, FILL_FEATHER * min(size))
    inside = cv2.erode(seen.astype(np.uint8), np.ones((3, 3), np.uint8),
                       iterations=int(math.ceil(feather))).astype(np.float32)
    soft = cv2.GaussianBlur(inside, (0, 0), feather / 2) * seen
    soft.setflags(write=False)  # shared by every caller
    return soft


def stand_in(reference: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``reference`` in ``target``'s layout (channels; grey where the target is grey, as an infrared
    image stored in three equal channels is), to stand in for it.

    Example:
        >>> colour = np.zeros((2, 2, 3), np.float32)
        >>> stand_in(colour, np.zeros((2, 2), np.float32)).shape, stand_in(colour, np.zeros((2, 2, 4))).shape
        ((2, 2), (2, 2, 4))
    """
    from defusion.fusion.color import is_grey, luminance

    if target.ndim == 2:
        return luminance(reference)
    channels = target.shape[2]
    if is_grey(target) or reference.ndim == 2 or reference.shape[2] == 1:
        rgb = np.repeat(luminance(reference)[..., None], 3, axis=2)
    else:
        rgb = reference[..., :3]
    if channels == 1:
        return rgb[..., :1]
    return rgb if channels == 3 else np.concatenate([rgb, np.ones_like(rgb[..., :1])], axis=2)


__all__ = ["FILL_FEATHER", "MAX_WARP_DENSITY", "warp_onto_grid", "coverage_mask", "stand_in"]

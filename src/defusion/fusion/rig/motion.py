"""A rig's motion models and fitting them: the 3x3 matrix that maps the first camera's pixel
coordinates to another camera's, fitted to marked point pairs, and mapping points by it."""

from __future__ import annotations

import reprlib

import cv2
import numpy as np

# The motion models, the fewest point pairs each needs and the default: defined without OpenCV,
# for defusion calibrate's --help (imported here from there, as before).
from defusion.fusion.choices import DEFAULT_RIG_MOTION, RIG_MOTIONS, RigMotion
from defusion.fusion.rig.errors import RigError


def article(word: str) -> str:
    """'a' or 'an' before ``word`` (a motion's name).

    Example:
        >>> article("affine"), article("homography")
        ('an', 'a')
    """
    return "an" if word[:1] in ("a", "e", "i", "o", "u") else "a"


def check_rig_motion(motion: str) -> None:
    """RigError unless ``motion`` is one of RIG_MOTIONS."""
    if motion not in RIG_MOTIONS:
        raise RigError(f"unknown rig motion {reprlib.repr(motion)}; use one of {', '.join(RIG_MOTIONS)}")


def fit_matrix(reference_points: np.ndarray, source_points: np.ndarray,
               motion: RigMotion = DEFAULT_RIG_MOTION) -> np.ndarray:
    """The 3x3 matrix of ``motion`` that maps ``reference_points`` (Nx2, x y) onto
    ``source_points`` best in the least-squares sense (for a homography, the normalised DLT).

    RigError for too few points or points that fix no motion (all on one line).

    Example:
        >>> ref = np.array([[0, 0], [100, 0], [0, 80], [100, 80]], float)
        >>> np.round(fit_matrix(ref, ref * 0.5 + [10, 4], "similarity"), 3) + 0.0
        array([[ 0.5,  0. , 10. ],
               [ 0. ,  0.5,  4. ],
               [ 0. ,  0. ,  1. ]])
    """
    check_rig_motion(motion)
    ref = np.asarray(reference_points, np.float64).reshape(-1, 2)
    src = np.asarray(source_points, np.float64).reshape(-1, 2)
    if len(ref) != len(src):
        raise RigError(f"{len(ref)} reference points but {len(src)} source points")
    needed = RIG_MOTIONS[motion]
    if len(ref) < needed:
        raise RigError(f"{article(motion)} {motion} needs at least {needed} point pairs, got {len(ref)} "
                       "(mark more, spread over the image)")
    if not (np.all(np.isfinite(ref)) and np.all(np.isfinite(src))):
        raise RigError("the points must be finite numbers")
    matrix = np.eye(3)
    if motion == "translation":
        matrix[:2, 2] = (src - ref).mean(axis=0)
    elif motion == "similarity":  # x' = a x - b y + tx, y' = b x + a y + ty
        rows = np.zeros((2 * len(ref), 4))
        rows[0::2] = np.c_[ref[:, 0], -ref[:, 1], np.ones(len(ref)), np.zeros(len(ref))]
        rows[1::2] = np.c_[ref[:, 1], ref[:, 0], np.zeros(len(ref)), np.ones(len(ref))]
        _check_rank(rows, 4, motion)
        a, b, tx, ty = np.linalg.lstsq(rows, src.reshape(-1), rcond=None)[0]
        matrix[:2] = [[a, -b, tx], [b, a, ty]]
    elif motion == "affine":
        design = np.c_[ref, np.ones(len(ref))]
        _check_rank(design, 3, motion)
        matrix[:2] = np.linalg.lstsq(design, src, rcond=None)[0].T
    else:
        _check_rank(np.c_[ref, np.ones(len(ref))], 3, motion)
        found, _ = cv2.findHomography(ref, src, 0)
        if found is None or not np.all(np.isfinite(found)):
            raise RigError("no homography fits these points (are four of them on one line?)")
        matrix = found / found[2, 2]
    if abs(np.linalg.det(matrix[:2, :2])) < 1e-9:
        raise RigError("the points fix no usable motion (they collapse the image onto a line)")
    return matrix


def _check_rank(design: np.ndarray, rank: int, motion: str) -> None:
    if np.linalg.matrix_rank(design) < rank:
        raise RigError(f"the points fix no {motion}: they lie on one line or on one spot "
                       "(mark points spread over the image)")


def map_points(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``points`` (Nx2, x y) mapped by a 3x3 ``matrix``.

    Example:
        >>> map_points(np.diag([2.0, 2.0, 1.0]), np.array([[1.0, 3.0]])).tolist()
        [[2.0, 6.0]]
    """
    points = np.asarray(points, np.float64).reshape(-1, 2)
    mapped = np.c_[points, np.ones(len(points))] @ np.asarray(matrix, np.float64).T
    return mapped[:, :2] / mapped[:, 2:3]


def matrix_tuple(matrix: np.ndarray) -> tuple[tuple[float, float, float], ...]:
    """A 3x3 ``matrix`` as the tuple of rows of floats a :class:`~defusion.fusion.rig.RigCamera` keeps
    (hashable, and written to a rig file as it is).

    Example:
        >>> matrix_tuple(np.eye(3)[:2])
        ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0))
    """
    return tuple(tuple(float(v) for v in row) for row in np.asarray(matrix, np.float64))


__all__ = ["RigMotion", "RIG_MOTIONS", "DEFAULT_RIG_MOTION", "article", "check_rig_motion", "fit_matrix", "map_points",
           "matrix_tuple"]

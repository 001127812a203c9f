"""The point pairs a rig is fitted from: read from a CSV of points marked by hand, or found as a
chessboard's corners in both images; and how much of the view they span."""

from __future__ import annotations

import io
import math
import re

import cv2
import numpy as np

from defusion.fusion.rig.display import stretched_grey
from defusion.fusion.rig.errors import RigError
from defusion.fusion.rig.motion import DEFAULT_RIG_MOTION, RigMotion, fit_matrix, map_points

#: A chessboard counted from another corner fits a turn of the board as well as the true ordering; the
#: cameras of a rig are taken to be within this roll of each other (radians: 45 degrees).
MAX_BOARD_TURN = math.pi / 4


# -- marked by hand ------------------------------------------------------------------------
def read_points(text: str, name: str = "points") -> tuple[np.ndarray, np.ndarray]:
    """Point pairs from CSV text: one per line, ``x_ref, y_ref, x_cam, y_cam`` (separated by commas,
    semicolons, tabs or spaces); lines starting with ``#`` are skipped, and so is a first line
    with no number in it (a header). Any other line that is not four numbers is a RigError.

    Example:
        >>> ref, src = read_points("x_ref,y_ref,x_ir,y_ir\\n10,20,5,10\\n30 40 15 20\\n")
        >>> ref.tolist(), src.tolist()
        ([[10.0, 20.0], [30.0, 40.0]], [[5.0, 10.0], [15.0, 20.0]])
    """
    rows, first = [], True
    for number, line in enumerate(io.StringIO(text), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        cells = [c for c in re.split(r"[,;\s]+", line) if c]
        numbers = [_number(c) for c in cells]
        header, first = first and all(v is None for v in numbers), False
        if header:
            continue
        if len(cells) != 4 or any(v is None for v in numbers):
            raise RigError(f"{name}, line {number}: expected four numbers (x_ref, y_ref, x_cam, y_cam), got {line!r}")
        rows.append(numbers)
    if not rows:
        raise RigError(f"{name}: no point pairs (one per line: x_ref, y_ref, x_cam, y_cam)")
    array = np.array(rows, np.float64)
    return array[:, :2], array[:, 2:]


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


# -- a chessboard target ------------------------------------------------------------------
def parse_pattern(text: str) -> tuple[int, int]:
    """A chessboard's inner corners across and down from "COLSxROWS" text; RigError otherwise.

    Example:
        >>> parse_pattern(" 9 x 6 ")
        (9, 6)
    """
    try:
        cols, rows = (int(v) for v in text.lower().replace(" ", "").split("x"))
    except ValueError:
        raise RigError(f"give the board's inner corners across and down as COLSxROWS, e.g. 9x6; got {text!r}") from None
    if min(cols, rows) < 2:
        raise RigError(f"a board has at least 2x2 inner corners, got {text}")
    return cols, rows


def find_board(image: np.ndarray, pattern: tuple[int, int]) -> np.ndarray | None:
    """The inner corners (Nx2, x y, row by row) of a chessboard of ``pattern`` (inner corners per
    row, per column) in ``image`` (any layout and depth; a raw 14-bit frame's narrow band of
    counts is stretched first, :func:`~defusion.fusion.rig.display.stretched_grey`), or None if
    there is none. A heated or cooled board shows in an infrared image too, often with its contrast
    inverted: the detector does not mind. Sub-pixel accurate (OpenCV's sector-based detector)."""
    from defusion.fusion.color import to_uint8

    grey = cv2.equalizeHist(to_uint8(stretched_grey(image)))
    found, corners = cv2.findChessboardCornersSB(grey, tuple(pattern), flags=cv2.CALIB_CB_NORMALIZE_IMAGE)
    if not found:
        found, corners = cv2.findChessboardCorners(grey, tuple(pattern), flags=cv2.CALIB_CB_ADAPTIVE_THRESH
                                                   | cv2.CALIB_CB_NORMALIZE_IMAGE)
        if not found:
            return None
        criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 40, 0.01)
        corners = cv2.cornerSubPix(grey, corners, (5, 5), (-1, -1), criteria)
    return corners.reshape(-1, 2).astype(np.float64)


def match_board(reference: np.ndarray, camera: np.ndarray, pattern: tuple[int, int],
                motion: RigMotion = DEFAULT_RIG_MOTION) -> np.ndarray:
    """``camera``'s board corners in the order of ``reference``'s: a detector may start counting
    from another corner of the board in each image (the board's squares inverted in the infrared,
    say), so each ordering of the grid is tried, and of those ``motion`` fits (unmirrored, within
    a pixel of the best fit) the one that turns the image least is kept: a grid counted from the
    opposite corner fits a half turn as well, which two cameras side by side never are. A board
    turned by more than 45 degrees between the images is a RigError: its orientation is ambiguous.

    Example:
        >>> grid = np.array([[x, y] for y in range(3) for x in range(4)], float) * 10
        >>> turned = grid[::-1] * 0.5 + 3  # the same corners, counted from the opposite one
        >>> np.allclose(match_board(grid, turned, (4, 3)), grid * 0.5 + 3)
        True
    """
    cols, rows = pattern
    index = np.arange(cols * rows).reshape(rows, cols)
    orders = [index, index[::-1, ::-1], index[::-1], index[:, ::-1]]
    if cols == rows:
        orders += [o.T for o in orders]
    fits = []
    for order in orders:
        candidate = camera[order.ravel()]
        matrix = fit_matrix(reference, candidate, motion)
        if np.linalg.det(matrix[:2, :2]) <= 0:  # a mirror image: not what two cameras see
            continue
        error = float(np.sqrt(np.mean(np.sum((map_points(matrix, reference) - candidate) ** 2, axis=1))))
        fits.append((error, abs(math.atan2(matrix[1, 0] - matrix[0, 1], matrix[0, 0] + matrix[1, 1])), candidate))
    if not fits:
        raise RigError("the board's corners fit no unmirrored motion between the cameras")
    best_error = min(f[0] for f in fits)
    _, turn, best = min((f for f in fits if f[0] <= best_error + 1.0), key=lambda f: f[1])
    if turn > MAX_BOARD_TURN:
        raise RigError(f"the board is turned by about {math.degrees(turn):.0f} degrees between the images, and a "
                       "chessboard's corners cannot tell a quarter turn from three: turn one image upright first, or "
                       "mark points instead")
    return best


# -- how far the marks reach ---------------------------------------------------------------
def mark_span(points: np.ndarray, size: tuple[int, int]) -> float:
    """How much of an image of ``size`` (W, H) the ``points`` span: the smaller of their extent
    across and down, as a share of the image's (a rig is extrapolated beyond its marks).

    Example:
        >>> mark_span(np.array([[10, 10], [90, 40]], float), (100, 100))
        0.3
    """
    points = np.asarray(points, np.float64).reshape(-1, 2)
    extent = points.max(axis=0) - points.min(axis=0)
    return float(min(extent[0] / size[0], extent[1] / size[1]))


__all__ = ["MAX_BOARD_TURN", "read_points", "parse_pattern", "find_board", "match_board", "mark_span"]

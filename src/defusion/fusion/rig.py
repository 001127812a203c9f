"""A fixed camera rig's calibration: how each camera's pixels map onto the first camera's.

An infrared and a visible camera side by side never see the scene pixel for pixel: their
resolutions, fields of view and mounting differ. Their intensities do not correlate, so they
cannot be registered from the images the way a handheld bracket is (:mod:`defusion.fusion.align`):
on TNO's 25 pairs re-shot by a simulated second camera (``benchmarks/rig.py``), ECC on the images'
gradients put the corners within 2 px on one pair and 15 px off at the median. A rig is
calibrated once instead, from points
marked in both images (any image viewer shows pixel coordinates), and that calibration maps
every later pair, folder or video from the same rig onto the first camera's pixel grid.

A :class:`Rig` holds, for each camera after the first, the 3x3 matrix that maps the first
camera's pixel coordinates (x right, y down, pixel centres at integers) to that camera's, and the
image sizes it was calibrated at. ``Rig.from_points`` fits it; ``Rig.save`` / ``Rig.load`` keep it
as JSON; ``Rig.apply`` warps the sources, which is what ``FuseOptions.rig`` does before fusing.
"""

from __future__ import annotations

import io
import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal, Sequence

import cv2
import numpy as np

from defusion.errors import DefusionError

RigMotion = Literal["translation", "similarity", "affine", "homography"]
#: Motion models of a rig, simplest first, and the fewest point pairs each needs: a shift; + one
#: scale and a rotation (cameras of different resolution, parallel axes); + shear and unequal
#: scales; + perspective (axes not parallel, or a lens of different focal length off-centre).
RIG_MOTIONS: dict[str, int] = {"translation": 1, "similarity": 2, "affine": 3, "homography": 4}
#: The default model: robust to the pixel or two of error in points marked by hand, and exact for
#: parallel cameras of any resolution looking at a distant scene.
DEFAULT_RIG_MOTION: RigMotion = "affine"
#: The JSON format's name and version, written into every rig file.
FORMAT, VERSION = "defusion-rig", 1
#: Bound on a rig file taken from an upload (the API, the web UI): a real one is under 2 kB.
MAX_RIG_BYTES = 64 * 1024
#: Samples per side of the grid on which coverage (the share of the first camera's pixels that a
#: camera sees) is measured.
COVERAGE_SAMPLES = 64
#: A chessboard counted from another corner fits a turn of the board as well as the true ordering; the
#: cameras of a rig are taken to be within this roll of each other (radians: 45 degrees).
MAX_BOARD_TURN = math.pi / 4
#: Squares along the short side of the calibration check picture's checkerboard.
CHECK_CELLS = 8
#: Width of the blend (fraction of the image's short side) where a camera's view ends and the
#: first image stands in for it.
FILL_FEATHER = 0.01
#: A source with more than this many of its pixels per reference pixel is shrunk (area average)
#: before it is warped, so that bilinear warping does not alias.
MAX_WARP_DENSITY = 1.5


class RigError(DefusionError, ValueError):
    """A rig file, a set of calibration points, or the images given to a rig are unusable."""


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
        raise RigError(f"unknown rig motion {motion!r}; use one of {', '.join(RIG_MOTIONS)}")


# -- fitting -------------------------------------------------------------------------------
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
    counts is stretched first, :func:`_display`), or None if there is none. A heated or cooled
    board shows in an infrared image too, often with its contrast inverted: the detector does not
    mind. Sub-pixel accurate (OpenCV's sector-based detector)."""
    from defusion.fusion.color import to_uint8

    grey = cv2.equalizeHist(to_uint8(_display(image)))
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


# -- the rig -------------------------------------------------------------------------------
@dataclass(frozen=True)
class RigCamera:
    """One camera after the first: its image ``size`` (W, H) and the 3x3 ``matrix`` that maps the
    first camera's pixel coordinates to its own."""

    size: tuple[int, int]
    matrix: tuple[tuple[float, float, float], ...]

    @property
    def array(self) -> np.ndarray:
        return np.array(self.matrix, np.float64)


@dataclass(frozen=True)
class Rig:
    """A calibrated rig: the first camera's image ``size`` (W, H), and each other camera in the
    order its images are given (:class:`RigCamera`). Fusion happens on the first camera's grid."""

    size: tuple[int, int]
    cameras: tuple[RigCamera, ...]
    motion: RigMotion = DEFAULT_RIG_MOTION

    def __post_init__(self) -> None:
        check_rig_motion(self.motion)
        if not self.cameras:
            raise RigError("a rig needs at least one camera besides the first")
        for size in (self.size, *(c.size for c in self.cameras)):
            if len(size) != 2 or min(size) < 1:
                raise RigError(f"image sizes must be two positive integers (W, H), got {size}")
        for index, camera in enumerate(self.cameras, start=2):
            matrix = camera.array
            if matrix.shape != (3, 3) or not np.all(np.isfinite(matrix)):
                raise RigError(f"camera {index}: the matrix must be 3x3 finite numbers")
            if self.motion != "homography" and not np.allclose(matrix[2], (0.0, 0.0, 1.0)):
                raise RigError(f"camera {index}: {article(self.motion)} {self.motion} has no perspective, but the "
                               f"matrix's last row is {matrix[2].tolist()} (use \"motion\": \"homography\", or calibrate again)")
            corners = self._corners() @ matrix.T
            if np.any(corners[:, 2] <= 0) or abs(np.linalg.det(matrix)) < 1e-12:
                raise RigError(f"camera {index}: the matrix does not map the first camera's image onto a plane "
                               "in front of the camera (singular, or the horizon crosses the image)")

    def _corners(self) -> np.ndarray:
        w, h = self.size
        return np.array([[0, 0, 1], [w - 1, 0, 1], [0, h - 1, 1], [w - 1, h - 1, 1]], np.float64)

    # -- building ---------------------------------------------------------------------------
    @classmethod
    def from_points(cls, size: tuple[int, int], cameras: Sequence[tuple[tuple[int, int], np.ndarray, np.ndarray]],
                    motion: RigMotion = DEFAULT_RIG_MOTION) -> "Rig":
        """The rig whose first camera's images are ``size`` (W, H), from ``(size, reference_points,
        source_points)`` for each other camera (points Nx2, x y, in each image's pixels).

        Example:
            >>> ref = np.array([[10, 10], [300, 20], [40, 220], [280, 230]], float)
            >>> rig = Rig.from_points((320, 240), [((160, 120), ref, ref / 2)], "affine")
            >>> rig.cameras[0].size, round(rig.residuals([(ref, ref / 2)])[0], 6)
            ((160, 120), 0.0)
        """
        return cls(_size(size), tuple(RigCamera(_size(cam_size), _as_tuple(fit_matrix(ref, src, motion)))
                                      for cam_size, ref, src in cameras), motion)

    def residuals(self, points: Sequence[tuple[np.ndarray, np.ndarray]]) -> list[float]:
        """Root-mean-square distance (in each camera's pixels) between its marked points and the
        reference points mapped by the rig, one per camera: how well the model fits the marks."""
        return [float(np.sqrt(np.mean(np.sum((map_points(c.array, ref) - np.asarray(src, float)) ** 2, axis=1))))
                for c, (ref, src) in zip(self.cameras, points)]

    def seen(self) -> list[np.ndarray | None]:
        """For each camera after the first, the HxW weight (float32, on the first camera's grid) of
        its own view in what :meth:`apply` gives: 1 where it sees the first camera's view, 0 where the
        first image stands in for it, feathered between; None where it sees all of it. What a
        thermal palette colours (nothing the infrared camera does not see). Computed once for a rig's
        cameras and grid, and read-only (:func:`_coverage` keeps them)."""
        return [_coverage(camera.array, camera.size, self.size) for camera in self.cameras]

    def coverage(self) -> list[float]:
        """Share of the first camera's pixels that each other camera sees (0-1). Below 1, the rest
        of the fused image is the first camera's view alone (:meth:`apply` lets it stand in)."""
        w, h = self.size
        xs, ys = np.meshgrid(np.linspace(0, w - 1, COVERAGE_SAMPLES), np.linspace(0, h - 1, COVERAGE_SAMPLES))
        grid = np.c_[xs.ravel(), ys.ravel()]
        shares = []
        for camera in self.cameras:
            mapped = map_points(camera.array, grid)
            cw, ch = camera.size
            inside = (mapped >= -0.5) & (mapped <= np.array([cw, ch]) - 0.5)
            shares.append(float(inside.all(axis=1).mean()))
        return shares

    # -- using --------------------------------------------------------------------------------
    def check_sizes(self, sizes: Sequence[tuple[int, int]]) -> None:
        """RigError unless ``sizes`` (W, H) are one per camera, each the size it was calibrated at."""
        if len(sizes) != 1 + len(self.cameras):
            raise RigError(f"the rig was calibrated for {1 + len(self.cameras)} cameras, got {len(sizes)} images")
        for index, (got, size) in enumerate(zip(sizes, (self.size, *(c.size for c in self.cameras))), start=1):
            if tuple(got) != tuple(size):
                raise RigError(f"image {index} is {got[0]}x{got[1]}, but the rig was calibrated with "
                               f"{size[0]}x{size[1]} images from camera {index} (WxH): give the images in the "
                               "calibrated order, at the cameras' own resolution")

    def check_images(self, images: Sequence[np.ndarray]) -> None:
        """RigError unless ``images`` are one per camera at the sizes the rig was calibrated at."""
        self.check_sizes([(image.shape[1], image.shape[0]) for image in images])

    def apply(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        """``images`` (one per camera, float in [0, 1]) with every one after the first warped onto
        the first's pixel grid. Where a camera does not see the first camera's view, the first
        image stands in for it (feathered in over ``FILL_FEATHER`` of the short side), so that
        part of the fused image is the first camera's alone, with no smeared edge.

        Example:
            >>> rig = Rig((4, 2), (RigCamera((8, 4), ((2.0, 0, 0), (0, 2.0, 0), (0, 0, 1))),), "similarity")
            >>> big = np.tile(np.arange(8, dtype=np.float32) / 8, (4, 1))
            >>> [im.shape for im in rig.apply([np.zeros((2, 4), np.float32), big])]
            [(2, 4), (2, 4)]
        """
        self.check_images(images)
        reference = images[0]
        out = [reference]
        for image, camera in zip(images[1:], self.cameras):
            warped, seen = _warp(image, camera.array, self.size)
            if seen is not None:
                stand_in = _like(reference, warped)
                weight = seen[..., None] if warped.ndim == 3 else seen
                warped = (weight * warped + (1 - weight) * stand_in).astype(np.float32)
            out.append(warped)
        return out

    def check_image(self, images: Sequence[np.ndarray], points: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
                    cells: int = CHECK_CELLS) -> np.ndarray:
        """A picture to judge the calibration by (HxWx3 float): per camera after the first, the first
        camera's view and that camera's warped view in alternate squares of a checkerboard (edges run
        on across the squares where the rig is right), both histogram-equalised so that infrared and
        visible look alike (a raw frame's narrow band of counts stretched first, :func:`_display`). With
        ``points``, each marked point of the first image as a green circle and the other camera's mark
        mapped back as a red cross: apart by the fit error."""
        from defusion.fusion.color import luminance, to_uint8

        warped = self.apply([_display(image) for image in images])
        w, h = self.size
        side = max(1, min(w, h) // cells)
        yy, xx = np.mgrid[:h, :w]
        board = ((yy // side + xx // side) % 2).astype(bool)
        reference = cv2.equalizeHist(to_uint8(luminance(warped[0])))
        panels = []
        for index, view in enumerate(warped[1:]):
            other = cv2.equalizeHist(to_uint8(luminance(view)))
            panel = cv2.cvtColor(np.where(board, other, reference), cv2.COLOR_GRAY2RGB)
            if points is not None and index < len(points):
                ref, src = points[index]
                back = map_points(np.linalg.inv(self.cameras[index].array), src)
                radius = max(3, min(w, h) // 80)
                for (x, y), (bx, by) in zip(np.asarray(ref, float), back):
                    cv2.circle(panel, (round(x), round(y)), radius, (0, 255, 0), max(1, radius // 3), cv2.LINE_AA)
                    cv2.drawMarker(panel, (round(bx), round(by)), (255, 0, 0), cv2.MARKER_CROSS, 2 * radius,
                                   max(1, radius // 3), cv2.LINE_AA)
            panels.append(panel)
        return np.concatenate(panels, axis=1).astype(np.float32) / 255.0

    # -- files ----------------------------------------------------------------------------------
    def to_json(self, names: Sequence[str] | None = None, fit: Sequence[float] | None = None) -> dict:
        """The rig as a JSON-able dict; ``names`` (the calibration images) and ``fit`` (residuals in
        pixels) are kept for the record, not read back."""
        names = list(names or [])
        cameras = []
        for index, camera in enumerate(self.cameras):
            entry = {"size": list(camera.size), "matrix": [list(row) for row in camera.matrix]}
            if index + 1 < len(names):
                entry["calibrated_with"] = names[index + 1]
            if fit is not None and index < len(fit):
                entry["rms_error_px"] = round(float(fit[index]), 4)
            cameras.append(entry)
        reference = {"size": list(self.size)}
        if names:
            reference["calibrated_with"] = names[0]
        return {"format": FORMAT, "version": VERSION, "motion": self.motion,
                "note": "matrix: first camera's pixel (x, y, 1) -> this camera's, in homogeneous coordinates",
                "reference": reference, "cameras": cameras}

    def dumps(self, names: Sequence[str] | None = None, fit: Sequence[float] | None = None) -> str:
        """The rig file's text (:meth:`to_json`, one line per size and matrix row: meant to be read)."""
        text = json.dumps(self.to_json(names, fit), indent=2)
        text = re.sub(r"\[\s+([-+\d.eE,\s]+?)\s+\]",
                      lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]", text)
        return text + "\n"

    def save(self, path: str | Path, names: Sequence[str] | None = None, fit: Sequence[float] | None = None) -> None:
        Path(path).write_text(self.dumps(names, fit))

    @classmethod
    def from_json(cls, data: object, name: str = "rig") -> "Rig":
        """The rig of a :meth:`to_json` dict; RigError naming what is wrong."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise RigError(f"{name} is not a defusion rig file (expected \"format\": \"{FORMAT}\"; "
                           "make one with defusion calibrate)")
        if data.get("version") != VERSION:
            raise RigError(f"{name}: rig file version {data.get('version')!r}; this defusion reads version {VERSION}")
        try:
            size = _size(_field(data, "reference", dict)["size"])
            cameras = tuple(RigCamera(_size(_field(c, "size", list)), _matrix(_field(c, "matrix", list)))
                            for c in _field(data, "cameras", list))
            return cls(size, cameras, data.get("motion", DEFAULT_RIG_MOTION))
        except RigError as exc:
            raise RigError(f"{name}: {exc}") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise RigError(f"{name}: malformed rig file ({exc}); write it again with defusion calibrate") from None

    @classmethod
    def loads(cls, text: str | bytes, name: str = "rig") -> "Rig":
        """The rig of a rig file's text (:meth:`dumps`; an upload's bytes too); RigError if unusable."""
        try:
            data = json.loads(text)
        except ValueError as exc:  # bytes that are not UTF-8 too
            raise RigError(f"{name} is not JSON ({exc})") from None
        except RecursionError:  # arrays or objects nested thousands deep: the parser's stack, not a rig
            raise RigError(f"{name} is not a defusion rig file (JSON nested too deeply; make one with defusion "
                           "calibrate)") from None
        return cls.from_json(data, name)

    @classmethod
    def load(cls, path: str | Path) -> "Rig":
        """Read a rig file written by :meth:`save` (``defusion calibrate``); RigError if unusable."""
        path = Path(path)
        try:
            text = path.read_bytes()
        except OSError as exc:
            raise RigError(f"cannot read rig file {path}: {exc.strerror or exc}") from None
        return cls.loads(text, str(path))


def _field(data, key: str, kind: type):
    """``data[key]``, which must be a ``kind``; RigError naming the key otherwise."""
    if not isinstance(data, dict) or key not in data:
        raise RigError(f"malformed rig file: no {key!r} field")
    if not isinstance(data[key], kind):
        raise RigError(f"malformed rig file: {key!r} must be a {'list' if kind is list else 'JSON object'}")
    return data[key]


def _matrix(rows) -> tuple[tuple[float, float, float], ...]:
    try:
        matrix = np.array(rows, np.float64)
    except (TypeError, ValueError):
        matrix = None
    if matrix is None or matrix.shape != (3, 3):
        raise RigError("malformed rig file: a camera's matrix must be 3 rows of 3 numbers")
    return _as_tuple(matrix)


def _size(size) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in size)
    except (TypeError, ValueError):
        raise RigError(f"an image size must be two integers (W, H), got {size!r}") from None
    return w, h


def _as_tuple(matrix: np.ndarray) -> tuple[tuple[float, float, float], ...]:
    return tuple(tuple(float(v) for v in row) for row in np.asarray(matrix, np.float64))


def _display(image: np.ndarray) -> np.ndarray:
    """HxW float32 in [0, 1]: ``image``'s luminance (any layout and depth) stretched between its
    :func:`~defusion.fusion.stretch.value_range`, so that a raw 14-bit frame, whose counts fill a
    narrow band of the 16-bit range, shows its scene in 8 bits as an 8-bit image does (read as it
    is, a heated board 120 counts over its background is one grey level)."""
    from defusion.fusion.color import luminance, to_float
    from defusion.fusion.stretch import value_range

    grey = luminance(to_float(np.asarray(image))).astype(np.float32)
    low, high = value_range(grey)
    return np.clip((grey - low) / (high - low), 0.0, 1.0) if high > low else grey


def _warp(image: np.ndarray, matrix: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray | None]:
    """``image`` resampled onto a grid of ``size`` (W, H) whose pixel p is the image's ``matrix @ p``
    (shrunk first where the grid is much coarser than the image, so detail does not alias); and
    where the image covers that grid, a soft HxW mask (:func:`_coverage`; None: it covers all of it)."""
    soft = _coverage(matrix, (image.shape[1], image.shape[0]), size)
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


def _coverage(matrix: np.ndarray, source_size: tuple[int, int], size: tuple[int, int]) -> np.ndarray | None:
    """Where an image of ``source_size`` (W, H) covers a grid of ``size`` (W, H) whose pixel p is
    its ``matrix @ p``: a soft HxW float32 mask, 1 inside, 0 outside, feathered over FILL_FEATHER
    of the short side inside the edge; None where it covers all of the grid. Read-only: the masks
    last computed are kept (:meth:`Rig.seen` and every :meth:`Rig.apply` of a stream ask again).

    Example:
        >>> shift = np.array([[1.0, 0, 4], [0, 1, 0], [0, 0, 1]])
        >>> soft = _coverage(shift, (32, 32), (32, 32))
        >>> soft is _coverage(shift.copy(), (32, 32), (32, 32)), soft.flags.writeable, float(soft[:, -1].max())
        (True, False, 0.0)
    """
    key = tuple(float(v) for v in np.asarray(matrix, np.float64).ravel())
    return _cached_coverage(key, (int(source_size[0]), int(source_size[1])), (int(size[0]), int(size[1])))


#: How many coverage masks :func:`_coverage` keeps (each HxW float32 on the first camera's grid).
_COVERAGE_CACHE = 2


@lru_cache(maxsize=_COVERAGE_CACHE)
def _cached_coverage(key: tuple[float, ...], source_size: tuple[int, int], size: tuple[int, int]) -> np.ndarray | None:
    """:func:`_coverage` of the matrix whose 9 values (row by row) are ``key``."""
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


def _like(reference: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``reference`` in ``target``'s layout (channels; grey where the target is grey, as an infrared
    image stored in three equal channels is), to stand in for it."""
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


__all__ = ["RIG_MOTIONS", "DEFAULT_RIG_MOTION", "RigMotion", "RigError", "Rig", "RigCamera", "fit_matrix",
           "map_points", "read_points", "check_rig_motion", "find_board", "match_board", "mark_span", "parse_pattern",
           "article"]

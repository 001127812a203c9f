"""Calibrating a camera rig from one image per camera: marks or a chessboard in, a rig and a verdict out.

The one calibration path of ``defusion calibrate`` and the web UI: :func:`calibrate` takes the
images and either marked point pairs or a chessboard's size, fits the :class:`~defusion.fusion.rig.Rig`,
and says how far to trust it (:class:`CameraFit`: fit error, the worst mark, how much of the view
the marks span and the camera sees) with the warnings a user should read
(:meth:`Calibration.warnings`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from defusion.fusion.rig import (DEFAULT_RIG_MOTION, LOW_COVERAGE, RIG_MOTIONS, Rig, RigError, RigMotion, article,
                                 find_board, map_points, mark_span, match_board)

#: Marks per camera below which the fit error says little (the docs ask for six or more).
ENOUGH_MARKS = 6
#: A fit looser than this (RMS, pixels of the camera) is warned about: a mis-click, or too simple a motion.
LOOSE_FIT_PX = 3.0
#: Marks spanning less of the image than this (across or down) are warned about: the rig is extrapolated.
NARROW_SPAN = 0.5


@dataclass(frozen=True)
class CameraFit:
    """How well one camera's marks fit the rig, and how far the rig can be trusted."""

    marks: int
    #: Root-mean-square and largest distance (camera pixels) between a mark and where the rig puts it.
    rms_px: float
    worst_px: float
    #: The mark (1-based) furthest from the rig: the first to check for a mis-click.
    worst_mark: int
    #: Share of the first camera's view this camera sees.
    coverage: float
    #: Share of the first image the marks span (the smaller of across and down).
    span: float


@dataclass(frozen=True)
class Calibration:
    """A fitted rig, the point pairs it was fitted to (one per camera after the first), and each fit."""

    rig: Rig
    points: list[tuple[np.ndarray, np.ndarray]]
    fits: list[CameraFit]

    def warnings(self, sources: Sequence[str] | None = None) -> list[str]:
        """What a user should read before trusting the rig, one sentence each; ``sources`` name
        where each camera's marks came from (a points file), for "check mark N in ..."."""
        motion = self.rig.motion
        out = []
        for index, fit in enumerate(self.fits, start=2):
            where = f" in {sources[index - 2]}" if sources else ""
            if fit.marks == RIG_MOTIONS[motion]:
                out.append(f"camera {index}: {fit.marks} marks fix {article(motion)} {motion} exactly, so the fit "
                           f"error (0) cannot show a mis-click; mark {ENOUGH_MARKS} or more, spread over the image")
            elif fit.marks < ENOUGH_MARKS:
                out.append(f"camera {index}: only {fit.marks} marks; with {ENOUGH_MARKS} or more, spread over the "
                           "image, the fit error shows a mis-click and the rig is more accurate")
            if fit.rms_px > LOOSE_FIT_PX:
                out.append(f"camera {index}'s marks fit {article(motion)} {motion} loosely ({fit.rms_px:.1f} px "
                           f"RMS): check mark {fit.worst_mark}{where}, or try a richer motion")
            if fit.span < NARROW_SPAN:
                out.append(f"camera {index}'s marks span only {100 * fit.span:.0f}% of the first image: the rig is "
                           "extrapolated beyond them; spread the marks over the image (or hold the board nearer)")
        return out

    def notes(self, infrared: Sequence[bool] = ()) -> list[str]:
        """Facts worth knowing that need no action: how little of the view a camera sees, and whether
        giving it first would fuse more (:meth:`Rig.coverage_notes`; ``infrared``: for each camera after
        the first, whether it is the infrared one beside a visible first camera, which stays second)."""
        return self.rig.coverage_notes(infrared)


def board_points(images: Sequence[np.ndarray], pattern: tuple[int, int], motion: RigMotion = DEFAULT_RIG_MOTION,
                 names: Sequence[str] | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Point pairs from a chessboard of ``pattern`` inner corners seen in every image: the first
    image's corners and each other's in the same order. RigError naming an image without the board."""
    names = list(names or [f"image {i}" for i in range(1, len(images) + 1)])
    corners = []
    for image, name in zip(images, names):
        found = find_board(image, pattern)
        if found is None:
            raise RigError(f"no {pattern[0]}x{pattern[1]} chessboard found in {name}: count the inner corners "
                           "(where four squares meet) across and down; the whole board must be in view, sharp, "
                           "and in the infrared heated or cooled against its background")
        corners.append(found)
    return [(corners[0], match_board(corners[0], found, pattern, motion)) for found in corners[1:]]


def merge_poses(poses: Sequence[list[tuple[np.ndarray, np.ndarray]]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Point pairs of several shots of a target (one list per pose, as :func:`board_points` gives
    them) as one set per camera: a board held at several places spans the view that one pose
    cannot, and the rig is fitted to all of it.

    Example:
        >>> one = [(np.zeros((2, 2)), np.ones((2, 2)))]
        >>> [(r.shape, s.shape) for r, s in merge_poses([one, one, one])]
        [((6, 2), (6, 2))]
    """
    return [(np.concatenate([pose[k][0] for pose in poses]), np.concatenate([pose[k][1] for pose in poses]))
            for k in range(len(poses[0]))]


def calibrate(images: Sequence[np.ndarray], points: Sequence[tuple[np.ndarray, np.ndarray]],
              motion: RigMotion = DEFAULT_RIG_MOTION, sources: Sequence[str] | None = None) -> Calibration:
    """The rig of ``images`` (one per camera, the first camera's first) fitted to ``points`` (for
    each camera after the first: marks in the first image, Nx2, and the same marks in its own),
    and each camera's fit. RigError for marks outside their image (``sources`` name where they
    came from) and for marks that fix no motion.

    Example:
        >>> ref = np.array([[10, 10], [300, 20], [40, 220], [280, 230], [150, 120], [60, 180]], float)
        >>> result = calibrate([np.zeros((240, 320)), np.zeros((120, 160))], [(ref, ref / 2)], "similarity")
        >>> round(result.fits[0].rms_px, 6), result.fits[0].marks, result.warnings()
        (0.0, 6, [])
    """
    if len(points) != len(images) - 1:
        raise RigError(f"give the marks of each camera after the first: {len(images) - 1} sets for {len(images)} "
                       f"images, got {len(points)}")
    sizes = [(im.shape[1], im.shape[0]) for im in images]
    sources = list(sources or [f"the marks of camera {i}" for i in range(2, len(images) + 1)])
    for (ref, src), source, size in zip(points, sources, sizes[1:]):
        for which, marks, (w, h) in (("first image", ref, sizes[0]), ("camera's image", src, size)):
            outside = [i + 1 for i, (x, y) in enumerate(marks) if not (-0.5 <= x <= w - 0.5 and -0.5 <= y <= h - 0.5)]
            if outside:
                raise RigError(f"{source}: point {outside[0]} lies outside the {which} ({w}x{h}); are the columns "
                               "x_ref, y_ref, x_cam, y_cam, and the images given in that order (the first camera's "
                               "first)?")
    rig = Rig.from_points(sizes[0], [(size, ref, src) for size, (ref, src) in zip(sizes[1:], points)], motion)
    fits = []
    for camera, (ref, src), seen in zip(rig.cameras, points, rig.coverage()):
        distances = np.sqrt(((map_points(camera.array, ref) - src) ** 2).sum(axis=1))
        worst = int(distances.argmax())
        fits.append(CameraFit(len(ref), float(np.sqrt(np.mean(distances ** 2))), float(distances[worst]), worst + 1,
                              seen, mark_span(ref, sizes[0])))
    return Calibration(rig, [(np.asarray(r, float), np.asarray(s, float)) for r, s in points], fits)


__all__ = ["CameraFit", "Calibration", "board_points", "merge_poses", "calibrate", "ENOUGH_MARKS", "LOOSE_FIT_PX", "NARROW_SPAN",
           "LOW_COVERAGE"]

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

The parts: :mod:`~defusion.fusion.rig.camera_rig` (the :class:`Rig` itself),
:mod:`~defusion.fusion.rig.motion` (motion models, fitting a matrix to point pairs),
:mod:`~defusion.fusion.rig.marks` (point pairs from a CSV or a chessboard),
:mod:`~defusion.fusion.rig.warp` (onto the first camera's grid, and where a camera sees it),
:mod:`~defusion.fusion.rig.coverage` (how much of each other's view the cameras see, said),
:mod:`~defusion.fusion.rig.display` (images stretched to be seen, the check picture),
:mod:`~defusion.fusion.rig.bounds` (the sizes and matrices a real rig has),
:mod:`~defusion.fusion.rig.file_format` (the rig file) and :mod:`~defusion.fusion.rig.errors`
(:class:`RigError`). Every name is importable from here, as before the split.
"""

from __future__ import annotations

from defusion.fusion.rig.bounds import MAX_MATRIX_ENTRY, MAX_RIG_PIXELS, MAX_RIG_SIDE, RIG_SCALE_RANGE
from defusion.fusion.rig.camera_rig import COVERAGE_SAMPLES, Rig, RigCamera
from defusion.fusion.rig.coverage import LOW_COVERAGE, describe_coverage
from defusion.fusion.rig.display import CHECK_CELLS
from defusion.fusion.rig.errors import RigError
from defusion.fusion.rig.file_format import FORMAT, MAX_RIG_BYTES, VERSION
from defusion.fusion.rig.marks import MAX_BOARD_TURN, find_board, mark_span, match_board, parse_pattern, read_points
from defusion.fusion.rig.motion import (DEFAULT_RIG_MOTION, RIG_MOTIONS, RigMotion, article, check_rig_motion,
                                        fit_matrix, map_points)
from defusion.fusion.rig.warp import FILL_FEATHER, MAX_WARP_DENSITY

__all__ = ["RIG_MOTIONS", "DEFAULT_RIG_MOTION", "RigMotion", "RigError", "Rig", "RigCamera", "fit_matrix",
           "map_points", "read_points", "check_rig_motion", "find_board", "match_board", "mark_span", "parse_pattern",
           "article", "describe_coverage", "LOW_COVERAGE",
           # the module's constants before the split, defined where they are used
           "FORMAT", "VERSION", "MAX_RIG_BYTES", "COVERAGE_SAMPLES", "MAX_BOARD_TURN", "CHECK_CELLS", "FILL_FEATHER",
           "MAX_WARP_DENSITY",
           # what a rig can be (bounds)
           "MAX_RIG_SIDE", "MAX_RIG_PIXELS", "MAX_MATRIX_ENTRY", "RIG_SCALE_RANGE"]

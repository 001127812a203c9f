"""Showing a rig's images to a person or a detector: any image's grey stretched over its own range
(a raw 14-bit frame's narrow band of counts too), and the check picture that judges a calibration by eye."""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from defusion.fusion.rig.motion import map_points

#: Squares along the short side of the calibration check picture's checkerboard.
CHECK_CELLS = 8


def stretched_grey(image: np.ndarray) -> np.ndarray:
    """HxW float32 in [0, 1]: ``image``'s luminance (any layout and depth) stretched between its
    :func:`~defusion.fusion.stretch.value_range`, so that a raw 14-bit frame, whose counts fill a
    narrow band of the 16-bit range, shows its scene in 8 bits as an 8-bit image does (read as it
    is, a heated board 120 counts over its background is one grey level).

    Example:
        >>> raw = np.array([[1000, 1120], [1000, 1120]], np.uint16)
        >>> stretched_grey(raw).tolist()
        [[0.0, 1.0], [0.0, 1.0]]
    """
    from defusion.fusion.color import luminance, to_float
    from defusion.fusion.stretch import value_range

    grey = luminance(to_float(np.asarray(image))).astype(np.float32)
    low, high = value_range(grey)
    return np.clip((grey - low) / (high - low), 0.0, 1.0) if high > low else grey


def check_picture(warped: Sequence[np.ndarray], size: tuple[int, int], matrices: Sequence[np.ndarray],
                  points: Sequence[tuple[np.ndarray, np.ndarray]] | None = None, cells: int = CHECK_CELLS) -> np.ndarray:
    """The picture of :meth:`~defusion.fusion.rig.Rig.check_image` (HxWx3 float) from ``warped``,
    the images on the first camera's grid of ``size`` (W, H), and ``matrices``, each later camera's
    (first camera's pixels to its own): per later camera, the two views in alternate squares of a
    checkerboard of ``cells`` squares along the short side, both histogram-equalised; with
    ``points``, each first-image mark as a green circle and the other camera's mapped back as a red cross.

    Example:
        >>> flat = np.zeros((16, 24), np.float32)
        >>> check_picture([flat, flat, flat], (24, 16), [np.eye(3), np.eye(3)]).shape
        (16, 48, 3)
    """
    from defusion.fusion.color import luminance, to_uint8

    w, h = size
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
            back = map_points(np.linalg.inv(matrices[index]), src)
            radius = max(3, min(w, h) // 80)
            for (x, y), (bx, by) in zip(np.asarray(ref, float), back):
                cv2.circle(panel, (round(x), round(y)), radius, (0, 255, 0), max(1, radius // 3), cv2.LINE_AA)
                cv2.drawMarker(panel, (round(bx), round(by)), (255, 0, 0), cv2.MARKER_CROSS, 2 * radius,
                               max(1, radius // 3), cv2.LINE_AA)
        panels.append(panel)
    return np.concatenate(panels, axis=1).astype(np.float32) / 255.0


__all__ = ["CHECK_CELLS", "stretched_grey", "check_picture"]

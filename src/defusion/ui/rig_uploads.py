"""Camera rigs from uploads: a rig file (``defusion calibrate``'s JSON) read, or two cameras'
uploads calibrated into one on the page's calibration page."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from defusion.fusion.calibration import Calibration, board_points, calibrate
from defusion.fusion.color import to_float
from defusion.fusion.rig import DEFAULT_RIG_MOTION, MAX_RIG_BYTES, Rig, RigError, parse_pattern, read_points
from defusion.fusion.thermal_notes import infrared_first
from defusion.serving.decode import decode_image
from defusion.ui.errors import InputError
from defusion.ui.settings import DEFAULT_UI_MAX_PIXELS
from defusion.ui.uploads import check_upload_size


def parse_rig(data: bytes, name: str = "rig") -> Rig:
    """The camera rig of an uploaded rig file (``defusion calibrate``'s JSON); InputError if unusable."""
    if len(data) > MAX_RIG_BYTES:
        raise InputError(f"{name}: {len(data)} bytes is too large for a rig file")
    try:
        return Rig.loads(data, name)
    except RigError as exc:
        raise InputError(str(exc)) from None


class RigUpload(NamedTuple):
    """A rig calibrated from two uploads: the fit, its check picture (HxWx3 float), the rig file's bytes and
    the notes on how much of the view each camera sees (``defusion calibrate``'s)."""

    calibration: Calibration
    check: np.ndarray
    rig_file: bytes
    notes: list[str]


def parse_board(text: str) -> tuple[int, int]:
    """A chessboard's inner corners from "COLSxROWS" text (the core's parse_pattern); InputError otherwise."""
    try:
        return parse_pattern(text)
    except RigError as exc:
        raise InputError(str(exc)) from None


def calibrate_uploads(data_a: bytes, name_a: str, data_b: bytes, name_b: str, motion: str = DEFAULT_RIG_MOTION,
                      board: tuple[int, int] | None = None, points: bytes | None = None,
                      max_pixels: int = DEFAULT_UI_MAX_PIXELS, max_bytes: int | None = None) -> RigUpload:
    """A camera rig from one upload per camera and a chessboard's size or a points CSV, by the
    core's calibration (as ``defusion calibrate``); InputError for what the user can fix."""
    for data, name in ((data_a, name_a), (data_b, name_b)):
        check_upload_size(data, name, max_bytes)
    images = [decode_image(data_a, name_a, max_pixels), decode_image(data_b, name_b, max_pixels)]
    try:
        if board is not None:
            pairs = board_points(images, board, motion, [name_a, name_b])
            sources = [f"the board in {name_b}"]
        else:
            if points is None or len(points) > MAX_RIG_BYTES:
                raise InputError("upload the marked points as a CSV file (at most 64 KiB), or use a chessboard")
            pairs = [read_points(points.decode("utf-8", "replace"), "the points file")]
            sources = ["the points file"]
        result = calibrate(images, pairs, motion, sources)
    except RigError as exc:
        raise InputError(str(exc)) from None
    check = result.rig.check_image([to_float(im) for im in images], result.points)
    infrared = [infrared_first([image, images[0]]) for image in images[1:]]  # stays second, as fuse has it
    return RigUpload(result, check, result.rig.dumps([name_a, name_b], [fit.rms_px for fit in result.fits]).encode(),
                     result.notes(infrared))


__all__ = ["parse_rig", "RigUpload", "parse_board", "calibrate_uploads"]

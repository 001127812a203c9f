"""The calibrated rig: :class:`Rig` holds, for each camera after the first, the 3x3 matrix that maps
the first camera's pixels to its own and the image sizes it was calibrated at; it is fitted from
point pairs, checks the images given to it, warps them onto the first camera's grid, and is kept as
a rig file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from defusion.fusion.rig.bounds import check_matrix_entries, check_plausible, checked_size
from defusion.fusion.rig.coverage import describe_coverage
from defusion.fusion.rig.display import CHECK_CELLS, check_picture, stretched_grey
from defusion.fusion.rig.errors import RigError
from defusion.fusion.rig.file_format import (FORMAT, VERSION, check_rig_format, json_field, json_matrix,
                                             parse_rig_text, read_rig_file, readable_json)
from defusion.fusion.rig.motion import (DEFAULT_RIG_MOTION, RigMotion, article, check_rig_motion, fit_matrix,
                                        map_points, matrix_tuple)
from defusion.fusion.rig.warp import coverage_mask, stand_in, warp_onto_grid

#: Samples per side of the grid on which coverage (the share of the first camera's pixels that a
#: camera sees) is measured.
COVERAGE_SAMPLES = 64


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
            checked_size(size)  # whole numbers no camera exceeds
        for index, camera in enumerate(self.cameras, start=2):
            matrix = camera.array
            if matrix.shape != (3, 3):
                raise RigError(f"camera {index}: the matrix must be 3x3 finite numbers")
            try:  # before anything computes with it: a warp by an entry of 1e307 never returns
                check_matrix_entries(matrix)
            except RigError as exc:
                raise RigError(f"camera {index}: {exc}") from None
            if self.motion != "homography" and not np.allclose(matrix[2], (0.0, 0.0, 1.0)):
                raise RigError(f"camera {index}: {article(self.motion)} {self.motion} has no perspective, but the "
                               f"matrix's last row is {matrix[2].tolist()} (use \"motion\": \"homography\", or calibrate again)")
            corners = self._corners() @ matrix.T
            if np.any(corners[:, 2] <= 0) or abs(np.linalg.det(matrix)) < 1e-12:
                raise RigError(f"camera {index}: the matrix does not map the first camera's image onto a plane "
                               "in front of the camera (singular, or the horizon crosses the image)")
            try:
                check_plausible(matrix, self.size, camera.size)
            except RigError as exc:
                raise RigError(f"camera {index}: {exc}") from None

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
        return cls(_size(size), tuple(RigCamera(_size(cam_size), matrix_tuple(fit_matrix(ref, src, motion)))
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
        cameras and grid, and read-only (:func:`~defusion.fusion.rig.warp.coverage_mask` keeps them)."""
        return [coverage_mask(camera.array, camera.size, self.size) for camera in self.cameras]

    def coverage(self) -> list[float]:
        """Share of the first camera's pixels that each other camera sees (0-1). Below 1, the rest
        of the fused image is the first camera's view alone (:meth:`apply` lets it stand in)."""
        return [_share_seen(camera.array, self.size, camera.size) for camera in self.cameras]

    def coverage_back(self) -> list[float]:
        """Share of each other camera's own pixels that the first camera sees (0-1): what
        :meth:`coverage` would be with that camera given first. Both near 1: one view holds the other
        (the narrower camera given first fuses its whole view); both below: each camera sees part of
        the scene the other does not (a 5:4 thermal camera beside a 16:9 visible one), whatever the order.

        Example:
            >>> rig = Rig((100, 100), (RigCamera((100, 100), ((2.0, 0, 0), (0, 2.0, 0), (0, 0, 1))),), "similarity")
            >>> rig.coverage(), rig.coverage_back()  # camera 2 sees camera 1's upper left quarter, enlarged
            ([0.25], [1.0])
        """
        return [_share_seen(np.linalg.inv(camera.array), camera.size, self.size) for camera in self.cameras]

    def coverage_notes(self, infrared: Sequence[bool] = ()) -> list[str]:
        """The sentences on how little of the first camera's view a camera sees, and whether giving it
        first would help (:func:`~defusion.fusion.rig.coverage.describe_coverage`): one per camera
        after the first that sees under :data:`~defusion.fusion.rig.coverage.LOW_COVERAGE` of it.
        ``infrared``: for each camera after the first, whether it is the infrared camera beside a
        visible first one (visible first is ``defusion fuse``'s convention: not to be swapped)."""
        flags = list(infrared) + [False] * (len(self.cameras) - len(infrared))
        said = (describe_coverage(index, sees, back, hot) for index, (sees, back, hot)
                in enumerate(zip(self.coverage(), self.coverage_back(), flags), start=2))
        return [sentence for sentence in said if sentence is not None]

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
            warped, seen = warp_onto_grid(image, camera.array, self.size)
            if seen is not None:
                standing_in = stand_in(reference, warped)
                weight = seen[..., None] if warped.ndim == 3 else seen
                warped = (weight * warped + (1 - weight) * standing_in).astype(np.float32)
            out.append(warped)
        return out

    def check_image(self, images: Sequence[np.ndarray], points: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
                    cells: int = CHECK_CELLS) -> np.ndarray:
        """A picture to judge the calibration by (HxWx3 float): per camera after the first, the first
        camera's view and that camera's warped view in alternate squares of a checkerboard (edges run
        on across the squares where the rig is right), both histogram-equalised so that infrared and
        visible look alike (a raw frame's narrow band of counts stretched first,
        :func:`~defusion.fusion.rig.display.stretched_grey`). With ``points``, each marked point of the
        first image as a green circle and the other camera's mark mapped back as a red cross: apart by
        the fit error."""
        warped = self.apply([stretched_grey(image) for image in images])
        return check_picture(warped, self.size, [camera.array for camera in self.cameras], points, cells)

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
        return readable_json(self.to_json(names, fit))

    def save(self, path: str | Path, names: Sequence[str] | None = None, fit: Sequence[float] | None = None) -> None:
        Path(path).write_text(self.dumps(names, fit), encoding="utf-8")

    @classmethod
    def from_json(cls, data: object, name: str = "rig") -> "Rig":
        """The rig of a :meth:`to_json` dict; RigError naming what is wrong."""
        check_rig_format(data, name)
        try:
            size = _size(json_field(data, "reference", dict)["size"])
            cameras = tuple(RigCamera(_size(json_field(c, "size", list)), json_matrix(json_field(c, "matrix", list)))
                            for c in json_field(data, "cameras", list))
            return cls(size, cameras, data.get("motion", DEFAULT_RIG_MOTION))
        except RigError as exc:
            raise RigError(f"{name}: {exc}") from None
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:  # OverflowError: a number no float holds
            raise RigError(f"{name}: malformed rig file ({exc}); write it again with defusion calibrate") from None

    @classmethod
    def loads(cls, text: str | bytes, name: str = "rig") -> "Rig":
        """The rig of a rig file's text (:meth:`dumps`; an upload's bytes too); RigError if unusable."""
        return cls.from_json(parse_rig_text(text, name), name)

    @classmethod
    def load(cls, path: str | Path) -> "Rig":
        """Read a rig file written by :meth:`save` (``defusion calibrate``); RigError if unusable."""
        path = Path(path)
        return cls.loads(read_rig_file(path), str(path))


def _share_seen(matrix: np.ndarray, size: tuple[int, int], other: tuple[int, int]) -> float:
    """Share of a ``size`` (W, H) image's pixels (on a grid of :data:`COVERAGE_SAMPLES` per side) that
    ``matrix`` maps inside an ``other`` (W, H) image: in front of it, and within its pixels' edges."""
    w, h = size
    xs, ys = np.meshgrid(np.linspace(0, w - 1, COVERAGE_SAMPLES), np.linspace(0, h - 1, COVERAGE_SAMPLES))
    grid = np.c_[xs.ravel(), ys.ravel(), np.ones(xs.size)] @ np.asarray(matrix, np.float64).T
    ahead = grid[:, 2] > 0  # a homography's inverse can put points behind the camera: not seen
    mapped = grid[:, :2] / np.where(ahead, grid[:, 2], 1.0)[:, None]
    inside = (mapped >= -0.5) & (mapped <= np.array(other, np.float64) - 0.5)
    return float((inside.all(axis=1) & ahead).mean())


def _size(size: Any) -> tuple[int, int]:
    """``size`` (a rig file's, or an image's W, H) as two ints; RigError unless no camera exceeds it."""
    return checked_size(size)


__all__ = ["COVERAGE_SAMPLES", "Rig", "RigCamera"]

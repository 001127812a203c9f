"""How well a camera rig calibrated from hand-marked points maps a second camera onto the first.

Each registered infrared-visible pair (TNO by default) is turned into what a rig of two
cameras would deliver: the infrared image re-shot by a seeded random second camera (lower
resolution, a slightly different field of view, turned and shifted), with points "marked by hand"
in both images (``--marks`` of them, spread over the image, off by ``--click`` pixels of Gaussian
error in each image). Per motion model, side by side: how far the calibrated rig maps the visible
image's corners from where the true camera sees them (in the visible image's pixels; mean and
worst over the pairs), the fit error ``defusion calibrate`` reports, and the mean error of the
infrared image put back on the visible grid against the registered original (in [0, 1], on the
pixels the second camera sees). For comparison the same for ``--resize`` (the second image
stretched to the first's size, the only way to fuse different sizes before rigs).

With ``--fuse N`` the first N pairs are also fused (shipped weights, ``--task ivf``, at ``--scale``)
with the rig and with ``--resize``, against the fusion of the registered pair; with ``--figure
PATH`` the first pair is drawn: visible, the second camera's frame, fused resized, fused with the rig.

Usage: python benchmarks/rig.py [--tno DIR] [--limit 25] [--marks 8] [--click 1.0] [--fuse 4] [--figure PNG]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from defusion.fusion.color import from_float, luminance, to_float
from defusion.fusion.rig import RIG_MOTIONS, Rig, RigCamera, map_points
from defusion.io.images import read_image
from defusion.io.resize import resize_to

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pair_folders import SHARED_BENCH, add_pair_arguments, load_pairs  # noqa: E402

#: The simulated second camera: its resolution against the first's, its field of view's zoom
#: (above 1: narrower), degrees of roll, and shift as a fraction of the image.
RESOLUTIONS, ZOOM, ROLL, SHIFT = (0.5, 0.67, 0.8), (0.95, 1.15), 2.0, 0.04
#: Marks keep this fraction of the image's size from its edges.
MARK_MARGIN = 0.08
#: The figure's 1:1 centre crops (H, W).
CROP = (240, 320)
#: The interior over which images are compared leaves this many pixels at the covered area's edge.
MARGIN = 8


def second_camera(shape: tuple[int, int], rng: np.random.Generator) -> tuple[np.ndarray, tuple[int, int]]:
    """A random second camera for a first of ``shape`` (H, W): the matrix from the first camera's
    pixels to its own, and its image size (W, H)."""
    h, w = shape
    r = rng.choice(RESOLUTIONS)
    zoom, roll = rng.uniform(*ZOOM), np.deg2rad(rng.uniform(-ROLL, ROLL))
    size = (int(round(w * r)), int(round(h * r)))
    rotation = zoom * r * np.array([[np.cos(roll), -np.sin(roll)], [np.sin(roll), np.cos(roll)]])
    centre_first, centre_second = np.array([w - 1, h - 1]) / 2, (np.array(size) - 1) / 2
    shift = rng.uniform(-SHIFT, SHIFT, 2) * np.array(size)
    matrix = np.eye(3)
    matrix[:2, :2] = rotation
    matrix[:2, 2] = centre_second + shift - rotation @ centre_first
    return matrix, size


def shoot(image: np.ndarray, matrix: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """What the second camera records of ``image`` (float): image(p) lands on its pixel matrix @ p;
    area-averaged first, so it is no sharper than a camera of that resolution."""
    density = np.sqrt(abs(np.linalg.det(matrix[:2, :2])))
    if density < 1:
        h, w = image.shape[:2]
        small = cv2.resize(image, (round(w * density), round(h * density)), interpolation=cv2.INTER_AREA)
        k = np.array([[small.shape[1] / w, 0, 0], [0, small.shape[0] / h, 0], [0, 0, 1]])
        k[:2, 2] = 0.5 * np.diag(k)[:2] - 0.5
        matrix = matrix @ np.linalg.inv(k)
        image = small
    return cv2.warpPerspective(image, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def marks_for(shape: tuple[int, int], matrix: np.ndarray, size: tuple[int, int], count: int, click: float,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``count`` point pairs on what both cameras see, each mark off by ``click`` px (Gaussian)."""
    h, w = shape
    ref = []
    while len(ref) < count:
        p = rng.uniform([MARK_MARGIN * w, MARK_MARGIN * h], [(1 - MARK_MARGIN) * w, (1 - MARK_MARGIN) * h])
        q = map_points(matrix, p[None])[0]
        if MARK_MARGIN * size[0] < q[0] < (1 - MARK_MARGIN) * size[0] and MARK_MARGIN * size[1] < q[1] < (1 - MARK_MARGIN) * size[1]:
            ref.append(p)
    ref = np.array(ref)
    src = map_points(matrix, ref)
    return ref + rng.normal(0, click, ref.shape), src + rng.normal(0, click, src.shape)


def corner_error(fitted: np.ndarray, true: np.ndarray, shape: tuple[int, int]) -> float:
    """Mean distance, in the first camera's pixels, between where the two matrices send its corners."""
    h, w = shape
    corners = np.array([[0, 0], [w - 1, 0], [0, h - 1], [w - 1, h - 1]], float)
    scale = np.sqrt(abs(np.linalg.det(true[:2, :2])))
    return float(np.linalg.norm(map_points(fitted, corners) - map_points(true, corners), axis=1).mean() / scale)


def seen_interior(matrix: np.ndarray, size: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
    """The first camera's pixels the second sees, ``MARGIN`` px in from the edge of that area."""
    h, w = shape
    seen = cv2.warpPerspective(np.ones(size[::-1], np.uint8), matrix, (w, h),
                               flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP)
    return cv2.erode(seen, np.ones((2 * MARGIN + 1, 2 * MARGIN + 1), np.uint8)).astype(bool)


def gradients(image: np.ndarray) -> np.ndarray:
    """Gradient magnitude of a lightly blurred luminance, scaled by its 99th percentile: the one
    cue an infrared and a visible image share (edges), whatever their intensities."""
    grey = cv2.GaussianBlur(luminance(image).astype(np.float32), (0, 0), 1.5)
    magnitude = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
    return magnitude / (np.percentile(magnitude, 99) + 1e-6)


def ecc_on_gradients(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The automatic alternative to marks: the second camera's frame stretched to the first's size,
    then an affine motion by ECC on both images' gradients, coarse to fine (as ``--align``'s
    pyramid); the matrix from the first's pixels to the second's (the identity stretch if ECC fails)."""
    h, w = first.shape[:2]
    sh, sw = second.shape[:2]
    stretch = np.diag([sw / w, sh / h, 1.0])
    levels = [(gradients(first), gradients(cv2.resize(second, (w, h), interpolation=cv2.INTER_AREA)))]
    while min(levels[-1][0].shape) >= 256:
        levels.append(tuple(cv2.pyrDown(x) for x in levels[-1]))
    warp = np.eye(2, 3, dtype=np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-5)
    try:
        for depth, (a, b) in enumerate(reversed(levels)):
            if depth:
                warp[:, 2] *= 2
            _, warp = cv2.findTransformECC(a, b, warp, cv2.MOTION_AFFINE, criteria, None, 5)
    except cv2.error:
        warp = np.eye(2, 3, dtype=np.float32)
    full = np.eye(3)
    full[:2] = warp
    return stretch @ full


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_pair_arguments(p, "--tno", SHARED_BENCH / "ivf" / "tno", ("ir", "vi"), 25)
    p.add_argument("--marks", type=int, default=8, help="point pairs marked per rig (default 8)")
    p.add_argument("--click", type=float, default=1.0, help="marking error, pixels (Gaussian sigma; default 1)")
    p.add_argument("--fuse", type=int, default=0, metavar="N", help="also fuse the first N pairs (default 0)")
    p.add_argument("--scale", type=int, default=1, help="inference scale for --fuse and --figure (default 1)")
    p.add_argument("--figure", type=Path, help="draw the first pair: visible, second camera, fused resized and rigged")
    args = p.parse_args(argv)
    rng = np.random.default_rng(0)
    pairs = load_pairs(args.folder, ("ir", "vi"), args.limit)
    scenes = []
    for name, ir_path, vi_path in pairs:
        visible, infrared = read_image(vi_path), read_image(ir_path)
        matrix, size = second_camera(visible.shape[:2], rng)
        camera = from_float(shoot(to_float(infrared), matrix, size), infrared.dtype)
        marks = marks_for(visible.shape[:2], matrix, size, args.marks, args.click, rng)
        scenes.append((name, visible, infrared, camera, matrix, size, marks))
    print(f"{len(scenes)} pairs, each re-shot by a random second camera ({', '.join(f'{r:g}' for r in RESOLUTIONS)} "
          f"of the resolution, zoom {ZOOM[0]:g}-{ZOOM[1]:g}, roll up to {ROLL:g} deg, shift up to {SHIFT:.0%}); "
          f"{args.marks} marks per rig, off by {args.click:g} px")
    print(f"{'mapping':12s} {'corner px':>9s} {'worst px':>9s} {'fit px':>7s} {'image error':>12s} {'s/pair':>7s}")
    rigs = {}
    for motion in RIG_MOTIONS:
        if args.marks < RIG_MOTIONS[motion]:
            continue
        corners, fits, errors, start = [], [], [], time.perf_counter()
        for name, visible, infrared, camera, matrix, size, (ref, src) in scenes:
            shape = visible.shape[:2]
            rig = Rig.from_points(shape[::-1], [(size, ref, src)], motion)
            back = rig.apply([to_float(visible), to_float(camera)])[1]
            inside = seen_interior(matrix, size, shape)
            corners.append(corner_error(rig.cameras[0].array, matrix, shape))
            fits.append(rig.residuals([(ref, src)])[0])
            errors.append(float(np.abs(luminance(back) - luminance(to_float(infrared)))[inside].mean()))
            rigs.setdefault(motion, []).append(rig)
        seconds = (time.perf_counter() - start) / len(scenes)
        print(f"{motion:12s} {np.mean(corners):9.2f} {np.max(corners):9.2f} {np.mean(fits):7.2f} {np.mean(errors):12.4f} "
              f"{seconds:7.3f}")
    truth = [np.abs(luminance(Rig(visible.shape[1::-1], (RigCamera(size, tuple(map(tuple, matrix))),)).apply(
        [to_float(visible), to_float(camera)])[1]) - luminance(to_float(infrared)))[seen_interior(matrix, size, visible.shape[:2])].mean()
        for _, visible, infrared, camera, matrix, size, _ in scenes]
    automatic = [corner_error(ecc_on_gradients(to_float(visible), to_float(camera)), matrix, visible.shape[:2])
                 for _, visible, _, camera, matrix, _, _ in scenes]
    print(f"{'ECC (auto)':12s} {np.median(automatic):9.2f} {np.max(automatic):9.2f} {'':>7s} {'':>12s}   "
          f"(no marks: median; within 2 px on {np.mean(np.array(automatic) < 2):.0%} of the pairs)")
    print(f"{'true rig':12s} {0:9.2f} {0:9.2f} {'':>7s} {np.mean(truth):12.4f}   (the floor: the camera's lower resolution)")
    resized = [np.abs(luminance(to_float(resize_to(camera, *visible.shape[:2]))) - luminance(to_float(infrared)))
               [seen_interior(matrix, size, visible.shape[:2])].mean()
               for _, visible, infrared, camera, matrix, size, _ in scenes]
    print(f"{'--resize':12s} {'':>9s} {'':>9s} {'':>7s} {np.mean(resized):12.4f}")
    if not (args.fuse or args.figure):
        return
    from defusion import Fuser

    plain = Fuser.from_pretrained(args.weights, task="ivf", scale=args.scale, runtime=args.runtime)
    if args.figure:
        from dataclasses import replace

        from defusion.benchmark.report import labelled_tile, tile_rows
        from defusion.fusion.color import to_uint8

        name, visible, infrared, camera, _, _, (ref, src) = scenes[0]
        rig = rigs["affine"][0]
        rigged = replace(plain, options=replace(plain.options, rig=rig))
        resized, with_rig = plain.fuse(visible, resize_to(camera, *visible.shape[:2])), rigged.fuse(visible, camera)
        check = rig.check_image([to_float(visible), to_float(camera)], [(ref, src)])
        h, w = visible.shape[:2]
        crop = (slice(h // 2 - CROP[0] // 2, h // 2 + CROP[0] // 2), slice(w // 2 - CROP[1] // 2, w // 2 + CROP[1] // 2))
        rows = [[(visible, "visible (first camera)"), (camera, "infrared camera's frame"),
                 (resized, "fused, --resize"), (with_rig, "fused, --rig (affine)")],
                [(check, "defusion calibrate's check picture"), (resized[crop], "--resize, centre at 1:1"),
                 (with_rig[crop], "--rig, centre at 1:1")]]
        args.figure.parent.mkdir(parents=True, exist_ok=True)
        tile_rows([[labelled_tile(to_uint8(im), label) for im, label in row] for row in rows]).save(args.figure)
        print(f"wrote {args.figure}")
    if args.fuse:
        from dataclasses import replace

        off = {"--resize": [], "--rig (affine)": [], "true rig": []}
        for index, (name, visible, infrared, camera, matrix, size, _) in enumerate(scenes[:args.fuse]):
            rigged = replace(plain, options=replace(plain.options, rig=rigs["affine"][index]))
            true = Rig(visible.shape[1::-1], (RigCamera(size, tuple(map(tuple, matrix))),))
            exact = replace(plain, options=replace(plain.options, rig=true))
            reference = plain.fuse(visible, infrared).astype(np.float64)
            inside = seen_interior(matrix, size, visible.shape[:2])
            for label, fused in (("--resize", plain.fuse(visible, resize_to(camera, *visible.shape[:2]))),
                                 ("--rig (affine)", rigged.fuse(visible, camera)),
                                 ("true rig", exact.fuse(visible, camera))):
                off[label].append(float(np.abs(fused.astype(np.float64) - reference)[inside].mean()))
            print(f"  fused {name}", file=sys.stderr)
        print(f"fused image against the fusion of the registered pair ({args.fuse} pairs, mean grey-level "
              f"difference where the second camera sees; shipped weights, --task ivf --scale {args.scale}):")
        for label, values in off.items():
            print(f"  {label:16s} {np.mean(values):8.3f}" + ("   (the floor: the camera's lower resolution)"
                                                           if label == "true rig" else ""))


if __name__ == "__main__":
    main()

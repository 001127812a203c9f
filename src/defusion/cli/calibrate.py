"""``defusion calibrate``: a fixed camera rig's calibration from points marked in its images."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from defusion.cli.errors import UserError
from defusion.fusion.choices import DEFAULT_RIG_MOTION, RIG_MOTIONS  # without OpenCV: --help stays fast
from defusion.io.commands import shell_word
from defusion.io.errors import ImageReadError
from defusion.io.formats import DEFAULT_MAX_PIXELS, WRITABLE_SUFFIXES

if TYPE_CHECKING:
    from defusion.fusion.rig import Rig

HELP = ("calibrate a fixed camera rig (infrared + visible) from points marked in one image of each camera, or "
        "from a chessboard target they both see: REF OTHER --points OTHER.csv (or --board 9x6) -o rig.json, then "
        "defusion fuse REF OTHER --rig rig.json")
#: How --points files are read: UTF-8, whatever the locale's encoding (a CSV of numbers reads the same in
#: any), with the byte-order mark Excel's "CSV UTF-8" writes at its start skipped rather than refused.
POINTS_ENCODING = "utf-8-sig"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+", type=Path,
                   help="one image from each camera, taken at the same moment: the first camera's (the fused "
                        "images will be on its pixel grid), then the others")
    p.add_argument("--board", type=_pattern, metavar="COLSxROWS",
                   help="find a chessboard target in every image instead of marked points: its inner corners (where "
                        "four squares meet) across and down, e.g. 9x6; heated or cooled, it shows in the infrared too. "
                        "Hold it where it covers much of both views")
    p.add_argument("--cameras", type=int, default=None, metavar="K",
                   help="with --board: the rig has K cameras and the images are several shots of the board, K at a "
                        "time (pose 1's camera 1, camera 2, ..., then pose 2's ...): a board held at several places "
                        "covers the view one pose cannot (default: one shot, every image a camera)")
    p.add_argument("--points", nargs="+", type=Path, metavar="CSV",
                   help="one file per camera after the first: one point per line, x_ref, y_ref, x_cam, y_cam (the "
                        "same scene point in pixels of the first image and of that camera's; a header line and "
                        "# comments are skipped). Mark 6 or more, spread over the image")
    p.add_argument("-o", "--output", required=True, type=Path, help="the rig file to write (JSON)")
    p.add_argument("--motion", default=DEFAULT_RIG_MOTION, choices=tuple(RIG_MOTIONS),
                   help=f"how the cameras' images relate (default {DEFAULT_RIG_MOTION}): translation; similarity "
                        "(+ one scale and a rotation: parallel cameras of different resolution); affine (+ shear, "
                        "unequal scales); homography (+ perspective: cameras not parallel). Needs "
                        f"{', '.join(map(str, RIG_MOTIONS.values()))} points")
    p.add_argument("--check", type=Path, default=None,
                   help="where to draw the calibration check picture (default: next to the rig file, "
                        "<name>_check.png): the two views in alternate squares, marks as circles and crosses")
    p.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS, help=argparse.SUPPRESS)


def _pattern(text: str) -> tuple[int, int]:
    """argparse type of --board: the core's parse_pattern, its error a usage error."""
    from defusion.fusion.rig import RigError, parse_pattern

    try:
        return parse_pattern(text)
    except RigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    """Fit the rig ``args`` describe, say how well it fits, and write the rig file and its check picture."""
    from defusion.fusion.calibration import calibrate
    from defusion.fusion.color import to_uint8
    from defusion.io.images import read_image
    from defusion.io.writing import write_image

    cameras, check = _checked_arguments(args)
    images = [read_image(p, args.max_pixels) for p in args.images]
    shown = _as_fused(images, args.images, cameras)
    if args.board is not None:
        points, sources = _board_points(args, images, shown, cameras)
        images = images[:cameras]  # the first shot: the rig's sizes and its check picture
    else:
        points, sources = _marked_points(args.points)
    paths = args.images[:cameras]
    result = calibrate(images, points, args.motion, sources)
    # saved before anything is said: output that cannot be written (a closed pipe, a file name the
    # console's code page lacks) must not cost the calibration
    args.output.parent.mkdir(parents=True, exist_ok=True)
    result.rig.save(args.output, [p.name for p in paths], [fit.rms_px for fit in result.fits])
    check.parent.mkdir(parents=True, exist_ok=True)
    write_image(check, to_uint8(result.rig.check_image(shown[:cameras], result.points)))
    for index, (camera, fit) in enumerate(zip(result.rig.cameras, result.fits), start=2):
        print(f"camera {index} ({paths[index - 1].name}, {camera.size[0]}x{camera.size[1]}): {args.motion} "
              f"from {fit.marks} point pairs, fit error {fit.rms_px:.2f} px RMS (largest {fit.worst_px:.2f} px, "
              f"point {fit.worst_mark}); sees {100 * fit.coverage:.0f}% of camera 1's view")
    for warning in result.warnings(sources):
        print(f"defusion: warning: {warning}", file=sys.stderr)
    for note in _notes(result.rig, images, paths, args.points is not None):
        print(f"defusion: note: {note}", file=sys.stderr)
    names = " ".join(shell_word(str(p)) for p in paths)
    print(f"wrote {args.output} and {check}; fuse with: defusion fuse {names} --rig {shell_word(str(args.output))} "
          "-o fused.png")
    return 0


def _checked_arguments(args: argparse.Namespace) -> tuple[int, Path]:
    """The rig's number of cameras and where its check picture goes, once ``args`` are found
    consistent (images, --cameras, --points or --board, the output's suffixes, no output over an input);
    else a UserError saying what to give."""
    if len(args.images) < 2:
        raise UserError("give one image from each camera: at least two (the first camera's, then the others)")
    cameras = args.cameras or len(args.images)
    if args.cameras is not None and (args.board is None or cameras < 2 or len(args.images) % cameras):
        raise UserError("--cameras K is for several shots of a --board: K of 2 or more, and K images per shot "
                        f"(got {len(args.images)} images for K = {args.cameras})")
    if (args.points is None) == (args.board is None):
        raise UserError("give either --points (marked point pairs, one CSV per camera after the first) or --board "
                        "COLSxROWS (a chessboard target in every image)")
    if args.points is not None and len(args.points) != len(args.images) - 1:
        raise UserError(f"give one --points file per camera after the first: {len(args.images) - 1} for "
                        f"{len(args.images)} images, got {len(args.points)}")
    if args.output.suffix.lower() != ".json":
        raise UserError(f"-o {args.output}: a rig file is JSON; name it e.g. {args.output.with_suffix('.json')}")
    check = args.check or args.output.with_name(f"{args.output.stem}_check.png")
    if check.suffix.lower() not in WRITABLE_SUFFIXES:
        raise UserError(f"cannot write --check {check}: use one of {', '.join(WRITABLE_SUFFIXES)}")
    inputs = {p.resolve() for p in (*args.images, *(args.points or []))}
    for path in (args.output, check):
        if path.resolve() in inputs:
            raise UserError(f"{path} is one of the inputs; choose another path")
    return cameras, check


def _notes(rig: Rig, images: list, paths: list[Path], marked: bool) -> list[str]:
    """What calibrate says besides the fit: a pair given infrared first (the rig fixes the order
    ``defusion fuse`` takes it in, where visible first is the convention: thermal_notes.describe_order,
    fuse's rule and words), and how little of the first camera's view a camera sees, with giving it
    first advised only where that fuses more and keeps the visible camera first
    (:meth:`~defusion.fusion.rig.Rig.coverage_notes`). ``images`` as read, one per camera;
    ``marked``: the points came from --points files, whose columns swap with the cameras."""
    from defusion.fusion.thermal_notes import GIVE_VISIBLE_FIRST, describe_order, infrared_first

    swap = " (and in each --points file, x_cam, y_cam before x_ref, y_ref)" if marked else ""
    order = describe_order([p.name for p in paths], images, resize="the rig",
                           fix=f"calibrate again and {GIVE_VISIBLE_FIRST}{swap}")
    infrared = [infrared_first([image, images[0]]) for image in images[1:]]
    return ([] if order is None else [order]) + rig.coverage_notes(infrared)


def _board_points(args: argparse.Namespace, images: list, shown: list, cameras: int) -> tuple[list, list[str]]:
    """The --board corners found in every shot (``cameras`` images at a time; ``shown``: the images as
    fused) merged into one set of point pairs per camera after the first, and how a message names
    where they come from; a shot's image of another size than its camera's first is a UserError."""
    from defusion.fusion.calibration import board_points, merge_poses

    shots = [slice(start, start + cameras) for start in range(0, len(images), cameras)]
    for shot in shots[1:]:  # every shot's camera k at camera k's size
        for k, (image, first) in enumerate(zip(images[shot], images[:cameras]), start=1):
            if image.shape[:2] != first.shape[:2]:
                raise UserError(f"{args.images[shot][k - 1]} is not the size of {args.images[k - 1]}: give the "
                                f"images shot by shot, {cameras} at a time, each camera in the same place")
    points = merge_poses([board_points(shown[shot], args.board, args.motion, [str(p) for p in args.images[shot]])
                          for shot in shots])
    sources = [f"the {args.board[0]}x{args.board[1]} board in {p.name}" for p in args.images[1:cameras]]
    return points, sources


def _marked_points(files: list[Path]) -> tuple[list, list[str]]:
    """The point pairs marked in each --points file (one per camera after the first), and the files'
    names for messages; a file that cannot be read as text is a UserError."""
    from defusion.fusion.rig import read_points

    points = []
    for path in files:
        try:
            text = path.read_text(encoding=POINTS_ENCODING)
        except OSError as exc:
            raise UserError(f"cannot read --points {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise UserError(f"--points {path}: not a text file; give a CSV of x_ref, y_ref, x_cam, y_cam "
                            "per line") from None
        points.append(read_points(text, str(path)))
    return points, [str(p) for p in files]


def _as_fused(images: list, paths: list[Path], cameras: int) -> list:
    """``images`` as floats in [0, 1] as ``defusion fuse`` takes them, shot by shot (``cameras`` at a
    time): a raw thermal frame (16-bit counts in a narrow band) stretched onto the full range, so
    that a heated board shows in it and in the check picture as it will in the fused images; said
    as ``defusion fuse`` says it, once: for the first board shot whose frames are stretched (the
    camera's other shots are stretched alike)."""
    from defusion.cli.fuse.fusion_notes import note_stretched
    from defusion.fusion.color import to_float
    from defusion.fusion.stretch import describe_stretch, stretch_sources

    shown = []
    noted = False
    for start in range(0, len(images), cameras):
        shot = images[start:start + cameras]
        # a rig's cameras: each raw frame on its own (FuseOptions.stretch_shared with a rig)
        if not noted and describe_stretch([p.name for p in paths[start:start + cameras]], shot, shared=False):
            note_stretched(paths[start:start + cameras], shot, shared=False)
            noted = True
        shown += stretch_sources(shot, [to_float(im) for im in shot], shared=False)[0]
    return shown


EXPECTED_ERRORS = (ImageReadError, ValueError, OSError)

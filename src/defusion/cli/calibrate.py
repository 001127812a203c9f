"""``defusion calibrate``: a fixed camera rig's calibration from points marked in its images."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from defusion.cli.errors import UserError
from defusion.io.images import DEFAULT_MAX_PIXELS, WRITABLE_SUFFIXES, ImageReadError

HELP = ("calibrate a fixed camera rig (infrared + visible) from points marked in one image of each camera, or "
        "from a chessboard target they both see: REF OTHER --points OTHER.csv (or --board 9x6) -o rig.json, then "
        "defusion fuse REF OTHER --rig rig.json")
#: Same as defusion.fusion.rig.RIG_MOTIONS (names and the fewest marks each needs) and DEFAULT_RIG_MOTION
#: (not imported: keeps --help fast; tests check).
RIG_MOTIONS_NEEDED = {"translation": 1, "similarity": 2, "affine": 3, "homography": 4}
RIG_MOTIONS = tuple(RIG_MOTIONS_NEEDED)
DEFAULT_RIG_MOTION = "affine"
#: Marks per camera below which the fit error says little (the docs ask for six or more).
ENOUGH_MARKS = 6
#: A camera that sees less of the first camera's view than this gets a note.
LOW_COVERAGE = 0.9
#: Marks spanning less of the image than this (across or down) get a warning: the rig is extrapolated.
NARROW_SPAN = 0.5


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+", type=Path,
                   help="one image from each camera, taken at the same moment: the first camera's (the fused "
                        "images will be on its pixel grid), then the others")
    p.add_argument("--board", type=_pattern, metavar="COLSxROWS",
                   help="find a chessboard target in every image instead of marked points: its inner corners (where "
                        "four squares meet) across and down, e.g. 9x6; heated or cooled, it shows in the infrared too. "
                        "Hold it where it covers much of both views")
    p.add_argument("--points", nargs="+", type=Path, metavar="CSV",
                   help="one file per camera after the first: one point per line, x_ref, y_ref, x_cam, y_cam (the "
                        "same scene point in pixels of the first image and of that camera's; a header line and "
                        "# comments are skipped). Mark 6 or more, spread over the image")
    p.add_argument("-o", "--output", required=True, type=Path, help="the rig file to write (JSON)")
    p.add_argument("--motion", default=DEFAULT_RIG_MOTION, choices=RIG_MOTIONS,
                   help=f"how the cameras' images relate (default {DEFAULT_RIG_MOTION}): translation; similarity "
                        "(+ one scale and a rotation: parallel cameras of different resolution); affine (+ shear, "
                        "unequal scales); homography (+ perspective: cameras not parallel). Needs 1, 2, 3, 4 points")
    p.add_argument("--check", type=Path, default=None,
                   help="where to draw the calibration check picture (default: next to the rig file, "
                        "<name>_check.png): the two views in alternate squares, marks as circles and crosses")
    p.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS, help=argparse.SUPPRESS)


def _pattern(text: str) -> tuple[int, int]:
    """argparse type of --board: COLSxROWS inner corners, each 2 or more."""
    try:
        cols, rows = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"give the inner corners across and down as COLSxROWS, e.g. 9x6; "
                                         f"got {text!r}") from None
    if min(cols, rows) < 2:
        raise argparse.ArgumentTypeError(f"a board has at least 2x2 inner corners, got {text}")
    return cols, rows


def _board_corners(images, paths, pattern) -> list:
    """Each image's chessboard corners (Nx2, in the detector's order); UserError naming an image without one."""
    from defusion.fusion.rig import find_board

    corners = []
    for image, path in zip(images, paths):
        found = find_board(image, pattern)
        if found is None:
            raise UserError(f"no {pattern[0]}x{pattern[1]} chessboard found in {path}: count the inner corners "
                            "(where four squares meet) across and down; the whole board must be in view, sharp, "
                            "and in the infrared heated or cooled against its background")
        corners.append(found)
    return corners


def run(args: argparse.Namespace) -> int:
    from defusion.fusion.color import to_float, to_uint8
    from defusion.fusion.rig import LOOSE_FIT_PX, Rig, map_points, mark_span, read_points
    from defusion.io.images import read_image, write_image

    if len(args.images) < 2:
        raise UserError("give one image from each camera: at least two (the first camera's, then the others)")
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
    images = [read_image(p, args.max_pixels) for p in args.images]
    sizes = [(im.shape[1], im.shape[0]) for im in images]
    if args.board is not None:
        from defusion.fusion.rig import match_board

        corners = _board_corners(images, args.images, args.board)
        points = [(corners[0], match_board(corners[0], found, args.board, args.motion)) for found in corners[1:]]
        sources = [f"the {args.board[0]}x{args.board[1]} board in {p.name}" for p in args.images[1:]]
    else:
        points = []
        for path in args.points:
            try:
                text = path.read_text()
            except OSError as exc:
                raise UserError(f"cannot read --points {path}: {exc.strerror or exc}") from None
            points.append(read_points(text, str(path)))
        sources = [str(p) for p in args.points]
    for (ref, src), path, size in zip(points, sources, sizes[1:]):
        for name, marks, (w, h) in (("first image", ref, sizes[0]), ("camera's image", src, size)):
            outside = [i + 1 for i, (x, y) in enumerate(marks) if not (-0.5 <= x <= w - 0.5 and -0.5 <= y <= h - 0.5)]
            if outside:
                raise UserError(f"{path}: point {outside[0]} lies outside the {name} ({w}x{h}); are the columns "
                                "x_ref, y_ref, x_cam, y_cam, and the images given in that order (the first camera's "
                                "first)?")
    rig = Rig.from_points(sizes[0], [(size, ref, src) for size, (ref, src) in zip(sizes[1:], points)], args.motion)
    fit, coverage = rig.residuals(points), rig.coverage()
    for index, (camera, (ref, src), error, seen) in enumerate(zip(rig.cameras, points, fit, coverage), start=2):
        distances = ((map_points(camera.array, ref) - src) ** 2).sum(axis=1) ** 0.5
        worst = int(distances.argmax())
        print(f"camera {index} ({args.images[index - 1].name}, {camera.size[0]}x{camera.size[1]}): {args.motion} "
              f"from {len(ref)} point pairs, fit error {error:.2f} px RMS (largest {distances[worst]:.2f} px, "
              f"point {worst + 1}); sees {100 * seen:.0f}% of camera 1's view")
        if len(ref) == RIG_MOTIONS_NEEDED[args.motion]:
            print(f"defusion: warning: camera {index}: {len(ref)} marks fix a {args.motion} exactly, so the fit error "
                  f"(0) cannot show a mis-click; mark {ENOUGH_MARKS} or more, spread over the image", file=sys.stderr)
        elif len(ref) < ENOUGH_MARKS:
            print(f"defusion: warning: camera {index}: only {len(ref)} marks; with {ENOUGH_MARKS} or more, spread over "
                  "the image, the fit error shows a mis-click and the rig is more accurate", file=sys.stderr)
        if error > LOOSE_FIT_PX:
            print(f"defusion: warning: camera {index}'s marks fit {_article(args.motion)} {args.motion} loosely "
                  f"({error:.1f} px RMS): check point {worst + 1} in {sources[index - 2]}, or try a richer "
                  "--motion", file=sys.stderr)
        span = mark_span(ref, sizes[0])
        if span < NARROW_SPAN:
            print(f"defusion: warning: camera {index}'s marks span only {100 * span:.0f}% of the image: the rig is "
                  "extrapolated beyond them; spread the marks over the image (or hold the board nearer)",
                  file=sys.stderr)
        if seen < LOW_COVERAGE:
            print(f"defusion: note: camera {index} sees {100 * seen:.0f}% of camera 1's view: the rest of the fused "
                  f"images will be camera 1's alone; to fuse the whole view, give the camera with the narrower view "
                  "first (the fused images then have its resolution)", file=sys.stderr)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    rig.save(args.output, [p.name for p in args.images], fit)
    check.parent.mkdir(parents=True, exist_ok=True)
    write_image(check, to_uint8(rig.check_image([to_float(im) for im in images], points)))
    names = " ".join(str(p) for p in args.images)
    print(f"wrote {args.output} and {check}; fuse with: defusion fuse {names} --rig {args.output} -o fused.png")
    return 0


EXPECTED_ERRORS = (ImageReadError, ValueError, OSError)

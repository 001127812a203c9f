"""``defusion fuse``'s arguments: its parser, and the refusals of combinations argparse cannot express
(said before any file is read)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from defusion.cli.errors import UserError
from defusion.cli.fuse.file_names import FOLDER_FORMATS
from defusion.cli.fuse.fused_settings import SETTINGS_FILE
from defusion.cli.fuse.path_checks import expand_patterns
from defusion.cli.options import add_fusion_options, add_model_options, add_onnx_option, positive_int, same_path
from defusion.fusion.choices import (INPUT_ORDERS, MFIFB_QABF_NETWORK, MFIFB_QABF_SOURCES, MFIFB_SOURCES_SPEEDUP,
                                     MOTIONS, PIXEL_SOURCES, STACK_ORDERS)
from defusion.io.formats import DEFAULT_JPEG_QUALITY, DEFAULT_MAX_PIXELS, FULL_CHROMA_QUALITY, QUALITY_SUFFIXES

HELP = ("fuse images (registered, or registered first with --align or --rig): A B [C ...] -o OUT, or --a DIR --b DIR "
        "-o OUTDIR (pairs), or --stacks DIR -o OUTDIR (a card of brackets or focus stacks)")
#: The file type --legend writes: lossless, so that its colours are the palette's own.
LEGEND_SUFFIX = ".png"
#: --group's and --gap's defaults: groups by capture time, a new one after a pause of over 2 s.
DEFAULT_GROUP = "auto"
DEFAULT_GAP = 2.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="*", type=Path,
                   help="two or more registered images (a bracket or focus stack: give them in order)")
    p.add_argument("-o", "--output", required=True, type=Path, help="output image, or output folder with --a/--b")
    p.add_argument("--a", dest="dir_a", type=Path, help="folder of first sources (pairs matched by file stem)")
    p.add_argument("--b", dest="dir_b", type=Path, help="folder of second sources")
    p.add_argument("--stacks", type=Path, metavar="DIR",
                   help="a folder of brackets or focus stacks shot one after another (a camera's card): each "
                        "group of shots fused into -o's folder as FIRST-LAST.png (FIRST-LAST_DATE-TIME.png where "
                        "another card's group, taken at another time by the EXIF of both, has that name; without "
                        "capture times, as after --no-metadata, it is written over: one -o per card); grouped by "
                        "capture time (--group auto) or in runs of N (--group N)")
    p.add_argument("--group", type=group_option, default=DEFAULT_GROUP, metavar="auto|N",
                   help="with --stacks: auto (default) starts a new group after a pause of over --gap seconds "
                        "between shots (EXIF capture and exposure times); N takes runs of N files in name order")
    p.add_argument("--gap", type=seconds_option, default=DEFAULT_GAP, metavar="SECONDS",
                   help="with --stacks and --group auto: the pause between shots that starts a new group (default 2)")
    add_model_options(p)
    add_onnx_option(p)
    add_fusion_options(p)
    p.add_argument("--components", type=Path,
                   help="also write the common and unique projections to this folder (two images only)")
    p.add_argument("--source-map", type=Path,
                   help="with --pixels sources (--task mff's default): also write which image each fused pixel came "
                        "from, black the first, white the last, grey levels between in the given order (a focus "
                        "stack's depth map); a folder with --a/--b or --stacks (one map per pair or group)")
    p.add_argument("--compare", type=Path, metavar="SHEET",
                   help="also write a contact sheet: the sources and the fused image side by side, labelled with "
                        "their file names and the fusion's options, each shrunk (a small picture, to judge the fusion "
                        "at a glance); JPEG, or PNG where SHEET ends in .png; a folder with --a/--b or --stacks (one "
                        "NAME.jpg per pair or group)")
    p.add_argument("--legend", type=Path, metavar="KEY.png",
                   help="with --palette: also write its colour key, as thermal cameras draw a scale bar: the "
                        "palette's colours labelled with the infrared values they stand for, low at the bottom, over "
                        "the span the fusion used (--palette-range, else the one measured and noted), in the 0-1 "
                        "values --palette-range takes and, for a 16-bit or float infrared frame, in its own counts "
                        "or values too (a PNG). With --a/--b or --stacks only with --palette-range: each pair's "
                        "colours would span that pair's own values, so one key would not fit the others; with it, "
                        "one key (0-1 values) fits every result")
    p.add_argument("--resize", action="store_true", help="resize other sources to the first one's size")
    p.add_argument("--stack", default="balanced", choices=STACK_ORDERS,
                   help="more than two images: balanced (default) fuses each half, then the two results; "
                        "sequential fuses ((1, 2), 3), ...")
    p.add_argument("--order", default=None, choices=INPUT_ORDERS,
                   help="the order the images are fused in: as given (default; visible then infrared, focus "
                        "stacks), or sorted by mean brightness; exposure (--task mef's default): a pair darker "
                        "first, more images brightest first, so a bracket's file order does not matter")
    p.add_argument("--align", default=None, choices=MOTIONS,
                   help="register the images onto one before fusing, for brackets and focus stacks shot by "
                        "hand: the first as given with --order given, else (sorted by brightness, as --task mef) "
                        "the best-exposed, whatever the files' order: translation, euclidean (+ rotation), affine "
                        "(+ scale, as focus breathing), homography (+ perspective). ECC registration, blind to exposure; not for infrared + "
                        "visible pairs (default: none, the images are registered)")
    p.add_argument("--deghost", action="store_true", default=None,
                   help="brackets with something moving (people, leaves): replace what moved between the images "
                        "by the best-exposed image's view of it, so it is fused once, not as a ghost (after --align)")
    p.add_argument("--pixels", default=None, choices=PIXEL_SOURCES,
                   help="where the fused pixels come from: network (default), the paper's reconstruction; "
                        "sources (--task mff's default), each pixel from the source the network's decomposition "
                        "shows in focus there, for focus stacks: sharper (MFIFB Qabf "
                        f"{MFIFB_QABF_SOURCES:.3f} at --scale 1, against the reconstruction's "
                        f"{MFIFB_QABF_NETWORK:.3f} at --scale 2), about {MFIFB_SOURCES_SPEEDUP}x faster, --scale 1 "
                        "unless given; not for infrared + visible pairs or "
                        "exposures (docs/benchmarks.md). --task mff --pixels network keeps the reconstruction")
    p.add_argument("--format", default="png", choices=FOLDER_FORMATS,
                   help="with --a/--b or --stacks: the fused images' file type (default png; png and tif keep 16 "
                        "bits, jpg is smaller)")
    p.add_argument("--skip-existing", action="store_true",
                   help="with --a/--b or --stacks: leave pairs (or groups) whose fused image is already in the "
                        "output folder (to go on after an interruption or a full disk) instead of fusing them again; "
                        f"refused where they were fused with other settings (the folder's {SETTINGS_FILE} records "
                        "them)")
    p.add_argument("--quality", type=int, default=None, metavar="Q",
                   help=f"JPEG and WebP output's quality, 1-100: JPEG's default {DEFAULT_JPEG_QUALITY} (from "
                        f"{FULL_CHROMA_QUALITY} up colour is kept at full resolution, 4:4:4); WebP is lossless "
                        "without --quality and lossy at Q with it (smaller files to share)")
    p.add_argument("--no-metadata", action="store_true",
                   help="do not copy the sources' colour profile and EXIF into the fused image (by default the "
                        "first image's EXIF, upright, and the first colour image's ICC profile, the others "
                        "converted to it, go into PNG, JPEG, WebP and TIFF; with this, colour sources are made "
                        "sRGB)")
    p.add_argument("--max-pixels", type=positive_int, default=DEFAULT_MAX_PIXELS,
                   help=f"refuse inputs with more pixels (default {DEFAULT_MAX_PIXELS:,})")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def group_option(text: str) -> str | int:
    """argparse type of --group: "auto" or a number of shots of 2 or more.

    Example:
        >>> group_option("auto"), group_option("3")
        ('auto', 3)
        >>> group_option("1")
        Traceback (most recent call last):
        ...
        argparse.ArgumentTypeError: a group needs at least 2 shots, got 1
    """
    if text == "auto":
        return text
    try:
        size = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be auto or a number of shots, got {text!r}") from None
    if size < 2:
        raise argparse.ArgumentTypeError(f"a group needs at least 2 shots, got {size}")
    return size


def seconds_option(text: str) -> float:
    """argparse type of --gap: a number of seconds, 0 or more.

    Example:
        >>> seconds_option("1.5"), seconds_option("0")
        (1.5, 0.0)
        >>> seconds_option("2s")
        Traceback (most recent call last):
        ...
        argparse.ArgumentTypeError: must be a number of seconds, got '2s'
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, got {text}")
    return value


def check_combinations(args: argparse.Namespace) -> tuple[bool, bool]:
    """Refuse options that do not go together (each its own line, the first found), and warn of a
    --quality that does nothing. Returns (pairs, stacks): whether this run fuses the pairs of --a/--b
    folders, or the groups of a --stacks folder (neither: the images given)."""
    pairs = args.dir_a is not None or args.dir_b is not None
    stacks = args.stacks is not None
    folders = pairs or stacks
    if pairs and (args.dir_a is None or args.dir_b is None):
        raise UserError("folder mode needs both --a DIR and --b DIR")
    if pairs and stacks:
        raise UserError("give either --a/--b folders of pairs or a --stacks folder, not both")
    if folders and args.images:
        raise UserError(f"give either image files or {'--stacks' if stacks else '--a/--b'} folders, not both")
    if not folders:
        given = list(args.images)
        args.images = expand_patterns(given)  # before the count: 'shots/*.jpg' from cmd or PowerShell is many
        check_not_folders(args.images)
    if not folders and len(args.images) < 2:
        matched = [str(p) for p in given if p not in args.images]
        raise UserError("give at least two images to fuse (or --a DIR --b DIR, or --stacks DIR)"
                        + (f"; {matched[0]} matches only {args.images[0]}" if matched else ""))
    if args.skip_existing and not folders:
        raise UserError("--skip-existing is for folders (--a DIR --b DIR, --stacks DIR): it leaves those already fused")
    if stacks and args.components:
        raise UserError("--components decomposes pairs; --stacks fuses groups of any size (use --a/--b for pairs)")
    if stacks and args.rig:
        raise UserError("--rig maps a camera rig's pairs; --stacks fuses one camera's brackets (use --a/--b)")
    if not folders and args.format != "png":
        raise UserError("--format is for folders (--a/--b, --stacks); a single output's suffix sets its type")
    if args.quality is not None and not 1 <= args.quality <= 100:
        raise UserError(f"--quality must be from 1 to 100, got {args.quality}")
    suffix = f".{args.format}" if folders else args.output.suffix.lower()
    if args.quality is not None and suffix not in QUALITY_SUFFIXES:
        print("defusion: warning: --quality sets JPEG and WebP output's quality; this output is neither",
              file=sys.stderr)
    if not stacks and (args.group != DEFAULT_GROUP or args.gap != DEFAULT_GAP):
        raise UserError("--group and --gap are for --stacks DIR: they split a folder of shots into brackets")
    if args.resize and args.rig:
        raise UserError("--resize and --rig both bring the images onto the first's grid: give one (--rig, for a "
                        "calibrated camera rig, also corrects its cameras' differing views)")
    check_legend(args, folders)
    return pairs, stacks


def check_legend(args: argparse.Namespace, folders: bool) -> None:
    """Refuse a --legend that cannot be written as asked, before any work: without a --palette (no colours
    to key), in a folder run without --palette-range (each pair spans its own values: no one key fits),
    not a PNG, a folder, or one of the sources or -o."""
    legend = getattr(args, "legend", None)
    if legend is None:
        return
    if getattr(args, "palette", None) in (None, "none"):
        raise UserError("--legend draws the colour key of a --palette: give --palette with one of its colour "
                        "maps (inferno, for one)")
    if folders and getattr(args, "palette_range", None) is None:
        raise UserError("--legend in a folder run needs --palette-range LOW,HIGH: without it each pair's colours "
                        "span that pair's own values, so one key would not fit the others")
    if legend.suffix.lower() != LEGEND_SUFFIX:
        raise UserError(f"--legend {legend}: the key is written as PNG; give a path ending in {LEGEND_SUFFIX}")
    if legend.is_dir():
        raise UserError(f"--legend {legend}: is a folder; give a file path such as {legend / 'legend.png'}")
    others = [("-o", args.output), ("--compare", args.compare), ("--source-map", args.source_map)]
    taken = [option for option, path in others if path is not None and same_path(legend, path)]
    if taken or any(p.exists() and same_path(legend, p) for p in args.images):
        raise UserError(f"--legend {legend}: is {f'also {taken[0]}' if taken else 'one of the inputs'}; give the "
                        "key a path of its own")
    from defusion.io.writing import check_path, check_writable_folder

    try:
        check_path(legend)
        check_writable_folder(legend.parent)
    except OSError as exc:  # read-only, not allowed: said now, not after the fusion
        raise UserError(f"--legend {legend}: {exc}") from None


def check_not_folders(images: list[Path]) -> None:
    """Refuse folders given as images, saying which option fuses what they hold: --stacks a card's
    brackets or stacks, --a/--b two folders' pairs."""
    folders = [p for p in images if p.is_dir()]
    if not folders:
        return
    if len(folders) == 2 and len(images) == 2:
        a, b = folders
        raise UserError(f"{a} and {b} are folders: to fuse the pairs in them (matched by file name) use --a {a} "
                        f"--b {b}; to fuse the brackets or stacks in one use --stacks {a}")
    first = folders[0]
    what = f"{first} is a folder" if len(folders) == 1 else f"{', '.join(map(str, folders))} are folders"
    raise UserError(f"{what}: to fuse the brackets or stacks in {'it' if len(folders) == 1 else 'one'} use "
                    f"--stacks {first}" + ("; or give image files" if len(images) > 1 else ""))

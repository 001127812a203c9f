"""``defusion fuse``: fuse a pair (or more) of images, or every pair in two folders."""

from __future__ import annotations

import argparse
import errno
import itertools
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable

# Only light modules here (no PyTorch, OpenCV, nor numpy): `defusion --help` imports this one to build its
# parser; the others load in the functions that use them.
from defusion.cli.errors import EXIT_FAILED, UserError
from defusion.cli.job_size import (MANY_PASSES, PEAK_MEMORY_HINT, available_memory, describe_folder_passes,
                                   describe_memory, describe_passes, network_passes, passes_at_one, peak_memory)
from defusion.cli.options import (FUSION_OPTION_NAMES, add_fusion_options, add_model_options, add_onnx_option,
                                  check_onnx_options, check_tile, fusion_options, make_fuser, positive_int,
                                  same_path)
from defusion.cli.outputs import missing_folder, said_made
from defusion.fusion.choices import MOTIONS, PIXEL_SOURCES
from defusion.fusion.errors import SizeMismatchError
from defusion.io.errors import ImageReadError
from defusion.io.formats import (DEFAULT_JPEG_QUALITY, DEFAULT_MAX_PIXELS, FULL_CHROMA_QUALITY, SIXTEEN_BIT_SUFFIXES,
                                 WRITABLE_SUFFIXES)
from defusion.io.notes import plural
from defusion.model.errors import WeightsError

if TYPE_CHECKING:
    import numpy as np

    from defusion.fusion.fuser import Decomposition, Fusion
    from defusion.io.shots import ShotSettings

HELP = ("fuse images (registered, or registered first with --align or --rig): A B [C ...] -o OUT, or --a DIR --b DIR "
        "-o OUTDIR (pairs), or --stacks DIR -o OUTDIR (a card of brackets or focus stacks)")


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
    p.add_argument("--group", type=_group, default="auto", metavar="auto|N",
                   help="with --stacks: auto (default) starts a new group after a pause of over --gap seconds "
                        "between shots (EXIF capture and exposure times); N takes runs of N files in name order")
    p.add_argument("--gap", type=_seconds, default=2.0, metavar="SECONDS",
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
    p.add_argument("--resize", action="store_true", help="resize other sources to the first one's size")
    p.add_argument("--stack", default="balanced", choices=("balanced", "sequential"),
                   help="more than two images: balanced (default) fuses each half, then the two results; "
                        "sequential fuses ((1, 2), 3), ...")
    p.add_argument("--order", default=None, choices=("given", "bright-first", "dark-first", "exposure"),
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
                        "shows in focus there, for focus stacks: sharper (MFIFB Qabf 0.780 at --scale 1, against "
                        "0.684), about 6x faster, --scale 1 unless given; not for infrared + visible pairs or "
                        "exposures (docs/benchmarks.md). --task mff --pixels network keeps the reconstruction")
    p.add_argument("--format", default="png", choices=FOLDER_FORMATS,
                   help="with --a/--b or --stacks: the fused images' file type (default png; png and tif keep 16 "
                        "bits, jpg is smaller)")
    p.add_argument("--skip-existing", action="store_true",
                   help="with --a/--b or --stacks: leave pairs (or groups) whose fused image is already in the "
                        "output folder (to go on after an interruption or a full disk) instead of fusing them again")
    p.add_argument("--quality", type=int, default=DEFAULT_JPEG_QUALITY, metavar="Q",
                   help=f"JPEG output's quality, 1-100 (default {DEFAULT_JPEG_QUALITY}; from {FULL_CHROMA_QUALITY} up "
                        "colour is kept at full resolution, 4:4:4)")
    p.add_argument("--no-metadata", action="store_true",
                   help="do not copy the sources' colour profile and EXIF into the fused image (by default the "
                        "first image's EXIF, upright, and the first fitting ICC profile go into PNG, JPEG, WebP "
                        "and TIFF)")
    p.add_argument("--max-pixels", type=positive_int, default=DEFAULT_MAX_PIXELS,
                   help=f"refuse inputs with more pixels (default {DEFAULT_MAX_PIXELS:,})")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


#: File types folder modes write (--format).
FOLDER_FORMATS = ("png", "tif", "jpg")
#: The images --components writes, as NAME.<suffix> (PREFIX_NAME.<suffix> in folder modes), and the
#: one it adds with --pixels sources (the decision map).
COMPONENT_PARTS = ("common", "unique_a", "unique_b")
WEIGHT_PART = "weight_a"
#: Write errors that are the output's, not one pair's (a full disk or quota, a read-only file system): a
#: folder mode stops at the first rather than fuse every later pair only to fail to write it.
STORAGE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)
#: How a --stacks group's capture time is added to its name where another card's group took it
#: (strftime), and how a note says a capture time.
NAME_TIME_FORMAT = "%Y%m%d-%H%M%S"
SAID_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
#: EXIF orientations that turn an image a quarter (read upright, its width and height swap).
QUARTER_TURNS = (5, 6, 7, 8)



def _component_suffix(out: Path) -> str:
    """The components' file type: the fused image's where it keeps 16 bits, else PNG."""
    return out.suffix if out.suffix.lower() in (".png", ".tif", ".tiff") else ".png"


def _group(text: str) -> str | int:
    """argparse type of --group: "auto" or a number of shots of 2 or more."""
    if text == "auto":
        return text
    try:
        size = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be auto or a number of shots, got {text!r}") from None
    if size < 2:
        raise argparse.ArgumentTypeError(f"a group needs at least 2 shots, got {size}")
    return size


def _seconds(text: str) -> float:
    """argparse type of --gap: a number of seconds, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, got {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, got {text}")
    return value


def _load(paths: list[Path], args: argparse.Namespace) -> list[np.ndarray]:
    from defusion.io.images import read_image
    from defusion.io.resize import resize_to_first

    images = [read_image(p, args.max_pixels) for p in paths]
    _note_floats(paths, args)
    _note_infrared_first(paths, images, args)
    if not args.resize and getattr(args, "rig", None) is None:
        _check_turned(paths, [im.shape[:2] for im in images])
    if args.resize:
        h, w = images[0].shape[:2]
        for path, image in zip(paths[1:], images[1:]):
            _note_aspect_change(path, image, h, w)
        _note_resized(paths, images, args)
        images = resize_to_first(images)
    return images


def _note_floats(paths: list[Path], args: argparse.Namespace) -> None:
    """Say which sources hold float values outside [0, 1] (a radiometric thermal frame in degrees) that
    reading stretched from their minimum to their maximum (io.images.float_stretched: the web UI's rule
    and words), whatever --stretch says: one line each for a single fusion; in folder modes the first
    such source only, once, as a line per pair would bury the progress bar."""
    from defusion.io.images import describe_float_stretch, float_span
    from defusion.io.notes import note

    if getattr(args, "_floats_noted", False):
        return
    folders = getattr(args, "dir_a", None) is not None or getattr(args, "stacks", None) is not None
    rest = "; other float sources are stretched alike, unsaid" if folders else ""
    for name, path in zip(_names(paths), paths):
        said = describe_float_stretch(name, float_span(path, args.max_pixels))
        if said is None:
            continue
        note(f"{said} (--stretch does not apply to float frames{rest})")
        if folders:
            args._floats_noted = True
            return


def _folders(args: argparse.Namespace) -> bool:
    """Whether this run fuses many pairs or groups (--a/--b or --stacks), whose notes are said once."""
    return getattr(args, "dir_a", None) is not None or getattr(args, "stacks", None) is not None


def _note_infrared_first(paths: list[Path], images: list[np.ndarray], args: argparse.Namespace) -> None:
    """Say, once, that an infrared + visible pair (--task ivf, or a --palette) came infrared first:
    the output takes the first image's size, and --resize shrinks the visible image to the thermal
    frame's (thermal_notes.describe_order: the API's rule and words). ``images`` as read."""
    from defusion.fusion.thermal_notes import describe_order
    from defusion.io.notes import note

    thermal = args.task == "ivf" or getattr(args, "palette", None) not in (None, "none")
    if not thermal or getattr(args, "_order_noted", False):
        return
    named = getattr(args, "infrared", None)  # --infrared N (1-based) settles which is the infrared image
    said = describe_order(_names(paths), images, resize="--resize" if args.resize else None,
                          infrared=None if named is None else named - 1)
    if said is not None:
        note(said + (" (--a the visible folder, --b the infrared one)" if getattr(args, "dir_a", None) else ""))
        args._order_noted = True


def _note_unstretched(paths: list[Path], images: list[np.ndarray], args: argparse.Namespace) -> None:
    """Say which sources --stretch none leaves as raw sensor frames, nearly flat (the fused image is
    then close to the other source alone): one line each for a single fusion, the first pair's only
    in folder modes (thermal_notes.describe_unstretched: the API's rule and words)."""
    from defusion.fusion.thermal_notes import describe_unstretched
    from defusion.io.notes import note

    if getattr(args, "_unstretched_noted", False):
        return
    said = describe_unstretched(_names(paths), images, option="--stretch ")
    for line in said:
        note(line + ("; other pairs alike, unsaid" if _folders(args) else ""))
    args._unstretched_noted = bool(said) and _folders(args)


def _note_resized(paths: list[Path], images: list[np.ndarray], args: argparse.Namespace) -> None:
    """Say which sources --resize brings to the first's size, and from what size: one line naming
    each for a single fusion; in folder modes the first pair (or group) resized only, once, as a
    line per pair would bury the progress bar."""
    from defusion.io.notes import note
    from defusion.io.resize import describe_resize

    said = describe_resize(_names(paths), images)
    if said is None or getattr(args, "_resize_noted", False):
        return
    folders = args.dir_a is not None or args.stacks is not None
    args._resize_noted = folders
    rest = "; other sources of another size are resized alike, unsaid" if folders else ""
    note(f"--resize {said}{rest}")


def _check_turned(paths: list[Path], sizes: list[tuple[int, int]]) -> None:
    """Refuse shots of which some are turned a quarter against the others (their width and height
    swapped), naming them: most often one shot of a bracket the camera tagged as rotated (EXIF
    orientation) unlike the others, read upright turned. --resize would stretch it into a turned
    ghost, so it is not suggested; sizes (height, width, as read) that differ otherwise are the
    fusion core's to refuse."""
    from defusion.io.notes import listed
    from defusion.io.resize import turned_quarter
    from defusion.io.shots import exif_orientation

    found = turned_quarter(sizes)
    if found is None:
        return
    common, turned = found
    names = _names(paths)
    others = [i for i in range(len(sizes)) if i not in turned]
    tags = [exif_orientation(p) for p in paths]
    h, w = common
    one = len(turned) == 1
    they, it = listed([names[i] for i in turned]), ("it" if one else "them")
    mismatch = f"read upright {'it is' if one else 'they are'} {h}x{w}, the others {w}x{h} (WxH)"
    turned_tags, other_tags = {tags[i] for i in turned}, {tags[i] for i in others}
    if turned_tags.isdisjoint(other_tags):  # the tags tell them apart: the camera's, not the pixels'
        theirs = ", ".join(map(str, sorted(other_tags)))
        how = f" (exiftool -n -Orientation={theirs} {paths[turned[0]]})" if one and len(other_tags) == 1 else ""
        quarter = " (turned a quarter)" if turned_tags <= set(QUARTER_TURNS) else ""
        tagged = ", ".join(map(str, sorted(turned_tags)))
        raise SizeMismatchError(
            f"{they} {'is' if one else 'are'} tagged with EXIF orientation {tagged}{quarter} unlike "
            f"{listed([names[i] for i in others])} (orientation {theirs}): {mismatch}; set {'its' if one else 'their'} "
            f"orientation tag to the others'{how} or turn {it} to match them, and fuse again")
    raise SizeMismatchError(f"{they} {'is' if one else 'are'} turned a quarter against the others: {mismatch}; "
                            f"turn {it} to match them and fuse again")


def _note_aspect_change(path: Path, image: np.ndarray, h: int, w: int) -> None:
    """Say when --resize stretches ``image`` onto an h x w grid of another shape (it does not crop)."""
    from tqdm import tqdm

    from defusion.io.resize import changes_aspect

    ih, iw = image.shape[:2]
    if changes_aspect(ih, iw, h, w):
        tqdm.write(f"defusion: note: --resize changes {path}'s aspect ratio (from {iw}x{ih} to {w}x{h}, WxH): "
                   "it is stretched, not cropped", file=sys.stderr)


def _tile_progress(fuser, images: list[np.ndarray], args: argparse.Namespace, nested: bool = False):
    """A progress bar over network passes when a fusion takes several (tiles, >2 inputs); ``nested``
    puts it under a folder's bar (a large bracket's minutes show as they pass)."""
    from tqdm import tqdm

    per_fusion = fuser.tiles_for(*images[0].shape[:2])
    passes = per_fusion * (len(images) - 1)
    if passes < 2 or args.no_progress:
        return None
    unit = "tile" if per_fusion > 1 else "pair"  # untiled stacks count their pairwise fusions
    return tqdm(total=passes, desc=f"{unit}s", unit=unit, file=sys.stderr, leave=False, position=int(nested))


def _fuse_one(fuser, paths: list[Path], out: Path, args: argparse.Namespace, stem: str | None = None,
              show_tiles: bool = False, nested: bool = False, notes: bool = False) -> Fusion | Decomposition | None:
    """Fuse ``paths`` into ``out``; ``notes`` (a single fusion, not a folder's many) says what --align
    and --deghost found. Returns the core's whole result where --align or --deghost ran (what they
    found, for a folder's summary), else None."""
    from defusion.io.writing import write_image

    images = _load(paths, args)
    if notes and not getattr(args, "_size_said", False):  # a header that did not tell (a camera raw file)
        _say_size(args, fuser.options, *images[0].shape[:2], len(images))
    if fuser.options.stretch == "auto":
        _note_stretched(paths, images, fuser.options.stretch_shared)
    elif fuser.options.stretch == "none":
        _note_unstretched(paths, images, args)
    palette_guess = fuser.options.palette != "none" and fuser.options.infrared is None
    if palette_guess and not getattr(args, "_infrared_noted", False):
        _note_infrared(paths, images, fuser)
        args._infrared_noted = True
    registering = fuser.options.align != "none" or fuser.options.deghost
    bar = _tile_progress(fuser, images, args, nested) if show_tiles else None
    try:
        fused, found = _fuse_images(fuser, images, out, args, stem, bar.update if bar else None, registering)
    except SizeMismatchError:
        if len({im.shape[:2] for im in images}) == 1:  # not the sizes the advice is about
            raise
        raise SizeMismatchError(_size_advice(paths, [im.shape[:2] for im in images], args)) from None
    finally:  # on Ctrl-C too: an open bar would glue what is said next to its line
        if bar:
            bar.close()
    if notes and registering and found is not None:
        _note_registration(paths, found, fuser.options.align)
    metadata = None if args.no_metadata else _metadata_for(paths, fused, out)
    write_image(out, fused, quality=args.quality, metadata=metadata)
    if fused.dtype == "uint16" and out.suffix.lower() not in SIXTEEN_BIT_SUFFIXES:
        _warn_eight_bits(out, args, folder=stem is not None)
    return found if registering else None


def _size_advice(paths: list[Path], sizes: list[tuple[int, int]], args: argparse.Namespace) -> str:
    """The fusion core's refusal of sources of different ``sizes`` (height, width), in the CLI's
    words: the files and their sizes, --resize for one camera's shots and, for two cameras side by
    side, a rig calibrated once (defusion calibrate, then --rig; not with --stacks, one camera's shots)."""
    from defusion.io.notes import listed

    names = _names(paths)
    h, w = sizes[0]
    others = [f"{name} ({sw}x{sh})" for name, (sh, sw) in zip(names[1:], sizes[1:]) if (sh, sw) != (h, w)]
    rig = ("" if args.stacks is not None else "; two cameras side by side (infrared + visible): calibrate them "
           "once with defusion calibrate, then add --rig rig.json")
    return (f"{listed(others)} {'differs' if len(others) == 1 else 'differ'} in size from {names[0]} ({w}x{h}, "
            f"WxH): fusion needs registered images of one size; one camera's shots: add --resize (the others "
            f"resized to the first's size){rig}")


def _check_header_sizes(args: argparse.Namespace) -> dict[Path, tuple[int, int] | None]:
    """Refuse sources of different sizes from their headers (nothing decoded), before the model loads
    (tens of seconds on a busy machine), in the words fusing them would refuse them in. Only what
    fusing would surely refuse: not with --resize or --rig (they take other sizes), nor where a header
    does not say (a camera raw file, a damaged one), is over --max-pixels (reading refuses it first) or
    differs only by a quarter turn (a PNG's EXIF orientation may follow its pixels: reading tells).
    Returns the (width, height) each header read gave (None: it did not tell), for the size note
    (:func:`_say_size_from_header`) not to read one again; none read with --resize or --rig."""
    from defusion.io.images import header_size

    if args.resize or getattr(args, "rig", None) is not None:
        return {}
    read = {path: header_size(path) for path in args.images}  # (width, height), or None
    sizes = [read[path] for path in args.images]
    if any(size is None or size[0] * size[1] > args.max_pixels for size in sizes):
        return read
    if len({tuple(sorted(size)) for size in sizes}) > 1:
        raise SizeMismatchError(_size_advice(args.images, [(h, w) for w, h in sizes], args))
    return read


def _warn_eight_bits(out: Path, args: argparse.Namespace, folder: bool) -> None:
    """Say that ``out``'s type holds 8 bits and a 16-bit result was reduced: once for a folder run
    (each group's would repeat it), with the --format that keeps 16 bits."""
    from defusion.io.notes import warn

    if not folder:
        print(f"defusion: warning: {out.suffix} holds 8 bits; the 16-bit result was reduced "
              f"(write {' or '.join(SIXTEEN_BIT_SUFFIXES[:2])} to keep 16 bits)", file=sys.stderr)
    elif not getattr(args, "_eight_bits_warned", False):
        args._eight_bits_warned = True
        keeps = " or ".join(f"--format {kind}" for kind in FOLDER_FORMATS if f".{kind}" in SIXTEEN_BIT_SUFFIXES)
        warn(f"--format {args.format} holds 8 bits; the 16-bit results are reduced ({keeps} keeps 16 bits)")


def _fuse_images(fuser, images: list[np.ndarray], out: Path, args: argparse.Namespace, stem: str | None,
                 on_tile: Callable[[], object] | None,
                 whole: bool = False) -> tuple[np.ndarray, Fusion | Decomposition | None]:
    """The fused image of ``images`` and, with --components, --source-map or ``whole``, the core's whole
    result (what registration found: ``warps``, ``ghosts``); the components and the source map are
    written where asked for."""
    from defusion.fusion.color import to_uint8
    from defusion.io.writing import write_image

    if args.components:
        if len(images) != 2:
            raise UserError("--components needs exactly two images")
        parts = fuser.decompose(*images, on_tile=on_tile)
        prefix = f"{stem}_" if stem else ""
        suffix = _component_suffix(out)
        for name, image in zip(COMPONENT_PARTS, (parts.common, parts.unique_a, parts.unique_b)):
            write_image(args.components / f"{prefix}{name}{suffix}", image)
        if parts.weight_a is not None:  # --pixels sources: the decision map, white where a's pixels are
            write_image(args.components / f"{prefix}{WEIGHT_PART}{suffix}", to_uint8(parts.weight_a))
        if args.source_map:
            _write_source_map(args.source_map, [parts.weight_a, 1 - parts.weight_a], out, stem)
        return parts.fused, parts
    if args.source_map or whole:  # fuse's and fuse_with_weights's pixels, with what registration found
        result = fuser.fusion(*images, on_tile=on_tile)
        if args.source_map:
            _write_source_map(args.source_map, result.weights, out, stem)
        return result.fused, result
    return fuser.fuse(*images, on_tile=on_tile), None


def _note_registration(paths: list[Path], found: Fusion | Decomposition, motion: str) -> None:
    """Say what --align found and how much --deghost replaced, a line each, naming the files."""
    from defusion.fusion.align import describe_alignment
    from defusion.fusion.deghost import describe_ghosts
    from defusion.io.notes import note

    names = _names(paths)
    for line in (describe_alignment(names, found.warps, found.frame, found.fused.shape[:2], motion),
                 describe_ghosts(names, found.ghosts)):
        if line:
            note(line)


def _names(paths: list[Path]) -> list[str]:
    """The files' names, or their paths as given where two share a name (a/x.png, b/x.png)."""
    names = [p.name for p in paths]
    return names if len(set(names)) == len(names) else [str(p) for p in paths]


def _registration_extent(found: Fusion | Decomposition) -> tuple[float | None, float | None]:
    """How far --align moved the farthest-moved source of one fusion (px, its farthest corner: a
    focus stack's breathing moves corners, not the centre; None without alignment) and
    the largest share of a source's pixels --deghost replaced (None without deghosting): all a folder
    run keeps of each fusion's result, so a long run's memory does not grow with it."""
    from defusion.fusion.align import warp_extent

    size = found.fused.shape[:2]
    shifts = [warp_extent(w, *size).corners for w in found.warps if w is not None]
    return (max(shifts) if shifts else None), (max(found.ghosts) if found.ghosts else None)


def _registration_summary(found: dict[str, tuple[float | None, float | None]], unit: str, motion: str
                          ) -> list[str]:
    """A line each on what --align and --deghost found over a folder run's fusions (``found``: name ->
    :func:`_registration_extent`; ``unit``: "pairs" or "groups"), naming the one where they moved or
    replaced most, so a registration that went astray can be looked at.

    Example:
        >>> found = {"IMG_1": (0.5, 0.0), "IMG_4": (6.0, 0.031), "IMG_7": (1.5, 0.00004)}
        >>> for line in _registration_summary(found, "groups", "euclidean"):
        ...     print(line)
        aligned 3 groups: corners moved up to 6.0 px (IMG_4), median 1.5 px
        deghost replaced up to 3.1% of a source's pixels (IMG_4); nothing moved in 2 of 3 groups
        >>> _registration_summary({"a": (None, 0.0)}, "pairs", "none")
        ['deghost found nothing that moved in 1 pair']
        >>> _registration_summary({"a": (None, 0.2)}, "pairs", "none")
        ["deghost replaced up to 20.0% of a source's pixels (a); nothing moved in 0 of 1 pair"]
    """
    import numpy as np

    lines = []
    shifts = {name: shift for name, (shift, _) in found.items() if shift is not None}
    if shifts:
        worst = max(shifts, key=shifts.get)
        what = "shifts" if motion == "translation" else "corners moved"  # as describe_alignment says it
        lines.append(f"aligned {plural(len(shifts), unit[:-1])}: {what} up to {shifts[worst]:.1f} px ({worst}), "
                     f"median {float(np.median(list(shifts.values()))):.1f} px")
    ghosts = {name: ghost for name, (_, ghost) in found.items() if ghost is not None}
    if ghosts:
        worst = max(ghosts, key=ghosts.get)
        still = sum(f"{share:.1%}" == f"{0:.1%}" for share in ghosts.values())  # as describe_ghosts rounds
        if still == len(ghosts):
            lines.append(f"deghost found nothing that moved in {plural(len(ghosts), unit[:-1])}")
        else:
            lines.append(f"deghost replaced up to {ghosts[worst]:.1%} of a source's pixels ({worst}); "
                         f"nothing moved in {still} of {plural(len(ghosts), unit[:-1])}")
    return lines


def _reconstruction_options(args: argparse.Namespace, pixels: str) -> list[str]:
    """The options given that shape only the network's reconstruction (--unique-gain, --detail-gain)
    where the fused pixels come from the sources by --task's default (``pixels``, as the options
    resolved it, and no --pixels given): the result then takes nothing from them. Not --color: the
    colour mode changes what the network sees, and so the decision map that picks the pixels.

    Example:
        >>> given = argparse.Namespace(pixels=None, unique_gain=1.0, detail_gain=None, color="rgb")
        >>> _reconstruction_options(given, "sources"), _reconstruction_options(given, "network")
        (['--unique-gain'], [])
    """
    if args.pixels is not None or pixels != "sources":
        return []
    given = {"--unique-gain": args.unique_gain is not None, "--detail-gain": args.detail_gain is not None}
    return [option for option, on in given.items() if on]


def _note_reconstruction_options(args: argparse.Namespace, pixels: str) -> None:
    """Say, once, that the reconstruction's options given do nothing with --task's pixels from the sources."""
    from defusion.io.notes import note

    given = _reconstruction_options(args, pixels)
    if given:
        note(f"{', '.join(given)} shape{'s' if len(given) == 1 else ''} the network's reconstruction, but --task "
             f"{args.task} takes the fused pixels from the sources: add --pixels network for the network's fusion "
             "(the paper's)")


def _note_deghost_on_focus(args: argparse.Namespace, pixels: str) -> None:
    """Say, once, that --deghost blurs a focus stack (--task mff, or pixels from the sources): a
    focus change looks like motion to it (deghost.deghost_focus_note: the web page's words)."""
    from defusion.fusion.deghost import deghost_focus_note
    from defusion.io.notes import note

    line = deghost_focus_note("--deghost", args.task, pixels) if getattr(args, "deghost", None) else None
    if line:
        note(line)


def _note_shots(args: argparse.Namespace, groups: list[list[Path]], pixels: str) -> dict[Path, tuple[int, int] | None]:
    """What the shots' EXIF says of the options given, before the model loads and the fusion starts
    (a long run can be stopped and started right): pixels from the sources on an exposure bracket,
    else a bracket or a focus stack fused without --task. Each shot's settings are read once, and only
    where a line could be said (--task given with the network's pixels: none). Returns the (width,
    height) the settings read of each shot (None: unknown), for the size note not to read it again."""
    from defusion.io.shots import group_settings

    if not _one_camera(args) or (args.task is not None and pixels != "sources"):
        return {}
    settings = [group_settings(group) for group in groups]
    said = _warn_pixels_on_bracket(args, groups, settings, pixels) or _note_bracket(args, groups, settings)
    said = _note_focus_stack(args, groups, settings) or said
    if not said:
        _note_many_without_task(args, groups)
    return {path: shot.size for group, shots in zip(groups, settings) for path, shot in zip(group, shots)}


#: What fusing more than two images at the general defaults is told, where no EXIF said what they are.
MANY_WITHOUT_TASK = ("{count} images fused at the general defaults (made for any pair of images): for an "
                     "exposure bracket add --task mef, for a focus stack --task mff")


def _note_many_without_task(args: argparse.Namespace, groups: list[list[Path]]) -> None:
    """Suggest a task, once, where a group of more than two images is fused with no --task nor --pixels
    and no EXIF told what they are (PNGs, exported frames): three or more images are mostly a bracket
    or a focus stack, which the general defaults fuse brighter and softer than their tasks'."""
    from defusion.io.notes import note

    if args.task is not None or getattr(args, "pixels", None) is not None or not _one_camera(args):
        return
    largest = max((len(group) for group in groups), default=0)
    if largest > 2:
        note(MANY_WITHOUT_TASK.format(count=largest if len(groups) == 1 else f"groups of up to {largest}"))


def _one_camera(args: argparse.Namespace) -> bool:
    """Whether the options leave the shots one camera's: --palette, --rig and --infrared say they are
    an infrared + visible pair (or a rig's cameras), each camera exposing for its own sensor."""
    return getattr(args, "palette", None) in (None, "none") and getattr(args, "rig", None) is None and \
        getattr(args, "infrared", None) is None


def _exif_shows(groups: list[list[Path]], found: list[str], one: str, many: str) -> str:
    """The start of a line on what the EXIF shows: of a single group's files, ``one``; else how many
    of the groups show ``many``, naming them (``found``: their names)."""
    from defusion.io.notes import listed
    from defusion.io.shots import exif_shows

    if len(groups) == 1:
        return exif_shows(_names(groups[0]), one)
    return f"the EXIF of {len(found)} of {len(groups)} groups shows {many} ({listed(found)})"


def _brackets(groups: list[list[Path]], settings: list[list[ShotSettings]]) -> list[str]:
    """The names of the groups whose ``settings`` (:func:`defusion.io.shots.group_settings`, one list
    per group) show an exposure bracket (:func:`defusion.io.shots.shows_exposure_bracket`)."""
    from defusion.io.shots import group_name, shows_exposure_bracket

    return [group_name(group) for group, shots in zip(groups, settings) if shows_exposure_bracket(shots)]


def _note_bracket(args: argparse.Namespace, groups: list[list[Path]], settings: list[list[ShotSettings]]) -> bool:
    """Suggest --task mef, once, where no --task was given and a group's EXIF shows an exposure
    bracket (:func:`_brackets`): the general defaults blow out its highlights (21% of a 3-shot
    bracket near white against 1.6% with --task mef). Never with --palette, --rig or --infrared: an
    infrared + visible pair (or a rig's cameras), each camera exposing for its own sensor, is no bracket.
    Whether it said so."""
    from defusion.io.notes import note
    from defusion.io.shots import bracket_advice

    if args.task is not None or not _one_camera(args):
        return False
    brackets = _brackets(groups, settings)
    if not brackets:
        return False
    note(bracket_advice(_exif_shows(groups, brackets, "an exposure bracket", "exposure brackets"), "add --task mef"))
    return True


def _warn_pixels_on_bracket(args: argparse.Namespace, groups: list[list[Path]], settings: list[list[ShotSettings]],
                            pixels: str) -> bool:
    """Warn, once, where the fused pixels come from the sources (``pixels``, as --task mff or
    --pixels sources resolved it) and a group's EXIF shows an exposure bracket: each pixel taken
    from one exposure makes a blotchy patchwork of the bracket's brightness. Whether it warned."""
    from defusion.io.notes import warn
    from defusion.io.shots import sources_on_bracket_warning

    if pixels != "sources" or not _one_camera(args):
        return False
    brackets = _brackets(groups, settings)
    if not brackets:
        return False
    which = _exif_shows(groups, brackets, "an exposure bracket", "exposure brackets")
    given = "--pixels sources" if args.pixels == "sources" else f"--task {args.task}"
    fix = "--task mef" + (" without --pixels sources" if args.pixels == "sources" else "")
    warn(sources_on_bracket_warning(which, given, f"use {fix}"))
    return True


def _note_focus_stack(args: argparse.Namespace, groups: list[list[Path]],
                      settings: list[list[ShotSettings]]) -> bool:
    """Suggest --task mff, once, where no --task nor --pixels was given and a group's EXIF shows one
    exposure of one camera (:func:`defusion.io.shots.shows_one_exposure`): most likely a focus stack,
    which the general defaults blur and brighten. Not with --palette, --rig or --infrared (two cameras' images).
    Whether it said so."""
    from defusion.io.notes import note
    from defusion.io.shots import focus_stack_advice, group_name, shows_one_exposure

    if args.task is not None or getattr(args, "pixels", None) is not None or not _one_camera(args):
        return False
    stacks = [group_name(group) for group, shots in zip(groups, settings) if shows_one_exposure(shots)]
    if not stacks:
        return False
    note(focus_stack_advice(_exif_shows(groups, stacks, "one exposure", "one exposure each"), "add --task mff"))
    return True


def _note_stretched(paths: list[Path], images: list[np.ndarray], shared: bool | None = None) -> None:
    """Say which sources the fusion core stretches as raw sensor frames (--stretch auto), and how:
    each on its own (several cameras' frames), or ``shared`` (--task mef: one sensor's bracket) all
    by one mapping (stretch.describe_stretch)."""
    from tqdm import tqdm

    from defusion.fusion.stretch import describe_stretch

    for said in describe_stretch([path.name for path in paths], images, shared):
        tqdm.write(f"defusion: note: {said} (--stretch none keeps the values as they are)", file=sys.stderr)


def _note_infrared(paths: list[Path], images: list[np.ndarray], fuser) -> None:
    """Say which image --palette colours where the core's rule (the one raw thermal frame, else the
    only grey image) had to guess."""
    from tqdm import tqdm

    index, why = fuser.infrared_source(*images)
    if why:
        tqdm.write(f"defusion: note: --palette colours {paths[index]} as the infrared image ({why}); "
                   "--infrared N picks the Nth image instead", file=sys.stderr)


def _metadata_for(paths: list[Path], fused: np.ndarray, out: Path):
    """The sources' colour profile and EXIF that fit the fused image; a warning where ``out``'s
    format cannot hold a profile the sources have (their colours would be read as sRGB)."""
    from defusion.io.metadata import METADATA_SUFFIXES, choose_metadata, read_metadata

    metadata = choose_metadata([read_metadata(p) for p in paths], colour=fused.ndim == 3)
    if metadata.icc_profile and out.suffix.lower() not in METADATA_SUFFIXES:
        print(f"defusion: warning: {out.suffix} is written without the sources' colour profile; write "
              f"{' or '.join(METADATA_SUFFIXES[:2])} to keep it", file=sys.stderr)
    return metadata


def _write_source_map(path: Path, weights: list[np.ndarray], out: Path, stem: str | None) -> None:
    """The fused pixels' source index as 8-bit grey: ``path`` itself, or ``path/<stem>.png`` for folders."""
    from defusion.fusion.color import to_uint8
    from defusion.fusion.selection import source_map
    from defusion.io.writing import write_image

    if stem is not None:
        path = path / f"{stem}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_image(path, to_uint8(source_map(weights)))


def _pair_jobs(args: argparse.Namespace) -> list[tuple[str, list[Path]]]:
    """(stem, [a, b]) of each pair matched by stem in --a and --b, before the model loads; what has no
    partner, or two files of one stem, said."""
    from defusion.io.pairs import match_pairs, stem_clashes

    pairs, unmatched = match_pairs(args.dir_a, args.dir_b)
    if not pairs:
        raise UserError(f"no pairs: no file stem is in both {args.dir_a} and {args.dir_b}")
    for stem in unmatched:
        print(f"defusion: warning: {stem} has no partner; skipped", file=sys.stderr)
    for clash in stem_clashes(args.dir_a) + stem_clashes(args.dir_b):
        print(f"defusion: warning: {clash}", file=sys.stderr)
    return [(stem, [a, b]) for stem, a, b in pairs]


def _stack_jobs(groups: list[list[Path]], args: argparse.Namespace) -> list[tuple[str, list[Path]]]:
    """(name, shots) of each group of :func:`_stack_groups`, to fuse into ``-o`` named by its first and
    last shots (:func:`_unclaimed_name`), before the model loads."""
    from defusion.io.shots import group_name

    return [(_unclaimed_name(group_name(g), g, args), g) for g in groups]


def _stack_groups(args: argparse.Namespace) -> list[list[Path]]:
    """Every bracket or focus stack of two or more shots in ``--stacks DIR``, grouped by capture time
    or ``--group N``, said (how many, what was left out) before the model loads."""
    from defusion.io.shots import (group_by_count, group_by_time, group_name, list_shots, raw_twins, read_shot,
                                   untimed)

    shots = list_shots(args.stacks)
    twins = raw_twins(list(args.stacks.iterdir()))
    if twins:
        print(f"defusion: note: {plural(len(twins), 'JPEG (or other) file')} beside raw files of the same name "
              "(raw + JPEG shooting) left out: the raw files are fused", file=sys.stderr)
    if args.group == "auto":
        timed = [read_shot(p) for p in shots]
        groups = group_by_time(timed, args.gap)
        how = f"by capture time (a new one after a pause of over {args.gap:g} s)"
        for line in untimed(timed):
            hint = " (--group N groups by name order instead)" if line.endswith("no EXIF capture time") else ""
            print(f"defusion: warning: {line}; left out{hint}", file=sys.stderr)
    else:
        groups = group_by_count(shots, args.group)
        how = f"in runs of {args.group} in name order"
        left = len(shots) % args.group
        if left:
            print(f"defusion: warning: {plural(len(shots), 'shot')} do not split into runs of {args.group}: the "
                  f"last group, {group_name(groups[-1])}, has {plural(left, 'shot')}", file=sys.stderr)
    for group in groups:
        if len(group) < 2:
            print(f"defusion: warning: {group[0].name} is a group of one shot: nothing to fuse it with; skipped",
                  file=sys.stderr)
    groups = [g for g in groups if len(g) >= 2]
    if not groups:
        hint = "; try --group N, the number of shots per bracket" if args.group == "auto" else ""
        raise UserError(f"no group of two or more shots in {args.stacks} (grouped {how}){hint}")
    sizes = sorted({len(g) for g in groups})
    print(f"defusion: {plural(sum(map(len, groups)), 'shot')} in {plural(len(groups), 'group')} {how} "
          f"({' or '.join(map(str, sizes))} shots each)", file=sys.stderr)
    return groups


def _unclaimed_name(name: str, group: list[Path], args: argparse.Namespace) -> str:
    """The name to write ``group`` under: ``name`` (its first and last files' stems), unless -o already
    holds a ``name`` fused from other shots (another card, whose camera numbered its files alike): the
    fused image carries its first shot's EXIF capture time, and where that differs from this group's,
    the first of name_DATE-TIME, name_DATE-TIME_2, ... free or fused from these shots, said in a note.
    Without a capture time on either side (--no-metadata, shots without EXIF) ``name`` is kept, as is
    a re-run's: written over, or left by --skip-existing."""
    from defusion.io.notes import note

    ours = _capture_second(group[0])
    first = args.output / f"{name}.{args.format}"
    theirs = _capture_second(first) if ours is not None and first.is_file() else None
    if theirs is None or theirs == ours:
        return name
    dated = f"{name}_{ours:{NAME_TIME_FORMAT}}"
    for candidate in itertools.chain([dated], (f"{dated}_{n}" for n in itertools.count(2))):
        out = args.output / f"{candidate}.{args.format}"
        if not out.is_file() or _capture_second(out) in (None, ours):
            break
    note(f"{first} was fused from other shots (taken {theirs:{SAID_TIME_FORMAT}}) than {name} in {args.stacks} "
         f"(taken {ours:{SAID_TIME_FORMAT}}; another card, its files numbered alike?): it is left as it is, and "
         f"these are fused into {candidate}.{args.format}")
    return candidate


def _capture_second(path: Path):
    """When ``path`` (a shot, or a fused image: it carries its first shot's EXIF) was taken, to the
    second (TIFF keeps no sub-seconds); None where its EXIF does not say."""
    from defusion.io.shots import read_shot

    taken = read_shot(path).taken
    return taken.replace(microsecond=0) if taken is not None else None


def _fuse_jobs(fuser, jobs: list[tuple[str, list[Path]]], unit: str, args: argparse.Namespace) -> int:
    """Fuse each (name, sources) into ``-o``/name.<--format> with a progress bar: a bad one is reported and
    skipped (exit status 1), --skip-existing leaves those already written, Ctrl-C says how to go on."""
    from tqdm import tqdm

    made = missing_folder(args.output, itself=True)
    side = [folder for folder in (args.components, args.source_map) if folder is not None]
    made_too = [m for m in (missing_folder(folder, itself=True) for folder in side) if m is not None and m != made]
    args.output.mkdir(parents=True, exist_ok=True)
    made_said = said_made([m for m in (made, *made_too) if m is not None])
    kept = [name for name, _ in jobs if args.skip_existing and _already_fused(name, args)]
    if kept and len(kept) == len(jobs):
        print(f"defusion: all {plural(len(jobs), unit[:-1])} already fused in {args.output}; nothing to do",
              file=sys.stderr)
        return 0
    if kept:
        print(f"defusion: {len(kept)} of {len(jobs)} {unit} already fused in {args.output}; fusing the rest",
              file=sys.stderr)
    todo = [job for job in jobs if job[0] not in kept]
    failed, done, found = [], 0, {}
    try:
        with tqdm(todo, desc="fusing", unit=unit[:-1], disable=args.no_progress, file=sys.stderr) as bar:
            for name, sources in bar:
                try:
                    result = _fuse_one(fuser, sources, args.output / f"{name}.{args.format}", args, name,
                                       show_tiles=True, nested=True)
                    if result is not None:
                        found[name] = _registration_extent(result)
                    done += 1
                except (OSError, ImageReadError, SizeMismatchError, ValueError) as exc:
                    if isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS:  # every later pair would too
                        raise UserError(f"{exc}; stopped after {done + len(kept)} of {len(jobs)} {unit} (those "
                                        f"fused are kept in {args.output}): once it can be written, run the same "
                                        "command with --skip-existing to fuse the rest") from None
                    failed.append(name)
                    tqdm.write(f"defusion: skipped {name}: {exc}", file=sys.stderr)
    except KeyboardInterrupt:  # what is written stays written (each image atomically): say how to go on
        print(f"defusion: interrupted after {done + len(kept)} of {len(jobs)} {unit} in {args.output}{made_said}; "
              "run the same command with --skip-existing to fuse the rest", file=sys.stderr)
        return 130
    for line in _registration_summary(found, unit, fuser.options.align):
        print(f"defusion: {line}", file=sys.stderr)
    print(f"fused {done + len(kept)} of {len(jobs)} {unit} into {args.output}{made_said}"
          + (f" ({len(kept)} already there)" if kept else "")
          + (f"; failed: {', '.join(failed)}" if failed else ""), file=sys.stderr)
    return EXIT_FAILED if failed else 0


def _already_fused(stem: str, args: argparse.Namespace) -> bool:
    """Whether a pair's outputs (the fused image, and the components and source map if asked for) are written."""
    out = args.output / f"{stem}.{args.format}"
    wanted = [out]
    if args.components:
        suffix = _component_suffix(out)
        wanted += [args.components / f"{stem}_{part}{suffix}" for part in COMPONENT_PARTS]
    if args.source_map:
        wanted.append(args.source_map / f"{stem}.png")
    return all(p.is_file() for p in wanted)


def _source_folders(args: argparse.Namespace) -> list[Path]:
    return [d for d in (args.dir_a, args.dir_b, args.stacks) if d is not None]


def _check_paths(args: argparse.Namespace, folders: bool) -> None:
    """Refuse outputs that cannot be written or would overwrite a source, before any work."""
    from defusion.io.writing import check_path, check_writable_folder

    out = args.output
    for option, path in _outputs(args):
        try:
            check_path(path)
        except OSError as exc:  # a name too long, a file where a folder must be: said before stat() trips on it
            raise UserError(f"{option} {path}: {exc}") from None
    if folders:
        for option, folder in (("--a", args.dir_a), ("--b", args.dir_b), ("--stacks", args.stacks)):
            _check_source_folder(option, folder)
        if out.exists() and not out.is_dir():
            raise UserError(f"-o {out}: is a file; folder mode (--a/--b, --stacks) writes into a folder")
        if any(same_path(out, d) for d in _source_folders(args)):
            raise UserError(f"-o {out}: is a source folder; fused images would overwrite the sources")
    else:
        if out.is_dir():
            raise UserError(f"-o {out}: is a folder; give an output image path such as {out / 'fused.png'}")
        if out.suffix.lower() not in WRITABLE_SUFFIXES:
            raise UserError(f"cannot write {out}: use one of {', '.join(WRITABLE_SUFFIXES)}")
        if any(p.exists() and same_path(out, p) for p in args.images):
            raise UserError(f"-o {out}: is one of the inputs; choose another output path "
                            "(defusion does not overwrite its sources)")
        if args.components and len(args.images) != 2:
            raise UserError(f"--components needs exactly two images, got {len(args.images)}")
    if args.components and args.components.exists() and not args.components.is_dir():
        raise UserError(f"--components {args.components}: is a file; it names a folder for the three parts")
    if args.components:
        _check_components_paths(args, folders)
    if args.source_map:
        _check_source_map_path(args, folders)
    for option, path in _outputs(args):
        folder = path if option == "--components" or folders else path.parent
        try:
            check_writable_folder(folder)
        except OSError as exc:  # read-only, full, not allowed: said now, not after minutes of fusing
            raise UserError(f"{option} {path}: {exc}") from None


def _outputs(args: argparse.Namespace) -> list[tuple[str, Path]]:
    """(option, path) of what this run writes: -o, and --components and --source-map where given."""
    return [(option, path) for option, path in (("-o", args.output), ("--components", args.components),
                                                ("--source-map", args.source_map)) if path is not None]


def _check_inputs(images: list[Path]) -> None:
    """Refuse a source that is missing, not a file or not readable, in reading's words (one line), before
    the fusion core is imported: that took 4-10 s on a busy 2-core machine before a typo was told."""
    for path in images:
        if not path.exists():
            raise UserError(f"{path}: no such file")
        if not path.is_file():
            raise UserError(f"{path}: is not a file")
        if not os.access(path, os.R_OK):
            raise UserError(f"{path}: cannot be read (permission denied)")


def _say_size_from_header(args: argparse.Namespace, options: dict,
                          known: dict[Path, tuple[int, int] | None]) -> None:
    """:func:`_say_size` from the first source's header (the fused image takes its size), before the
    model loads: from ``known`` where the size check or the shots' settings read it (each header is
    read once), else read now; left to :func:`_fuse_one` where the header does not tell (a camera raw
    file). Not for a source over --max-pixels (reading refuses it) nor options the fusion core refuses
    (it says why)."""
    size = _header_sizes(args.images[:1], known)[0]  # (width, height), upright
    fuse_options = _fuse_options(options)
    if size is None or size[0] * size[1] > args.max_pixels or fuse_options is None:
        return
    _say_size(args, fuse_options, size[1], size[0], len(args.images))


def _header_sizes(paths: list[Path], known: dict[Path, tuple[int, int] | None]) -> list[tuple[int, int] | None]:
    """(width, height) of each of ``paths`` from ``known`` (read already), else from its header (read
    now, nothing decoded: ms); None where it does not tell (a camera raw file, a damaged one)."""
    from defusion.io.images import header_size

    return [known[path] if path in known else header_size(path) for path in paths]


def _fuse_options(options: dict):
    """The FuseOptions the fuser is made with (as Fuser.from_pretrained makes them), before the model
    loads; None where the fusion core refuses them (it says why, as the model loads)."""
    from defusion.fusion.options import FuseOptions

    try:
        return FuseOptions.for_task(None, **options)
    except (ValueError, TypeError):
        return None


def _say_folder_size(args: argparse.Namespace, options: dict, jobs: list[tuple[str, list[Path]]], unit: str,
                     known: dict[Path, tuple[int, int] | None]) -> None:
    """Before a folder run's model loads, once: how many passes it takes where its largest fusion (by
    pixels x sources) takes :data:`MANY_PASSES` or more (:func:`describe_folder_passes`), and a warning
    where that fusion's peak memory is over what is available: a card of brackets runs for hours, and
    one large pair among small ones can exhaust memory. Each fusion's size is its first source's (the
    fused image takes it), from ``known`` or its header (:func:`_header_sizes`, nothing decoded); those
    whose header does not tell (camera raw files) are left out and counted, as are, silently, those over
    --max-pixels (reading refuses them) and those --skip-existing leaves."""
    from defusion.io.notes import note, warn

    fuse_options = _fuse_options(options)
    todo = [job for job in jobs if not (args.skip_existing and _already_fused(job[0], args))]
    if fuse_options is None or not todo:
        return
    firsts = _header_sizes([sources[0] for _, sources in todo], known)
    sized = [(name, size[1], size[0], len(sources)) for (name, sources), size in zip(todo, firsts)
             if size is not None and size[0] * size[1] <= args.max_pixels]  # (name, height, width, sources)
    if not sized:
        return
    name, height, width, count = max(sized, key=lambda job: job[1] * job[2] * job[3])
    passes = network_passes(fuse_options, height, width, count)
    if passes >= MANY_PASSES:
        total = sum(network_passes(fuse_options, h, w, n) for _, h, w, n in sized)
        largest = describe_passes(height, width, count, fuse_options.scale, passes,
                                  passes_at_one(fuse_options, height, width, count))
        note(describe_folder_passes(len(todo), unit, total, firsts.count(None), name, largest))
    said = describe_memory(peak_memory(height * width, count, fuse_options.scale), available_memory(),
                           what=f"the largest {unit[:-1]}, {name},")
    if said:
        warn(f"{said}: {PEAK_MEMORY_HINT}")


def _say_size(args: argparse.Namespace, options, height: int, width: int, sources: int) -> None:
    """Before a single fusion's first network pass, once: how many passes it takes where they are
    :data:`MANY_PASSES` or more (:func:`describe_passes`), and a warning where its peak memory
    (:func:`peak_memory`) is over what the machine has available (:func:`available_memory`)."""
    from defusion.io.notes import note, warn

    args._size_said = True
    passes = network_passes(options, height, width, sources)
    if passes >= MANY_PASSES:
        note(describe_passes(height, width, sources, options.scale, passes,
                             passes_at_one(options, height, width, sources)))
    said = describe_memory(peak_memory(height * width, sources, options.scale), available_memory())
    if said:
        warn(f"{said}: {PEAK_MEMORY_HINT}")


def _check_not_folders(images: list[Path]) -> None:
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


def _check_source_folder(option: str, folder: Path | None) -> None:
    """Refuse a source folder option (--a, --b, --stacks) that names no folder, saying what it names."""
    if folder is None or folder.is_dir():
        return
    if folder.exists():
        raise UserError(f"{option} {folder}: is a file, not a folder; give the folder that holds the images")
    raise UserError(f"{option} {folder}: no such folder")


def _check_components_paths(args: argparse.Namespace, folders: bool) -> None:
    """Refuse a --components folder whose parts (common.png, ...) would overwrite an input or the output,
    or, in folder modes, that is a source folder (the parts would mix with the sources)."""
    if folders:
        if any(same_path(args.components, d) for d in _source_folders(args)):
            raise UserError(f"--components {args.components}: is a source folder; give the parts their own folder")
        return
    suffix = _component_suffix(args.output)
    for part in COMPONENT_PARTS + ((WEIGHT_PART,) if args.pixels == "sources" else ()):
        path = args.components / f"{part}{suffix}"
        if any(p.exists() and same_path(path, p) for p in args.images):
            raise UserError(f"--components {args.components}: its {path.name} is one of the inputs; choose another "
                            "folder (defusion does not overwrite its sources)")
        if same_path(path, args.output):
            raise UserError(f"--components {args.components}: its {path.name} is the output -o {args.output}; "
                            "choose another folder")


def _warn_same_sources(args: argparse.Namespace, folders: bool) -> None:
    """Warn when one file (or folder) is given twice: it would be fused with itself."""
    if folders:
        if args.dir_a is not None and args.dir_b is not None and same_path(args.dir_a, args.dir_b):
            print(f"defusion: warning: --a {args.dir_a} and --b {args.dir_b} are the same folder: each image is "
                  "fused with itself", file=sys.stderr)
        return
    for i, first in enumerate(args.images):
        for second in args.images[i + 1:]:
            if first.exists() and same_path(first, second):
                print(f"defusion: warning: {first} and {second} are the same file: it is fused with itself",
                      file=sys.stderr)


def _check_source_map_path(args: argparse.Namespace, folders: bool) -> None:
    path = args.source_map
    if folders:
        if path.exists() and not path.is_dir():
            raise UserError(f"--source-map {path}: is a file; with --a/--b or --stacks it names a folder (one map per "
                            "pair or group)")
        if any(same_path(path, d) for d in (*_source_folders(args), args.output)):
            raise UserError(f"--source-map {path}: is a source or output folder; give the maps their own folder")
        return
    if path.is_dir():
        raise UserError(f"--source-map {path}: is a folder; give an image path such as {path / 'source_map.png'}")
    if path.suffix.lower() not in WRITABLE_SUFFIXES:
        raise UserError(f"cannot write --source-map {path}: use one of {', '.join(WRITABLE_SUFFIXES)}")
    if same_path(path, args.output) or any(p.exists() and same_path(path, p) for p in args.images):
        raise UserError(f"--source-map {path}: is an input or the output; choose another path")


def run(args: argparse.Namespace) -> int:
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
        _check_not_folders(args.images)
    if not folders and len(args.images) < 2:
        raise UserError("give at least two images to fuse (or --a DIR --b DIR, or --stacks DIR)")
    if args.skip_existing and not folders:
        raise UserError("--skip-existing is for folders (--a DIR --b DIR, --stacks DIR): it leaves those already fused")
    if stacks and args.components:
        raise UserError("--components decomposes pairs; --stacks fuses groups of any size (use --a/--b for pairs)")
    if stacks and args.rig:
        raise UserError("--rig maps a camera rig's pairs; --stacks fuses one camera's brackets (use --a/--b)")
    if not folders and args.format != "png":
        raise UserError("--format is for folders (--a/--b, --stacks); a single output's suffix sets its type")
    if not 1 <= args.quality <= 100:
        raise UserError(f"--quality must be from 1 to 100, got {args.quality}")
    jpeg = (args.format == "jpg") if folders else (args.output.suffix.lower() in (".jpg", ".jpeg"))
    if args.quality != DEFAULT_JPEG_QUALITY and not jpeg:
        print("defusion: warning: --quality sets JPEG output's quality; this output is not JPEG", file=sys.stderr)
    if not stacks and (args.group != "auto" or args.gap != 2.0):
        raise UserError("--group and --gap are for --stacks DIR: they split a folder of shots into brackets")
    if args.resize and args.rig:
        raise UserError("--resize and --rig both bring the images onto the first's grid: give one (--rig, for a "
                        "calibrated camera rig, also corrects its cameras' differing views)")
    check_tile(args)
    _check_paths(args, folders)
    if not folders:
        _check_inputs(args.images)  # before the fusion core (PyTorch, ONNX Runtime) is imported: seconds
    options = dict(fusion_options(args, (*FUSION_OPTION_NAMES, "order", "align", "pixels", "deghost")), stack=args.stack)
    rig = options.get("rig")
    given = 2 if pairs else len(args.images)
    if rig is not None and given != 1 + len(rig.cameras):
        raise UserError(f"--rig {args.rig}: calibrated for {1 + len(rig.cameras)} cameras, but "
                        f"{'--a/--b fuse pairs' if pairs else f'{given} images were given'}")
    if args.source_map and options.get("pixels", "network") != "sources":
        raise UserError("--source-map needs --pixels sources (--task mff's default): the network's reconstruction "
                        "mixes the sources, so no pixel comes from one image")
    sizes = {}  # (width, height) of each source whose header the size check read
    if not folders:
        check_onnx_options(args)  # the model options' refusals first, as make_fuser says them
        sizes = _check_header_sizes(args) or {}  # then the sources' sizes, before the model loads, as a missing file is
    pixels = options.get("pixels", "network")
    _note_reconstruction_options(args, pixels)
    _note_deghost_on_focus(args, pixels)
    groups = _stack_groups(args) if stacks else [] if folders else [args.images]
    shot_sizes = _note_shots(args, groups, pixels)  # before the model loads: a long run can be stopped at once
    # each header read once: the size check's, else the shots' settings' (a camera raw file's from LibRaw)
    known = {**sizes, **{path: size for path, size in shot_sizes.items() if sizes.get(path) is None}}
    jobs = _stack_jobs(groups, args) if stacks else _pair_jobs(args) if folders else []
    unit = "groups" if stacks else "pairs"
    if folders:  # so too their passes and memory (an ONNX export on first use: 20 s)
        _say_folder_size(args, options, jobs, unit, known)
    else:
        _say_size_from_header(args, options, known)
    fuser = make_fuser(args, options)
    _warn_same_sources(args, folders)
    if folders:
        return _fuse_jobs(fuser, jobs, unit, args)
    made = missing_folder(args.output)
    _fuse_one(fuser, args.images, args.output, args, show_tiles=True, notes=True)
    print(f"wrote {args.output}" + (f" and {args.source_map}" if args.source_map else "")
          + said_made([made] if made else []), file=sys.stderr)
    return 0


EXPECTED_ERRORS = (ImageReadError, SizeMismatchError, WeightsError, FileNotFoundError, ValueError, OSError)

"""Refusals of sources of different sizes, in ``defusion fuse``'s words: from their headers before the
model loads, from their pixels after reading (a shot turned a quarter against the others), and the
advice the fusion core's own refusal is said with; and of a fused image (it takes the first source's
size) wider than its output format's encoder takes, from the headers before the model loads."""

from __future__ import annotations

import argparse
from pathlib import Path

from defusion.cli.errors import UserError
from defusion.cli.fuse.file_names import said_names
from defusion.fusion.errors import SizeMismatchError
from defusion.io.formats import MAX_SIDES, one_of  # light: no OpenCV, Pillow nor numpy

#: EXIF orientations that turn an image a quarter (read upright, its width and height swap).
QUARTER_TURNS = (5, 6, 7, 8)


def check_header_sizes(args: argparse.Namespace) -> dict[Path, tuple[int, int] | None]:
    """Refuse sources of different sizes from their headers (nothing decoded), before the model loads
    (tens of seconds on a busy machine), in the words fusing them would refuse them in. Only what
    fusing would surely refuse: not with --resize or --rig (they take other sizes), nor where a header
    does not say (a camera raw file, a damaged one), is over --max-pixels (reading refuses it first) or
    differs only by a quarter turn (a PNG's EXIF orientation may follow its pixels: reading tells).
    Returns the (width, height) each header read gave (None: it did not tell), for the size note
    (:func:`defusion.cli.fuse.size_notes.say_size_from_header`) not to read one again; none read with
    --resize or --rig."""
    from defusion.io.probes import header_size

    if args.resize or getattr(args, "rig", None) is not None:
        return {}
    read = {path: header_size(path) for path in args.images}  # (width, height), or None
    sizes = [read[path] for path in args.images]
    if any(size is None or size[0] * size[1] > args.max_pixels for size in sizes):
        return read
    if len({tuple(sorted(size)) for size in sizes}) > 1:
        raise SizeMismatchError(size_advice(args.images, [(h, w) for w, h in sizes], args))
    return read


def check_output_sides(args: argparse.Namespace, known: dict[Path, tuple[int, int] | None]) -> None:
    """Refuse, before the model loads, a single fusion whose fused image -o's format (or --source-map's)
    cannot encode: the fused image takes the first source's size (after --resize, --rig: the first
    camera's grid), read from ``known`` or its header (nothing decoded), against the format's longest
    side (:data:`~defusion.io.formats.MAX_SIDES`), in one line naming what to write instead. Not where
    the header does not tell (a camera raw file: writing says it) nor over --max-pixels (reading refuses
    it). Headers read now are added to ``known``, for the size note not to read them again."""
    from defusion.cli.fuse.size_notes import header_sizes

    size = header_sizes(args.images[:1], known)[0]
    known[args.images[0]] = size
    if size is None or size[0] * size[1] > args.max_pixels:
        return
    for option, out in (("-o", args.output), ("--source-map", args.source_map)):
        unwritable = _unwritable(out.suffix, *size) if out is not None else None
        if unwritable is not None:
            why, instead = unwritable
            others = f" (or {one_of(instead[1:])})" if len(instead) > 1 else ""
            raise UserError(f"{option} {out}: {why}; use {option} {out.with_suffix(instead[0])}{others}")


def check_folder_sides(args: argparse.Namespace, jobs: list[tuple[str, list[Path]]],
                       known: dict[Path, tuple[int, int] | None]) -> None:
    """Refuse a folder run, before the model loads, where --format cannot encode a fused image of its
    pairs or groups (each takes its first source's size, from ``known`` or its header), naming them and
    the --format that can: nothing is fused, where it would fail at the end of a long run. Those whose
    header does not tell (camera raw files) are left to writing (one such group reported and skipped),
    as are those over --max-pixels (reading refuses them) and those --skip-existing leaves. Headers read
    now are added to ``known``, for the size note not to read them again."""
    from defusion.cli.fuse.file_names import FOLDER_FORMATS, already_fused
    from defusion.cli.fuse.size_notes import header_sizes

    todo = [job for job in jobs if not (args.skip_existing and already_fused(job[0], args))]
    firsts = [sources[0] for _, sources in todo]
    sizes = header_sizes(firsts, known)
    known.update(zip(firsts, sizes))
    too = [(name, size) for (name, _), size in zip(todo, sizes)
           if size is not None and size[0] * size[1] <= args.max_pixels and _unwritable(args.format, *size)]
    if not too:
        return
    from defusion.io.notes import listed

    _, instead = _unwritable(args.format, *max((size for _, size in too), key=max))
    formats = [suffix[1:] for suffix in instead if suffix[1:] in FOLDER_FORMATS]
    instead = f"use --format {' or --format '.join(formats)}" if formats else "split or shrink them first"
    names = listed([f"{name} ({w}x{h})" for name, (w, h) in too])
    raise UserError(f"--format {args.format} takes sides up to {MAX_SIDES['.' + args.format]} px, and "
                    f"{len(too)} of {len(todo)} fused images would be wider (each its first source's size): "
                    f"{names}; nothing was fused: {instead}")


def _unwritable(suffix: str, width: int, height: int) -> tuple[str, list[str]] | None:
    """Why a fused image of ``width`` x ``height`` cannot be written as ``suffix`` (one clause), and the
    suffixes that can; None where it can (or ``suffix`` is none writing takes: writing refuses it).

    Example:
        >>> _unwritable(".webp", 16400, 2)
        ("the fused image will be 16400x2 (the first source's size), and webp takes sides up to 16383 px", ['.png', '.tif', '.jpg', '.bmp'])
    """
    from defusion.io.formats import suffixes_holding, too_large

    if too_large(suffix, width, height) is None:
        return None
    name = suffix.lower().lstrip(".")
    return (f"the fused image will be {width}x{height} (the first source's size), and {name} takes sides up to "
            f"{MAX_SIDES['.' + name]} px", suffixes_holding(width, height))


def size_advice(paths: list[Path], sizes: list[tuple[int, int]], args: argparse.Namespace) -> str:
    """The fusion core's refusal of sources of different ``sizes`` (height, width), in the CLI's
    words: the files and their sizes, --resize for one camera's shots and, for two cameras side by
    side, a rig calibrated once (defusion calibrate, then --rig; not with --stacks, one camera's shots).

    Example:
        >>> args = argparse.Namespace(stacks=None)
        >>> print(size_advice([Path("ir.png"), Path("vis.png")], [(480, 640), (512, 640)], args))  # doctest: +ELLIPSIS
        vis.png (640x512) differs in size from ir.png (640x480, WxH): fusion needs registered images of one size; ...
    """
    from defusion.io.notes import listed

    names = said_names(paths)
    h, w = sizes[0]
    others = [f"{name} ({sw}x{sh})" for name, (sh, sw) in zip(names[1:], sizes[1:]) if (sh, sw) != (h, w)]
    rig = ("" if args.stacks is not None else "; two cameras side by side (infrared + visible): calibrate them "
           "once with defusion calibrate, then add --rig rig.json")
    return (f"{listed(others)} {'differs' if len(others) == 1 else 'differ'} in size from {names[0]} ({w}x{h}, "
            f"WxH): fusion needs registered images of one size; one camera's shots: add --resize (the others "
            f"resized to the first's size){rig}")


def check_turned(paths: list[Path], sizes: list[tuple[int, int]]) -> None:
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
    names = said_names(paths)
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

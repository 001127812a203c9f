"""Fusing one set of sources into one output: read, fuse (with a progress bar over its network passes
where it takes several), and write the fused image with the sources' metadata, and the components,
source map and compare sheet where asked for; what the fusion core did is said as it goes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from defusion.cli.errors import UserError
from defusion.cli.fuse import once as once_notes
from defusion.cli.fuse.compare_sheet import made_by, write_compare_sheet
from defusion.cli.fuse.file_names import COMPONENT_PARTS, FOLDER_FORMATS, WEIGHT_PART, component_suffix, said_names
from defusion.cli.fuse.fusion_notes import (legend_values, note_infrared, note_palette_range, note_registration,
                                            note_stretched, note_unstretched, palette_steps_note)
from defusion.cli.fuse.reading import load_sources
from defusion.cli.fuse.size_notes import say_size
from defusion.cli.fuse.source_sizes import size_advice
from defusion.fusion.errors import SizeMismatchError
from defusion.io.formats import SIXTEEN_BIT_SUFFIXES
from defusion.io.notes import name_places, naming, note

#: The name in a folder run's ``once`` (:mod:`defusion.cli.fuse.once`) of the line saying which sources were
#: converted to the first's colour profile (``-note``), or could not be (``-warning``).
PROFILES = "profiles"

if TYPE_CHECKING:
    import numpy as np
    from tqdm import tqdm

    from defusion.fusion.fuser import Decomposition, Fuser, Fusion
    from defusion.io.metadata import ImageMetadata
    from defusion.io.progress import LogProgress
    from defusion.fusion.provenance import MadeBy


def fuse_one(fuser: Fuser, paths: list[Path], out: Path, args: argparse.Namespace, stem: str | None = None,
             show_tiles: bool = False, nested: bool = False, notes: bool = False,
             say_size_read: bool = False, once: set[str] | None = None) -> Fusion | Decomposition | None:
    """Fuse ``paths`` into ``out``; ``notes`` (a single fusion, not a folder's many) says what --align
    and --deghost found; ``say_size_read`` says its passes and memory once the sources are read (where
    their header did not tell them before the model loaded: a camera raw file). Returns the core's
    whole result where --align or --deghost ran (what they found, for a folder's summary), else None.
    ``once``: the notes a folder run says once, shared by its fusions (None: a fresh set, one fusion)."""
    from defusion.io.formats import too_large
    from defusion.io.writing import write_image

    once = set() if once is None else once
    images = load_sources(paths, args, once)
    images, sources = match_profiles(paths, images, args, once)
    # a size no header told before the model loaded (a camera raw file): refused before its fusion, not after
    too_wide = too_large(out.suffix, images[0].shape[1], images[0].shape[0])
    if too_wide is not None:
        raise ValueError(f"{out}: {too_wide}")
    if say_size_read:
        say_size(fuser.options, *images[0].shape[:2], len(images), paths)
    if fuser.options.stretch == "auto":
        note_stretched(paths, images, fuser.options.stretch_shared, args, once)
    elif fuser.options.stretch == "none":
        note_unstretched(paths, images, args, once, fuser.options.stretch_shared)
    palette_guess = fuser.options.palette != "none" and fuser.options.infrared is None
    if palette_guess and once_notes.INFRARED not in once:
        note_infrared(paths, images, fuser)
        once.add(once_notes.INFRARED)
    registering = fuser.options.align != "none" or fuser.options.deghost
    from defusion.fusion.align import AlignmentError  # OpenCV: not on this module's import path

    bar = None
    names = said_names(paths)
    try:
        # inside: counting the passes checks the images as fusing does (sources of two sizes refused)
        bar = tile_progress(fuser, images, args, nested, stem) if show_tiles else None
        with naming(names):  # the core's "image 3" said as the file it is
            fused, found = _fuse_images(fuser, images, out, args, stem, bar.update if bar else None, registering)
        if bar:
            _finish(bar)
    except AlignmentError as exc:
        raise AlignmentError(name_places(str(exc), names)) from None
    except SizeMismatchError:
        if len({im.shape[:2] for im in images}) == 1:  # not the sizes the advice is about
            raise
        raise SizeMismatchError(size_advice(paths, [im.shape[:2] for im in images], args)) from None
    finally:  # on Ctrl-C too: an open bar would glue what is said next to its line
        if bar:
            bar.close()
    if notes and registering and found is not None:
        note_registration(paths, found, fuser.options.align)
    if notes:  # a folder run's pairs each span their own: folder_run says so once, not a range a pair
        span = note_palette_range(fuser, images)  # measured once: said, and keyed by --legend
        if getattr(args, "legend", None) is not None and write_legend(  # (a folder run's one: before its fusions)
                args.legend, fuser, span, legend_values(fuser, paths, images)):
            once.add(once_notes.LEGEND)
    made = made_by(fuser, args)  # the record the image carries, the label its compare sheet has
    metadata = None if args.no_metadata else metadata_for(paths, fused, out, sources, made)
    write_image(out, fused, quality=args.quality, metadata=metadata)
    if args.compare:
        write_compare_sheet(args.compare, stem, paths, images, fused, made)
    if fused.dtype == "uint16" and out.suffix.lower() not in SIXTEEN_BIT_SUFFIXES:
        _warn_eight_bits(out, args, once, folder=stem is not None)
    elif fused.dtype == "uint16" and fuser.options.palette != "none" and once_notes.PALETTE_STEPS not in once:
        note(palette_steps_note(args.output if stem is not None else out, folder=stem is not None))
        once.add(once_notes.PALETTE_STEPS)
    return found if registering else None


def write_legend(path: Path, fuser: Fuser, span: tuple[float, float] | None,
                 values: tuple[tuple[float, float] | None, str] = (None, "counts")) -> bool:
    """Write --legend's colour key of ``fuser``'s palette over ``span`` (the infrared values the fusion
    spanned: :func:`~defusion.cli.fuse.fusion_notes.note_palette_range`) to ``path``, labelled in the
    source's own ``values`` too where known (:func:`~defusion.cli.fuse.fusion_notes.legend_values`);
    whether it was. None for ``span``: a flat infrared image spans nothing, so no key, and a warning."""
    from defusion.fusion.palette_legend import palette_legend
    from defusion.io.notes import warn
    from defusion.io.writing import write_image

    if span is None:
        warn(f"--legend {path} not written: the infrared image holds one value, so its colours span nothing "
             "(give --palette-range LOW,HIGH to key a span of your own)")
        return False
    own, unit = values
    path.parent.mkdir(parents=True, exist_ok=True)
    write_image(path, palette_legend(fuser.options.palette, span, values=own, unit=unit))
    return True


def tile_progress(fuser: Fuser, images: list[np.ndarray], args: argparse.Namespace, nested: bool = False,
                  stem: str | None = None) -> tqdm | LogProgress | None:
    """A progress bar over network passes when a fusion takes several (tiles, times a stack's pairwise
    fusions, as the web UI counts them), "fusing: 2/2 passes", left at its total above the line that
    says what was written. ``nested``: under a folder run's bar (a large bracket's minutes show as they
    pass), named ``stem`` and cleared when done, as tqdm nests bars; where stderr is no terminal, none:
    a log gets the folder run's lines alone, not two counts in turn. A lone fusion's log gets plain lines
    now and then (:func:`~defusion.io.progress.progress_bar`)."""
    from defusion.io import progress

    passes = fuser.passes(*images)
    if passes < 2 or args.no_progress or (nested and not progress.is_terminal(sys.stderr)):
        return None
    return progress.progress_bar(total=passes, desc=(stem if nested and stem else progress.FUSING),
                                 unit=progress.PASS_UNIT, file=sys.stderr, leave=not nested, position=int(nested))


def _finish(bar: tqdm | LogProgress) -> None:
    """A fusion's bar brought to its end once the fusion is: where a flat (misfire) shot was left out
    (--pixels sources), the passes it would have taken were never run, and the bar would stop short."""
    if bar.total is not None and bar.n < bar.total:
        bar.total = bar.n
        bar.update(0)  # a log's line of the count it ended at
        bar.refresh()  # a terminal's bar redrawn at it


def match_profiles(paths: list[Path], images: list[np.ndarray], args: argparse.Namespace,
                   once: set[str]) -> tuple[list[np.ndarray], list[ImageMetadata]]:
    """``images`` (read from ``paths``) with the colour ones whose ICC profile differs from the first
    colour image's converted to it (:func:`defusion.io.icc.match_colour_spaces`, which says so in one
    line), and the sources' metadata (:func:`_read_sources`) with the profiles they now have, for
    :func:`metadata_for`, which then reads no file again but a camera raw one. A folder run says it for
    its first pair or group only (``once``), as a line per pair would bury the progress bar."""
    from defusion.cli.fuse.reading import in_folder_run
    from defusion.io.icc import match_colour_spaces
    from defusion.io.notes import collecting, say, split_line

    with collecting() as said:
        images, sources = match_colour_spaces(images, _read_sources(paths), said_names(paths),
                                              carried=not args.no_metadata)
    folders = in_folder_run(args)
    for line in said:
        kind, message = split_line(line)
        if f"{PROFILES}-{kind}" in once:
            continue
        if folders:
            once.add(f"{PROFILES}-{kind}")
            message += "; later pairs' or groups' sources alike, unsaid"
        say(kind, message)
    return images, sources


def _read_sources(paths: list[Path]) -> list[ImageMetadata]:
    """The colour profile and EXIF of each source (:func:`~defusion.io.metadata.read_metadata`), read once
    per fusion for both :func:`match_profiles` and :func:`metadata_for`; a camera raw file's is left empty
    (no profile, as :func:`~defusion.io.metadata.read_profile` says: it is developed to sRGB), its EXIF
    read by :func:`metadata_for` after the fusion, where a note says it has none (not with --no-metadata)."""
    from defusion.io.metadata import ImageMetadata, read_metadata
    from defusion.io.raw import is_raw

    return [ImageMetadata() if is_raw(p) else read_metadata(p) for p in paths]


def metadata_for(paths: list[Path], fused: np.ndarray, out: Path,
                 sources: list[ImageMetadata] | None = None, made: MadeBy | None = None) -> ImageMetadata:
    """The sources' colour profile and EXIF that fit the fused image, and the record of what ``made``
    it (:mod:`defusion.fusion.provenance`); a warning where ``out``'s
    format cannot hold a profile the sources have (their colours would be read as sRGB). ``sources``:
    the sources' metadata as :func:`match_profiles` read it and left their profiles (a camera raw file's
    EXIF is read here); None: read here, the profiles as the files hold them."""
    from dataclasses import replace

    from defusion.io.metadata import METADATA_SUFFIXES, choose_metadata, read_metadata
    from defusion.io.raw import is_raw

    if sources is None:
        sources = [read_metadata(p) for p in paths]
    else:
        sources = [replace(read_metadata(p), icc_profile=source.icc_profile) if is_raw(p) else source
                   for p, source in zip(paths, sources)]
    metadata = choose_metadata(sources, colour=fused.ndim == 3, record=made.record() if made else None)
    if metadata.icc_profile and out.suffix.lower() not in METADATA_SUFFIXES:
        print(f"defusion: warning: {out.suffix} is written without the sources' colour profile; write "
              f"{' or '.join(METADATA_SUFFIXES[:2])} to keep it", file=sys.stderr)
    return metadata


def _fuse_images(fuser: Fuser, images: list[np.ndarray], out: Path, args: argparse.Namespace, stem: str | None,
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
        suffix = component_suffix(out)
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


def _write_source_map(path: Path, weights: list[np.ndarray], out: Path, stem: str | None) -> None:
    """The fused pixels' source index as 8-bit grey: ``path`` itself, or ``path/<stem>.png`` for folders."""
    from defusion.fusion.color import to_uint8
    from defusion.fusion.selection import source_map
    from defusion.io.writing import write_image

    if stem is not None:
        path = path / f"{stem}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_image(path, to_uint8(source_map(weights)))


def _warn_eight_bits(out: Path, args: argparse.Namespace, once: set[str], folder: bool) -> None:
    """Say that ``out``'s type holds 8 bits and a 16-bit result was reduced: once for a folder run
    (each group's would repeat it), with the --format that keeps 16 bits."""
    from defusion.io.notes import warn

    if not folder:
        print(f"defusion: warning: {out.suffix} holds 8 bits; the 16-bit result was reduced "
              f"(write {' or '.join(SIXTEEN_BIT_SUFFIXES[:2])} to keep 16 bits)", file=sys.stderr)
    elif once_notes.EIGHT_BITS not in once:
        once.add(once_notes.EIGHT_BITS)
        keeps = " or ".join(f"--format {kind}" for kind in FOLDER_FORMATS if f".{kind}" in SIXTEEN_BIT_SUFFIXES)
        warn(f"--format {args.format} holds 8 bits; the 16-bit results are reduced ({keeps} keeps 16 bits)")

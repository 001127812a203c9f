"""Running a folder run's fusions (--a/--b pairs, --stacks groups) one after another under a progress
bar: a bad one is reported and skipped, a full disk stops the run, Ctrl-C says how to go on, and the
end says what was fused and what --align and --deghost found."""

from __future__ import annotations

import argparse
import errno
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from defusion.cli.errors import EXIT_FAILED, EXIT_INTERRUPTED, UserError, skip_detail
from defusion.cli.fuse.file_names import already_fused
from defusion.cli.fuse.fused_settings import record_settings, settle_settings
from defusion.cli.fuse.fusing import fuse_one
from defusion.cli.fuse.fusion_notes import registration_extent, registration_summary
from defusion.cli.outputs import missing_folder, said_made
from defusion.fusion.errors import SizeMismatchError
from defusion.io.errors import ImageReadError
from defusion.io.notes import plural
from defusion.io.progress import progress_bar

if TYPE_CHECKING:
    from defusion.fusion.fuser import Fuser

#: Write errors that are the output's, not one pair's (a full disk or quota, a read-only file system): a
#: folder mode stops at the first rather than fuse every later pair only to fail to write it.
STORAGE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)


def fuse_jobs(fuser: Fuser, jobs: list[tuple[str, list[Path]]], unit: str, args: argparse.Namespace,
              lone: Sequence[str] = (), settings: dict | None = None, kept_others: bool = False) -> int:
    """Fuse each (name, sources) into ``-o``/name.<--format> with a progress bar: a bad one is reported and
    skipped (exit status 1), as is a file with no partner (``lone``: each a pair that cannot be fused,
    counted and named in the last line), --skip-existing leaves those already written, Ctrl-C says how
    to go on. ``settings`` (:func:`~defusion.cli.fuse.fused_settings.fused_settings`) are recorded in -o
    before the first fusion, for a later --skip-existing to compare, and as the only ones once every
    image is fused (beside the earlier runs' where ``kept_others``: images kept from another tiling,
    runtime or build, :func:`~defusion.cli.fuse.fused_settings.check_kept`)."""
    from tqdm import tqdm

    total = len(jobs) + len(lone)
    skipped = f"; no partner: {', '.join(lone)}" if lone else ""
    made_said = _make_output_folders(args)
    kept = [name for name, _ in jobs if args.skip_existing and already_fused(name, args)]
    if kept and len(kept) == len(jobs):
        fused = (f"{len(kept)} of {total} {unit} already fused in {args.output}; nothing else to fuse" if lone
                 else f"all {plural(len(jobs), unit[:-1])} already fused in {args.output}; nothing to do")
        print(f"defusion: {fused}{skipped}", file=sys.stderr)  # counted as every other line counts them
        return EXIT_FAILED if lone else 0
    if kept:
        print(f"defusion: {len(kept)} of {total} {unit} already fused in {args.output}; fusing the rest",
              file=sys.stderr)
    todo = [job for job in jobs if job[0] not in kept]
    record_settings(args.output, settings, args.format)
    failed, done, found = [], 0, {}
    once: set[str] = set()  # the notes said for the first pair or group only
    _note_own_mappings(fuser, todo, args)
    try:
        with progress_bar(todo, desc="fusing", unit=unit[:-1], disable=args.no_progress, file=sys.stderr) as bar:
            for name, sources in bar:
                try:
                    result = fuse_one(fuser, sources, args.output / f"{name}.{args.format}", args, name,
                                      show_tiles=True, nested=True, once=once)
                    if result is not None:
                        found[name] = registration_extent(result)
                    done += 1
                except (OSError, ImageReadError, SizeMismatchError, ValueError) as exc:
                    if isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS:  # every later pair would too
                        raise UserError(f"{exc}; stopped after {done + len(kept)} of {total} {unit} (those "
                                        f"fused are kept in {args.output}): once it can be written, run the same "
                                        "command with --skip-existing to fuse the rest") from None
                    failed.append(name)
                    tqdm.write(f"defusion: skipped {name}: {skip_detail(exc)}", file=sys.stderr)
    except KeyboardInterrupt:  # what is written stays written (each image atomically): say how to go on
        print(f"defusion: interrupted after {done + len(kept)} of {total} {unit} in {args.output}{made_said}; "
              "run the same command with --skip-existing to fuse the rest", file=sys.stderr)
        return EXIT_INTERRUPTED
    if not any(already_fused(name, args) for name in failed):  # no failed one holds an older fusion
        settle_settings(args.output, settings, args.format, kept_others)
    for line in registration_summary(found, unit, fuser.options.align):
        print(f"defusion: {line}", file=sys.stderr)
    print(f"fused {done + len(kept)} of {total} {unit} into {args.output}{made_said}"
          + (f" ({len(kept)} already there)" if kept else "")
          + (f"; failed: {', '.join(failed)}" if failed else "") + skipped, file=sys.stderr)
    return EXIT_FAILED if failed or lone else 0


def own_mappings(fuser: Fuser, sources: list[Path], args: argparse.Namespace) -> list[str]:
    """What each pair of an --a/--b run (whose first to fuse is ``sources``) is mapped by on its own:
    its raw thermal frames stretched (--stretch auto, where ``sources`` hold one the stretch maps:
    stretch.measure_stretch) and its --palette's colours spread (a palette with no fixed range), each
    over that pair's own values. Read once, before the first fusion; a source that cannot be read is
    left to the fusion to report."""
    from defusion.fusion.stretch import measure_stretch
    from defusion.io.images import read_image

    said = []
    if fuser.options.stretch == "auto":
        try:
            images = [read_image(path, args.max_pixels) for path in sources]
        except (OSError, ImageReadError, ValueError):
            images = []
        if images and measure_stretch(images, fuser.options.stretch_shared) is not None:
            said.append("raw thermal frames are stretched")
    if fuser.options.palette != "none" and fuser.options.palette_range is None:
        said.append("--palette's colours spread")
    return said


def _note_own_mappings(fuser: Fuser, todo: list[tuple[str, list[Path]]], args: argparse.Namespace) -> None:
    """Say, once before an --a/--b run of several pairs, that each pair is stretched or coloured over
    its own values (:func:`own_mappings`), so frames of one clip flicker as a hot object comes and
    goes (the unchanged background shifted 31-37 grey levels against the first frame in the thermal
    audit's clip, 1.9 through ``defusion video``), and that ``defusion video`` keeps one mapping."""
    from defusion.io.commands import shell_word
    from defusion.io.notes import note

    if getattr(args, "dir_a", None) is None or len(todo) < 2:
        return
    said = own_mappings(fuser, todo[0][1], args)
    if said:
        video = f"defusion video {shell_word(str(args.dir_a))} {shell_word(str(args.dir_b))} -o OUT_DIR/"
        note(f"each pair is fused on its own: {' and '.join(said)} over that pair's own values, so frames of one "
             f"clip can flicker (a hot object entering the view shifts the unchanged background); for a clip's "
             f"frames, {video} with the same fusion options keeps one mapping, its first frames', for them all"
             + (" (or give --palette-range LOW,HIGH, which it notes)" if "--palette's colours spread" in said else ""))


def _make_output_folders(args: argparse.Namespace) -> str:
    """Make -o's folder; returns what the run's last line ends with for the folders it makes (-o's, and
    --components', --source-map's and --compare's, which writing makes), so that a mistyped path does not
    pass unseen."""
    made = missing_folder(args.output, itself=True)
    side = [folder for folder in (args.components, args.source_map, args.compare) if folder is not None]
    made_too = [m for m in (missing_folder(folder, itself=True) for folder in side) if m is not None and m != made]
    args.output.mkdir(parents=True, exist_ok=True)
    return said_made([m for m in (made, *made_too) if m is not None])

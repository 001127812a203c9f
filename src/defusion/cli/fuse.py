"""``defusion fuse``: fuse a pair (or more) of images, or every pair in two folders."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from defusion.cli.errors import UserError
from defusion.cli.options import (FUSION_OPTION_NAMES, add_fusion_options, add_model_options, apply_threads,
                                  check_tile, fusion_options, positive_int)
from defusion.fusion.align import MOTIONS
from defusion.fusion.selection import PIXEL_SOURCES
from defusion.fusion.fuser import SizeMismatchError
from defusion.io.images import DEFAULT_MAX_PIXELS, SIXTEEN_BIT_SUFFIXES, WRITABLE_SUFFIXES, ImageReadError
from defusion.model.weights import WeightsError

HELP = "fuse images (registered, or registered first with --align): A B [C ...] -o OUT, or --a DIR --b DIR -o OUTDIR"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="*", type=Path,
                   help="two or more registered images (a bracket or focus stack: give them in order)")
    p.add_argument("-o", "--output", required=True, type=Path, help="output image, or output folder with --a/--b")
    p.add_argument("--a", dest="dir_a", type=Path, help="folder of first sources (pairs matched by file stem)")
    p.add_argument("--b", dest="dir_b", type=Path, help="folder of second sources")
    add_model_options(p)
    p.add_argument("--onnx", type=Path, help="run an exported ONNX model with ONNX Runtime (defusion export)")
    add_fusion_options(p)
    p.add_argument("--components", type=Path,
                   help="also write the common and unique projections to this folder (two images only)")
    p.add_argument("--source-map", type=Path,
                   help="with --pixels sources: also write which image each fused pixel came from, black the "
                        "first, white the last, grey levels between in the given order (a focus stack's depth "
                        "map); a folder with --a/--b")
    p.add_argument("--resize", action="store_true", help="resize other sources to the first one's size")
    p.add_argument("--stack", default="balanced", choices=("balanced", "sequential"),
                   help="more than two images: balanced (default) fuses each half, then the two results; "
                        "sequential fuses ((1, 2), 3), ...")
    p.add_argument("--order", default=None, choices=("given", "bright-first", "dark-first", "exposure"),
                   help="the order the images are fused in: as given (default; infrared then visible, focus "
                        "stacks), or sorted by mean brightness; exposure (--task mef's default): a pair darker "
                        "first, more images brightest first, so a bracket's file order does not matter")
    p.add_argument("--align", default=None, choices=MOTIONS,
                   help="register the images onto the first before fusing, for brackets and focus stacks shot "
                        "by hand: translation, euclidean (+ rotation), affine (+ scale, as focus breathing), "
                        "homography (+ perspective). ECC registration, blind to exposure; not for infrared + "
                        "visible pairs (default: none, the images are registered)")
    p.add_argument("--deghost", action="store_true", default=None,
                   help="brackets with something moving (people, leaves): replace what moved between the images "
                        "by the best-exposed image's view of it, so it is fused once, not as a ghost (after --align)")
    p.add_argument("--pixels", default=None, choices=PIXEL_SOURCES,
                   help="where the fused pixels come from: network (default), the paper's reconstruction; "
                        "sources, each pixel from the source the network's decomposition shows in focus there, "
                        "for focus stacks: sharper (MFIFB Qabf 0.780 at --scale 1, against 0.685) and faster "
                        "at --scale 1; not for infrared + visible pairs or exposures (docs/benchmarks.md)")
    p.add_argument("--skip-existing", action="store_true",
                   help="with --a/--b: leave pairs whose fused image is already in the output folder (to go on "
                        "after an interruption) instead of fusing them again")
    p.add_argument("--no-metadata", action="store_true",
                   help="do not copy the sources' colour profile and EXIF into the fused image (by default the "
                        "first image's EXIF, upright, and the first fitting ICC profile go into PNG and JPEG)")
    p.add_argument("--max-pixels", type=positive_int, default=DEFAULT_MAX_PIXELS,
                   help=f"refuse inputs with more pixels (default {DEFAULT_MAX_PIXELS:,})")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _load(paths: list[Path], args: argparse.Namespace) -> list[np.ndarray]:
    from defusion.io.images import read_image
    from defusion.io.resize import resize_to

    images = [read_image(p, args.max_pixels) for p in paths]
    if args.resize:
        h, w = images[0].shape[:2]
        images = [images[0]] + [resize_to(im, h, w) for im in images[1:]]
    return images


def _tile_progress(fuser, images: list[np.ndarray], args: argparse.Namespace):
    """A progress bar over network passes when a fusion takes several (tiles, >2 inputs)."""
    from tqdm import tqdm

    per_fusion = fuser.tiles_for(*images[0].shape[:2])
    passes = per_fusion * (len(images) - 1)
    if passes < 2 or args.no_progress:
        return None
    unit = "tile" if per_fusion > 1 else "pair"  # untiled stacks count their pairwise fusions
    return tqdm(total=passes, desc=f"{unit}s", unit=unit, file=sys.stderr, leave=False)


def _fuse_one(fuser, paths: list[Path], out: Path, args: argparse.Namespace, stem: str | None = None,
              show_tiles: bool = False) -> None:
    from defusion.fusion.color import to_uint8
    from defusion.io.images import write_image

    images = _load(paths, args)
    if fuser.options.stretch == "auto":
        _note_stretched(paths, images)
    bar = _tile_progress(fuser, images, args) if show_tiles else None
    on_tile = bar.update if bar else None
    if args.components:
        if len(images) != 2:
            raise UserError("--components needs exactly two images")
        parts = fuser.decompose(*images, on_tile=on_tile)
        prefix = f"{stem}_" if stem else ""
        suffix = out.suffix if out.suffix.lower() in (".png", ".tif", ".tiff") else ".png"
        for name, image in (("common", parts.common), ("unique_a", parts.unique_a), ("unique_b", parts.unique_b)):
            write_image(args.components / f"{prefix}{name}{suffix}", image)
        if parts.weight_a is not None:  # --pixels sources: the decision map, white where a's pixels are
            write_image(args.components / f"{prefix}weight_a{suffix}", to_uint8(parts.weight_a))
        fused = parts.fused
        if args.source_map:
            _write_source_map(args.source_map, [parts.weight_a, 1 - parts.weight_a], out, stem)
    elif args.source_map:
        fused, weights = fuser.fuse_with_weights(*images, on_tile=on_tile)
        _write_source_map(args.source_map, weights, out, stem)
    else:
        fused = fuser.fuse(*images, on_tile=on_tile)
    if bar:
        bar.close()
    metadata = None if args.no_metadata else _metadata_for(paths, fused, out)
    write_image(out, fused, metadata=metadata)
    if fused.dtype == np.uint16 and out.suffix.lower() not in SIXTEEN_BIT_SUFFIXES:
        print(f"defusion: warning: {out.suffix} holds 8 bits; the 16-bit result was reduced "
              f"(write {' or '.join(SIXTEEN_BIT_SUFFIXES[:2])} to keep 16 bits)", file=sys.stderr)


def _note_stretched(paths: list[Path], images: list[np.ndarray]) -> None:
    """Say which sources the fusion core stretches as raw sensor frames (--stretch auto)."""
    from tqdm import tqdm

    from defusion.fusion.stretch import is_narrow, value_range

    for path, image in zip(paths, images):
        if is_narrow(image):
            lo, hi = value_range(image)
            tqdm.write(f"defusion: note: {path.name} holds 16-bit values {lo:.0f}-{hi:.0f} ({(hi - lo) / 655.35:.0f}% "
                       "of the range, as raw thermal frames do): stretched to the full range before fusing "
                       "(--stretch none keeps the values as they are)", file=sys.stderr)


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
    from defusion.io.images import write_image

    if stem is not None:
        path = path / f"{stem}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_image(path, to_uint8(source_map(weights)))


def _fuse_folders(fuser, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from defusion.io.pairs import match_pairs

    pairs, unmatched = match_pairs(args.dir_a, args.dir_b)
    if not pairs:
        raise UserError(f"no pairs: no file stem is in both {args.dir_a} and {args.dir_b}")
    for stem in unmatched:
        print(f"defusion: warning: {stem} has no partner; skipped", file=sys.stderr)
    args.output.mkdir(parents=True, exist_ok=True)
    kept = [stem for stem, _, _ in pairs if args.skip_existing and _already_fused(stem, args)]
    if kept:
        print(f"defusion: {len(kept)} of {len(pairs)} pairs already fused in {args.output}; fusing the rest",
              file=sys.stderr)
    todo = [pair for pair in pairs if pair[0] not in kept]
    failed, done = [], 0
    try:
        for stem, a, b in tqdm(todo, desc="fusing", unit="pair", disable=args.no_progress, file=sys.stderr):
            try:
                _fuse_one(fuser, [a, b], args.output / f"{stem}.png", args, stem)
                done += 1
            except (ImageReadError, SizeMismatchError, ValueError, OSError) as exc:
                failed.append(stem)
                tqdm.write(f"defusion: skipped {stem}: {exc}", file=sys.stderr)
    except KeyboardInterrupt:  # what is written stays written (each image atomically): say how to go on
        print(f"defusion: interrupted after {done + len(kept)} of {len(pairs)} pairs in {args.output}; "
              "run the same command with --skip-existing to fuse the rest", file=sys.stderr)
        return 130
    print(f"fused {done + len(kept)} of {len(pairs)} pairs into {args.output}"
          + (f" ({len(kept)} already there)" if kept else "")
          + (f"; failed: {', '.join(failed)}" if failed else ""), file=sys.stderr)
    return 1 if failed else 0


def _already_fused(stem: str, args: argparse.Namespace) -> bool:
    """Whether a pair's outputs (the fused image, and the components and source map if asked for) are written."""
    wanted = [args.output / f"{stem}.png"]
    if args.components:
        wanted += [args.components / f"{stem}_{part}.png" for part in ("common", "unique_a", "unique_b")]
    if args.source_map:
        wanted.append(args.source_map / f"{stem}.png")
    return all(p.is_file() for p in wanted)


def _same_path(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


def _check_paths(args: argparse.Namespace, folders: bool) -> None:
    """Refuse outputs that cannot be written or would overwrite a source, before any work."""
    out = args.output
    if folders:
        if out.exists() and not out.is_dir():
            raise UserError(f"-o {out}: is a file; folder mode (--a/--b) writes into a folder")
        if any(_same_path(out, d) for d in (args.dir_a, args.dir_b)):
            raise UserError(f"-o {out}: is a source folder; fused images would overwrite the sources")
    else:
        if out.is_dir():
            raise UserError(f"-o {out}: is a folder; give an output image path such as {out / 'fused.png'}")
        if out.suffix.lower() not in WRITABLE_SUFFIXES:
            raise UserError(f"cannot write {out}: use one of {', '.join(WRITABLE_SUFFIXES)}")
        if any(p.exists() and _same_path(out, p) for p in args.images):
            raise UserError(f"-o {out}: is one of the inputs; choose another output path "
                            "(defusion does not overwrite its sources)")
        if args.components and len(args.images) != 2:
            raise UserError(f"--components needs exactly two images, got {len(args.images)}")
    if args.components and args.components.exists() and not args.components.is_dir():
        raise UserError(f"--components {args.components}: is a file; it names a folder for the three parts")
    if args.source_map:
        _check_source_map_path(args, folders)


def _check_source_map_path(args: argparse.Namespace, folders: bool) -> None:
    path = args.source_map
    if folders:
        if path.exists() and not path.is_dir():
            raise UserError(f"--source-map {path}: is a file; with --a/--b it names a folder (one map per pair)")
        if any(_same_path(path, d) for d in (args.dir_a, args.dir_b, args.output)):
            raise UserError(f"--source-map {path}: is a source or output folder; give the maps their own folder")
        return
    if path.is_dir():
        raise UserError(f"--source-map {path}: is a folder; give an image path such as {path / 'source_map.png'}")
    if path.suffix.lower() not in WRITABLE_SUFFIXES:
        raise UserError(f"cannot write --source-map {path}: use one of {', '.join(WRITABLE_SUFFIXES)}")
    if _same_path(path, args.output) or any(p.exists() and _same_path(path, p) for p in args.images):
        raise UserError(f"--source-map {path}: is an input or the output; choose another path")


def run(args: argparse.Namespace) -> int:
    from defusion.fusion.fuser import Fuser

    folders = args.dir_a is not None or args.dir_b is not None
    if folders and (args.dir_a is None or args.dir_b is None):
        raise UserError("folder mode needs both --a DIR and --b DIR")
    if folders and args.images:
        raise UserError("give either image files or --a/--b folders, not both")
    if not folders and len(args.images) < 2:
        raise UserError("give at least two images to fuse (or --a DIR --b DIR)")
    if args.skip_existing and not folders:
        raise UserError("--skip-existing is for folders (--a DIR --b DIR): it leaves the pairs already fused")
    if args.resize and args.rig:
        raise UserError("--resize and --rig both bring the images onto the first's grid: give one (--rig, for a "
                        "calibrated camera rig, also corrects its cameras' differing views)")
    check_tile(args)
    _check_paths(args, folders)
    options = dict(fusion_options(args, (*FUSION_OPTION_NAMES, "order", "align", "pixels", "deghost")), stack=args.stack)
    if args.source_map and options.get("pixels", "network") != "sources":
        raise UserError("--source-map needs --pixels sources: the network's reconstruction (the default) mixes "
                        "the sources, so no pixel comes from one image")
    threads = apply_threads(args)
    if args.onnx:
        from defusion.serving.onnx_model import load_onnx_fuser

        if args.weights or args.half or args.runtime != "torch":
            raise UserError("--onnx runs the exported model: --weights, --half and --runtime do not apply")
        fuser = load_onnx_fuser(args.onnx, device=args.device, threads=threads, **options)
    else:
        fuser = Fuser.from_pretrained(args.weights, device=args.device, half=args.half, runtime=args.runtime,
                                      threads=threads, **options)
    if folders:
        return _fuse_folders(fuser, args)
    _fuse_one(fuser, args.images, args.output, args, show_tiles=True)
    print(f"wrote {args.output}" + (f" and {args.source_map}" if args.source_map else ""), file=sys.stderr)
    return 0


EXPECTED_ERRORS = (ImageReadError, SizeMismatchError, WeightsError, FileNotFoundError, ValueError, OSError)

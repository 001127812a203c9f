"""``defusion fuse``: fuse a pair (or more) of images, or every pair in two folders.

:func:`run` goes through the command's parts in this order:

- :mod:`.arguments`: the parser, and the refusals of options that do not go together;
- :mod:`.path_checks`, :mod:`.source_sizes`: the paths' and the sources' sizes' refusals (a fused image
  wider than its output format takes among them), before any work;
- :mod:`.advice`: what the options given and the shots' EXIF suggest, before the model loads;
- :mod:`.folder_jobs`: a folder run's pairs or groups, and the names they are fused under;
- :mod:`.size_notes`: the network passes and peak memory of the work, said before it;
- :mod:`.fusing`: one fusion (:mod:`.reading` its sources, :mod:`.fusion_notes` what the core did);
  :mod:`.folder_run`: a folder run's, one after another;
- :mod:`.fused_settings`: what a folder run's images were fused with, recorded in -o for --skip-existing;
- :mod:`.compare_sheet`: --compare's picture of the sources and the fused image; --legend's colour key
  (:func:`.fusing.write_legend`, drawn by :mod:`defusion.fusion.palette_legend`);
- :mod:`.file_names`: the names the others say and write.

Each imports only light modules at its top (no PyTorch, OpenCV, nor numpy): ``defusion --help``
imports this package to build its parser; the rest load in the functions that use them.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from defusion.cli.errors import UserError
from defusion.cli.fuse import once as once_notes
from defusion.cli.fuse.advice import (MANY_WITHOUT_TASK, note_deghost_on_focus, note_reconstruction_options,
                                      note_shots, warn_deghost_on_infrared)
from defusion.cli.fuse.arguments import HELP, add_arguments, check_combinations
from defusion.cli.fuse.file_names import COMPONENT_PARTS, already_fused
from defusion.cli.fuse.folder_jobs import pair_jobs, stack_groups, stack_jobs
from defusion.cli.fuse.folder_run import fuse_jobs
from defusion.cli.fuse.fused_settings import check_kept, fused_settings
from defusion.cli.fuse.fusing import fuse_one, write_legend
from defusion.cli.fuse.path_checks import check_inputs, check_paths, warn_same_sources
from defusion.cli.fuse.size_notes import say_folder_size, say_size_from_header
from defusion.cli.fuse.source_sizes import check_folder_sides, check_header_sizes, check_output_sides
from defusion.cli.job_size import PEAK_MEMORY_HINT, network_passes, peak_memory
from defusion.cli.options import FUSION_OPTION_NAMES, check_onnx_options, check_tile, fusion_options, make_fuser
from defusion.cli.outputs import missing_folder, said_made
from defusion.fusion.errors import SizeMismatchError
from defusion.io.errors import ImageReadError
from defusion.model.errors import WeightsError

EXPECTED_ERRORS = (ImageReadError, SizeMismatchError, WeightsError, FileNotFoundError, ValueError, OSError)

def run(args: argparse.Namespace) -> int:
    """Fuse the images given into -o, or each pair (group) of --a/--b (--stacks) into -o's folder; every
    refusal and advice that needs no model is said before it loads. The exit status."""
    pairs, stacks = check_combinations(args)
    folders = pairs or stacks
    check_tile(args)
    check_paths(args, folders)
    if not folders:
        check_inputs(args.images)  # before the fusion core (PyTorch, ONNX Runtime) is imported: seconds
    options = _options(args, pairs)
    sizes = {}  # (width, height) of each source whose header the size check read
    if not folders:
        check_onnx_options(args)  # the model options' refusals first, as make_fuser says them
        sizes = check_header_sizes(args) or {}  # then the sources' sizes, before the model loads, as a missing file is
    pixels = options.get("pixels", "network")
    note_reconstruction_options(args, pixels)
    note_deghost_on_focus(args, pixels)
    warn_deghost_on_infrared(args)
    groups = stack_groups(args) if stacks else [] if folders else [args.images]
    shot_sizes = note_shots(args, groups, pixels)  # before the model loads: a long run can be stopped at once
    # each header read once: the size check's, else the shots' settings' (a camera raw file's from LibRaw)
    known = {**sizes, **{path: size for path, size in shot_sizes.items() if sizes.get(path) is None}}
    if folders:
        jobs, lone = (stack_jobs(groups, args), []) if stacks else pair_jobs(args)
        return _fuse_folder(args, options, jobs, "groups" if stacks else "pairs", known, lone)
    check_output_sides(args, known)  # a fused image -o's format cannot encode: said now, not after the fusion
    return _fuse_images(args, options, known)


def _options(args: argparse.Namespace, pairs: bool) -> dict:
    """The options the fuser is made with, refusing a --rig calibrated for another number of cameras
    and a --source-map where no pixel comes from one source."""
    options = dict(fusion_options(args, (*FUSION_OPTION_NAMES, "order", "align", "pixels", "deghost")), stack=args.stack)
    rig = options.get("rig")
    given = 2 if pairs else len(args.images)
    if rig is not None and given != 1 + len(rig.cameras):
        raise UserError(f"--rig {args.rig}: calibrated for {1 + len(rig.cameras)} cameras, but "
                        f"{'--a/--b fuse pairs' if pairs else f'{given} images were given'}")
    infrared = options.get("infrared")
    if infrared is not None and args.stacks is None and infrared >= given:  # before any note on the images
        raise UserError(f"--infrared {infrared + 1} was asked for, but "
                        f"{'--a/--b fuse pairs' if pairs else f'{given} images were given'}: give --infrared 1 to "
                        f"{given} (the infrared image's place among them)")
    group = getattr(args, "group", None)
    if infrared is not None and args.stacks is not None and isinstance(group, int) and infrared >= group:
        # runs of --group files, the last one maybe fewer: not one group holds the image asked for
        raise UserError(f"--infrared {infrared + 1} was asked for, but --group {group} fuses runs of {group} shots: "
                        f"give --infrared 1 to {group} (the infrared image's place in each group)")
    if args.source_map and options.get("pixels", "network") != "sources":
        raise UserError("--source-map needs --pixels sources (--task mff's default): the network's reconstruction "
                        "mixes the sources, so no pixel comes from one image")
    return options


def _fuse_folder(args: argparse.Namespace, options: dict, jobs: list[tuple[str, list[Path]]], unit: str,
                 known: dict[Path, tuple[int, int] | None], lone: list[str]) -> int:
    """A folder run: --skip-existing refused where -o's images were fused with other settings, and its
    passes and memory said, before the model loads (an ONNX export on first use: 20 s); then each of
    ``jobs`` fused (``lone``: the files with no partner, named again at the end), the settings recorded in -o."""
    settings = fused_settings(args, options)
    kept = sum(already_fused(name, args) for name, _ in jobs) if args.skip_existing else 0
    kept_others = check_kept(args, settings, kept, unit)
    check_folder_sides(args, jobs, known)  # fused images --format cannot encode: said now, not as the run ends
    say_folder_size(args, options, jobs, unit, known)
    fuser = make_fuser(args, options)
    warn_same_sources(args, folders=True)
    if args.legend is not None:  # one key for all: --palette-range fixes their span (check_legend)
        made = said_made([m for m in [missing_folder(args.legend)] if m is not None])
        write_legend(args.legend, fuser, fuser.options.palette_range)
        print(f"defusion: wrote {args.legend}{made}, the key of every result's colours (--palette-range fixes "
              "them), in 0-1 values: each pair's own values may map onto them in their own way", file=sys.stderr)
    return fuse_jobs(fuser, jobs, unit, args, lone, settings, kept_others)


def _fuse_images(args: argparse.Namespace, options: dict, known: dict[Path, tuple[int, int] | None]) -> int:
    """One fusion of the images given: its passes and memory said from the first one's header before
    the model loads, else once it is read (a camera raw file's header does not tell)."""
    size_said = say_size_from_header(args, options, known)
    fuser = make_fuser(args, options)
    warn_same_sources(args, folders=False)
    # said: writing makes them (--components names the folder itself, the others a file in one)
    missing = {p: missing_folder(p) for p in (args.output, args.source_map, args.compare, args.legend) if p is not None}
    parts_missing = missing_folder(args.components, itself=True) if args.components else None
    once: set[str] = set()
    fuse_one(fuser, args.images, args.output, args, show_tiles=True, notes=True, say_size_read=not size_said,
             once=once)
    if args.legend is not None and once_notes.LEGEND not in once:  # a flat infrared image: no key (warned)
        del missing[args.legend]
    written = [str(p) for p in missing]
    made = [m for m in missing.values() if m is not None]
    if args.components:
        written.append(_components_said(args.components, fuser.options.pixels == "sources"))
        made.append(parts_missing)
    made = list(dict.fromkeys(m for m in made if m is not None))
    print(f"wrote {_listed_and(written)}" + said_made(made), file=sys.stderr)
    return 0


def _components_said(folder: Path, decision_map: bool) -> str:
    """What --components wrote, as the last line says it: the parts (and with --pixels sources the
    decision map) in ``folder``, named as a folder.

    Example:
        >>> _components_said(Path("parts"), False) == f"3 components in parts{os.sep}"
        True
        >>> _components_said(Path("parts"), True).startswith("3 components with the decision map in parts")
        True
    """
    parts = f"{len(COMPONENT_PARTS)} components" + (" with the decision map" if decision_map else "")
    return f"{parts} in {folder}{os.sep}"


def _listed_and(names: list[str]) -> str:
    """``names`` as a sentence lists them: "a", "a and b", "a, b and c".

    Example:
        >>> _listed_and(["f.png"]), _listed_and(["f.png", "m.png", "3 components in parts/"])
        ('f.png', 'f.png, m.png and 3 components in parts/')
    """
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


__all__ = ["EXPECTED_ERRORS", "HELP", "MANY_WITHOUT_TASK", "PEAK_MEMORY_HINT", "add_arguments", "network_passes",
           "peak_memory", "run"]
